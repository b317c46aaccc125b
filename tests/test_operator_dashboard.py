"""Dashboards: what the operator renders per analysis (queries: tests/test_dashboard_queries.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from reviewops_operator.dashboard import OPERATOR_TEMPLATE, default_template_dir, render_analysis_dashboard
from reviewops_operator.errors import ExternalError
from reviewops_operator.identity import AnalysisRef
from reviewops_operator.metrics import OperatorMetrics

REF = AnalysisRef(namespace="insights", name="backmarket-en", uid="u1", generation=1)


def render(ref: AnalysisRef = REF, company: str = 'Back "Market"') -> dict[str, Any]:
    return render_analysis_dashboard(
        ref, company=company, uid="ro-123", results_datasource="pg-results", prometheus_datasource="prom"
    )


def targets(dashboard: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(panel title, target) for every query of every panel."""
    return [(p["title"], t) for p in dashboard["panels"] for t in p.get("targets") or []]


def operator_dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((default_template_dir() / OPERATOR_TEMPLATE).read_text())
    return loaded


def test_rendered_dashboard_is_specific_to_the_analysis() -> None:
    dashboard = render()
    assert dashboard["uid"] == "ro-123" and dashboard["id"] is None
    assert dashboard["title"] == 'ReviewOps · Back "Market" (insights/backmarket-en)'
    assert "__RO_" not in json.dumps(dashboard)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["results"]["current"]["value"] == "pg-results"
    assert variables["prometheus"]["current"]["value"] == "prom"
    assert variables["analysis"]["query"] == "insights/backmarket-en"
    assert (variables["namespace"]["query"], variables["name"]["query"]) == ("insights", "backmarket-en")
    for title, target in targets(dashboard):
        if "rawSql" in target:
            assert target["datasource"]["uid"] == "${results}", title
            assert "'$run'" in target["rawSql"] or "'$analysis'" in target["rawSql"], title
        elif "bucket" not in target["expr"]:  # the latency histogram is operator-wide
            assert 'namespace="$namespace", name="$name"' in target["expr"], title
    other = render(AnalysisRef(namespace="team-b", name="bm"))
    assert {v["name"]: v for v in other["templating"]["list"]}["analysis"]["query"] == "team-b/bm"


def test_names_that_could_break_out_of_queries_are_refused() -> None:
    with pytest.raises(ValueError, match="not a Kubernetes object name"):
        render(AnalysisRef(namespace="insights", name="x' OR '1'='1"))


def test_a_missing_template_names_the_setting_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ExternalError, match="REVIEWOPS_DASHBOARD_TEMPLATE_DIR"):
        render_analysis_dashboard(
            REF,
            company="BM",
            uid="u",
            results_datasource="a",
            prometheus_datasource="b",
            template_dir=tmp_path,
        )


def test_every_prometheus_query_uses_metrics_the_operator_exports() -> None:
    exported = {m.name for m in OperatorMetrics().registry.collect()}
    exported |= {f"{n}_total" for n in exported} | {f"{n}_bucket" for n in exported}
    names = set()
    for dashboard in (render(), operator_dashboard()):
        for _, target in targets(dashboard):
            names |= set(re.findall(r"\b((?:reviewops|process)_[a-z0-9_]+)", target.get("expr", "")))
    assert names and names <= exported, names - exported


# The queries of every panel run against a real PostgreSQL results store and a real Prometheus
# scraping the operator through the chart's ServiceMonitor relabelling in
# tests/test_dashboard_queries.py (variables and macros expanded as Grafana does).
