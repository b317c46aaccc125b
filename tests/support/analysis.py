"""Small hand-made stage results, so outputs can be tested without running the NLP stages."""

from __future__ import annotations

import datetime as dt

from reviewops.records import Review, SentimentResult, Topic, TopicResult, stars_to_label


def month(year: int, m: int, day: int = 15) -> dt.datetime:
    return dt.datetime(year, m, day, 12, tzinfo=dt.UTC)


def corpus() -> tuple[list[Review], SentimentResult, TopicResult]:
    """60 reviews over 6 months: topic 0 'delivery' (good), topic 1 'battery' (bad, rising).

    Months 2026-01..03 (previous period): 10 delivery/month, 2 battery/month.
    Months 2026-04..06 (recent period):   6 delivery/month, 6 battery/month.
    Delivery reviews have 5 stars, battery reviews 1 star; one short review has no topic.
    """
    reviews: list[Review] = []
    assignments: list[int] = []
    plan = {1: (10, 2), 2: (10, 2), 3: (10, 2), 4: (6, 6), 5: (6, 6), 6: (6, 6)}
    for m, (n_delivery, n_battery) in plan.items():
        for i in range(n_delivery):
            reviews.append(
                Review(
                    id=f"d{m}-{i}",
                    text="Fast delivery, well packed " * (1 + i % 3),
                    rating=5,
                    published=month(2026, m),
                    language="en",
                )
            )
            assignments.append(0)
        for i in range(n_battery):
            reviews.append(
                Review(
                    id=f"b{m}-{i}",
                    text="<b>Battery</b> died after a week",
                    rating=1,
                    published=month(2026, m),
                    language="en",
                )
            )
            assignments.append(1)
    reviews.append(Review(id="short", text="ok", rating=3, published=month(2026, 6), language="en"))
    assignments.append(-1)
    labels = [stars_to_label(r.rating) or "neutral" for r in reviews]
    sentiment = SentimentResult(
        method="ratings",
        labels=labels,
        scores=[{"positive": 1.0, "neutral": 0.0, "negative": -1.0}[x] for x in labels],
    )
    topics = TopicResult(
        algorithm="nmf",
        topics=[
            Topic(0, "delivery / packed", [("delivery", 0.9), ("packed", 0.5), ("fast", 0.4)]),
            Topic(1, "battery / died", [("battery", 0.95), ("die", 0.6), ("week", 0.2)]),
        ],
        assignments=assignments,
        coherence=0.42,
        coherence_measure="npmi",
        diversity=1.0,
    )
    return reviews, sentiment, topics
