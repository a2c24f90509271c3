"""STIX 2.1 pieces: the TLP 2.0 marking definitions, desks as identities, and reading bundles.

TLP 2.0 markings are the OASIS CTI TC's published marking-definition objects (the TLP 2.0
extension, ``extension-definition--60a3c5c5-…``): their ids are fixed, so every system
that knows TLP 2.0 recognises them. Bundles we receive may also carry STIX's built-in
TLP 1.0 markings; WHITE is read as CLEAR, the others by name.

Everything here goes through the ``stix2`` library with ``allow_custom=False``: a custom
property or object type is refused, not stored.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import stix2
from django.utils.translation import gettext as _
from stix2.exceptions import STIXError

from core.errors import InvalidInput
from core.tlp import TLP
from directory.models import Desk

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"

#: core.tlp level -> the TLP 2.0 marking-definition id.
TLP2_IDS = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
#: marking-definition id -> core.tlp level, for what we read (TLP 2.0 and STIX's TLP 1.0).
LEVEL_OF_MARKING = {
    **{marking: level for level, marking in TLP2_IDS.items()},
    stix2.TLP_WHITE.id: TLP.CLEAR,
    stix2.TLP_GREEN.id: TLP.GREEN,
    stix2.TLP_AMBER.id: TLP.AMBER,
    stix2.TLP_RED.id: TLP.RED,
}

#: Identities of desks: stable ids (uuid5 of the desk code) and one fixed version.
IDENTITY_NAMESPACE = uuid.UUID("4f0b7a57-5c0e-4d7c-9a57-9b1b2b0c3e11")
IDENTITY_CREATED = "2026-01-01T00:00:00.000Z"

#: The object types a bundle may hold: what we keep, what we read alongside.
ITEM_TYPES = ("indicator", "observed-data", "attack-pattern", "sighting")
SCO_TYPES = (
    "ipv4-addr",
    "ipv6-addr",
    "domain-name",
    "url",
    "email-addr",
    "file",
    "mac-addr",
    "autonomous-system",
)
ACCEPTED_TYPES = (*ITEM_TYPES, *SCO_TYPES, "identity", "marking-definition")

MAX_OBJECTS = 2000


class BadStix(InvalidInput):
    code = "invalid_stix"


def marking_definition(level: str) -> dict:
    """The TLP 2.0 marking-definition object for ``level`` (as JSON-ready data)."""
    tlp = TLP(level)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[tlp],
        "created": TLP2_CREATED,
        "name": f"TLP:{tlp.value}",
        "extensions": {
            TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp.value.lower()}
        },
    }


def identity_id(desk: Desk) -> str:
    return f"identity--{uuid.uuid5(IDENTITY_NAMESPACE, desk.code)}"


def identity(desk: Desk) -> dict:
    """The desk as a STIX identity (an organisation), for ``created_by_ref`` and sightings."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id(desk),
        "created": IDENTITY_CREATED,
        "modified": IDENTITY_CREATED,
        "name": f"{desk.name} ({desk.code})",
        "identity_class": "organization",
    }


def checked(data: dict[str, Any], where: str) -> dict:
    """``data`` parsed by ``stix2`` (no custom content) and serialised back: the canonical
    JSON of a valid STIX 2.1 object; BadStix (400) naming the object otherwise."""
    try:
        parsed = stix2.parse(data, allow_custom=False, version="2.1")
    except (STIXError, ValueError, TypeError, KeyError) as exc:
        # stix2's own words stay in English: no catalogue has them.
        raise BadStix(
            (_("%(object)s: %(problem)s") % {"object": where, "problem": exc})[:1000],
            details={"object": where},
        ) from exc
    return _json(parsed)


def _json(obj) -> dict:
    return json.loads(obj.serialize())


def level_of(obj: dict, where: str) -> str:
    """The one TLP level an object is marked with; BadStix if none, or unknown, or two."""
    levels = {LEVEL_OF_MARKING.get(ref) for ref in obj.get("object_marking_refs") or []}
    if not levels:
        raise BadStix(
            _(
                "%(object)s carries no TLP marking: mark every object (object_marking_refs) "
                "with a TLP 2.0 marking definition, e.g. TLP:AMBER."
            )
            % {"object": where},
            details={"object": where},
        )
    if None in levels:
        raise BadStix(
            _(
                "%(object)s is marked with a marking definition we do not know; use TLP 2.0 "
                "(or STIX's TLP 1.0) marking definitions."
            )
            % {"object": where},
            details={"object": where},
        )
    if len(levels) > 1:
        raise BadStix(
            _("%(object)s carries two TLP markings; give it one.") % {"object": where},
            details={"object": where},
        )
    return levels.pop()


def read_bundle(data) -> list[dict]:
    """The objects of a STIX 2.1 bundle, each checked by ``stix2``; BadStix (400) naming
    the first problem (so nothing of a bad bundle is kept)."""
    if not isinstance(data, dict) or data.get("type") != "bundle":
        raise BadStix(
            _('The body must be a STIX 2.1 bundle: {"type": "bundle", "id": …, "objects": […]}.')
        )
    objects = data.get("objects")
    if not isinstance(objects, list) or not objects:
        raise BadStix(_("The bundle has no objects."), details={"object": "objects"})
    if len(objects) > MAX_OBJECTS:
        raise BadStix(
            _("The bundle has more than %(n)s objects; send it in parts.") % {"n": MAX_OBJECTS}
        )
    if not str(data.get("id", "")).startswith("bundle--"):
        raise BadStix(_('The bundle needs an id: "bundle--<uuid>".'), details={"object": "id"})
    read = []
    for index, obj in enumerate(objects):
        where = f"objects[{index}]"
        if not isinstance(obj, dict):
            raise BadStix(
                _("%(object)s is not an object.") % {"object": where}, details={"object": where}
            )
        kind = obj.get("type")
        if kind not in ACCEPTED_TYPES:
            raise BadStix(
                _(
                    "%(object)s: we do not take STIX objects of type %(type)s; we take "
                    "%(types)s (with their observables, identities and TLP markings)."
                )
                % {"object": where, "type": repr(str(kind)[:60]), "types": ", ".join(ITEM_TYPES)},
                details={"object": where},
            )
        if kind == "marking-definition" and obj.get("id") not in LEVEL_OF_MARKING:
            raise BadStix(
                _(
                    "%(object)s: marking definition %(id)s is not a TLP marking; we accept "
                    "TLP 2.0 (and STIX's TLP 1.0) markings only."
                )
                % {"object": where, "id": repr(str(obj.get("id"))[:100])},
                details={"object": where},
            )
        read.append(checked(obj, f"{where} ({kind} {str(obj.get('id'))[:100]})"))
    return read
