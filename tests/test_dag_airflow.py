"""The DAG on a real Airflow 3 (local mode), with a real MLflow server and PostgreSQL results store.

The operator's own Airflow client triggers `review_analysis` with a conf made by the operator's
`run_conf` and reads the publish task's XCom the way reconcile does; `results_from_summary` must
turn it into status results. Then: the MLflow run and the store rows exist once, clearing the
publish task (a retry by hand) reuses both, and a bad conf fails at validate, naming the field.
Timings are printed (pytest -s): DAG visible after start, trigger -> success, clear -> success.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reviewops.spec import parse_spec
from reviewops_operator.clients.airflow import AirflowRestClient
from reviewops_operator.identity import (
    AnalysisRef,
    experiment_name,
    oneshot_run_id,
    run_conf,
    slot_of,
)
from reviewops_operator.status import results_from_summary
from tests.support.airflow_server import VENV_BIN, AirflowServer, MlflowServer
from tests.support.servers import postgres_server

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(420)]

DAGS = Path(__file__).resolve().parent.parent / "dags"
DAG_ID = "review_analysis"
REVIEWS = 300
SPEC = parse_spec(
    {
        "company": {"name": "ReMarket", "domain": "www.remarket.example"},
        "source": {"type": "demo", "languages": ["en"], "demoSize": REVIEWS, "maxReviews": REVIEWS},
        "sentiment": {"method": "supervised"},
        "topics": {"algorithm": "nmf", "numTopics": 4},
    }
)
GOOD = AnalysisRef("insights", "remarket-dag", uid="uid-good", generation=1)
BAD = AnalysisRef("insights", "remarket-bad", uid="uid-bad", generation=3)


@dataclass
class Stack:
    airflow: AirflowServer
    client: AirflowRestClient
    mlflow_url: str
    store_url: str
    artifacts: Path
    timings: dict[str, float]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("dag-airflow")
    (root / "mlflow").mkdir()
    mlflow = MlflowServer(root / "mlflow")
    mlflow.start()  # boots while Airflow migrates its database
    with postgres_server() as store_url:
        env = {
            "REVIEWOPS_DAG_MODE": "local",
            "REVIEWOPS_DAG_COMMAND": str(VENV_BIN / "reviewops"),
            "REVIEWOPS_DAG_RETRIES": "1",
            "REVIEWOPS_DAG_RETRY_DELAY_SECONDS": "2",
            "REVIEWOPS_STORE_URL": store_url,
            "REVIEWOPS_MLFLOW_TRACKING_URI": mlflow.url,
            "REVIEWOPS_ARTIFACTS_URL": str(root / "artifacts"),
            "REVIEWOPS_WORKERS": "1",
        }
        airflow = AirflowServer(DAGS, env, parallelism=2)
        timings: dict[str, float] = {}
        try:
            started = time.monotonic()
            airflow.start()
            mlflow.wait()
            airflow.wait()
            timings["start -> airflow healthy"] = time.monotonic() - started
            timings["healthy -> DAG parsed and visible"] = airflow.wait_for_dag(DAG_ID)
            client = AirflowRestClient(airflow.url, "admin", "admin", DAG_ID, timeout=15)
            yield Stack(airflow, client, mlflow.url, store_url, root / "artifacts", timings)
        finally:
            airflow.stop()
            mlflow.stop()
            airflow.cleanup()
            print("\n" + "\n".join(f"{k}: {v:.1f} s" for k, v in timings.items()))


@pytest.fixture(scope="module")
def runs(stack: Stack) -> dict[str, str]:
    """Trigger the good and the bad run together (as the operator would), wait for both."""
    good_id, bad_id = oneshot_run_id(GOOD, 1), oneshot_run_id(BAD, 3)
    bad_conf = run_conf(BAD, SPEC, slot_of(bad_id), bad_id)
    bad_conf["spec"]["source"]["maxReviews"] = 0  # what a hand-made or skewed conf could hold
    started = time.monotonic()
    assert stack.client.trigger(good_id, run_conf(GOOD, SPEC, slot_of(good_id), good_id))
    assert stack.client.trigger(bad_id, bad_conf)
    assert not stack.client.trigger(good_id, {})  # 409: a restarted operator never runs it twice
    states = {run_id: stack.airflow.wait_for_run(DAG_ID, run_id, 240) for run_id in (bad_id, good_id)}
    stack.timings["trigger -> success"] = time.monotonic() - started
    print(f"\ntrigger -> success: {stack.timings['trigger -> success']:.1f} s")
    return {"good": good_id, "bad": bad_id, **{f"state {k}": v for k, v in states.items()}}


def _mlflow_runs(stack: Stack, run_id: str) -> tuple[list[Any], list[Any]]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(stack.mlflow_url)
    experiment = client.get_experiment_by_name(experiment_name(GOOD, SPEC))
    assert experiment is not None
    found = client.search_runs(
        [experiment.experiment_id], filter_string=f"tags.`reviewops.run_id` = '{run_id}'"
    )
    models = client.search_logged_models([experiment.experiment_id])
    return found, models


def _store_counts(stack: Stack, run_id: str) -> tuple[dict[str, int], dict[str, Any] | None]:
    from reviewops.store import count_rows, open_store, read_run

    engine = open_store(stack.store_url)
    try:
        return count_rows(engine, run_id), read_run(engine, run_id)
    finally:
        engine.dispose()


def test_a_run_succeeds_and_publishes_what_the_operator_reads(stack: Stack, runs: dict[str, str]) -> None:
    run_id = runs["good"]
    instances = stack.airflow.task_instances(DAG_ID, run_id)
    states = {ti["task_id"]: ti["state"] for ti in instances}
    assert runs[f"state {run_id}"] == "success", (states, stack.airflow.logs())
    durations = ", ".join(f"{ti['task_id']} {ti['duration'] or 0:.1f} s" for ti in instances)
    print(f"\ntask durations: {durations}")
    assert states == dict.fromkeys(
        ("validate", "load", "preprocess", "sentiment", "topics", "insights", "publish"), "success"
    )
    summary = stack.client.results(run_id)  # the operator's read of the publish XCom
    assert summary is not None
    results = results_from_summary(summary)
    assert results["reviews"] == REVIEWS
    assert 1 <= results["meanRating"] <= 5
    assert set(results["sentiment"]) == {"positive", "neutral", "negative"}
    assert abs(sum(results["sentiment"].values()) - 1) < 0.01
    assert len(results["topTopics"]) == 4 and 0 < results["macroF1"] <= 1
    assert "coherence" in results and "negativePercent" in results

    found, models = _mlflow_runs(stack, run_id)
    assert [r.info.run_id for r in found] == [summary["mlflowRunId"]]
    mlflow_run = found[0]
    assert mlflow_run.data.metrics["reviews"] == REVIEWS
    assert mlflow_run.data.params["source.type"] == "demo"
    from mlflow.tracking import MlflowClient

    artifacts = {a.path for a in MlflowClient(stack.mlflow_url).list_artifacts(mlflow_run.info.run_id)}
    assert {"summary.json", "report.html", "topics.json", "wordclouds"} <= artifacts
    assert len(models) == 1  # the trained sentiment model, logged once

    counts, row = _store_counts(stack, run_id)
    assert counts["runs"] == 1 and counts["reviews"] == REVIEWS and counts["review_scores"] == REVIEWS
    # Every theme and sub-theme has its row (4 broad themes were asked for).
    assert counts["topics"] == 4 + int(mlflow_run.data.metrics["subthemes_k"]) and counts["topic_terms"] > 0
    assert row is not None and row["mlflow_run_id"] == summary["mlflowRunId"]
    assert row["analysis"] == "insights/remarket-dag"
    assert (stack.artifacts / run_id / "publish" / "report.html").stat().st_size > 10_000
    published = json.loads((stack.artifacts / run_id / "publish" / "results.json").read_text())
    assert published == summary  # the XCom is exactly what publish wrote, nothing else
    raw = stack.airflow.call(
        "GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/publish/xcomEntries/return_value"
    ).json()["value"]
    print(f"\npublish XCom value in the REST answer: {type(raw).__name__} {str(raw)[:80]}...")


def test_clearing_publish_reuses_the_mlflow_run_and_replaces_the_store_rows(
    stack: Stack, runs: dict[str, str]
) -> None:
    run_id = runs["good"]
    before = stack.client.results(run_id)
    counts_before, _ = _store_counts(stack, run_id)
    started = time.monotonic()
    stack.airflow.clear_task(DAG_ID, run_id, ["publish"])
    time.sleep(1)  # the run goes back to queued/running
    assert stack.airflow.wait_for_run(DAG_ID, run_id, 120) == "success", stack.airflow.logs()
    stack.timings["clear publish -> success"] = time.monotonic() - started
    print(f"\nclear publish -> success: {stack.timings['clear publish -> success']:.1f} s")
    after = stack.client.results(run_id)
    assert after is not None and before is not None
    assert after["mlflowRunId"] == before["mlflowRunId"]
    found, models = _mlflow_runs(stack, run_id)
    assert len(found) == 1 and len(models) == 1
    counts_after, _ = _store_counts(stack, run_id)
    assert counts_after == counts_before
    assert "stage publish" in stack.airflow.task_log(DAG_ID, run_id, "publish", try_number=2)


def test_a_bad_conf_fails_at_validate_naming_the_field(stack: Stack, runs: dict[str, str]) -> None:
    run_id = runs["bad"]
    assert runs[f"state {run_id}"] == "failed"
    states = stack.airflow.task_states(DAG_ID, run_id)
    assert states["validate"] == "failed"
    assert all(states[t] in {"upstream_failed", None} for t in states if t != "validate"), states
    log = stack.airflow.task_log(DAG_ID, run_id, "validate")
    assert "spec.source.maxReviews" in log and "greater than or equal to 1" in log, log[-2000:]
    assert stack.client.results(run_id) is None
