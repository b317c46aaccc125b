"""The `supervised` method: learn sentiment from the reviews' own stars, or reuse a model.

Without `modelUri`: the starred reviews are split (stratified, fixed seed) into a training
part and a held-out part of `testSize`; the model (see `model.py`) learns from the training
part, is scored on the held-out part (macro-F1 and per-class F1 against the stars: the
run's `evaluation`), and then labels every review from its text, including the reviews
without stars. The model that was evaluated is the one that is used and saved.
With `modelUri`: a model trained elsewhere labels every review; when reviews have stars the
evaluation is its agreement with them (a check that it transfers to this company).
"""

from __future__ import annotations

import logging
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
from reviewops.spec import Sentiment

log = logging.getLogger(__name__)

MIN_STARRED = 30
MIN_PER_CLASS = 5  # the split and the model's internal 3-fold cross-validation need a few each
SPLIT_SEED = 42
HELD_OUT = "held-out split"


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
    """Fit on a stratified split of (texts, stars) and evaluate on the held-out part."""
    from sklearn.model_selection import train_test_split

    from reviewops.sentiment.model import OrdinalStackClassifier

    check_trainable(stars)
    labels = [label for label in map(stars_to_label, stars) if label is not None]
    train, test = train_test_split(
        list(range(len(texts))), test_size=test_size, stratify=labels, random_state=seed
    )
    estimator = OrdinalStackClassifier(seed=seed).fit(
        [texts[i] for i in train], [stars[i] for i in train]
    )
    predicted = estimator.predict([texts[i] for i in test])
    evaluation = evaluate([labels[i] for i in test], predicted, HELD_OUT)
    log.info("sentiment model trained on %d reviews; %s", len(train), format_evaluation(evaluation))
    metadata = model_metadata(
        estimator,
        languages=[languages[i] for i in train],
        training_size=len(train),
        evaluation=evaluation,
    )
    metadata["test_size"] = len(test)
    return SentimentModel(estimator, metadata)


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
    labels, scores = model.predict(prepared.texts, progress)
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
        evaluation = model.evaluation
    if save_model is not None:
        details["model_path"] = str(save_bundle(model, save_model))
    return SentimentResult("supervised", labels, scores, evaluation, details)
