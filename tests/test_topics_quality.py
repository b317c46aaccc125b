"""Planted-theme recovery on the demo data (target: best-match F1 >= 0.8), and real reviews.

Fast tests tokenize with a tiny tokenizer; the slow ones run the real preprocessing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewops.demo import DEMO_COMPANY, THEME_NAMES, generate
from reviewops.spec import Preprocessing, Topics
from reviewops.topics import fit_topics
from reviewops.topics.recovery import recovery
from tests.support.topics import demo_corpus

SIZE = 3000
K = len(THEME_NAMES)


@pytest.fixture(scope="module")
def english() -> tuple[list[list[str]], list[str]]:
    return demo_corpus(SIZE, ("en",))


@pytest.mark.parametrize("algorithm", ["nmf", "lda"])
@pytest.mark.parametrize("num_topics", [K, "auto"])
def test_planted_themes_are_recovered(
    english: tuple[list[list[str]], list[str]], algorithm: str, num_topics: int | str
) -> None:
    tokens, themes = english
    result = fit_topics(tokens, Topics(algorithm=algorithm, num_topics=num_topics))
    score = recovery(result.assignments, themes)
    assert result.details["k"] == K
    assert score.f1 >= 0.8, f"{algorithm} k={num_topics}: F1 {score.f1:.3f}, NMI {score.nmi:.3f}"
    assert score.nmi >= 0.75
    # Each planted theme owns a topic whose label names it.
    labels = {t.id: t.label for t in result.topics}
    assert "battery" in labels[score.matches["battery"]]
    assert "refund" in labels[score.matches["refund"]]


def test_french_themes_are_recovered_too() -> None:
    tokens, themes = demo_corpus(SIZE, ("fr",))
    result = fit_topics(tokens, Topics(algorithm="nmf"))
    score = recovery(result.assignments, themes)
    assert result.details["k"] == K and score.f1 >= 0.8
    labels = {t.id: t.label for t in result.topics}
    assert "batterie" in labels[score.matches["battery"]]


@pytest.mark.slow
def test_gensim_lda_recovers_the_planted_themes(english: tuple[list[list[str]], list[str]]) -> None:
    tokens, themes = english
    for num_topics in (K, "auto"):
        result = fit_topics(tokens, Topics(algorithm="gensim-lda", num_topics=num_topics))
        score = recovery(result.assignments, themes)
        assert score.f1 >= 0.8, f"gensim-lda k={num_topics}: F1 {score.f1:.3f}"


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "fr"])
def test_recovery_with_the_real_preprocessing(language: str) -> None:
    from reviewops.preprocess import prepare

    reviews, themes = generate(SIZE, languages=(language,))
    prepared = prepare(reviews, Preprocessing(), company_name=DEMO_COMPANY, languages=[language])
    for algorithm in ("nmf", "lda", "gensim-lda"):
        for num_topics in (K, "auto"):
            result = fit_topics(prepared.tokens, Topics(algorithm=algorithm, num_topics=num_topics))
            score = recovery(result.assignments, themes)
            assert score.f1 >= 0.8, f"{language} {algorithm} k={num_topics}: F1 {score.f1:.3f}"


@pytest.mark.slow
@pytest.mark.shared_data
def test_real_reviews_get_coherent_topics(shared_data: Path) -> None:
    from reviewops.preprocess import prepare
    from reviewops.sources.files import read_file
    from reviewops.spec import FileFormat

    path = shared_data / "reviews" / "en_pet_insurance_trustpilot.csv"
    reviews, _ = read_file(path, FileFormat.AUTO, {})
    prepared = prepare(reviews, Preprocessing(), languages=["en"])
    result = fit_topics(prepared.tokens, Topics(algorithm="nmf"))
    assert 4 <= len(result.themes()) <= 12
    assert result.coherence > 0.0
    assigned = sum(a >= 0 for a in result.assignments)
    assert assigned > 0.95 * len(reviews)  # only very short reviews go without a topic
    words = {w for t in result.topics for w, _ in t.terms}
    assert {"claim", "reimbursement"} & words, sorted(words)
