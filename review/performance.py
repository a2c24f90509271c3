"""Performance against the protocol, computed from the record. Reads only.

What a crisis's record says about how each desk did, per escalation level and overall:

- **Time to acknowledge**: from a level's ``level_entered`` timeline entry to each
  ``acknowledged`` entry of the same level and round (the record, hash-chained, not the
  mutable crisis row). Within the deadline when the ack came by the level's ``deadline_at``.
- **Escalations taken**: ``level_expired`` entries (the ladder moved on, or repeated,
  because nobody acknowledged in time). A desk *missed* a level round it was notified of
  when that round expired.
- **Messages unacknowledged**: flash messages on the crisis's lines (``crisis_ref``) that
  a receiving desk (a current member of the line other than the sender) never acknowledged.
- **Tasks late**: protocol checklist tasks done after their due time, or not done and due
  before the crisis was resolved (or before now, while it is open). Follow-up tasks made
  by a review (``FOLLOW_UP_ROLE``) are not the protocol's and are left out.
- **Pledges**: promised = accepted, dispatched or delivered; delivered = delivered. Per
  item and unit for quantities (units do not add up across items).

Over time (``desk_performance``): the crises a desk took part in, bucketed by when they
were reported (quarter or month, in the desk's zone), with exercises left out unless
asked for (``exercises="include"`` or ``"only"``).

Everything returned is plain JSON (numbers, strings, ISO times), so the API, the console,
the review's generated summary and the record export read the same figures.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from statistics import mean, median

from django.utils import timezone
from django.utils.translation import gettext as _

from crisis.lifecycle import FOLLOW_UP_ROLE
from crisis.models import Crisis, CrisisTask, TimelineEntry
from directory.models import Desk
from hotline.models import HotlineChannel, Message, Priority, Receipt
from hotline.selectors import member_desk_ids
from humanitarian.models import Pledge, PledgeStatus

PERIODS = ("quarter", "month")
EXERCISE_CHOICES = ("exclude", "include", "only")
MAX_PERIODS = 24
PROMISED = (PledgeStatus.ACCEPTED, PledgeStatus.DISPATCHED, PledgeStatus.DELIVERED)


def duration_text(seconds: float | int | None) -> str:
    """A duration as people say it: "45 s", "10 min", "2 h 05 min", "3 d 4 h"."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return _("%(n)d s") % {"n": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(n)d min") % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours}


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _stats(values: list[float]) -> dict:
    if not values:
        return {"count": 0, "mean_seconds": None, "median_seconds": None, "max_seconds": None}
    return {
        "count": len(values),
        "mean_seconds": round(mean(values), 1),
        "median_seconds": round(median(values), 1),
        "max_seconds": round(max(values), 1),
    }


# --- one crisis -----------------------------------------------------------------------------


def _levels(crisis: Crisis, entries: list[TimelineEntry], desks_by_id: dict) -> list[dict]:
    """The ladder as it ran: one row per level round entered, with its acks and outcome."""
    rounds: list[dict] = []
    current: dict | None = None
    for entry in entries:
        p = entry.payload or {}
        if entry.kind == "level_entered":
            if current is not None and current["outcome"] == "open":
                current["outcome"] = "superseded"
            deadline_at = _parse(p.get("deadline_at"))
            current = {
                "level": p.get("level"),
                "round": p.get("round", 0),
                "name": p.get("name", ""),
                "entered_at": entry.at,
                "deadline_at": deadline_at,
                "timeout_seconds": (deadline_at - entry.at).total_seconds()
                if deadline_at
                else None,
                "desks": list(p.get("desks", [])),
                "acks": [],
                "outcome": "open",
            }
            rounds.append(current)
        elif current is None:
            continue
        elif entry.kind == "acknowledged" and (p.get("level"), p.get("round", 0)) == (
            current["level"],
            current["round"],
        ):
            desk = desks_by_id.get(entry.desk_id)
            seconds = (entry.at - current["entered_at"]).total_seconds()
            current["acks"].append(
                {
                    "desk": desk.code if desk else None,
                    "at": entry.at,
                    "seconds": round(seconds, 1),
                    "within_deadline": current["deadline_at"] is None
                    or entry.at <= current["deadline_at"],
                }
            )
            current["outcome"] = "acknowledged"
        elif entry.kind == "level_expired" and current["outcome"] == "open":
            current["outcome"] = "expired"
        elif entry.kind == "escalation_stopped" and current["outcome"] == "open":
            current["outcome"] = "stopped"
    return rounds


def _flash(crisis: Crisis) -> dict[int, dict]:
    """Per receiving desk id: flash messages received, acknowledged, the ack times."""
    out: dict[int, dict] = defaultdict(lambda: {"received": 0, "acknowledged": 0, "seconds": []})
    lines = list(
        HotlineChannel.objects.filter(crisis_ref=crisis.reference).values_list("pk", flat=True)
    )
    messages = list(Message.objects.filter(channel_id__in=lines, priority=Priority.FLASH))
    members = {line: member_desk_ids(line) for line in lines}
    acks = defaultdict(dict)
    for receipt in Receipt.objects.filter(message__in=messages, acknowledged_at__isnull=False):
        acks[receipt.message_id][receipt.desk_id] = receipt.acknowledged_at
    for message in messages:
        for desk_id in members.get(message.channel_id, set()) - {message.sender_desk_id}:
            row = out[desk_id]
            row["received"] += 1
            at = acks[message.pk].get(desk_id)
            if at is not None:
                row["acknowledged"] += 1
                row["seconds"].append((at - message.created_at).total_seconds())
    return out


def _cutoff(crisis: Crisis, now: datetime) -> datetime:
    return crisis.resolved_at or crisis.closed_at or now


def crisis_performance(crisis: Crisis, *, now: datetime | None = None) -> dict:
    """How each desk did against the protocol in ``crisis`` (see the module docstring).

    The caller has checked that the person may see the crisis.
    """
    now = now or timezone.now()
    cutoff = _cutoff(crisis, now)
    entries = list(
        TimelineEntry.objects.filter(
            crisis=crisis,
            kind__in=("level_entered", "acknowledged", "level_expired", "escalation_stopped"),
        ).order_by("seq")
    )
    tasks = list(
        CrisisTask.objects.filter(crisis=crisis).exclude(party_role=FOLLOW_UP_ROLE).order_by("pk")
    )
    pledges = list(Pledge.objects.filter(crisis=crisis).order_by("pk"))
    desk_ids = (
        {e.desk_id for e in entries if e.desk_id}
        | {t.desk_id for t in tasks}
        | {p.pledging_desk_id for p in pledges}
        | set(crisis.participants.values_list("desk_id", flat=True))
    )
    desks_by_id = {d.pk: d for d in Desk.objects.filter(pk__in=desk_ids)}
    levels = _levels(crisis, entries, desks_by_id)
    flash = _flash(crisis)
    for desk_id in flash:
        if desk_id not in desks_by_id:
            desks_by_id[desk_id] = Desk.objects.get(pk=desk_id)
    codes = {d.code: d for d in desks_by_id.values()}
    for row in levels:
        for code in row["desks"]:
            if code not in codes:
                found = Desk.objects.filter(code=code).first()
                if found:
                    codes[code] = desks_by_id[found.pk] = found

    per_desk: dict[str, dict] = {}

    def desk_row(desk: Desk) -> dict:
        if desk.code not in per_desk:
            per_desk[desk.code] = {
                "desk": desk.code,
                "name": desk.name,
                "time_zone": desk.time_zone,
                "levels_notified": 0,
                "levels_acknowledged": 0,
                "levels_missed": 0,
                "acks_within_deadline": 0,
                "_ack_seconds": [],
                "flash_received": 0,
                "flash_acknowledged": 0,
                "flash_unacknowledged": 0,
                "_flash_seconds": [],
                "tasks": 0,
                "tasks_done": 0,
                "tasks_late": 0,
                "pledges_offered": 0,
                "pledges_promised": 0,
                "pledges_delivered": 0,
            }
        return per_desk[desk.code]

    late_steps: list[dict] = []
    for row in levels:
        acked = {a["desk"] for a in row["acks"]}
        for code in row["desks"]:
            if code in codes:
                d = desk_row(codes[code])
                d["levels_notified"] += 1
                if row["outcome"] == "expired" and code not in acked:
                    d["levels_missed"] += 1
        for ack in row["acks"]:
            if ack["desk"] in codes:
                d = desk_row(codes[ack["desk"]])
                d["levels_acknowledged"] += 1
                d["_ack_seconds"].append(ack["seconds"])
                d["acks_within_deadline"] += int(ack["within_deadline"])
        if row["outcome"] == "expired":
            late_steps.append(
                {
                    "kind": "level",
                    "desks": row["desks"],
                    "due_at": _iso(row["deadline_at"]),
                    "text": _("Level %(level)d (%(name)s) expired unacknowledged after %(after)s")
                    % {
                        "level": row["level"] or 0,
                        "name": row["name"],
                        "after": duration_text(row["timeout_seconds"]),
                    },
                }
            )
    for desk_id, f in flash.items():
        d = desk_row(desks_by_id[desk_id])
        d["flash_received"] += f["received"]
        d["flash_acknowledged"] += f["acknowledged"]
        d["flash_unacknowledged"] += f["received"] - f["acknowledged"]
        d["_flash_seconds"].extend(f["seconds"])
    for task in tasks:
        d = desk_row(desks_by_id[task.desk_id])
        d["tasks"] += 1
        late = (task.done_at and task.done_at > task.due_at) or (
            task.done_at is None and task.due_at < cutoff
        )
        if task.done_at:
            d["tasks_done"] += 1
        if late:
            d["tasks_late"] += 1
            late_steps.append(
                {
                    "kind": "task",
                    "desks": [desks_by_id[task.desk_id].code],
                    "due_at": _iso(task.due_at),
                    "text": (
                        _("%(desk)s: “%(title)s” done %(late)s late")
                        % {
                            "desk": desks_by_id[task.desk_id].code,
                            "title": task.title,
                            "late": duration_text((task.done_at - task.due_at).total_seconds()),
                        }
                    )
                    if task.done_at
                    else _("%(desk)s: “%(title)s” not done")
                    % {"desk": desks_by_id[task.desk_id].code, "title": task.title},
                }
            )
    quantities: dict[tuple, dict] = {}
    for pledge in pledges:
        d = desk_row(desks_by_id[pledge.pledging_desk_id])
        d["pledges_offered"] += 1
        if pledge.status in PROMISED:
            d["pledges_promised"] += 1
            q = quantities.setdefault(
                (d["desk"], pledge.item, pledge.unit),
                {"desk": d["desk"], "item": pledge.item, "unit": pledge.unit,
                 "promised": 0, "delivered": 0},
            )  # fmt: skip
            q["promised"] += pledge.quantity_accepted or pledge.quantity
            if pledge.status == PledgeStatus.DELIVERED:
                d["pledges_delivered"] += 1
                q["delivered"] += (
                    pledge.quantity_received
                    if pledge.quantity_received is not None
                    else pledge.quantity_accepted
                )
    late_steps.sort(key=lambda step: step["due_at"] or "")
    desks = []
    for code in sorted(per_desk):
        d = per_desk[code]
        d["time_to_acknowledge"] = _stats(d.pop("_ack_seconds"))
        d["flash_time_to_acknowledge"] = _stats(d.pop("_flash_seconds"))
        desks.append(d)
    first_ack = min(
        (a["at"] for r in levels for a in r["acks"]), default=None
    )  # the ladder's first answer
    started = levels[0]["entered_at"] if levels else None
    return {
        "crisis": {
            "id": crisis.pk,
            "reference": crisis.reference,
            "title": crisis.title,
            "exercise": crisis.exercise,
            "status": crisis.status,
            "lead_desk": crisis.lead_desk.code,
            "reported_at": _iso(crisis.reported_at),
            "activated_at": _iso(crisis.activated_at),
            "resolved_at": _iso(crisis.resolved_at),
        },
        "computed_at": _iso(now),
        "totals": {
            "levels_entered": len(levels),
            "escalations_taken": sum(r["outcome"] == "expired" for r in levels),
            "time_to_first_ack_seconds": round((first_ack - started).total_seconds(), 1)
            if first_ack and started
            else None,
            "messages_unacknowledged": sum(d["flash_unacknowledged"] for d in desks),
            "tasks": sum(d["tasks"] for d in desks),
            "tasks_late": sum(d["tasks_late"] for d in desks),
            "pledges_promised": sum(d["pledges_promised"] for d in desks),
            "pledges_delivered": sum(d["pledges_delivered"] for d in desks),
        },
        "levels": [
            {
                **{k: v for k, v in r.items() if k not in ("entered_at", "deadline_at", "acks")},
                "entered_at": _iso(r["entered_at"]),
                "deadline_at": _iso(r["deadline_at"]),
                "acks": [{**a, "at": _iso(a["at"])} for a in r["acks"]],
            }
            for r in levels
        ],
        "desks": desks,
        "pledge_quantities": list(quantities.values()),
        "late_steps": late_steps,
    }


# --- one desk over time ---------------------------------------------------------------------


def _period_start(at: datetime, period: str, zone) -> datetime:
    local = at.astimezone(zone)
    month = local.month if period == "month" else 3 * ((local.month - 1) // 3) + 1
    return local.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def _shift(start: datetime, period: str, n: int) -> datetime:
    step = 1 if period == "month" else 3
    index = start.year * 12 + (start.month - 1) + n * step
    return start.replace(year=index // 12, month=index % 12 + 1)


def _label(start: datetime, period: str) -> str:
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def desk_performance(
    desk: Desk,
    *,
    period: str = "quarter",
    periods: int = 4,
    exercises: str = "exclude",
    now: datetime | None = None,
) -> dict:
    """``desk``'s figures per period (the last ``periods`` quarters or months, the current
    one last), from the crises it took part in; exercises excluded unless asked for.

    ``trend`` compares the current period's mean time to acknowledge with the previous
    one's ("is THA faster than last quarter?"). The caller has checked who may read it.
    """
    now = now or timezone.now()
    zone = desk.zone
    current = _period_start(now, period, zone)
    starts = [_shift(current, period, -n) for n in range(periods - 1, -1, -1)]
    end = _shift(current, period, 1)
    crises = Crisis.objects.filter(
        participants__desk=desk, reported_at__gte=starts[0], reported_at__lt=end
    ).select_related("lead_desk")
    if exercises == "exclude":
        crises = crises.filter(exercise=False)
    elif exercises == "only":
        crises = crises.filter(exercise=True)
    buckets = {
        _label(s, period): {
            "period": _label(s, period),
            "starts_at": _iso(s),
            "ends_at": _iso(_shift(s, period, 1)),
            "crises": [],
            "_ack": [],
            "_flash": [],
            "levels_notified": 0,
            "levels_acknowledged": 0,
            "levels_missed": 0,
            "acks_within_deadline": 0,
            "flash_received": 0,
            "flash_unacknowledged": 0,
            "tasks": 0,
            "tasks_late": 0,
            "pledges_promised": 0,
            "pledges_delivered": 0,
        }
        for s in starts
    }
    for crisis in crises.distinct().order_by("reported_at"):
        bucket = buckets[_label(_period_start(crisis.reported_at, period, zone), period)]
        figures = crisis_performance(crisis, now=now)
        row = next((d for d in figures["desks"] if d["desk"] == desk.code), None)
        bucket["crises"].append(
            {"id": crisis.pk, "reference": crisis.reference, "exercise": crisis.exercise}
        )
        if row is None:
            continue
        for level in figures["levels"]:
            bucket["_ack"].extend(a["seconds"] for a in level["acks"] if a["desk"] == desk.code)
        for key in (
            "levels_notified", "levels_acknowledged", "levels_missed", "acks_within_deadline",
            "flash_received", "flash_unacknowledged", "tasks", "tasks_late",
            "pledges_promised", "pledges_delivered",
        ):  # fmt: skip
            bucket[key] += row[key]
        if row["flash_time_to_acknowledge"]["count"]:
            bucket["_flash"].append(row["flash_time_to_acknowledge"]["mean_seconds"])
    rows = []
    for bucket in buckets.values():
        bucket["time_to_acknowledge"] = _stats(bucket.pop("_ack"))
        flash = bucket.pop("_flash")
        bucket["flash_mean_seconds"] = round(mean(flash), 1) if flash else None
        rows.append(bucket)
    this, last = (
        rows[-1]["time_to_acknowledge"],
        (rows[-2]["time_to_acknowledge"] if len(rows) > 1 else {"mean_seconds": None}),
    )
    trend = {"current_mean_seconds": this["mean_seconds"],
             "previous_mean_seconds": last["mean_seconds"], "faster": None,
             "change_seconds": None}  # fmt: skip
    if this["mean_seconds"] is not None and last["mean_seconds"] is not None:
        trend["change_seconds"] = round(this["mean_seconds"] - last["mean_seconds"], 1)
        trend["faster"] = this["mean_seconds"] < last["mean_seconds"]
    return {
        "desk": {"code": desk.code, "name": desk.name, "time_zone": desk.time_zone},
        "period": period,
        "exercises": exercises,
        "computed_at": _iso(now),
        "periods": rows,
        "trend": trend,
        "trend_text": trend_text(desk.code, period, trend),
    }


def trend_text(code: str, period: str, trend: dict) -> str:
    """The trend in words: "THA-DDPM acknowledged 2 min faster than last quarter"."""
    if trend["faster"] is None:
        return _("Not enough acknowledgements in this and the previous period to compare.")
    change = duration_text(abs(trend["change_seconds"]))
    last = _("last quarter") if period == "quarter" else _("last month")
    if trend["change_seconds"] == 0:
        return _("%(desk)s acknowledged as fast as %(last)s.") % {"desk": code, "last": last}
    if trend["faster"]:
        text = _("%(desk)s acknowledged %(change)s faster on average than %(last)s.")
    else:
        text = _("%(desk)s acknowledged %(change)s slower on average than %(last)s.")
    return text % {"desk": code, "change": change, "last": last}
