"""deploy/prometheus rules and deploy/grafana dashboard: valid, and about metrics /metrics exposes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from metrics import instruments
from metrics.heartbeats import heartbeat_record
from tracker.models import Store

from .conftest import ROOT
from .test_prometheus import samples

RULES = ROOT / "deploy" / "prometheus" / "pricetracker-rules.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "pricetracker-rules.test.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "pricetracker-dashboard.json"
REQUIRED_ALERTS = {
    "PriceTrackerHighErrorRate", "PriceTrackerQueueBacklog", "PriceTrackerDatabaseDown", "PriceTrackerBrokerDown",
    "PriceTrackerDiskLow", "PriceTrackerBeatMissing", "PriceTrackerNotificationFailures",
}


def _promtool() -> str:
    found = shutil.which("promtool")
    if not found:
        pytest.skip("promtool is not installed (Debian's prometheus package has it; scripts/test installs it)")
    return found


def test_promtool_checks_the_rules():
    done = subprocess.run([_promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_alerts_fire_on_their_series_in_promtools_unit_tests():
    done = subprocess.run([_promtool(), "test", "rules", RULE_TESTS.name], cwd=RULES.parent,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def _rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def test_every_alert_the_issue_asks_for_is_there_with_a_severity_and_a_summary():
    rules = _rules()
    assert REQUIRED_ALERTS <= {rule["alert"] for rule in rules}
    for rule in rules:
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


@pytest.fixture
def exposed(client, settings, db) -> set[str]:
    """Every metric name /metrics shows, plus the counters and histograms of every process."""
    settings.METRICS_TOKEN = "rules-token"
    Store.objects.create(domain="shop.test")
    heartbeat_record(name="w@test", kind="worker", queues=["default"])
    heartbeat_record(name="beat@test:1", kind="beat")
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer rules-token").content.decode()
    names = {name for name, _ in samples(text)}
    names |= set(re.findall(r"^# TYPE (\S+)", text, re.M))
    for value in vars(instruments).values():
        if isinstance(value, MetricWrapperBase):
            for family in value.describe():
                names.add(family.name)
                names |= {family.name + suffix for suffix in ("_total", "_bucket", "_sum", "_count", "_created")}
    return names


def _names_in(expression: str) -> set[str]:
    return set(re.findall(r"\b(pricetracker_[a-z0-9_]+)", expression))


def test_every_metric_the_rules_name_is_exposed(exposed):
    unknown = {(rule["alert"], name) for rule in _rules() for name in _names_in(rule["expr"]) if name not in exposed}
    assert unknown == set()


def test_the_dashboard_is_grafana_json_about_exposed_metrics(exposed):
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 30
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(expressions) >= 10
    unknown = {name for expr in expressions for name in _names_in(expr) if name not in exposed}
    assert unknown == set()
    assert "pricetracker_store_circuit_state" in " ".join(expressions)
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
