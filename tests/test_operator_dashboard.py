"""Dashboards: rendering, and every panel's query run against the real store / Prometheus it reads."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import text

from reviewops.insights import compute_insights
from reviewops.spec import parse_spec
from reviewops.store import open_store, write_run
from reviewops_operator.dashboard import OPERATOR_TEMPLATE, default_template_dir, render_analysis_dashboard
from reviewops_operator.errors import ExternalError
from reviewops_operator.identity import AnalysisRef
from reviewops_operator.metrics import MetricsServer, OperatorMetrics
from reviewops_operator.passes import Observations
from reviewops_operator.status import READY, AnalysisStatus, RunRecord, results_from_summary
from tests.support.analysis import corpus
from tests.support.servers import free_port, missing, postgres_server

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
    for title, target in targets(dashboard):
        if "rawSql" in target:
            assert target["datasource"]["uid"] == "pg-results", title
            assert "analysis = 'insights/backmarket-en'" in target["rawSql"], title
        else:
            assert target["datasource"]["uid"] == "prom", title
            if "bucket" not in target["expr"]:  # the latency histogram is operator-wide
                assert 'namespace="insights",name="backmarket-en"' in target["expr"], title
    other = render(AnalysisRef(namespace="team-b", name="bm"))
    assert "analysis = 'team-b/bm'" in json.dumps(other)


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


# --- queries against the real data sources ------------------------------------------------------


def expand_grafana_macros(sql: str) -> str:
    """What Grafana's PostgreSQL data source does with the macros the panels use."""
    return re.sub(r"\$__timeFilter\(([\w.]+)\)", r"\1 BETWEEN '2000-01-01' AND '2100-01-01'", sql)


@pytest.mark.integration
@pytest.mark.slow
def test_every_sql_panel_answers_from_a_real_results_store() -> None:
    reviews, sentiment, topic_result = corpus()
    with postgres_server() as url:
        engine = open_store(url)
        for run_id, analysis, day in (("old", REF.key, 1), ("new", REF.key, 2), ("x", "other/bm", 3)):
            write_run(
                engine,
                run_row={
                    "run_id": run_id,
                    "analysis": analysis,
                    "company": "BM",
                    "created_at": dt.datetime(2026, 7, day, tzinfo=dt.UTC),
                    "reviews": len(reviews),
                    "mean_rating": 3.7,
                    "net_sentiment": 0.2 + day / 10,
                    "negative": 0.3,
                    "coherence": 0.4 + day / 100,
                    "macro_f1": 0.8,
                    "spec": {},
                },
                review_list=reviews,
                sentiment=sentiment,
                topic_result=topic_result,
                insights=compute_insights(reviews, sentiment, topic_result),
            )
        answers: dict[str, list[Any]] = {}
        with engine.connect() as conn:
            for title, target in targets(render()):
                if "rawSql" in target:
                    rows = conn.execute(text(expand_grafana_macros(target["rawSql"]))).all()
                    assert rows, f"panel {title!r} returned nothing"
                    answers[title] = rows
    assert answers["Reviews analysed"] == [(73,)]
    assert answers["Net sentiment"][0][0] == pytest.approx(0.4)  # the latest run of this analysis
    assert [r[0] for r in answers["Topic share"]] == ["delivery / packed", "battery / died"]
    assert answers["Negative drivers"][0][1] == "battery / died"
    assert answers["Negative drivers"][0][4] == "battery, die, week"
    assert len(answers["Coherence, diversity and macro-F1 per run"]) == 2  # not the other analysis
    assert len(answers["Recent negative reviews"]) == 20
    assert {r[1] for r in answers["Topic volume per week"]} == {"delivery / packed", "battery / died"}


@pytest.fixture
def served_metrics() -> Iterator[int]:
    """The operator's /metrics with one analysis' figures, served from a background loop."""
    metrics = OperatorMetrics()
    status = AnalysisStatus(
        next_schedule_time="2030-01-01T06:00:00Z",
        last_successful_time="2024-05-01T06:05:00Z",
        results=results_from_summary(
            {"reviews": 10, "sentiment": {"negative": 0.2}, "coherence": 0.5, "macroF1": 0.7}
        ),
    )
    status.set_condition(READY, True, "Ready", "ok", 1, dt.datetime.now(dt.UTC))
    done = RunRecord("r1", "s", "success", "2024-05-01T06:00:00Z", "2024-05-01T06:05:00Z")
    metrics.publish(REF, parse_spec({"company": {"name": "BM"}}), status)
    metrics.observe(REF, Observations(finished=[done], start_latencies=[3.0]))
    metrics.reconciles.labels("timer").inc()
    metrics.reconcile_duration.labels("timer").observe(0.01)
    metrics.reconcile_errors.labels("timer", "AirflowUnavailable").inc()
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    server = MetricsServer(metrics, 0, host="127.0.0.1")
    port = asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    yield port
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)


@pytest.mark.integration
@pytest.mark.slow
def test_every_promql_panel_is_valid_and_finds_the_operator_metrics(
    served_metrics: int, tmp_path: Path
) -> None:
    binary = shutil.which("prometheus")
    if binary is None:
        missing("prometheus not installed (apt-get install prometheus)")
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: reviewops-operator\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{served_metrics}']}}]\n"
    )
    process = subprocess.Popen(
        [
            str(binary),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api/v1/query"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                found = requests.get(api, params={"query": "reviewops_analysis_reviews"}, timeout=2).json()
                if found["data"]["result"]:
                    break
            except (requests.RequestException, KeyError, ValueError):
                pass
            time.sleep(0.5)
        else:
            pytest.fail("prometheus never scraped the operator's /metrics")
        time.sleep(2)  # a few samples, so rate()/increase() have two points
        empty = []
        for dashboard in (render(), operator_dashboard()):
            for title, target in targets(dashboard):
                expr = target["expr"].replace("$job", ".*") if "expr" in target else None
                if expr is None:
                    continue
                answer = requests.get(api, params={"query": expr}, timeout=5).json()
                assert answer["status"] == "success", (title, expr, answer)
                if not answer["data"]["result"]:
                    empty.append(title)
        # Only panels about things this fixture does not produce may be empty.
        assert set(empty) <= {
            "Trigger-to-running latency (all analyses)",
            "Trigger-to-running latency",
            "Reconcile duration",
        }, empty
    finally:
        process.terminate()
        process.wait(timeout=30)
