"""The small parts of the topic stage: labels, coherence, diversity, overlap, recovery scores."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import sparse
from sklearn.metrics import normalized_mutual_info_score

from reviewops.topics.coherence import diversity, npmi_per_topic, overlap, selection_score
from reviewops.topics.corpus import Corpus, build_corpus, document_frequency_limits
from reviewops.topics.labels import topic_label, unique_labels
from reviewops.topics.recovery import recovery


def _corpus(rows: list[list[int]]) -> Corpus:
    matrix = sparse.csr_matrix(np.array(rows, dtype=np.float64))
    vocabulary = [f"t{i}" for i in range(matrix.shape[1])]
    return Corpus(matrix, vocabulary, np.arange(len(rows), dtype=np.int64), 1, 1.0)


def test_labels_join_top_terms_and_humanise_bigrams() -> None:
    assert topic_label(["customer_service", "refund", "agent", "email"]) == "customer service / refund"
    assert topic_label(["battery", "drain", "charge"]) == "battery / drain / charge"
    # A term repeating a word of a chosen one adds nothing.
    assert topic_label(["battery_life", "battery", "charge"]) == "battery life / charge"


def test_labels_stay_unique_across_topics() -> None:
    labels = unique_labels([["price", "value", "deal", "cheap"], ["price", "value", "deal", "fee"],
                            ["price", "value", "deal", "cheap"]])
    assert labels[0] == "price / value / deal"
    assert labels[1] == "price / value / deal / fee"
    assert len(set(labels)) == 3


def test_npmi_is_one_for_terms_always_together_and_minus_one_for_never() -> None:
    corpus = _corpus([[1, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 1]])
    together, apart = npmi_per_topic([[0, 1], [0, 2]], corpus)
    assert together == pytest.approx(1.0)
    assert apart == pytest.approx(-1.0)


def test_npmi_is_near_zero_for_independent_terms() -> None:
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 2, size=(4000, 2)).tolist()
    (score,) = npmi_per_topic([[0, 1]], _corpus(rows))
    assert abs(score) < 0.05


def test_diversity_counts_unique_top_terms() -> None:
    assert diversity([[0, 1], [2, 3]]) == 1.0
    assert diversity([[0, 1], [0, 1]]) == 0.5


def test_overlap_sees_two_topics_used_by_the_same_reviews() -> None:
    separate = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    shared = np.array([[0.5, 0.5], [0.4, 0.6], [0.6, 0.4]])
    assert overlap(separate) == pytest.approx(0.0)
    assert overlap(shared) > 0.9
    assert overlap(np.ones((3, 1))) == 0.0


def test_selection_prefers_coherent_distinct_topics() -> None:
    assert selection_score(0.4, 0.9, 0.1) > selection_score(0.4, 0.9, 0.4)
    assert selection_score(0.4, 0.9, 0.1) > selection_score(0.2, 0.9, 0.1)
    assert selection_score(-0.3, 0.9, 0.1) == 0.0


def test_frequency_limits_grow_with_the_corpus() -> None:
    assert document_frequency_limits(50) == (2, 0.5)
    assert document_frequency_limits(100_000) == (20, 0.5)


def test_build_corpus_drops_rare_terms_and_documents_left_empty() -> None:
    tokens = [["screen", "scratch"], ["screen", "crack"], ["price", "deal"], ["price", "deal"],
              ["unique"], []]
    corpus = build_corpus(tokens, [0, 1, 2, 3, 4])
    assert corpus is not None
    assert corpus.vocabulary == ["deal", "price", "screen"]  # terms of one review are dropped
    assert corpus.rows.tolist() == [0, 1, 2, 3]  # review 4 kept no term
    # In more than half of the reviews a term says nothing about any of them.
    common = build_corpus([["phone", "screen"], ["phone", "screen"], ["phone", "price"],
                           ["phone", "price"]], [0, 1, 2, 3])
    assert common is not None and "phone" not in common.vocabulary


def test_recovery_is_perfect_whatever_the_topic_numbers() -> None:
    themes = ["a", "a", "b", "b", "c", "c"]
    score = recovery([2, 2, 0, 0, 1, 1], themes)
    assert score.f1 == pytest.approx(1.0) and score.nmi == pytest.approx(1.0)
    assert score.matches == {"a": 2, "b": 0, "c": 1}


def test_recovery_penalises_merged_themes_and_skips_unassigned() -> None:
    themes = ["a", "a", "b", "b", "c", "c"]
    merged = recovery([0, 0, 0, 0, 1, 1], themes)
    assert merged.f1 < 0.8 and merged.nmi < 1.0
    unassigned = recovery([-1, 0, 1, 1, 2, 2], themes)
    assert unassigned.reviews == 5 and unassigned.f1 == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one theme per review"):
        recovery([0, 1], ["a"])


def test_recovery_nmi_matches_scikit_learn() -> None:
    rng = random.Random(1)
    topics = [rng.randrange(5) for _ in range(500)]
    themes = [rng.choice("abcd") if rng.random() < 0.5 else "abcde"[t] for t in topics]
    assert recovery(topics, themes).nmi == pytest.approx(normalized_mutual_info_score(themes, topics))
