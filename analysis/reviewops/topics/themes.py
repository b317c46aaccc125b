"""From a fitted broad model to the two-level themes of a TopicResult, labelled.

Order of work: the broad themes are sorted by size; those that only praise are merged into
one general-praise theme (hierarchy.generic_themes); every other theme large enough gets
sub-themes (hierarchy.fit_subthemes); then every theme and sub-theme is labelled, by phrases
of the reviews' texts when they are given (naming.phrase_labels), else by its terms. Topic ids
follow records.TopicResult: themes 0..k-1 largest first, then sub-themes grouped by parent.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from reviewops.records import Topic
from reviewops.topics.base import FloatMatrix
from reviewops.topics.coherence import top_term_ids
from reviewops.topics.corpus import Corpus
from reviewops.topics.hierarchy import (
    PRAISE_WORDS,
    SubThemes,
    by_size,
    fit_subthemes,
    generic_themes,
    merge_themes,
)
from reviewops.topics.naming import general_praise, phrase_labels, term_labels, unique
from reviewops.topics.phrases import PhraseCounts
from reviewops.topics.usefulness import GENERIC_WORDS


@dataclass(slots=True)
class Texts:
    """What labels by phrase need: the reviews' cleaned texts (aligned with the tokens), their
    language and the brand names the labels must avoid. Empty texts: labels by terms."""

    texts: Sequence[str] = ()
    language: str | None = None
    brands: Collection[str] = ()
    # The texts' phrases (phrases.count_phrases over the corpus), when counted beforehand.
    counts: PhraseCounts | None = None


@dataclass(slots=True)
class Themes:
    topics: list[Topic]
    weights: FloatMatrix  # documents x broad themes, columns in theme order
    distributions: FloatMatrix  # broad themes x terms
    dominant: NDArray[np.int64]  # broad theme per corpus document, -1 none
    sub_dominant: NDArray[np.int64]  # sub-theme Topic.id per corpus document, -1 none
    sub: SubThemes
    generic: int | None  # the general-praise theme's id
    details: dict[str, object] = field(default_factory=dict)


def generic_words(language: str | None) -> frozenset[str]:
    """The words that praise without naming a subject, in `language` (every listed language's
    when it is not known): usefulness.GENERIC_WORDS and hierarchy.PRAISE_WORDS."""
    if language is None:
        return frozenset().union(*GENERIC_WORDS.values(), *PRAISE_WORDS.values())
    return GENERIC_WORDS.get(language, frozenset()) | PRAISE_WORDS.get(language, frozenset())


def build_themes(
    corpus: Corpus,
    distributions: FloatMatrix,
    weights: FloatMatrix,
    *,
    top_terms: int,
    seed: int,
    texts: Texts,
) -> Themes:
    """The labelled two-level themes of a broad model's `distributions` (topics x terms) and
    document `weights` (corpus documents x topics)."""
    started = time.perf_counter()
    generic = generic_words(texts.language)
    praise = generic_themes(distributions, corpus.vocabulary, generic)
    if len(praise) >= 2:
        weights, distributions = merge_themes(weights, distributions, praise)
    weights, dominant, order = by_size(weights)
    distributions = distributions[order]
    k = distributions.shape[0]
    generic_id: int | None = None
    if praise:
        merged_column = k - 1 if len(praise) >= 2 else praise[0]
        generic_id = int(np.flatnonzero(order == merged_column)[0])
    sub = fit_subthemes(corpus, dominant, k, seed)
    sub_dominant = np.where(sub.dominant >= 0, sub.dominant + k, -1).astype(np.int64)
    fitted = time.perf_counter()
    theme_labels, sub_labels = _labels(corpus, distributions, dominant, sub, texts, generic, top_terms, seed)
    if generic_id is not None:
        theme_labels[generic_id] = general_praise(texts.language)
    labels = unique(theme_labels + sub_labels)
    topics = _topics(distributions, corpus.vocabulary, labels[:k], top_terms, None)
    topics += _topics(sub.distributions, corpus.vocabulary, labels[k:], top_terms, sub.parents, offset=k)
    return Themes(
        topics=topics,
        weights=weights,
        distributions=distributions,
        dominant=dominant,
        sub_dominant=sub_dominant,
        sub=sub,
        generic=generic_id,
        details={
            "merged_praise_topics": len(praise),
            "subtheme_k_scores": {str(t): s for t, s in sub.scores.items()},
            "seconds_subthemes": round(fitted - started, 3),
            "seconds_labels": round(time.perf_counter() - fitted, 3),
        },
    )


def _labels(
    corpus: Corpus,
    distributions: FloatMatrix,
    dominant: NDArray[np.int64],
    sub: SubThemes,
    texts: Texts,
    generic: Collection[str],
    top_terms: int,
    seed: int,
) -> tuple[list[str], list[str]]:
    """(theme labels, sub-theme labels): phrases where found, terms otherwise."""
    k = distributions.shape[0]
    frequency = np.asarray(corpus.counts.sum(axis=0), dtype=np.float64).ravel()
    theme_terms = term_labels(distributions, frequency / frequency.sum(), corpus.vocabulary, top_terms)
    # a sub-theme's terms are relevant against its parent's term distribution
    parent_rows = distributions[sub.parents] if sub.parents else np.zeros((0, len(frequency)))
    sub_terms = [
        term_labels(sub.distributions[j : j + 1], parent_rows[j] + 1e-12, corpus.vocabulary, top_terms)[0]
        for j in range(len(sub.parents))
    ]
    if not texts.texts:
        return theme_terms, sub_terms
    theme_phrases, sub_phrases = phrase_labels(
        texts.texts,
        corpus,
        dominant,
        sub.dominant,
        sub.parents,
        n_themes=k,
        language=texts.language,
        brands=texts.brands,
        generic=generic,
        seed=seed,
        counts=texts.counts,
    )
    return (
        [p or t for p, t in zip(theme_phrases, theme_terms, strict=True)],
        [p or t for p, t in zip(sub_phrases, sub_terms, strict=True)],
    )


def _topics(
    distributions: FloatMatrix,
    vocabulary: Sequence[str],
    labels: Sequence[str],
    top_terms: int,
    parents: Sequence[int] | None,
    offset: int = 0,
) -> list[Topic]:
    return [
        Topic(
            id=offset + t,
            label=labels[t],
            terms=[(vocabulary[i], round(float(distributions[t, i]), 6)) for i in ids],
            parent=None if parents is None else parents[t],
        )
        for t, ids in enumerate(top_term_ids(distributions, top_terms))
    ]
