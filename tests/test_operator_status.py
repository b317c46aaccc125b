"""Status rules: conditions, run bookkeeping, history bounds, results, the patch sent."""

from __future__ import annotations

import datetime as dt

from reviewops_operator.identity import HANDLED_RUN_NOW_ANNOTATION, TRIGGERED_GENERATION_ANNOTATION
from reviewops_operator.status import (
    READY,
    AnalysisStatus,
    RunRecord,
    bookkeeping_patch,
    results_from_summary,
    status_patch,
)

T0 = dt.datetime(2024, 5, 1, 6, tzinfo=dt.UTC)


def test_last_transition_time_moves_only_when_the_status_flips() -> None:
    status = AnalysisStatus()
    assert status.set_condition(READY, False, "Pending", "starting", 1, T0)
    assert not status.set_condition(READY, False, "AirflowUnavailable", "down", 2, T0 + dt.timedelta(hours=1))
    ready = status.condition(READY)
    assert ready is not None
    assert (ready.last_transition_time, ready.reason, ready.observed_generation) == (
        "2024-05-01T06:00:00Z",
        "AirflowUnavailable",
        2,
    )
    assert status.set_condition(READY, True, "Ready", "ok", 2, T0 + dt.timedelta(hours=2))
    assert ready.last_transition_time == "2024-05-01T08:00:00Z"
    assert status.is_true(READY)


def test_finishing_runs_updates_counters_history_and_last_success() -> None:
    status = AnalysisStatus()
    status.start_run(RunRecord("r1", "s1", "queued", "2024-05-01T06:00:00Z"))
    status.finish_run("r1", "success", T0 + dt.timedelta(minutes=5))
    status.start_run(RunRecord("r2", "s2", "running", "2024-05-02T06:00:00Z"))
    status.finish_run("r2", "failed", T0 + dt.timedelta(days=1, minutes=3))
    assert status.active_run is None
    assert (status.succeeded_runs, status.failed_runs) == (1, 1)
    assert status.last_successful_time == "2024-05-01T06:05:00Z"
    assert [(h.run_id, h.state) for h in status.history] == [("r1", "success"), ("r2", "failed")]
    assert status.finish_run("r2", "success", T0) is None  # already finished: no double count
    assert status.succeeded_runs == 1


def test_allow_keeps_following_the_older_unfinished_run() -> None:
    status = AnalysisStatus()
    status.start_run(RunRecord("r1", "s1", "running", "2024-05-01T06:00:00Z"))
    status.start_run(RunRecord("r2", "s2", "queued", "2024-05-02T06:00:00Z"))
    assert [r.run_id for r in status.runs_in_flight()] == ["r1", "r2"]
    status.finish_run("r1", "success", T0)
    assert [r.run_id for r in status.runs_in_flight()] == ["r2"]


def test_history_keeps_the_newest_runs_per_outcome_and_every_unfinished_one() -> None:
    status = AnalysisStatus(
        history=[
            RunRecord("s1", "a", "success", "t", "2024-05-01T00:00:00Z"),
            RunRecord("f1", "b", "failed", "t", "2024-05-02T00:00:00Z"),
            RunRecord("old-running", "c", "running", "t"),
            RunRecord("s2", "d", "success", "t", "2024-05-03T00:00:00Z"),
            RunRecord("f2", "e", "failed", "t", "2024-05-04T00:00:00Z"),
            RunRecord("s3", "f", "success", "t", "2024-05-05T00:00:00Z"),
        ]
    )
    status.prune_history(successful_limit=2, failed_limit=1)
    assert [h.run_id for h in status.history] == ["old-running", "s2", "f2", "s3"]
    status.prune_history(successful_limit=0, failed_limit=0)
    assert [h.run_id for h in status.history] == ["old-running"]


def test_results_are_read_from_the_published_summary_and_bounded() -> None:
    summary = {
        "reviews": 1200,
        "meanRating": 4.1,
        "sentiment": {"positive": 0.7, "neutral": 0.1, "negative": 0.2},
        "topTopics": ["delivery", "battery", "refund", "screen", "price", "support", "extra"],
        "negativeDrivers": [{"label": "battery", "share": 0.4}, "refund"],
        "macroF1": 0.81,
        "coherence": 0.52,
        "mlflowRunId": "abc",
    }
    results = results_from_summary(summary)
    assert results == {
        "reviews": 1200,
        "meanRating": 4.1,
        "sentiment": {"positive": 0.7, "neutral": 0.1, "negative": 0.2},
        "negativePercent": 20.0,
        "topTopics": ["delivery", "battery", "refund", "screen", "price"],
        "negativeDrivers": ["battery", "refund"],
        "macroF1": 0.81,
        "coherence": 0.52,
    }
    assert results_from_summary({"reviews": 3, "macroF1": None}) == {
        "reviews": 3,
        "topTopics": [],
        "negativeDrivers": [],
    }


def test_status_round_trips_and_tolerates_foreign_content() -> None:
    raw = {
        "phase": "Running",
        "observedGeneration": 4,
        "succeededRuns": 2,
        "failedRuns": "x",
        "conditions": [{"type": "Ready", "status": "True"}, {"type": "SomethingElse", "status": "True"}],
        "activeRun": {"runId": "ra__n__a__gen-4", "state": "running", "startedAt": "2024-05-01T06:00:00Z"},
        "kopf": {"progress": {}},
    }
    status = AnalysisStatus.from_dict(raw, {TRIGGERED_GENERATION_ANNOTATION: "4"})
    assert status.failed_runs == 0 and status.last_triggered_generation == 4
    assert [c.type for c in status.conditions] == ["Ready"]
    assert status.active_run is not None and status.active_run.slot == "gen-4"
    again = AnalysisStatus.from_dict(status.to_dict(), {TRIGGERED_GENERATION_ANNOTATION: "4"})
    assert again.to_dict() == status.to_dict()


def test_patch_deletes_fields_that_went_away_and_never_sends_other_nulls() -> None:
    status = AnalysisStatus(phase="Succeeded", observed_generation=1)
    patch = status_patch(status, {"activeRun": {"runId": "r1"}, "phase": "Running", "kopf": {"x": 1}})
    assert patch["activeRun"] is None  # merge patch: delete it
    assert "results" not in patch and "lastScheduleTime" not in patch
    assert "kopf" not in patch  # not ours
    assert patch["phase"] == "Succeeded"


def test_an_unchanged_status_writes_nothing_and_a_changed_one_only_the_difference() -> None:
    status = AnalysisStatus(phase="Succeeded", observed_generation=1, results={"reviews": 10, "macroF1": 0.8})
    current = status_patch(status, None)
    assert status_patch(status, current) == {}
    status.results = {"reviews": 12}
    assert status_patch(status, current) == {"results": {"reviews": 12, "macroF1": None}}


def test_bookkeeping_is_written_to_annotations_only_when_it_changes() -> None:
    status = AnalysisStatus(last_run_now="v2", last_triggered_generation=3)
    current = {HANDLED_RUN_NOW_ANNOTATION: "v1", TRIGGERED_GENERATION_ANNOTATION: "3"}
    assert bookkeeping_patch(status, current) == {HANDLED_RUN_NOW_ANNOTATION: "v2"}
    assert bookkeeping_patch(AnalysisStatus(), current) == {}


def test_the_model_decision_of_publish_reaches_the_status_typed_fields_only() -> None:
    from reviewops_operator.status import results_from_summary

    summary = {
        "reviews": 300,
        "model": {
            "name": "reviewops.insights.bm", "version": "3", "registered": True, "macroF1": 0.81,
            "championBefore": "2", "championMacroF1": 0.79, "promoted": True, "champion": "3",
            "reason": "0.810 >= 0.790", "uri": "models:/reviewops.insights.bm@champion",
            "unknown": "dropped", "promotedAt": 5,
        },
    }  # fmt: skip
    model = results_from_summary(summary)["model"]
    assert model["version"] == "3" and model["promoted"] is True and model["championMacroF1"] == 0.79
    assert "unknown" not in model and "promotedAt" not in model
    bad = results_from_summary({"model": {"version": 3, "promoted": "yes", "macroF1": True}})
    assert "model" not in bad  # nothing well typed: no block at all
    assert "model" not in results_from_summary({"reviews": 1})
