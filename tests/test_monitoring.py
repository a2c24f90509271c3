"""The Grafana dashboard and the Prometheus alert rules in deploy/ load, have the shape
their tools need, and name only metrics that our /metrics really exposes (with the
suffix their type gives: ``_total`` for counters, ``_bucket``/``_sum``/``_count`` for
histograms), so a renamed metric fails here rather than in a silent panel or alert."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from deadlines.services import sweep
from tests.support.metrics import TOKEN, scrape

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "deploy" / "grafana" / "crisis-dashboard.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"

NAME = re.compile(r"\bcrisis_[a-z0-9_]+")
DURATION = re.compile(r"^\d+[smhd]$")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 30
    panels = dashboard["panels"]
    assert panels and len({p["id"] for p in panels}) == len(panels)
    exprs = []
    for panel in panels:
        assert panel["title"] and panel["type"] in ("stat", "timeseries", "gauge", "table")
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["refId"] and target["expr"].strip()
            exprs.append(target["expr"])
    return exprs


def alert_exprs() -> list[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    exprs, names = [], set()
    assert rules["groups"]
    for group in rules["groups"]:
        assert group["name"] and group["rules"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", rule["alert"]) and rule["alert"] not in names
            names.add(rule["alert"])
            assert "for" not in rule or DURATION.match(rule["for"]), rule
            assert rule["labels"]["severity"] in ("page", "ticket"), rule
            assert rule["annotations"]["summary"] and rule["annotations"]["description"]
            exprs.append(str(rule["expr"]))
    return exprs


def test_the_prometheus_config_scrapes_with_the_token_and_loads_the_rules():
    config = yaml.safe_load(PROMETHEUS.read_text())
    assert config["rule_files"] == [ALERTS.name]
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics" and job["authorization"]["type"] == "Bearer"


@pytest.mark.django_db
def test_every_metric_the_dashboard_and_alerts_use_is_exposed(client, settings):
    settings.METRICS_TOKEN = TOKEN
    sweep()  # the sweep's heartbeat makes crisis_deadline_sweep_age_seconds appear
    exposed = scrape(client).families
    used = {name for expr in dashboard_exprs() + alert_exprs() for name in NAME.findall(expr)}
    assert len(used) >= 10

    def known(name: str) -> bool:
        return any(
            name == family + suffix for family, kind in exposed.items() for suffix in SUFFIXES[kind]
        )

    assert sorted(n for n in used if not known(n)) == []
    # And every metric we expose is on the dashboard or in an alert (none forgotten).
    shown = {f for f in exposed if f.startswith("crisis_") and any(n.startswith(f) for n in used)}
    assert shown == {f for f in exposed if f.startswith("crisis_")}
