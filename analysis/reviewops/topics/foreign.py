"""Function words of another language of the corpus, kept out of a language's topic model.

A review's language decides its stop words. A review in one language filed under another (a
short English "Very good and fast" under a French tag that nothing could overrule) keeps
"very", "and", "the" as terms of the French model, and a handful of them make a theme:
"and / to / the" held 3.9 % of the French bank reviews. So when several languages get topics,
each language's model drops the function words (spaCy's stop words) of the corpus' other
modelled languages that are not its own and that its own reviews write far less often than
the other language's do (FOREIGN_RATIO): the English "top" stays a French term, since French
reviews write it ("service au top") more often than English ones; "the" goes. Nor does a
word of the model's own language go ("possible" is a French stop word and an English word).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from reviewops.preprocess.language import function_words
from reviewops.preprocess.lemmas import load_lemma_table

# A function word of language M is foreign to language L's model when M's reviews write it in
# at least this many times the share of L's reviews that do.
FOREIGN_RATIO = 10.0
# Reviews per language read to measure those shares (a seeded sample beyond).
SAMPLE = 3000

_WORD = re.compile(r"[^\W\d_]+")


def _shares(texts: Sequence[str], words: frozenset[str], seed: int) -> dict[str, float]:
    """The share of `texts` (a sample of at most SAMPLE) that write each of `words`."""
    rows = np.arange(len(texts))
    if len(rows) > SAMPLE:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=SAMPLE, replace=False))
    counts = dict.fromkeys(words, 0)
    for row in rows.tolist():
        for word in words.intersection(_WORD.findall(texts[row].lower())):
            counts[word] += 1
    total = max(1, len(rows))
    return {word: n / total for word, n in counts.items()}


def foreign_words(texts: Mapping[str, Sequence[str]], seed: int = 0) -> dict[str, frozenset[str]]:
    """For each language of `texts` (language -> its reviews' cleaned texts), the function
    words of the other languages that its topic model should not use (see the module)."""
    if len(texts) < 2:
        return {language: frozenset() for language in texts}
    own = {language: function_words(language) for language in texts}
    candidates = frozenset().union(*own.values())
    shares = {language: _shares(written, candidates, seed) for language, written in texts.items()}
    found: dict[str, frozenset[str]] = {}
    for language in texts:
        table = load_lemma_table(language)
        known = table.entries if table is not None else {}
        foreign = set()
        for other in texts:
            if other == language:
                continue
            for word in own[other] - own[language]:
                if word in known:  # a word of this language too ("possible", "part")
                    continue
                if shares[other][word] > 0 and shares[language][word] * FOREIGN_RATIO < shares[other][word]:
                    foreign.add(word)
        found[language] = frozenset(foreign)
    return found
