"""Small factories for the directory, as fixtures and plain functions."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from directory.models import Desk, DeskKind, DeskMembership, MemberState, Role

_seq = itertools.count(1)

__all__ = [
    "api_client",
    "make_desk",
    "make_person",
    "make_state",
    "region",
]


def make_state(code: str, name: str | None = None) -> MemberState:
    state, _ = MemberState.objects.get_or_create(
        code=code, defaults={"name": name or f"State {code}"}
    )
    return state


def make_desk(
    state: MemberState | None, *, code: str | None = None, time_zone: str = "UTC"
) -> Desk:
    n = next(_seq)
    return Desk.objects.create(
        code=code or f"{state.code if state else 'RCC'}-{n}",
        name=f"Desk {n}",
        kind=DeskKind.NATIONAL if state else DeskKind.REGIONAL,
        state=state,
        time_zone=time_zone,
    )


def make_person(
    desk: Desk | None, role: str = Role.OPERATOR, *, username: str | None = None, **extra
):
    user = get_user_model().objects.create_user(
        username=username or f"user{next(_seq)}", password="pw-for-tests", **extra
    )
    if desk is not None:
        DeskMembership.objects.create(user=user, desk=desk, role=role)
    return user


class Region:
    """Three states (A, B, C) with one desk each, and the regional centre."""

    def __init__(self):
        self.state_a = make_state("AAA", "State A")
        self.state_b = make_state("BBB", "State B")
        self.state_c = make_state("CCC", "State C")
        self.desk_a = make_desk(self.state_a, code="AAA-DESK", time_zone="Asia/Bangkok")
        self.desk_b = make_desk(self.state_b, code="BBB-DESK", time_zone="Asia/Manila")
        self.desk_c = make_desk(self.state_c, code="CCC-DESK", time_zone="Asia/Jakarta")
        self.centre = make_desk(None, code="RCC", time_zone="Asia/Jakarta")
        self.operator_a = make_person(self.desk_a, Role.OPERATOR, username="op-a")
        self.supervisor_a = make_person(self.desk_a, Role.SUPERVISOR, username="sup-a")
        self.operator_b = make_person(self.desk_b, Role.OPERATOR, username="op-b")
        self.supervisor_b = make_person(self.desk_b, Role.SUPERVISOR, username="sup-b")
        self.operator_c = make_person(self.desk_c, Role.OPERATOR, username="op-c")
        self.coordinator = make_person(self.centre, Role.COORDINATOR, username="coord")
        self.auditor = make_person(self.centre, Role.AUDITOR, username="audit")


@pytest.fixture
def region(db) -> Region:
    return Region()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()
