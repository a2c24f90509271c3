"""Seed the chaos suite's private database (run as a subprocess, ``DATABASE_URL`` set):
three states and the regional centre, a person per desk with an API token, a published
protocol whose ladder fires every 2 s, and one crisis room per fault. Prints JSON."""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

#: Each level gives the desks this long; the top level repeats, so an active crisis
#: has a deadline due every LEVEL_SECONDS until stopped (or MAX_REPEATS rounds).
LEVEL_SECONDS = 2
MAX_REPEATS = 30


def main(faults: list[str]) -> dict:
    import django

    django.setup()
    from django.db import transaction
    from knox.models import AuthToken

    from bench.crises import publish_in_place
    from crisis.models import EscalationLevel, Protocol, ProtocolVersion
    from directory.models import Role
    from hotline.services.channels import open_crisis_room
    from tests.factories import make_desk, make_person, make_state

    with transaction.atomic():
        states = {code: make_state(code, f"State {code}") for code in ("AAA", "BBB", "CCC")}
        desks = {code: make_desk(state, code=f"{code}-DESK") for code, state in states.items()}
        desks["RCC"] = make_desk(None, code="RCC")
        people = {
            "op-a": make_person(desks["AAA"], Role.OPERATOR, username="op-a"),
            "sup-a": make_person(desks["AAA"], Role.SUPERVISOR, username="sup-a"),
            "op-b": make_person(desks["BBB"], Role.OPERATOR, username="op-b"),
            "op-c": make_person(desks["CCC"], Role.OPERATOR, username="op-c"),
            "coord": make_person(desks["RCC"], Role.COORDINATOR, username="coord"),
        }
        protocol = Protocol.objects.create(name="Chaos ladder", category="other")
        version = ProtocolVersion.objects.create(
            protocol=protocol, number=1, repeat_last_level=True, max_repeats=MAX_REPEATS
        )
        for order in (1, 2):
            EscalationLevel.objects.create(
                version=version,
                order=order,
                name=f"Level {order}",
                timeout_seconds=LEVEL_SECONDS,
                notify_scopes=["affected"],
            )
        publish_in_place(version)
        rooms = {
            fault: open_crisis_room(
                by=people["coord"],
                name=f"Chaos room: {fault}",
                desk_ids=[desks["AAA"].pk, desks["BBB"].pk, desks["CCC"].pk],
            ).pk
            for fault in faults
        }
        return {
            "tokens": {
                name: AuthToken.objects.create(user=user)[1] for name, user in people.items()
            },
            "desks": {code: desk.pk for code, desk in desks.items()},
            "rooms": rooms,
            "level_seconds": LEVEL_SECONDS,
        }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
