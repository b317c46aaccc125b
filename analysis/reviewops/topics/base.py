"""The shape every topic algorithm takes, and the registry that finds one by name.

An algorithm follows scikit-learn's estimator contract: parameters in `__init__`, `fit` learns
`components_` (topics x terms, non-negative term weights) and `doc_topics_`
(the fitted documents' topic weights), `transform` weighs other documents. Factories in the
registry import scikit-learn or gensim only when that algorithm is asked for.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar, Self

import numpy as np
from numpy.typing import NDArray

from reviewops.registry import Registry
from reviewops.topics.corpus import Corpus

FloatMatrix = NDArray[np.float64]


class TopicModel(ABC):
    """A topic model with `n_topics` topics, reproducible for a given `seed`."""

    name: ClassVar[str]
    # Largest number of documents the final fit learns from; the rest are only weighed by
    # `transform`. Keeps the LDAs within the time budget at 100k reviews.
    max_fit_documents: ClassVar[int | None] = None

    def __init__(self, n_topics: int, seed: int = 0) -> None:
        self.n_topics = n_topics
        self.seed = seed
        self.components_: FloatMatrix = np.zeros((0, 0))
        self.doc_topics_: FloatMatrix = np.zeros((0, 0))

    @abstractmethod
    def fit(self, corpus: Corpus) -> Self:
        """Learn the topics of `corpus`; sets components_ and doc_topics_."""

    @abstractmethod
    def transform(self, corpus: Corpus) -> FloatMatrix:
        """Topic weights (documents x topics) of documents the model was not fitted on."""

    def term_distributions(self) -> FloatMatrix:
        """components_ with each topic's row scaled to sum to 1, comparable across algorithms."""
        totals = self.components_.sum(axis=1, keepdims=True)
        scaled: FloatMatrix = np.divide(
            self.components_, totals, out=np.zeros_like(self.components_), where=totals > 0
        )
        return scaled


TopicModelFactory = Callable[[int, int], TopicModel]  # (n_topics, seed) -> unfitted model
ALGORITHMS: Registry[TopicModelFactory] = Registry("topic algorithm")


@ALGORITHMS.register("nmf")
def _nmf(n_topics: int, seed: int) -> TopicModel:
    from reviewops.topics.sklearn_models import NmfModel

    return NmfModel(n_topics, seed)


@ALGORITHMS.register("lda")
def _lda(n_topics: int, seed: int) -> TopicModel:
    from reviewops.topics.sklearn_models import LdaModel

    return LdaModel(n_topics, seed)


@ALGORITHMS.register("gensim-lda")
def _gensim_lda(n_topics: int, seed: int) -> TopicModel:
    from reviewops.topics.gensim_lda import GensimLdaModel

    return GensimLdaModel(n_topics, seed)
