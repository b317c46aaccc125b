"""Charts for the report: matplotlib figures rendered to PNG bytes, and topic word clouds.

One colour language everywhere: red = negative / drags the stars down, green = positive / lifts
them, grey = neutral. Months are laid on a continuous calendar axis (a month without reviews is a
gap, not a missing tick), and months with too few reviews to read shares from are faded.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")  # no display on servers and in CI

import matplotlib.pyplot as plt
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

Tone = Literal["negative", "neutral", "positive"]

COLORS = {"positive": "#2e9e5b", "neutral": "#b0b0b0", "negative": "#d64545"}
TONE_COLORS: dict[str, str] = {"negative": "#d64545", "neutral": "#7f8fa3", "positive": "#2e9e5b"}
VOLUME_COLOR = "#5b7db1"
STARS_COLOR = "#c98a00"
INK = "#1d2733"
MIN_MONTH_REVIEWS = 10  # below this, a month's shares are noise: faded bars, no line point
MAX_MONTHS = 36  # charts show at most the last 3 years, month by month
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WORD_PALETTES: dict[str, tuple[str, ...]] = {  # darkest for the heaviest words
    "negative": ("#7f1717", "#a82828", "#c83c3c", "#d96a6a"),
    "positive": ("#0f5130", "#1a7043", "#2a8f57", "#55ad7e"),
    "neutral": ("#1d2733", "#2f4a66", "#4a6a90", "#71859b"),
}

plt.rcParams.update(
    {
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#9aa5b1",
        "axes.labelcolor": INK,
        "xtick.color": "#44505c",
        "ytick.color": "#44505c",
        "font.size": 9,
    }
)


def _png(fig: Figure, *, tight: bool = True) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # a glyph the font lacks is a warning per character (CJK: hundreds); labels are made
        # drawable beforehand (see `drawable_text`), and the report says what was left out
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight" if tight else None, facecolor="white")
    plt.close(fig)
    return buf.getvalue()


@cache
def _font_chars() -> frozenset[int]:
    """The code points the charts' font (DejaVu Sans) can draw; empty when it is not found."""
    path = _font_path()
    if path is None:
        return frozenset()
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(path).get_charmap())


def drawable(text: str) -> bool:
    """True when the charts' font has a glyph for every character of `text`."""
    chars = _font_chars()
    return not chars or all(c.isspace() or ord(c) in chars for c in text)


def drawable_text(text: str) -> str:
    """`text` with each run of characters the font cannot draw (CJK, ...) replaced by '…'."""
    if drawable(text):
        return text
    chars = _font_chars()
    out: list[str] = []
    for c in text:
        ok = c.isspace() or ord(c) in chars
        if ok:
            out.append(c)
        elif not out or out[-1] != "…":
            out.append("…")
    return "".join(out)


def month_index(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def period_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_range(periods: Sequence[str]) -> list[str]:
    """Every month from the first to the last period given, gaps included ("YYYY-MM")."""
    if not periods:
        return []
    indexes = [month_index(p) for p in periods]
    return [period_name(i) for i in range(min(indexes), max(indexes) + 1)]


def chart_months(periods: Sequence[str], max_months: int = MAX_MONTHS) -> list[str]:
    """The months a chart shows: every month of the data, at most the last `max_months`."""
    return month_range(periods)[-max_months:]


def month_name(period: str) -> str:
    """'2026-02' -> 'Feb 2026'."""
    return f"{_MONTH_NAMES[int(period[5:7]) - 1]} {period[:4]}"


def _month_axis(ax: Axes, periods: Sequence[str], max_labels: int = 14) -> None:
    """Readable month ticks: month names (year under January) or years on long ranges."""
    n = len(periods)
    ticks: list[int] = []
    labels: list[str] = []
    if n <= 6 * max_labels:
        step = next(s for s in (1, 2, 3, 4, 6) if n / s <= max_labels)
        for i, p in enumerate(periods):
            month = int(p[5:7])
            if (month - 1) % step:
                continue
            first = not ticks
            ticks.append(i)
            name = _MONTH_NAMES[month - 1]
            labels.append(f"{name}\n{p[:4]}" if first or month == 1 else name)
    else:
        years = n / 12
        year_step = next(s for s in (1, 2, 5, 10, 20) if years / s <= max_labels)
        for i, p in enumerate(periods):
            if p.endswith("-01") and int(p[:4]) % year_step == 0:
                ticks.append(i)
                labels.append(p[:4])
        januaries = [i for i, p in enumerate(periods) if p.endswith("-01")]
        ax.set_xticks(januaries, minor=True)
    ax.set_xticks(ticks, labels)
    ax.set_xlim(-0.6, n - 0.4)


def _is_partial(period: str, first_date: str | None, last_date: str | None) -> bool:
    """True when the data start after the 3rd or stop before the 28th of this month."""
    if last_date and last_date[:7] == period and int(last_date[8:10]) < 28:
        return True
    return bool(first_date and first_date[:7] == period and int(first_date[8:10]) > 3)


@dataclass(slots=True)
class _Months:
    """The months a timeline chart shows, with what each panel needs to know about them."""

    periods: list[str]
    points: dict[str, dict[str, Any]]
    readable: list[bool]  # enough reviews to read shares from
    partial: list[bool]  # the data start or stop inside the month

    @property
    def x(self) -> list[int]:
        return list(range(len(self.periods)))

    def values(self, key: str, default: float = math.nan) -> list[float]:
        """`key` of each month, `default` where the month has no point or too few reviews."""
        out = []
        for p, ok in zip(self.periods, self.readable, strict=True):
            value = self.points[p][key] if ok and p in self.points else None
            out.append(default if value is None else float(value))
        return out


def _net_panel(ax: Axes, months: _Months) -> None:
    """Net sentiment line, green above zero, red below."""
    x, net = months.x, [v * 100 for v in months.values("net_sentiment")]
    ax.axhline(0, color="#6b7785", linewidth=0.8)
    for above, color in ((True, COLORS["positive"]), (False, COLORS["negative"])):
        where = [(v >= 0) == above for v in net]
        ax.fill_between(x, net, 0, where=where, color=color, alpha=0.22, interpolate=True)
    ax.plot(x, net, color=INK, linewidth=1.8, marker="o", markersize=3 if len(x) <= 40 else 0)
    known = [v for v in net if not math.isnan(v)]
    low, high = min([*known, 0.0]), max([*known, 0.0])
    pad = max(5.0, (high - low) * 0.15)
    ax.set_ylim(max(-100.0, low - pad), min(100.0, high + pad))
    ax.set_ylabel("net sentiment\n(% pos − % neg)")
    ax.yaxis.set_major_locator(MaxNLocator(4))
    ax.grid(axis="y", color="#e6e9ed", linewidth=0.7)


def _mix_panel(ax: Axes, months: _Months, min_reviews: int) -> None:
    """Stacked sentiment shares; faded where the month has too few reviews."""
    bottom = [0.0] * len(months.periods)
    for label in ("negative", "neutral", "positive"):
        values = [months.points[p][label] if p in months.points else 0.0 for p in months.periods]
        colors = [to_rgba(COLORS[label], 1.0 if ok else 0.3) for ok in months.readable]
        ax.bar(months.x, values, bottom=bottom, color=colors, width=0.86, linewidth=0)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("share of reviews")
    handles = [Patch(color=COLORS[lab], label=lab) for lab in ("positive", "neutral", "negative")]
    if not all(months.readable):
        handles.append(Patch(color=to_rgba("#7f8fa3", 0.3), label=f"< {min_reviews} reviews"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)


def _volume_panel(ax: Axes, months: _Months) -> None:
    """Reviews per month (partial months hatched) and mean stars on a second axis."""
    x = months.x
    volume = [months.points[p]["reviews"] if p in months.points else 0 for p in months.periods]
    colors = [to_rgba(VOLUME_COLOR, 1.0 if ok else 0.45) for ok in months.readable]
    bars = ax.bar(x, volume, color=colors, width=0.86, linewidth=0)
    for bar, partial in zip(bars, months.partial, strict=True):
        if partial:
            bar.set_hatch("////")
            bar.set_edgecolor("white")
    ax.set_ylabel("reviews")
    ax.yaxis.set_major_locator(MaxNLocator(4, integer=True))
    legend: list[Artist] = [Patch(color=VOLUME_COLOR, label="reviews / month")]
    if any(months.partial):
        legend.append(Patch(facecolor=VOLUME_COLOR, hatch="////", edgecolor="white", label="partial month"))
    ratings = months.values("mean_rating")
    if any(not math.isnan(r) for r in ratings):
        stars = ax.twinx()
        stars.spines["right"].set_visible(True)
        stars.plot(
            x, ratings, color=STARS_COLOR, linewidth=1.6, marker="o", markersize=3 if len(x) <= 40 else 0
        )
        stars.set_ylim(1, 5)
        stars.set_yticks([1, 2, 3, 4, 5])
        stars.set_ylabel("mean ★", color=STARS_COLOR)
        stars.tick_params(axis="y", colors=STARS_COLOR)
        legend.append(Line2D([], [], color=STARS_COLOR, linewidth=1.6, label="mean stars"))
    ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.07, 1.0), frameon=False, fontsize=8)


def sentiment_over_time(
    timeline: list[dict[str, Any]],
    *,
    first_date: str | None = None,
    last_date: str | None = None,
    min_reviews: int = MIN_MONTH_REVIEWS,
    max_months: int = MAX_MONTHS,
) -> bytes | None:
    """Net sentiment, monthly sentiment mix, and volume with mean stars.

    None when fewer than 3 months hold `min_reviews` reviews: such a chart would be all noise.
    """
    points = {p["period"]: p for p in timeline}
    periods = chart_months(list(points), max_months)
    readable = [p in points and points[p]["reviews"] >= min_reviews for p in periods]
    if sum(readable) < 3:
        return None
    months = _Months(periods, points, readable, [_is_partial(p, first_date, last_date) for p in periods])
    fig, (ax_net, ax_mix, ax_vol) = plt.subplots(
        3, 1, figsize=(10, 6.8), sharex=True, height_ratios=[1.25, 1.5, 1.0]
    )
    _net_panel(ax_net, months)
    _mix_panel(ax_mix, months, min_reviews)
    _volume_panel(ax_vol, months)
    _month_axis(ax_vol, periods)
    fig.align_ylabels([ax_net, ax_mix, ax_vol])
    fig.subplots_adjust(hspace=0.12)
    return _png(fig)


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _nice_floor(value: float) -> float:
    """The largest of 1, 2, 2.5, 5 × 10^k not above `value` (a round gridline under a peak)."""
    if value <= 0:
        return 0.0
    exponent = math.floor(math.log10(value))
    for mantissa in (5, 2.5, 2, 1):
        candidate = mantissa * 10.0**exponent
        if candidate <= value + 1e-12:
            return candidate
    return 10.0**exponent


def _date_x(day: dt.date, periods: list[str]) -> float:
    """Where a day falls on a chart whose points are `periods` (months) at x = 0..1, clamped to >= 0.

    Month i is drawn at i / (m - 1) and stands for the whole month, from half a step before it to
    half a step after, so a day's position is interpolated inside that span.
    """
    m = len(periods)
    i = month_index(f"{day.year:04d}-{day.month:02d}") - month_index(periods[0])
    days_in_month = calendar.monthrange(day.year, day.month)[1]
    position = i - 0.5 + (day.day - 1) / days_in_month
    return max(position / (m - 1), 0.0)


def topic_trends(
    items: list[dict[str, Any]],
    highlight: set[int],
    tones: dict[int, str] | None = None,
    *,
    recent_start: dt.date | None = None,
    min_reviews: int = MIN_MONTH_REVIEWS,
    max_months: int = MAX_MONTHS,
    subthemes: Sequence[dict[str, Any]] = (),
) -> bytes | None:
    """Small multiples: each topic's share of the month's reviews; rising topics first, marked ▲.

    `subthemes` get panels too (e.g. the rising ones, labelled "theme › sub-theme"); their
    reviews are already counted in their theme's, so they stay out of the month totals.

    The days from `recent_start` on (the window rising topics are measured on) are shaded; months
    with fewer than `min_reviews` reviews with a topic are left out (their shares are noise).
    Each panel has its own scale. All panels are drawn in one borderless axes: a grid of
    matplotlib axes costs ~0.1 s per topic, too slow for 16+ topics.
    """
    counts: dict[int, dict[str, int]] = {
        t["id"]: {p["period"]: p["reviews"] for p in t["trend"]} for t in items
    }
    periods = chart_months([p for c in counts.values() for p in c], max_months)
    if not items or len(periods) < 4:
        return None
    totals = [sum(c.get(p, 0) for c in counts.values()) for p in periods]
    counts.update({t["id"]: {p["period"]: p["reviews"] for p in t["trend"]} for t in subthemes})
    items = [*items, *subthemes]
    if sum(total >= min_reviews for total in totals) < 3:
        return None  # every line would be mostly gaps
    tones = tones or {}
    n = len(items)
    ncols = 4 if n > 9 else 3 if n > 4 else n
    nrows = math.ceil(n / ncols)
    gap_x, gap_y, head = 0.24, 0.62, 0.82  # in panel widths / heights; head: data height used
    fig = plt.figure(figsize=(10, 1.62 * nrows + 0.25))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    m = len(periods)
    xs = [i / (m - 1) for i in range(m)]
    recent_x = _date_x(recent_start, periods) if recent_start is not None else 2.0  # 2.0: no shade
    first_label, last_label = month_name(periods[0]), month_name(periods[-1])
    order = sorted(items, key=lambda t: (t["id"] not in highlight, -t["share"]))
    for k, t in enumerate(order):
        row, col = divmod(k, ncols)
        x0, bottom = col * (1 + gap_x), -row * (1 + gap_y) - 1
        share = [
            counts[t["id"]].get(p, 0) / total if total >= min_reviews else math.nan
            for p, total in zip(periods, totals, strict=True)
        ]
        known = [v for v in share if not math.isnan(v)]
        peak = max(known, default=0.0) or 0.1
        scale = head / peak
        ys = [bottom + v * scale for v in share]
        color = TONE_COLORS[tones.get(t["id"], "neutral")]
        rising = t["id"] in highlight
        if recent_x < 1:
            ax.fill_between([x0 + recent_x, x0 + 1], bottom, bottom + 1, color="#eef1f4", linewidth=0)
        grid = _nice_floor(peak)
        ax.plot([x0, x0 + 1], [bottom + grid * scale] * 2, color="#e3e6ea", linewidth=0.7)
        ax.plot([x0, x0 + 1], [bottom, bottom], color="#9aa5b1", linewidth=0.8)
        ax.fill_between([x0 + x for x in xs], ys, bottom, color=color, alpha=0.18, linewidth=0)
        ax.plot([x0 + x for x in xs], ys, color=color, linewidth=2.1 if rising else 1.3)
        ax.text(
            x0,
            bottom + 1.1,
            ("▲ " if rising else "") + _short(drawable_text(t["label"]), 36),
            fontsize=8.5,
            color=INK,
            fontweight="bold" if rising else "normal",
            va="bottom",
        )
        label = f"{grid:.0%}" if grid >= 0.01 else f"{grid:.1%}"
        ax.text(x0 - 0.02, bottom + grid * scale, label, fontsize=7, color="#44505c", ha="right", va="center")
        ax.text(x0 - 0.02, bottom, "0%", fontsize=7, color="#44505c", ha="right", va="center")
        ax.text(x0, bottom - 0.06, first_label, fontsize=7, color="#44505c", va="top")
        ax.text(x0 + 1, bottom - 0.06, last_label, fontsize=7, color="#44505c", va="top", ha="right")
    ax.set_xlim(-0.2, ncols * (1 + gap_x) - gap_x + 0.02)
    ax.set_ylim(-nrows * (1 + gap_y) + gap_y - 0.32, 0.42)
    return _png(fig, tight=False)


@cache
def _font_path() -> str | None:
    """DejaVu Sans (shipped with matplotlib): proportional, with every accent the reports need."""
    from matplotlib import font_manager

    try:
        return str(font_manager.findfont("DejaVu Sans", fallback_to_default=False))
    except ValueError:
        return None


def word_cloud(terms: list[dict[str, Any]], path: Path, tone: str = "neutral") -> Path | None:
    """A word cloud PNG of a topic's weighted terms, in the topic's tone (heavier = darker)."""
    from wordcloud import WordCloud

    # square roots: one dominant term would otherwise shrink every other word to a speck
    weights = {
        t["term"].replace("_", " "): math.sqrt(t["weight"])
        for t in terms
        if t["weight"] > 0 and drawable(t["term"])  # CJK and other scripts the font lacks: left out
    }
    if not weights:
        return None
    palette = _WORD_PALETTES.get(tone, _WORD_PALETTES["neutral"])
    ranked = sorted(weights, key=lambda w: -weights[w])
    shade = {w: palette[min(i * len(palette) // len(ranked), len(palette) - 1)] for i, w in enumerate(ranked)}

    def color(word: str, *args: object, **kwargs: object) -> str:
        return shade.get(word, palette[-1])

    cloud = WordCloud(
        width=460,
        height=230,
        background_color="white",
        color_func=color,
        prefer_horizontal=1.0,
        relative_scaling=0.5,
        min_font_size=9,
        margin=10,
        font_path=_font_path(),
        random_state=0,
    )
    cloud.generate_from_frequencies(weights)
    path.parent.mkdir(parents=True, exist_ok=True)
    cloud.to_file(str(path))
    return path
