"""Labels of a two-level theme result: phrases from the reviews' texts, terms without them.

With the cleaned texts (Prepared.texts) a broad theme reads as its two most relevant phrases
against the corpus ("pre-existing condition / denied" on the pet-insurance reviews), three
when it has no sub-themes, and a sub-theme as its two most relevant against its parent theme
("wellness / waiting period" inside it); see topics.phrases. A sub-theme's phrases must also
name its top terms ("email / cancel" for the terms "email cancel refund"), and a bare verb
form or adverb ("decided", "promptly") only names a group it is a top term of. No phrase
repeats a label already given, nor a part of one.
Without texts, or when no phrase is frequent enough, labels fall back to the most relevant
model terms (labels.topic_label). The general-praise theme is named in the reviews' language.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from reviewops.topics.base import FloatMatrix
from reviewops.topics.corpus import Corpus
from reviewops.topics.labels import SEPARATOR, relevance_order, topic_label
from reviewops.topics.phrases import (
    GENERIC_FACTOR,
    PhraseCounts,
    bare_flags,
    content_sizes,
    count_phrases,
    dangling_flags,
    generic_flags,
    phrase_scores,
    stem_words,
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
# A theme without sub-themes shows no finer subject: its label names one more.
LONE_THEME_PHRASES = 3
# A sub-theme's label names its most distinctive terms: a phrase's score is multiplied by
# TERM_FLOOR + (1 - TERM_FLOOR) x the weight of the best of the sub-theme's TOP_TERMS terms
# (1 for the first, 1/TOP_TERMS for the last, in the order of its displayed terms) it holds
# and no earlier part of the label holds. Without it a phrase frequent in a small sub-theme
# but beside its subject names it: "email / card" for the sub-theme whose terms are "email
# cancel refund". Theme labels, read from thousands of reviews, are weighed by relevance
# alone: their top terms include the trade's common words ("vet", "pay").
TOP_TERMS = 6
TERM_CANDIDATES = 10  # the heaviest terms that relevance orders (as labels.relevance_order)
TERM_FLOOR = 0.25
# A term matches a lemma sharing its first MIN_PREFIX letters or more ("cancel", "cancelling").
MIN_PREFIX = 4
# Score factor of a one-word bare verb form or adverb ("decided", "promptly", phrases.bare_word):
# it says what happened, not to what. A bare word that is one of the group's top terms with
# weight RESCUE_WEIGHT or more keeps its score: "denied" names a theme of denials.
BARE_FACTOR = 0.3
# Score factor of a phrase cut off after an auxiliary ("colis a mis", phrases.dangling_flags).
DANGLING_FACTOR = 0.3
RESCUE_WEIGHT = 0.5
# Lift counts once for a sub-theme against its parent (twice for a theme against the corpus,
# phrases.LIFT_POWER): siblings share the parent's words, so lift there is rarely large and
# squaring it let a phrase of a dozen reviews ("picture") beat the sub-theme's subject.
SUB_LIFT_POWER = 1.0
# Phrases weighed per label: the best by relevance alone.
CANDIDATES = 400

Terms = list[tuple[tuple[str, ...], float]]  # (a term's words, weight) most relevant first


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
    counts: PhraseCounts | None = None,
) -> tuple[list[str | None], list[str | None]]:
    """(label per theme, label per sub-theme), None where no phrase qualifies.

    `themes` and `subthemes` give each corpus document's theme and sub-theme (-1 none).
    `counts`: `count_phrases` of these texts and corpus, when already counted.
    """
    if counts is None:
        counts = count_phrases(
            texts, corpus.rows, language=language, vocabulary=corpus.vocabulary, brands=brands, seed=seed
        )
    if not counts.phrases:
        return [None] * n_themes, [None] * len(parents)
    lengths = content_sizes(counts)
    factors = np.where(generic_flags(counts, generic), GENERIC_FACTOR, 1.0)
    factors *= np.where(dangling_flags(counts, language), DANGLING_FACTOR, 1.0)
    bare = bare_flags(counts, language)
    theme_of = _review_groups(len(texts), corpus, themes)
    theme_counts = counts.group_counts(theme_of, n_themes)
    theme_sizes = counts.group_sizes(theme_of, n_themes)
    total = np.asarray(counts.matrix.sum(axis=0), dtype=np.float64).ravel()
    term_counts, vocabulary = _term_counts(corpus)
    excluded = np.asarray([set(t.split("_")) <= set(generic) for t in vocabulary], dtype=np.bool_)
    theme_terms = _group_terms(term_counts, themes, n_themes)
    term_total = np.asarray(term_counts.sum(axis=0), dtype=np.float64).ravel()
    theme_labels: list[str | None] = []
    taken: list[frozenset[str]] = []  # content lemmas of every label phrase given
    for t in range(n_themes):
        scores = phrase_scores(theme_counts[t], theme_sizes[t], total, len(counts.rows), lengths, factors)
        terms = _top_terms(theme_terms[t], term_total, vocabulary, excluded)
        how_many = THEME_PHRASES if t in parents else LONE_THEME_PHRASES
        picked = _pick(scores, counts, how_many, taken, Label(terms, bare, terms_weigh=False))
        theme_labels.append(SEPARATOR.join(picked) if picked else None)
    sub_of = _review_groups(len(texts), corpus, subthemes)
    sub_counts = counts.group_counts(sub_of, len(parents))
    sub_sizes = counts.group_sizes(sub_of, len(parents))
    sub_terms = _group_terms(term_counts, subthemes, len(parents))
    sub_labels: list[str | None] = []
    for j, parent in enumerate(parents):
        # against the parent theme, so that sibling sub-themes get distinct labels
        scores = phrase_scores(
            sub_counts[j],
            sub_sizes[j],
            theme_counts[parent],
            theme_sizes[parent],
            lengths,
            factors,
            SUB_LIFT_POWER,
        )
        terms = _top_terms(sub_terms[j], theme_terms[parent], vocabulary, excluded)
        picked = _pick(scores, counts, SUBTHEME_PHRASES, taken, Label(terms, bare, terms_weigh=True))
        sub_labels.append(SEPARATOR.join(picked) if picked else None)
    return theme_labels, sub_labels


def _term_counts(corpus: Corpus) -> tuple[sparse.csr_matrix, list[str]]:
    """(documents x terms) counts, a derived term counted as the term it extends
    (phrases.stem_words: "cancellation" as "cancel"), and those terms."""
    stem = stem_words({term for term in corpus.vocabulary if "_" not in term})
    columns: dict[str, int] = {}
    column = [columns.setdefault(stem.get(term, term), len(columns)) for term in corpus.vocabulary]
    size = len(corpus.vocabulary)
    merge = sparse.csr_matrix((np.ones(size), (np.arange(size), column)), shape=(size, len(columns)))
    return sparse.csr_matrix(corpus.counts @ merge), list(columns)


def _group_terms(counts: sparse.csr_matrix, groups: NDArray[np.int64], n_groups: int) -> NDArray[np.float64]:
    """(groups x terms) term counts; `groups` gives each corpus document's group, -1 none."""
    keep = np.flatnonzero(groups >= 0)
    member = sparse.csr_matrix((np.ones(keep.size), (groups[keep], keep)), shape=(n_groups, counts.shape[0]))
    return np.asarray((member @ counts).todense(), dtype=np.float64)


def _top_terms(
    counts: NDArray[np.float64],
    reference: NDArray[np.float64],
    vocabulary: Sequence[str],
    excluded: NDArray[np.bool_],
) -> Terms:
    """A group's TOP_TERMS most relevant terms in the order its displayed terms use
    (labels.relevance_order of its term shares against the reference's), weighing 1 for the
    first down to 1/TOP_TERMS; generic terms (`excluded`) name no subject."""
    kept_counts = np.where(excluded, 0.0, counts)
    if kept_counts.sum() <= 0:
        return []
    shares = kept_counts / kept_counts.sum()
    marginal = (reference + 1.0) / (reference + 1.0).sum()
    order = relevance_order(shares[None, :], marginal, TERM_CANDIDATES)[0]
    kept = [i for i in order if shares[i] > 0][:TOP_TERMS]
    return [(tuple(vocabulary[i].split("_")), 1.0 - rank / TOP_TERMS) for rank, i in enumerate(kept)]


def _matches(lemma: str, word: str) -> bool:
    """A lemma names a term's word: the same, or sharing a MIN_PREFIX-letter start with it."""
    if lemma == word:
        return True
    short = min(len(lemma), len(word))
    return short >= MIN_PREFIX and lemma[:short] == word[:short]


def _covers(content: frozenset[str], words: tuple[str, ...]) -> bool:
    """Every word of the term is named by one of the phrase's content lemmas."""
    return all(any(_matches(lemma, word) for lemma in content) for word in words)


@dataclass(frozen=True, slots=True)
class Label:
    """What a group's label is chosen by besides phrase relevance: its top terms, which
    phrases are bare verb forms or adverbs, and whether the terms weigh every phrase (a
    sub-theme) or only rescue a bare word that is one of them (a theme: "denied")."""

    terms: Terms
    bare: NDArray[np.bool_]
    terms_weigh: bool


def _pick(
    scores: NDArray[np.float64],
    counts: PhraseCounts,
    how_many: int,
    taken: list[frozenset[str]],
    label: Label,
) -> list[str]:
    """The `how_many` best phrases by score x factors (see TOP_TERMS, BARE_FACTOR), none
    repeating a content lemma of an earlier one, nor a part of a label already given: `taken`
    holds their content lemmas, and grows with the phrases chosen here ("mind" is no label
    beside "peace of mind"). A term an earlier phrase holds no longer raises the next one."""
    finite = np.flatnonzero(np.isfinite(scores))
    order = finite[np.argsort(-scores[finite], kind="stable")[:CANDIDATES]]
    # a phrase inside an earlier label is out; one inside a phrase chosen here shares a lemma
    candidates = [p for p in order.tolist() if not any(counts.content[p] <= other for other in taken)]
    # the terms each candidate holds (for a theme, only a bare word's: they only rescue it)
    held = {
        p: [i for i, (words, _) in enumerate(label.terms) if _covers(counts.content[p], words)]
        if label.terms_weigh or label.bare[p]
        else []
        for p in candidates
    }
    chosen: list[str] = []
    used: set[str] = set()
    named: set[int] = set()  # terms an earlier part of the label holds
    while len(chosen) < how_many:
        best, best_score = -1, -np.inf
        for phrase in candidates:
            content = counts.content[phrase]
            if content & used:
                continue
            score = scores[phrase] * _factor(label, held[phrase], named)
            if (
                label.bare[phrase]
                and max((label.terms[i][1] for i in held[phrase]), default=0.0) < RESCUE_WEIGHT
            ):
                score *= BARE_FACTOR
            if score > best_score:
                best, best_score = phrase, score
        if best < 0:
            break
        chosen.append(counts.phrases[best])
        used |= counts.content[best]
        taken.append(counts.content[best])
        named.update(held[best])
    return chosen


def _factor(label: Label, held: list[int], named: set[int]) -> float:
    """TERM_FLOOR + (1 - TERM_FLOOR) x the weight of the best term the phrase holds that no
    earlier part of the label holds; 1 when the terms do not weigh or are all named."""
    if not label.terms_weigh or len(named) == len(label.terms):
        return 1.0
    weight = max((label.terms[i][1] for i in held if i not in named), default=0.0)
    return TERM_FLOOR + (1.0 - TERM_FLOOR) * weight


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
