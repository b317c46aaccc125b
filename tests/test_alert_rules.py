"""The chart's alert rules, as rendered by helm, checked and unit-tested by promtool.

Each alert has a case where it fires (with its exact labels and annotations) and cases where it
must not. Series carry the labels a ServiceMonitor scrape gives the operator's metrics with
honorLabels (tests/test_dashboard_queries.py runs the same rules against a real scrape).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.helm import NAMESPACE, RELEASE, full_values, one, render
from tests.support.servers import missing

JOB = RELEASE  # the release "reviewops" is named "reviewops": the Service, hence the job
ANALYSIS = f'job="{JOB}",namespace="insights"'
OPERATOR = f'job="{JOB}",namespace="{NAMESPACE}"'
ALERTS = {
    "ReviewOpsAnalysisFailing",
    "ReviewOpsAnalysisOverdue",
    "ReviewOpsNegativeShareSpike",
    "ReviewOpsSentimentQualityLow",
    "ReviewOpsTopicCoherenceLow",
    "ReviewOpsReconcileErrors",
    "ReviewOpsOperatorDown",
}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        missing("promtool not installed (apt-get install prometheus)")
    assert found is not None
    return found


def rule_file(folder: Path, values: dict[str, Any] | None = None) -> Path:
    """The PrometheusRule's spec (its `groups`) as a Prometheus rule file."""
    values = values or {"metrics": {"prometheusRule": {"enabled": True}}}
    rule = one(render(values, show_only=["templates/prometheusrule.yaml"]), "PrometheusRule")
    path = folder / "reviewops.rules.yaml"
    path.write_text(yaml.safe_dump(rule["spec"], sort_keys=False), encoding="utf-8")
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], capture_output=True, text=True, timeout=120, check=False)


def alert(name: str, labels: dict[str, str], summary: str, description: str) -> dict[str, Any]:
    return {
        "exp_labels": {"severity": "critical" if name == "ReviewOpsOperatorDown" else "warning", **labels},
        "exp_annotations": {"summary": summary, "description": description},
    }


def analysis(name: str, **extra: str) -> dict[str, str]:
    return {"job": JOB, "namespace": "insights", "name": name, **extra}


def series(metric: str, labels: str, values: str) -> dict[str, str]:
    return {"series": f"{metric}{{{labels}}}", "values": values}


def unit_tests() -> list[dict[str, Any]]:
    """promtool test cases, one group per alert (time starts at 0 = 1970-01-01T00:00:00Z)."""
    runs = "reviewops_analysis_runs_total"
    failing = {
        "interval": "10m",
        "input_series": [
            # bad: three failures, no success -> fires
            series(runs, f'{ANALYSIS},name="bad",result="failed"', "0x5 1 2 3x12"),
            series(runs, f'{ANALYSIS},name="bad",result="success"', "0x20"),
            # flaky: three failures and one success in the window -> quiet
            series(runs, f'{ANALYSIS},name="flaky",result="failed"', "0x5 1 2 3x12"),
            series(runs, f'{ANALYSIS},name="flaky",result="success"', "0x6 1x14"),
            # once: a single failure -> quiet
            series(runs, f'{ANALYSIS},name="once",result="failed"', "0x5 1x15"),
            series(runs, f'{ANALYSIS},name="once",result="success"', "0x20"),
        ],
        "alert_rule_test": [
            {"eval_time": "40m", "alertname": "ReviewOpsAnalysisFailing", "exp_alerts": []},
            {
                "eval_time": "2h",
                "alertname": "ReviewOpsAnalysisFailing",
                "exp_alerts": [
                    alert(
                        "ReviewOpsAnalysisFailing",
                        analysis("bad", result="failed"),
                        "Analysis insights/bad keeps failing",
                        "3 failed runs and no success in 1d (kubectl -n insights describe reviewanalysis "
                        "bad; Airflow task logs of the review_analysis DAG).",
                    )
                ],
            },
        ],
    }
    late = "reviewops_analysis_last_successful_time_seconds"
    since = "reviewops_analysis_scheduled_since_timestamp_seconds"
    every = "reviewops_analysis_schedule_interval_seconds"
    overdue = {
        "interval": "5m",
        "input_series": [
            # late: hourly, last success at 1h -> at 5h, 4h without success > 2 intervals
            series(late, f'{ANALYSIS},name="late"', "3600x60"),
            series(since, f'{ANALYSIS},name="late"', "0x60"),
            series(every, f'{ANALYSIS},name="late"', "3600x60"),
            # never: scheduled since 0, never succeeded -> 5h > 2 intervals
            series(since, f'{ANALYSIS},name="never"', "0x60"),
            series(every, f'{ANALYSIS},name="never"', "3600x60"),
            # ontime: last success at 4h -> quiet
            series(late, f'{ANALYSIS},name="ontime"', "14400x60"),
            series(since, f'{ANALYSIS},name="ontime"', "0x60"),
            series(every, f'{ANALYSIS},name="ontime"', "3600x60"),
            # resumed: old success, but scheduling became active again at 4.5h -> quiet
            series(late, f'{ANALYSIS},name="resumed"', "3600x60"),
            series(since, f'{ANALYSIS},name="resumed"', "16200x60"),
            series(every, f'{ANALYSIS},name="resumed"', "3600x60"),
            # suspended: no interval (and no scheduled-since) is exported -> quiet
            series(late, f'{ANALYSIS},name="suspended"', "3600x60"),
        ],
        "alert_rule_test": [
            {
                "eval_time": "5h",
                "alertname": "ReviewOpsAnalysisOverdue",
                "exp_alerts": [
                    alert(
                        "ReviewOpsAnalysisOverdue",
                        analysis(name),
                        f"Analysis insights/{name} has no recent successful run",
                        f"No successful run for {duration}: more than 2 schedule intervals (or since "
                        "scheduling became active). Runs may be stuck, skipped (Forbid) or failing.",
                    )
                    for name, duration in (("late", "4h 0m 0s"), ("never", "5h 0m 0s"))
                ],
            },
        ],
    }
    ratio = "reviewops_analysis_sentiment_ratio"
    negative = {
        "interval": "1h",
        "input_series": [
            series(ratio, f'{ANALYSIS},name="spike",sentiment="negative"', "0.2x150 0.4x10"),
            series(ratio, f'{ANALYSIS},name="steady",sentiment="negative"', "0.4x160"),
            series(ratio, f'{ANALYSIS},name="small",sentiment="negative"', "0.2x150 0.28x10"),
            series(ratio, f'{ANALYSIS},name="highbase",sentiment="negative"', "0.5x150 0.62x10"),
            series(ratio, f'{ANALYSIS},name="spike",sentiment="positive"', "0.7x150 0.2x10"),
        ],
        "alert_rule_test": [
            {"eval_time": "140h", "alertname": "ReviewOpsNegativeShareSpike", "exp_alerts": []},
            {
                "eval_time": "155h",
                "alertname": "ReviewOpsNegativeShareSpike",
                "exp_alerts": [
                    alert(
                        "ReviewOpsNegativeShareSpike",
                        analysis("spike", sentiment="negative"),
                        "Negative reviews of insights/spike jumped",
                        "The latest run's negative share is 20% points above its median over 7d. See the "
                        "analysis dashboard: negative drivers and recent negative reviews.",
                    )
                ],
            },
        ],
    }
    quality = {
        "interval": "1m",
        "input_series": [
            series("reviewops_analysis_sentiment_macro_f1", f'{ANALYSIS},name="weak"', "0.5x10"),
            series("reviewops_analysis_sentiment_macro_f1", f'{ANALYSIS},name="good"', "0.8x10"),
            series("reviewops_analysis_topic_coherence", f'{ANALYSIS},name="weak"', "0.05x10"),
            series("reviewops_analysis_topic_coherence", f'{ANALYSIS},name="good"', "0.35x10"),
        ],
        "alert_rule_test": [
            {
                "eval_time": "5m",
                "alertname": "ReviewOpsSentimentQualityLow",
                "exp_alerts": [
                    alert(
                        "ReviewOpsSentimentQualityLow",
                        analysis("weak"),
                        "Sentiment model of insights/weak is weak",
                        "Macro-F1 against star labels is 0.500, below 0.6: the sentiment shares of this "
                        "analysis are not trustworthy.",
                    )
                ],
            },
            {
                "eval_time": "5m",
                "alertname": "ReviewOpsTopicCoherenceLow",
                "exp_alerts": [
                    alert(
                        "ReviewOpsTopicCoherenceLow",
                        analysis("weak"),
                        "Topics of insights/weak are incoherent",
                        "Topic NPMI coherence is 0.050, below 0.1: topics mix unrelated terms (try another "
                        "numTopics or algorithm).",
                    )
                ],
            },
        ],
    }
    reconcile = {
        "interval": "1m",
        "input_series": [
            series("reviewops_reconcile_total", f'{OPERATOR},handler="timer"', "0+60x60"),
            series(
                "reviewops_reconcile_errors_total",
                f'{OPERATOR},handler="timer",reason="AirflowUnavailable"',
                "0x10 0+30x50",
            ),
            series(
                "reviewops_reconcile_errors_total",
                f'{OPERATOR},handler="timer",reason="MLflowUnavailable"',
                "0+1x60",
            ),
        ],
        "alert_rule_test": [
            {"eval_time": "20m", "alertname": "ReviewOpsReconcileErrors", "exp_alerts": []},  # not for 15m
            {
                "eval_time": "45m",
                "alertname": "ReviewOpsReconcileErrors",
                "exp_alerts": [
                    alert(
                        "ReviewOpsReconcileErrors",
                        {"job": JOB, "namespace": NAMESPACE, "reason": "AirflowUnavailable"},
                        "The reviewops operator fails reconciles (AirflowUnavailable)",
                        "50% of reconciles meet AirflowUnavailable; the Events and conditions of the "
                        "analyses name the failing system.",
                    )
                ],
            },
        ],
    }
    down_alert = alert(
        "ReviewOpsOperatorDown",
        {"job": JOB, "namespace": NAMESPACE},
        "The reviewops operator is down or not scraped",
        f"No healthy scrape of job {JOB} in namespace {NAMESPACE}: no analysis is scheduled, followed or "
        "reported.",
    )
    up_series = [series("up", OPERATOR, "1x30")]
    down_series = [series("up", OPERATOR, "1x5 0x30")]
    other = [series("up", f'job="something-else",namespace="{NAMESPACE}"', "1x30")]
    up: list[dict[str, Any]] = [
        {"interval": "1m", "input_series": up_series,
         "alert_rule_test": [{"eval_time": "20m", "alertname": "ReviewOpsOperatorDown", "exp_alerts": []}]},
        {"interval": "1m", "input_series": down_series,
         "alert_rule_test": [{"eval_time": "8m", "alertname": "ReviewOpsOperatorDown", "exp_alerts": []},
                             {"eval_time": "20m", "alertname": "ReviewOpsOperatorDown",
                              "exp_alerts": [down_alert]}]},
        {"interval": "1m", "input_series": other,  # never scraped at all
         "alert_rule_test": [{"eval_time": "20m", "alertname": "ReviewOpsOperatorDown",
                              "exp_alerts": [down_alert]}]},
    ]  # fmt: skip
    return [failing, overdue, negative, quality, reconcile, *up]


def test_rules_pass_promtool_check(tmp_path: Path) -> None:
    for values in ({"metrics": {"prometheusRule": {"enabled": True}}}, full_values()):
        path = rule_file(tmp_path, values)
        done = run("check", "rules", str(path))
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"SUCCESS: {len(ALERTS)} rules found" in done.stdout, done.stdout


def test_every_alert_fires_and_stays_quiet_when_it_should(tmp_path: Path) -> None:
    path = rule_file(tmp_path)
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert {r["alert"] for g in rules["groups"] for r in g["rules"]} == ALERTS
    tests = unit_tests()
    covered = {case["alertname"] for t in tests for case in t["alert_rule_test"] if case["exp_alerts"]}
    quiet = {
        case["alertname"]
        for t in tests
        for case in t["alert_rule_test"]
        if not case["exp_alerts"] or len(case["exp_alerts"]) < len(t["input_series"])
    }
    assert covered == ALERTS and quiet == ALERTS, "every alert needs a firing and a quiet case"
    spec = tmp_path / "reviewops.test.yaml"
    spec.write_text(
        yaml.safe_dump(
            {"rule_files": [path.name], "evaluation_interval": "1m", "tests": tests}, sort_keys=False
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [promtool(), "test", "rules", spec.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_a_broken_expectation_fails(tmp_path: Path) -> None:
    """The promtool harness is not vacuous: expecting the quiet `flaky` analysis to fire fails."""
    path = rule_file(tmp_path)
    failing = unit_tests()[0]
    failing["alert_rule_test"][1]["exp_alerts"][0]["exp_labels"]["name"] = "flaky"
    spec = tmp_path / "broken.test.yaml"
    spec.write_text(yaml.safe_dump({"rule_files": [path.name], "tests": [failing]}), encoding="utf-8")
    done = subprocess.run(
        [promtool(), "test", "rules", spec.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0


@pytest.mark.parametrize("window", ["12h", "2d"])
def test_thresholds_come_from_values(tmp_path: Path, window: str) -> None:
    values = {"metrics": {"prometheusRule": {"enabled": True, "failingRuns": {"count": 5, "window": window}}}}
    rules = yaml.safe_load(rule_file(tmp_path, values).read_text(encoding="utf-8"))
    expr = rules["groups"][0]["rules"][0]["expr"]
    assert f'result="failed"}}[{window}]) >= 5' in expr
