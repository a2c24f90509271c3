"""Schemathesis over the whole OpenAPI schema, as an operator, an auditor and a coordinator
(finding 15): no operation answers 5xx, and every answer conforms to the schema the API
publishes (status code, content type, body, headers), so a client generated from
``/api/schema/`` can read every response, errors included.

The schema is loaded from the app itself (``/api/schema/`` through ``config.wsgi``) and
every request goes through the real Django stack to PostgreSQL, over the demo data
(``seed_demo``). Path parameters point at the demo's objects (its crisis, a line of the
Thai desk, a pledge …) so detail and action endpoints get past their 404; bodies, query
strings and headers are generated, valid (positive) and invalid (negative), and the main
writes are also sent once with a body that succeeds, so success bodies are checked too.
Every call runs in a savepoint that is rolled back: each starts from the seeded state, and
the test asserts on answers, never on the rows a write left.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from knox.models import AuthToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup, ServerError
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
ROLES = {"operator": "tha-operator", "auditor": "auditor", "coordinator": "coordinator"}
# Generated examples per operation and generation mode; each is sent once per role.
MAX_EXAMPLES = 6

SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@contextlib.contextmanager
def _keep_test_connection():
    """Django closes the connection after each request; the test's transaction lives on
    it, so (as Django's test client does) keep it open while the app is driven."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _demo_objects() -> dict:
    """The seeded objects the path parameters and the plausible bodies aim at."""
    from attachments.models import Attachment
    from crisis.demo_crises import TITLE
    from crisis.models import Crisis, Notification, ProtocolVersion
    from directory.models import Desk
    from feeds.models import CapFeed
    from hotline.models import HotlineChannel, LineCheck, Message
    from humanitarian import models as hum
    from paging.models import ContactMethod, Page
    from rosters.models import Roster

    def first(queryset) -> int:
        row = queryset.order_by("id").first()
        return row.pk if row is not None else 1

    crisis = Crisis.objects.get(title=TITLE)
    line = HotlineChannel.objects.filter(members__desk__code="THA-DDPM", kind="bilateral").order_by(
        "id"
    )[0]
    version = ProtocolVersion.objects.filter(status="published").order_by("id")[0]
    peer = Desk.objects.get(code="KHM-NCDM")
    thai_task = crisis.tasks.filter(desk__code="THA-DDPM").order_by("id").first()
    return {
        "crisis": crisis.pk,
        "request": first(hum.AssistanceRequest.objects.filter(crisis=crisis)),
        "ids": {  # path prefix -> the {id} under it
            "/api/v1/crises/": crisis.pk,
            "/api/v1/channels/": line.pk,
            "/api/v1/desks/": peer.pk,
            "/api/v1/protocols/": version.protocol_id,
            "/api/v1/humanitarian/requests/": first(hum.AssistanceRequest.objects),
            "/api/v1/humanitarian/pledges/": first(hum.Pledge.objects),
            "/api/v1/humanitarian/deliveries/": first(
                hum.Pledge.objects.filter(status__in=["dispatched", "delivered"])
            ),
            "/api/v1/humanitarian/standby-assets/": first(hum.StandbyAsset.objects),
            "/api/v1/humanitarian/shelters/": first(hum.Shelter.objects),
            "/api/v1/humanitarian/displacement/imports/": first(hum.ImportJob.objects),
            "/api/v1/humanitarian/displacement/": first(hum.DisplacementReport.objects),
            "/api/v1/humanitarian/sitreps/": first(hum.SituationReport.objects),
            "/api/v1/contact-methods/": first(
                ContactMethod.objects.filter(user__username="tha-operator")
            ),
            "/api/v1/rosters/": first(Roster.objects.filter(desk__code="THA-DDPM")),
            "/api/v1/pages/": first(Page.objects),
            "/api/v1/notifications/": first(Notification.objects.filter(desk__code="THA-DDPM")),
            "/api/v1/cap/alerts/": first(crisis.cap_alerts.filter(direction="issued")),
            "/api/v1/cap/feeds/": first(CapFeed.objects),
            "/api/v1/attachments/": first(Attachment.objects),
            "/api/v1/exercises/runs/": _exercise_run(),
        },
        "params": {
            "task_id": thai_task.pk if thai_task else 1,
            "verb": "done",
            "seq": Message.objects.filter(channel=line).order_by("seq")[0].seq,
            "desk_id": peer.pk,
            "protocol_id": version.protocol_id,
            "number": version.number,
            "code": "THA",
            "key": "andaman-tsunami",
            "check_id": first(LineCheck.objects.filter(channel=line)),
        },
    }


def _exercise_run() -> int:
    """A run of the tsunami demo scenario, started by the coordinator (its detail, pause,
    resume, end and add-inject operations act on it)."""
    from exercises.services import start_run

    coordinator = get_user_model().objects.get(username="coordinator")
    return start_run(by=coordinator, scenario_key="andaman-tsunami", speed=1).pk


def _path_parameters(operation, demo) -> dict:
    values = {}
    for parameter in operation.path_parameters:
        if parameter.name == "id":
            # An endpoint under a prefix not listed here gets id 1 (a 404 must conform too).
            prefix = max((p for p in demo["ids"] if operation.path.startswith(p)), key=len,
                         default=None)  # fmt: skip
            values["id"] = demo["ids"][prefix] if prefix else 1
        elif parameter.name in demo["params"]:
            values[parameter.name] = demo["params"][parameter.name]
    return values


def _plausible_bodies(demo) -> dict[str, dict]:
    """Bodies the right caller's write succeeds with, by ``METHOD path``."""
    soon = (timezone.now() + timedelta(days=2)).isoformat()
    crisis, request = demo["crisis"], demo["request"]
    return {
        "POST /api/v1/crises/": {
            "category": "maritime", "title": "Tanker aground", "severity": 2,
            "affected_states": ["THA"],
        },
        "POST /api/v1/crises/{id}/updates/": {"conditions": "Calm sea."},
        "POST /api/v1/crises/{id}/severity/": {"severity": 4, "reason": "Slick grows."},
        "POST /api/v1/crises/{id}/acknowledge/": {},
        "POST /api/v1/crises/{id}/progress/": {"note": "Booms deployed."},
        "POST /api/v1/crises/{id}/participants/": {"desk": "SGP-SCDF", "role": "supporting"},
        "POST /api/v1/crises/{id}/transition/": {"to": "de_escalating"},
        # The demo crisis is open: drafting its review is refused (409), and with no review
        # there is nothing to edit (409); both answers must conform.
        "POST /api/v1/crises/{id}/review/": {},
        "PATCH /api/v1/crises/{id}/review/": {"went_well": "Quick acknowledgement."},
        "POST /api/v1/channels/{id}/messages/": {
            "body": "Road reopened.", "client_msg_id": str(uuid.uuid4()), "priority": "routine",
        },
        "POST /api/v1/channels/{id}/messages/{seq}/read/": {},
        "POST /api/v1/channels/{id}/messages/{seq}/ack/": {},
        "POST /api/v1/channels/{id}/delivered/": {"up_to_seq": 1},
        "POST /api/v1/humanitarian/requests/": {
            "crisis": crisis, "sector": "shelter", "item": "family_tent", "quantity": 5,
            "needed_by": soon, "submit": True,
        },
        "POST /api/v1/humanitarian/pledges/": {"request": request, "quantity": 1},
        "POST /api/v1/humanitarian/shelters/": {"crisis": crisis, "name": "Gym", "capacity": 10},
        "PATCH /api/v1/humanitarian/shelters/{id}/": {"population": 5},
        "PATCH /api/v1/protocols/{protocol_id}/versions/{number}/": {"notes": "Reviewed."},
        "POST /api/v1/exercises/runs/": {"scenario": "andaman-tsunami", "speed": 60},
        "POST /api/v1/exercises/runs/{id}/injects/": {"type": "message", "body": "Drill."},
    }  # fmt: skip


class Run:
    """Sends cases as each role, each in a rolled-back savepoint, and keeps the score."""

    def __init__(self, headers: dict[str, dict]):
        self.headers = headers
        self.examples = 0
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.server_errors: list[str] = []
        self.failures: dict[str, set[str]] = defaultdict(set)

    def send(self, case) -> None:
        self.examples += 1
        for role, headers in self.headers.items():
            savepoint = transaction.savepoint()
            try:
                response = case.call_and_validate(headers=headers, checks=CHECKS)
                self.statuses[(case.operation.label, response.status_code)] += 1
            except (FailureGroup, Failure) as exc:
                found = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
                where = f"{case.operation.label} as {role}"
                if any(isinstance(failure, ServerError) for failure in found):
                    self.server_errors.append(where)
                self.failures[where] |= {f"{f.title}: {f.message}"[:1500] for f in found}
            finally:
                transaction.savepoint_rollback(savepoint)

    def generated(self, operation, path_parameters: dict) -> None:
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path_parameters),
            operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=path_parameters),
        )

        @given(case=strategy)
        @settings(
            max_examples=2 * MAX_EXAMPLES,
            derandomize=True,  # the same examples on every run
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # failures are collected, not shrunk
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            self.send(case)

        run()


def test_every_operation_conforms_to_the_schema_for_every_role(db):
    with open("/dev/null", "w") as quiet:
        call_command("seed_demo", stdout=quiet)
    users = get_user_model().objects
    headers = {}
    for role, username in ROLES.items():
        _row, key = AuthToken.objects.create(user=users.get(username=username))
        headers[role] = {"Authorization": f"Token {key}"}
    demo = _demo_objects()
    bodies = _plausible_bodies(demo)
    operations = [result.ok() for result in SCHEMA.get_all_operations()]
    run = Run(headers)
    started = time.monotonic()

    with _keep_test_connection():
        for operation in operations:
            path_parameters = _path_parameters(operation, demo)
            if operation.label in bodies:
                run.send(
                    operation.Case(
                        path_parameters=path_parameters,
                        body=bodies[operation.label],
                        media_type="application/json",
                    )
                )
            run.generated(operation, path_parameters)

    answered = {label for label, code in run.statuses if 200 <= code < 300}
    print(
        f"\nschemathesis: {len(operations)} operations ({len(answered)} answered 2xx), "
        f"{run.examples} examples, {run.examples * len(ROLES)} calls in "
        f"{time.monotonic() - started:.0f} s; server errors: {len(run.server_errors)}; "
        f"non-conforming operation/role pairs: {len(run.failures)}"
    )
    report = "\n\n".join(
        f"== {where}\n" + "\n".join(sorted(texts)[:3])
        for where, texts in sorted(run.failures.items())
    )
    assert not run.server_errors, run.server_errors
    assert not run.failures, f"{len(run.failures)} operation/role pairs do not conform:\n{report}"
    # The sweep reached the operations' success answers, not only their 4xx.
    assert len(answered) >= 0.6 * len(operations), sorted(answered)
