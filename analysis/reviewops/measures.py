"""The three figures every breakdown repeats: mean stars, label shares, net sentiment."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from reviewops.records import LABELS


def mean_stars(values: Sequence[int]) -> float | None:
    """Mean of star ratings (4 decimals), None without any."""
    return round(sum(values) / len(values), 4) if values else None


def label_shares(labels: Sequence[str]) -> dict[str, float]:
    """Share of each sentiment label (positive, neutral, negative), 4 decimals."""
    counts = Counter(labels)
    total = len(labels) or 1
    return {label: round(counts.get(label, 0) / total, 4) for label in LABELS}


def net_sentiment(labels: Sequence[str]) -> float:
    """%positive - %negative, in [-1, 1]."""
    counts = Counter(labels)
    return round((counts["positive"] - counts["negative"]) / (len(labels) or 1), 4)
