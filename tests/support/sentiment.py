"""Small hand-written English reviews with stars, for sentiment tests that need no real data."""

from __future__ import annotations

import random
from collections.abc import Sequence

from reviewops.records import Prepared, Review

_OPENERS = ["I ordered a phone.", "Bought a laptop here.", "Second order with them.", ""]
_BY_STARS = {
    5: [
        "Excellent service, fast delivery and great quality.",
        "Love it, perfect condition!",
        "Wonderful experience, highly recommend.",
        "Great price and friendly support.",
    ],
    4: ["Good product, arrived quickly.", "Nice device, happy with it.", "Works well, good value for money."],
    3: [
        "It is okay, average quality, nothing special.",
        "Delivery was fine but the battery is so-so.",
        "Mixed feelings: decent screen, mediocre packaging.",
    ],
    2: ["Disappointed, the screen has scratches.", "Slow delivery and poor packaging."],
    1: [
        "Terrible, it broke after a week and support never answered.",
        "Awful scam, refund refused, avoid!",
        "Worst purchase ever, the device is broken.",
    ],
}


def starred_reviews(
    counts: dict[int, int], seed: int = 0, language: str = "en", prefix: str = "r"
) -> list[Review]:
    """Reviews with the given number per star rating, texts drawn from the banks above."""
    rng = random.Random(seed)
    reviews = []
    for stars, n in counts.items():
        for i in range(n):
            text = f"{rng.choice(_OPENERS)} {rng.choice(_BY_STARS[stars])}".strip()
            reviews.append(Review(id=f"{prefix}{stars}-{i}", text=text, rating=stars, language=language))
    rng.shuffle(reviews)
    return reviews


def prepared_for(reviews: Sequence[Review], languages: Sequence[str] | None = None) -> Prepared:
    """A Prepared built by hand: texts are the raw texts, languages the reviews' own."""
    langs = list(languages) if languages is not None else [r.language or "en" for r in reviews]
    return Prepared(texts=[r.text for r in reviews], languages=langs, tokens=[[] for _ in reviews])
