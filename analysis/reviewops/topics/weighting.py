"""Term weights for NMF: what a review's words say about its subject, not how long it is.

Plain TF-IDF with unit-length rows (scikit-learn's default) gave one catch-all topic on real
reviews: on the 11,694 English pet-insurance reviews, 54-57 % of them in one topic of words
every long review uses ("good", "dog", "pay", "year", "company", "cover"), next to several
topics that all said "fast / quick / easy" about short praise. Two changes fix most of it:

- Probabilistic IDF, log((N - df) / df) (Robertson & Sparck Jones, as in BM25), instead of
  log(N / df) + 1: a term in half of the reviews weighs next to nothing and one in a fifth of
  them little, while a term in 3 % keeps most of its weight. Words used by every kind of
  review stop pulling reviews together; subject words ("premium", "deductible") do.
- Rows divided by the square root of their length instead of their length: a 60-word review
  then weighs more than a 3-word one, without outweighing it 20 to 1. With unit rows, NMF
  spent its topics on the many short reviews and fitted every long one with one average topic.

Measured on the pet-insurance reviews (k=10, fixed seed): largest topic 33 % -> 17 % of the
reviews, mean NPMI 0.10 -> 0.15, with distinct topics for premium increases, denied claims and
pre-existing conditions, the app and website, and customer-service calls. Planted-theme
recovery on the demo data is unchanged (see bench/bench_topics.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

# Rows are divided by (Euclidean norm) ** LENGTH_POWER: 1 is unit length, 0 leaves long reviews
# free to dominate. 0.5 measured best on the real reviews for both the largest topic's share
# and coherence, and keeps the demo's planted themes.
LENGTH_POWER = 0.5
# Smallest IDF. Not 0: in a small corpus of two subjects each term can be in half of the
# documents, and a zero weight for all of them would leave nothing to model. On real reviews
# the floor changes no topic (measured on the pet-insurance and Showroomprive reviews).
IDF_FLOOR = 0.1


def probabilistic_idf(document_frequency: NDArray[np.float64], n_docs: int) -> NDArray[np.float64]:
    """log((N - df + 0.5) / (df + 0.5)), at least IDF_FLOOR (reached at half the documents)."""
    idf = np.log((n_docs - document_frequency + 0.5) / (document_frequency + 0.5))
    floored: NDArray[np.float64] = np.maximum(idf, IDF_FLOOR)
    return floored


@dataclass(slots=True)
class TermWeighting:
    """Sublinear TF x probabilistic IDF, rows scaled by norm ** -LENGTH_POWER.

    `fit` learns the IDF from one corpus' counts; `transform` applies it to any counts with
    the same vocabulary (the documents weighed after a fit on a sample).
    """

    idf: NDArray[np.float64]

    @classmethod
    def fit(cls, counts: sparse.csr_matrix) -> TermWeighting:
        """Learn the IDF of the documents x terms count matrix `counts`."""
        present = counts.copy()
        present.data[:] = 1.0
        frequency = np.asarray(present.sum(axis=0), dtype=np.float64).ravel()
        return cls(probabilistic_idf(frequency, int(counts.shape[0])))

    def transform(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """The weighted matrix (documents x terms, same sparsity as `counts`)."""
        weighted = sparse.csr_matrix(counts, dtype=np.float64, copy=True)
        weighted.data = 1.0 + np.log(weighted.data)  # counts are >= 1 where stored
        weighted = sparse.csr_matrix(weighted @ sparse.diags(self.idf))
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        scale = np.divide(1.0, norms**LENGTH_POWER, out=np.zeros_like(norms), where=norms > 0)
        scaled: sparse.csr_matrix = sparse.csr_matrix(sparse.diags(scale) @ weighted)
        scaled.eliminate_zeros()
        return scaled
