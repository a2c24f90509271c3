import pytest

from tests.support.redis import PrivateRedis


@pytest.mark.django_db
def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_status_ok_with_all_services(client):
    from deadlines.services import sweep

    sweep()  # the deadline watchdog wants a recent sweep heartbeat
    body = client.get("/status").json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "redis": "ok", "broker": "ok", "deadlines": "ok"}


@pytest.mark.django_db
def test_readyz_is_the_database_only(client):
    """Readiness is this process's own database: no sweep heartbeat needed, no Redis."""
    body = client.get("/readyz").json()
    assert body == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.django_db
def test_status_reports_a_stopped_redis_as_503_but_readyz_stays_ready(admin_client, settings):
    client = admin_client  # staff see why a check fails (tests/security/test_defaults.py)
    from config.celery import app
    from deadlines.services import sweep

    sweep()  # the deadline watchdog wants a recent sweep heartbeat
    private = PrivateRedis().start()
    try:
        settings.REDIS_URL = private.url
        app.conf.broker_url = private.url
        assert client.get("/status").status_code == 200

        private.kill()
        assert client.get("/readyz").status_code == 200  # the orchestrator keeps us
        response = client.get("/status")
        assert response.status_code == 503
        body = response.json()
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["redis"] != "ok" and "Connection" in body["checks"]["redis"]
        assert body["checks"]["broker"] != "ok"
        assert "redis" in body["message"] and "broker" in body["message"]
    finally:
        private.stop()
        app.conf.broker_url = settings.CELERY_BROKER_URL
