"""A French polarity scorer in the spirit of VADER: word valences, negation, intensifiers.

vaderSentiment is English-only and no French sentiment model can be downloaded here, so the
lexicon method scores French with the project's own word lists (`french_words`). The rules,
borrowed from VADER because they are what makes a lexicon usable on reviews:
- a negator up to three words before a sentiment word, within the clause, flips and damps
  it ("pas satisfait", "ne fonctionne pas", "sans problème", "aucun souci"), and so does an
  informal trailing "pas" ("je recommande pas"); "jamais ... aussi/si" is a comparison that
  strengthens instead ("jamais été aussi déçu");
- intensifiers and softeners before the word scale it ("très rapide", "un peu cher");
- a few set phrases are read as a whole ("pas terrible", "à fuir", "rien à redire");
- in a sentence with "mais", what follows counts 1.5x and what precedes 0.5x;
- words in capitals and up to four "!" add emphasis;
- the sum goes through VADER's normalisation x / sqrt(x^2 + 15), a score in (-1, 1).
It is a small, honest baseline: measured figures are in bench/bench_sentiment_quality.py.
"""

from __future__ import annotations

import math
import re
import unicodedata

from reviewops.sentiment.french_words import (
    BOOSTERS,
    COMPARATIVES,
    CONTRASTS,
    EMOJI,
    NEGATORS,
    PHRASES,
    VALENCE,
)

# VADER's constants: a negated word keeps 74 % of its strength, reversed; capitals add 0.733;
# each "!" adds 0.292 (at most four count); 15 is the normalisation's alpha.
NEGATION_SCALAR = -0.74
CAPS_INCREMENT = 0.733
EXCLAMATION_INCREMENT = 0.292
MAX_EXCLAMATIONS = 4
ALPHA = 15.0
CONTRAST_BEFORE, CONTRAST_AFTER = 0.5, 1.5
NEGATION_WINDOW = 3

_EMOJI_PATTERN = "|".join(re.escape(e) for e in sorted(EMOJI, key=len, reverse=True))
_TOKEN = re.compile(rf"[^\W\d_]+|[.!?;:,…]|{_EMOJI_PATTERN}")
_SENTENCE_END = frozenset(".!?…")
_CLAUSE_END = frozenset(".!?…;:,")
_LONGEST_PHRASE = max(len(phrase) for phrase in PHRASES)


def fold(word: str) -> str:
    """Lowercase without accents ("Déçue" -> "decue"), the form the word lists use."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def valence(word: str) -> float:
    """The valence of a folded word, trying it without plural and feminine endings."""
    candidates = [word]
    if len(word) > 3 and word[-1] in "sx":
        candidates.append(word[:-1])
    if len(candidates[-1]) > 3 and candidates[-1].endswith("e"):
        candidates.append(candidates[-1][:-1])
    for candidate in candidates:
        if candidate in VALENCE:
            return VALENCE[candidate]
    return 0.0


def score_french(text: str) -> float:
    """The polarity of a French text, from -1 (very negative) to +1 (very positive)."""
    raw = _TOKEN.findall(text)
    shouting = any(tok.isalpha() and tok.isupper() and len(tok) > 1 for tok in raw) and not all(
        tok.isupper() for tok in raw if tok.isalpha()
    )
    total = 0.0
    sentence: list[str] = []
    for token in raw:
        if token in _SENTENCE_END:
            total += _score_sentence(sentence, shouting)
            sentence = []
        sentence.append(token)
    total += _score_sentence(sentence, shouting)
    if total:
        exclamations = min(text.count("!"), MAX_EXCLAMATIONS)
        total += math.copysign(exclamations * EXCLAMATION_INCREMENT, total)
    return total / math.sqrt(total * total + ALPHA)


def _score_sentence(tokens: list[str], shouting: bool) -> float:
    """Sum of the sentence's sentiment items, reweighted around a contrast word."""
    words = [fold(tok) for tok in tokens]
    items: list[tuple[int, float]] = []  # (position, valence)
    i = 0
    while i < len(words):
        word = words[i]
        if tokens[i] in EMOJI:
            items.append((i, EMOJI[tokens[i]]))
            i += 1
            continue
        length, value = _phrase_at(words, i)
        if not length:
            length, value = 1, valence(word)
            if word in BOOSTERS and i + 1 < len(words) and valence(words[i + 1]):
                value = 0.0  # "super rapide": "super" intensifies, it is not a second item
        if value:
            value = _modify(words, i, length, value)
            if shouting and tokens[i].isupper() and len(tokens[i]) > 1:
                value += math.copysign(CAPS_INCREMENT, value)
            items.append((i, value))
        i += length
    contrast = next((i for i, word in enumerate(words) if word in CONTRASTS), None)
    if contrast is None:
        return sum(value for _, value in items)
    return sum(
        value * (CONTRAST_BEFORE if position < contrast else CONTRAST_AFTER) for position, value in items
    )


def _phrase_at(words: list[str], i: int) -> tuple[int, float]:
    """(length, valence) of the longest set phrase starting at i, or (0, 0.0)."""
    for length in range(min(_LONGEST_PHRASE, len(words) - i), 1, -1):
        phrase = tuple(words[i : i + length])
        if phrase in PHRASES:
            return length, PHRASES[phrase]
    return 0, 0.0


def _modify(words: list[str], i: int, length: int, value: float) -> float:
    """Apply the intensifiers and negators found before item i (and a trailing "pas")."""
    start = i
    while start > 0 and i - start < NEGATION_WINDOW and words[start - 1] not in _CLAUSE_END:
        start -= 1
    before = words[start:i]
    scale = 0.0
    negated = False
    for offset, word in enumerate(reversed(before)):
        decay = 1.0 - 0.05 * offset  # VADER: farther modifiers count a little less
        if word == "peu" and offset + 1 < len(before) and before[-offset - 2] == "un":
            scale -= 0.293 * decay  # "un peu cher" softens; "peu fiable" negates
        elif word in BOOSTERS:
            scale += BOOSTERS[word] * decay
        elif word in NEGATORS:
            following = before[len(before) - offset :]
            if word == "jamais" and any(w in COMPARATIVES for w in following):
                scale += 0.293
            else:
                negated = True
    end = i + length
    if not negated and end < len(words) and words[end] in {"pas", "jamais"}:
        negated = True
    value += math.copysign(1.0, value) * scale  # away from zero, or towards it if softened
    return value * NEGATION_SCALAR if negated else value
