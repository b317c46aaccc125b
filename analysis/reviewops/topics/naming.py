"""Labels of a two-level theme result: phrases from the reviews' texts, terms without them.

With the cleaned texts (Prepared.texts) a broad theme reads as its two most relevant phrases
against the corpus ("pre-existing condition / denied" on the pet-insurance reviews) and a
sub-theme as its two most relevant against its parent theme ("wellness / waiting period"
inside it); see topics.phrases. No phrase repeats a label already given, nor a part of one.
Without texts, or when no phrase is frequent enough, labels fall back to the most relevant
model terms (labels.topic_label). The general-praise theme is named in the reviews' language.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from numpy.typing import NDArray

from reviewops.topics.base import FloatMatrix
from reviewops.topics.corpus import Corpus
from reviewops.topics.labels import SEPARATOR, relevance_order, topic_label
from reviewops.topics.phrases import (
    PhraseCounts,
    content_sizes,
    count_phrases,
    generic_flags,
    phrase_scores,
    pick_phrases,
)

# The general-praise theme's label per language; English where the language is not listed.
GENERAL_PRAISE = {
    "en": "general praise",
    "fr": "satisfaction générale",
    "de": "allgemeines Lob",
    "es": "elogios generales",
    "it": "elogi generici",
    "nl": "algemene lof",
    "pt": "elogios gerais",
}
THEME_PHRASES = 2
SUBTHEME_PHRASES = 2


def general_praise(language: str | None) -> str:
    """The general-praise theme's label in `language`."""
    return GENERAL_PRAISE.get(language or "en", GENERAL_PRAISE["en"])


def _review_groups(n_reviews: int, corpus: Corpus, per_document: NDArray[np.int64]) -> NDArray[np.int64]:
    """Per review (index into the texts), its group from `per_document` (corpus order), -1 none."""
    groups = np.full(n_reviews, -1, dtype=np.int64)
    groups[corpus.rows] = per_document
    return groups


def term_labels(
    distributions: FloatMatrix, reference: NDArray[np.float64], vocabulary: Sequence[str], candidates: int
) -> list[str]:
    """Each topic's most relevant top terms against `reference` term shares (labels.topic_label)."""
    orders = relevance_order(distributions, reference, candidates)
    return [topic_label([vocabulary[i] for i in ids]) for ids in orders]


def phrase_labels(
    texts: Sequence[str],
    corpus: Corpus,
    themes: NDArray[np.int64],
    subthemes: NDArray[np.int64],
    parents: Sequence[int],
    *,
    n_themes: int,
    language: str | None,
    brands: Collection[str],
    generic: Collection[str],
    seed: int,
) -> tuple[list[str | None], list[str | None]]:
    """(label per theme, label per sub-theme), None where no phrase qualifies.

    `themes` and `subthemes` give each corpus document's theme and sub-theme (-1 none).
    """
    counts = count_phrases(
        texts, corpus.rows, language=language, vocabulary=corpus.vocabulary, brands=brands, seed=seed
    )
    if not counts.phrases:
        return [None] * n_themes, [None] * len(parents)
    lengths = content_sizes(counts)
    flags = generic_flags(counts, generic)
    theme_of = _review_groups(len(texts), corpus, themes)
    theme_counts = counts.group_counts(theme_of, n_themes)
    theme_sizes = counts.group_sizes(theme_of, n_themes)
    total = np.asarray(counts.matrix.sum(axis=0), dtype=np.float64).ravel()
    theme_labels: list[str | None] = []
    taken: list[frozenset[str]] = []  # content lemmas of every label phrase given
    for t in range(n_themes):
        scores = phrase_scores(theme_counts[t], theme_sizes[t], total, len(counts.rows), lengths, flags)
        picked = pick_phrases(scores, counts, THEME_PHRASES, taken)
        theme_labels.append(SEPARATOR.join(picked) if picked else None)
    sub_of = _review_groups(len(texts), corpus, subthemes)
    sub_labels = _sub_labels(counts, sub_of, parents, theme_counts, theme_sizes, taken, lengths, flags)
    return theme_labels, sub_labels


def _sub_labels(
    counts: PhraseCounts,
    sub_of: NDArray[np.int64],
    parents: Sequence[int],
    theme_counts: NDArray[np.float64],
    theme_sizes: NDArray[np.float64],
    taken: list[frozenset[str]],
    lengths: NDArray[np.float64],
    flags: NDArray[np.bool_],
) -> list[str | None]:
    """Sub-theme labels: each one's most relevant phrase against its parent theme; `sub_of`
    gives each review's sub-theme."""
    sub_counts = counts.group_counts(sub_of, len(parents))
    sub_sizes = counts.group_sizes(sub_of, len(parents))
    labels: list[str | None] = []
    for j, parent in enumerate(parents):
        scores = phrase_scores(
            sub_counts[j], sub_sizes[j], theme_counts[parent], theme_sizes[parent], lengths, flags
        )
        picked = pick_phrases(scores, counts, SUBTHEME_PHRASES, taken)
        labels.append(SEPARATOR.join(picked) if picked else None)
    return labels


def unique(labels: Sequence[str]) -> list[str]:
    """The labels, a repeated one numbered ("premium (2)")."""
    out: list[str] = []
    for label in labels:
        candidate, suffix = label, 2
        while candidate in out:
            candidate = f"{label} ({suffix})"
            suffix += 1
        out.append(candidate)
    return out
