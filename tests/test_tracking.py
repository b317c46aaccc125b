from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewops.tracking import TrackingError, flatten, log_analysis_run, summary_metrics

SUMMARY = {
    "reviews": 73,
    "rated_reviews": 73,
    "mean_rating": 3.66,
    "source": {"problems": 2},
    "sentiment": {
        "net": 0.33,
        "shares": {"negative": 0.33, "neutral": 0.01, "positive": 0.66},
        "evaluation": {
            "macro_f1": 0.71,
            "accuracy": 0.8,
            "per_class": {"negative": {"f1": 0.8}, "neutral": {"f1": 0.4}, "positive": {"f1": 0.93}},
        },
    },
    "topics": {"k": 2, "coherence": 0.42, "diversity": 1.0},
    "timings": {"preprocess": 1.5, "total": 3.0},
    "throughput": {"preprocess": 48.7},
}
SPEC = {
    "company": {"name": "Back Market", "domain": "www.example.com"},
    "source": {"languages": ["en", "fr"]},
    "topics": {},
}


def test_flatten_and_metrics() -> None:
    assert dict(flatten(SPEC)) == {
        "company.name": "Back Market",
        "company.domain": "www.example.com",
        "source.languages": "en,fr",
    }
    metrics = summary_metrics(SUMMARY)
    assert metrics["sentiment_macro_f1"] == 0.71 and metrics["sentiment_f1_neutral"] == 0.4
    assert metrics["time_total_seconds"] == 3.0 and metrics["sentiment_negative_share"] == 0.33


def test_logging_twice_resumes_the_same_mlflow_run(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    artifact = tmp_path / "summary.json"
    artifact.write_text(json.dumps(SUMMARY))
    kwargs = dict(
        tracking_uri=uri,
        experiment_name="reviewops/insights/backmarket-en",
        run_id="ra__insights__backmarket-en__2026-07-01T04:00:00Z",
        run_name="slot 2026-07-01",
        spec=SPEC,
        summary=SUMMARY,
        artifacts=[artifact],
        artifact_location=(tmp_path / "artifacts").as_uri(),
    )
    first = log_analysis_run(**kwargs)  # type: ignore[arg-type]
    second = log_analysis_run(**kwargs)  # type: ignore[arg-type]
    assert first.run_id == second.run_id and first.experiment_id == second.experiment_id
    client = MlflowClient(uri)
    run = client.get_run(first.run_id)
    assert run.data.params["company.name"] == "Back Market"
    assert run.data.metrics["reviews"] == 73
    assert [a.path for a in client.list_artifacts(first.run_id)] == ["summary.json"]

    # A soft-deleted experiment is restored, never re-created under another name.
    client.delete_experiment(first.experiment_id)
    third = log_analysis_run(**{**kwargs, "run_id": "another-run"})  # type: ignore[arg-type]
    assert third.experiment_id == first.experiment_id
    assert client.get_experiment(first.experiment_id).lifecycle_stage == "active"


def test_unreachable_tracking_server_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    with pytest.raises(TrackingError, match=r"127\.0\.0\.1:9.*--no-mlflow"):
        log_analysis_run(
            tracking_uri="http://127.0.0.1:9",
            experiment_name="x",
            run_id="r",
            run_name="r",
            spec=SPEC,
            summary=SUMMARY,
            artifacts=[],
        )
