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


def test_readyz_names_the_failing_checks_but_not_why_to_anyone(client, redis_down):
    response = client.get("/readyz")
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


def test_readyz_tells_staff_why(admin_client, redis_down):
    body = admin_client.get("/readyz").json()
    assert "Error" in body["checks"]["redis"]


def test_readyz_logs_why(client, redis_down, caplog):
    with caplog.at_level("WARNING", logger="core.health"):
        client.get("/readyz")
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
