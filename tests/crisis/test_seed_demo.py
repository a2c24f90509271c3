import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from directory.models import Desk, DeskMembership, MemberState

pytestmark = pytest.mark.django_db

ASEAN = {"BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM"}


def snapshot():
    User = get_user_model()
    return (
        sorted(MemberState.objects.values_list("code", "name")),
        sorted(Desk.objects.values_list("id", "code", "name", "kind", "state__code", "time_zone")),
        sorted(DeskMembership.objects.values_list("user__username", "desk__code", "role")),
        sorted(User.objects.values_list("id", "username", "password", "is_staff")),
    )


def test_seed_demo_twice_gives_the_same_rows(capsys):
    call_command("seed_demo")
    first = snapshot()
    out = capsys.readouterr().out
    call_command("seed_demo")
    assert snapshot() == first

    states, desks, _memberships, users = first
    assert {code for code, _ in states} == ASEAN
    assert sum(1 for d in desks if d[3] == "regional") == 1
    assert {d[5] for d in desks} >= {"Asia/Bangkok", "Asia/Manila", "Asia/Jakarta", "Asia/Yangon"}
    usernames = {u[1] for u in users}
    assert {f"{c.lower()}-operator" for c in ASEAN} <= usernames
    assert {"coordinator", "auditor"} <= usernames
    assert "tha-operator" in out and "coordinator" in out


def test_demo_logins_use_demo_password(settings):
    settings.DEMO_PASSWORD = "s3cret-demo"
    call_command("seed_demo")
    for username in ("tha-operator", "auditor"):
        # A password log-in goes through the lockout backend, which needs the request.
        request = RequestFactory().post("/login/")
        assert authenticate(request, username=username, password="s3cret-demo") is not None
