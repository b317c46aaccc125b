"""The small parts of the topic stage: labels, coherence, diversity, overlap, recovery scores."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import sparse
from sklearn.metrics import normalized_mutual_info_score

from reviewops.records import Topic, TopicResult
from reviewops.topics.coherence import diversity, largest_share, npmi_per_topic, overlap, selection_score
from reviewops.topics.corpus import Corpus, build_corpus, document_frequency_limits
from reviewops.topics.labels import relevance_order, topic_label, unique_labels
from reviewops.topics.recovery import recovery
from reviewops.topics.usefulness import GENERIC_WORDS, is_generic_label, label_terms, usefulness
from reviewops.topics.weighting import TermWeighting, probabilistic_idf


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
    labels = unique_labels(
        [
            ["price", "value", "deal", "cheap"],
            ["price", "value", "deal", "fee"],
            ["price", "value", "deal", "cheap"],
        ]
    )
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
    # A catch-all topic holding most reviews costs as much as its share.
    assert selection_score(0.4, 0.9, 0.1, 0.6) == pytest.approx(0.4 * selection_score(0.4, 0.9, 0.1))
    assert largest_share(np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.6, 0.4]])) == 0.75


def test_frequency_limits_grow_with_the_corpus() -> None:
    assert document_frequency_limits(50) == (2, 0.5)
    assert document_frequency_limits(100_000) == (20, 0.5)


def test_build_corpus_drops_rare_terms_and_documents_left_empty() -> None:
    tokens = [
        ["screen", "scratch"],
        ["screen", "crack"],
        ["price", "deal"],
        ["price", "deal"],
        ["unique"],
        [],
    ]
    corpus = build_corpus(tokens, [0, 1, 2, 3, 4])
    assert corpus is not None
    assert corpus.vocabulary == ["deal", "price", "screen"]  # terms of one review are dropped
    assert corpus.rows.tolist() == [0, 1, 2, 3]  # review 4 kept no term
    # In more than half of the reviews a term says nothing about any of them.
    common = build_corpus(
        [["phone", "screen"], ["phone", "screen"], ["phone", "price"], ["phone", "price"]], [0, 1, 2, 3]
    )
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


def test_a_term_in_half_of_the_reviews_weighs_next_to_nothing_and_a_rare_one_most() -> None:
    idf = probabilistic_idf(np.array([50.0, 20.0, 3.0]), 100)
    assert idf[0] == pytest.approx(0.1)  # the floor, not 0: still something to model
    assert idf[2] > 2 * idf[1] > 2 * idf[0]


def test_a_long_review_weighs_more_than_a_short_one_but_not_in_proportion() -> None:
    # Review 0 uses 1 term, review 1 uses 16 different terms; every term is equally rare.
    counts = sparse.csr_matrix(np.vstack([np.eye(1, 17, 0), np.eye(1, 17, 0) * 0 + np.r_[0, np.ones(16)]]))
    weighting = TermWeighting(idf=np.ones(17))
    norms = np.linalg.norm(weighting.transform(counts).toarray(), axis=1)
    assert norms[0] == pytest.approx(1.0)
    assert norms[1] == pytest.approx(2.0)  # sqrt(16) ** 0.5: 2x the short one, not 4x


def test_label_terms_prefer_what_sets_the_topic_apart() -> None:
    # "great" weighs most in topic 0 but is just as common everywhere; "premium" is its own.
    distributions = np.array([[0.5, 0.3, 0.2], [0.6, 0.0, 0.4]])
    marginal = np.array([0.7, 0.05, 0.25])
    orders = relevance_order(distributions, marginal)
    assert orders[0][0] == 1  # premium before great
    assert orders[1][-1] == 1  # a term the topic never uses is ranked last


def _result(labels: list[str], assignments: list[int]) -> TopicResult:
    topics = [Topic(i, label, [(label, 1.0)]) for i, label in enumerate(labels)]
    return TopicResult("nmf", topics, assignments, 0.1, "npmi", 0.8)


def test_usefulness_counts_catch_alls_generic_and_repeated_labels() -> None:
    labels = ["great / service", "premium / increase", "deny / pre", "premium / rate", "app / website / easy"]
    result = _result(labels, [0, 0, 0, 0, 1, 2, 3, 4, -1, -1])
    figures = usefulness(result, GENERIC_WORDS["en"])
    assert figures.largest_share == pytest.approx(0.4) and figures.assigned_share == pytest.approx(0.8)
    assert figures.generic_labels == 1  # "great / service"
    assert figures.duplicate_labels == 1  # the second label led by "premium"
    assert figures.useful_labels == 3
    assert is_generic_label("pet insurance / claim", {"pet", "insurance"})  # all its words are generic
    assert not is_generic_label("customer service / claim / great", GENERIC_WORDS["en"])
    assert label_terms("colis / noël [fr]") == ["colis", "noël"]
