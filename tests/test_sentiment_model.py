"""The supervised model's internals: fast transform, offset search, caps, bundle format, dedup."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import joblib  # type: ignore[import-untyped]
import numpy as np
import pytest

from reviewops.records import LABELS, Label, stars_to_label
from reviewops.sentiment import SentimentError, load_model, train_model
from reviewops.sentiment import model as model_module
from reviewops.sentiment import supervised as supervised_module
from reviewops.sentiment.features import review_features, review_words
from reviewops.sentiment.model import OrdinalStackClassifier
from reviewops.sentiment.offsets import OFFSETS, macro_f1_index, tune_offsets
from reviewops.sentiment.persist import FORMAT, FORMAT_VERSION, SentimentModel
from reviewops.sentiment.supervised import EVAL_CAP, TRAIN_CAP, split_sizes
from tests.support.sentiment import starred_reviews

COUNTS = {5: 60, 4: 20, 3: 30, 2: 15, 1: 25}


def _fitted(seed: int = 0) -> OrdinalStackClassifier:
    reviews = starred_reviews(COUNTS, seed=seed)
    return OrdinalStackClassifier(seed=seed).fit([r.text for r in reviews], [r.rating or 0 for r in reviews])


def test_features_are_words_pairs_and_prefixes_without_accents_or_case() -> None:
    assert review_features("Très DÉÇU: remboursement refusé!") == [
        "tres",
        "decu",
        "remboursement",
        "refuse",
        "tres decu",
        "decu remboursement",
        "remboursement refuse",
        "~rembo",
        "~refus",
    ]
    assert review_features("") == []
    assert review_features("a I") == []  # single letters are not words (scikit-learn's rule)


def test_negation_marks_the_next_two_words_of_its_clause() -> None:
    assert review_words("I don't like it at all. Not happy, never again!") == [
        "do",
        "not",
        "not_like",
        "not_it",
        "at",
        "all",
        "not",
        "not_happy",
        "never",
        "not_again",
    ]
    assert review_words("Je ne suis pas content, sans doute") == [
        "je",
        "ne",
        "not_suis",
        "not_pas",
        "not_content",
        "sans",
        "not_doute",
    ]  # "pas" inside a scope opens a new one
    assert review_features("Not cancelled") == [
        "not",
        "not_cancelled",
        "not not_cancelled",
        "~not_cance",
    ]


def test_a_negation_flips_words_beyond_the_next_one() -> None:
    """Words and word pairs alone cannot tell "not really good" from "really good" here.

    "not", "really good" and "not really" occur in praise and complaints alike (an XOR for
    a linear model); only the negation scope ("not_good") separates them.
    """
    openers = ["", "honestly", "the service was", "overall"]
    texts, stars = [], []
    for i in range(240):
        negated, good = i % 2 == 1, (i // 2) % 2 == 0
        texts.append(f"{openers[i % 4]} {'not ' if negated else ''}really {'good' if good else 'bad'}")
        stars.append(5 if negated != good else 1)
    texts += [f"{opener} it is okay" for opener in openers] * 5
    stars += [3] * 20
    model = OrdinalStackClassifier().fit(texts, stars)
    assert model.predict(["not really good", "really good", "not really bad", "really bad"]) == [
        "negative",
        "positive",
        "positive",
        "negative",
    ]


def test_naive_bayes_member_is_collapsed_into_the_weights() -> None:
    """coef_'s last two columns are scikit-learn's complement NB contrasts on the same matrix."""
    from sklearn.naive_bayes import ComplementNB

    reviews = starred_reviews(COUNTS, seed=4)
    texts, stars = [r.text for r in reviews], [r.rating or 0 for r in reviews]
    estimator = OrdinalStackClassifier(seed=4).fit(texts, stars)
    y = [LABELS.index(label) for label in map(stars_to_label, stars) if label is not None]
    x = estimator.transform(texts)
    joint = ComplementNB().fit(x, y).predict_joint_log_proba(x)
    decisions = estimator.decisions(texts)
    assert decisions.shape[1] == len(estimator.cutoffs_) + 3
    assert np.allclose(decisions[:, -2], joint[:, 2] - joint[:, 0])
    assert np.allclose(decisions[:, -1], joint[:, 1] - (joint[:, 0] + joint[:, 2]) / 2)


def test_fast_transform_matches_scikit_learn() -> None:
    estimator = _fitted()
    texts = [
        *(r.text for r in starred_reviews({5: 5, 3: 5, 1: 5}, seed=9, prefix="t")),
        "",
        "!!!",
        "Great great great price price",
        "Excellent service, fast delivery",
        "unknownword another unknown delivery fast",
        "Très déçu, arnaque",
        "ＧＲＥＡＴ 👍 price",
        "Second order with them. Terrible, it broke",  # a known pair across a sentence
    ]
    fast = estimator.transform(texts)
    reference = estimator.vectorizer_.transform(texts)
    assert fast.shape == reference.shape
    assert fast.nnz == reference.nnz > 0
    assert np.array_equal(fast.indptr, reference.indptr)
    assert np.array_equal(fast.indices, reference.indices)
    assert np.allclose(fast.data, reference.data, rtol=0, atol=1e-12)
    assert estimator.transform([]).shape == (0, reference.shape[1])


def _offsets_brute_force(log_proba: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The original pair-by-pair search, as the reference."""
    best, best_offsets = -1.0, np.zeros(3)
    for negative in OFFSETS:
        for neutral in OFFSETS:
            offsets = np.array([negative, neutral, 0.0])
            score = macro_f1_index(y, (log_proba + offsets).argmax(axis=1))
            if score > best + 1e-12:
                best, best_offsets = score, offsets
    return best_offsets


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("rounded", [False, True], ids=["continuous", "ties"])
def test_vectorised_offset_search_finds_what_the_pairwise_search_finds(seed: int, rounded: bool) -> None:
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=400, p=[0.2, 0.05, 0.75]).astype(np.int64)
    logits = rng.normal(size=(400, 3)) + 1.5 * np.eye(3)[y]
    log_proba = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    if rounded:  # differences that are exact multiples of the grid step: ties everywhere
        log_proba = np.round(log_proba, 1)
    expected = _offsets_brute_force(log_proba, y)
    found = tune_offsets(log_proba, y)
    assert found.tolist() == expected.tolist()
    assert expected.tolist() != [0.0, 0.0, 0.0]  # the search had something to find


def test_threads_do_not_change_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    two = _fitted(seed=3)
    monkeypatch.setattr(model_module, "_FIT_THREADS", 1)
    one = _fitted(seed=3)
    assert np.array_equal(one.coef_, two.coef_)
    assert np.array_equal(one.offsets_, two.offsets_)


def test_split_sizes_follow_train_test_split_then_the_caps() -> None:
    assert split_sizes(11694, 0.2) == (9355, 2339)  # the fixed English split, uncapped
    assert split_sizes(100_000, 0.2) == (TRAIN_CAP, EVAL_CAP)
    assert split_sizes(50_000, 0.2) == (TRAIN_CAP, 10_000)
    assert split_sizes(40_000, 0.6) == (16_000, EVAL_CAP)
    assert split_sizes(150, 0.2) == (120, 30)


def test_caps_draw_stratified_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervised_module, "TRAIN_CAP", 300)
    monkeypatch.setattr(supervised_module, "EVAL_CAP", 100)
    reviews = starred_reviews({5: 1500, 4: 300, 3: 100, 2: 100, 1: 400})  # 2400, 4 % neutral
    seen: list[list[int]] = []
    original = OrdinalStackClassifier._fit

    def spy(self: OrdinalStackClassifier, texts: list[str], stars: list[int]) -> object:
        seen.append(list(stars))
        return original(self, texts, stars)

    monkeypatch.setattr(OrdinalStackClassifier, "_fit", spy)
    model = train_model([r.text for r in reviews], [r.rating or 0 for r in reviews], ["en"] * len(reviews))
    assert model.metadata["training_size"] == 300 and len(seen[0]) == 300
    assert model.metadata["test_size"] == 100 and model.metadata["starred"] == 2400
    evaluation = model.evaluation
    assert evaluation is not None and evaluation.n == 100
    trained = Counter(stars_to_label(s) for s in seen[0])
    assert trained["positive"] == 225  # 75 %, and the others in proportion, within rounding
    assert abs(trained["negative"] - 62.5) < 1 and abs(trained["neutral"] - 12.5) < 1
    assert evaluation.per_class["neutral"].support == 4


@pytest.mark.slow
def test_the_real_caps_bound_training_on_a_large_synthetic_set() -> None:
    reviews = starred_reviews({5: 30_000, 4: 8000, 3: 6000, 2: 4000, 1: 12_000})  # 60k
    model = train_model(
        [r.text for r in reviews], [r.rating or 0 for r in reviews], ["en"] * len(reviews), test_size=0.4
    )
    assert model.metadata["training_size"] == TRAIN_CAP  # 36k available
    assert model.metadata["test_size"] == EVAL_CAP  # 24k available
    assert model.evaluation is not None and model.evaluation.macro_f1 > 0.8


def test_each_distinct_text_is_labelled_once_and_progress_counts_reviews(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = SentimentModel(_fitted())
    monkeypatch.setattr("reviewops.sentiment.persist._PREDICT_CHUNK", 2)
    asked: list[str] = []
    polarity = model.estimator.polarity

    def counting(texts: list[str]) -> tuple[list[Label], list[float]]:
        asked.extend(texts)
        return polarity(texts)

    monkeypatch.setattr(model.estimator, "polarity", counting)
    texts = [
        "Awful scam, avoid!",
        "Love it, perfect!",
        "Awful scam, avoid!",
        "Meh, so-so.",
        "Love it, perfect!",
        "Awful scam, avoid!",
        "Love it, perfect!",
    ]
    done: list[int] = []
    labels, scores = model.predict(texts, done.append)
    assert asked == ["Awful scam, avoid!", "Love it, perfect!", "Meh, so-so."]
    assert done == [6, 1]  # the first chunk stands for 3 + 3 reviews
    alone = [polarity([text]) for text in texts]
    assert labels == [a[0][0] for a in alone]
    assert scores == pytest.approx([a[1][0] for a in alone])
    assert labels[0] == "negative" and labels[1] == "positive"
    assert model.predict([]) == ([], [])


@pytest.mark.parametrize("version", [1, 2])
def test_bundles_of_the_old_formats_are_refused_with_what_to_do(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.joblib"
    joblib.dump(
        {
            "metadata": {"format": FORMAT, "format_version": version, "reviewops_version": "0.1.0"},
            "estimator": {"stands for": f"a format-{version} estimator"},
        },
        path,
    )
    message = f"{path}: model format {version} was written by an older reviewops (reviewops 0.1.0)"
    with pytest.raises(SentimentError, match=re.escape(message)) as info:
        load_model(str(path))
    assert f"reads format {FORMAT_VERSION} only" in str(info.value)
    assert "Retrain it" in str(info.value)


def test_labels_are_the_known_three() -> None:
    assert list(_fitted().classes_) == list(LABELS)
