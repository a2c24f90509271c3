"""Two-step login (TOTP plus one-use recovery codes): required for staff and
coordinators when MFA_REQUIRED (the default), on the console, the admin and the token
endpoint; optional for everyone else."""

import re
import time

import pytest
from django.urls import reverse

from directory.models import Role
from tests.factories import make_desk, make_person

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests"
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _mfa_on(settings):
    settings.MFA_REQUIRED = True
    settings.AXES_FAILURE_LIMIT = 5


@pytest.fixture
def coordinator(db):
    return make_person(make_desk(None, code="RCC"), Role.COORDINATOR, username="coord")


@pytest.fixture
def operator(db):
    return make_person(None, username="operator")


def app_code(user) -> str:
    """A code the person's app shows now or next (a code already used is refused)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if totp.t() <= device.last_t:  # this step's code was used: the app's next one
        totp.time += device.step
    return f"{totp.token():0{device.digits}d}"


def unthrottle(user) -> None:
    """django-otp slows a device down after a wrong code; let the next one through."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(throttling_failure_count=0)


def set_up_app(user) -> list[str]:
    """Give ``user`` a confirmed app; returns their recovery codes."""
    from core import mfa

    mfa.start_setup(user)
    _, codes = mfa.finish_setup(user, app_code(user))
    return codes


def password_step(client, user, next_url=""):
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("console:login"), data)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- the console ----------------------------------------------------------------------------
def test_a_coordinator_must_set_up_the_app_before_getting_in(client, coordinator):
    response = password_step(client, coordinator)
    assert response.status_code == 302 and response.url == reverse("console:login-set-up")
    assert not logged_in(client)  # the password alone is not a log-in
    assert client.get(reverse("console:dashboard")).status_code == 302

    page = client.get(reverse("console:login-set-up"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "otpauth://totp/Crisis%20hotline%3Acoord?secret=" in html
    assert re.search(r"data-secret>([A-Z2-7]{4} ?)+<", html)

    wrong = client.post(reverse("console:login-set-up"), {"code": "000000"})
    assert wrong.status_code == 400 and b"That code is not right" in wrong.content
    assert not logged_in(client)

    done = client.post(reverse("console:login-set-up"), {"code": app_code(coordinator)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert b"only time they are shown" in done.content
    assert logged_in(client)
    assert client.get(reverse("console:dashboard")).status_code == 200


def test_the_code_step_lets_in_with_the_app_and_counts_wrong_codes(client, coordinator):
    from axes.models import AccessAttempt

    set_up_app(coordinator)
    response = password_step(client, coordinator, next_url="/admin/")
    assert response.url == reverse("console:login-code")
    assert not logged_in(client)

    wrong = client.post(reverse("console:login-code"), {"code": "123456"})
    assert wrong.status_code == 400 and b"That code is not right" in wrong.content
    assert AccessAttempt.objects.get(username="coord").failures_since_start == 1

    unthrottle(coordinator)
    right = client.post(reverse("console:login-code"), {"code": app_code(coordinator)})
    assert right.status_code == 302 and right.url == "/admin/"
    assert logged_in(client)
    assert not AccessAttempt.objects.filter(username="coord").exists()  # cleared on success


def test_wrong_codes_lock_the_account_out(client, coordinator):
    set_up_app(coordinator)
    password_step(client, coordinator)
    for _ in range(4):
        assert client.post(reverse("console:login-code"), {"code": "111111"}).status_code == 400
    locked = client.post(reverse("console:login-code"), {"code": "111111"})
    assert locked.status_code == 429 and b"Too many failed log-in attempts" in locked.content
    # Starting again with the right password does not help.
    assert password_step(client, coordinator).status_code == 429
    assert not logged_in(client)


def test_a_recovery_code_works_once(client, coordinator):
    codes = set_up_app(coordinator)
    password_step(client, coordinator)
    response = client.post(reverse("console:login-code"), {"code": codes[0].upper()})
    assert response.status_code == 302 and logged_in(client)
    client.post(reverse("console:logout"))

    password_step(client, coordinator)
    again = client.post(reverse("console:login-code"), {"code": codes[0]})
    assert again.status_code == 400 and not logged_in(client)


def test_a_session_without_the_code_is_ended(client, coordinator):
    # A session made without the code step (from before it was required, say) ends.
    client.force_login(coordinator)
    response = client.get(reverse("console:dashboard"))
    assert response.status_code == 302 and response.url.startswith(reverse("console:login"))
    assert not logged_in(client)


def test_the_admin_requires_the_code(client):
    staff = make_person(None, username="admin1", is_staff=True, is_superuser=True)
    client.force_login(staff)  # password only
    assert client.get("/admin/").status_code == 302
    assert not logged_in(client)

    set_up_app(staff)
    password_step(client, staff, next_url="/admin/")
    response = client.post(reverse("console:login-code"), {"code": app_code(staff)})
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_others_may_log_in_with_a_password_and_may_set_up_the_app(client, operator):
    response = password_step(client, operator)
    assert response.status_code == 302 and response.url == reverse("console:dashboard")
    assert logged_in(client)

    page = client.get(reverse("console:two-step"))
    assert page.status_code == 200 and b"otpauth://totp/" in page.content
    done = client.post(reverse("console:two-step"), {"code": app_code(operator)})
    assert done.status_code == 200 and b"data-recovery-codes" in done.content
    assert client.get(reverse("console:two-step")).content.count(b"10 unused recovery codes")
    client.post(reverse("console:logout"))

    # From now on the code is asked for.
    assert password_step(client, operator).url == reverse("console:login-code")
    assert not logged_in(client)


def test_new_recovery_codes_replace_the_old_ones(client, coordinator):
    old = set_up_app(coordinator)
    password_step(client, coordinator)
    client.post(reverse("console:login-code"), {"code": old[0]})
    refused = client.post(reverse("console:two-step"), {"code": "999999"})
    assert refused.status_code == 401 and b"That code is not right" in refused.content

    unthrottle(coordinator)
    page = client.post(reverse("console:two-step"), {"code": app_code(coordinator)})
    new = re.findall(r"<li><code>([a-z2-7]+)</code></li>", page.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    client.post(reverse("console:logout"))
    password_step(client, coordinator)
    assert client.post(reverse("console:login-code"), {"code": old[1]}).status_code == 400


def test_the_code_step_times_out(client, coordinator, settings):
    set_up_app(coordinator)
    settings.MFA_PENDING_SECONDS = -1
    password_step(client, coordinator)
    response = client.post(reverse("console:login-code"), {"code": app_code(coordinator)})
    assert response.status_code == 302 and response.url == reverse("console:login")
    assert not logged_in(client)


def test_with_mfa_not_required_a_coordinator_logs_in_with_a_password(client, settings, coordinator):
    settings.MFA_REQUIRED = False
    response = password_step(client, coordinator)
    assert response.url == reverse("console:dashboard") and logged_in(client)


# --- the token endpoint ------------------------------------------------------------------------
def token(client, user, password=PASSWORD, **extra):
    body = {"username": user.username, "password": password, **extra}
    return client.post(TOKEN_URL, body, content_type="application/json")


def test_the_token_endpoint_asks_coordinators_for_the_code(client, coordinator):
    response = token(client, coordinator)
    assert response.status_code == 403 and response.json()["code"] == "mfa_setup_required"
    assert "set it up in the console" in response.json()["message"]

    codes = set_up_app(coordinator)
    response = token(client, coordinator)
    assert response.status_code == 401 and response.json()["code"] == "otp_required"
    response = token(client, coordinator, otp="000000")
    assert response.status_code == 401 and response.json()["code"] == "invalid_otp"
    response = token(client, coordinator, otp=codes[3])
    assert response.status_code == 200 and response.json()["token"]
    # A wrong password is still just a wrong password (nothing about codes).
    assert token(client, coordinator, "nope", otp=codes[4]).json()["code"] == (
        "invalid_credentials"
    )


def test_wrong_codes_on_the_token_endpoint_lock_out(client, coordinator):
    set_up_app(coordinator)
    for _ in range(4):
        assert token(client, coordinator, otp="000000").status_code == 401
    response = token(client, coordinator, otp="000000")
    assert response.status_code == 429 and response.json()["code"] == "locked_out"


def test_the_token_endpoint_needs_no_code_from_others(client, operator):
    response = token(client, operator)
    assert response.status_code == 200 and response.json()["token"]
