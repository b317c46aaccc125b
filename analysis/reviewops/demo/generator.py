"""The demo dataset: reviews of a fictional refurbished-electronics marketplace, with ground truth.

Deterministic by seed and prefix-stable: `generate(n, seed)` is the first n reviews of
`generate(m, seed)` for any m >= n (same languages). One pseudo-random stream drives everything,
so the same call gives the same reviews on every machine and every day.
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect_right
from collections.abc import Sequence

from reviewops.demo.compose import DEMO_COMPANY, P_MINOR, Writer
from reviewops.demo.phrases import LANGUAGES, load_bank
from reviewops.demo.themes import (
    RATINGS,
    SPAN_DAYS,
    START,
    THEMES,
    Polarity,
    cumulative_theme_weights,
    day_of,
    timeline_fraction,
)
from reviewops.records import Review

# Share of each language when several are asked for (renormalised over the ones asked).
LANGUAGE_WEIGHTS: dict[str, float] = {"en": 0.6, "fr": 0.4}
P_REPLY_NEGATIVE = 0.35
P_REPLY_OTHER = 0.05
P_VERIFIED = 0.8
_SPAN_SECONDS = SPAN_DAYS * 86_400


def _cumulative(weights: Sequence[float]) -> list[float]:
    total = sum(weights)
    running, out = 0.0, []
    for w in weights:
        running += w / total
        out.append(running)
    out[-1] = 1.0
    return out


def _check_languages(languages: Sequence[str]) -> list[str]:
    if isinstance(languages, str):  # "en" would otherwise read as ("e", "n")
        languages = [languages]
    chosen = list(dict.fromkeys(lang.lower() for lang in languages))
    if not chosen:
        raise ValueError(f"demo languages: give at least one of {list(LANGUAGES)}")
    unknown = [lang for lang in chosen if lang not in LANGUAGES]
    if unknown:
        raise ValueError(
            f"demo languages {unknown} are not available; the demo writes reviews in {list(LANGUAGES)}"
        )
    return chosen


def _polarity(theme_index: int, u: float) -> Polarity:
    theme = THEMES[theme_index]
    if u < theme.positive:
        return "positive"
    if u < theme.positive + theme.negative:
        return "negative"
    return "mixed"


def _rating(polarity: Polarity, u: float) -> int:
    for stars, p in RATINGS[polarity]:
        if u < p:
            return stars
        u -= p
    return RATINGS[polarity][-1][0]


def generate(
    size: int, seed: int = 42, languages: Sequence[str] = ("en", "fr")
) -> tuple[list[Review], list[str]]:
    """`size` demo reviews of ReMarket and, index by index, the theme each one is mostly about.

    Themes, ratings, timeline and the rising battery complaint are described in
    `reviewops.demo.themes`. Reviews are English (60 %) and French (40 %) by default.
    """
    if size < 0:
        raise ValueError(f"demo size must be 0 or more, got {size}")
    langs = _check_languages(languages)
    rng = random.Random(seed)
    r = rng.random
    writers = [Writer(load_bank(lang), rng) for lang in langs]
    lang_cumulative = _cumulative([LANGUAGE_WEIGHTS[lang] for lang in langs])
    country_cumulative = [_cumulative(w.bank.country_weights) for w in writers]
    day_table = cumulative_theme_weights()
    n_themes = len(THEMES)
    reviews: list[Review] = []
    planted: list[str] = []
    for i in range(size):
        w = bisect_right(lang_cumulative, r()) if len(writers) > 1 else 0
        writer = writers[w]
        fraction = timeline_fraction(r())
        theme_index = min(bisect_right(day_table[day_of(fraction)], r()), n_themes - 1)
        polarity = _polarity(theme_index, r())
        minor = None
        if r() < P_MINOR:
            other = (theme_index + 1 + int(r() * (n_themes - 1))) % n_themes
            minor = (THEMES[other].name, _polarity(other, r()))
        title, text = writer.write(THEMES[theme_index].name, polarity, minor)
        rating = _rating(polarity, r())
        author = writer.author()
        reply_chance = P_REPLY_NEGATIVE if rating <= 2 else P_REPLY_OTHER
        reply = writer.reply(rating, author.split(" ", 1)[0]) if r() < reply_chance else None
        published = START + dt.timedelta(seconds=int(fraction * _SPAN_SECONDS))
        bank = writer.bank
        reviews.append(
            Review(
                id=f"demo-{seed}-{i:07d}",
                text=text,
                rating=rating,
                title=title,
                language=bank.language,
                published=published,
                experienced=(published - dt.timedelta(days=int(r() * 21))).date(),
                company=DEMO_COMPANY,
                author=author,
                country=bank.countries[bisect_right(country_cumulative[w], r())],
                reply=reply,
                verified=r() < P_VERIFIED,
                likes=0 if r() < 0.85 else 1 + int(r() * (8 if rating <= 2 else 3)),
                origin=f"demo:seed={seed}#{i}",
            )
        )
        planted.append(THEMES[theme_index].name)
    return reviews, planted
