"""Writing one demo review: sentences picked from a phrase bank, slots filled, a few human flaws.

A review is mostly about its main theme (1-3 sentences, or a positive and a negative one joined
by "however" when mixed), sometimes with one sentence on a second, minor theme, and sometimes
an opener and a closer that belong to no theme. It is 1 to 5 sentences long.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from reviewops.demo.phrases import PhraseBank
from reviewops.demo.themes import Polarity

DEMO_COMPANY = "ReMarket"  # fictional refurbished-electronics marketplace

# Devices with a screen, so every theme's sentences make sense for every device.
DEVICES: tuple[str, ...] = (
    "iPhone 11",
    "iPhone 12",
    "iPhone 12 mini",
    "iPhone 13",
    "iPhone 13 Pro",
    "iPhone SE",
    "iPhone 14",
    "Galaxy S20",
    "Galaxy S21",
    "Galaxy S22",
    "Galaxy A52",
    "Pixel 6",
    "Pixel 7",
    "MacBook Air",
    "MacBook Pro",
    "iPad Air",
    "iPad 9",
    "Apple Watch SE",
    "Nintendo Switch",
    "Redmi Note 11",
)

P_OPENER = 0.35
P_CLOSER = 0.40
P_MINOR = 0.30
P_MINOR_FIRST = 0.30  # the minor remark comes before the main story
P_TITLE = 0.60
P_TYPO = 0.08
P_CASUAL = 0.04  # all lowercase, no final full stop
MAX_SENTENCES = 5
# Cumulative probabilities of 1, 2 or 3 main-theme sentences in a non-mixed review.
_MAIN_COUNTS = (0.35, 0.75, 1.0)
_PRONOUNS_KEPT_CAPITAL = ("I", "I'm", "I've", "I'll", "I'd")

# How to draw each slot's value from a uniform number in [0, 1).
_NUMBERS: dict[str, tuple[int, int]] = {  # slot -> (low, high) inclusive
    "days": (2, 13),
    "weeks": (2, 6),
    "months": (2, 11),
    "hours": (2, 5),
    "percent": (86, 100),
    "low_percent": (68, 82),
}


class _Slots(dict[str, str]):
    """Slot values drawn on first use: a review only pays for the slots its sentences name,
    and a slot named twice (the same device) keeps one value."""

    def __init__(self, rng: Callable[[], float], bank: PhraseBank) -> None:
        super().__init__()
        self._r = rng
        self._bank = bank

    def __missing__(self, key: str) -> str:
        r = self._r
        if key == "device":
            value = DEVICES[int(r() * len(DEVICES))]
        elif key == "company":
            value = DEMO_COMPANY
        elif key == "agent":
            value = self._bank.agents[int(r() * len(self._bank.agents))]
        elif key == "name":
            value = self._bank.names[int(r() * len(self._bank.names))]
        elif key == "price":
            value = str(149 + 10 * int(r() * 100))
        elif key == "saving":
            value = str(30 + 10 * int(r() * 35))
        else:
            low, high = _NUMBERS[key]
            value = str(low + int(r() * (high - low + 1)))
        self[key] = value
        return value


def _lower_first(sentence: str) -> str:
    """Lowercase the first word after a connector ("However, the..."), but not "I" or iPhone."""
    first = sentence.split(" ", 1)[0]
    if first in _PRONOUNS_KEPT_CAPITAL or first.startswith("{") or not first[1:].islower():
        return sentence
    return sentence[0].lower() + sentence[1:]


class Writer:
    """Writes reviews in one language from its phrase bank, drawing from a shared random stream."""

    def __init__(self, bank: PhraseBank, rng: random.Random) -> None:
        self.bank = bank
        self._r = rng.random

    def _pick(self, options: Sequence[str]) -> str:
        return options[int(self._r() * len(options))]

    def _distinct(self, options: Sequence[str], count: int) -> list[str]:
        """`count` different sentences (fewer if the bank has fewer), in random order."""
        chosen: list[str] = []
        count = min(count, len(options))
        while len(chosen) < count:
            sentence = self._pick(options)
            if sentence not in chosen:
                chosen.append(sentence)
        return chosen

    def _main(self, theme: str, polarity: Polarity) -> list[str]:
        phrases = self.bank.themes[theme]
        r = self._r
        if polarity == "mixed":
            good, bad = self._pick(phrases.positive), self._pick(phrases.negative)
            first, second = (good, bad) if r() < 0.6 else (bad, good)
            connector = self._pick(self.bank.connectors)
            return [first, f"{connector} {_lower_first(second)}"]
        u = r()
        count = next(n for n, p in enumerate(_MAIN_COUNTS, start=1) if u < p)
        pool = phrases.positive if polarity == "positive" else phrases.negative
        return self._distinct(pool, count)

    def _title(self, theme: str, polarity: Polarity) -> str | None:
        if self._r() >= P_TITLE:
            return None
        if polarity == "mixed":
            return self._pick(self.bank.mixed_titles)
        phrases = self.bank.themes[theme]
        return self._pick(phrases.titles_positive if polarity == "positive" else phrases.titles_negative)

    def _typo(self, text: str) -> str:
        """One human slip: a common misspelling when one fits, else a swapped, lost or doubled letter."""
        r = self._r
        if r() < 0.5:
            for word, wrong in self.bank.misspellings.items():
                marked = f" {word} "
                if marked in text:
                    return text.replace(marked, f" {wrong} ", 1)
        words = text.split(" ")
        candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
        if not candidates:
            return text
        index = candidates[int(r() * len(candidates))]
        word = words[index]
        at = 1 + int(r() * (len(word) - 2))
        kind = r()
        if kind < 0.4:
            word = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
        elif kind < 0.7:
            word = word[:at] + word[at + 1 :]
        else:
            word = word[:at] + word[at] + word[at:]
        words[index] = word
        return " ".join(words)

    def write(
        self, theme: str, polarity: Polarity, minor: tuple[str, Polarity] | None
    ) -> tuple[str | None, str]:
        """A review's (title, text) about `theme`, with one sentence on `minor` when given."""
        r = self._r
        sentences = self._main(theme, polarity)
        if minor is not None:
            minor_phrases = self.bank.themes[minor[0]]
            remark = self._pick(minor_phrases.negative if minor[1] == "negative" else minor_phrases.positive)
            if r() < P_MINOR_FIRST:
                sentences.insert(0, remark)
            else:
                sentences.append(remark)
        if r() < P_OPENER and len(sentences) < MAX_SENTENCES:
            sentences.insert(0, self._pick(self.bank.openers))
        if r() < P_CLOSER and len(sentences) < MAX_SENTENCES:
            sentences.append(self._pick(self.bank.closers[polarity]))
        slots = _Slots(r, self.bank)
        text = " ".join(s.format_map(slots) if "{" in s else s for s in sentences)
        title = self._title(theme, polarity)
        if r() < P_TYPO:
            text = self._typo(text)
        if r() < P_CASUAL:
            text = text.lower().rstrip(".")
        return title, text

    def reply(self, rating: int, first_name: str) -> str:
        """The company's reply to a review, greeting its author: thanks, or an apology below 4 stars."""
        key = "positive" if rating >= 4 else "negative"
        slots = _Slots(self._r, self.bank)
        slots["name"] = first_name
        return self._pick(self.bank.replies[key]).format_map(slots)

    def author(self) -> str:
        """A first name and an initial, e.g. "Emma K."."""
        return f"{self._pick(self.bank.names)} {chr(65 + int(self._r() * 26))}."
