"""Insights: the answers a customer-experience team reads, computed from reviews + model outputs.

Everything here is plain arithmetic over aligned lists (review i, label i, topic i), so it is
cheap at 100k reviews and easy to check by hand.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from reviewops.companies import CompanyInsight, company_breakdown
from reviewops.measures import label_shares, mean_stars, net_sentiment
from reviewops.records import Review, SentimentResult, TopicResult
from reviewops.trends import (
    NetTrend,
    Rising,
    Windows,
    most_specific,
    net_trend,
    path_labels,
    review_windows,
    rising_topics,
    theme_ids,
)

MIN_DRIVER_Z = 2.0  # a negative driver's excess must be >= 2 binomial standard deviations


@dataclass(slots=True)
class PeriodPoint:
    period: str  # "YYYY-MM"
    reviews: int
    mean_rating: float | None
    positive: float
    neutral: float
    negative: float
    net_sentiment: float  # %positive - %negative, in [-1, 1]


@dataclass(slots=True)
class TopicInsight:
    id: int
    label: str
    terms: list[tuple[str, float]]
    size: int
    share: float
    mean_rating: float | None
    sentiment: dict[str, float]  # label -> share within the topic
    impact: float | None  # overall mean stars - topic mean stars (positive = drags the rating down)
    trend: list[tuple[str, int]]  # (YYYY-MM, reviews)
    representative_ids: list[str]
    parent: int | None = None  # None: a broad theme; else the broad theme this sub-theme refines


@dataclass(slots=True)
class Driver:
    topic_id: int
    label: str
    negative_reviews: int
    negative_share: float  # share of all negative reviews that are about this topic
    negative_rate: float  # share of this topic's reviews that are negative
    excess_negatives: float  # negatives above what the overall rate predicts for its size
    impact: float | None
    parent: int | None = None  # set when the driver is a sub-theme (label "theme › sub-theme")


@dataclass(slots=True)
class Insights:
    reviews: int
    rated: int
    mean_rating: float | None
    sentiment: dict[str, float]
    net_sentiment: float
    first_date: str | None
    last_date: str | None
    rating_distribution: dict[int, int]
    timeline: list[PeriodPoint]
    topics: list[TopicInsight]
    negative_drivers: list[Driver]
    rising_topics: list[Rising]
    windows: Windows | None  # the recent and previous windows trends compare
    trend: NetTrend | None  # net sentiment of the recent window vs the previous one
    companies: list[CompanyInsight] = field(default_factory=list)  # when the reviews name several
    recent_negative_ids: list[str] = field(default_factory=list)


def review_months(reviews: Sequence[Review]) -> list[str | None]:
    """Each review's publication month, "YYYY-MM" (None without a date)."""
    # One string per month, made once: formatting each review's date (isoformat, with its
    # time zone) took 0.4 s at 100k reviews; two attribute reads and a look-up do not.
    names: dict[int, str] = {}
    months: list[str | None] = []
    for review in reviews:
        if (p := review.published) is None:
            months.append(None)
            continue
        name = names.get(key := p.year * 100 + p.month)
        if name is None:
            name = names[key] = f"{p.year:04d}-{p.month:02d}"
        months.append(name)
    return months


def build_timeline(
    reviews: Sequence[Review], labels: Sequence[str], months: Sequence[str | None] | None = None
) -> list[PeriodPoint]:
    """Monthly volume, mean stars and sentiment shares (reviews without a date are left out).

    `months`: `review_months(reviews)`, when the caller has it already.
    """
    by_month: dict[str, list[int]] = defaultdict(list)
    for i, month in enumerate(review_months(reviews) if months is None else months):
        if month is not None:
            by_month[month].append(i)
    points = []
    for period in sorted(by_month):
        idx = by_month[period]
        shares = label_shares([labels[i] for i in idx])
        ratings = [r for i in idx if (r := reviews[i].rating) is not None]
        points.append(
            PeriodPoint(
                period=period,
                reviews=len(idx),
                mean_rating=mean_stars(ratings),
                positive=shares["positive"],
                neutral=shares["neutral"],
                negative=shares["negative"],
                net_sentiment=net_sentiment([labels[i] for i in idx]),
            )
        )
    return points


def _representatives(
    members: list[int], reviews: Sequence[Review], weights: Sequence[float] | None, n: int
) -> list[str]:
    # The reviews most strongly about the topic; without weights, the longest ones. (nsmallest
    # is sorted(...)[:n], ties in member order, without sorting every member.)
    if weights is not None:
        ranked = heapq.nsmallest(n, members, key=lambda i: -weights[i])
    else:
        ranked = heapq.nsmallest(n, members, key=lambda i: -len(reviews[i].text))
    return [reviews[i].id for i in ranked]


def _members(assignments: Sequence[int]) -> dict[int, list[int]]:
    members: dict[int, list[int]] = defaultdict(list)
    for i, t in enumerate(assignments):
        if t >= 0:
            members[t].append(i)
    return members


def topic_insights(
    reviews: Sequence[Review],
    sentiment: SentimentResult,
    topics: TopicResult,
    *,
    representatives: int = 5,
    months: Sequence[str | None] | None = None,
) -> list[TopicInsight]:
    """Size, share, stars, sentiment mix, impact, monthly trend and examples of each theme.

    Broad themes and sub-themes alike (in `topics.topics` order): a sub-theme's members are the
    reviews `sub_assignments` gives it, and its share is over all reviews with a theme too, so
    shares of both levels read on one scale. `months`: `review_months(reviews)`, if known.
    """
    if months is None:
        months = review_months(reviews)
    broad = _members(topics.assignments)
    sub = _members(topics.sub_assignments)
    assigned = sum(len(m) for m in broad.values()) or 1
    all_ratings = [r.rating for r in reviews if r.rating is not None]
    overall = mean_stars(all_ratings)
    raw_weights = topics.details.get("dominant_weight")
    weights = raw_weights if isinstance(raw_weights, list) else None
    result = []
    for topic in topics.topics:
        idx = (broad if topic.parent is None else sub).get(topic.id, [])
        ratings = [r for i in idx if (r := reviews[i].rating) is not None]
        mean = mean_stars(ratings)
        trend = Counter(m for i in idx if (m := months[i]) is not None)
        result.append(
            TopicInsight(
                id=topic.id,
                label=topic.label,
                terms=topic.terms,
                size=len(idx),
                share=round(len(idx) / assigned, 4),
                mean_rating=mean,
                sentiment=label_shares([sentiment.labels[i] for i in idx]),
                impact=round(overall - mean, 4) if overall is not None and mean is not None else None,
                trend=sorted(trend.items()),
                representative_ids=_representatives(idx, reviews, weights, representatives),
                parent=topic.parent,
            )
        )
    return result


def negative_drivers(
    topic_list: Sequence[TopicInsight], sentiment: SentimentResult, topics: TopicResult
) -> list[Driver]:
    """Themes with clearly more negative reviews than their size predicts, most excess first.

    With sub-themes the drivers are sub-themes ("claims › waiting period"): a broad theme is
    named only when none of its sub-themes stands out on its own (see `most_specific`).
    """
    negatives: Counter[int] = Counter()
    for (theme, sub), label in zip(theme_ids(topics), sentiment.labels, strict=True):
        if theme >= 0 and label == "negative":
            negatives[theme] += 1
            if sub >= 0:
                negatives[sub] += 1
    total_negative = sum(negatives[t.id] for t in topic_list if t.parent is None)
    assigned = sum(t.size for t in topic_list if t.parent is None)
    if not total_negative or not assigned:
        return []
    overall_rate = total_negative / assigned
    labels = path_labels(topics)
    flagged: dict[int, Driver] = {}
    for t in topic_list:
        n_neg = negatives.get(t.id, 0)
        expected = t.size * overall_rate
        excess = n_neg - expected
        # Only excesses unlikely under the overall rate count (binomial z >= 2): a topic one
        # negative review above expectation is noise, not a driver.
        spread = math.sqrt(expected * (1 - overall_rate)) if 0 < overall_rate < 1 else 0.0
        if t.size and excess > 0 and (spread == 0 or excess / spread >= MIN_DRIVER_Z):
            flagged[t.id] = Driver(
                topic_id=t.id,
                label=labels.get(t.id, t.label),
                negative_reviews=n_neg,
                negative_share=round(n_neg / total_negative, 4),
                negative_rate=round(n_neg / t.size, 4),
                excess_negatives=round(excess, 2),
                impact=t.impact,
                parent=t.parent,
            )
    kept = most_specific(flagged, topics)
    return sorted((flagged[i] for i in kept), key=lambda d: (-d.excess_negatives, d.topic_id))


def compute_insights(reviews: Sequence[Review], sentiment: SentimentResult, topics: TopicResult) -> Insights:
    """Every insight of one analysis run."""
    ratings = [r.rating for r in reviews if r.rating is not None]
    shares = label_shares(sentiment.labels)
    dates = [p for r in reviews if (p := r.published) is not None]
    # As sorted(dates)[0] and [-1] gave them: of equal instants, the first and the last.
    first, last = (min(dates), max(reversed(dates))) if dates else (None, None)
    months = review_months(reviews)
    topic_list = topic_insights(reviews, sentiment, topics, months=months)
    windows = review_windows(reviews)
    # The 20 latest, as sorted(..., reverse=True)[:20] gives them (ties: earlier index first).
    recent_negative = heapq.nlargest(
        20,
        (i for i, label in enumerate(sentiment.labels) if label == "negative"),
        key=lambda i: reviews[i].published or dt.datetime.min.replace(tzinfo=dt.UTC),
    )
    return Insights(
        reviews=len(reviews),
        rated=len(ratings),
        mean_rating=mean_stars(ratings),
        sentiment=shares,
        net_sentiment=net_sentiment(sentiment.labels),
        first_date=first.date().isoformat() if first else None,
        last_date=last.date().isoformat() if last else None,
        rating_distribution={star: ratings.count(star) for star in range(1, 6)},
        timeline=build_timeline(reviews, sentiment.labels, months),
        topics=topic_list,
        negative_drivers=negative_drivers(topic_list, sentiment, topics),
        rising_topics=rising_topics(reviews, topics, path_labels(topics), windows),
        windows=windows,
        trend=net_trend(reviews, sentiment.labels, windows),
        companies=company_breakdown(reviews, sentiment, topics, windows),
        recent_negative_ids=[reviews[i].id for i in recent_negative],
    )
