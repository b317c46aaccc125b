"""Every panel query of both dashboards, and every alert rule, run against real data sources.

SQL: `reviewops demo` writes two runs into a real PostgreSQL results store; the analysis
dashboard, rendered by the operator's own code, has its variables resolved and its macros
expanded as Grafana does (tests/support/grafana.py) and every SQL panel must answer with rows.
(SQLite: Grafana has no SQLite data source of its own, so the dashboards target PostgreSQL only.)

PromQL: the real operator (kopf, its handlers, the fake Airflow) runs three analyses through a
success, a failure and an Airflow outage; its /metrics is scraped by a real Prometheus through
the relabelling the chart's ServiceMonitor produces (honorLabels), with the chart's alert rules
loaded. Every query of every panel and rule must run; the panels that should have data, do.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from reviewops_operator.dashboard import render_analysis_dashboard
from reviewops_operator.identity import AnalysisRef
from reviewops_operator.metrics import MetricsServer, OperatorMetrics
from tests.support import grafana
from tests.support.e2e import API, KIND, RESULT, example, get, runs_of, wait_status
from tests.support.helm import NAMESPACE, RELEASE, one, render
from tests.support.kube_client import wait_for
from tests.support.operator_harness import Stack, running_stack
from tests.support.prometheus import Prometheus, service_monitor_job
from tests.support.servers import free_port, postgres_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
DEMO = AnalysisRef(namespace="local", name="demo")  # `reviewops demo` writes runs.analysis = local/demo


def operator_dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "dashboards" / "operator.json").read_text(encoding="utf-8"))
    return loaded


def analysis_dashboard(ref: AnalysisRef) -> dict[str, Any]:
    return render_analysis_dashboard(
        ref, company="Demo", uid="ro-test", results_datasource="pg", prometheus_datasource="prom"
    )


# --- Grafana's own macro tests, against the emulation ----------------------------------------------


def test_macro_expansion_matches_grafanas_own_tests() -> None:
    """Expected strings from pkg/tsdb/grafana-postgresql-datasource/macros_test.go."""
    start = dt.datetime(2018, 4, 12, 18, 0, tzinfo=dt.UTC)
    span = grafana.TimeRange(start, start + dt.timedelta(minutes=5))
    expand = grafana.expand_postgres_macros
    assert expand("select $__time(time_column)", span) == 'select time_column AS "time"'
    assert expand("WHERE $__timeFilter(time_column)", span) == (
        "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'"
    )
    assert expand("SELECT $__timeGroup(time_column,'5m'), value", span) == (
        'SELECT floor(extract(epoch from time_column)/300)*300 AS "time", value'
    )
    assert expand("SELECT $__timeGroup(time_column,'5m')", span) == (
        "SELECT floor(extract(epoch from time_column)/300)*300"
    )
    assert expand("$__timeGroupAlias(time_column , '5m')", span) == (
        'floor(extract(epoch from time_column)/300)*300 AS "time"'
    )
    assert (
        expand("select $__unixEpochFilter(time)", span) == "select time >= 1523556000 AND time <= 1523556300"
    )
    half = grafana.TimeRange(
        dt.datetime(1960, 2, 1, 7, 0, 0, 500000, tzinfo=dt.UTC),
        dt.datetime(1980, 2, 3, 8, 0, 0, 500000, tzinfo=dt.UTC),
    )
    assert (
        expand("$__timeFilter(t)", half) == "t BETWEEN '1960-02-01T07:00:00.5Z' AND '1980-02-03T08:00:00.5Z'"
    )
    assert expand("$__timeGroup(c, '30d')", span) == "floor(extract(epoch from c)/2.592e+06)*2.592e+06"
    with pytest.raises(ValueError, match="unknown macro"):
        expand("$__nope(x)", span)


def test_sql_variables_are_quoted_as_grafana_quotes_them() -> None:
    variables = {
        "run": grafana.Variable("run", "it's"),
        "topic": grafana.Variable("topic", ["a", "b'c"], multi=True, include_all=True, options=["a", "b'c"]),
        "one": grafana.Variable("one", "x", multi=True),
    }
    sql = "WHERE run_id = '$run' AND t IN ($topic) AND u IN (${one}) AND v = '$missing'"
    assert grafana.interpolate(sql, variables, grafana.format_sql) == (
        "WHERE run_id = 'it''s' AND t IN ('a','b''c') AND u IN ('x') AND v = '$missing'"
    )


# --- SQL panels against a real PostgreSQL results store ---------------------------------------------


def reviewops(*args: str) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "reviewops"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.fixture(scope="module")
def results_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, list[dict[str, Any]]]]:
    """PostgreSQL with two `reviewops demo` runs of local/demo (the second one newest, large
    enough for sub-themes)."""
    with postgres_server() as url:
        summaries = []
        for seed, size in ((41, 600), (42, 2500)):
            out = tmp_path_factory.mktemp(f"demo-{seed}")
            reviewops("demo", "--size", str(size), "--seed", str(seed), "--no-mlflow", "--store", url,
                      "--out", str(out), "--quiet")  # fmt: skip
            summaries.append(json.loads((out / "summary.json").read_text(encoding="utf-8")))
        engine = create_engine(url)
        try:
            yield engine, summaries
        finally:
            engine.dispose()


def sql_options(engine: Engine) -> Any:
    def run(variable: Mapping[str, Any], query: str) -> Sequence[tuple[str, str]]:
        with engine.connect() as conn:
            rows = conn.execute(text(query)).mappings().all()
        return [
            (str(r.get("__text", r.get("__value"))), str(r.get("__value", r.get("__text")))) for r in rows
        ]

    return run


def run_sql_panels(
    engine: Engine, dashboard: dict[str, Any], variables: dict[str, grafana.Variable]
) -> dict[str, list[Any]]:
    """Every SQL target of every panel: {panel title: rows} (fails on an error or no rows)."""
    window = grafana.TimeRange.of(dashboard)
    answers: dict[str, list[Any]] = {}
    with engine.connect() as conn:
        for panel in grafana.panels(dashboard):
            for target in panel["targets"]:
                if "rawSql" not in target:
                    continue
                sql = grafana.sql_for(target, variables, window)
                assert "$" not in sql.replace("$$", ""), f"{panel['title']}: unexpanded {sql}"
                result = conn.execute(text(sql))
                rows = [tuple(r) for r in result]
                assert rows, f"panel {panel['title']!r} returned no rows:\n{sql}"
                if target["format"] == "time_series":
                    columns = list(result.keys())
                    assert columns[0] == "time", panel["title"]
                    times = [r[0] for r in rows]
                    assert times == sorted(times), f"{panel['title']}: Grafana needs time-sorted series"
                answers[panel["title"].replace("$bucket", str(variables["bucket"].value))] = rows
    return answers


def test_every_sql_panel_answers_from_a_real_results_store(
    results_store: tuple[Engine, list[dict[str, Any]]],
) -> None:
    engine, (older, newest) = results_store
    dashboard = analysis_dashboard(DEMO)
    variables = grafana.resolve_variables(dashboard, sql_options(engine))
    assert variables["run"].value == newest["run_id"], "the newest run is selected on load"
    assert variables["run"].options == [newest["run_id"], older["run_id"]]
    assert variables["analysis"].value == "local/demo"
    answers = run_sql_panels(engine, dashboard, variables)

    assert answers["Reviews analysed"] == [(newest["reviews"],)]
    assert answers["Net sentiment"][0][0] == pytest.approx(newest["sentiment"]["net"])
    assert answers["Negative share"][0][0] == pytest.approx(newest["sentiment"]["shares"]["negative"])
    assert len(answers["Model quality per run"]) == 2  # one point per run of this analysis
    weekly = answers["Reviews per 1w"]
    assert sum(r[1] for r in weekly) == newest["reviews"]  # every demo review is in the default range
    themes = sorted(newest["topics"]["items"], key=lambda t: -t["share"])
    labels = [t["label"] for t in themes]
    assert [r[0] for r in answers["Topic share"]] == labels
    table = answers["Topics: share, stars, impact, change vs previous period"]
    # Each broad theme, then its sub-themes as "theme › sub-theme", largest first.
    rows = [
        name
        for t in themes
        for name in [
            t["label"],
            *(f"{t['label']} › {s['label']}" for s in sorted(t["subthemes"], key=lambda s: -s["share"])),
        ]
    ]
    assert newest["topics"]["subthemes_k"] > 0 and [r[0] for r in table] == rows
    recent = [r[6] for r in table if r[6] is not None and " › " not in r[0]]
    assert recent and 0.9 < sum(recent) <= 1.0 + 1e-9  # the reviews too short for a topic aside
    for theme in themes:  # a sub-theme's recent reviews are some of its theme's
        subs = [r[6] or 0 for r in table if r[0].startswith(f"{theme['label']} › ")]
        assert sum(subs) <= next(r[6] or 0 for r in table if r[0] == theme["label"]) + 1e-9
    changes = [r[8] for r in table if r[8] is not None]
    assert changes and any(abs(c) > 0 for c in changes)
    terms = answers["Top terms per topic (weighted)"]
    per_topic: dict[str, list[Any]] = {}
    for topic, rank, _term, weight in terms:
        per_topic.setdefault(topic, []).append((rank, weight))
    assert set(per_topic) == set(rows)
    assert all(len(v) <= 10 and max(w for _, w in v) == pytest.approx(1.0) for v in per_topic.values())
    drivers = [d["label"] for d in newest["negative_drivers"]]
    assert [r[1] for r in answers["Negative drivers"]] == drivers
    negatives = answers["Recent negative reviews"]
    assert 0 < len(negatives) <= 20
    assert [r[0] for r in negatives] == sorted((r[0] for r in negatives), reverse=True)


def test_drill_down_and_other_variable_values(results_store: tuple[Engine, list[dict[str, Any]]]) -> None:
    """A click on a topic (var-topic=<label>), another period and bucket, the older run."""
    engine, (older, _) = results_store
    dashboard = analysis_dashboard(DEMO)
    variables = grafana.resolve_variables(dashboard, sql_options(engine))
    with engine.connect() as conn:  # the older run's largest topic (each run has its own topics)
        largest = text("SELECT label FROM topics WHERE run_id = :run ORDER BY share DESC LIMIT 1")
        topic = conn.execute(largest, {"run": older["run_id"]}).scalar_one()
    variables["topic"] = grafana.Variable("topic", [topic], multi=True, include_all=True)
    variables["period"] = grafana.Variable("period", "30")
    variables["bucket"] = grafana.Variable("bucket", "30d")
    variables["run"] = grafana.Variable("run", older["run_id"])
    answers = run_sql_panels(engine, dashboard, variables)
    assert {r[2] for r in answers["Recent negative reviews"]} == {topic}
    assert {r[0] for r in answers["Top terms per topic (weighted)"]} == {topic}
    assert answers["Reviews analysed"] == [(older["reviews"],)]
    assert 10 <= len(answers["Reviews per 30d"]) <= 17  # 15 months of reviews in 30-day buckets
    volume = answers["Topic volume per 30d"]
    assert {r[1] for r in volume} == {topic}


def test_drill_down_into_a_sub_theme(results_store: tuple[Engine, list[dict[str, Any]]]) -> None:
    """var-topic="theme › sub-theme": only that sub-theme's reviews and terms."""
    engine, (_, newest) = results_store
    dashboard = analysis_dashboard(DEMO)
    variables = grafana.resolve_variables(dashboard, sql_options(engine))
    theme, sub = next(
        (t, s) for t in sorted(newest["topics"]["items"], key=lambda t: -t["share"]) for s in t["subthemes"]
    )
    name = f"{theme['label']} › {sub['label']}"
    assert name in variables["topic"].options
    variables["topic"] = grafana.Variable("topic", [name], multi=True, include_all=True)
    answers = run_sql_panels(engine, dashboard, variables)
    assert {r[0] for r in answers["Top terms per topic (weighted)"]} == {name}
    assert {r[2] for r in answers["Recent negative reviews"]} == {name}
    volume = answers["Topic volume per 1w"]
    assert sum(r[2] for r in volume) == sub["size"]  # every review of the sub-theme, none else


# --- PromQL panels and alert rules against a real Prometheus scraping the operator ----------------


class Scraped:
    """The operator after its runs, its /metrics, and a Prometheus scraping it."""

    def __init__(
        self, stack: Stack, prometheus: Prometheus, namespace: str, dashboards: dict[str, Any]
    ) -> None:
        self.stack, self.prometheus, self.namespace, self.dashboards = (
            stack,
            prometheus,
            namespace,
            dashboards,
        )


def _serve(metrics: OperatorMetrics) -> tuple[MetricsServer, int, asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="metrics", daemon=True).start()
    server = MetricsServer(metrics, free_port(), host="127.0.0.1")
    port = asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    return server, port, loop


def _dashboard_of(stack: Stack, ns: str, name: str) -> dict[str, Any]:
    """The dashboard the operator rendered into its ConfigMap for an analysis."""
    status = get(stack, ns, name)["status"]["dashboard"]
    where, _, configmap_name = status["configMap"].partition("/")  # "namespace/name"
    configmap = stack.client.get("v1", "ConfigMap", where, configmap_name)
    assert configmap is not None
    loaded: dict[str, Any] = json.loads(configmap["data"][f"{status['uid']}.json"])
    return loaded


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scraped]:
    """Prometheus scrapes the operator from its start; then a success, a failure and an outage."""
    folder = tmp_path_factory.mktemp("scrape")
    captured: list[OperatorMetrics] = []
    from reviewops_operator import handlers, runtime

    original = runtime.build_runtime  # what the startup handler calls (patched below)

    def capture(settings: Any) -> Any:
        runtime = original(settings)
        captured.append(runtime.metrics)
        return runtime

    chart = render({"metrics": {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": True}}})
    monitor, service = one(chart, "ServiceMonitor"), one(chart, "Service")
    rules = folder / "rules.yaml"
    rules.write_text(yaml.safe_dump(one(chart, "PrometheusRule")["spec"]), encoding="utf-8")
    ns = "insights-dash"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(handlers, "build_runtime", capture)
        with running_stack(folder, interval=0.5) as stack:
            server, port, loop = _serve(captured[-1])
            pod = f"{RELEASE}-6d5f9c7b8-x2x7q"
            honoured = service_monitor_job(monitor, service, target=f"127.0.0.1:{port}", pod=pod)
            # The same scrape without honorLabels, as a Service of another name (another job).
            plain_monitor = json.loads(json.dumps(monitor))
            plain_monitor["spec"]["endpoints"][0]["honorLabels"] = False
            plain_monitor["metadata"]["name"] = "without-honor-labels"
            renamed = json.loads(json.dumps(service))
            renamed["metadata"]["name"] = "without-honor-labels"
            plain = service_monitor_job(plain_monitor, renamed, target=f"127.0.0.1:{port}", pod=pod)
            try:
                with Prometheus(folder, [honoured, plain], [rules]) as prometheus:
                    prometheus.wait_for(f'up{{job="{RELEASE}"}} == 1', timeout=60)
                    _scenario(stack, captured[-1], ns)
                    dashboards = {
                        name: _dashboard_of(stack, ns, name) for name in ("backmarket-en", "oneshot-demo")
                    }
                    time.sleep(5)  # a few more scrapes after the last change
                    yield Scraped(stack, prometheus, ns, dashboards)
            finally:
                asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
                loop.call_soon_threadsafe(loop.stop)
                for leftover in stack.client.objects(API, KIND, ns):
                    stack.client.delete(API, KIND, ns, leftover["metadata"]["name"])
                wait_for(lambda: not stack.client.objects(API, KIND, ns) or None, 30, "analyses finalized")


def _scenario(stack: Stack, metrics: OperatorMetrics, ns: str) -> None:
    """A daily analysis run now (started, then succeeded), a one-shot one (failed), and an
    Airflow outage while a manual run is asked for (reconcile errors)."""
    daily = example("backmarket-en.yaml", ns)
    daily["metadata"]["annotations"] = {"reviewops.io/run-now": "first"}
    stack.client.create(daily)
    stack.client.create(example("oneshot-demo.yaml", ns))
    wait_for(lambda: len(runs_of(stack, ns)) == 2 or None, 30, "two runs")
    by_name = {r.conf["analysis"]["name"]: r for r in runs_of(stack, ns)}
    stack.airflow.start_run(by_name["backmarket-en"].run_id)
    wait_status(
        stack, ns, "backmarket-en", lambda o: o["status"]["activeRun"]["state"] == "running", "running"
    )
    time.sleep(2.5)  # status times have second precision: 2.5 s reads as at least 2 s
    stack.airflow.complete_run(by_name["backmarket-en"].run_id, RESULT)
    stack.airflow.fail_run(by_name["oneshot-demo"].run_id)
    wait_status(stack, ns, "backmarket-en", lambda o: o["status"].get("lastSuccessfulTime"), "a success")
    wait_status(stack, ns, "oneshot-demo", lambda o: o["status"]["phase"] == "Failed", "a failure")
    stack.airflow.start_outage("503")
    stack.client.patch(
        API, KIND, ns, "backmarket-en", {"metadata": {"annotations": {"reviewops.io/run-now": "again"}}}
    )

    def errors() -> float | None:
        total = sum(
            s.value
            for m in metrics.reconcile_errors.collect()
            for s in m.samples
            if s.name.endswith("_total")
        )
        return total or None

    wait_for(errors, 30, "a reconcile error")
    time.sleep(2)
    stack.airflow.end_outage()
    wait_for(lambda: len(runs_of(stack, ns)) == 3 or None, 30, "the manual run after the outage")


def run_promql(scraped: Scraped, dashboard: dict[str, Any]) -> tuple[dict[str, list[Any]], list[str]]:
    """Every Prometheus target: {panel title: series returned}, and the queries run."""
    prometheus = scraped.prometheus

    def options(variable: Mapping[str, Any], query: str) -> Sequence[tuple[str, str]]:
        if variable["datasource"]["type"] != "prometheus":
            return [("unused", "unused")]  # SQL variables: no SQL panel runs here
        label, selector = _label_values(query)
        values = prometheus.api(f"label/{label}/values", **{"match[]": selector})
        return [(v, v) for v in values]

    variables = grafana.resolve_variables(dashboard, options)
    if "job" in variables:  # this Prometheus scrapes the operator twice (see `scraped`): pick one
        assert RELEASE in variables["job"].options
        variables["job"] = grafana.Variable("job", RELEASE)
    window = grafana.TimeRange(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5), dt.datetime.now(dt.UTC))
    found: dict[str, list[Any]] = {}
    ran = []
    for panel in grafana.panels(dashboard):
        for target in panel["targets"]:
            if "expr" not in target:
                continue
            expr = grafana.promql_for(target, variables, window, scrape=1.0)
            ran.append(expr)
            if target.get("instant"):
                series = prometheus.query(expr)
            else:
                series = prometheus.query_range(expr, seconds=60)
            found.setdefault(panel["title"], []).extend(series)
    return found, ran


def _label_values(query: str) -> tuple[str, str]:
    inner = query.strip().removeprefix("label_values(").removesuffix(")")
    selector, _, label = inner.rpartition(",")
    return label.strip(), selector.strip()


def test_the_scrape_keeps_the_analysis_namespace_thanks_to_honor_labels(scraped: Scraped) -> None:
    prometheus, ns = scraped.prometheus, scraped.namespace
    (kept,) = prometheus.query(f'reviewops_analysis_ready{{job="{RELEASE}",name="backmarket-en"}}')
    assert kept["metric"]["namespace"] == ns
    assert kept["metric"]["service"] == RELEASE and kept["metric"]["endpoint"] == "metrics"
    assert kept["metric"]["pod"].startswith(RELEASE)
    (reconciles, *_) = prometheus.query(f'reviewops_reconcile_total{{job="{RELEASE}"}}')
    assert reconciles["metric"]["namespace"] == NAMESPACE  # no namespace of its own: the target's
    # Without honorLabels the target's namespace wins and the analysis' moves to exported_namespace:
    (renamed,) = prometheus.query('reviewops_analysis_ready{job="without-honor-labels",name="backmarket-en"}')
    assert renamed["metric"]["namespace"] == NAMESPACE and renamed["metric"]["exported_namespace"] == ns
    found, _ = run_promql(scraped, _only_job(scraped.dashboards["backmarket-en"], "without-honor-labels"))
    assert found["Latest model metrics"] == [], "the analysis dashboard would be empty without honorLabels"


def _only_job(dashboard: dict[str, Any], job: str) -> dict[str, Any]:
    """The dashboard with every analysis selector narrowed to one scrape job."""
    text_form = json.dumps(dashboard).replace(
        'namespace=\\"$namespace\\"', f'job=\\"{job}\\", namespace=\\"$namespace\\"'
    )
    loaded: dict[str, Any] = json.loads(text_form)
    return loaded


def _values(series: list[Any]) -> list[float]:
    points = [p for item in series for p in (item.get("values") or [item["value"]])]
    return [float(v) for _, v in points]


def test_every_promql_panel_runs_and_has_data_after_a_run(scraped: Scraped) -> None:
    succeeded, ran = run_promql(scraped, _only_job(scraped.dashboards["backmarket-en"], RELEASE))
    assert ran and all("$" not in expr for expr in ran), ran
    assert {title for title, series in succeeded.items() if not series} == set(), succeeded
    assert max(_values(succeeded["Latest finished run"])) == 1
    assert max(_values(succeeded["Run duration"])) > 1  # started, then done 2.5 s later (whole seconds)
    assert 0 < max(_values(succeeded["Hours since last success"])) < 0.1
    assert 86000 < max(_values(succeeded["Schedule interval"])) < 87000  # daily (DST aside)
    failed, _ = run_promql(scraped, _only_job(scraped.dashboards["oneshot-demo"], RELEASE))
    # A one-shot analysis that never succeeded: no last success, model metrics, next slot, interval.
    never = {"Hours since last success", "Latest model metrics", "Next run in", "Schedule interval"}
    assert {t for t, series in failed.items() if not series} == never
    assert min(_values(failed["Latest finished run"])) == 0
    operator, ran = run_promql(scraped, operator_dashboard())
    assert ran and all("$" not in expr for expr in ran), ran
    empty = {title for title, series in operator.items() if not series}
    # cAdvisor and kube-state-metrics are not part of this test: that panel alone may be empty.
    assert empty <= {"Container memory vs limit (cAdvisor, kube-state-metrics)"}, empty
    by_result = {
        s["metric"]["result"]: max(_values([s])) for s in operator["Runs finished per hour by result"]
    }
    assert by_result["success"] > 0 and by_result["failed"] > 0
    assert max(_values(operator["Reconcile errors per second"])) > 0
    assert any(not math.isnan(v) and v > 0 for v in _values(operator["Trigger-to-running latency"]))
    assert any(not math.isnan(v) and v > 0 for v in _values(operator["Run duration (trigger to end)"]))
    assert max(_values(operator["Latest run failed"])) == 1


def test_every_alert_rule_runs_on_the_real_scrape(scraped: Scraped) -> None:
    prometheus = scraped.prometheus
    deadline = time.monotonic() + 30
    while True:
        groups = prometheus.api("rules")["groups"]
        rules = [r for g in groups for r in g["rules"]]
        if (
            rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules)
        ) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(rules) == 7
    assert all(r["health"] == "ok" for r in rules), [(r["name"], r.get("lastError")) for r in rules]
    for rule in rules:
        prometheus.query(rule["query"])  # raises on a PromQL error
    firing = {a["labels"]["alertname"] for a in prometheus.api("alerts")["alerts"]}
    assert "ReviewOpsOperatorDown" not in firing, "up{job, namespace} of the rule matches the real scrape"
    # The rule's own selectors match the scraped series (no rule can be vacuous):
    for metric in ("reviewops_analysis_runs_total", "reviewops_analysis_sentiment_ratio",
                   "reviewops_analysis_sentiment_macro_f1", "reviewops_analysis_topic_coherence",
                   "reviewops_analysis_schedule_interval_seconds",
                   "reviewops_analysis_scheduled_since_timestamp_seconds",
                   "reviewops_reconcile_errors_total", "up"):  # fmt: skip
        assert prometheus.query(f'{metric}{{job="{RELEASE}"}}'), metric


def test_no_created_series_reach_prometheus(scraped: Scraped) -> None:
    assert scraped.prometheus.query('{__name__=~"reviewops_.+_created"}') == []
    assert scraped.prometheus.query('{__name__="reviewops_analysis_runs_total"}')
