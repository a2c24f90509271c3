"""Authoring crisis protocols: drafts, validation, publication, and the activation snapshot.

A protocol's versions move draft -> published -> retired. Only a draft is edited; publishing
validates it, freezes it and retires the version published before (one transaction, the
protocol rows locked). Editing a published protocol means :func:`new_draft_from`.

The crises side calls two functions by name at activation: :func:`published_version_for`
(which version binds) and :func:`snapshot_of` (the JSON the crisis keeps, so later edits
never change a running crisis).

Writers need the ``crisis.author_protocol`` permission (superusers have it). Drafts are
work in progress and their edits are not on the timeline; creating a draft, publishing and
retiring are, on the stream ``protocol:<id>``.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import Conflict, InvalidInput, PermissionDenied
from crisis.models import (
    ChecklistItem,
    CrisisCategory,
    EscalationLevel,
    Protocol,
    ProtocolVersion,
    VersionStatus,
)
from crisis.models.protocols import VersionImmutable
from crisis.services import protocol_rules as rules
from crisis.services import timeline
from directory.models import Desk

AUTHOR_PERMISSION = "crisis.author_protocol"

#: Draft fields an author may change (levels and checklist are replaced as a whole).
DRAFT_FIELDS = ("notes", "repeat_last_level", "max_repeats", "ack_timeout_seconds")


# --- who may author -------------------------------------------------------------------------
def is_author(user) -> bool:
    return bool(user and user.is_active and user.has_perm(AUTHOR_PERMISSION))


def require_author(user) -> None:
    if not is_author(user):
        raise PermissionDenied(
            _(
                "Only protocol authors (the 'Can author crisis protocols' permission) "
                "may change protocols."
            ),
            code="not_protocol_author",
        )


def _stream(protocol: Protocol) -> str:
    return f"protocol:{protocol.pk}"


# --- reads the crises side relies on ---------------------------------------------------------
def validate_version(version: ProtocolVersion) -> list[str]:
    """Human messages for everything that stops ``version`` being published (empty: ready)."""
    return rules.content_problems(snapshot_of(version))


def snapshot_of(version: ProtocolVersion) -> dict:
    """The JSON a crisis stores at activation: everything the escalation needs, by value.

    Desks are kept by id and code; levels and checklist are in order.
    """
    levels = (
        EscalationLevel.objects.filter(version=version)
        .prefetch_related("notify_desks")
        .order_by("order")
    )
    checklist = ChecklistItem.objects.filter(version=version).order_by("order")
    return {
        "protocol_id": version.protocol_id,
        "protocol_name": version.protocol.name,
        "category": version.protocol.category,
        "version_id": version.pk,
        "version_number": version.number,
        "repeat_last_level": version.repeat_last_level,
        "max_repeats": version.max_repeats,
        "ack_timeout_seconds": version.ack_timeout_seconds,
        "levels": [
            {
                "order": level.order,
                "name": level.name,
                "timeout_seconds": level.timeout_seconds,
                "notify_scopes": list(level.notify_scopes),
                "notify_roles": list(level.notify_roles),
                "notify_desk_ids": sorted(d.pk for d in level.notify_desks.all()),
                "notify_desk_codes": sorted(d.code for d in level.notify_desks.all()),
                "notify_agency_types": list(level.notify_agency_types),
                "actions": list(level.actions),
            }
            for level in levels
        ],
        "checklist": [
            {
                "order": item.order,
                "party_role": item.party_role,
                "title": item.title,
                "description": item.description,
                "due_after_minutes": item.due_after_minutes,
            }
            for item in checklist
        ],
    }


def published_version_for(category: str) -> ProtocolVersion | None:
    """The version a crisis of ``category`` binds to now (publishing keeps it to one)."""
    return (
        ProtocolVersion.objects.filter(protocol__category=category, status=VersionStatus.PUBLISHED)
        .select_related("protocol")
        .order_by("-published_at", "-pk")
        .first()
    )


# --- writes ----------------------------------------------------------------------------------
def _next_number(protocol: Protocol) -> int:
    return (protocol.versions.aggregate(n=Max("number"))["n"] or 0) + 1


def _lock_protocol(protocol_id: int) -> Protocol:
    return Protocol.objects.select_for_update().get(pk=protocol_id)


def _lock_version(
    version: ProtocolVersion, *, status: str, code: str, reason: str, error=Conflict
) -> ProtocolVersion:
    """Lock the version row (and its protocol's) and check it is in ``status``."""
    locked = ProtocolVersion.objects.select_for_update().select_related("protocol")
    locked = locked.get(pk=version.pk)
    if locked.status != status:
        raise error(
            _("%(locked)s is %(locked_status)s: %(reason)s")
            % {"locked": locked, "locked_status": locked.status, "reason": reason},
            code=code,
            details={"version": locked.pk, "status": locked.status},
        )
    return locked


def _lock_draft(version: ProtocolVersion) -> ProtocolVersion:
    return _lock_version(
        version,
        status=VersionStatus.DRAFT,
        code=VersionImmutable.code,
        reason=_("it cannot be changed; make a new draft from it."),
        error=VersionImmutable,
    )


def _write_ladder(version: ProtocolVersion, *, levels: list[dict], checklist: list[dict]) -> None:
    """Replace a draft's levels and checklist (dicts as in :func:`snapshot_of`).

    Assumes the draft row is locked by the caller and the dicts passed structural checks.
    """
    version.levels.all().delete()
    version.checklist.all().delete()
    through = EscalationLevel.notify_desks.through
    links = []
    for data in sorted(levels, key=lambda lv: lv["order"]):
        level = EscalationLevel.objects.create(
            version=version,
            order=data["order"],
            name=data["name"],
            timeout_seconds=data["timeout_seconds"],
            notify_scopes=list(data.get("notify_scopes") or []),
            notify_roles=list(data.get("notify_roles") or []),
            notify_agency_types=list(data.get("notify_agency_types") or []),
            actions=list(data.get("actions") or []),
        )
        links += [
            through(escalationlevel_id=level.pk, desk_id=desk_id)
            for desk_id in data.get("notify_desk_ids") or []
        ]
    through.objects.bulk_create(links)
    ChecklistItem.objects.bulk_create(
        ChecklistItem(
            version=version,
            order=item["order"],
            party_role=item.get("party_role") or ChecklistItem.ALL_PARTIES,
            title=item["title"],
            description=item.get("description") or "",
            due_after_minutes=item.get("due_after_minutes", 60),
        )
        for item in checklist
    )


def create_protocol(
    *,
    by,
    name: str,
    category: str,
    description: str = "",
    content: dict | None = None,
    source: str = "",
) -> tuple[Protocol, ProtocolVersion]:
    """Create a protocol with a draft v1 (empty, or holding ``content``). Authors only.

    Transactional; ``content`` (as in :func:`snapshot_of`) must have passed the structural
    checks of the file it came from.
    """
    require_author(by)
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("A protocol needs a name."), details={"field": "name"})
    if category not in CrisisCategory.values:
        raise InvalidInput(
            _("Unknown crisis category %(category)s; use one of: %(crisiscategory_values)s.")
            % {
                "category": repr(category),
                "crisiscategory_values": ", ".join(CrisisCategory.values),
            },
            code="unknown_category",
            details={"field": "category"},
        )
    with transaction.atomic():
        if Protocol.objects.filter(name=name).exists():
            raise Conflict(
                _("A protocol named %(name)s exists already.") % {"name": repr(name)},
                code="protocol_exists",
            )
        protocol = Protocol.objects.create(name=name, category=category, description=description)
        content = content or {}
        draft = ProtocolVersion.objects.create(
            protocol=protocol, number=1, **{f: content[f] for f in DRAFT_FIELDS if f in content}
        )
        _write_ladder(
            draft, levels=content.get("levels") or [], checklist=content.get("checklist") or []
        )
        timeline.record(
            stream=_stream(protocol),
            kind="protocol_created",
            actor=by,
            payload={
                "protocol": protocol.name,
                "category": category,
                "version": 1,
                "source": source,
            },
        )
    return protocol, draft


def new_draft(*, by, protocol: Protocol, content: dict, source: str = "") -> ProtocolVersion:
    """Add a draft to ``protocol`` holding ``content`` (dicts as in :func:`snapshot_of`).

    Used by imports; the content must have passed the file's structural checks.
    """
    require_author(by)
    with transaction.atomic():
        protocol = _lock_protocol(protocol.pk)
        draft = ProtocolVersion.objects.create(
            protocol=protocol,
            number=_next_number(protocol),
            **{f: content[f] for f in DRAFT_FIELDS if f in content},
        )
        _write_ladder(draft, levels=content["levels"], checklist=content["checklist"])
        timeline.record(
            stream=_stream(protocol),
            kind="protocol_draft_created",
            actor=by,
            payload={"version": draft.number, "source": source},
        )
    return draft


def new_draft_from(*, by, version: ProtocolVersion) -> ProtocolVersion:
    """A new draft that deep-copies ``version`` (any status): fields, levels, desks, checklist.

    Transactional; numbers the draft after the protocol's highest version; authors only.
    """
    require_author(by)
    with transaction.atomic():
        protocol = _lock_protocol(version.protocol_id)
        source = ProtocolVersion.objects.get(pk=version.pk)
        content = snapshot_of(source)
        draft = ProtocolVersion.objects.create(
            protocol=protocol,
            number=_next_number(protocol),
            created_from=source,
            **{f: getattr(source, f) for f in DRAFT_FIELDS},
        )
        _write_ladder(draft, levels=content["levels"], checklist=content["checklist"])
        timeline.record(
            stream=_stream(protocol),
            kind="protocol_draft_created",
            actor=by,
            payload={"version": draft.number, "source": f"v{source.number}"},
        )
    return draft


def check_draft_editable(*, by, version: ProtocolVersion) -> None:
    """The checking half of :func:`update_draft`: 403 for non-authors, 409 unless a draft."""
    require_author(by)
    if version.status != VersionStatus.DRAFT:
        raise VersionImmutable(
            _("%(version)s is %(version_status)s: it cannot be changed; make a new draft from it.")
            % {"version": version, "version_status": version.status},
            details={"version": version.pk, "status": version.status},
        )


def update_draft(
    *,
    by,
    version: ProtocolVersion,
    changes: dict | None = None,
    levels: list[dict] | None = None,
    checklist: list[dict] | None = None,
) -> ProtocolVersion:
    """Change a draft's fields and/or replace its ladder or checklist. Refuses non-drafts (409).

    Structural rules (positive timeouts, unique orders) are enforced here; whether the draft
    is complete enough to publish is :func:`validate_version`'s question.
    """
    check_draft_editable(by=by, version=version)
    changes = changes or {}
    unknown = sorted(set(changes) - set(DRAFT_FIELDS))
    if unknown:
        raise InvalidInput(
            _("Cannot change %(unknown)s: a draft's editable fields are %(draft_fields)s.")
            % {"unknown": ", ".join(unknown), "draft_fields": ", ".join(DRAFT_FIELDS)},
            details={"fields": unknown},
        )
    with transaction.atomic():
        draft = _lock_draft(version)
        for field, value in changes.items():
            setattr(draft, field, value)
        draft.full_clean(exclude=["protocol", "number", "status", "created_from"])
        draft.save()
        if levels is not None or checklist is not None:
            current = snapshot_of(draft)
            new_levels = current["levels"] if levels is None else levels
            new_checklist = current["checklist"] if checklist is None else checklist
            structural = rules.structural_problems(new_levels, new_checklist)
            if structural:
                raise InvalidInput(structural[0], details={"problems": structural})
            _write_ladder(draft, levels=new_levels, checklist=new_checklist)
    return draft


def publish_version(*, by, version: ProtocolVersion) -> ProtocolVersion:
    """Publish a draft: validate it, retire the version published before, freeze this one.

    One transaction holding the row locks of every protocol of the category, so two
    publishers never both win, and a category has one published protocol (the one a new
    crisis binds to). Refuses: non-authors (403), non-drafts (409 ``version_not_draft``),
    an invalid draft (400 ``protocol_invalid`` listing every problem), a category that
    another protocol already serves (409 ``category_taken``).
    """
    require_author(by)
    with transaction.atomic():
        category = Protocol.objects.values_list("category", flat=True).get(pk=version.protocol_id)
        list(Protocol.objects.select_for_update().filter(category=category).order_by("pk"))
        version = _lock_version(
            version,
            status=VersionStatus.DRAFT,
            code="version_not_draft",
            reason=_("only a draft can be published."),
        )
        problems = validate_version(version)
        if problems:
            extra = len(problems) - 1
            more = (
                ngettext(" (and %(count)s more)", " (and %(count)s more)", extra) % {"count": extra}
                if extra
                else ""
            )
            raise InvalidInput(
                _("v%(version_number)s cannot be published yet: %(problem)s%(more)s")
                % {"version_number": version.number, "problem": problems[0], "more": more},
                code="protocol_invalid",
                details={"problems": problems},
            )
        rival = (
            ProtocolVersion.objects.filter(
                protocol__category=category, status=VersionStatus.PUBLISHED
            )
            .exclude(protocol_id=version.protocol_id)
            .select_related("protocol")
            .first()
        )
        if rival is not None:
            raise Conflict(
                _(
                    "%(rival_protocol_name)s is already the published protocol for %(label)s "
                    "crises: retire its v%(rival_number)s first, so new crises know which "
                    "protocol to follow."
                )
                % {
                    "rival_protocol_name": rival.protocol.name,
                    "label": CrisisCategory(category).label.lower(),
                    "rival_number": rival.number,
                },
                code="category_taken",
                details={"protocol": rival.protocol_id, "version": rival.pk},
            )
        now = timezone.now()
        previous = (
            ProtocolVersion.objects.select_for_update()
            .filter(protocol_id=version.protocol_id, status=VersionStatus.PUBLISHED)
            .first()
        )
        if previous is not None:
            previous.status = VersionStatus.RETIRED
            previous.retired_at = now
            previous.save(update_fields=["status", "retired_at"])
        version.status = VersionStatus.PUBLISHED
        version.published_at = now
        version.published_by = by
        version.save(update_fields=["status", "published_at", "published_by"])
        timeline.record(
            stream=_stream(version.protocol),
            kind="protocol_version_published",
            actor=by,
            payload={
                "version": version.number,
                "retired": previous.number if previous else None,
                "levels": len(snapshot_of(version)["levels"]),
            },
        )
    return version


def retire_version(*, by, version: ProtocolVersion) -> ProtocolVersion:
    """Retire the published version: the protocol then has none (new crises bind nothing).

    Transactional; authors only; a draft or retired version is refused (409).
    """
    require_author(by)
    with transaction.atomic():
        version = _lock_version(
            version,
            status=VersionStatus.PUBLISHED,
            code="version_not_published",
            reason=_("only the published version can be retired."),
        )
        version.status = VersionStatus.RETIRED
        version.retired_at = timezone.now()
        version.save(update_fields=["status", "retired_at"])
        timeline.record(
            stream=_stream(version.protocol),
            kind="protocol_version_retired",
            actor=by,
            payload={"version": version.number},
        )
    return version


def desks_by_code(codes) -> dict[str, Desk]:
    return {d.code: d for d in Desk.objects.filter(code__in=list(codes))}
