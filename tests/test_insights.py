from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewops.insights import compute_insights, review_months
from reviewops.records import Review
from tests.support.analysis import corpus


def test_overview_and_rating_distribution() -> None:
    reviews, sentiment, topics = corpus()
    ins = compute_insights(reviews, sentiment, topics)
    assert ins.reviews == 73
    assert ins.rating_distribution == {1: 24, 2: 0, 3: 1, 4: 0, 5: 48}
    assert ins.mean_rating == round((24 * 1 + 3 + 48 * 5) / 73, 4)
    assert ins.sentiment["negative"] == round(24 / 73, 4)
    assert ins.net_sentiment == round(48 / 73 - 24 / 73, 4)
    assert (ins.first_date, ins.last_date) == ("2026-01-15", "2026-06-15")


def test_timeline_is_monthly_with_shares() -> None:
    reviews, sentiment, topics = corpus()
    timeline = compute_insights(reviews, sentiment, topics).timeline
    assert [p.period for p in timeline] == [f"2026-0{m}" for m in range(1, 7)]
    january, june = timeline[0], timeline[-1]
    assert january.reviews == 12 and january.negative == round(2 / 12, 4)
    assert june.reviews == 13 and june.mean_rating == round((6 * 5 + 6 + 3) / 13, 4)


def test_topic_impact_and_negative_driver() -> None:
    reviews, sentiment, topics = corpus()
    ins = compute_insights(reviews, sentiment, topics)
    battery = next(t for t in ins.topics if t.id == 1)
    assert battery.size == 24 and battery.mean_rating == 1.0
    # impact = overall mean stars - topic mean stars: battery drags the rating down
    assert battery.impact is not None and battery.impact > 2.5
    delivery = next(t for t in ins.topics if t.id == 0)
    assert delivery.impact is not None and delivery.impact < 0
    assert [d.topic_id for d in ins.negative_drivers] == [1]
    driver = ins.negative_drivers[0]
    assert driver.negative_reviews == 24 and driver.negative_share == 1.0 and driver.negative_rate == 1.0
    assert battery.trend == [
        ("2026-01", 2),
        ("2026-02", 2),
        ("2026-03", 2),
        ("2026-04", 6),
        ("2026-05", 6),
        ("2026-06", 6),
    ]


def test_rising_topic_compares_the_last_window_of_days_with_the_one_before() -> None:
    reviews, sentiment, topics = corpus()
    rising = compute_insights(reviews, sentiment, topics).rising_topics
    assert [r.topic_id for r in rising] == [1]
    r = rising[0]
    assert (r.recent, r.previous) == (18, 6)
    # 152 days of history: the last 76 days against the 76 before
    assert (r.recent_period, r.previous_period) == ("2026-04-01..2026-06-15", "2026-01-15..2026-03-31")
    assert r.recent_share == 0.5 and r.previous_share == 0.1667 and r.z >= 2


def test_no_dates_no_rising_no_crash() -> None:
    reviews, sentiment, topics = corpus()
    for r in reviews:
        r.published = None
    ins = compute_insights(reviews, sentiment, topics)
    assert ins.timeline == [] and ins.rising_topics == [] and ins.first_date is None


def test_a_topic_one_negative_above_expectation_is_not_a_driver() -> None:
    from reviewops.insights import negative_drivers, topic_insights
    from reviewops.records import Review, SentimentResult, Topic, TopicResult

    # Topic 0: 50 reviews, 25 negative; topic 1: 50 reviews, 10 negative; topic 2: 100 reviews,
    # 60 negative. Overall rate 95/200 = 0.475: topic 0 expects 23.75 negatives, so it is 1.25
    # above (z = 0.35, noise); topic 2 expects 47.5 and has 12.5 more (z = 2.5, a driver).
    labels = ["negative"] * 25 + ["positive"] * 25 + ["negative"] * 10 + ["positive"] * 40
    labels += ["negative"] * 60 + ["positive"] * 40
    assignments = [0] * 50 + [1] * 50 + [2] * 100
    reviews = [
        Review(id=str(i), text="x", rating=1 if lab == "negative" else 5) for i, lab in enumerate(labels)
    ]
    sentiment = SentimentResult("ratings", labels, [0.0] * len(labels))  # type: ignore[arg-type]
    topics = TopicResult("nmf", [Topic(i, f"t{i}", []) for i in range(3)], assignments, 0.0, "npmi", 1.0)
    drivers = negative_drivers(topic_insights(reviews, sentiment, topics), sentiment, topics)
    assert [d.topic_id for d in drivers] == [2]


def test_latest_negative_reviews_are_the_20_newest_ties_in_file_order() -> None:
    """The report's "latest complaints": the 20 newest negative reviews, newest first; reviews
    of the same date in file order, undated ones last."""
    reviews, sentiment, topics = corpus()  # 24 negative reviews, 3 or 6 sharing each date
    reviews[-1].published = None
    sentiment.labels[-1] = "negative"
    ids = compute_insights(reviews, sentiment, topics).recent_negative_ids
    negative = [r for r, label in zip(reviews, sentiment.labels, strict=True) if label == "negative"]
    dated = sorted((r for r in negative if r.published), key=lambda r: r.published, reverse=True)  # type: ignore[arg-type,return-value]
    assert ids == [r.id for r in [*dated, *(r for r in negative if not r.published)][:20]]
    assert ids[0].startswith("b6-") and ids[:6] == [f"b6-{i}" for i in range(6)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.none() | st.datetimes(timezones=st.none() | st.timezones()), max_size=30))
def test_review_months_are_the_dates_year_and_month(dates: list[dt.datetime | None]) -> None:
    reviews = [Review(id=str(i), text="x", published=when) for i, when in enumerate(dates)]
    assert review_months(reviews) == [when.isoformat()[:7] if when else None for when in dates]


def test_first_and_last_dates_of_equal_instants_are_as_a_sort_gives_them() -> None:
    """Two dates of one instant in different time zones: the first written is the first date,
    the last written the last (what sorting every date gave)."""
    reviews, sentiment, topics = corpus()
    late = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)
    reviews[-2].published = late
    reviews[-1].published = late.astimezone(dt.timezone(dt.timedelta(hours=1)))  # July 1st, 00:30
    assert compute_insights(reviews, sentiment, topics).last_date == "2026-07-01"
