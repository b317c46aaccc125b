from __future__ import annotations

import datetime as dt

from reviewops.records import Review, TopicResult
from reviewops.trends import comparison_windows, net_trend, rising_topics

END = dt.date(2026, 11, 3)  # a scrape that ends early in a month


def _reviews(days_back: list[int]) -> list[Review]:
    return [
        Review(
            id=str(i),
            text="x",
            published=dt.datetime.combine(END - dt.timedelta(days=d), dt.time(12), dt.UTC),
        )
        for i, d in enumerate(days_back)
    ]


def test_windows_count_days_back_from_the_newest_review_not_calendar_months() -> None:
    windows = comparison_windows([END - dt.timedelta(days=d) for d in range(400)])
    assert windows is not None and windows.days == 90
    # the recent window ends on the 3rd: it is 90 whole days, not "November" (3 days) + 2 months
    assert windows.recent_period == "2026-08-06..2026-11-03"
    assert windows.previous_period == "2026-05-08..2026-08-05"
    assert [windows.slot(END - dt.timedelta(days=d)) for d in (0, 89, 90, 179, 180)] == [0, 0, 1, 1, None]


def test_short_histories_use_half_the_span_and_very_short_ones_none() -> None:
    six_weeks = comparison_windows([END, END - dt.timedelta(days=41)])
    assert six_weeks is not None and six_weeks.days == 21
    assert comparison_windows([END, END - dt.timedelta(days=20)]) is None  # 21 days: < 2 x 14
    assert comparison_windows([]) is None


def test_net_trend_tells_a_real_change_from_noise() -> None:
    previous = list(range(100, 180))  # 80 reviews in the previous window
    recent = list(range(0, 80))
    reviews = _reviews(previous + recent + [399])
    windows = comparison_windows(r.published.date() for r in reviews if r.published)
    before = ["positive"] * 48 + ["negative"] * 24 + ["neutral"] * 8
    steady = net_trend(
        reviews, before + ["positive"] * 49 + ["negative"] * 24 + ["neutral"] * 7 + ["x"], windows
    )
    assert steady is not None and steady.within_noise and steady.days == 90
    assert (steady.recent_reviews, steady.previous_reviews) == (80, 80)
    fell = net_trend(
        reviews, before + ["positive"] * 30 + ["negative"] * 42 + ["neutral"] * 8 + ["x"], windows
    )
    assert fell is not None and not fell.within_noise and fell.change == -0.45
    few = _reviews(list(range(100, 110)) + list(range(0, 10)) + [399])
    assert (
        net_trend(few, ["positive"] * 21, comparison_windows(r.published.date() for r in few if r.published))
        is None
    )
    assert net_trend(reviews, ["positive"] * len(reviews), None) is None


def test_a_topic_one_review_above_its_share_is_not_rising() -> None:
    # 100 reviews a window; topic 1: 10 -> 13 (noise) ; topic 2: 10 -> 25 (z ~ 2.7)
    previous = [1] * 10 + [2] * 10 + [0] * 80
    recent = [1] * 13 + [2] * 25 + [0] * 62
    reviews = _reviews([120] * 100 + [10] * 100 + [399])
    topics = TopicResult("nmf", [], previous + recent + [0], 0.0, "npmi", 0.0)
    rising = rising_topics(
        reviews,
        topics,
        {0: "a", 1: "b", 2: "c"},
        comparison_windows(r.published.date() for r in reviews if r.published),
    )
    assert [(r.topic_id, r.recent, r.previous) for r in rising] == [(2, 25, 10)]
    assert rising[0].z > 2 and rising[0].change == 0.15
