"""Token lists -> one sparse document-term count matrix, built once and shared by every fit.

The auto-k search, the LDA start and the final fit all work on rows of the same matrix, so the
corpus is vectorized a single time, with numpy rather than CountVectorizer's loop per token
(same matrix and vocabulary, ~2x faster). Documents that keep no
term after vocabulary pruning are left out here; the caller assigns them no topic.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

# Terms in more than this share of documents say nothing about what a review is about.
MAX_DF = 0.5


def document_frequency_limits(n_docs: int) -> tuple[int, float]:
    """(min_df, max_df) for a corpus of n_docs documents.

    A term must appear in at least 2 documents (a term seen once cannot be shared by a topic),
    and in at least 1 in 5,000 documents on large corpora: at 100k that drops the typos and
    one-off names that would otherwise make most of the vocabulary and none of the topics.
    """
    return max(2, math.ceil(n_docs / 5000)), MAX_DF


@dataclass(slots=True)
class Corpus:
    """Documents as rows of a count matrix over `vocabulary`; `rows` maps each back to its review."""

    counts: sparse.csr_matrix  # documents x terms, float64 counts
    vocabulary: list[str]
    rows: NDArray[np.int64]  # index of each document in the token lists given to build_corpus
    min_df: int
    max_df: float

    def __len__(self) -> int:
        return int(self.counts.shape[0])

    def subset(self, positions: NDArray[np.int64]) -> Corpus:
        """The documents at `positions` (indexes into this corpus), same vocabulary."""
        return Corpus(self.counts[positions], self.vocabulary, self.rows[positions], self.min_df, self.max_df)

    def sample(self, size: int, seed: int) -> Corpus:
        """At most `size` documents drawn without replacement (the corpus itself if smaller)."""
        if len(self) <= size:
            return self
        positions = np.random.default_rng(seed).choice(len(self), size=size, replace=False)
        return self.subset(np.sort(positions).astype(np.int64))


def build_corpus(
    tokens: Sequence[Sequence[str]], rows: Sequence[int], exclude: Collection[str] = ()
) -> Corpus | None:
    """Vectorize the documents tokens[i] for i in rows; None when no term survives pruning.

    Terms in `exclude` are never kept (another language's function words: topics.foreign).

    The token lists are used as they are (already lemmatised, bigrams joined by preprocessing).
    When the frequency limits leave nothing (a handful of reviews), every term is kept instead.
    """
    docs = [tokens[i] for i in rows]
    min_df, max_df = document_frequency_limits(len(docs))
    counted = _count(docs)
    found: tuple[sparse.csr_matrix, list[str]] | None = None
    for low, high in ((min_df, max_df), (1, 1.0)):
        found = _prune(counted, len(docs), low, high, exclude)
        if found is not None:
            min_df, max_df = low, high
            break
    if found is None:
        return None
    matrix, vocabulary = found
    kept = np.flatnonzero(np.diff(matrix.indptr) > 0).astype(np.int64)
    if kept.size == 0:
        return None
    return Corpus(
        counts=matrix[kept],
        vocabulary=vocabulary,
        rows=np.asarray(rows, dtype=np.int64)[kept],
        min_df=min_df,
        max_df=max_df,
    )


# (documents x distinct terms counts, distinct terms in first-seen order, document frequencies)
_Counted = tuple[sparse.csr_matrix, list[str], NDArray[np.int64]]


def _count(docs: Sequence[Sequence[str]]) -> _Counted:
    """Term counts of every document over every distinct term.

    What scikit-learn's CountVectorizer(analyzer=list) counts, without its Python loop per
    token: terms get ids through one dict look-up per token (run in C by `map`), and the
    matrix is summed by scipy.
    """
    lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
    flat = list(chain.from_iterable(docs))
    terms = list(dict.fromkeys(flat))
    term_id = {term: i for i, term in enumerate(terms)}
    ids = np.fromiter(map(term_id.__getitem__, flat), dtype=np.int64, count=len(flat))
    indptr = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    counts = sparse.csr_matrix(
        (np.ones(len(ids), dtype=np.float64), ids, indptr), shape=(len(docs), len(terms))
    )
    counts.sum_duplicates()
    frequency = np.bincount(counts.indices, minlength=len(terms)).astype(np.int64)
    return counts, terms, frequency


def _prune(
    counted: _Counted, n_docs: int, min_df: int, max_df: float, exclude: Collection[str] = ()
) -> tuple[sparse.csr_matrix, list[str]] | None:
    """CountVectorizer's pruning: terms in [min_df, max_df x n_docs] documents, sorted; None
    when none is left (where scikit-learn raises "After pruning, no terms remain")."""
    counts, terms, frequency = counted
    allowed = (frequency >= min_df) & (frequency <= max_df * n_docs)
    if exclude:
        allowed &= np.fromiter((term not in exclude for term in terms), dtype=bool, count=len(terms))
    keep = np.flatnonzero(allowed)
    if keep.size == 0:
        return None
    order = keep[np.argsort(np.asarray([terms[i] for i in keep], dtype=object), kind="stable")]
    matrix = counts[:, order].tocsr()
    matrix.sort_indices()
    return matrix, [terms[i] for i in order]
