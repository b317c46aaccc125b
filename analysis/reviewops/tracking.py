"""MLflow logging of an analysis run: the spec as params, figures as metrics, files as artifacts.

Idempotent per analysis run: the run is tagged with `reviewops.run_id`; logging the same run id
again (a retried Airflow task) resumes that MLflow run instead of creating a second one, and
keeps the model that run already logged instead of logging a second one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

RUN_ID_TAG = "reviewops.run_id"


class TrackingError(RuntimeError):
    """MLflow could not be reached or refused the run."""


@dataclass(frozen=True, slots=True)
class TrackedRun:
    experiment_id: str
    run_id: str
    tracking_uri: str
    model_uri: str | None = None


def flatten(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Nested spec -> ("topics.algorithm", "nmf") pairs, as MLflow params want."""
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if value:
                yield from flatten(value, f"{name}.")
        elif isinstance(value, list):
            yield name, ",".join(map(str, value))[:500]
        else:
            yield name, str(value)[:500]


def summary_metrics(summary: dict[str, Any]) -> dict[str, float]:
    """The numeric figures of a summary, named for MLflow."""
    metrics: dict[str, float] = {
        "reviews": summary["reviews"],
        "rated_reviews": summary["rated_reviews"],
        "net_sentiment": summary["sentiment"]["net"],
        "topics_k": summary["topics"]["k"],
        "topic_coherence": summary["topics"]["coherence"],
        "topic_diversity": summary["topics"]["diversity"],
        "source_problems": summary["source"]["problems"],
    }
    if summary["mean_rating"] is not None:
        metrics["mean_rating"] = summary["mean_rating"]
    for label, share in summary["sentiment"]["shares"].items():
        metrics[f"sentiment_{label}_share"] = share
    evaluation = summary["sentiment"].get("evaluation")
    if evaluation:
        metrics["sentiment_macro_f1"] = evaluation["macro_f1"]
        metrics["sentiment_accuracy"] = evaluation["accuracy"]
        for label, scores in evaluation["per_class"].items():
            metrics[f"sentiment_f1_{label}"] = scores["f1"]
    for stage, seconds in summary["timings"].items():
        metrics[f"time_{stage}_seconds"] = seconds
    for stage, rate in summary["throughput"].items():
        metrics[f"throughput_{stage}_reviews_per_second"] = rate
    return {k: float(v) for k, v in metrics.items()}


def _experiment_id(client: Any, name: str, artifact_location: str | None) -> str:
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            # Names of deleted experiments can never be reused: bring it back.
            client.restore_experiment(experiment.experiment_id)
        return str(experiment.experiment_id)
    try:
        return str(client.create_experiment(name, artifact_location=artifact_location))
    except MlflowException as exc:  # created concurrently: "already exists" is success
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        log.debug("experiment %s appeared concurrently: %s", name, exc)
        return str(experiment.experiment_id)


def log_analysis_run(
    *,
    tracking_uri: str,
    experiment_name: str,
    run_id: str,
    run_name: str,
    spec: dict[str, Any],
    summary: dict[str, Any],
    artifacts: list[Path],
    artifact_location: str | None = None,
    log_model: Callable[[], str] | None = None,
    tags: dict[str, str] | None = None,
) -> TrackedRun:
    """Log (or re-log) one analysis run; returns the MLflow ids. Raises TrackingError."""
    try:
        import mlflow
        from mlflow.entities import Metric, Param, RunTag
        from mlflow.tracking import MlflowClient
    except ImportError as exc:  # pragma: no cover - mlflow is a declared dependency
        raise TrackingError("mlflow is not installed: pip install 'reviewops[analysis]'") from exc

    try:
        mlflow.set_tracking_uri(tracking_uri)
        client = MlflowClient(tracking_uri=tracking_uri)
        experiment_id = _experiment_id(client, experiment_name, artifact_location)
        existing = client.search_runs(
            [experiment_id], filter_string=f"tags.`{RUN_ID_TAG}` = '{run_id}'", max_results=1
        )
        all_tags = {RUN_ID_TAG: run_id, **(tags or {})}
        with mlflow.start_run(
            run_id=existing[0].info.run_id if existing else None,
            experiment_id=None if existing else experiment_id,
            run_name=None if existing else run_name,
        ) as active:
            mlflow_run_id = active.info.run_id
            if not existing:
                params = [Param(k, v) for k, v in flatten(spec)]
                client.log_batch(mlflow_run_id, params=params[:100])
                for start in range(100, len(params), 100):
                    client.log_batch(mlflow_run_id, params=params[start : start + 100])
            ts = int(summary_timestamp_ms())
            metrics = [Metric(k, v, ts, 0) for k, v in summary_metrics(summary).items()]
            client.log_batch(
                mlflow_run_id,
                metrics=metrics,
                tags=[RunTag(k, v) for k, v in all_tags.items()],
            )
            for path in artifacts:
                if path.is_dir():
                    client.log_artifacts(mlflow_run_id, str(path), artifact_path=path.name)
                elif path.exists():
                    client.log_artifact(mlflow_run_id, str(path))
            model_uri = None
            if log_model is not None:
                # a resumed run keeps the model it logged: a retry must not add a second one
                model_uri = _logged_model_uri(client, experiment_id, mlflow_run_id) if existing else None
                model_uri = model_uri or log_model()
    except TrackingError:
        raise
    except Exception as exc:
        raise TrackingError(
            f"MLflow at {tracking_uri} failed: {exc.__class__.__name__}: {exc}. "
            "Check REVIEWOPS_MLFLOW_TRACKING_URI / --tracking-uri, or pass --no-mlflow."
        ) from exc
    return TrackedRun(experiment_id, mlflow_run_id, tracking_uri, model_uri)


def _logged_model_uri(client: Any, experiment_id: str, mlflow_run_id: str) -> str | None:
    """The URI of a model this run already logged completely (status READY), if any."""
    from mlflow.entities import LoggedModelStatus

    models = client.search_logged_models(
        experiment_ids=[experiment_id], filter_string=f"source_run_id = '{mlflow_run_id}'"
    )
    ready = [m for m in models if m.status == LoggedModelStatus.READY]
    return str(ready[0].model_uri) if ready else None


def summary_timestamp_ms() -> float:
    import time

    return time.time() * 1000
