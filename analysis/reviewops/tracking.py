"""MLflow logging of an analysis run: the spec as params, figures as metrics, files as artifacts.

Idempotent per analysis run: the run is tagged with `reviewops.run_id`; logging the same run id
again (a retried Airflow task) resumes that MLflow run instead of creating a second one, and
keeps the model that run already logged instead of logging a second one.

The model registry (`spec.mlflow.registerModel`, called by `reviewops stage publish`): the
trained sentiment model becomes a version of `reviewops.<namespace>.<name>`; the alias
`champion` moves to it only when its held-out macro-F1 is not worse than the champion's (the
comparison and decision go to the version's and the run's `reviewops.model.*` tags and to
publish's results). A run with `sentiment.modelUri: models:/<name>@champion` is pinned to the
version the alias names when its sentiment stage starts (`pin_alias`). The two macro-F1 are
each measured on their own run's held-out split, i.e. on the reviews of different days.
"""

from __future__ import annotations

import logging
import re
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
        "subthemes_k": summary["topics"].get("subthemes_k", 0),
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


def _cause(exc: BaseException) -> str:
    """The root cause of a connection failure in words: refused, name resolution, time-out."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(f"{type(e).__name__} {e}" for e in chain)
    if "Name or service not known" in text or "NameResolution" in text or "gaierror" in text:
        return "name resolution failed (no such host, or no network)"
    if "Connection refused" in text or "ConnectionRefused" in text:
        return "connection refused (no server listening there)"
    if "Timeout" in text or "timed out" in text:
        return "no answer in time"
    return f"{type(exc).__name__}: {exc}"


def _failure(tracking_uri: str, message: str) -> TrackingError:
    """A TrackingError whose message shows no password of `tracking_uri`: it reaches task logs,
    the run's summary and the operator's conditions."""
    return TrackingError(hide_password(message, tracking_uri))


def hide_password(text: str, url: str) -> str:
    """`text` with the password written in `url` ("https://user:pw@host") replaced by ***,
    wherever it appears, as written or percent-decoded (MLflow errors repeat the URL)."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return text
    if not password:
        return text
    for secret in {password, unquote(password)}:
        text = text.replace(f":{secret}@", ":***@")
        if len(secret) >= 6:
            text = text.replace(secret, "***")
    return text


def check_reachable(tracking_uri: str, timeout: float = 5.0) -> None:
    """Raise TrackingError at once when an http(s) MLflow server cannot be reached at all.

    MLflow's own client retries a dead server for minutes (backoff over several attempts);
    one short probe first makes a refused connection or an unknown host a prompt, named error.
    Any HTTP answer counts as reachable; embedded stores (sqlite:, file:) are not probed.
    """
    if not tracking_uri.startswith(("http://", "https://")):
        return
    import requests

    try:
        requests.get(f"{tracking_uri.rstrip('/')}/health", timeout=(timeout, timeout * 2))
    except requests.RequestException as exc:
        raise _failure(
            tracking_uri,
            f"MLflow at {tracking_uri} is not reachable: {_cause(exc)}. "
            "Check REVIEWOPS_MLFLOW_TRACKING_URI / --tracking-uri, or pass --no-mlflow.",
        ) from exc


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

    check_reachable(tracking_uri)
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
        raise _failure(
            tracking_uri,
            f"MLflow at {tracking_uri} failed: {exc.__class__.__name__}: {exc}. "
            "Check REVIEWOPS_MLFLOW_TRACKING_URI / --tracking-uri, or pass --no-mlflow.",
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


# --- the model registry: one registered model per analysis, a `champion` alias ------------------

CHAMPION = "champion"
HELD_OUT = "held-out split"  # reviewops.sentiment.supervised.HELD_OUT: a trained model's evaluation
_MODEL_TAG = "reviewops.model."  # prefix of the MLflow run tags that describe the registration
_UNSAFE_MODEL_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
_ALIAS_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[A-Za-z0-9_-]+)$")


def registered_model_name(analysis: str) -> str:
    """`reviewops.<namespace>.<name>` for the analysis `namespace/name`.

    Kubernetes namespaces hold no dots, so the first dot after the prefix separates namespace
    and name unambiguously; `/` would break `models:/<name>/<version>` URIs. Characters MLflow
    URIs do not like become `-` (a hand-triggered `manual/<company>` run keeps a readable name).
    """
    cleaned = ".".join(_UNSAFE_MODEL_NAME.sub("-", part).strip("-") or "-" for part in analysis.split("/"))
    return f"reviewops.{cleaned}"[:250]


def pin_alias(model_uri: str, tracking_uri: str) -> str:
    """`models:/<name>@<alias>` resolved to `models:/<name>/<version>`; other URIs unchanged.

    A run scores with the version the alias named when it started, and says which one, even if
    another run moves the alias meanwhile. Raises TrackingError when the alias is unknown.
    """
    match = _ALIAS_URI.match(model_uri)
    if match is None:
        return model_uri
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    try:
        version = client.get_model_version_by_alias(match["name"], match["alias"])
    except Exception as exc:
        raise _failure(
            tracking_uri, f"sentiment.modelUri {model_uri}: MLflow at {tracking_uri} cannot resolve it: {exc}"
        ) from exc
    return f"models:/{match['name']}/{version.version}"


@dataclass(frozen=True, slots=True)
class Registration:
    """A registered model version and the champion decision taken for it."""

    name: str
    version: str
    macro_f1: float | None
    champion_before: str | None  # the version the alias named before, None when there was none
    champion_macro_f1: float | None
    promoted: bool
    reason: str
    champion: str  # the version the alias names now

    def run_tags(self) -> dict[str, str]:
        """Tags for the MLflow run (and the model version): the comparison and the decision."""
        values = {
            "name": self.name,
            "version": self.version,
            "macro_f1": _text(self.macro_f1),
            "champion_before": self.champion_before or "",
            "champion_macro_f1": _text(self.champion_macro_f1),
            "decision": "promoted" if self.promoted else "kept",
            "reason": self.reason,
            "champion": self.champion,
        }
        return {f"{_MODEL_TAG}{key}": value for key, value in values.items()}

    def results(self) -> dict[str, Any]:
        """The block publish adds to its results (camelCase, like the status)."""
        return {
            "name": self.name,
            "version": self.version,
            "macroF1": self.macro_f1,
            "championBefore": self.champion_before,
            "championMacroF1": self.champion_macro_f1,
            "promoted": self.promoted,
            "champion": self.champion,
            "reason": self.reason,
            "uri": f"models:/{self.name}@{CHAMPION}",
        }

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> Registration | None:
        """A decision recorded earlier (a retried publish repeats it instead of deciding again)."""
        get = {k.removeprefix(_MODEL_TAG): v for k, v in tags.items() if k.startswith(_MODEL_TAG)}
        if "decision" not in get:
            return None
        return cls(
            name=get["name"],
            version=get["version"],
            macro_f1=_number(get.get("macro_f1", "")),
            champion_before=get.get("champion_before") or None,
            champion_macro_f1=_number(get.get("champion_macro_f1", "")),
            promoted=get["decision"] == "promoted",
            reason=get.get("reason", ""),
            champion=get.get("champion", ""),
        )


def decide(new_f1: float | None, champion: str | None, champion_f1: float | None) -> tuple[bool, str]:
    """Whether the new version becomes the champion, and why (pure: unit-tested)."""
    if champion is None:
        return True, "first registered version: no champion yet"
    if new_f1 is None:
        return False, f"no held-out macro-F1 for the new version; champion v{champion} kept"
    if champion_f1 is None:
        return True, f"champion v{champion} has no held-out macro-F1 to compare with"
    if new_f1 + 1e-9 >= champion_f1:
        return True, f"held-out macro-F1 {new_f1:.4f} >= champion v{champion}'s {champion_f1:.4f}"
    return False, f"held-out macro-F1 {new_f1:.4f} < champion v{champion}'s {champion_f1:.4f}; champion kept"


def register_model(
    *, tracking_uri: str, name: str, model_uri: str, mlflow_run_id: str, macro_f1: float | None
) -> Registration:
    """Register `model_uri` under `name` (once per MLflow run) and move `champion` if not worse.

    The decision is written on the version's tags before the alias moves, so a retry finds it
    and repeats it rather than comparing the version with itself. Raises TrackingError.
    """
    try:
        import mlflow
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        versions = client.search_model_versions(f"name = '{name}' and run_id = '{mlflow_run_id}'")
        if versions:
            version = versions[0]
            earlier = Registration.from_tags(dict(version.tags))
            if earlier is not None:
                if earlier.promoted and _champion(client, name) in (None, earlier.champion_before):
                    client.set_registered_model_alias(name, CHAMPION, earlier.version)
                return earlier
        else:
            mlflow.set_tracking_uri(tracking_uri)
            mlflow.set_registry_uri(tracking_uri)
            version = mlflow.register_model(model_uri, name, await_registration_for=120)
        before = _champion(client, name)
        before_f1 = _version_f1(client, name, before) if before is not None else None
        promoted, reason = decide(macro_f1, before, before_f1)
        registration = Registration(
            name, str(version.version), macro_f1, before, before_f1, promoted, reason,
            str(version.version) if promoted else str(before),
        )  # fmt: skip
        for key, value in registration.run_tags().items():
            client.set_model_version_tag(name, str(version.version), key, value)
        if promoted:
            client.set_registered_model_alias(name, CHAMPION, str(version.version))
        for key, value in registration.run_tags().items():
            client.set_tag(mlflow_run_id, key, value)
    except Exception as exc:
        raise _failure(
            tracking_uri, f"MLflow at {tracking_uri} could not register {model_uri} as {name}: {exc}"
        ) from exc
    return registration


def _champion(client: Any, name: str) -> str | None:
    """The version the `champion` alias names, None when it names none."""
    aliases = dict(client.get_registered_model(name).aliases or {})
    version = aliases.get(CHAMPION)
    return str(version) if version is not None else None


def _version_f1(client: Any, name: str, version: str) -> float | None:
    """The champion's held-out macro-F1: its tag, else its training run's metric."""
    model_version = client.get_model_version(name, version)
    recorded = _number(model_version.tags.get(f"{_MODEL_TAG}macro_f1", ""))
    if recorded is not None or not model_version.run_id:
        return recorded
    metric = client.get_run(model_version.run_id).data.metrics.get("sentiment_macro_f1")
    return float(metric) if metric is not None else None


def tag_run(tracking_uri: str, mlflow_run_id: str, tags: dict[str, str]) -> None:
    """Add tags to an MLflow run; raises TrackingError."""
    try:
        from mlflow.entities import RunTag
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=tracking_uri)
        client.log_batch(mlflow_run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    except Exception as exc:
        message = f"MLflow at {tracking_uri} could not tag run {mlflow_run_id}: {exc}"
        raise _failure(tracking_uri, message) from exc


def held_out_f1(summary: dict[str, Any]) -> float | None:
    """The run's held-out macro-F1 (None when its model was not trained and evaluated here)."""
    evaluation = summary.get("sentiment", {}).get("evaluation") or {}
    if evaluation.get("kind") != HELD_OUT or evaluation.get("macro_f1") is None:
        return None
    return float(evaluation["macro_f1"])


def _text(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _number(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None
