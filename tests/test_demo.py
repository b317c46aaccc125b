"""The demo dataset: deterministic, realistic in shape, and carrying the planted structure."""

from __future__ import annotations

import datetime as dt
import re
import statistics
import time
from collections import Counter
from typing import Any

import pytest

from reviewops.demo import (
    DEMO_COMPANY,
    DEVICES,
    END,
    LANGUAGES,
    RISING_THEME,
    START,
    THEME_NAMES,
    generate,
)
from reviewops.demo.phrases import SLOTS, PhraseBankError, _parse, load_bank
from reviewops.records import Review

SAMPLE = 3000


@pytest.fixture(scope="module")
def sample() -> tuple[list[Review], list[str]]:
    return generate(SAMPLE)


def _sentences(text: str) -> int:
    return len(re.findall(r"[.!?](?:\s|$)", text))


def test_same_seed_same_reviews_and_longer_runs_extend_shorter_ones() -> None:
    short, short_themes = generate(200, seed=7)
    long, long_themes = generate(500, seed=7)
    assert short == long[:200]
    assert short_themes == long_themes[:200]
    other, _ = generate(200, seed=8)
    assert [r.text for r in other] != [r.text for r in short]


def test_ids_are_unique_deterministic_and_name_the_seed() -> None:
    reviews, _ = generate(1000, seed=3)
    ids = [r.id for r in reviews]
    assert len(set(ids)) == len(ids)
    assert ids[0] == "demo-3-0000000"
    assert ids == [r.id for r in generate(1000, seed=3)[0]]


def test_every_review_is_complete(sample: tuple[list[Review], list[str]]) -> None:
    reviews, themes = sample
    assert len(reviews) == len(themes) == SAMPLE
    for review in reviews:
        assert review.company == DEMO_COMPANY
        assert review.rating in {1, 2, 3, 4, 5}
        assert review.language in {"en", "fr"}
        assert review.published is not None and review.published.tzinfo is not None
        assert review.experienced is not None and review.experienced <= review.published.date()
        assert review.author and review.country
        assert "{" not in review.text and "}" not in review.text
        assert _sentences(review.text) <= 5
    assert {r.rating for r in reviews} == {1, 2, 3, 4, 5}


def test_texts_vary_like_real_reviews(sample: tuple[list[Review], list[str]]) -> None:
    reviews, _ = sample
    texts = [r.text for r in reviews]
    assert len(set(texts)) > 0.9 * len(texts)
    lengths = Counter(min(_sentences(t), 5) for t in texts)
    assert lengths[1] > 0 and lengths[5] > 0
    titled = sum(r.title is not None for r in reviews) / len(reviews)
    assert 0.4 < titled < 0.8
    assert {d for d in DEVICES if any(d in t for t in texts)} == set(DEVICES)  # slots filled
    misspelled = {w for lang in LANGUAGES for w in load_bank(lang).misspellings.values()}
    assert any(f" {w} " in t for t in texts for w in misspelled)
    # Replies come from the company and greet the review's author.
    replied = [r for r in reviews if r.reply]
    assert replied and all(r.author and r.author.split()[0] in (r.reply or "") for r in replied)


def test_languages_are_the_ones_asked_for() -> None:
    english, _ = generate(300, languages=("en",))
    assert {r.language for r in english} == {"en"}
    french, _ = generate(300, languages="fr")
    assert {r.language for r in french} == {"fr"}
    both, _ = generate(2000)
    share = sum(r.language == "en" for r in both) / len(both)
    assert 0.55 < share < 0.65


def test_an_unknown_language_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"\['de'\].*\['en', 'fr'\]"):
        generate(10, languages=("en", "de"))
    with pytest.raises(ValueError, match="at least one"):
        generate(10, languages=())
    with pytest.raises(ValueError, match="0 or more"):
        generate(-1)


def test_at_least_seven_themes_each_with_a_real_share(
    sample: tuple[list[Review], list[str]],
) -> None:
    _, themes = sample
    counts = Counter(themes)
    assert set(counts) == set(THEME_NAMES)
    assert len(counts) >= 7
    assert min(counts.values()) > 0.05 * SAMPLE


def test_ratings_follow_the_themes(sample: tuple[list[Review], list[str]]) -> None:
    reviews, themes = sample
    stars: dict[str, list[int]] = {}
    for review, theme in zip(reviews, themes, strict=True):
        assert review.rating is not None
        stars.setdefault(theme, []).append(review.rating)
    mean = {theme: statistics.mean(values) for theme, values in stars.items()}
    assert mean["battery"] < 2.5 and mean["refund"] < 2.5
    assert mean["price"] > 4.0 and mean["screen_condition"] > 3.7
    assert 2.5 < mean["customer_service"] < 3.7


def test_dates_cover_fifteen_fixed_months() -> None:
    reviews, _ = generate(5000)
    dates = [r.published for r in reviews if r.published is not None]
    assert min(dates) >= START and max(dates) <= END
    assert max(dates) - min(dates) > dt.timedelta(days=400)
    fixed_end = dt.datetime(2026, 4, 30, 22, 0, tzinfo=dt.UTC)
    assert fixed_end == END  # never "today"
    by_month = Counter(d.strftime("%Y-%m") for d in dates)
    assert len(by_month) >= 15


def test_battery_complaints_rise_over_the_last_months() -> None:
    reviews, themes = generate(20_000)
    recent_start, early_end = END - dt.timedelta(days=45), END - dt.timedelta(days=120)
    dated = [(r.published, r.rating or 0, t) for r, t in zip(reviews, themes, strict=True) if r.published]
    recent = [t for when, _, t in dated if when >= recent_start]
    early = [t for when, _, t in dated if when < early_end]
    assert recent.count(RISING_THEME) / len(recent) > 1.8 * early.count(RISING_THEME) / len(early)
    # The rise is a complaint: recent battery reviews are mostly 1-2 stars.
    recent_battery = [stars for when, stars, t in dated if t == RISING_THEME and when >= recent_start]
    assert statistics.mean(recent_battery) < 2.5


def test_both_phrase_banks_cover_every_theme_with_enough_variety() -> None:
    for language in LANGUAGES:
        bank = load_bank(language)
        assert bank.language == language
        assert set(bank.themes) == set(THEME_NAMES)
        for theme, phrases in bank.themes.items():
            assert len(phrases.positive) >= 6, (language, theme)
            assert len(phrases.negative) >= 6, (language, theme)
            assert len(set(phrases.positive + phrases.negative)) == len(phrases.positive) + len(
                phrases.negative
            ), (language, theme)
            assert phrases.titles_positive and phrases.titles_negative


def test_a_broken_phrase_bank_names_the_file_and_key() -> None:
    good: dict[str, Any] = {
        "positive": ["Fine."],
        "negative": ["Bad."],
        "titles": {"positive": ["A"], "negative": ["B"]},
    }
    data: dict[str, Any] = {
        "language": "en",
        "currency": "dollars",
        "countries": {"GB": 1.0},
        "names": ["Al"],
        "agents": ["Bo"],
        "openers": ["Hi."],
        "connectors": ["But"],
        "mixed_titles": ["Meh"],
        "closers": {"positive": ["x"], "negative": ["y"], "mixed": ["z"]},
        "replies": {"positive": ["Thanks {name}"], "negative": ["Sorry {name}"]},
        "misspellings": {},
        "themes": {name: good for name in THEME_NAMES},
    }
    _parse(data, "bank.json")  # complete: accepted
    broken = {**data, "themes": {**data["themes"], "battery": {**good, "negative": []}}}
    with pytest.raises(PhraseBankError, match=r"bank\.json: themes\.battery\.negative"):
        _parse(broken, "bank.json")
    slot = {**data, "openers": ["I bought a {gadget}."]}
    with pytest.raises(PhraseBankError, match=r"unknown slot \{gadget\}"):
        _parse(slot, "bank.json")
    assert "device" in SLOTS


@pytest.mark.slow
def test_a_hundred_thousand_reviews_generate_in_seconds() -> None:
    start = time.perf_counter()
    reviews, themes = generate(100_000)
    elapsed = time.perf_counter() - start
    assert len(reviews) == len(themes) == 100_000
    assert elapsed < 15, f"generating 100k reviews took {elapsed:.1f} s (about 1-2 s expected)"
