"""Lexicon valence of a review's words: three numbers the supervised stack reads beside its models.

Why: a model trained on one company's stars learns that company's words ("remboursement",
"livraison"); on another company or trade many of the words that carry the sentiment were
never seen in training. Word valences from fixed lexicons do not depend on the training
company, so they carry over. The stack's meta-model (`model.OrdinalStackClassifier`) reads
three columns per review, learned like the base models' decisions:
- the summed valence, normalised as VADER does (x / sqrt(x^2 + 15)): the overall polarity;
- log(1 + positive mass) and log(1 + negative mass) apart: a review with much of both is a
  mixed one, which is what 3-star reviews mostly are.
Valences: VADER's English lexicon (its single words, shipped in vaderSentiment) and the
project's French word list (`french_words.VALENCE`, French wins where both spell a word the
same). A word in a negation scope ("not_<word>", see `features.review_words`) counts -0.74x,
VADER's negation scalar. Measured with bench/bench_sentiment_cross.py (table there): French
held-out trades 0.574 -> 0.60, companies 0.52 -> 0.58, English trades +0.01.
It reads the words `review_words` already split, with numpy: no second pass over the text.
"""

from __future__ import annotations

from functools import cache
from itertools import chain, repeat
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from reviewops.sentiment.features import NEGATED, plain
from reviewops.sentiment.french import NEGATION_SCALAR
from reviewops.sentiment.french_words import VALENCE

ALPHA = 15.0  # VADER's normalisation constant
COLUMNS = 3


@cache
def word_valences() -> dict[str, float]:
    """Valence of each lexicon word as `review_words` spells it, plural and negated forms too."""
    import vaderSentiment

    base: dict[str, float] = {}
    lexicon = Path(vaderSentiment.__file__).with_name("vader_lexicon.txt")
    for line in lexicon.read_text(encoding="utf-8").splitlines():
        word, _, rest = line.partition("\t")
        if word.isalpha() and len(word) > 1:
            base[plain(word)] = float(rest.split("\t", 1)[0])
    base.update(VALENCE)
    valences = dict(base)
    for word, value in base.items():
        valences.setdefault(word + "s", value)
    valences.update({NEGATED + word: NEGATION_SCALAR * value for word, value in valences.items()})
    return valences


def valence_columns(words: list[list[str]]) -> NDArray[np.float64]:
    """(len(words), 3): normalised valence sum, log1p(positive mass), log1p(negative mass)."""
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    flat = list(chain.from_iterable(words))
    values = np.fromiter(map(word_valences().get, flat, repeat(0.0)), dtype=np.float64, count=len(flat))
    rows = np.repeat(np.arange(len(words), dtype=np.int64), lengths)
    positive = np.bincount(rows, weights=np.maximum(values, 0.0), minlength=len(words))
    negative = np.bincount(rows, weights=np.maximum(-values, 0.0), minlength=len(words))
    total = positive - negative
    return np.column_stack([total / np.sqrt(total * total + ALPHA), np.log1p(positive), np.log1p(negative)])
