"""`reviewops stage ...` chained on the demo data, through an in-memory artifact store.

The chain must give the figures `run_analysis` gives for the same spec (the DAG cuts the engine
into processes, it does not reimplement it); a retried stage must replace its outputs; a bad
conf or missing settings must fail at validate with exit code 2, naming the field or variable.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewops.cli import app
from reviewops.pipeline import RunOptions, run_analysis
from reviewops.spec import parse_spec
from reviewops.stages import STAGES, RunArtifacts
from reviewops.store import count_rows, open_store, read_run
from reviewops_operator.identity import AnalysisRef, oneshot_run_id, run_conf, slot_of
from reviewops_operator.status import results_from_summary

runner = CliRunner()
SPEC = parse_spec(
    {
        "company": {"name": "ReMarket", "domain": "www.example.com"},
        "source": {"type": "demo", "languages": ["en"], "demoSize": 240, "maxReviews": 240, "seed": 3},
        "sentiment": {"method": "supervised"},
        "topics": {"algorithm": "nmf", "numTopics": 3},
        "mlflow": {"enabled": False},
    }
)
REF = AnalysisRef("insights", "remarket", uid="u-1", generation=2)
RUN_ID = oneshot_run_id(REF, 2)
CONF = run_conf(REF, SPEC, slot_of(RUN_ID), RUN_ID)


def stage(*args: str) -> Any:
    return runner.invoke(app, ["stage", *args])


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Fresh analysis settings: an empty memory:// store and a SQLite results store."""
    values = {
        "REVIEWOPS_ARTIFACTS_URL": f"memory://reviewops-test-{uuid.uuid4().hex}",
        "REVIEWOPS_STORE_URL": f"sqlite:///{tmp_path / 'results.db'}",
        "REVIEWOPS_WORKERS": "1",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in ("REVIEWOPS_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        monkeypatch.setenv(name, "")  # recorded first, so whatever MLflow exports is undone
        monkeypatch.delenv(name)
    yield values
    import fsspec

    fs = fsspec.filesystem("memory")
    root = values["REVIEWOPS_ARTIFACTS_URL"].removeprefix("memory://")
    if fs.exists(root):
        fs.rm(root, recursive=True)


def run_chain(conf: dict[str, Any] = CONF, run_id: str = RUN_ID) -> dict[str, Any]:
    """Every stage in DAG order; returns publish's results (its last stdout line)."""
    result = stage("validate", "--run-id", run_id, "--conf", json.dumps(conf))
    assert result.exit_code == 0, result.output
    for name in STAGES[1:]:
        result = stage(name, "--run-id", run_id)
        assert result.exit_code == 0, f"{name}: {result.output}"
        assert f"stage {name}:" in result.stderr
    results: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return results


@pytest.mark.slow
def test_the_chain_gives_what_run_analysis_gives(env: dict[str, str], tmp_path: Path) -> None:
    results = run_chain()
    store = RunArtifacts(env["REVIEWOPS_ARTIFACTS_URL"], RUN_ID)
    for name in STAGES:
        assert store.marker(name)["run_id"] == RUN_ID
    assert store.marker("sentiment")["files"] == ["model.joblib", "result.json", "scores.npz"]
    assert "report.html" in store.marker("publish")["files"]
    summary = store.read_json("publish", "summary.json")
    assert summary["run_id"] == RUN_ID and summary["analysis"] == "insights/remarket"
    assert summary["outputs"]["report"] == store.url("publish", "report.html")
    assert set(summary["timings"]) >= {"load", "preprocess", "sentiment", "topics", "insights", "total"}

    # the operator's reader turns the results into status results
    status = results_from_summary(results)
    assert status["reviews"] == 240 and len(status["topTopics"]) == 3 and status["macroF1"] > 0.3
    assert results["mlflowRunId"] is None  # MLflow disabled in this spec

    whole = run_analysis(
        SPEC, RunOptions(out_dir=tmp_path / "whole", store_url="", mlflow=False, workers=1)
    ).summary
    for key in ("reviews", "mean_rating", "rating_distribution", "negative_drivers", "rising_topics"):
        assert summary[key] == whole[key], key
    assert summary["sentiment"]["shares"] == whole["sentiment"]["shares"]
    assert summary["sentiment"]["evaluation"] == whole["sentiment"]["evaluation"]
    assert summary["topics"]["items"] == whole["topics"]["items"]
    assert summary["timeline"] == whole["timeline"]

    engine = open_store(env["REVIEWOPS_STORE_URL"])
    try:
        assert count_rows(engine, RUN_ID)["reviews"] == 240
        row = read_run(engine, RUN_ID)
        assert row is not None and row["analysis"] == "insights/remarket"
    finally:
        engine.dispose()


@pytest.mark.slow
def test_source_problems_reach_the_runs_warnings_as_in_analyze(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv

    path = tmp_path / "exports" / "reviews.csv"
    path.parent.mkdir()
    words = ["battery died", "screen cracked", "fast delivery", "great price", "refund slow", "works well"]
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["text", "rating"])
        for i in range(60):
            rating = "five stars?" if i % 10 == 0 else str(1 + i % 5)  # 6 unreadable ratings
            out.writerow([f"{words[i % 6]} and {words[(i * 7) % 6]} again, review {i}", rating])
    monkeypatch.setenv("REVIEWOPS_ALLOWED_FILE_ROOTS", str(path.parent))
    spec = {
        "company": {"name": "ReMarket"},
        "source": {"type": "file", "path": str(path)},
        "sentiment": {"method": "ratings"},
        "topics": {"algorithm": "nmf", "numTopics": 2},
        "mlflow": {"enabled": False},
    }
    run_chain({"spec": spec, "analysis": {"namespace": "insights", "name": "files"}}, "files-1")
    summary = RunArtifacts(env["REVIEWOPS_ARTIFACTS_URL"], "files-1").read_json("publish", "summary.json")
    whole = run_analysis(
        parse_spec(spec), RunOptions(out_dir=tmp_path / "whole", store_url="", mlflow=False, workers=1)
    ).summary
    about_file = [w for w in summary["warnings"] if "reviews.csv" in w]
    assert about_file and "five stars?" in " ".join(about_file)
    assert about_file == [w for w in whole["warnings"] if "reviews.csv" in w]


@pytest.mark.slow
def test_a_retried_stage_replaces_its_outputs(env: dict[str, str]) -> None:
    run_chain()
    store = RunArtifacts(env["REVIEWOPS_ARTIFACTS_URL"], RUN_ID)
    first = store.marker("topics")
    store.write_bytes("topics", "stray-from-a-crashed-attempt.json", b"{}")
    engine = open_store(env["REVIEWOPS_STORE_URL"])
    try:
        rows = count_rows(engine, RUN_ID)
        for name in ("topics", "insights", "publish"):  # Airflow clearing topics and downstream
            result = stage(name, "--run-id", RUN_ID)
            assert result.exit_code == 0, result.output
        assert store.marker("topics")["files"] == first["files"]  # the stray file is gone
        assert not store.fs.exists(store.path("topics", "stray-from-a-crashed-attempt.json"))
        assert count_rows(engine, RUN_ID) == rows  # the run's rows were replaced, not added
    finally:
        engine.dispose()


def test_a_bad_conf_fails_validate_naming_each_field(env: dict[str, str]) -> None:
    bad = json.loads(json.dumps(CONF))
    bad["spec"]["source"]["maxReviews"] = 0
    bad["spec"]["topics"]["algorithm"] = "kmeans"
    bad["analysis"]["namespace"] = ""
    result = stage("validate", "--run-id", RUN_ID, "--conf", json.dumps(bad))
    assert result.exit_code == 2
    message = result.stderr
    assert "stage validate failed: invalid conf:" in message
    assert "spec.source.maxReviews: Input should be greater than or equal to 1" in message
    assert "spec.topics.algorithm:" in message and "analysis.namespace:" in message

    for conf, field in (("{}", "spec: required"), ('{"spec": []}', "spec: expected an object")):
        result = stage("validate", "--run-id", RUN_ID, "--conf", conf)
        assert result.exit_code == 2 and field in result.stderr, result.stderr
    result = stage("validate", "--run-id", RUN_ID, "--conf", "{not json")
    assert result.exit_code == 2 and "not valid JSON" in result.stderr
    store = RunArtifacts(env["REVIEWOPS_ARTIFACTS_URL"], RUN_ID)
    assert not store.fs.exists(store.path("validate", "conf.json"))  # nothing kept for later stages


def test_validate_reads_conf_from_stdin_or_a_file_and_checks_settings(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = runner.invoke(
        app, ["stage", "validate", "--run-id", RUN_ID, "--conf", "-"], input=json.dumps(CONF)
    )
    assert result.exit_code == 0, result.output
    assert "valid: insights/remarket (demo source" in result.stderr
    conf_file = tmp_path / "conf.yaml"
    conf_file.write_text(
        "spec:\n  company: {name: ReMarket, domain: www.example.com}\n  mlflow: {enabled: true}\n"
    )
    result = stage("validate", "--run-id", "manual__2026-01-01T00:00:00+00:00", "--conf", str(conf_file))
    assert result.exit_code == 2  # MLflow enabled but no tracking URI set
    assert "REVIEWOPS_MLFLOW_TRACKING_URI is not set" in result.stderr
    monkeypatch.delenv("REVIEWOPS_STORE_URL")
    result = stage("validate", "--run-id", RUN_ID, "--conf", json.dumps(CONF))
    assert result.exit_code == 2 and "REVIEWOPS_STORE_URL is not set" in result.stderr
    monkeypatch.setenv("REVIEWOPS_WORKERS", "zero")
    result = stage("validate", "--run-id", RUN_ID, "--conf", json.dumps(CONF))
    assert result.exit_code == 2 and "REVIEWOPS_WORKERS" in result.stderr


def test_a_stage_without_its_input_says_which_stage_to_run(env: dict[str, str]) -> None:
    result = stage("preprocess", "--run-id", RUN_ID)
    assert result.exit_code == 1
    assert "stage 'validate' has not finished" in result.stderr
    assert "run `reviewops stage validate` first" in result.stderr
    assert stage("validate", "--run-id", RUN_ID, "--conf", json.dumps(CONF)).exit_code == 0
    result = stage("preprocess", "--run-id", RUN_ID)
    assert result.exit_code == 1 and "run `reviewops stage load` first" in result.stderr


def test_run_ids_cannot_leave_the_run_folder(env: dict[str, str]) -> None:
    for run_id in ("../elsewhere", "a/b", ".."):
        result = stage("load", "--run-id", run_id)
        assert result.exit_code == 1 and "run id" in result.stderr, result.stderr


def test_without_an_artifact_store_the_settings_are_invalid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REVIEWOPS_ARTIFACTS_URL", raising=False)
    result = stage("load", "--run-id", RUN_ID)
    assert result.exit_code == 2 and "REVIEWOPS_ARTIFACTS_URL" in result.stderr


def test_load_scrapes_the_trustpilot_the_settings_point_at(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.support.sources import FakeTrustpilot, invented_reviews

    spec = {
        "company": {"name": "Example Shop", "domain": "www.example-shop.com"},
        "source": {"type": "trustpilot", "languages": ["en"], "maxReviews": 30, "requestDelaySeconds": 0},
        "mlflow": {"enabled": False},
    }
    with FakeTrustpilot() as site:
        site.listings["en"] = invented_reviews(45)
        monkeypatch.setenv("REVIEWOPS_TRUSTPILOT_BASE_URL", site.url + "/")
        monkeypatch.setenv("REVIEWOPS_CONTACT", "cx-data@example.org")
        monkeypatch.setenv("REVIEWOPS_CACHE_DIR", str(tmp_path / "cache"))
        conf = json.dumps({"spec": spec})  # a hand-triggered run: no analysis block
        assert stage("validate", "--run-id", "manual__1", "--conf", conf).exit_code == 0
        result = stage("load", "--run-id", "manual__1")
        assert result.exit_code == 0, result.output
    assert "30 reviews" in result.stderr
    assert {r.user_agent.rsplit("contact: ", 1)[-1] for r in site.requests} == {"cx-data@example.org)"}
    assert any((tmp_path / "cache").rglob("*.jsonl"))  # resumable: the cache outlives the stage
    store = RunArtifacts(env["REVIEWOPS_ARTIFACTS_URL"], "manual__1")
    assert store.read_json("validate", "conf.json")["spec"]["company"]["name"] == "Example Shop"
    assert store.marker("load")["reviews"] == 30
