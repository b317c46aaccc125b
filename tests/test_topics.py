"""fit_topics behaviour a user sees: assignments, labels, terms, scores, options, edge cases."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reviewops.records import TopicResult
from reviewops.spec import SpecError, Topics, parse_spec
from reviewops.topics import ALGORITHMS, fit_topics
from tests.support.topics import demo_corpus


@pytest.fixture(scope="module")
def corpus() -> tuple[list[list[str]], list[str]]:
    return demo_corpus(1500)


@pytest.fixture(scope="module")
def nmf8(corpus: tuple[list[list[str]], list[str]]) -> TopicResult:
    return fit_topics(corpus[0], Topics(algorithm="nmf", num_topics=8, top_terms=12))


def test_three_algorithms_are_registered_by_name() -> None:
    assert ALGORITHMS.names() == ["gensim-lda", "lda", "nmf"]


def test_importing_topics_does_not_load_sklearn_or_gensim() -> None:
    code = "import sys, reviewops.topics; print(sorted(m for m in ('sklearn', 'gensim') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_each_topic_has_the_asked_number_of_weighted_terms_and_a_readable_label(
    nmf8: TopicResult,
) -> None:
    assert nmf8.algorithm == "nmf" and len(nmf8.themes()) == 8
    assert [t.id for t in nmf8.themes()] == list(range(8))
    labels = [t.label for t in nmf8.themes()]
    assert len(set(labels)) == 8
    for topic in nmf8.themes():
        assert len(topic.terms) == 12
        weights = [w for _, w in topic.terms]
        assert weights == sorted(weights, reverse=True) and weights[-1] > 0
        assert "_" not in topic.label and 1 <= topic.label.count(" / ") + 1 <= 3
        # Label terms are shown terms, picked for what sets the topic apart.
        shown = {term.replace("_", " ") for term, _ in topic.terms}
        assert set(topic.label.split(" / ")) <= shown


def test_topics_are_numbered_largest_first(nmf8: TopicResult) -> None:
    sizes = [nmf8.assignments.count(t) for t in range(8)]
    assert sizes == sorted(sizes, reverse=True)
    assert min(sizes) > 0


def test_scores_are_reported_with_their_measure(nmf8: TopicResult) -> None:
    assert nmf8.coherence_measure == "npmi"
    assert 0.1 < nmf8.coherence <= 1.0  # planted themes are coherent
    assert 0.5 < nmf8.diversity <= 1.0
    assert nmf8.k_scores == {}
    assert nmf8.details["k"] == 8 and nmf8.details["documents"] == 1500


def test_same_seed_same_topics_and_assignments(
    corpus: tuple[list[list[str]], list[str]],
) -> None:
    options = Topics(algorithm="lda", num_topics=6, seed=3)
    first, second = fit_topics(corpus[0][:600], options), fit_topics(corpus[0][:600], options)
    assert first.assignments == second.assignments
    assert [t.terms for t in first.topics] == [t.terms for t in second.topics]


def test_auto_tries_every_k_in_range_and_keeps_the_best(
    corpus: tuple[list[list[str]], list[str]],
) -> None:
    result = fit_topics(corpus[0], Topics(algorithm="nmf", min_topics=5, max_topics=10))
    assert sorted(result.k_scores) == list(range(5, 11))
    top = max(s["score"] for s in result.k_scores.values())
    # The largest k whose score is within 5 % of the best: near-ties are sampling noise.
    chosen = max(k for k, s in result.k_scores.items() if s["score"] >= 0.95 * top)
    assert result.details["k"] == chosen == len(result.themes()) == 8
    for scores in result.k_scores.values():
        assert set(scores) == {"coherence", "diversity", "overlap", "largest", "score", "seconds"}


def test_short_reviews_get_no_topic_and_progress_counts_every_review() -> None:
    tokens = [["battery", "drain", "fast"], ["battery"], [], ["refund", "late", "money"]] * 30
    seen: list[int] = []
    result = fit_topics(tokens, Topics(num_topics=2), progress=seen.append, min_tokens=2)
    assert result.assignments[1::4] == [-1] * 30 and result.assignments[2::4] == [-1] * 30
    assert all(a >= 0 for a in result.assignments[0::4] + result.assignments[3::4])
    assert result.assignments[0] != result.assignments[3]  # battery and refund part ways
    assert sum(seen) == len(tokens)
    assert result.details["excluded_documents"] == 60


def test_a_handful_of_reviews_still_gets_topics_with_k_capped() -> None:
    tokens = [
        ["screen", "scratch"],
        ["screen", "crack"],
        ["price", "cheap"],
        ["price", "deal"],
        ["screen", "pixel"],
        ["price", "value"],
        ["delivery", "late"],
        ["delivery", "fast"],
        ["screen", "perfect"],
        ["price", "good"],
    ]
    result = fit_topics(tokens, Topics(algorithm="nmf"))  # auto, minTopics 4
    assert 1 <= len(result.topics) <= 4
    assert all(a >= -1 for a in result.assignments) and len(result.assignments) == 10
    capped = fit_topics(tokens, Topics(algorithm="lda", num_topics=50))
    assert len(capped.topics) < 50
    assert "numTopics 50 lowered to" in str(capped.details["warning"])


def test_nothing_to_model_gives_an_empty_result_that_says_why() -> None:
    seen: list[int] = []
    result = fit_topics([["hi"], [], ["ok"]], Topics(), progress=seen.append)
    assert result.topics == [] and result.assignments == [-1, -1, -1]
    assert "0 of 3 reviews have at least 2 tokens" in str(result.details["warning"])
    assert sum(seen) == 3


def test_min_topics_above_max_topics_is_refused_naming_both_fields(
    corpus: tuple[list[list[str]], list[str]],
) -> None:
    with pytest.raises(ValueError, match=r"minTopics: \(9\) is greater than maxTopics \(5\)"):
        fit_topics(corpus[0], Topics(min_topics=9, max_topics=5))
    with pytest.raises(SpecError, match=r"spec\.topics\.minTopics: \(9\) is greater than maxTopics \(5\)"):
        parse_spec(
            {
                "company": {"name": "X", "domain": "www.example.com"},
                "topics": {"minTopics": 9, "maxTopics": 5},
            }
        )


@pytest.mark.parametrize("algorithm", ["nmf", "lda", "gensim-lda"])
def test_every_algorithm_returns_the_same_shape_of_result(algorithm: str) -> None:
    tokens, _ = demo_corpus(400, seed=5)
    result = fit_topics(tokens, Topics(algorithm=algorithm, num_topics=5, top_terms=5))
    assert result.algorithm == algorithm
    assert len(result.themes()) == 5 and all(len(t.terms) == 5 for t in result.topics)
    assert len(result.assignments) == 400 and set(result.assignments) <= set(range(-1, 5))
    assert -1.0 <= result.coherence <= 1.0 and 0.0 < result.diversity <= 1.0
