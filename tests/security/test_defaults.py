"""Safe defaults (finding 10): what a fresh deployment exposes before anyone tunes it."""

from __future__ import annotations

import pytest

from tests.support.redis import PrivateRedis

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings):
    """Redis (channel layer and broker) stopped; the database still answers."""
    from config.celery import app
    from deadlines.services import sweep

    sweep()  # the deadline watchdog wants a recent sweep heartbeat
    private = PrivateRedis().start()
    try:
        settings.REDIS_URL = private.url
        app.conf.broker_url = private.url
        private.kill()
        yield private
    finally:
        private.stop()
        app.conf.broker_url = settings.CELERY_BROKER_URL


def test_status_names_the_failing_checks_but_not_why_to_anyone(client, redis_down):
    response = client.get("/status")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {
        "database": "ok",
        "redis": "failing",
        "broker": "failing",
        "deadlines": "ok",
    }
    assert "redis" in body["message"] and "broker" in body["message"]
    assert str(redis_down.port) not in response.content.decode()
    assert "Error" not in response.content.decode()


def test_status_tells_staff_why(admin_client, redis_down):
    body = admin_client.get("/status").json()
    assert "Error" in body["checks"]["redis"]


def test_status_logs_why(client, redis_down, caplog):
    with caplog.at_level("WARNING", logger="core.health"):
        client.get("/status")
    assert any("redis" in r.getMessage() and "Error" in r.getMessage() for r in caplog.records)


def test_seed_demo_refuses_when_debug_is_off(settings, monkeypatch):
    from django.contrib.auth import get_user_model
    from django.core.management import CommandError, call_command

    from crisis.management.commands import seed_demo

    monkeypatch.setattr(seed_demo.Command, "assume_not_production", False)
    settings.DEBUG = False
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")
    assert not get_user_model().objects.filter(username="coordinator").exists()
    call_command("seed_demo", "--i-know-this-is-not-production")
    assert get_user_model().objects.filter(username="coordinator").exists()


def test_seed_demo_never_resets_an_existing_password(settings):
    from django.core.management import call_command

    from tests.factories import make_person

    person = make_person(None, username="coordinator", is_staff=True)
    call_command("seed_demo", "--i-know-this-is-not-production")
    person.refresh_from_db()
    assert person.check_password("pw-for-tests")
    assert not person.check_password(settings.DEMO_PASSWORD)


# --- DEBUG, CSP, offline API docs, docker compose ----------------------------------------


def test_debug_is_off_unless_asked_for(tmp_path):
    """A deployment that forgets DEBUG gets production settings (and must set a key)."""
    import os
    import subprocess
    import sys

    from django.conf import settings as live

    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    probe = "import config.settings as s; print(s.DEBUG)"
    refused = subprocess.run(
        [sys.executable, "-c", probe], cwd=live.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "SECRET_KEY must be set" in refused.stderr
    ok = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=live.BASE_DIR,
        env={**env, "SECRET_KEY": "x" * 60},
        capture_output=True,
        text=True,
    )
    assert ok.stdout.strip() == "False", ok.stderr


STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
}


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.mark.parametrize("path", ["/login/", "/api/docs/", "/admin/login/?next=/admin/"])
def test_every_page_carries_a_strict_content_security_policy(client, path):
    response = client.get(path, follow=True)
    policy = _policy(response)
    for directive, value in STRICT.items():
        assert policy[directive] == value, (directive, policy)
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in str(policy)
    assert "'unsafe-inline'" not in policy["style-src"]


def test_api_docs_load_nothing_from_another_origin(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>" not in html  # no inline script: the split view serves its init file
    sources = __import__("re").findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        if source.endswith(".js"):
            assert client.get(source).status_code == 200, source


def test_the_printable_gap_summary_styles_itself_with_the_response_nonce(region, api_client):
    from tests.humanitarian.conftest import make_crisis

    crisis = make_crisis(region)
    api_client.force_authenticate(region.operator_a)
    response = api_client.get(f"/api/v1/humanitarian/gaps/summary/?crisis={crisis.pk}")
    assert response.status_code == 200
    nonce = __import__("re").search(r'<style nonce="([^"]+)">', response.content.decode())
    assert nonce and f"'nonce-{nonce.group(1)}'" in _policy(response)["style-src"]


def test_compose_has_no_default_password_and_publishes_web_on_loopback_only():
    import yaml
    from django.conf import settings as live

    compose = yaml.safe_load((live.BASE_DIR / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]
    app_env = services["web"]["environment"]
    assert "${POSTGRES_PASSWORD:?" in app_env["DATABASE_URL"]
    assert app_env["REDIS_URL"].startswith("redis://:${REDIS_PASSWORD:?")
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    assert "--requirepass" in " ".join(services["redis"]["command"])
    assert "REDISCLI_AUTH" in " ".join(services["redis"]["healthcheck"]["test"])
