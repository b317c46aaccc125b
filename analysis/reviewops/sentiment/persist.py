"""A trained sentiment model with its metadata, saved to and loaded from a file or MLflow.

A bundle is a joblib file holding a dict: the fitted estimator and JSON-able metadata
(format version, library versions, training languages, labels, training size, held-out
evaluation). joblib files are pickles: load only models you (or your pipeline) wrote.
Format 4 holds the word-feature model with negation scopes and a naive Bayes stack member,
its base models collapsed into one weight matrix, and a meta-model that also reads three
lexicon valence columns (`valence`). Older bundles (format 1: character n-grams; format 2:
without negation or naive Bayes; format 3: without the valence columns) are refused with a
message saying to retrain, since their features or weights no longer fit the class.
`load_model(uri)` accepts a bundle path, a local MLflow model folder, or an MLflow model URI
("runs:/<run-id>/sentiment-model", "models:/<name>/<version>", "models:/<model-id>").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewops import __version__
from reviewops.records import LABELS, Evaluation, Label, ProgressFn, no_progress
from reviewops.sentiment.base import SentimentError
from reviewops.sentiment.evaluate import evaluation_from_dict, evaluation_to_dict
from reviewops.sentiment.forked import forked_pool, shared_state, worker_count

if TYPE_CHECKING:
    from reviewops.sentiment.model import OrdinalStackClassifier

FORMAT = "reviewops-sentiment-model"
FORMAT_VERSION = 4
# Distinct texts labelled per call of the estimator: bounds the memory of one sparse matrix
# (~80 non-zeros per review) while keeping the per-call overhead negligible. (Measured with
# scikit-learn's transform: 2 forked workers labelled 100k distinct texts in 3.5 s instead
# of 5.8 s alone, but in a full 100k run forking the large process made the stage slower,
# 19.1 s vs 17.7 s, and doubled the peak RSS of the process tree, 2.05 GB vs 0.90 GB: so
# one process.)
_PREDICT_CHUNK = 4096
# From this many distinct texts on, chunks are labelled by forked processes (see `forked`:
# gc.freeze() keeps them from copying the parent's memory, which is what made the earlier
# attempt above slower and twice as large).
PARALLEL_MIN = 20_000
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


@dataclass(slots=True)
class SentimentModel:
    """A fitted estimator and what a user needs to know before trusting it elsewhere."""

    estimator: OrdinalStackClassifier
    metadata: dict[str, Any] = field(default_factory=dict)
    # Labels and scores already computed for some texts (the training and held-out reviews of
    # a model trained in this run): `predict` reuses them. Never saved with the model.
    known: dict[str, tuple[Label, float]] = field(default_factory=dict, repr=False)

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
        self,
        texts: Sequence[str],
        progress: ProgressFn = no_progress,
        while_waiting: Callable[[], None] | None = None,
    ) -> tuple[list[Label], list[float]]:
        """Labels and scores in [-1, 1]; `progress` receives counts summing to len(texts).

        Each distinct text is labelled once (real review sets repeat "Great service!" a lot);
        progress counts the reviews that each chunk of distinct texts stands for.
        `while_waiting` runs here while forked workers label (or after labelling, without
        workers): work of this process that does not need the labels.
        """
        first: dict[str, int] = {}
        positions = [first.setdefault(text, len(first)) for text in texts]
        distinct = list(first)
        repeats = Counter(positions)
        labels: list[Label] = ["neutral"] * len(distinct)
        scores: list[float] = [0.0] * len(distinct)
        pending = list(range(len(distinct)))
        if self.known:
            pending = []
            reused = 0
            for i, text in enumerate(distinct):
                hit = self.known.get(text)
                if hit is None:
                    pending.append(i)
                else:
                    labels[i], scores[i] = hit
                    reused += repeats[i]
            if reused:
                progress(reused)
        batches = [
            pending[start : start + _PREDICT_CHUNK] for start in range(0, len(pending), _PREDICT_CHUNK)
        ]
        chunks = [[distinct[i] for i in batch] for batch in batches]
        workers = worker_count() if len(pending) >= PARALLEL_MIN else 1
        with contextlib.ExitStack() as stack:
            if workers > 1:
                pool = stack.enter_context(forked_pool(self.estimator, workers))
                done: Iterator[tuple[list[Label], list[float]]] = pool.imap(_polarity_forked, chunks)
                if while_waiting is not None:
                    while_waiting()  # the workers are labelling meanwhile
                    while_waiting = None
            else:
                done = map(self.estimator.polarity, chunks)
            for batch, (chunk_labels, chunk_scores) in zip(batches, done, strict=True):
                for i, label, score in zip(batch, chunk_labels, chunk_scores, strict=True):
                    labels[i], scores[i] = label, score
                progress(sum(repeats[i] for i in batch))
        if while_waiting is not None:
            while_waiting()
        return [labels[i] for i in positions], [scores[i] for i in positions]


def _polarity_forked(texts: list[str]) -> tuple[list[Label], list[float]]:
    estimator: OrdinalStackClassifier = shared_state()
    return estimator.polarity(texts)


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
        "algorithm": "word-tfidf-ordinal-stack",
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
    version = metadata.get("format_version", 0)
    if version > FORMAT_VERSION:
        raise SentimentError(
            f"{path}: model format {version} is newer than this reviewops "
            f"({__version__}) reads ({FORMAT_VERSION}); upgrade reviewops or retrain the model"
        )
    if version < FORMAT_VERSION:
        raise SentimentError(
            f"{path}: model format {version} was written by an older reviewops "
            f"(reviewops {metadata.get('reviewops_version', '?')}); this one ({__version__}) reads "
            f"format {FORMAT_VERSION} only, as the model changed. Retrain it: run with "
            "sentiment.method 'supervised' and no modelUri on reviews with stars (--save-model "
            "writes the new file)"
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
