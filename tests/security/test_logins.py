"""Password guessing is limited on every way in, and a forged X-Forwarded-For changes
nothing: failures are counted per account and per address in the database (django-axes),
and the address is the peer's unless the peer is one of TRUSTED_PROXIES."""

import pytest
from django.test import RequestFactory, override_settings
from django.urls import reverse

from tests.factories import make_person

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
PASSWORD = "pw-for-tests"
LIMIT = 5


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.TRUSTED_PROXIES = []
    settings.MFA_REQUIRED = False  # this file is about guessing passwords; MFA: test_mfa.py


def token_attempt(client, username, password, *, remote="198.51.100.10", forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, content_type="application/json",
        **headers,
    )  # fmt: skip


def booked_addresses() -> set[str]:
    """The addresses failures were counted against."""
    from axes.models import AccessAttempt  # (imported here: the module runs on main too)

    return set(AccessAttempt.objects.values_list("ip_address", flat=True))


def failures_until_locked(attempt) -> int:
    """How many wrong passwords are answered as wrong before the answer is 'locked out'."""
    for n in range(1, 50):
        response = attempt(n)
        if response.status_code == 429:
            return n - 1
        assert response.status_code == 401, response.content
    raise AssertionError("never locked out")


# --- the token endpoint ----------------------------------------------------------------------
def test_token_endpoint_locks_the_account_and_says_why(client):
    make_person(None, username="victim")
    answered_wrong = failures_until_locked(lambda n: token_attempt(client, "victim", "guess"))
    assert answered_wrong == LIMIT - 1

    # Locked: even the right password is refused, in the project's error shape.
    response = token_attempt(client, "victim", PASSWORD)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "locked_out"
    assert "Try again in 15 minutes" in body["message"]
    assert body["details"] == {"retry_after_seconds": 900}
    assert response["Retry-After"] == "900"


def test_rotating_a_forged_forwarded_for_gets_no_more_guesses(client):
    make_person(None, username="victim")
    answered_wrong = failures_until_locked(
        lambda n: token_attempt(client, "victim", "guess", forwarded=f"203.0.113.{n}")
    )
    assert answered_wrong == LIMIT - 1
    # A fresh forged address does not reset the lock either.
    response = token_attempt(client, "victim", PASSWORD, forwarded="192.0.2.99")
    assert response.status_code == 429
    # Every failure was booked on the address that really connected.
    assert booked_addresses() == {"198.51.100.10"}


def test_one_address_guessing_many_accounts_is_locked_out(client):
    people = [make_person(None, username=f"person{i}") for i in range(LIMIT + 1)]
    answered_wrong = failures_until_locked(
        lambda n: token_attempt(client, people[n - 1].username, "guess", forwarded=f"203.0.113.{n}")
    )
    assert answered_wrong == LIMIT - 1
    # The address is locked even for an account it never tried, with the right password …
    assert token_attempt(client, people[-1].username, PASSWORD).status_code == 429
    # … while that person, from their own address, still gets in.
    response = token_attempt(client, people[-1].username, PASSWORD, remote="198.51.100.77")
    assert response.status_code == 200, response.content


def test_a_complete_login_clears_the_account_but_not_the_address(client):
    make_person(None, username="typo")
    for _ in range(LIMIT - 2):
        assert token_attempt(client, "typo", "oops").status_code == 401
    assert token_attempt(client, "typo", PASSWORD).status_code == 200
    # The account's count starts again …
    for _ in range(LIMIT - 2):
        assert token_attempt(client, "typo", "oops", remote="198.51.100.20").status_code == 401
    # … but the first address keeps its failures: two more there lock it.
    assert token_attempt(client, "typo", "oops").status_code == 401
    assert token_attempt(client, "typo", "oops").status_code == 429


# --- behind a trusted proxy --------------------------------------------------------------------
def test_behind_a_trusted_proxy_each_client_is_counted_on_its_own(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    make_person(None, username="victim")
    make_person(None, username="colleague")
    # The attacker prepends forged addresses; the proxy appends the real one (203.0.113.5).
    answered_wrong = failures_until_locked(
        lambda n: token_attempt(
            client,
            f"nobody{n}",
            "guess",
            remote="10.0.0.2",
            forwarded=f"192.0.2.{n}, 203.0.113.5",
        )
    )
    assert answered_wrong == LIMIT - 1
    assert booked_addresses() == {"203.0.113.5"}
    # Another client behind the same proxy is not caught by that lock.
    response = token_attempt(
        client, "colleague", PASSWORD, remote="10.0.0.2", forwarded="203.0.113.6"
    )
    assert response.status_code == 200, response.content


def test_client_address_rules():
    from core.logins import client_ip

    factory = RequestFactory()

    def ip(remote, forwarded=None, trusted=()):
        meta = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            meta["HTTP_X_FORWARDED_FOR"] = forwarded
        with override_settings(TRUSTED_PROXIES=list(trusted)):
            return client_ip(factory.get("/", **meta))

    assert ip("198.51.100.1", "1.2.3.4") == "198.51.100.1"  # nobody trusted
    assert ip("10.0.0.2", "1.2.3.4", ["10.0.0.2"]) == "1.2.3.4"
    assert ip("10.0.0.2", "6.6.6.6, 1.2.3.4", ["10.0.0.0/8"]) == "1.2.3.4"
    assert ip("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.3", ["10.0.0.0/8"]) == "1.2.3.4"
    assert ip("10.0.0.2", "1.2.3.4:5678", ["10.0.0.2"]) == "1.2.3.4"
    assert ip("10.0.0.2", "not-an-address", ["10.0.0.2"]) == "10.0.0.2"
    assert ip("10.0.0.2", "", ["10.0.0.2"]) == "10.0.0.2"
    assert ip("198.51.100.1", "1.2.3.4", ["10.0.0.0/8"]) == "198.51.100.1"  # not a proxy


# --- the console and the admin ---------------------------------------------------------------
def test_console_login_locks_out_with_a_plain_page(client):
    make_person(None, username="victim")

    def attempt(n, password="guess"):
        return client.post(
            reverse("console:login"), {"username": "victim", "password": password},
            REMOTE_ADDR="198.51.100.10", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )  # fmt: skip

    for n in range(1, LIMIT):
        response = attempt(n)
        assert response.status_code == 200 and b"did not match" in response.content
    response = attempt(LIMIT)
    assert response.status_code == 429
    assert b"Too many failed log-in attempts" in response.content
    assert b"Try again in 15 minutes" in response.content
    # The right password does not get in while locked.
    response = attempt(LIMIT + 1, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_console_and_api_failures_add_up(client):
    make_person(None, username="victim")
    for _ in range(LIMIT - 1):
        assert token_attempt(client, "victim", "guess").status_code == 401
    response = client.post(
        reverse("console:login"), {"username": "victim", "password": "guess"},
        REMOTE_ADDR="198.51.100.99",
    )  # fmt: skip
    assert response.status_code == 429


def test_admin_has_no_password_form_of_its_own(client):
    staff = make_person(None, username="admin1", is_staff=True, is_superuser=True)
    response = client.get("/admin/login/?next=/admin/crisis/")
    assert response.status_code == 302
    assert response.url == "/login/?next=%2Fadmin%2Fcrisis%2F"
    # Posting a password to it logs nobody in (so it cannot be used to guess either).
    response = client.post("/admin/login/", {"username": staff.username, "password": PASSWORD})
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert "_auth_user_id" not in client.session
    # The admin's own redirect for visitors lands there too.
    assert client.get("/admin/").url.startswith("/admin/login/")
