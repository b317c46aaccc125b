"""Prometheus metrics: what one reconcile exports, and that a deleted analysis leaves no series."""

from __future__ import annotations

import datetime as dt

from prometheus_client.parser import text_string_to_metric_families

from reviewops.spec import parse_spec
from reviewops_operator.handlers import backoff
from reviewops_operator.identity import AnalysisRef
from reviewops_operator.metrics import OperatorMetrics
from reviewops_operator.passes import Observations
from reviewops_operator.status import READY, AnalysisStatus, RunRecord, results_from_summary

REF = AnalysisRef(namespace="insights", name="bm", uid="u", generation=1)
OTHER = AnalysisRef(namespace="insights", name="fr", uid="v", generation=1)


def samples(metrics: OperatorMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def labels(ref: AnalysisRef, **extra: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"namespace": ref.namespace, "name": ref.name, **extra}.items()))


def publish(metrics: OperatorMetrics, ref: AnalysisRef) -> None:
    status = AnalysisStatus(
        next_schedule_time="2024-05-02T04:00:00Z",
        last_schedule_time="2024-05-01T04:00:00Z",
        last_successful_time="2024-05-01T04:07:00Z",
        active_run=RunRecord("r2", "s", "running", "2024-05-01T04:00:00Z"),
        results=results_from_summary(
            {
                "reviews": 1500,
                "meanRating": 3.9,
                "coherence": 0.55,
                "macroF1": 0.8,
                "sentiment": {"positive": 0.6, "neutral": 0.1, "negative": 0.3},
            }
        ),
    )
    status.set_condition(READY, True, "Ready", "ok", 1, dt.datetime(2024, 5, 1, tzinfo=dt.UTC))
    metrics.publish(
        ref, parse_spec({"company": {"name": "BM", "domain": "www.example.com"}, "suspend": True}), status
    )
    done = RunRecord("r1", "s", "success", "2024-05-01T04:00:00Z", "2024-05-01T04:07:00Z")
    metrics.observe(ref, Observations(finished=[done], start_latencies=[4.2]))


def test_one_analysis_exports_schedule_state_runs_and_results() -> None:
    metrics = OperatorMetrics()
    publish(metrics, REF)
    got = samples(metrics)
    assert got[("reviewops_analysis_next_schedule_time_seconds", labels(REF))] == 1714622400.0
    assert got[("reviewops_analysis_last_schedule_timestamp_seconds", labels(REF))] == 1714536000.0
    assert got[("reviewops_analysis_last_successful_time_seconds", labels(REF))] == 1714536420.0
    assert got[("reviewops_analysis_spec_suspend", labels(REF))] == 1
    assert got[("reviewops_analysis_active", labels(REF))] == 1
    assert got[("reviewops_analysis_ready", labels(REF))] == 1
    assert got[("reviewops_analysis_runs_total", labels(REF, result="success"))] == 1
    assert got[("reviewops_analysis_runs_total", labels(REF, result="failed"))] == 0
    assert got[("reviewops_analysis_reviews", labels(REF))] == 1500
    assert got[("reviewops_analysis_sentiment_ratio", labels(REF, sentiment="negative"))] == 0.3
    assert got[("reviewops_analysis_topic_coherence", labels(REF))] == 0.55
    assert got[("reviewops_analysis_sentiment_macro_f1", labels(REF))] == 0.8
    assert got[("reviewops_analysis_trigger_to_running_seconds_count", ())] == 1
    assert any(name == "process_resident_memory_bytes" for name, _ in got)


def test_deleting_an_analysis_removes_all_its_series_and_only_its() -> None:
    metrics = OperatorMetrics()
    publish(metrics, REF)
    publish(metrics, OTHER)
    metrics.forget(REF)
    got = samples(metrics)
    assert not [key for key in got if ("name", "bm") in key[1]]
    assert got[("reviewops_analysis_reviews", labels(OTHER))] == 1500
    metrics.forget(REF)  # twice is harmless


def test_a_cleared_schedule_time_disappears_instead_of_going_stale() -> None:
    metrics = OperatorMetrics()
    publish(metrics, REF)
    metrics.publish(
        REF,
        parse_spec({"company": {"name": "BM", "domain": "www.example.com"}, "suspend": True}),
        AnalysisStatus(),
    )
    got = samples(metrics)
    assert ("reviewops_analysis_next_schedule_time_seconds", labels(REF)) not in got
    assert got[("reviewops_analysis_active", labels(REF))] == 0


def test_retry_backoff_doubles_up_to_the_ceiling() -> None:
    assert [backoff(n, 5, 300) for n in range(8)] == [5, 10, 20, 40, 80, 160, 300, 300]
    assert backoff(10_000, 5, 300) == 300
