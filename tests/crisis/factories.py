"""Factories for the crisis tests: one per model, plus the shortcuts the tests share.

- :func:`make_version` — a published protocol version (the one protocol factory); the
  presets :func:`make_protocol` (the lifecycle tests' three-level ladder with a checklist)
  and :func:`make_escalation_protocol` (a fresh protocol per call, ladder of your choice,
  no checklist) are built on it.
- :func:`make_crisis` — a crisis row written directly (active and escalating by default),
  for tests of escalation and visibility that do not go through reporting.
- :func:`report` / :func:`activate` — the reporting and activation services as a desk of
  the test region uses them.
- :func:`make_author`, :func:`make_draft`, :func:`make_published` — protocol authoring
  through its services, as an author would.

``tests.crisis.crisis_helpers``, ``escalation_support`` and ``protocol_fixtures`` are the
old names of this module, kept as re-exports for the tests of other apps.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from crisis.models import (
    ChecklistItem,
    Crisis,
    CrisisParticipant,
    CrisisStatus,
    EscalationLevel,
    ParticipantRole,
    Protocol,
    ProtocolVersion,
    TimelineEntry,
    VersionStatus,
)
from crisis.services import crises as crisis_services
from crisis.services import protocols as protocol_services
from crisis.services.escalation import DEADLINE_KIND, deadline_subject, start_escalation
from crisis.services.protocols import snapshot_of
from deadlines.models import Deadline
from deadlines.services import fire_due_deadlines
from directory.models import Role
from tests.factories import make_person

_seq = itertools.count(1)

# --- protocols -------------------------------------------------------------------------------

#: Escalation levels (as ``EscalationLevel`` fields) for :func:`make_escalation_protocol`.
AFFECTED = {"name": "Affected states", "timeout_seconds": 600, "notify_scopes": ["affected"]}
REGION = {
    "name": "Region",
    "timeout_seconds": 900,
    "notify_scopes": ["regional", "all_states"],
    "notify_roles": ["supervisor", "coordinator"],
}

#: The lifecycle tests' ladder: (name, timeout in seconds, scopes, roles) per level.
LIFECYCLE_LADDER = (
    ("Affected states' operators", 300, ["affected"], ["operator"]),
    ("Their supervisors", 600, ["affected"], ["supervisor"]),
    ("Regional centre and every state", 900, ["regional", "all_states"], ["coordinator"]),
)
#: The lifecycle tests' checklist (as ``ChecklistItem`` fields, in order).
LIFECYCLE_CHECKLIST = (
    {"party_role": "all", "title": "Confirm focal point", "due_after_minutes": 30},
    {"party_role": "lead", "title": "Send initial report (SASOP Form 1)", "due_after_minutes": 120},
    {"party_role": "affected", "title": "Report affected areas", "due_after_minutes": 240},
)


def make_version(
    *,
    name: str,
    category: str = "maritime",
    number: int = 1,
    levels=(),
    checklist=(),
    **fields,
) -> ProtocolVersion:
    """A published version of protocol ``name`` (made if missing), with ``levels`` and
    ``checklist`` (dicts of model fields, numbered in order) and version ``fields``.

    Written directly, not through the publishing service: published versions are frozen,
    so the draft is filled first, then published in place.
    """
    protocol, _ = Protocol.objects.get_or_create(name=name, defaults={"category": category})
    version = ProtocolVersion.objects.create(
        protocol=protocol, number=number, status=VersionStatus.DRAFT, **fields
    )
    for order, level in enumerate(levels, start=1):
        EscalationLevel.objects.create(version=version, order=order, **level)
    for order, item in enumerate(checklist, start=1):
        ChecklistItem.objects.create(version=version, order=order, **item)
    ProtocolVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.PUBLISHED, published_at=timezone.now()
    )
    version.refresh_from_db()
    return version


def make_protocol(category: str = "maritime", *, number: int = 1, levels=None) -> ProtocolVersion:
    """The published "<Category> protocol" the lifecycle tests activate crises with: three
    levels (``levels``: (name, timeout, scopes, roles) tuples), the top one repeating twice,
    and a three-item checklist (all parties, the lead, the affected)."""
    return make_version(
        name=f"{category.title()} protocol",
        category=category,
        number=number,
        levels=[
            {"name": n, "timeout_seconds": t, "notify_scopes": s, "notify_roles": r}
            for n, t, s, r in (levels or LIFECYCLE_LADDER)
        ],
        checklist=LIFECYCLE_CHECKLIST,
        repeat_last_level=True,
        max_repeats=2,
    )


def make_escalation_protocol(levels=(AFFECTED, REGION), **fields) -> ProtocolVersion:
    """A new maritime protocol per call, published with ``levels`` (``EscalationLevel``
    field dicts), no checklist, and version ``fields`` (``ack_timeout_seconds`` …)."""
    return make_version(name=f"Protocol {next(_seq)}", levels=levels, **fields)


# --- crises ------------------------------------------------------------------------------------


def make_crisis(
    region,
    version: ProtocolVersion | None = None,
    *,
    start: bool = True,
    reported_by=None,
    affected=None,
    reference: str | None = None,
    exercise: bool = False,
) -> Crisis:
    """A crisis written directly (no reporting service, no `reported` timeline entry).
    ``exercise``: a drill.

    With a ``version``: active and bound to it, led by desk A of ``region`` with state A
    affected, and (``start``) its escalation started. Without: reported, led by
    ``reported_by`` (default desk A) with ``affected`` states (default state A).
    """
    n = next(_seq)
    lead = reported_by or region.desk_a
    bound = {}
    if version is not None:
        bound = {
            "status": CrisisStatus.ACTIVE,
            "protocol_version": version,
            "protocol_snapshot": snapshot_of(version),
            "activated_at": timezone.now(),
        }
    crisis = Crisis.objects.create(
        reference=reference or f"CR-T-{n:05d}",
        title=f"Test crisis {n}",
        category="maritime",
        severity=3,
        reported_by_desk=lead,
        lead_desk=lead,
        exercise=exercise,
        **bound,
    )
    crisis.affected_states.set(affected if affected is not None else [region.state_a])
    CrisisParticipant.objects.create(crisis=crisis, desk=lead, role=ParticipantRole.LEAD)
    if version is not None and start:
        with transaction.atomic():
            locked = Crisis.objects.select_for_update().get(pk=crisis.pk)
            start_escalation(crisis=locked)
        crisis.refresh_from_db()
    return crisis


def report(region, **overrides) -> Crisis:
    """Desk A's operator reports a maritime crisis affecting states A and B."""
    values = {
        "by": region.operator_a,
        "desk": region.desk_a,
        "category": "maritime",
        "title": "Tanker and fishing vessel collide",
        "severity": 3,
        "affected_state_codes": ["AAA", "BBB"],
        "description": "Collision at 04:10 local time.",
        "latitude": "6.12",
        "longitude": "99.45",
        "admin_area": "AA-91 Coast",
    }
    values.update(overrides)
    return crisis_services.report_crisis(**values)


def activate(region, crisis) -> Crisis:
    """Desk A's supervisor activates ``crisis``."""
    return crisis_services.transition_crisis(
        by=region.supervisor_a, desk=region.desk_a, crisis=crisis, to_status="active"
    )


def kinds(crisis) -> list[str]:
    """The kinds of the crisis's timeline entries, in order."""
    return list(
        TimelineEntry.objects.filter(crisis=crisis).order_by("seq").values_list("kind", flat=True)
    )


# --- escalation deadlines --------------------------------------------------------------------


def pending_deadline(crisis: Crisis) -> Deadline | None:
    return Deadline.objects.filter(
        kind=DEADLINE_KIND, subject_key=deadline_subject(crisis), state="pending"
    ).first()


def expire(crisis: Crisis) -> int:
    """Make the crisis's pending deadline due now and fire what is due."""
    Deadline.objects.filter(
        kind=DEADLINE_KIND, subject_key=deadline_subject(crisis), state="pending"
    ).update(due_at=timezone.now() - timedelta(seconds=1))
    fired = fire_due_deadlines()
    crisis.refresh_from_db()
    return fired


# --- protocol authoring (through the services) ------------------------------------------------


def make_author(desk=None, *, username: str = "author", staff: bool = True):
    """A coordinator with the ``author_protocol`` permission (staff: may use the admin)."""
    user = make_person(desk, Role.COORDINATOR, username=username, is_staff=staff)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="crisis", codename="author_protocol")
    )
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


def ladder(*desk_ids) -> list[dict]:
    """A valid three-level ladder as version content; level 2 also names ``desk_ids``."""
    return [
        {
            "order": 1,
            "name": "Affected operators",
            "timeout_seconds": 600,
            "notify_scopes": ["affected"],
            "notify_roles": ["operator"],
            "notify_desk_ids": [],
            "actions": ["alert_regional_centre"],
        },
        {
            "order": 2,
            "name": "Affected supervisors",
            "timeout_seconds": 900,
            "notify_scopes": ["affected"],
            "notify_roles": ["supervisor"],
            "notify_desk_ids": list(desk_ids),
            "actions": ["open_crisis_room"],
        },
        {
            "order": 3,
            "name": "Coordinator and all states",
            "timeout_seconds": 1800,
            "notify_scopes": ["regional", "all_states"],
            "notify_roles": ["coordinator", "supervisor"],
            "notify_desk_ids": [],
            "actions": ["notify_all_states", "request_assistance"],
        },
    ]


CHECKLIST = [
    {
        "order": 1,
        "party_role": "affected",
        "title": "Send the initial report to the regional centre",
        "description": "SASOP Form 1",
        "due_after_minutes": 30,
    },
    {
        "order": 2,
        "party_role": "all",
        "title": "Post a situation update",
        "description": "",
        "due_after_minutes": 360,
    },
]


def make_draft(
    author, *, name="Maritime incident", category="maritime", levels=None, checklist=None, **fields
) -> ProtocolVersion:
    """A draft made through ``create_protocol``, as the author would."""
    content = {
        "levels": ladder() if levels is None else levels,
        "checklist": CHECKLIST if checklist is None else checklist,
        "repeat_last_level": True,
        "max_repeats": 2,
        **fields,
    }
    _, draft = protocol_services.create_protocol(
        by=author, name=name, category=category, content=content
    )
    return draft


def make_published(author, **kwargs) -> ProtocolVersion:
    """A draft made and published through the services."""
    return protocol_services.publish_version(by=author, version=make_draft(author, **kwargs))
