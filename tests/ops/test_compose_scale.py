"""deploy/compose.scale.yml and deploy/nginx.conf hold together (there is no Docker engine
here, so the structure is checked: what each service runs exists in the project, the
proxy reaches every web process and upgrades websockets, Redis needs its password, and
PostgreSQL has the connections the processes can open)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.scale.yml").read_text())


@pytest.fixture(scope="module")
def nginx() -> str:
    return (DEPLOY / "nginx.conf").read_text()


def argv(service: dict) -> list[str]:
    command = service.get("command") or []
    if isinstance(command, str):
        command = shlex.split(command)
    return command


def app_services(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if "build" in s}


def kind(service: dict) -> str:
    command = argv(service)
    if not command:
        return "web"  # the image's CMD: uvicorn (Dockerfile)
    if command[:3] == ["celery", "-A", "config"]:
        return command[3]  # worker | beat
    if command[:2] == ["python", "manage.py"]:
        return "manage"
    return "other"


def test_two_web_two_workers_one_beat_behind_a_proxy(compose):
    kinds = {name: kind(s) for name, s in app_services(compose).items()}
    assert sorted(n for n, k in kinds.items() if k == "web") == ["web-1", "web-2"]
    assert sorted(n for n, k in kinds.items() if k == "worker") == ["worker-1", "worker-2"]
    assert [n for n, k in kinds.items() if k == "beat"] == ["beat"]  # exactly one
    assert kinds["migrate"] == "manage"
    assert "other" not in kinds.values()
    # Only the proxy is published; web processes are reached through it.
    published = {n for n, s in compose["services"].items() if s.get("ports")}
    assert published == {"proxy"}


def test_what_each_service_runs_exists(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    commands = get_commands()
    for name, service in app_services(compose).items():
        context = (DEPLOY / service["build"]["context"]).resolve()
        assert context == ROOT and (context / "Dockerfile").exists(), name
        command = argv(service)
        if kind(service) in ("worker", "beat"):
            assert (ROOT / "config" / "celery.py").exists()
        if kind(service) == "worker":
            queues = set(command[command.index("--queues") + 1].split(","))
            routed = {r["queue"] for r in settings.CELERY_TASK_ROUTES.values()}
            assert queues == routed | {settings.CELERY_TASK_DEFAULT_QUEUE}, name
        if kind(service) == "manage":
            assert command[2] in commands, (name, command)
        check = service.get("healthcheck", {}).get("test", [])
        if check[:3] == ["CMD", "python", "manage.py"]:
            assert check[3] in commands, (name, check)
        if "curl" in check:
            assert "curl" in dockerfile, "the image must have curl for the health check"
            assert any(path in check[-1] for path in ("/healthz", "/readyz")), name
    assert "config.asgi:application" in dockerfile  # the web CMD


def test_proxy_balances_over_every_web_process_and_upgrades_websockets(compose, nginx):
    upstream = re.search(r"upstream web \{(.*?)\}", nginx, re.S).group(1)
    servers = re.findall(r"server\s+([\w.-]+):(\d+)", upstream)
    web = sorted(n for n, s in app_services(compose).items() if kind(s) == "web")
    assert sorted(host for host, _ in servers) == web
    assert {port for _, port in servers} == {"8000"}  # what the image's uvicorn listens on
    assert "ip_hash" not in upstream and "sticky" not in upstream  # not needed
    ws = re.search(r"location /ws/ \{(.*?)\}", nginx, re.S).group(1)
    assert "proxy_set_header Upgrade $http_upgrade;" in ws
    assert "proxy_set_header Connection $connection_upgrade;" in ws
    assert "proxy_http_version 1.1;" in nginx
    assert "proxy_set_header X-Forwarded-Proto https;" in nginx
    assert nginx.count("{") == nginx.count("}")
    # The proxy's mounts: its config is here; certificates are the operator's.
    proxy = compose["services"]["proxy"]
    sources = [v.split(":")[0] for v in proxy["volumes"]]
    assert (DEPLOY / sources[0]).resolve() == DEPLOY / "nginx.conf"
    assert set(sources[1:]) == {"./tls"}
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "deploy/tls/" in ignored and "deploy/secrets/" in ignored


def test_django_trusts_only_the_proxy(compose):
    import ipaddress

    proxy_address = compose["services"]["proxy"]["networks"]["app"]["ipv4_address"]
    subnet = compose["networks"]["app"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy_address) in ipaddress.ip_network(subnet)
    for name, service in app_services(compose).items():
        assert service["environment"]["TRUSTED_PROXIES"] == proxy_address, name


def test_redis_requires_its_password_everywhere(compose):
    redis = compose["services"]["redis"]
    assert "--requirepass" in " ".join(argv(redis))
    for name, service in app_services(compose).items():
        env = service["environment"]
        assert env["REDIS_URL"].startswith("redis://:${REDIS_PASSWORD:?"), name
        assert "CELERY_BROKER_URL" not in env, name  # the broker follows REDIS_URL
        for key in ("SECRET_KEY", "POSTGRES_PASSWORD"):
            text = yaml.safe_dump(env)
            assert f"${{{key}:?" in text or key not in text, (name, key)


def test_postgres_has_the_connections_the_processes_open(compose):
    """max_connections >= web x DATABASE_POOL_MAX_SIZE + workers x (concurrency + 1)
    + beat + 20 (docs/operations.md, "Sizing"): each web process borrows from a pool of
    its own, at least as large as its websocket threads plus a few HTTP requests."""
    services = app_services(compose)
    need = 20
    for service in services.values():
        env = service["environment"]
        if kind(service) == "web":
            assert env["DATABASE_POOL"] == "true"
            pool = int(env["DATABASE_POOL_MAX_SIZE"])
            assert pool >= int(env["HOTLINE_DB_THREADS"]) + 2
            need += pool
        elif kind(service) == "worker":
            command = argv(service)
            need += int(command[command.index("--concurrency") + 1]) + 1
        elif kind(service) == "beat":
            need += 1
    postgres = argv(compose["services"]["postgres"])
    max_connections = int(postgres[postgres.index("-c") + 1].split("=")[1])
    assert max_connections >= need, (max_connections, need)
