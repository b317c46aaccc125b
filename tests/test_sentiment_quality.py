"""Supervised sentiment on real English reviews reaches the quality target (slow, real data)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from reviewops.preprocess import prepare
from reviewops.records import Review
from reviewops.sentiment import train_model
from reviewops.spec import Preprocessing

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def test_supervised_english_macro_f1_on_a_fixed_split(shared_data: Path) -> None:
    with (shared_data / "reviews" / "en_pet_insurance_trustpilot.csv").open(encoding="utf-8") as f:
        reviews = [
            Review(id=r["id"], text=r["text"], title=r["title"] or None, rating=int(r["rating"]),
                   language="en")
            for r in csv.DictReader(f)
        ]
    prepared = prepare(reviews, Preprocessing(lemmatize=False, bigrams=False), languages=["en"])
    model = train_model(prepared.texts, [r.rating or 0 for r in reviews], prepared.languages,
                        test_size=0.2, seed=42)
    evaluation = model.evaluation
    assert evaluation is not None
    assert evaluation.n == 2339
    assert evaluation.macro_f1 >= 0.70, evaluation
    # Neutral (3 stars, ~3 % of the reviews) is the hard class: it must not be given up on.
    assert evaluation.per_class["neutral"].f1 >= 0.25, evaluation
