"""fit_topics: token lists in, topics with labels, terms and one topic per review out."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Collection, Sequence

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from reviewops.background import Background
from reviewops.records import ProgressFn, TopicResult, no_progress
from reviewops.spec import Topics
from reviewops.topics.base import ALGORITHMS, FloatMatrix, TopicModel
from reviewops.topics.coherence import (
    COHERENCE_TERMS,
    DIVERSITY_TERMS,
    MEASURE,
    diversity,
    npmi_per_topic,
    overlap,
    top_term_ids,
)
from reviewops.topics.corpus import Corpus, build_corpus
from reviewops.topics.phrases import PhraseCounts, count_phrases
from reviewops.topics.select import choose_k
from reviewops.topics.themes import Texts, build_themes

# Documents weighed per transform call, so progress moves during long LDA inference.
_CHUNK = 10_000
# Auto k gives each theme at least this many reviews on average: 12 topics from 92 English
# reviews, or 12 French topics sharing 1 % of a corpus, were mostly single reviews' words.
REVIEWS_PER_TOPIC = 30


def max_auto_topics(n_reviews: int) -> int:
    """The largest k auto may choose for n_reviews modelled reviews (at least 2)."""
    return max(2, n_reviews // REVIEWS_PER_TOPIC)


def _candidates(options: Topics, limit: int) -> list[int]:
    if options.min_topics > options.max_topics:
        raise ValueError(
            f"topics.minTopics ({options.min_topics}) is greater than topics.maxTopics "
            f"({options.max_topics}); set minTopics <= maxTopics or give numTopics a number"
        )
    feasible = [k for k in range(options.min_topics, options.max_topics + 1) if k <= limit]
    return feasible or [limit]


def _doc_topics(model: TopicModel, fitted: Corpus, corpus: Corpus, progress: ProgressFn) -> FloatMatrix:
    """Topic weights of every document of `corpus`, reusing the fit's when it saw them all."""
    if fitted is corpus:
        progress(len(corpus))
        return model.doc_topics_
    parts = []
    for start in range(0, len(corpus), _CHUNK):
        chunk = corpus.subset(np.arange(start, min(start + _CHUNK, len(corpus)), dtype=np.int64))
        parts.append(model.transform(chunk))
        progress(len(chunk))
    return np.vstack(parts)


def _assignments(n_reviews: int, corpus: Corpus, per_document: NDArray[np.int64]) -> list[int]:
    """Per review, its document's value in `per_document` (corpus order); -1 outside the corpus."""
    assignments = np.full(n_reviews, -1, dtype=np.int64)
    assignments[corpus.rows] = per_document
    return [int(a) for a in assignments.tolist()]


def _dominant_weight(n_reviews: int, corpus: Corpus, weights: FloatMatrix) -> list[float]:
    totals = weights.sum(axis=1)
    share = np.divide(weights.max(axis=1), totals, out=np.zeros_like(totals), where=totals > 0)
    out = [0.0] * n_reviews
    for row, value in zip(corpus.rows.tolist(), share.tolist(), strict=True):
        out[row] = round(float(value), 4)
    return out


def _empty(algorithm: str, n: int, reason: str) -> TopicResult:
    return TopicResult(
        algorithm=algorithm,
        topics=[],
        assignments=[-1] * n,
        coherence=0.0,
        coherence_measure=MEASURE,
        diversity=0.0,
        details={"k": 0, "warning": reason},
    )


def fit_topics(
    tokens: Sequence[Sequence[str]],
    options: Topics,
    *,
    progress: ProgressFn = no_progress,
    min_tokens: int = 2,
    texts: Sequence[str] = (),
    language: str | None = None,
    brands: Collection[str] = (),
    exclude: Collection[str] = (),
) -> TopicResult:
    """Two-level themes of the reviews whose preprocessed tokens are `tokens`, per `options`.

    Reviews with fewer than `min_tokens` tokens, or none left after vocabulary pruning, get
    topic -1 and stay out of the fit. With numTopics "auto", k is chosen in [minTopics,
    maxTopics] by coherence x diversity x (1 - overlap) x (1 - largest topic share) on a
    sample (TopicResult.k_scores), at most one topic per REVIEWS_PER_TOPIC reviews. Themes
    that only praise become one general-praise theme; the others get sub-themes when large
    enough (topics.themes). With `texts` (the cleaned texts, aligned with `tokens`), labels
    are phrases the reviews write in `language`, never a word of `brands`; without, the most
    relevant shown terms. Terms in `exclude` are left out of the model (topics.foreign).
    Themes are numbered by size, largest first, then the sub-themes.
    `progress` receives reviews as their theme is settled and sums to len(tokens).
    Deterministic for a given options.seed.
    """
    algorithm = str(options.algorithm)
    ALGORITHMS.get(algorithm)  # an unknown name fails before any work
    if texts and len(texts) != len(tokens):
        raise ValueError(f"{len(texts)} texts for {len(tokens)} token lists: they must be aligned")
    # The matrices are thin (k columns): threaded BLAS only adds contention, measured 2x
    # slower with 2 threads than with 1 on the shared 2-core machines.
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(tokens, options, algorithm, progress, min_tokens, Texts(texts, language, brands), exclude)


def _fit(
    tokens: Sequence[Sequence[str]],
    options: Topics,
    algorithm: str,
    progress: ProgressFn,
    min_tokens: int,
    texts: Texts,
    exclude: Collection[str] = (),
) -> TopicResult:
    started = time.perf_counter()
    usable = [i for i, doc in enumerate(tokens) if len(doc) >= max(min_tokens, 1)]
    corpus = build_corpus(tokens, usable, exclude) if usable else None
    if corpus is None or len(corpus) < 2:
        progress(len(tokens))
        return _empty(
            algorithm,
            len(tokens),
            f"{len(usable)} of {len(tokens)} reviews have at least {min_tokens} tokens and "
            f"{0 if corpus is None else len(corpus)} keep a term shared with another review; "
            "topics need at least 2 such reviews (lower preprocessing.minTokens or add reviews)",
        )
    progress(len(tokens) - len(corpus))
    vectorized = time.perf_counter()
    # The phrases that labels are chosen from depend on the texts and the corpus alone: they
    # are counted on a forked child while k is chosen and the model fitted (see background).
    phrases = (
        Background(
            "phrases",
            lambda _p: count_phrases(
                texts.texts,
                corpus.rows,
                language=texts.language,
                vocabulary=corpus.vocabulary,
                brands=texts.brands,
                seed=options.seed,
            ),
        )
        if texts.texts
        else None
    )
    with phrases if phrases is not None else contextlib.nullcontext():
        return _fit_corpus(tokens, corpus, options, algorithm, progress, texts, phrases, started, vectorized)


def _fit_corpus(
    tokens: Sequence[Sequence[str]],
    corpus: Corpus,
    options: Topics,
    algorithm: str,
    progress: ProgressFn,
    texts: Texts,
    phrases: Background[PhraseCounts] | None,
    started: float,
    vectorized: float,
) -> TopicResult:

    limit = min(len(corpus), len(corpus.vocabulary))
    k_scores: dict[int, dict[str, float]] = {}
    notes: dict[str, object] = {}
    if options.num_topics == "auto":
        bounded = min(limit, max_auto_topics(len(corpus)))
        k, k_scores = choose_k(corpus, _candidates(options, bounded), options.seed)
    else:
        k = min(int(options.num_topics), limit)
        if k < int(options.num_topics):
            notes["warning"] = (
                f"topics.numTopics {options.num_topics} lowered to {k}: only {len(corpus)} "
                f"reviews and {len(corpus.vocabulary)} terms to model"
            )
    selected = time.perf_counter()

    model = ALGORITHMS.get(algorithm)(k, options.seed)
    cap = model.max_fit_documents
    fit_corpus = corpus.sample(cap, options.seed) if cap is not None else corpus
    model.fit(fit_corpus)
    fitted = time.perf_counter()
    weights = _doc_topics(model, fit_corpus, corpus, progress)
    assigned = time.perf_counter()

    if phrases is not None:
        texts = dataclasses.replace(texts, counts=phrases.result())
    # Theme 0 is the one most reviews are about.
    themes = build_themes(
        corpus,
        model.term_distributions(),
        weights,
        top_terms=options.top_terms,
        seed=options.seed,
        texts=texts,
    )
    distributions = themes.distributions
    # Quality over every modelled review, not only the documents the fit saw.
    per_topic = npmi_per_topic(top_term_ids(distributions, COHERENCE_TERMS), corpus)
    per_sub = npmi_per_topic(top_term_ids(themes.sub.distributions, COHERENCE_TERMS), corpus)
    return TopicResult(
        algorithm=algorithm,
        topics=themes.topics,
        assignments=_assignments(len(tokens), corpus, themes.dominant),
        sub_assignments=_assignments(len(tokens), corpus, themes.sub_dominant) if themes.sub.parents else [],
        coherence=round(float(np.mean(per_topic)), 4),
        coherence_measure=MEASURE,
        diversity=round(diversity(top_term_ids(distributions, DIVERSITY_TERMS)), 4),
        k_scores=k_scores,
        details={
            "k": len(themes.distributions),
            "k_fitted": k,
            "k_requested": options.num_topics,
            "k_selection": "nmf on a sample" if k_scores else "given",
            "documents": len(corpus),
            "fitted_documents": len(fit_corpus),
            "excluded_documents": len(tokens) - len(corpus),
            "vocabulary": len(corpus.vocabulary),
            "min_df": corpus.min_df,
            "max_df": corpus.max_df,
            "overlap": round(overlap(themes.weights), 4),
            # How strongly each review is about its topic: picks representative reviews.
            "dominant_weight": _dominant_weight(len(tokens), corpus, themes.weights),
            # one per entry of `topics`: the themes', then the sub-themes'
            "topic_coherence": [round(c, 4) for c in per_topic + per_sub],
            "subtheme_coherence": round(float(np.mean(per_sub)), 4) if per_sub else None,
            "general_praise": themes.generic,
            **themes.details,
            "seconds": {
                "vectorize": round(vectorized - started, 3),
                "select_k": round(selected - vectorized, 3),
                "fit": round(fitted - selected, 3),
                "assign": round(assigned - fitted, 3),
                "subthemes": themes.details["seconds_subthemes"],
                "labels": themes.details["seconds_labels"],
                "total": round(time.perf_counter() - started, 3),
            },
            **notes,
        },
    )
