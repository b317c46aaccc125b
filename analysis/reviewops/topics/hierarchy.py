"""Two levels of themes: broad themes, one general-praise theme, and sub-themes inside each.

A single level of 5-12 topics cannot both cover every review and name the complaints an
analyst acts on: on the pet-insurance reviews pre-existing conditions, waiting periods and
denied claims all fell into one "deny / tell / month" topic. Raising k splits praise before
it splits complaints, since praise is most of the reviews. So the broad model stays as auto-k
chooses it, and each broad theme with enough reviews gets its own small NMF fitted on its
reviews only: inside the claims theme "claim" no longer sets anything apart (its IDF there is
low), and what does is the reason a claim went wrong.

Themes that only praise ("great / service / recommend") say nothing a manager can act on; two
of them are two rows of the same news. Broad themes whose heaviest terms are mostly generic
words of the language (usefulness.GENERIC_WORDS) are merged into one general-praise theme,
which gets sub-themes like any other ("easy to use", "fast reimbursement").
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from reviewops.topics.base import FloatMatrix
from reviewops.topics.corpus import Corpus
from reviewops.topics.select import quality


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Adjectives and interjections of satisfaction that describe no subject by themselves, added to
# usefulness.GENERIC_WORDS to find praise-only themes. General-purpose lists, per language.
PRAISE_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        """quick fast easy simple smooth efficient seamless painless helpful friendly
        professional polite courteous kind pleasant awesome brilliant outstanding superb fab
        lovely reliable trustworthy quickly easily smoothly"""
    ),
    "fr": _words(
        """rapide simple efficace facile clair pratique fiable impeccable nickel top bravo
        réactif sérieux aimable professionnel agréable rapidement rapidité efficacité
        simplicité facilité fluide sympa génial parfaitement"""
    ),
}

# A broad theme is generic when generic words carry this share of its top terms' weight.
GENERIC_MASS = 0.5
GENERIC_TERMS = 10
# A broad theme gets sub-themes when it holds at least this many modelled reviews.
MIN_SUBTHEME_REVIEWS = 120
# ... and one sub-theme per this many of its reviews, between 2 and MAX_SUBTHEMES. A fixed
# rule rather than a search by coherence: a search fitted 7 models per theme, 36 s on the
# pet-insurance reviews, for sub-themes a reader could not tell apart from the rule's.
REVIEWS_PER_SUBTHEME = 200
MAX_SUBTHEMES = 8
# Reviews a sub-theme fit learns from; the rest of the theme is weighed by transform. Keeps
# the sub-theme fits a fraction of the broad fit at 100k reviews.
SUBTHEME_FIT_DOCUMENTS = 3000


def generic_themes(
    distributions: FloatMatrix, vocabulary: Sequence[str], generic: Collection[str]
) -> list[int]:
    """The themes (rows of topics x terms `distributions`) whose top terms are mostly generic."""
    if not generic:
        return []
    flags = np.asarray(
        [term in generic or all(part in generic for part in term.split("_")) for term in vocabulary]
    )
    found = []
    for theme, row in enumerate(distributions):
        top = np.argsort(-row, kind="stable")[:GENERIC_TERMS]
        mass = float(row[top].sum())
        if mass > 0 and float(row[top][flags[top]].sum()) >= GENERIC_MASS * mass:
            found.append(theme)
    return found


def merge_themes(
    weights: FloatMatrix, distributions: FloatMatrix, merged: Sequence[int]
) -> tuple[FloatMatrix, FloatMatrix]:
    """weights (documents x themes) and distributions with the `merged` themes made one, the
    last column; its term distribution is the merged ones' weighted by their documents' weight."""
    keep = [t for t in range(weights.shape[1]) if t not in set(merged)]
    mass = weights[:, merged].sum(axis=0)
    share = mass / mass.sum() if mass.sum() > 0 else np.full(len(merged), 1.0 / len(merged))
    column = weights[:, merged].sum(axis=1, keepdims=True)
    row = (share[:, None] * distributions[merged]).sum(axis=0, keepdims=True)
    return np.hstack([weights[:, keep], column]), np.vstack([distributions[keep], row])


def by_size(weights: FloatMatrix) -> tuple[FloatMatrix, NDArray[np.int64], NDArray[np.int64]]:
    """(weights with columns largest theme first, dominant column per document or -1, the order)."""
    dominant = np.argmax(weights, axis=1).astype(np.int64)
    dominant[weights.max(axis=1) <= 0] = -1
    sizes = np.bincount(dominant[dominant >= 0], minlength=weights.shape[1])
    order = np.argsort(-sizes, kind="stable").astype(np.int64)
    new_id = np.empty(len(order), dtype=np.int64)
    new_id[order] = np.arange(len(order))
    renumbered = np.where(dominant >= 0, new_id[np.maximum(dominant, 0)], -1).astype(np.int64)
    return weights[:, order], renumbered, order


@dataclass(slots=True)
class SubThemes:
    """Sub-themes of every broad theme: `parents[j]` is sub-theme j's theme, ordered by theme
    then size; `dominant` the sub-theme of each corpus document (-1 none)."""

    distributions: FloatMatrix
    parents: list[int]
    dominant: NDArray[np.int64]
    scores: dict[int, dict[int, float]] = field(default_factory=dict)  # theme -> k -> score


def subtheme_count(n_reviews: int) -> int:
    """Sub-themes of a theme of n_reviews reviews: one per REVIEWS_PER_SUBTHEME, 2..MAX_SUBTHEMES."""
    return max(2, min(MAX_SUBTHEMES, n_reviews // REVIEWS_PER_SUBTHEME))


def _fit_one(corpus: Corpus, k: int, seed: int) -> tuple[FloatMatrix, FloatMatrix, float]:
    """(sub-theme term distributions, document weights, selection score) of one theme's documents."""
    from reviewops.topics.sklearn_models import NmfModel

    sample = corpus.sample(SUBTHEME_FIT_DOCUMENTS, seed)
    model = NmfModel(k, seed, quick=True).fit(sample)
    weights = model.doc_topics_ if sample is corpus else model.transform(corpus)
    return model.term_distributions(), weights, round(quality(model, sample).score, 4)


_FIT_THREADS = max(1, min(2, os.cpu_count() or 1))


def fit_subthemes(corpus: Corpus, dominant: NDArray[np.int64], n_themes: int, seed: int) -> SubThemes:
    """Sub-themes of each broad theme that has enough reviews.

    `dominant` is the broad theme of each document of `corpus`. Deterministic for a seed.
    """
    rows: list[FloatMatrix] = []
    parents: list[int] = []
    sub_dominant = np.full(len(corpus), -1, dtype=np.int64)
    scores: dict[int, dict[int, float]] = {}
    themes = {
        theme: positions
        for theme in range(n_themes)
        if len(positions := np.flatnonzero(dominant == theme).astype(np.int64)) >= MIN_SUBTHEME_REVIEWS
    }

    def fit(positions: NDArray[np.int64]) -> tuple[FloatMatrix, FloatMatrix, float]:
        return _fit_one(corpus.subset(positions), subtheme_count(len(positions)), seed)

    # Themes are fitted in threads: NMF's coordinate descent and BLAS release the GIL, and
    # each fit is seeded on its own, so the result does not depend on the threads (at 100k
    # generated reviews, 8 themes: 1.5 s -> 0.8 s on 2 cores; the same sub-themes).
    with ThreadPoolExecutor(_FIT_THREADS) as pool:
        fitted = list(pool.map(fit, themes.values()))
    for (theme, positions), (distributions, weights, score) in zip(themes.items(), fitted, strict=True):
        scores[theme] = {subtheme_count(len(positions)): score}
        _, local, order = by_size(weights)
        offset = len(parents)
        sub_dominant[positions] = np.where(local >= 0, offset + local, -1)
        rows.append(distributions[order])
        parents += [theme] * len(order)
    stacked = np.vstack(rows) if rows else np.zeros((0, len(corpus.vocabulary)))
    return SubThemes(distributions=stacked, parents=parents, dominant=sub_dominant, scores=scores)
