"""The supervised method: train on stars, evaluate held-out, save, reuse elsewhere, refuse too few."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from reviewops.records import Label, Review
from reviewops.sentiment import SentimentError, analyze_sentiment, load_model
from reviewops.spec import Sentiment
from tests.support.sentiment import prepared_for, starred_reviews

SUPERVISED = Sentiment(method="supervised")
COUNTS = {5: 60, 4: 20, 3: 30, 2: 15, 1: 25}


def test_trains_on_stars_and_reports_a_held_out_evaluation(tmp_path: Path) -> None:
    reviews = starred_reviews(COUNTS)
    unrated = [Review(id="u1", text="Awful scam, avoid!"), Review(id="u2", text="Love it, perfect!")]
    everything = reviews + unrated
    done: list[int] = []
    result = analyze_sentiment(
        everything, prepared_for(everything, ["en"] * len(everything)), SUPERVISED, progress=done.append
    )
    assert result.method == "supervised"
    assert result.evaluation is not None
    assert result.evaluation.kind == "held-out split"
    assert result.evaluation.n == 30  # 20 % of the 150 starred reviews, stratified
    assert result.evaluation.per_class["neutral"].support == 6
    assert result.evaluation.macro_f1 > 0.8  # the hand-written banks are easy to tell apart
    assert result.labels[-2:] == ["negative", "positive"]  # reviews without stars get labels
    assert result.scores[-2] < 0 < result.scores[-1]
    assert all(-1 <= s <= 1 for s in result.scores)
    assert result.details["training_size"] == 120
    assert result.details["test_size"] == 30 and result.details["starred"] == 150
    assert result.details["without_stars"] == 2
    assert sum(done) == len(everything)


def test_saved_model_round_trips_and_reports_agreement_on_another_dataset(tmp_path: Path) -> None:
    train = starred_reviews(COUNTS, seed=1)
    path = tmp_path / "models" / "sentiment.joblib"
    trained = analyze_sentiment(train, prepared_for(train), SUPERVISED, save_model=path)
    assert trained.details["model_path"] == str(path)

    model = load_model(str(path))
    assert model.metadata["languages"] == ["en"]
    assert model.metadata["labels"] == ["negative", "neutral", "positive"]
    assert model.metadata["training_size"] == 120
    assert model.evaluation == trained.evaluation
    labels, scores = model.predict(prepared_for(train).texts)
    assert labels == trained.labels
    assert scores == pytest.approx(trained.scores)

    # Another "company": other texts drawn from the banks, some in a language never trained on.
    other = starred_reviews({5: 10, 3: 4, 1: 6}, seed=7, prefix="o")
    other.append(Review(id="fr", text="Très déçu, arnaque", rating=1, language="fr"))
    reused = analyze_sentiment(
        other, prepared_for(other), Sentiment(method="supervised", model_uri=str(path))
    )
    assert reused.details["model"] == "reused"
    assert reused.evaluation is not None
    assert reused.evaluation.kind == "agreement with stars"
    assert reused.evaluation.n == 21
    assert reused.evaluation.macro_f1 > 0.7
    warnings = reused.details["warnings"]
    assert isinstance(warnings, list) and any("fr (1)" in w for w in warnings)


@pytest.mark.parametrize("forked", [True, False])
def test_the_model_is_saved_while_workers_label_the_reviews(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: bool
) -> None:
    """With forked workers the model is written while they label (before their labels come
    back); without, after labelling; either way the labels are the same."""
    from reviewops.sentiment import persist, supervised

    monkeypatch.setattr(persist, "PARALLEL_MIN", 10 if forked else 10**9)
    events: list[str] = []
    real_save = supervised.save_bundle

    def save(model: persist.SentimentModel, path: Path) -> Path:
        events.append("saved")
        return real_save(model, path)

    monkeypatch.setattr(supervised, "save_bundle", save)
    # Reviews without stars: labelled by the workers (the others' labels are known from training).
    unrated = [
        Review(id=f"u{i}", text=f"{r.text} (order {i})")
        for i, r in enumerate(starred_reviews(COUNTS, seed=4))
    ]
    reviews = starred_reviews(COUNTS, seed=3) + unrated
    path = tmp_path / "model.joblib"
    result = analyze_sentiment(
        reviews,
        prepared_for(reviews),
        SUPERVISED,
        save_model=path,
        progress=lambda n: events.append("labelled"),
    )
    assert result.details["model_path"] == str(path) and events.count("saved") == 1
    # (the training and held-out reviews' labels are known first: the other labels follow)
    assert (events[-1] != "saved") is forked, events
    assert load_model(str(path)).predict(prepared_for(reviews).texts)[0] == result.labels


def test_reused_model_on_reviews_without_stars_has_no_evaluation(tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    analyze_sentiment(
        starred_reviews(COUNTS), prepared_for(starred_reviews(COUNTS)), SUPERVISED, save_model=path
    )
    unrated = [Review(id="1", text="Worst purchase ever, broken", language="en")]
    result = analyze_sentiment(
        unrated, prepared_for(unrated), Sentiment(method="supervised", model_uri=str(path))
    )
    assert result.labels == ["negative"]
    assert result.evaluation is None
    assert isinstance(result.details["model_evaluation"], dict)  # how it did where it was trained


@pytest.mark.parametrize(
    ("counts", "found"),
    [
        ({5: 10, 3: 5, 1: 5}, "found 20 reviews with stars"),  # fewer than 30
        ({5: 40, 1: 20}, "0 neutral"),
    ],  # a class is missing
)
def test_too_few_labels_says_what_to_use_instead(counts: dict[int, int], found: str) -> None:
    reviews = starred_reviews(counts)
    with pytest.raises(SentimentError, match=found) as info:
        analyze_sentiment(reviews, prepared_for(reviews), SUPERVISED)
    assert "'ratings' or 'lexicon'" in str(info.value) and "modelUri" in str(info.value)


def test_unreadable_model_uris_are_explained(tmp_path: Path) -> None:
    with pytest.raises(SentimentError, match=r"no such model file.*runs:/<run-id>/sentiment-model"):
        load_model(str(tmp_path / "missing.joblib"))
    not_a_model = tmp_path / "notes.joblib"
    not_a_model.write_text("hello")
    with pytest.raises(SentimentError, match=re.escape(f"{not_a_model}: cannot read a sentiment model")):
        load_model(str(not_a_model))


@pytest.mark.slow
def test_mlflow_log_and_load_by_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow

    from reviewops.sentiment import log_model_to_mlflow

    monkeypatch.chdir(tmp_path)  # the sqlite store keeps artifacts under ./mlruns
    train = starred_reviews(COUNTS)
    path = tmp_path / "m.joblib"
    trained = analyze_sentiment(train, prepared_for(train), SUPERVISED, save_model=path)
    # Not mlflow.get_tracking_uri(): after the chdir its default is this test's database,
    # and restoring that would pin every later test to it (and export it in the environment).
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        with mlflow.start_run(experiment_id=mlflow.create_experiment("sentiment-test")) as run:
            uri = log_model_to_mlflow(path)
        _check_reuse(uri, run.info.run_id, trained.labels)
    finally:
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]  # None: default, variable unset


def _check_reuse(uri: str, run_id: str, expected: list[Label]) -> None:
    import mlflow

    train = starred_reviews(COUNTS)
    assert uri.startswith("models:/")
    for reference in (uri, f"runs:/{run_id}/sentiment-model"):
        reused = analyze_sentiment(
            train, prepared_for(train), Sentiment(method="supervised", model_uri=reference)
        )
        assert reused.labels == expected
    served = mlflow.pyfunc.load_model(uri).predict(["Awful scam, avoid!", "Love it, perfect!"])
    assert [p.label for p in served] == ["negative", "positive"]
