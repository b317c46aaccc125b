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
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

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
        # One joined string per phrase, shared by every document that uses it.
        self._joined = {pair: f"{pair[0]}_{pair[1]}" for pair in self.pairs}

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
            if word in starts and index < last and (pair := (word, document[index + 1])) in pairs:
                tokens.append(self._joined[pair])
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
    vocabulary: Iterable[str] | None = None,
) -> PhraseModel:
    """Learn which word pairs of `corpus` (token lists with BREAK markers) are phrases.

    A pair is kept when it occurs at least `min_count` times (default: scaled with the number
    of documents) and its NPMI reaches `threshold`. `vocabulary`, when the caller has it,
    must hold every token of `corpus` (once each); it spares a pass over all the tokens.
    """
    needed = scaled_min_count(len(corpus)) if min_count is None else min_count
    # Counted on integer ids with numpy (one dict look-up per token, run in C by `map`); the
    # NPMI of the pairs frequent enough is then computed exactly as before, in Python floats.
    # Memory is what limits a 1M-review run here: the tokens are walked twice rather than
    # copied into one flat list, ids are 32-bit, and only pairs of two words that are each
    # frequent enough are counted (a pair occurs at most as often as its rarer word).
    word_id: dict[str, int] = dict.fromkeys(
        itertools.chain.from_iterable(corpus) if vocabulary is None else vocabulary, 0
    )
    if not word_id:
        return PhraseModel([])
    words = list(word_id)
    word_id.update(zip(words, range(len(words)), strict=True))
    lengths = np.fromiter(map(len, corpus), dtype=np.int64, count=len(corpus))
    ids = np.fromiter(
        map(word_id.__getitem__, itertools.chain.from_iterable(corpus)),
        dtype=np.int32,
        count=int(lengths.sum()),
    )
    break_id = word_id.get(BREAK, -1)
    del word_id
    pairs = phrase_pairs(ids, lengths, len(words), break_id, needed, threshold)
    return PhraseModel((words[first], words[second]) for first, second in pairs)


def phrase_pairs(
    ids: NDArray[np.int32],
    lengths: NDArray[np.int64],
    size: int,
    break_id: int,
    needed: int,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[tuple[int, int]]:
    """The phrases of a corpus given as word ids (`size` words; BREAK is `break_id`, or -1).

    `ids` holds every document's tokens one after the other, `lengths` how many each has. A
    pair is kept when it occurs at least `needed` times inside documents and its NPMI reaches
    `threshold`; returned as (first id, second id), in increasing order of first * size + second.
    """
    if not len(ids):
        return []
    unigrams = np.bincount(ids, minlength=size)
    total = int(unigrams.sum()) - (int(unigrams[break_id]) if break_id >= 0 else 0)
    log_total = math.log(total) if total else 0.0
    inside = np.ones(len(ids), dtype=bool)  # position i starts a pair within its document
    inside[np.cumsum(lengths)[lengths > 0] - 1] = False
    candidate = unigrams >= needed
    if break_id >= 0:
        candidate[break_id] = False
    first, second = ids[:-1], ids[1:]
    inside = inside[:-1]
    inside &= candidate[first]
    inside &= candidate[second]
    starts = np.flatnonzero(inside)
    del inside
    keys, counts = np.unique(first[starts].astype(np.int64) * size + second[starts], return_counts=True)
    frequent = counts >= needed
    kept: list[tuple[int, int]] = []
    for key, count in zip(keys[frequent].tolist(), counts[frequent].tolist(), strict=True):
        first_id, second_id = divmod(key, size)
        if break_id in (first_id, second_id):
            continue
        # Always < 0: a pair's count is below the corpus' token count.
        log_joint = math.log(count) - log_total
        pmi = (
            log_joint
            - (math.log(int(unigrams[first_id])) - log_total)
            - (math.log(int(unigrams[second_id])) - log_total)
        )
        if pmi / -log_joint >= threshold:
            kept.append((first_id, second_id))
    return kept
