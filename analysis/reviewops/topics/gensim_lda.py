"""gensim's LDA (`gensim-lda`): online variational Bayes with learned asymmetric priors.

Like `lda`, it starts from NMF's topics (see sklearn_models), set through gensim's public
state (`state.sstats`, `sync_state`) before training.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Self

import numpy as np
from gensim.models import LdaModel

from reviewops.topics.base import FloatMatrix, TopicModel
from reviewops.topics.corpus import Corpus
from reviewops.topics.sklearn_models import nmf_seed_topics

_CHUNK = 2000
Bag = list[tuple[int, float]]


def _bags(corpus: Corpus, start: int, stop: int) -> list[Bag]:
    """Rows start..stop of the count matrix as gensim bags of words [(term id, count), ...]."""
    counts = corpus.counts
    bags = []
    for row in range(start, stop):
        lo, hi = counts.indptr[row], counts.indptr[row + 1]
        bags.append(list(zip(counts.indices[lo:hi].tolist(), counts.data[lo:hi].tolist(), strict=True)))
    return bags


class _Bags:
    """The corpus as gensim reads it: re-iterable (one walk per pass), built chunk by chunk."""

    def __init__(self, corpus: Corpus) -> None:
        self._corpus = corpus

    def __iter__(self) -> Iterator[Bag]:
        n = len(self._corpus)
        for start in range(0, n, _CHUNK):
            yield from _bags(self._corpus, start, min(start + _CHUNK, n))

    def __len__(self) -> int:
        return len(self._corpus)


class GensimLdaModel(TopicModel):
    """gensim LdaModel on the shared count matrix, in one process (the 2 cores are shared)."""

    name: ClassVar[str] = "gensim-lda"
    max_fit_documents: ClassVar[int | None] = 20_000

    def fit(self, corpus: Corpus) -> Self:
        self._model = LdaModel(
            corpus=None,  # set the starting topics first, then train
            num_topics=self.n_topics,
            id2word=dict(enumerate(corpus.vocabulary)),
            chunksize=_CHUNK,
            passes=4,
            iterations=50,
            alpha="auto",
            eta="auto",
            eval_every=None,
            random_state=self.seed,
        )
        self._model.state.sstats[...] = nmf_seed_topics(corpus, self.n_topics, self.seed)
        self._model.sync_state()
        self._model.update(_Bags(corpus))
        self.components_ = np.asarray(self._model.get_topics(), dtype=np.float64)
        self.doc_topics_ = self.transform(corpus)
        return self

    def transform(self, corpus: Corpus) -> FloatMatrix:
        parts = [
            np.asarray(self._model.inference(_bags(corpus, s, min(s + _CHUNK, len(corpus))))[0])
            for s in range(0, len(corpus), _CHUNK)
        ]
        gamma = np.vstack(parts) if parts else np.zeros((0, self.n_topics))
        return gamma.astype(np.float64)
