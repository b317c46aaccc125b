"""Frequent two-word phrases ("customer service" -> customer_service), scored by NPMI.

Normalised pointwise mutual information compares how often two words follow each other with
how often they would by chance, on a -1..1 scale that does not depend on corpus size:

    npmi(a, b) = ln(p(a b) / (p(a) p(b))) / -ln p(a b)

with probabilities over all tokens of the corpus. On the shared pet-insurance reviews, 0.5
keeps pet_insurance (0.68), customer_service (0.82), highly_recommend, direct_deposit and
vet_bill, and drops loose pairs such as great_customer (0.40) or claim_process (0.31).
Only words that stood side by side count: documents carry a BREAK marker where a stop word
or punctuation mark was removed (see `tokens`), so "price of battery" never yields
price_battery.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence

from reviewops.preprocess.tokens import BREAK

DEFAULT_THRESHOLD = 0.5
_MIN_COUNT_FLOOR = 5
_DOCS_PER_COUNT = 2000


def scaled_min_count(n_docs: int) -> int:
    """How often a pair must occur to be a phrase: 5, or one per 2,000 documents if more.

    A fixed count would join chance pairs in a large corpus (100k reviews -> 50).
    """
    return max(_MIN_COUNT_FLOOR, round(n_docs / _DOCS_PER_COUNT))


class PhraseModel:
    """Learned phrases; `join` applies them to one document."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.pairs: frozenset[tuple[str, str]] = frozenset(pairs)

    def join(self, document: Sequence[str]) -> list[str]:
        """The document's tokens, phrase pairs joined by "_" (left to right), BREAKs removed."""
        pairs = self.pairs
        # Most documents hold no phrase: finding that out with set operations (run in C)
        # spares them the word-by-word loop below.
        found = pairs.intersection(itertools.pairwise(document))
        if not found:
            return [word for word in document if word != BREAK]
        starts = {first for first, _ in found}
        tokens: list[str] = []
        last = len(document) - 1
        index = 0
        while index <= last:
            word = document[index]
            if word in starts and index < last and (word, document[index + 1]) in pairs:
                tokens.append(f"{word}_{document[index + 1]}")
                index += 2
                continue
            if word != BREAK:
                tokens.append(word)
            index += 1
        return tokens


def learn_phrases(
    corpus: Sequence[Sequence[str]],
    *,
    min_count: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> PhraseModel:
    """Learn which word pairs of `corpus` (token lists with BREAK markers) are phrases.

    A pair is kept when it occurs at least `min_count` times (default: scaled with the number
    of documents) and its NPMI reaches `threshold`.
    """
    needed = scaled_min_count(len(corpus)) if min_count is None else min_count
    unigrams: Counter[str] = Counter()
    bigrams: Counter[tuple[str, str]] = Counter()
    for document in corpus:
        unigrams.update(document)
        bigrams.update(itertools.pairwise(document))
    unigrams.pop(BREAK, None)
    total = sum(unigrams.values())
    log_total = math.log(total) if total else 0.0
    kept: list[tuple[str, str]] = []
    for (first, second), count in bigrams.items():
        if count < needed or BREAK in (first, second):
            continue
        # Always < 0: a pair's count is below the corpus' token count.
        log_joint = math.log(count) - log_total
        pmi = log_joint - (math.log(unigrams[first]) - log_total) - (math.log(unigrams[second]) - log_total)
        if pmi / -log_joint >= threshold:
            kept.append((first, second))
    return PhraseModel(kept)
