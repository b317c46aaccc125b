"""What every sentiment method shares: its call shape, the registry, and label helpers.

A method turns reviews (and their preprocessed form) into one label and one score per
review. Methods are chosen by name (`ratings`, `lexicon`, `supervised`) through `METHODS`;
each lives in its own module and imports its heavy dependencies only when it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from reviewops.records import (
    Evaluation,
    Label,
    Prepared,
    ProgressFn,
    Review,
    SentimentResult,
    no_progress,
    stars_to_label,
)
from reviewops.registry import Registry
from reviewops.sentiment.evaluate import evaluate
from reviewops.spec import Sentiment

# A lexicon score at or beyond +-0.05 is a polarity, as VADER's authors recommend for its
# compound score; our French scorer normalises its sum the same way, so it shares them.
POLARITY_THRESHOLD = 0.05

AGREEMENT = "agreement with stars"


class SentimentError(ValueError):
    """A sentiment method cannot run on this input; the message says what to do instead."""


class SentimentMethod(Protocol):
    """The call shape of a registered method (see `analyze_sentiment` for the arguments)."""

    def __call__(
        self,
        reviews: Sequence[Review],
        prepared: Prepared,
        options: Sentiment,
        *,
        save_model: Path | None,
        progress: ProgressFn,
    ) -> SentimentResult: ...


METHODS: Registry[SentimentMethod] = Registry("sentiment method")


def analyze_sentiment(
    reviews: Sequence[Review],
    prepared: Prepared,
    options: Sentiment,
    *,
    save_model: Path | None = None,
    progress: ProgressFn = no_progress,
) -> SentimentResult:
    """Label every review positive / neutral / negative with a score in [-1, 1].

    `options.method` picks the method by name. `prepared` must be aligned with `reviews`
    (one text and one language per review). `save_model` writes the trained model bundle
    (supervised only; the other methods have nothing to save). `progress` receives counts
    of reviews that sum to len(reviews).
    """
    if len(prepared.texts) != len(reviews) or len(prepared.languages) != len(reviews):
        raise ValueError(
            f"prepared corpus is not aligned with the reviews: {len(reviews)} reviews, "
            f"{len(prepared.texts)} texts, {len(prepared.languages)} languages; "
            "pass the Prepared that reviewops.preprocess.prepare returned for these reviews"
        )
    method = METHODS.get(str(options.method))
    return method(reviews, prepared, options, save_model=save_model, progress=progress)


def score_to_label(score: float, threshold: float = POLARITY_THRESHOLD) -> Label:
    """positive at or above +threshold, negative at or below -threshold, else neutral."""
    if score >= threshold:
        return "positive"
    if score <= -threshold:
        return "negative"
    return "neutral"


def star_labels(reviews: Sequence[Review]) -> list[Label | None]:
    """The label each review's stars imply (None for reviews without stars)."""
    return [stars_to_label(review.rating) for review in reviews]


def agreement_with_stars(reviews: Sequence[Review], labels: Sequence[Label]) -> Evaluation | None:
    """How often `labels` agree with the stars, over the reviews that have stars (else None)."""
    pairs = [
        (truth, label) for truth, label in zip(star_labels(reviews), labels, strict=True) if truth is not None
    ]
    if not pairs:
        return None
    return evaluate([t for t, _ in pairs], [p for _, p in pairs], AGREEMENT)
