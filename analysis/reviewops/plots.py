"""Charts for the report: matplotlib figures rendered to PNG bytes, and topic word clouds."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers and in CI

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

COLORS = {"positive": "#2e9e5b", "neutral": "#b0b0b0", "negative": "#d64545"}


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def sentiment_over_time(timeline: list[dict[str, Any]]) -> bytes | None:
    """Stacked monthly sentiment shares with review volume and mean stars."""
    if len(timeline) < 2:
        return None
    periods = [p["period"] for p in timeline]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True, height_ratios=[2, 1])
    bottom = [0.0] * len(periods)
    for label in ("negative", "neutral", "positive"):
        values = [p[label] for p in timeline]
        ax1.bar(periods, values, bottom=bottom, color=COLORS[label], label=label, width=0.85)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax1.set_ylabel("share of reviews")
    ax1.set_ylim(0, 1)
    ax1.legend(loc="upper left", ncols=3, fontsize=8, frameon=False, bbox_to_anchor=(0, 1.12))
    ax2.bar(periods, [p["reviews"] for p in timeline], color="#5b7db1", width=0.85)
    ax2.set_ylabel("reviews")
    ratings = [p["mean_rating"] for p in timeline]
    if any(r is not None for r in ratings):
        ax3 = ax2.twinx()
        ax3.plot(periods, ratings, color="#e0a100", marker="o", markersize=3)
        ax3.set_ylabel("mean stars", color="#b07d00")
        ax3.set_ylim(1, 5)
    ax2.tick_params(axis="x", rotation=60, labelsize=7)
    return _png(fig)


def rating_distribution(distribution: dict[str, int]) -> bytes | None:
    """Bar chart of 1..5 stars."""
    if not sum(distribution.values()):
        return None
    fig, ax = plt.subplots(figsize=(4.5, 3))
    stars = ["1", "2", "3", "4", "5"]
    colors = ["#d64545", "#e07b39", "#b0b0b0", "#8cc084", "#2e9e5b"]
    ax.bar([f"{s}★" for s in stars], [distribution.get(s, 0) for s in stars], color=colors)
    ax.set_ylabel("reviews")
    return _png(fig)


def topics_impact(items: list[dict[str, Any]]) -> bytes | None:
    """Horizontal bars: topic share, coloured by impact on the star rating."""
    if not items:
        return None
    items = sorted(items, key=lambda t: t["share"])
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(items) + 1))
    colors = [
        "#d64545" if (t["impact"] or 0) > 0.25 else "#2e9e5b" if (t["impact"] or 0) < -0.25 else "#9aa5b1"
        for t in items
    ]
    ax.barh([t["label"][:50] for t in items], [t["share"] for t in items], color=colors)
    for y, t in enumerate(items):
        impact = t["impact"]
        text = f" {t['share']:.0%}" + (f"  impact {impact:+.2f}★" if impact is not None else "")
        ax.text(t["share"], y, text, va="center", fontsize=8)
    ax.set_xlabel("share of reviews (red: drags stars down, green: lifts them)")
    ax.set_xlim(0, max(t["share"] for t in items) * 1.5)
    return _png(fig)


def topic_trends(items: list[dict[str, Any]], highlight: set[int]) -> bytes | None:
    """Monthly reviews per topic; rising topics drawn bold."""
    if not items or not any(len(t["trend"]) > 1 for t in items):
        return None
    fig, ax = plt.subplots(figsize=(9, 3.8))
    for t in items:
        periods = [p["period"] for p in t["trend"]]
        counts = [p["reviews"] for p in t["trend"]]
        bold = t["id"] in highlight
        ax.plot(
            periods,
            counts,
            linewidth=2.6 if bold else 1,
            alpha=1 if bold else 0.5,
            label=t["label"][:40] + (" (rising)" if bold else ""),
        )
    ax.set_ylabel("reviews per month")
    ax.tick_params(axis="x", rotation=60, labelsize=7)
    ax.legend(fontsize=7, ncols=2, frameon=False)
    return _png(fig)


def word_cloud(terms: list[dict[str, Any]], path: Path) -> Path | None:
    """A word cloud PNG of a topic's weighted terms."""
    from wordcloud import WordCloud

    weights = {t["term"].replace("_", " "): t["weight"] for t in terms if t["weight"] > 0}
    if not weights:
        return None
    cloud = WordCloud(
        width=420,
        height=240,
        background_color="white",
        colormap="viridis",
        prefer_horizontal=0.95,
        random_state=0,
    )
    cloud.generate_from_frequencies(weights)
    path.parent.mkdir(parents=True, exist_ok=True)
    cloud.to_file(str(path))
    return path
