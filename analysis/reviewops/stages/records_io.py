"""Stage results (the dataclasses of `reviewops.records` and `reviewops.insights`) to files and back.

pydantic's TypeAdapter validates what it reads against the very dataclasses the engine uses, so
a file written by another reviewops version, or edited by hand, fails loudly at the stage that
reads it instead of producing a subtly wrong analysis later. Per-review vectors (labels,
scores, topic assignments, weights) go to .npz arrays: compact, and aligned by index with the
reviews like the engine's lists.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from reviewops.insights import Insights
from reviewops.records import (
    Evaluation,
    Prepared,
    Problem,
    Review,
    SentimentResult,
    SourceResult,
    Topic,
    TopicResult,
)
from reviewops.stages.artifacts import ArtifactError, RunArtifacts

MODEL_FILE = "model.joblib"
# topic details holding one value per review: stored as arrays, not in result.json
_PER_REVIEW_DETAILS = ("dominant_weight",)


@cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def _validate(kind: Any, data: Any, where: str) -> Any:
    try:
        return _adapter(kind).validate_python(data)
    except ValidationError as exc:
        raise ArtifactError(f"{where}: does not match this reviewops version's records: {exc}") from exc


# --- load ---------------------------------------------------------------------------------------
def write_source(store: RunArtifacts, result: SourceResult) -> None:
    adapter = _adapter(Review)
    store.write_lines("load", "reviews.jsonl.gz", (adapter.dump_json(r) for r in result.reviews))
    store.write_json(
        "load",
        "source.json",
        {
            "complete": result.complete,
            "stats": result.stats,
            "problems": _adapter(list[Problem]).dump_python(result.problems, mode="json"),
        },
    )


def read_source(store: RunArtifacts) -> SourceResult:
    store.marker("load")
    adapter = _adapter(Review)
    where = store.url("load", "reviews.jsonl.gz")
    try:
        reviews = [adapter.validate_json(line) for line in store.read_lines("load", "reviews.jsonl.gz")]
    except ValidationError as exc:
        raise ArtifactError(f"{where}: a line is not a review: {exc}") from exc
    meta = store.read_json("load", "source.json")
    problems = _validate(list[Problem], meta.get("problems", []), store.url("load", "source.json"))
    return SourceResult(reviews, problems, bool(meta.get("complete", True)), dict(meta.get("stats", {})))


# --- preprocess ---------------------------------------------------------------------------------
def write_prepared(store: RunArtifacts, prepared: Prepared) -> None:
    import json

    rows = (
        json.dumps({"text": t, "language": lang, "tokens": tokens}, ensure_ascii=False).encode("utf-8")
        for t, lang, tokens in zip(prepared.texts, prepared.languages, prepared.tokens, strict=True)
    )
    store.write_lines("preprocess", "prepared.jsonl.gz", rows)
    store.write_json("preprocess", "warnings.json", list(prepared.warnings))
    store.write_json("preprocess", "brands.json", list(prepared.brands))


def read_prepared(store: RunArtifacts, expected: int) -> Prepared:
    import json

    store.marker("preprocess")
    texts: list[str] = []
    languages: list[str] = []
    tokens: list[list[str]] = []
    for line in store.read_lines("preprocess", "prepared.jsonl.gz"):
        row = json.loads(line)
        texts.append(str(row["text"]))
        languages.append(str(row["language"]))
        tokens.append([str(t) for t in row["tokens"]])
    _check_aligned(store, "preprocess", len(texts), expected)
    warnings = [str(w) for w in store.read_json("preprocess", "warnings.json")]
    # theme labels leave the brands out; runs written before brands were kept have none
    brands = (
        [str(b) for b in store.read_json("preprocess", "brands.json")]
        if _has(store, "preprocess", "brands.json")
        else []
    )
    return Prepared(texts, languages, tokens, warnings, brands)


# --- sentiment ----------------------------------------------------------------------------------
def write_sentiment(store: RunArtifacts, result: SentimentResult) -> None:
    """Labels and scores as arrays, the rest as JSON; a trained model file goes beside them."""
    details = dict(result.details)
    model_path = details.pop("model_path", None)
    if isinstance(model_path, str) and Path(model_path).is_file():
        store.put_file(Path(model_path), "sentiment", MODEL_FILE)
        details["model_file"] = MODEL_FILE
    store.write_arrays(
        "sentiment",
        "scores.npz",
        labels=[str(label) for label in result.labels],
        scores=[float(s) for s in result.scores],
    )
    store.write_json(
        "sentiment",
        "result.json",
        {
            "method": result.method,
            "evaluation": _adapter(Evaluation | None).dump_python(result.evaluation, mode="json"),
            "details": details,
        },
    )


def read_sentiment(store: RunArtifacts, expected: int, model_dir: Path | None = None) -> SentimentResult:
    """The sentiment result; with `model_dir`, the trained model is fetched there (model_path)."""
    store.marker("sentiment")
    arrays = store.read_arrays("sentiment", "scores.npz")
    labels = [str(label) for label in arrays["labels"].tolist()]
    scores = [float(s) for s in arrays["scores"].tolist()]
    _check_aligned(store, "sentiment", len(labels), expected)
    meta = store.read_json("sentiment", "result.json")
    where = store.url("sentiment", "result.json")
    evaluation = _validate(Evaluation | None, meta.get("evaluation"), where)
    details = dict(meta.get("details", {}))
    if model_dir is not None and details.get("model_file"):
        path = store.get_file("sentiment", str(details["model_file"]), model_dir / "sentiment-model.joblib")
        details["model_path"] = str(path)
    result: SentimentResult = _validate(
        SentimentResult,
        {
            "method": meta["method"],
            "labels": labels,
            "scores": scores,
            "evaluation": evaluation,
            "details": details,
        },
        where,
    )
    return result


# --- topics -------------------------------------------------------------------------------------
def write_topics(store: RunArtifacts, result: TopicResult) -> None:
    details = {k: v for k, v in result.details.items() if k not in _PER_REVIEW_DETAILS}
    per_review = {
        k: [float(x) for x in v]
        for k, v in result.details.items()
        if k in _PER_REVIEW_DETAILS and isinstance(v, list)
    }
    if result.sub_assignments:
        per_review_ints = {"sub_assignments": [int(a) for a in result.sub_assignments]}
    else:
        per_review_ints = {}  # a run without sub-themes writes the same file as before them
    store.write_arrays(
        "topics",
        "assignments.npz",
        assignments=[int(a) for a in result.assignments],
        **per_review_ints,
        **per_review,
    )
    store.write_json(
        "topics",
        "result.json",
        {
            "algorithm": result.algorithm,
            "topics": _adapter(list[Topic]).dump_python(result.topics, mode="json"),
            "coherence": result.coherence,
            "coherence_measure": result.coherence_measure,
            "diversity": result.diversity,
            "k_scores": {str(k): v for k, v in result.k_scores.items()},
            "details": details,
        },
    )


def read_topics(store: RunArtifacts, expected: int) -> TopicResult:
    store.marker("topics")
    arrays = store.read_arrays("topics", "assignments.npz")
    assignments = [int(a) for a in arrays.pop("assignments").tolist()]
    _check_aligned(store, "topics", len(assignments), expected)
    # absent from artifacts written before sub-themes existed, and from runs that made none
    found = arrays.pop("sub_assignments", None)
    sub_assignments = [int(a) for a in found.tolist()] if found is not None else []
    if sub_assignments:
        _check_aligned(store, "topics", len(sub_assignments), expected)
    meta = store.read_json("topics", "result.json")
    details = dict(meta.get("details", {}))
    details.update({k: [float(x) for x in v.tolist()] for k, v in arrays.items()})
    topics: TopicResult = _validate(
        TopicResult,
        {**meta, "assignments": assignments, "sub_assignments": sub_assignments, "details": details},
        store.url("topics", "result.json"),
    )
    return topics


# --- insights -----------------------------------------------------------------------------------
def write_insights(store: RunArtifacts, insights: Insights) -> None:
    store.write_json("insights", "insights.json", _adapter(Insights).dump_python(insights, mode="json"))


def read_insights(store: RunArtifacts) -> Insights:
    store.marker("insights")
    data = store.read_json("insights", "insights.json")
    result: Insights = _validate(Insights, data, store.url("insights", "insights.json"))
    return result


def _has(store: RunArtifacts, stage: str, name: str) -> bool:
    return bool(store.fs.exists(store.path(stage, name)))


def _check_aligned(store: RunArtifacts, stage: str, found: int, expected: int) -> None:
    if found != expected:
        raise ArtifactError(
            f"{store.url(stage)} holds {found} rows but load wrote {expected} reviews: the stages "
            f"of run {store.run_id} are out of step; rerun from `reviewops stage {stage}`"
        )
