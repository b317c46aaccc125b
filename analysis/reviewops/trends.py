"""What changed lately: the last window of days against the window before it.

Windows are counted in days back from the newest dated review, not in calendar months, so a
scrape that ends on the 3rd of a month does not compare three days with a whole month. The
window is RECENT_DAYS long, or half the dated history when that is shorter (at least
MIN_WINDOW_DAYS): 200 reviews written over six weeks still get a three-week comparison.

Two answers use the same windows: the net sentiment change (`net_trend`) and the topics whose
share of reviews grew (`rising_topics`). Both say when a change is within noise.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reviewops.records import Review, TopicResult

PATH_SEPARATOR = " › "  # "claims › waiting period": a sub-theme named with its broad theme

RECENT_DAYS = 90  # the last 90 days of data against the 90 days before
MIN_WINDOW_DAYS = 14  # shorter histories cannot be split into two comparable windows
MIN_WINDOW_REVIEWS = 30  # fewer reviews in a window: no net sentiment comparison
MIN_RISING_Z = 2.0  # a rising topic's share gain must be >= 2 standard errors
MIN_RISING_REVIEWS = 5  # ... and it needs this many reviews in the recent window


@dataclass(slots=True, frozen=True)
class Windows:
    """Two adjacent windows of `days` days; `end` is the newest review's date (inclusive)."""

    days: int
    end: dt.date

    @property
    def recent_start(self) -> dt.date:
        return self.end - dt.timedelta(days=self.days - 1)

    @property
    def previous_start(self) -> dt.date:
        return self.end - dt.timedelta(days=2 * self.days - 1)

    @property
    def recent_period(self) -> str:
        return f"{self.recent_start.isoformat()}..{self.end.isoformat()}"

    @property
    def previous_period(self) -> str:
        previous_end = self.recent_start - dt.timedelta(days=1)
        return f"{self.previous_start.isoformat()}..{previous_end.isoformat()}"

    def slot(self, day: dt.date) -> int | None:
        """0 for the recent window, 1 for the previous one, None for older days."""
        if day >= self.recent_start:
            return 0
        if day >= self.previous_start:
            return 1
        return None


def comparison_windows(days: Iterable[dt.date], length: int = RECENT_DAYS) -> Windows | None:
    """The windows for these review dates, or None when the dated history is too short."""
    dates = list(days)
    if not dates:
        return None
    first, last = min(dates), max(dates)
    span = (last - first).days + 1
    window = min(length, span // 2)
    if window < MIN_WINDOW_DAYS:
        return None
    return Windows(days=window, end=last)


def review_windows(reviews: Sequence[Review], length: int = RECENT_DAYS) -> Windows | None:
    """`comparison_windows` over the reviews' publication dates."""
    return comparison_windows((p.date() for r in reviews if (p := r.published) is not None), length)


def _slots(reviews: Sequence[Review], windows: Windows) -> list[int | None]:
    """`windows.slot` of each review's publication day (None without a date)."""
    recent, previous = windows.recent_start, windows.previous_start  # once, not once a review
    slots: list[int | None] = []
    for review in reviews:
        if (published := review.published) is None:
            slots.append(None)
        else:
            day = published.date()
            slots.append(0 if day >= recent else 1 if day >= previous else None)
    return slots


def path_labels(topics: TopicResult) -> dict[int, str]:
    """Each theme's label; a sub-theme's is prefixed with its broad theme's ("claims › waiting period").

    Alerts name sub-themes this way because a sub-theme label alone ("waiting period") loses
    the context a reader needs.
    """
    by_id = {t.id: t.label for t in topics.topics}
    return {
        t.id: t.label if t.parent is None else f"{by_id.get(t.parent, '?')}{PATH_SEPARATOR}{t.label}"
        for t in topics.topics
    }


def most_specific(flagged: Iterable[int], topics: TopicResult) -> set[int]:
    """The flagged themes to report: sub-themes first, a broad theme only where none of its own is.

    A broad theme that has sub-themes is reported only when none of its sub-themes is flagged
    (its signal is spread too thin across them); otherwise the sub-theme says more precisely
    what changed. Without sub-themes, this returns the flagged broad themes unchanged.
    """
    flags = set(flagged)
    parents = {t.id: t.parent for t in topics.topics}
    flagged_parents = {parents[i] for i in flags if parents.get(i) is not None}
    return {i for i in flags if parents.get(i) is not None or i not in flagged_parents}


def theme_ids(topics: TopicResult) -> list[tuple[int, int]]:
    """(broad theme, sub-theme or -1) per review; sub-theme -1 throughout when the run made none."""
    subs = topics.sub_assignments or [-1] * len(topics.assignments)
    return list(zip(topics.assignments, subs, strict=True))


@dataclass(slots=True, frozen=True)
class NetTrend:
    """Net sentiment (%positive - %negative) of the recent window against the previous one."""

    recent_period: str  # "YYYY-MM-DD..YYYY-MM-DD"
    previous_period: str
    days: int
    recent: float  # net sentiment, -1..1
    previous: float
    recent_reviews: int
    previous_reviews: int
    change: float
    within_noise: bool  # |change| under two standard errors


def net_trend(
    reviews: Sequence[Review],
    labels: Sequence[str],
    windows: Windows | None,
    *,
    min_reviews: int = MIN_WINDOW_REVIEWS,
) -> NetTrend | None:
    """The net sentiment change between the two windows; None without enough dated reviews."""
    if windows is None:
        return None
    counts = [Counter[str](), Counter[str]()]
    for slot, label in zip(_slots(reviews, windows), labels, strict=True):
        if slot is not None:
            counts[slot][label] += 1
    n_r, n_p = counts[0].total(), counts[1].total()
    if n_r < min_reviews or n_p < min_reviews:
        return None
    sizes = (n_r, n_p)
    net = [(c["positive"] - c["negative"]) / n for c, n in zip(counts, sizes, strict=True)]
    # each review scores +1 / 0 / -1: variance = E[x²] - E[x]²
    var = [(c["positive"] + c["negative"]) / n - m**2 for c, n, m in zip(counts, sizes, net, strict=True)]
    se = math.sqrt(max(var[0], 0.0) / n_r + max(var[1], 0.0) / n_p)
    change = net[0] - net[1]
    return NetTrend(
        recent_period=windows.recent_period,
        previous_period=windows.previous_period,
        days=windows.days,
        recent=round(net[0], 4),
        previous=round(net[1], 4),
        recent_reviews=n_r,
        previous_reviews=n_p,
        change=round(change, 4),
        within_noise=abs(change) < 2 * se,
    )


@dataclass(slots=True)
class Rising:
    topic_id: int
    label: str
    recent: int
    previous: int
    recent_share: float
    previous_share: float
    change: float  # recent_share - previous_share (percentage points / 100)
    z: float  # two-proportion z statistic of the change
    recent_period: str  # "YYYY-MM-DD..YYYY-MM-DD"
    previous_period: str
    parent: int | None = None  # set when a sub-theme rose (label "theme › sub-theme")


def _two_proportion_z(hits_a: int, n_a: int, hits_b: int, n_b: int) -> float:
    pooled = (hits_a + hits_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    diff = hits_a / n_a - hits_b / n_b
    return diff / spread if spread else (math.inf if diff > 0 else 0.0)


def rising_topics(
    reviews: Sequence[Review],
    topics: TopicResult,
    labels_by_topic: dict[int, str],
    windows: Windows | None,
    *,
    min_z: float = MIN_RISING_Z,
    min_recent: int = MIN_RISING_REVIEWS,
) -> list[Rising]:
    """Themes whose share of reviews grew clearly (z >= min_z) in the recent window, fastest first.

    Shares are over the reviews with a theme in each window, so a window with more reviews
    overall does not make every theme "rise". With sub-themes, the alert names the sub-theme
    that grew rather than its broad theme (see `most_specific`).
    """
    if windows is None:
        return []
    counts = [Counter[int](), Counter[int]()]
    totals = [0, 0]
    for slot, (tid, sub) in zip(_slots(reviews, windows), theme_ids(topics), strict=True):
        if slot is not None and tid >= 0:
            totals[slot] += 1
            counts[slot][tid] += 1
            if sub >= 0:
                counts[slot][sub] += 1
    n_r, n_p = totals
    if not n_r or not n_p:
        return []
    parents = {t.id: t.parent for t in topics.topics}
    flagged: dict[int, float] = {}
    for tid in labels_by_topic:
        recent = counts[0][tid]
        z = _two_proportion_z(recent, n_r, counts[1][tid], n_p)
        if recent >= min_recent and z >= min_z:
            flagged[tid] = z
    out = []
    for tid in most_specific(flagged, topics):
        label, z = labels_by_topic[tid], flagged[tid]
        recent, previous = counts[0][tid], counts[1][tid]
        out.append(
            Rising(
                topic_id=tid,
                label=label,
                recent=recent,
                previous=previous,
                recent_share=round(recent / n_r, 4),
                previous_share=round(previous / n_p, 4),
                change=round(recent / n_r - previous / n_p, 4),
                z=round(z, 2) if math.isfinite(z) else 99.0,
                recent_period=windows.recent_period,
                previous_period=windows.previous_period,
                parent=parents.get(tid),
            )
        )
    return sorted(out, key=lambda x: (-x.change, x.topic_id))
