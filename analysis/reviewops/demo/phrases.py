"""The demo's phrase banks (phrases_<language>.json, written for this project), loaded and checked.

Each bank holds, per planted theme, positive and negative sentences and titles, plus the
theme-neutral openers, closers, names and replies that make reviews look real. Sentences may
name slots in braces ({device}, {days}, ...) that the generator fills per review.
"""

from __future__ import annotations

import functools
import json
import string
from dataclasses import dataclass
from importlib import resources
from typing import Any

from reviewops.demo.themes import THEME_NAMES

LANGUAGES: tuple[str, ...] = ("en", "fr")
SLOTS = frozenset(
    {
        "device",
        "days",
        "weeks",
        "months",
        "hours",
        "percent",
        "low_percent",
        "price",
        "saving",
        "company",
        "agent",
        "name",
    }
)
_POLARITIES = ("positive", "negative")


@dataclass(frozen=True, slots=True)
class ThemePhrases:
    """What reviewers say about one theme in one language."""

    positive: tuple[str, ...]
    negative: tuple[str, ...]
    titles_positive: tuple[str, ...]
    titles_negative: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PhraseBank:
    """Everything the generator needs to write reviews in one language."""

    language: str
    currency: str
    countries: tuple[str, ...]
    country_weights: tuple[float, ...]
    names: tuple[str, ...]
    agents: tuple[str, ...]
    openers: tuple[str, ...]
    closers: dict[str, tuple[str, ...]]  # positive / negative / mixed
    connectors: tuple[str, ...]
    mixed_titles: tuple[str, ...]
    replies: dict[str, tuple[str, ...]]  # positive / negative
    misspellings: dict[str, str]  # correct word -> a common misspelling
    themes: dict[str, ThemePhrases]


class PhraseBankError(ValueError):
    """A phrase bank file that the generator cannot use; the message names file and key."""


def _strings(data: Any, where: str) -> tuple[str, ...]:
    if not isinstance(data, list) or not data or not all(isinstance(s, str) and s for s in data):
        raise PhraseBankError(f"{where}: expected a non-empty list of non-empty strings")
    for text in data:
        for _, field, _, _ in string.Formatter().parse(text):
            if field is not None and field not in SLOTS:
                raise PhraseBankError(
                    f"{where}: unknown slot {{{field}}} in {text!r}; known slots: {sorted(SLOTS)}"
                )
    return tuple(data)


def _section(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise PhraseBankError(f"{where}: missing key {key!r}")
    return data[key]


def _parse(data: dict[str, Any], where: str) -> PhraseBank:
    themes: dict[str, ThemePhrases] = {}
    raw_themes = _section(data, "themes", where)
    for name in THEME_NAMES:
        theme = _section(raw_themes, name, f"{where}: themes")
        titles = _section(theme, "titles", f"{where}: themes.{name}")
        themes[name] = ThemePhrases(
            *(
                _strings(_section(theme, p, f"{where}: themes.{name}"), f"{where}: themes.{name}.{p}")
                for p in _POLARITIES
            ),
            *(
                _strings(
                    _section(titles, p, f"{where}: themes.{name}.titles"),
                    f"{where}: themes.{name}.titles.{p}",
                )
                for p in _POLARITIES
            ),
        )
    unknown = sorted(set(raw_themes) - set(THEME_NAMES))
    if unknown:
        raise PhraseBankError(f"{where}: themes {unknown} are not planted themes {THEME_NAMES}")
    countries: dict[str, float] = _section(data, "countries", where)
    closers = _section(data, "closers", where)
    replies = _section(data, "replies", where)
    return PhraseBank(
        language=str(_section(data, "language", where)),
        currency=str(_section(data, "currency", where)),
        countries=tuple(countries),
        country_weights=tuple(float(w) for w in countries.values()),
        names=_strings(_section(data, "names", where), f"{where}: names"),
        agents=_strings(_section(data, "agents", where), f"{where}: agents"),
        openers=_strings(_section(data, "openers", where), f"{where}: openers"),
        closers={
            p: _strings(_section(closers, p, f"{where}: closers"), f"{where}: closers.{p}")
            for p in ("positive", "negative", "mixed")
        },
        connectors=_strings(_section(data, "connectors", where), f"{where}: connectors"),
        mixed_titles=_strings(_section(data, "mixed_titles", where), f"{where}: mixed_titles"),
        replies={
            p: _strings(_section(replies, p, f"{where}: replies"), f"{where}: replies.{p}")
            for p in _POLARITIES
        },
        misspellings=dict(_section(data, "misspellings", where)),
        themes=themes,
    )


@functools.cache
def load_bank(language: str) -> PhraseBank:
    """The phrase bank of one language ("en" or "fr"), checked and cached."""
    if language not in LANGUAGES:
        raise ValueError(f"the demo dataset has no {language!r} reviews; choose among {list(LANGUAGES)}")
    name = f"phrases_{language}.json"
    text = resources.files("reviewops.demo").joinpath(name).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PhraseBankError(f"reviewops/demo/{name}:{exc.lineno}: {exc.msg}") from exc
    return _parse(data, f"reviewops/demo/{name}")
