"""Sharing cyber indicators in a crisis: add an item, import a bundle, export a bundle.

Who may share: a person in a writing role on a national CERT desk (``AgencyType.CERT``)
that is party to the crisis, or a coordinator at the regional centre. The crisis must be a
cyber crisis (category ``cyber``: the crises bound to a cyber protocol) and open.

Each write is one transaction: the item (or every item of a bundle) is written and its
trace kept, or nothing is. The timeline gets an entry per item shared, except for RED
items: the timeline is read by every party, and a RED item exists for its recipients
only (its row keeps who shared it and when).

The STIX JSON of each item is made by ``stix2`` with ``allow_custom=False``
(``cyber.stix.checked``), so what we store is what we send.
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, InvalidInput, PermissionDenied
from core.tlp import ORDER, TLP, narrower
from crisis import lifecycle
from crisis.models import Crisis, CrisisCategory
from crisis.services import timeline
from cyber import stix
from cyber.models import CyberItem, ItemKind
from cyber.selectors import items_visible_to
from directory.access import Access, access_for
from directory.models import AgencyType, Desk, Role

MAX_OBSERVABLES = 100


def _ts(at: datetime) -> str:
    """A STIX timestamp: UTC, milliseconds, ``Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- who may share ------------------------------------------------------------------------
def require_sharer(access: Access, desk: Desk, crisis: Crisis) -> None:
    """Raise unless ``desk`` (the caller acts for it) may share cyber items in ``crisis``."""
    access.require_act_for(desk)
    if desk.is_regional:
        if access.role_on(desk) != Role.COORDINATOR:
            raise PermissionDenied(
                _("At the regional centre, coordinators share cyber items."), code="not_a_sharer"
            )
    elif desk.agency_type != AgencyType.CERT:
        raise PermissionDenied(
            _(
                "%(desk_code)s is a %(agency)s desk: indicators are shared by national "
                "CERT desks (and the regional coordinators)."
            )
            % {"desk_code": desk.code, "agency": desk.get_agency_type_display().lower()},
            code="not_a_cert_desk",
            details={"desk": desk.code, "agency_type": desk.agency_type},
        )
    lifecycle.require_party(desk, crisis)
    if crisis.category != CrisisCategory.CYBER:
        raise Conflict(
            _(
                "%(crisis_reference)s is a %(category)s crisis; STIX items are shared in "
                "cyber crises."
            )
            % {
                "crisis_reference": crisis.reference,
                "category": crisis.get_category_display().lower(),
            },
            code="not_cyber",
        )
    if not lifecycle.is_open(crisis):
        raise Conflict(
            _("%(crisis_reference)s is %(status)s: nothing more is shared in it.")
            % {"crisis_reference": crisis.reference, "status": crisis.get_status_display().lower()},
            code="crisis_closed",
        )


def _recipients(desk: Desk, tlp: str, codes: list[str]) -> list[Desk]:
    """RED: the named desks (the sharing desk always among them). Others name nobody."""
    if tlp != TLP.RED:
        if codes:
            raise InvalidInput(
                _(
                    "Only TLP:RED items name their recipients; the others reach everyone who "
                    "sees the crisis."
                ),
                details={"fields": {"recipients": ["only with tlp RED"]}},
            )
        return []
    found = {d.code: d for d in Desk.objects.filter(code__in=codes, is_active=True)}
    unknown = sorted(set(codes) - set(found))
    if unknown:
        raise InvalidInput(
            _("Unknown desk(s): %(unknown)s.") % {"unknown": ", ".join(unknown)},
            details={"fields": {"recipients": [f"unknown desk {c!r}" for c in unknown]}},
        )
    found[desk.code] = desk
    return list(found.values())


# --- building the STIX object --------------------------------------------------------------
def _observable(entry: dict, marking: str, index: int) -> dict:
    kind, value = entry.get("type"), entry.get("value")
    where = f"observables[{index}]"
    if kind not in stix.SCO_TYPES or not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            _("%(where)s: give a type (%(stix_sco_types)s) and a value.")
            % {"where": where, "stix_sco_types": ", ".join(stix.SCO_TYPES)},
            details={"fields": {"observables": [f"{where}: type and value"]}},
        )
    value = value.strip()
    if kind in ("ipv4-addr", "ipv6-addr"):
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise InvalidInput(
                _("%(where)s: %(value)s is not an IP address or range.")
                % {"where": where, "value": repr(value[:60])},
                details={"fields": {"observables": [f"{where}: not an IP address"]}},
            ) from exc
    data = {"type": kind, "spec_version": "2.1", "object_marking_refs": [marking]}
    if kind == "file":
        data["hashes"] = {"SHA-256": value.lower()}
    elif kind == "autonomous-system":
        if not value.isdigit() or int(value) > 2**32 - 1:
            raise InvalidInput(
                _("%(where)s: an autonomous system is a number.") % {"where": where},
                details={"fields": {"observables": [f"{where}: AS number"]}},
            )
        data["number"] = int(value)
    else:
        data["value"] = value
    return stix.checked(data, where)


def _sighted(crisis: Crisis, access: Access, stix_id: str) -> CyberItem:
    target = items_visible_to(access, crisis).filter(stix_id=stix_id).first()
    if target is None or target.kind not in (ItemKind.INDICATOR, ItemKind.ATTACK_PATTERN):
        raise InvalidInput(
            _("sighting_of: %(stix_id)s is no indicator or attack pattern of this crisis.")
            % {"stix_id": repr(str(stix_id)[:120])},
            details={"fields": {"sighting_of": ["an indicator or attack pattern's STIX id"]}},
        )
    return target


def build_object(
    *, crisis: Crisis, access: Access, desk: Desk, kind: str, tlp: str, fields: dict
) -> tuple[dict, list[dict]]:
    """The STIX object (and its observables) for an item added by ``desk``."""
    marking = stix.TLP2_IDS[TLP(tlp)]
    now = timezone.now()
    common = {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{uuid.uuid4()}",
        "created": _ts(now),
        "modified": _ts(now),
        "created_by_ref": stix.identity_id(desk),
        "object_marking_refs": [marking],
    }
    related = [stix.identity(desk)]
    description = fields.get("description") or ""
    if kind == ItemKind.INDICATOR:
        data = {
            **common,
            "name": fields.get("name") or "",
            "pattern": fields.get("pattern") or "",
            "pattern_type": "stix",
            "valid_from": _ts(fields.get("valid_from") or now),
            "indicator_types": fields.get("indicator_types") or ["malicious-activity"],
        }
    elif kind == ItemKind.ATTACK_PATTERN:
        data = {**common, "name": fields.get("name") or ""}
        if fields.get("external_id"):
            data["external_references"] = [
                {"source_name": "mitre-attack", "external_id": fields["external_id"]}
            ]
    elif kind == ItemKind.OBSERVED_DATA:
        entries = fields.get("observables") or []
        if not entries or len(entries) > MAX_OBSERVABLES:
            raise InvalidInput(
                _("Observed data lists 1 to %(max_observables)s observables (type and value).")
                % {"max_observables": MAX_OBSERVABLES},
                details={"fields": {"observables": ["1 to 100 observables"]}},
            )
        observables = [_observable(e, marking, i) for i, e in enumerate(entries)]
        first = fields.get("first_observed") or now
        data = {
            **common,
            "first_observed": _ts(first),
            "last_observed": _ts(fields.get("last_observed") or first),
            "number_observed": fields.get("number_observed") or 1,
            "object_refs": sorted({o["id"] for o in observables}),
        }
        related += observables
    else:  # sighting
        data = {
            **common,
            "sighting_of_ref": fields["sighting_of_ref"],
            "count": fields.get("count") or 1,
            "where_sighted_refs": [stix.identity_id(desk)],
        }
        for name in ("first_seen", "last_seen"):
            if fields.get(name):
                data[name] = _ts(fields[name])
    if description:
        data["description"] = description
    if kind != ItemKind.SIGHTING and not data.get("name", True):
        raise InvalidInput(
            _("Give the item a name (what it is, e.g. 'Phishing sender of the grid attack')."),
            details={"fields": {"name": ["required"]}},
        )
    return stix.checked(data, kind), related


def _record(item: CyberItem, *, by, desk: Desk, how: str) -> None:
    if item.tlp == TLP.RED:
        return  # RED is for its recipients only; the shared timeline is read by every party
    timeline.record(
        kind=f"cyber.{how}",
        crisis=item.crisis,
        actor=by,
        desk=desk,
        payload={
            "item": item.pk,
            "kind": item.kind,
            "stix_id": item.stix_id,
            "name": item.name,
            "tlp": item.tlp,
        },
    )


def add_item(*, by, desk: Desk, crisis: Crisis, kind: str, tlp: str, recipients=(), **fields):
    """A CERT desk (or a coordinator) shares one STIX object in a cyber crisis.

    ``fields``: name, description and, by kind, pattern / indicator_types / valid_from
    (indicator), observables / first_observed / last_observed / number_observed (observed
    data), external_id (attack pattern), sighting_of / count / first_seen / last_seen
    (sighting). A sighting is marked at least as narrowly as what it sights, and a
    sighting of a RED item goes to that item's recipients.
    """
    access = access_for(by)
    with transaction.atomic():
        crisis = Crisis.objects.select_for_update().get(pk=crisis.pk)
        require_sharer(access, desk, crisis)
        if kind not in ItemKind.values:
            raise InvalidInput(
                _("Unknown kind %(kind)s; use %(itemkind_values)s.")
                % {"kind": repr(kind), "itemkind_values": ", ".join(ItemKind.values)},
                details={"fields": {"kind": ["unknown"]}},
            )
        if tlp not in TLP.values:
            raise InvalidInput(
                _("Unknown TLP level %(tlp)s; use %(tlp_values)s.")
                % {"tlp": repr(tlp), "tlp_values": ", ".join(TLP.values)},
                details={"fields": {"tlp": ["unknown"]}},
            )
        target = None
        if kind == ItemKind.SIGHTING:
            target = _sighted(crisis, access, fields.get("sighting_of") or "")
            fields["sighting_of_ref"] = target.stix_id
            tlp = narrower(tlp, target.tlp)
            if target.tlp == TLP.RED:
                recipients = [d.code for d in target.recipients.all()]
        named = _recipients(desk, tlp, list(recipients))
        obj, related = build_object(
            crisis=crisis, access=access, desk=desk, kind=kind, tlp=tlp, fields=fields
        )
        item = CyberItem.objects.create(
            crisis=crisis,
            kind=kind,
            stix_id=obj["id"],
            name=(obj.get("name") or "")[:250],
            tlp=tlp,
            stix={"object": obj, "related": related},
            shared_by=desk,
            created_by=by,
        )
        item.recipients.set(named)
        _record(item, by=by, desk=desk, how="item_shared")
    return item


# --- bundles ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportSummary:
    created: list[CyberItem]
    already_had: list[str]


def _refs(obj: dict) -> set[str]:
    refs = set(obj.get("object_refs") or []) | set(obj.get("where_sighted_refs") or [])
    if obj.get("created_by_ref"):
        refs.add(obj["created_by_ref"])
    return refs


def import_bundle(*, by, desk: Desk, crisis: Crisis, bundle) -> ImportSummary:
    """Keep each indicator, observed data, attack pattern and sighting of a STIX 2.1
    bundle as an item of ``crisis``, shared by ``desk``, with the observables and
    identities it refers to. All or nothing: a bad object refuses the whole bundle (400
    naming it). Objects this crisis already has (same STIX id) are left as they are.
    RED objects are kept for the importing desk only (a bundle names no recipients).
    """
    objects = stix.read_bundle(bundle)
    by_id = {o["id"]: o for o in objects}
    access = access_for(by)
    created, already = [], []
    with transaction.atomic():
        crisis = Crisis.objects.select_for_update().get(pk=crisis.pk)
        require_sharer(access, desk, crisis)
        existing = set(crisis.cyber_items.values_list("stix_id", flat=True))
        items = [o for o in objects if o["type"] in stix.ITEM_TYPES]
        if not items:
            raise stix.BadStix(
                _("The bundle holds no %(stix_item_types)s: nothing to share.")
                % {"stix_item_types": ", ".join(stix.ITEM_TYPES)}
            )
        for obj in items:
            where = f"{obj['type']} {obj['id']}"
            if obj["id"] in existing:
                already.append(obj["id"])
                continue
            tlp = stix.level_of(obj, where)
            if obj["type"] == "sighting":
                target = obj["sighting_of_ref"]
                if target in by_id:
                    target_tlp = stix.level_of(by_id[target], target)
                else:
                    held = crisis.cyber_items.filter(stix_id=target).first()
                    if held is None:
                        raise stix.BadStix(
                            _(
                                "%(where)s sights %(target)s, which neither this crisis nor "
                                "the bundle holds."
                            )
                            % {"where": where, "target": target},
                            details={"object": where},
                        )
                    target_tlp = held.tlp
                if target_tlp == TLP.RED and tlp != TLP.RED:
                    raise stix.BadStix(
                        _("%(where)s sights a TLP:RED object, so it must be TLP:RED too.")
                        % {"where": where},
                        details={"object": where},
                    )
            related = []
            for ref in sorted(_refs(obj)):
                if ref in by_id and by_id[ref]["type"] in (*stix.SCO_TYPES, "identity"):
                    related.append(by_id[ref])
            missing = [r for r in obj.get("object_refs") or [] if r not in by_id]
            if missing:
                raise stix.BadStix(
                    _("%(where)s refers to %(missing)s, which the bundle does not hold.")
                    % {"where": where, "missing": missing[0]},
                    details={"object": where},
                )
            item = CyberItem.objects.create(
                crisis=crisis,
                kind=obj["type"],
                stix_id=obj["id"],
                name=str(obj.get("name") or "")[:250],
                tlp=tlp,
                stix={"object": obj, "related": related},
                shared_by=desk,
                created_by=by,
                imported=True,
            )
            if tlp == TLP.RED:
                item.recipients.set([desk])
            existing.add(obj["id"])
            _record(item, by=by, desk=desk, how="item_imported")
            created.append(item)
    return ImportSummary(created=created, already_had=already)


def export_bundle(access: Access, crisis: Crisis) -> dict:
    """The crisis's items the caller may read, as a STIX 2.1 bundle: the objects, the
    observables and identities they refer to, and the TLP marking definitions used.

    RED items the caller is not a recipient of are not in it, nor anything only they
    refer to. An observable two items share is sent once, marked as the narrower of them.
    """
    items = list(items_visible_to(access, crisis))
    objects: dict[str, dict] = {}
    levels: set[str] = set()
    for item in items:
        levels.add(item.tlp)
        objects[item.stix_id] = item.stix["object"]
        for extra in item.stix.get("related") or []:
            held = objects.get(extra["id"])
            if held is None or _narrowness(extra) > _narrowness(held):
                objects[extra["id"]] = extra
    for extra in objects.values():
        level = stix.LEVEL_OF_MARKING.get((extra.get("object_marking_refs") or [None])[0])
        if level:
            levels.add(level)
    markings = [stix.marking_definition(level) for level in ORDER if level in levels]
    return {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid4()}",
        "objects": [*markings, *objects.values()],
    }


def _narrowness(obj: dict) -> int:
    level = stix.LEVEL_OF_MARKING.get((obj.get("object_marking_refs") or [None])[0])
    return ORDER.index(level) if level else -1
