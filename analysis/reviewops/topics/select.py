"""Choosing the number of topics when numTopics is "auto", and scoring a fitted model.

Auto mode fits every k in [min_topics, max_topics] on a sample of the corpus and keeps the k
with the best coherence x diversity x (1 - overlap) x (1 - largest share), the largest of those
within 5 % of the best; only that k is then fitted in full, so the search costs a bounded amount whatever the
corpus size. The search fits quick NMF models whatever the algorithm: both LDAs start from
NMF's topics with the same k, so NMF at k foretells them, and it costs ~1/10 of an LDA fit
(9 LDA fits on 4,000 reviews: ~12 s).
"""

from __future__ import annotations

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
    from reviewops.topics.sklearn_models import NmfModel

    sample = corpus.sample(SELECTION_DOCUMENTS, seed)
    scores: dict[int, dict[str, float]] = {}
    for k in candidates:
        start = time.perf_counter()
        model = NmfModel(k, seed, quick=True).fit(sample)
        seconds = time.perf_counter() - start
        q = quality(model, sample)
        scores[k] = {
            "coherence": round(q.coherence, 4),
            "diversity": round(q.diversity, 4),
            "overlap": round(q.overlap, 4),
            "largest": round(q.largest, 4),
            "score": round(q.score, 4),
            "seconds": round(seconds, 3),
        }
    top = max(scores[k]["score"] for k in candidates)
    best = max(k for k in candidates if scores[k]["score"] >= (1.0 - TIE_TOLERANCE) * top)
    return best, scores
