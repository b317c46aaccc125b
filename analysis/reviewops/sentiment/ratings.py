"""The `ratings` method: the stars are the sentiment (1-2 negative, 3 neutral, 4-5 positive).

This is the ground truth Trustpilot gives, so it has no evaluation of its own. Scores are
linear in the stars: 1 -> -1, 2 -> -0.5, 3 -> 0, 4 -> 0.5, 5 -> 1. A review without stars
(a file source without a rating column, a partial import) falls back to the lexicon method
for that review alone, rather than being called neutral: a neutral default would inflate
the neutral share with reviews nobody judged. The result counts them in `details`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reviewops.records import Label, Prepared, ProgressFn, Review, SentimentResult, stars_to_label
from reviewops.sentiment.base import METHODS, score_to_label
from reviewops.sentiment.trust import ratings_trust
from reviewops.spec import Sentiment


def stars_to_score(rating: int) -> float:
    """1..5 stars as a score in [-1, 1]."""
    if not 1 <= rating <= 5:
        raise ValueError(f"a Trustpilot rating is 1 to 5 stars, got {rating}")
    return (rating - 3) / 2


def _label(rating: int) -> Label:
    label = stars_to_label(rating)
    assert label is not None  # only None for a missing rating
    return label


@METHODS.register("ratings")
def ratings(
    reviews: Sequence[Review],
    prepared: Prepared,
    options: Sentiment,
    *,
    save_model: Path | None,
    progress: ProgressFn,
) -> SentimentResult:
    """Label reviews from their stars; reviews without stars are scored by the lexicon."""
    del options, save_model  # the stars need no settings and no model
    labels: list[Label] = []
    scores: list[float] = []
    unrated = [i for i, review in enumerate(reviews) if review.rating is None]
    for review in reviews:
        rating = review.rating
        if rating is None:
            labels.append("neutral")  # replaced below by the lexicon's verdict
            scores.append(0.0)
            continue
        try:
            scores.append(stars_to_score(rating))
        except ValueError as exc:
            raise ValueError(f"{review.origin or review.id}: {exc}") from None
        labels.append(_label(rating))
    progress(len(reviews) - len(unrated))
    warnings: list[str] = []
    if unrated:
        from reviewops.sentiment.lexicon import lexicon_scores

        fallback, warnings = lexicon_scores(
            [prepared.texts[i] for i in unrated],
            [prepared.languages[i] for i in unrated],
            progress,
        )
        for i, score in zip(unrated, fallback, strict=True):
            scores[i] = score
            labels[i] = score_to_label(score)
    return SentimentResult(
        method="ratings",
        labels=labels,
        scores=scores,
        evaluation=None,
        details={
            "from_stars": len(reviews) - len(unrated),
            "from_lexicon": len(unrated),
            "warnings": warnings,
            "trust": ratings_trust(len(reviews) - len(unrated), len(unrated)),
        },
    )
