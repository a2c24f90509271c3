"""A sweep over every REST write operation in the OpenAPI schema (hotline excluded: its own
suite): a third state's desk, the auditor and an anonymous client never write; junk input
never gets a 500; every 4xx carries ``{"code", "message", "details"}``."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from crisis.models import Crisis, CrisisTask, Protocol, TimelineEntry
from feeds.models import CapFeed
from humanitarian.models import AssetKind, AssistanceRequest, Pledge, Shelter, StandbyAsset
from humanitarian.services import shelters
from tests.crisis.factories import activate, make_protocol, report
from tests.exercises.conftest import SCENARIO
from tests.humanitarian.conftest import make_pledge, make_request
from tests.support.api import body as whole_body

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch", "delete")
# A scenario file the supervisor of A may upload (exercises: tests/exercises/).
EXERCISE_SCENARIO = SCENARIO.replace("Strait ferry drill", "Access review drill")
# The hotline REST API has its own access and bad-input tests (tests/hotline/test_api.py);
# /auth/ acts on the caller's own credentials (log in, rotate, log out, websocket ticket),
# which everyone may do: tests/security/test_tokens.py and test_logins.py cover it; contact
# methods are everyone's own (tests/paging/test_contact_methods.py).
SKIP = ("/api/v1/auth/", "/api/v1/channels", "/api/v1/contact-methods")


SCHEMA = SchemaGenerator().get_schema(request=None, public=True)


def _write_operations() -> list[tuple[str, str]]:
    return sorted(
        (method, path)
        for path, ops in SCHEMA["paths"].items()
        if not path.startswith(SKIP)
        for method in ops
        if method in WRITE_METHODS
    )


OPERATIONS = _write_operations()
# Intake of XML documents (CAP alerts, EDXL-RM messages): the desk is a query parameter and
# a JSON body is refused (415) before anything else; their own tests cover the documents.
XML_INTAKE = ("/api/v1/crises/cap/", "/api/v1/humanitarian/edxl-rm/")
# Actions that take no body (DRF never parses it, so junk there is ignored, not an error).
BODYLESS = {
    "/api/v1/exercises/runs/{id}/pause/",
    "/api/v1/exercises/runs/{id}/resume/",
    "/api/v1/exercises/runs/{id}/end/",
    "/api/v1/crises/{id}/tasks/{task_id}/{verb}/",
    "/api/v1/humanitarian/requests/{id}/open/",
}


@pytest.fixture
def world(region):
    """A crisis in A (B affected, C not), with a request, a pledge, a shelter, an asset."""
    make_protocol()
    crisis = activate(region, report(region))
    req = make_request(region, crisis, sector="sar", item="usar_team", quantity=3)
    pledge = make_pledge(region, req)
    shelter = shelters.register_shelter(
        by=region.operator_a, desk=region.desk_a, crisis=crisis, name="School", capacity=100
    )
    asset = StandbyAsset.objects.create(
        state=region.state_b, desk=region.desk_b, name="B USAR", kind=AssetKind.SAR_TEAM,
        sector="sar", item="usar_team", unit="team", capacity=1, readiness_hours=6,
    )  # fmt: skip
    version = Protocol.objects.get().versions.get()
    feed = CapFeed.objects.create(
        url="https://agency.example/cap.atom", agency="Agency A", state=region.state_a
    )
    return {
        "crisis": crisis,
        "request": req,
        "pledge": pledge,
        "shelter": shelter,
        "asset": asset,
        "version": version,
        "task": CrisisTask.objects.filter(crisis=crisis).first(),
        "cap_alert": crisis.cap_alerts.filter(direction="issued").first(),
        "feed": feed,
    }


def _url(path: str, world) -> str:
    """The schema path with the world's objects filled in."""
    prefix_ids = {
        "/api/v1/crises/": world["crisis"].pk,
        "/api/v1/humanitarian/pledges/": world["pledge"].pk,
        "/api/v1/humanitarian/requests/": world["request"].pk,
        "/api/v1/humanitarian/shelters/": world["shelter"].pk,
        "/api/v1/humanitarian/standby-assets/": world["asset"].pk,
        "/api/v1/cap/alerts/": world["cap_alert"].pk,
        "/api/v1/cap/feeds/": world["feed"].pk,
    }
    pk = next((v for k, v in prefix_ids.items() if path.startswith(k)), 0)
    values = {
        "id": pk,
        "task_id": world["task"].pk,
        "verb": "done",
        "protocol_id": world["version"].protocol_id,
        "number": world["version"].number,
        "kind": "requests",
        "code": "AAA",
        "key": "andaman-tsunami",  # a shipped exercise scenario
    }
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


def _plausible_body(method: str, path: str, world, region) -> dict:
    """A body that would be accepted from the right caller, aimed at the world's objects."""
    soon = (timezone.now() + timedelta(days=1)).isoformat()
    crisis, req = world["crisis"].pk, world["request"].pk
    bodies = {
        "/api/v1/crises/": {"category": "maritime", "title": "x", "severity": 2,
                            "affected_states": ["AAA"]},
        "/api/v1/crises/{id}/participants/": {"desk": "CCC-DESK", "role": "supporting"},
        "/api/v1/crises/{id}/severity/": {"severity": 4},
        "/api/v1/crises/{id}/stop-escalation/": {"reason": "handled"},
        "/api/v1/crises/{id}/transition/": {"to": "de_escalating"},
        "/api/v1/crises/{id}/updates/": {"conditions": "calm"},
        # The review: drafted once the crisis is resolved (the world's is active: 409);
        # the same path edits it (PATCH).
        "/api/v1/crises/{id}/review/": {"went_well": "B answered at once."},
        "/api/v1/crises/{id}/review/publish/": {},
        "/api/v1/humanitarian/displacement/imports/": {"crisis": crisis, "content": "a,b\n1,2\n"},
        "/api/v1/humanitarian/pledges/": {"request": req, "quantity": 1},
        "/api/v1/humanitarian/pledges/{id}/claim/": {"request": req, "quantity": 1},
        "/api/v1/humanitarian/pledges/{id}/deliver/": {"quantity_received": 1},
        "/api/v1/humanitarian/requests/": {"crisis": crisis, "sector": "shelter",
                                           "item": "family_tent", "quantity": 5,
                                           "needed_by": soon, "submit": True},
        "/api/v1/humanitarian/shelters/": {"crisis": crisis, "name": "Gym", "capacity": 10},
        "/api/v1/humanitarian/shelters/{id}/": {"population": 5},
        "/api/v1/humanitarian/standby-assets/{id}/offer/": {"request": req, "quantity": 1},
        "/api/v1/protocols/{protocol_id}/versions/{number}/": {"notes": "x"},
        "/api/v1/exercises/scenarios/": {"source": EXERCISE_SCENARIO},
        "/api/v1/exercises/runs/": {"scenario": "strait-ferry-drill", "speed": 60},
        "/api/v1/exercises/runs/{id}/injects/": {"type": "message", "body": "x"},
        # Multipart with a file in real use; as JSON the item is checked, then 400 (no file).
        "/api/v1/attachments/": {"kind": "humanitarian.request", "object_id": req},
    }  # fmt: skip
    return dict(bodies.get(path, {}))


def _counts() -> tuple:
    return tuple(
        m.objects.count()
        for m in (Crisis, TimelineEntry, AssistanceRequest, Pledge, Shelter, CrisisTask)
    )


def _assert_error_body(response) -> None:
    body = response.json()
    assert set(body) >= {"code", "message", "details"}, body
    assert body["code"] and body["message"], body


def test_the_sweep_covers_the_write_api():
    paths = {p for _, p in OPERATIONS}
    assert "/api/v1/crises/{id}/transition/" in paths
    assert "/api/v1/humanitarian/pledges/{id}/accept/" in paths
    assert len(OPERATIONS) >= 25


@pytest.mark.parametrize("who", ["anonymous", "auditor", "operator_c"])
def test_outsiders_never_write(who, region, world, api_client):
    """Anonymous: 401/403. Auditor: 403 (or 404 for what it cannot reach). The third state:
    404 on everything of the crisis it is not party to (its own new crisis aside)."""
    if who != "anonymous":
        api_client.force_authenticate(getattr(region, who))
    before = _counts()
    for method, path in OPERATIONS:
        body = _plausible_body(method, path, world, region)
        if who == "operator_c" and path == "/api/v1/crises/":
            continue  # C may report a crisis of its own: not a hole.
        response = getattr(api_client, method)(_url(path, world), body, format="json")
        allowed = {
            "anonymous": {401, 403},
            "auditor": {403, 404},
            "operator_c": {404},
        }[who]
        if who == "operator_c" and path.startswith("/api/v1/protocols/"):
            allowed = {403}  # staff-only authoring: not hidden, just refused.
        if who == "operator_c" and path.startswith("/api/v1/exercises/"):
            allowed = {403, 404}  # controllers only: refused (403) or not seen (404).
        if path in XML_INTAKE:
            allowed = allowed | {415}  # a JSON body is refused before anything else.
        assert response.status_code in allowed, (method, path, response.status_code,
                                                 response.content[:300])  # fmt: skip
        _assert_error_body(response)
    assert _counts() == before


JUNK_BODIES = [
    ("raw", b"{not json", "application/json"),
    ("raw", b"[1, 2", "application/json"),
    ("raw", b"NaN", "application/json"),
    ("raw", b"\xff\xfe\x00", "application/json"),
    ("raw", b"plain words", "text/plain"),
    ("raw", b"<x/>", "application/xml"),
    ("json", [], None),
    ("json", "string", None),
    ("json", 12, None),
    ("json", None, None),
]
JUNK_VALUES = [
    10**30, 2**31, -1, 1.5, "NaN", "nope", "", None, [], {}, "x" * 20000, "2026-13-45T99:99",
    "\x00",
]  # fmt: skip


def _send(api_client, method, url, kind, payload, content_type):
    call = getattr(api_client, method)
    if kind == "raw":
        return call(url, data=payload, content_type=content_type)
    return call(url, data=json.dumps(payload), content_type="application/json")


@pytest.mark.parametrize("method,path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_junk_input_gets_a_clear_answer(method, path, region, world, api_client):
    """As the crisis's own lead desk (the caller that gets furthest): malformed bodies and
    every field set to nonsense are 4xx with a reason, never a 500."""
    url = _url(path, world)
    user = region.coordinator if path.startswith("/api/v1/protocols/") else region.supervisor_a
    if path.startswith("/api/v1/humanitarian/standby-assets/"):
        user = region.operator_b  # the asset is B's
    api_client.force_authenticate(user)
    for kind, payload, content_type in [] if path in BODYLESS else JUNK_BODIES:
        response = _send(api_client, method, url, kind, payload, content_type)
        assert 400 <= response.status_code < 500, (kind, payload, response.status_code,
                                                   response.content[:300])  # fmt: skip
        _assert_error_body(response)
    base = _plausible_body(method, path, world, region)
    fields = set(base) | {"desk", "quantity", "crisis", "request", "severity", "reason"}
    for field in sorted(fields):
        for value in JUNK_VALUES:
            body = {**base, field: value}
            response = _send(api_client, method, url, "json", body, None)
            assert response.status_code < 500, (field, repr(value)[:40], response.content[:300])
            if response.status_code >= 400:
                _assert_error_body(response)


@pytest.mark.parametrize("method,path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_acting_for_another_desk(method, path, region, world, api_client):
    """Naming a desk one is not on (B's, as A's supervisor) never acts for it."""
    if path.startswith(("/api/v1/protocols/", *XML_INTAKE)) or path in BODYLESS:
        return
    api_client.force_authenticate(region.supervisor_a)
    field = "acting_desk" if path.endswith("/participants/") else "desk"
    body = {**_plausible_body(method, path, world, region), field: "BBB-DESK"}
    before = _counts()
    response = getattr(api_client, method)(_url(path, world), body, format="json")
    if response.status_code < 400:
        # Only where the body has no desk at all (the action is on the object itself).
        assert field not in _schema_fields(method, path), (method, path, response.content[:300])
        return
    assert response.status_code in {400, 403, 404, 409}, response.content[:300]
    _assert_error_body(response)
    assert _counts() == before


def _schema_fields(method: str, path: str) -> set[str]:
    op = SCHEMA["paths"][path][method]
    ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if not ref or "$ref" not in ref:
        return set()
    name = ref["$ref"].rsplit("/", 1)[-1]
    return set(SCHEMA["components"]["schemas"][name].get("properties", {}))


READ_OPERATIONS = sorted(
    path for path, ops in SCHEMA["paths"].items() if not path.startswith(SKIP) and "get" in ops
)
JUNK_QUERY = ["99999999999999999999", "-1", "NaN", "x", "\x00", "2026-13-45", "'; --"]


def test_junk_query_parameters_get_a_clear_answer(region, world, api_client):
    """Every filter of every read, set to nonsense: 2xx or a 4xx with a reason, never 500."""
    api_client.force_authenticate(region.supervisor_a)
    for path in READ_OPERATIONS:
        url = _url(path, world).replace("{kind}", "requests")
        params = {p["name"] for p in SCHEMA["paths"][path]["get"].get("parameters", [])
                  if p["in"] == "query"} | {"crisis", "cursor", "page", "page_size"}  # fmt: skip
        for name in sorted(params):
            for value in JUNK_QUERY:
                response = api_client.get(url, {name: value})
                assert response.status_code < 500, (path, name, value, response.content[:300])
                if response.status_code >= 400:
                    _assert_error_body(response)


def test_third_state_reads_nothing_of_a_crisis_it_is_not_party_to(region, world, api_client):
    """Every read of the crisis's own records, by id, as state C: 404, never data."""
    api_client.force_authenticate(region.operator_c)
    shared = ("/api/v1/desks/", "/api/v1/states/", "/api/v1/protocols/", "/api/v1/humanitarian/st")
    for path in READ_OPERATIONS:
        if "{id}" not in path or path.startswith(shared):
            continue
        response = api_client.get(_url(path, world))
        assert response.status_code == 404, (path, response.status_code, response.content[:200])
        _assert_error_body(response)
    crisis = world["crisis"].pk
    for path in ("/api/v1/humanitarian/gaps/", "/api/v1/humanitarian/gaps/summary/"):
        assert api_client.get(path, {"crisis": crisis}).status_code == 404, path
    for kind in ("requests", "pledges", "deliveries", "shelters", "displacement"):
        response = api_client.get(f"/api/v1/humanitarian/exports/{kind}.csv", {"crisis": crisis})
        assert response.status_code in {200, 404}, kind
        if response.status_code == 200:
            rows = whole_body(response).decode().strip().splitlines()
            assert len(rows) == 2, (kind, rows)  # the header rows only


LADDER_JUNK = [10**30, -1, "NaN", "x", None, [], {}, "\x00", 1.5, True]


def test_draft_ladder_junk_gets_a_clear_answer(region, world, api_client):
    """PATCH a draft's ladder and checklist with nonsense in every key: 400, not 500."""
    from crisis.models import ProtocolVersion, VersionStatus

    draft = ProtocolVersion.objects.create(
        protocol=world["version"].protocol, number=2, status=VersionStatus.DRAFT
    )
    from django.contrib.auth import get_user_model

    author = get_user_model().objects.create_superuser("author", "a@example.org", "x")
    api_client.force_authenticate(author)
    url = f"/api/v1/protocols/{draft.protocol_id}/versions/2/"
    level = {"order": 1, "name": "L1", "timeout_seconds": 60, "notify_scopes": ["affected"],
             "notify_roles": ["operator"]}  # fmt: skip
    item = {"order": 1, "party_role": "all", "title": "Confirm", "due_after_minutes": 30}
    ok = api_client.patch(url, {"levels": [level]}, format="json")
    assert ok.status_code == 200, ok.content
    for key in ["name", "timeout_seconds", "timeout_minutes", "notify_scopes", "notify_roles",
                "notify_desks", "order"]:  # fmt: skip
        for value in LADDER_JUNK:
            body = {"levels": [{**level, key: value}]}
            response = api_client.patch(url, body, format="json")
            assert response.status_code in {200, 400}, (key, value, response.content[:300])
    for key in ["party_role", "title", "due_after_minutes", "order", "description"]:
        for value in LADDER_JUNK:
            response = api_client.patch(url, {"checklist": [{**item, key: value}]}, format="json")
            assert response.status_code in {200, 400}, (key, value, response.content[:300])
    for body in [{"levels": "x"}, {"levels": [1]}, {"checklist": [None]}, {"max_repeats": 10**30}]:
        response = api_client.patch(url, body, format="json")
        assert response.status_code == 400, (body, response.content[:300])


def test_token_endpoint_junk_gets_a_clear_answer(region, api_client):
    for body in [{"username": "\x00", "password": "x"}, {"username": ["a"]}, {}, [],
                 {"username": "x" * 20000, "password": None}]:  # fmt: skip
        response = api_client.post("/api/v1/auth/token/", body, format="json")
        assert 400 <= response.status_code < 500, (body, response.content[:200])
        _assert_error_body(response)
    client = Client()
    response = client.post("/login/", {"username": "op\x00a", "password": "x"})
    assert response.status_code == 400  # refused before it reaches the database


def test_huge_ids_in_paths_are_404(region, world, api_client):
    api_client.force_authenticate(region.supervisor_a)
    huge = "99999999999999999999"
    for path in READ_OPERATIONS:
        if "{id}" not in path and "{protocol_id}" not in path:
            continue
        # The first id in the path, before a "/" or a suffix (``/cap/alerts/{id}.xml``).
        url = re.sub(r"/\d+([/.])", rf"/{huge}\1", _url(path, world), count=1)
        response = api_client.get(url)
        assert response.status_code == 404, (url, response.status_code, response.content[:200])
    for method, path in OPERATIONS:
        if "{id}" in path:
            url = re.sub(r"/\d+/", f"/{huge}/", _url(path, world), count=1)
            response = getattr(api_client, method)(url, {}, format="json")
            assert response.status_code in {400, 404}, (url, response.content[:200])
