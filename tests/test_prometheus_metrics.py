"""The operator's metrics for schedules, run outcomes and durations (alert rules and dashboards
read them), and the exposition without `_created` samples."""

from __future__ import annotations

import datetime as dt

from prometheus_client.parser import text_string_to_metric_families

from reviewops.spec import parse_spec
from reviewops_operator.identity import AnalysisRef
from reviewops_operator.metrics import OperatorMetrics
from reviewops_operator.passes import Observations
from reviewops_operator.status import SCHEDULED, AnalysisStatus, RunRecord

REF = AnalysisRef(namespace="insights", name="bm", uid="u", generation=1)
LABELS = (("name", "bm"), ("namespace", "insights"))
DAILY = parse_spec(
    {
        "company": {"name": "BM", "domain": "www.example.com"},
        "schedule": "0 6 * * *",
        "timeZone": "Europe/Paris",
    }
)


def samples(metrics: OperatorMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def status(next_slot: str = "2024-05-02T04:00:00Z", history: list[RunRecord] | None = None) -> AnalysisStatus:
    out = AnalysisStatus(next_schedule_time=next_slot, history=history or [])
    out.set_condition(SCHEDULED, True, "Scheduled", "ok", 1, dt.datetime(2024, 4, 1, 8, tzinfo=dt.UTC))
    return out


def test_schedule_interval_and_scheduled_since() -> None:
    metrics = OperatorMetrics()
    metrics.publish(REF, DAILY, status())
    got = samples(metrics)
    assert got[("reviewops_analysis_schedule_interval_seconds", LABELS)] == 86400
    assert got[("reviewops_analysis_scheduled_since_timestamp_seconds", LABELS)] == 1711958400
    # the night clocks go forward in Paris, the day is 23 hours long
    metrics.publish(REF, DAILY, status("2024-03-30T05:00:00Z"))
    assert samples(metrics)[("reviewops_analysis_schedule_interval_seconds", LABELS)] == 23 * 3600


def test_suspended_or_one_shot_analyses_have_no_interval() -> None:
    metrics = OperatorMetrics()
    metrics.publish(REF, DAILY, status())
    suspended = parse_spec(
        {"company": {"name": "BM", "domain": "www.example.com"}, "schedule": "0 6 * * *", "suspend": True}
    )
    paused = status(next_slot="")
    paused.set_condition(SCHEDULED, False, "Suspended", "s", 1, dt.datetime(2024, 4, 2, tzinfo=dt.UTC))
    metrics.publish(REF, suspended, paused)
    got = samples(metrics)
    assert ("reviewops_analysis_schedule_interval_seconds", LABELS) not in got
    assert ("reviewops_analysis_scheduled_since_timestamp_seconds", LABELS) not in got
    metrics.publish(
        REF, parse_spec({"company": {"name": "BM", "domain": "www.example.com"}}), AnalysisStatus()
    )
    assert ("reviewops_analysis_schedule_interval_seconds", LABELS) not in samples(metrics)


def test_latest_finished_run_outcome_and_duration() -> None:
    metrics = OperatorMetrics()
    assert ("reviewops_analysis_last_run_succeeded", LABELS) not in samples(metrics)
    ok = RunRecord("r1", "s", "success", "2024-05-01T04:00:00Z", "2024-05-01T04:07:30Z")
    bad = RunRecord("r2", "s", "failed", "2024-05-02T04:00:00Z", "2024-05-02T04:01:00Z")
    metrics.publish(REF, DAILY, status(history=[ok]))
    got = samples(metrics)
    assert got[("reviewops_analysis_last_run_succeeded", LABELS)] == 1
    assert got[("reviewops_analysis_last_run_duration_seconds", LABELS)] == 450
    metrics.publish(REF, DAILY, status(history=[ok, bad]))
    got = samples(metrics)
    assert got[("reviewops_analysis_last_run_succeeded", LABELS)] == 0
    assert got[("reviewops_analysis_last_run_duration_seconds", LABELS)] == 60


def test_run_duration_histogram_counts_every_finished_run_from_zero() -> None:
    metrics = OperatorMetrics()
    got = samples(metrics)
    for result in ("success", "failed"):  # present before the first run, so rate() sees it
        assert got[("reviewops_analysis_run_duration_seconds_count", (("result", result),))] == 0
    done = RunRecord("r1", "s", "success", "2024-05-01T04:00:00Z", "2024-05-01T04:20:00Z")
    metrics.observe(REF, Observations(finished=[done]))
    got = samples(metrics)
    assert got[("reviewops_analysis_run_duration_seconds_count", (("result", "success"),))] == 1
    assert got[("reviewops_analysis_run_duration_seconds_sum", (("result", "success"),))] == 1200


def test_forget_removes_the_new_series_too() -> None:
    metrics = OperatorMetrics()
    ok = RunRecord("r1", "s", "success", "2024-05-01T04:00:00Z", "2024-05-01T04:07:30Z")
    metrics.publish(REF, DAILY, status(history=[ok]))
    metrics.forget(REF)
    assert not [key for key in samples(metrics) if ("name", "bm") in key[1]]


def test_no_created_samples_are_exposed() -> None:
    metrics = OperatorMetrics()
    metrics.publish(REF, DAILY, status())
    metrics.reconciles.labels("timer").inc()
    text = metrics.render().decode()
    assert "_created" not in text
    assert "reviewops_analysis_runs_total" in text and "reviewops_reconcile_total" in text
    # prometheus_client does make them: the exposition drops them.
    assert any(s.name.endswith("_created") for m in metrics.registry.collect() for s in m.samples)
