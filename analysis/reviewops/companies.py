"""Side by side: the companies of a run that reads several (a competitor benchmark, a market file).

A customer-experience team often loads its own reviews with its competitors' (Back Market,
Swappie, Refurbed...) to see where it stands. One row per company, the largest first: volume,
stars, sentiment, how net sentiment moved over the same windows as the run's trend, and the
company's biggest complaint, i.e. the topic holding most of its negative reviews.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from reviewops.measures import label_shares, mean_stars, net_sentiment
from reviewops.records import Review, SentimentResult, TopicResult
from reviewops.trends import Windows, net_trend

MAX_COMPANIES = 20  # the largest companies get a row; a file of hundreds is not a benchmark
MIN_COMPLAINTS = 5  # fewer negative reviews with a topic: no "biggest complaint"


@dataclass(slots=True)
class CompanyInsight:
    company: str
    reviews: int
    share: float  # of the run's reviews
    mean_rating: float | None
    sentiment: dict[str, float]  # label -> share
    net_sentiment: float
    net_change: float | None  # recent window vs previous (see `trends`), None with too few reviews
    net_change_within_noise: bool | None
    top_complaint: str | None  # label of the topic holding most of the company's negative reviews
    top_complaint_share: float | None  # share of the company's negative reviews in that topic


def company_breakdown(
    reviews: Sequence[Review],
    sentiment: SentimentResult,
    topics: TopicResult,
    windows: Windows | None,
    *,
    most: int = MAX_COMPANIES,
) -> list[CompanyInsight]:
    """One row per company when the reviews name at least two, largest first; else []."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, review in enumerate(reviews):
        if review.company and review.company.strip():
            members[review.company.strip()].append(i)
    if len(members) < 2:
        return []
    labels_by_topic = {t.id: t.label for t in topics.topics}
    rows = []
    for company, idx in sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:most]:
        labels = [sentiment.labels[i] for i in idx]
        trend = net_trend([reviews[i] for i in idx], labels, windows)
        complaints = Counter(
            t for i in idx if sentiment.labels[i] == "negative" and (t := topics.assignments[i]) >= 0
        )
        top, count = complaints.most_common(1)[0] if complaints else (-1, 0)
        negatives = sum(1 for label in labels if label == "negative")
        known = count >= MIN_COMPLAINTS and top in labels_by_topic
        rows.append(
            CompanyInsight(
                company=company,
                reviews=len(idx),
                share=round(len(idx) / len(reviews), 4),
                mean_rating=mean_stars([r for i in idx if (r := reviews[i].rating) is not None]),
                sentiment=label_shares(labels),
                net_sentiment=net_sentiment(labels),
                net_change=trend.change if trend is not None else None,
                net_change_within_noise=trend.within_noise if trend is not None else None,
                top_complaint=labels_by_topic[top] if known else None,
                top_complaint_share=round(count / negatives, 4) if known and negatives else None,
            )
        )
    return rows
