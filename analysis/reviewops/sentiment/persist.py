"""A trained sentiment model with its metadata, saved to and loaded from a file or MLflow.

A bundle is a joblib file holding a dict: the fitted estimator and JSON-able metadata
(format version, library versions, training languages, labels, training size, held-out
evaluation). joblib files are pickles: load only models you (or your pipeline) wrote.
`load_model(uri)` accepts a bundle path, a local MLflow model folder, or an MLflow model URI
("runs:/<run-id>/sentiment-model", "models:/<name>/<version>", "models:/<model-id>").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewops import __version__
from reviewops.records import LABELS, Evaluation, Label, ProgressFn, no_progress
from reviewops.sentiment.base import SentimentError
from reviewops.sentiment.evaluate import evaluation_from_dict, evaluation_to_dict

if TYPE_CHECKING:
    from reviewops.sentiment.model import OrdinalStackClassifier

FORMAT = "reviewops-sentiment-model"
FORMAT_VERSION = 1
_PREDICT_CHUNK = 2000
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


@dataclass(slots=True)
class SentimentModel:
    """A fitted estimator and what a user needs to know before trusting it elsewhere."""

    estimator: OrdinalStackClassifier
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def languages(self) -> list[str]:
        """The languages of the reviews it learned from."""
        return [str(lang) for lang in self.metadata.get("languages", [])]

    @property
    def evaluation(self) -> Evaluation | None:
        """Its held-out evaluation when it was trained."""
        data = self.metadata.get("evaluation")
        return evaluation_from_dict(data) if data else None

    def predict(
        self, texts: Sequence[str], progress: ProgressFn = no_progress
    ) -> tuple[list[Label], list[float]]:
        """Labels and scores in [-1, 1]; `progress` receives counts summing to len(texts)."""
        labels: list[Label] = []
        scores: list[float] = []
        for start in range(0, len(texts), _PREDICT_CHUNK):
            chunk = texts[start : start + _PREDICT_CHUNK]
            chunk_labels, chunk_scores = self.estimator.polarity(chunk)
            labels += chunk_labels
            scores += chunk_scores
            progress(len(chunk))
        return labels, scores


def model_metadata(
    estimator: OrdinalStackClassifier,
    *,
    languages: Sequence[str],
    training_size: int,
    evaluation: Evaluation,
) -> dict[str, Any]:
    """The JSON-able metadata stored with a freshly trained model."""
    import sklearn

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "reviewops_version": __version__,
        "sklearn_version": sklearn.__version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "algorithm": "tfidf-ordinal-stack",
        "params": dict(estimator.get_params()),
        "languages": sorted(set(languages)),
        "labels": list(LABELS),
        "training_size": training_size,
        "evaluation": evaluation_to_dict(evaluation),
    }


def save_bundle(model: SentimentModel, path: Path) -> Path:
    """Write the model to `path` (a .joblib file; folders are created) and return the path."""
    import joblib  # type: ignore[import-untyped]

    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({"metadata": model.metadata, "estimator": model.estimator}, path, compress=3)
    return path


def load_bundle(path: Path) -> SentimentModel:
    """Read a bundle written by `save_bundle`, checking that it is one."""
    import joblib

    try:
        data = joblib.load(path)
    except Exception as exc:  # joblib raises anything pickle can: say which file, not why only
        raise SentimentError(
            f"{path}: cannot read a sentiment model ({type(exc).__name__}: {exc}); pass a file "
            "written by reviewops (sentiment-model.joblib in a run's output folder)"
        ) from exc
    metadata = data.get("metadata", {}) if isinstance(data, dict) else {}
    if metadata.get("format") != FORMAT:
        raise SentimentError(
            f"{path}: not a reviewops sentiment model (no {FORMAT!r} metadata); pass a file "
            "written by reviewops (sentiment-model.joblib in a run's output folder)"
        )
    if metadata.get("format_version", 0) > FORMAT_VERSION:
        raise SentimentError(
            f"{path}: model format {metadata['format_version']} is newer than this reviewops "
            f"({__version__}) reads ({FORMAT_VERSION}); upgrade reviewops or retrain the model"
        )
    return SentimentModel(data["estimator"], metadata)


def load_model(uri: str) -> SentimentModel:
    """Load a model from a bundle path, a local MLflow model folder, or an MLflow model URI."""
    path = Path(uri).expanduser()
    if path.is_file():
        return load_bundle(path)
    if path.is_dir() and (path / "MLmodel").is_file():
        from reviewops.sentiment.mlflow_model import load_from_mlflow

        return load_from_mlflow(str(path))
    if _URI_SCHEME.match(uri):
        from reviewops.sentiment.mlflow_model import load_from_mlflow

        return load_from_mlflow(uri)
    raise SentimentError(
        f"sentiment.modelUri {uri!r}: no such model file; pass a path written by a previous run "
        "(<out>/sentiment-model.joblib) or an MLflow model URI such as "
        "runs:/<run-id>/sentiment-model or models:/<name>/<version>"
    )


def version_warnings(model: SentimentModel) -> list[str]:
    """Warnings when the model was trained with another scikit-learn than the one loaded."""
    import sklearn

    trained_with = model.metadata.get("sklearn_version")
    if trained_with and trained_with != sklearn.__version__:
        return [
            f"sentiment model was trained with scikit-learn {trained_with} and runs with "
            f"{sklearn.__version__}: predictions may differ; retrain it if they look wrong"
        ]
    return []
