"""Presence: which desks have an open connection now, and when each was last seen.

Each web process beats for its open connections (``connections_alive`` every
:func:`heartbeat_seconds`); a process that crashed stops beating, and beat's
:func:`sweep_stale` removes its rows and announces those desks offline (unless another
connection of theirs is still alive).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hotline import fanout
from hotline.models import ChannelMember, DeskPresence, PresenceSession
from hotline.selectors import PRESENCE_TTL_SECONDS


def _announce(desk_ids: set[int], *, online: bool, now) -> None:
    """One presence event per (desk, channel of that desk)."""
    if not desk_ids:
        return
    pairs = ChannelMember.objects.filter(desk_id__in=desk_ids, removed_at__isnull=True)
    for desk_id, channel_id in pairs.values_list("desk_id", "channel_id"):
        frame = {
            "type": "presence",
            "desk": desk_id,
            "online": online,
            "last_seen_at": now.isoformat(),
            "channel": channel_id,
        }
        fanout.publish_on_commit(channel_id, frame)


def _online(desk_ids, *, excluding: str, now) -> set[int]:
    cutoff = now - timezone.timedelta(seconds=PRESENCE_TTL_SECONDS)
    return set(
        PresenceSession.objects.filter(desk_id__in=desk_ids, last_seen_at__gte=cutoff)
        .exclude(connection=excluding)
        .values_list("desk_id", flat=True)
    )


def _seen(desk_ids, now) -> None:
    DeskPresence.objects.bulk_create(
        [DeskPresence(desk_id=d, last_seen_at=now) for d in desk_ids],
        update_conflicts=True,
        unique_fields=["desk"],
        update_fields=["last_seen_at"],
    )


@transaction.atomic
def connection_opened(*, user, desk_ids: set[int], connection: str) -> None:
    """A person's connection opened: their desks are online (announced if they were not)."""
    now = timezone.now()
    newly_online = set(desk_ids) - _online(desk_ids, excluding=connection, now=now)
    PresenceSession.objects.bulk_create(
        [
            PresenceSession(desk_id=d, user=user, connection=connection, last_seen_at=now)
            for d in desk_ids
        ],
        ignore_conflicts=True,
    )
    _seen(desk_ids, now)
    _announce(newly_online, online=True, now=now)


@transaction.atomic
def connection_seen(*, connection: str) -> None:
    """Heartbeat: the connection is still there."""
    now = timezone.now()
    desk_ids = list(
        PresenceSession.objects.filter(connection=connection).values_list("desk_id", flat=True)
    )
    PresenceSession.objects.filter(connection=connection).update(last_seen_at=now)
    _seen(desk_ids, now)


@transaction.atomic
def connection_closed(*, connection: str) -> None:
    """The connection closed: desks with no other live connection go offline."""
    now = timezone.now()
    desk_ids = set(
        PresenceSession.objects.filter(connection=connection).values_list("desk_id", flat=True)
    )
    PresenceSession.objects.filter(connection=connection).delete()
    _seen(desk_ids, now)
    _announce(desk_ids - _online(desk_ids, excluding=connection, now=now), online=False, now=now)


def heartbeat_seconds() -> float:
    """How often a web process refreshes its connections' rows (a third of the TTL)."""
    return float(getattr(settings, "HOTLINE_PRESENCE_HEARTBEAT_SECONDS", PRESENCE_TTL_SECONDS / 3))


@transaction.atomic
def connections_alive(*, connections: set[str]) -> int:
    """A web process's heartbeat: these connections are still open. Returns rows touched."""
    now = timezone.now()
    sessions = PresenceSession.objects.filter(connection__in=connections)
    desk_ids = set(sessions.values_list("desk_id", flat=True))
    touched = sessions.update(last_seen_at=now)
    _seen(desk_ids, now)
    return touched


@transaction.atomic
def sweep_stale(*, now=None) -> int:
    """Remove presence rows nobody has refreshed within the TTL (their process died) and
    announce their desks offline if no live connection is left. Safe to run twice and
    concurrently (rows are locked, skipping those another sweep holds). Returns rows
    removed."""
    now = now or timezone.now()
    cutoff = now - timezone.timedelta(seconds=PRESENCE_TTL_SECONDS)
    stale = list(
        PresenceSession.objects.select_for_update(skip_locked=True)
        .filter(last_seen_at__lt=cutoff)
        .values_list("pk", "desk_id")
    )
    if not stale:
        return 0
    PresenceSession.objects.filter(pk__in=[pk for pk, _ in stale]).delete()
    desk_ids = {desk_id for _, desk_id in stale}
    still_online = set(
        PresenceSession.objects.filter(desk_id__in=desk_ids, last_seen_at__gte=cutoff).values_list(
            "desk_id", flat=True
        )
    )
    last_seen = dict(
        DeskPresence.objects.filter(desk_id__in=desk_ids).values_list("desk_id", "last_seen_at")
    )
    for desk_id in sorted(desk_ids - still_online):
        _announce({desk_id}, online=False, now=last_seen.get(desk_id, cutoff))
    return len(stale)
