"""Choosing the number of topics when numTopics is "auto", and scoring a fitted model.

Auto mode fits every k in [min_topics, max_topics] on a sample of the corpus and keeps the k
with the best coherence x diversity x (1 - overlap) x (1 - largest share), the largest of those
within 5 % of the best; only that k is then fitted in full, so the search costs a bounded amount whatever the
corpus size. The search fits quick NMF models whatever the algorithm: both LDAs start from
NMF's topics with the same k, so NMF at k foretells them, and it costs ~1/10 of an LDA fit
(9 LDA fits on 4,000 reviews: ~12 s). The candidate fits are independent: they run on two
forked processes where the platform forks (the scores are the same as in one process).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass

from reviewops.topics.base import TopicModel
from reviewops.topics.coherence import (
    COHERENCE_TERMS,
    DIVERSITY_TERMS,
    diversity,
    largest_share,
    npmi_per_topic,
    overlap,
    selection_score,
    top_term_ids,
)
from reviewops.topics.corpus import Corpus

# Scores this close to the best are ties: fitting k on other samples of the same reviews moves
# them by up to 4 % (measured on the demo data). Among ties the largest k wins, because the
# score falls off a cliff once a theme is split (overlap doubles) but only slides as themes
# merge, and a split theme stays visible as two topics where a merged one disappears.
TIE_TOLERANCE = 0.05
# Documents the auto-k search fits on: enough for 8-16 themes to show, small enough that a
# dozen quick NMF fits cost well under a second.
SELECTION_DOCUMENTS = 4000
# The candidate fits run on up to this many forked processes (the machines have 2 cores).
MAX_WORKERS = 2

_SAMPLE: Corpus | None = None
_SEED = 0


@dataclass(slots=True)
class Quality:
    """How good a fitted model is on the documents it was fitted on."""

    coherence: float  # mean NPMI of the topics
    diversity: float
    overlap: float
    largest: float  # share of the documents in the most common topic

    @property
    def score(self) -> float:
        return selection_score(self.coherence, self.diversity, self.overlap, self.largest)


def quality(model: TopicModel, corpus: Corpus) -> Quality:
    """Coherence, diversity and overlap of a fitted model over `corpus`.

    `corpus` must be the one the model was fitted on (its doc_topics_ give the overlap and
    the largest share).
    """
    distributions = model.term_distributions()
    per_topic = npmi_per_topic(top_term_ids(distributions, COHERENCE_TERMS), corpus)
    return Quality(
        coherence=sum(per_topic) / len(per_topic) if per_topic else 0.0,
        diversity=diversity(top_term_ids(distributions, DIVERSITY_TERMS)),
        overlap=overlap(model.doc_topics_),
        largest=largest_share(model.doc_topics_),
    )


def choose_k(corpus: Corpus, candidates: list[int], seed: int) -> tuple[int, dict[int, dict[str, float]]]:
    """The k with the best selection score on a sample (the largest among near-ties), and
    every candidate's scores."""
    global _SAMPLE, _SEED

    sample = corpus.sample(SELECTION_DOCUMENTS, seed)
    workers = _workers(len(candidates))
    if workers > 1:
        # scikit-learn is imported here, before the fork: the workers inherit it and the final
        # fit reuses it. Imported in each worker it cost ~2 s of CPU per process, three times.
        import reviewops.topics.sklearn_models  # noqa: F401

        # Forked workers inherit the sample; each fit is the same as in-process (one BLAS
        # thread, same seed), so the scores do not depend on the number of workers.
        _SAMPLE, _SEED = sample, seed
        try:
            # Largest k first: they cost most, so the two workers finish together.
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                results = pool.map(_score_k, sorted(candidates, reverse=True), chunksize=1)
        finally:
            _SAMPLE = None
        scores = dict(sorted(results))
    else:
        scores = dict(_score(k, sample, seed) for k in candidates)
    top = max(scores[k]["score"] for k in candidates)
    best = max(k for k in candidates if scores[k]["score"] >= (1.0 - TIE_TOLERANCE) * top)
    return best, scores


def _score(k: int, sample: Corpus, seed: int) -> tuple[int, dict[str, float]]:
    """One candidate k: a quick NMF fit on the sample and its scores."""
    from reviewops.topics.sklearn_models import NmfModel

    start = time.perf_counter()
    model = NmfModel(k, seed, quick=True).fit(sample)
    seconds = time.perf_counter() - start
    q = quality(model, sample)
    return k, {
        "coherence": round(q.coherence, 4),
        "diversity": round(q.diversity, 4),
        "overlap": round(q.overlap, 4),
        "largest": round(q.largest, 4),
        "score": round(q.score, 4),
        "seconds": round(seconds, 3),
    }


def _score_k(k: int) -> tuple[int, dict[str, float]]:
    from threadpoolctl import threadpool_limits

    if _SAMPLE is None:  # pragma: no cover - only reached in a worker forked by choose_k
        raise RuntimeError("choose_k's sample is not set")
    with threadpool_limits(limits=1, user_api="blas"):
        return _score(k, _SAMPLE, _SEED)


def _workers(candidates: int) -> int:
    """Processes for the candidate fits: 1 where forking is unavailable or not allowed."""
    if candidates < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if multiprocessing.current_process().daemon:  # a daemonic process may not have children
        return 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(MAX_WORKERS, usable or 1, candidates))
