"""The planted structure of the demo dataset: themes, their ratings, the timeline and the trend.

This is the ground truth that tests and benchmarks score the models against, so it lives apart
from the phrase banks (what is said) and the generator (how it is assembled).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

Polarity = Literal["positive", "negative", "mixed"]


@dataclass(frozen=True, slots=True)
class Theme:
    """A planted theme: how often reviews are mostly about it and how they feel about it."""

    name: str
    weight: float  # relative share of reviews whose main theme this is (before any trend)
    positive: float  # probability a review on this theme is positive
    negative: float  # probability it is negative; the rest are mixed


# Complaint-heavy themes (battery, refund, warranty) pull ratings down; price and screen
# condition are mostly praise, as on real refurbished-electronics marketplaces.
THEMES: tuple[Theme, ...] = (
    Theme("delivery", 0.17, positive=0.55, negative=0.30),
    Theme("battery", 0.10, positive=0.15, negative=0.70),
    Theme("refund", 0.11, positive=0.20, negative=0.65),
    Theme("customer_service", 0.14, positive=0.45, negative=0.40),
    Theme("screen_condition", 0.14, positive=0.70, negative=0.18),
    Theme("price", 0.14, positive=0.80, negative=0.08),
    Theme("warranty", 0.10, positive=0.30, negative=0.55),
    Theme("accessories", 0.10, positive=0.35, negative=0.45),
)
THEME_NAMES: tuple[str, ...] = tuple(t.name for t in THEMES)

# Stars per polarity: (rating, probability).
RATINGS: dict[Polarity, tuple[tuple[int, float], ...]] = {
    "positive": ((5, 0.65), (4, 0.35)),
    "negative": ((1, 0.70), (2, 0.30)),
    "mixed": ((3, 0.60), (2, 0.20), (4, 0.20)),
}

# A fixed end date keeps the dataset identical from one day to the next (never "today").
END = dt.datetime(2026, 4, 30, 22, 0, tzinfo=dt.UTC)
SPAN_DAYS = 455  # 15 months: 2025-02-01 .. 2026-04-30
START = END - dt.timedelta(days=SPAN_DAYS)
# Review volume grows over the period: the density at the end is (1 + growth) times the start.
VOLUME_GROWTH = 0.6
# The complaint that rises: over the last RISE_DAYS its weight ramps up to RISE_FACTOR times.
RISING_THEME = "battery"
RISE_DAYS = 75
RISE_FACTOR = 3.0


def day_of(fraction: float) -> int:
    """The day index (0 .. SPAN_DAYS-1) of a point `fraction` (0..1) through the timeline."""
    return min(int(fraction * SPAN_DAYS), SPAN_DAYS - 1)


def timeline_fraction(uniform: float) -> float:
    """Map a uniform draw in [0, 1) to a point in the timeline with linearly growing volume.

    The density is proportional to 1 + g*u; this inverts its cumulative distribution.
    """
    g = VOLUME_GROWTH
    return (math.sqrt(1.0 + 2.0 * g * uniform * (1.0 + g / 2.0)) - 1.0) / g


def theme_weights(day: int) -> list[float]:
    """Relative theme weights on a given day, the rising theme ramped up near the end."""
    weights = [t.weight for t in THEMES]
    rise_start = SPAN_DAYS - RISE_DAYS
    if day >= rise_start:
        ramp = (day - rise_start + 1) / RISE_DAYS
        index = THEME_NAMES.index(RISING_THEME)
        weights[index] *= 1.0 + (RISE_FACTOR - 1.0) * ramp
    return weights


def cumulative_theme_weights() -> list[list[float]]:
    """Per day, the running sums of theme_weights (for bisect sampling), normalised to 1."""
    table = []
    for day in range(SPAN_DAYS):
        weights = theme_weights(day)
        total = sum(weights)
        running, cumulative = 0.0, []
        for w in weights:
            running += w / total
            cumulative.append(running)
        cumulative[-1] = 1.0  # guard against rounding leaving a gap above the last bucket
        table.append(cumulative)
    return table
