"""`reviewops stage publish`: keyed on the run id, so retries never duplicate, and loud on failure.

A DAG task that cannot write the results store must fail (Airflow retries it) rather than warn
as `reviewops analyze` does; its retry must then reuse the MLflow run, and the sentiment model
that run logged, instead of creating second ones. MLflow is embedded here (SQLite);
tests/test_dag_airflow.py does the same against an MLflow server.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewops.cli import app
from reviewops.spec import parse_spec
from reviewops.stages import STAGES, RunArtifacts
from reviewops.store import count_rows, open_store
from reviewops_operator.identity import AnalysisRef, experiment_name, run_conf, scheduled_run_id

pytestmark = pytest.mark.slow
runner = CliRunner()
SPEC = parse_spec(
    {
        "company": {"name": "ReMarket", "domain": "www.example.com"},
        "source": {"type": "demo", "languages": ["en"], "demoSize": 200, "maxReviews": 200},
        "sentiment": {"method": "supervised"},
        "topics": {"algorithm": "nmf", "numTopics": 3},
    }
)
REF = AnalysisRef("insights", "remarket-nightly", uid="u-2", generation=1)


RUN_ID = scheduled_run_id(REF, dt.datetime(2026, 7, 1, 4, tzinfo=dt.UTC))


def publish() -> Any:
    return runner.invoke(app, ["stage", "publish", "--run-id", RUN_ID])


def _mlflow(tracking_uri: str) -> tuple[list[Any], list[Any]]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name(REF, SPEC))
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    return runs, client.search_logged_models([experiment.experiment_id])


def test_publish_fails_without_its_store_then_a_retry_reuses_the_mlflow_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracking = f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    (tmp_path / "mlflow").mkdir()
    monkeypatch.setenv("REVIEWOPS_ARTIFACTS_URL", str(tmp_path / "artifacts"))
    monkeypatch.setenv("REVIEWOPS_MLFLOW_TRACKING_URI", tracking)
    # mlflow.set_tracking_uri() exports MLFLOW_TRACKING_URI: owning it here lets monkeypatch
    # take it back, so later in-process runs (test_cli's demo) do not log into this test's store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    monkeypatch.setenv("REVIEWOPS_WORKERS", "1")
    # a store nobody listens on: the first publish attempt must fail, not warn
    monkeypatch.setenv("REVIEWOPS_STORE_URL", "postgresql+psycopg://reviewops@127.0.0.1:9/none")
    conf = json.dumps(run_conf(REF, SPEC, "2026-07-01T04:00:00Z", RUN_ID))
    assert runner.invoke(app, ["stage", "validate", "--run-id", RUN_ID, "--conf", conf]).exit_code == 0
    for name in STAGES[1:-1]:
        result = runner.invoke(app, ["stage", name, "--run-id", RUN_ID])
        assert result.exit_code == 0, result.output

    failed = publish()
    assert failed.exit_code == 1
    assert "publish could not write the results store" in failed.stderr
    assert "127.0.0.1:9" in failed.stderr  # which store, so the admin knows what to fix
    store = RunArtifacts(str(tmp_path / "artifacts"), RUN_ID)
    with pytest.raises(Exception, match="has not finished"):
        store.marker("publish")

    results_db = f"sqlite:///{tmp_path / 'results.db'}"
    monkeypatch.setenv("REVIEWOPS_STORE_URL", results_db)
    first = publish()
    assert first.exit_code == 0, first.output
    second = publish()
    assert second.exit_code == 0, second.output
    results = [json.loads(r.stdout.strip().splitlines()[-1]) for r in (first, second)]
    assert results[0] == results[1]
    runs, models = _mlflow(tracking)
    assert [r.info.run_id for r in runs] == [results[0]["mlflowRunId"]]  # one run for 3 attempts
    assert len(models) == 1  # and one sentiment model
    run = runs[0]
    assert run.data.tags["reviewops.run_id"] == RUN_ID
    assert run.data.tags["reviewops.analysis"] == "insights/remarket-nightly"
    assert run.data.metrics["reviews"] == 200
    artifacts = tmp_path / "mlflow" / "mlartifacts"  # beside the embedded database
    assert any(artifacts.rglob("report.html"))

    engine = open_store(results_db)
    try:
        counts = count_rows(engine, RUN_ID)
    finally:
        engine.dispose()
    assert counts["runs"] == 1 and counts["reviews"] == 200 and counts["review_scores"] == 200
    xcom = tmp_path / "xcom" / "return.json"
    result = runner.invoke(app, ["stage", "publish", "--run-id", RUN_ID, "--xcom-file", str(xcom)])
    assert result.exit_code == 0
    assert json.loads(xcom.read_text()) == results[0]
