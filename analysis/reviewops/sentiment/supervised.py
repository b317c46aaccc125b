"""The `supervised` method: learn sentiment from the reviews' own stars, or reuse a model.

Without `modelUri`: the starred reviews are split (stratified, fixed seed) into a training
part and a held-out part of `testSize`; the model (see `model.py`) learns from the training
part, is scored on the held-out part (macro-F1 and per-class F1 against the stars: the
run's `evaluation`), and then labels every review from its text, including the reviews
without stars. The model that was evaluated is the one that is used and saved. On large
sets both parts are stratified samples of at most TRAIN_CAP and EVAL_CAP reviews.
With `modelUri`: a model trained elsewhere labels every review; when reviews have stars the
evaluation is its agreement with them (a check that it transfers to this company).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from reviewops.records import LABELS, Prepared, ProgressFn, Review, SentimentResult, stars_to_label
from reviewops.sentiment.base import METHODS, SentimentError, agreement_with_stars
from reviewops.sentiment.evaluate import evaluate, format_evaluation
from reviewops.sentiment.persist import (
    SentimentModel,
    load_model,
    model_metadata,
    save_bundle,
    version_warnings,
)
from reviewops.sentiment.trust import supervised_trust
from reviewops.spec import Sentiment

log = logging.getLogger(__name__)

MIN_STARRED = 30
MIN_PER_CLASS = 5  # the split and the model's internal 3-fold cross-validation need a few each
SPLIT_SEED = 42
HELD_OUT = "held-out split"

# Sample caps, so that the stage costs O(cap) to train however many reviews a run has.
# Learning curves (bench/bench_sentiment_quality.py --curve, model format 3): on the real
# English set the held-out macro-F1 still climbs at its full size (0.705 / 0.709 / 0.742 from
# 4k / 6k / 9.4k training reviews), so the cap sits well above that; on the 100k demo set it
# saturates (0.881 / 0.884 / 0.885 / 0.888 from 10k / 20k / 30k / 80k) while the fit grows
# from 1 s to 3, 7 and 33 s. 30k reviews fit in ~7 s on 2 cores with ~0.3 GB; without the
# cap, 80k training reviews took minutes and 2 GB.
TRAIN_CAP = 30_000
# The held-out evaluation is a stratified sample of at most this many reviews: with neutral
# at ~3 %, 20k reviews hold ~600 neutral ones, enough for the per-class F1 to be stable to
# about +-0.02, and predicting them takes ~1 s.
EVAL_CAP = 20_000


def check_trainable(stars: Sequence[int]) -> None:
    """Raise SentimentError, saying what to do instead, when stars are too few to learn from."""
    counts = Counter(stars_to_label(s) for s in stars)
    if len(stars) >= MIN_STARRED and all(counts[label] >= MIN_PER_CLASS for label in LABELS):
        return
    found = ", ".join(f"{counts[label]} {label}" for label in LABELS)
    raise SentimentError(
        f"supervised sentiment needs star ratings to learn from: found {len(stars)} reviews "
        f"with stars ({found}); it needs at least {MIN_STARRED}, with at least {MIN_PER_CLASS} "
        "of each class (negative = 1-2 stars, neutral = 3, positive = 4-5). Use sentiment.method "
        "'ratings' or 'lexicon', or set sentiment.modelUri to reuse a model trained on more reviews"
    )


def train_model(
    texts: Sequence[str],
    stars: Sequence[int],
    languages: Sequence[str],
    *,
    test_size: float = 0.2,
    seed: int = SPLIT_SEED,
) -> SentimentModel:
    """Fit on a stratified split of (texts, stars) and evaluate on the held-out part.

    The split is scikit-learn's `train_test_split(test_size=...)`; when a part is larger than
    TRAIN_CAP or EVAL_CAP, a stratified sample of that size is drawn instead (same seed).
    """
    from sklearn.model_selection import train_test_split

    from reviewops.sentiment.model import OrdinalStackClassifier

    check_trainable(stars)
    labels = [label for label in map(stars_to_label, stars) if label is not None]
    n_train, n_test = split_sizes(len(texts), test_size)
    train, test = train_test_split(
        list(range(len(texts))),
        train_size=n_train,
        test_size=n_test,
        stratify=labels,
        random_state=seed,
    )
    if n_train + n_test < len(texts):
        log.info(
            "sentiment: %d starred reviews; training on a stratified sample of %d and evaluating "
            "on %d held out (caps %d / %d)",
            len(texts),
            n_train,
            n_test,
            TRAIN_CAP,
            EVAL_CAP,
        )
    estimator = OrdinalStackClassifier(seed=seed)
    train_texts = [texts[i] for i in train]
    fitted_labels, fitted_scores = estimator.fit_polarity(train_texts, [stars[i] for i in train])
    model = SentimentModel(estimator)
    test_texts = [texts[i] for i in test]
    predicted, predicted_scores = model.predict(test_texts)
    evaluation = evaluate([labels[i] for i in test], predicted, HELD_OUT)
    # The run labels every review next: these are already done (a text's label is its own).
    model.known = dict(zip(train_texts, zip(fitted_labels, fitted_scores, strict=True), strict=True))
    model.known.update(zip(test_texts, zip(predicted, predicted_scores, strict=True), strict=True))
    log.info("sentiment model trained on %d reviews; %s", len(train), format_evaluation(evaluation))
    model.metadata = model_metadata(
        estimator,
        languages=[languages[i] for i in train],
        training_size=len(train),
        evaluation=evaluation,
    )
    model.metadata["test_size"] = len(test)
    model.metadata["starred"] = len(texts)
    return model


def split_sizes(n: int, test_size: float) -> tuple[int, int]:
    """(training, held-out) sizes for n starred reviews: train_test_split's, then capped."""
    n_test = math.ceil(test_size * n)  # as train_test_split rounds a fractional test_size
    return min(n - n_test, TRAIN_CAP), min(n_test, EVAL_CAP)


@METHODS.register("supervised")
def supervised(
    reviews: Sequence[Review],
    prepared: Prepared,
    options: Sentiment,
    *,
    save_model: Path | None,
    progress: ProgressFn,
) -> SentimentResult:
    """Train on the stars (or load `options.model_uri`), then label every review."""
    if options.model_uri:
        model = load_model(options.model_uri)
    else:
        starred = [i for i, review in enumerate(reviews) if review.rating is not None]
        model = train_model(
            [prepared.texts[i] for i in starred],
            [reviews[i].rating or 0 for i in starred],
            [prepared.languages[i] for i in starred],
            test_size=options.test_size,
        )
    saved: list[Path] = []

    def save() -> None:  # while forked workers label the reviews
        if save_model is not None:
            saved.append(save_bundle(model, save_model))

    labels, scores = model.predict(prepared.texts, progress, while_waiting=save)
    warnings = version_warnings(model)
    unseen = Counter(lang for lang in prepared.languages if lang not in model.languages)
    if unseen:
        listed = ", ".join(f"{lang} ({n})" for lang, n in unseen.most_common())
        warnings.append(
            f"sentiment model learned from {', '.join(model.languages) or 'no'} reviews; "
            f"{listed} review(s) are in languages it never saw: treat their labels with care"
        )
    for warning in warnings:
        log.warning(warning)
    details: dict[str, object] = {
        "model": "reused" if options.model_uri else "trained",
        "model_languages": model.languages,
        "training_size": model.metadata.get("training_size"),
        "predicted": len(labels),
        "without_stars": sum(review.rating is None for review in reviews),
        "warnings": warnings,
    }
    if options.model_uri:
        details["model_uri"] = options.model_uri
        details["model_evaluation"] = model.metadata.get("evaluation")
        evaluation = agreement_with_stars(reviews, labels)
    else:
        details["test_size"] = model.metadata.get("test_size")
        details["starred"] = model.metadata.get("starred")
        evaluation = model.evaluation
    details["trust"] = supervised_trust(
        reused=bool(options.model_uri),
        training_size=details["training_size"],
        evaluation=evaluation,
        unseen_languages=list(unseen),
    )
    if saved:
        details["model_path"] = str(saved[0])
    return SentimentResult("supervised", labels, scores, evaluation, details)
