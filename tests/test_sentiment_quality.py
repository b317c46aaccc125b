"""Supervised sentiment on real English reviews reaches the quality target (slow, real data)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from reviewops.preprocess import prepare
from reviewops.records import Evaluation, Review, stars_to_label
from reviewops.sentiment import evaluate, train_model
from reviewops.sentiment.model import OrdinalStackClassifier
from reviewops.spec import Preprocessing

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def _english(shared_data: Path) -> tuple[list[Review], list[str]]:
    """The pet-insurance reviews (company kept) and their prepared texts."""
    with (shared_data / "reviews" / "en_pet_insurance_trustpilot.csv").open(encoding="utf-8") as f:
        reviews = [
            Review(
                id=r["id"],
                text=r["text"],
                title=r["title"] or None,
                rating=int(r["rating"]),
                language="en",
                company=r["company"],
            )
            for r in csv.DictReader(f)
        ]
    prepared = prepare(reviews, Preprocessing(lemmatize=False, bigrams=False), languages=["en"])
    return reviews, prepared.texts


def test_supervised_english_macro_f1_on_a_fixed_split(shared_data: Path) -> None:
    reviews, texts = _english(shared_data)
    model = train_model(texts, [r.rating or 0 for r in reviews], ["en"] * len(texts), test_size=0.2, seed=42)
    evaluation = model.evaluation
    assert evaluation is not None
    assert evaluation.n == 2339
    assert evaluation.macro_f1 >= 0.70, evaluation
    # Neutral (3 stars, ~3 % of the reviews) is the hard class: it must not be given up on.
    assert evaluation.per_class["neutral"].f1 >= 0.25, evaluation


def test_supervised_english_transfers_to_a_company_it_never_saw(shared_data: Path) -> None:
    """Trained on three pet insurers, scored on the fourth: the 0.70 target on average.

    Spot, whose reviews are the shortest, is the hard one: format 2 of the model (no naive
    Bayes member, no negation scopes) scored 0.682 there at this seed (negative F1 0.733),
    predicting short mild complaints as neutral.
    """
    reviews, texts = _english(shared_data)
    scores: dict[str, Evaluation] = {}
    for company in sorted({r.company or "" for r in reviews}):
        train = [i for i, r in enumerate(reviews) if r.company != company]
        test = [i for i, r in enumerate(reviews) if r.company == company]
        model = OrdinalStackClassifier(seed=42).fit(
            [texts[i] for i in train], [reviews[i].rating or 0 for i in train]
        )
        truth = [stars_to_label(reviews[i].rating) or "neutral" for i in test]
        scores[company] = evaluate(truth, model.predict([texts[i] for i in test]), company)
    assert sum(e.macro_f1 for e in scores.values()) / len(scores) >= 0.70, scores
    spot = scores["spotpetins.com"]
    assert spot.macro_f1 >= 0.69, spot
    assert spot.per_class["negative"].f1 >= 0.74, spot
