"""Topics on real Trustpilot reviews are useful to a customer-experience manager.

numTopics auto on the 11,694 English pet-insurance reviews and the 200 French Showroomprive
reviews of ../shared/data (skipped when absent). Before the topic weighting and selection
work, auto picked k=4 on the English reviews with 58 % of them in a "insurance / good /
embrace" topic, two of four labels generic, and negative NPMI on the French reviews: every
bound below failed then. No company name is given to preprocessing, but each review's company
(a domain, "spotpetins.com") is, so the brands reviewers write ("Spot", "Figo") are dropped
from the tokens (preprocess/brands.py) and no topic is about a company. Without brand topics
auto chooses 5-6 subjects on this data, the largest about fast reimbursement (~32 %).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewops.records import Prepared, TopicResult
from reviewops.spec import Preprocessing, Topics
from reviewops.topics import fit_topics
from reviewops.topics.usefulness import GENERIC_WORDS, Usefulness, usefulness

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]

ENGLISH = "en_pet_insurance_trustpilot.csv"
FRENCH = "fr_showroomprive_trustpilot_raw.json"
# Words that say nothing about a subject in these two data sets, besides GENERIC_WORDS.
PET_INSURANCE_GENERIC = frozenset(
    ["insurance", "pet", "pet_insurance", "dog", "cat", "embrace", "fetch", "figo", "spot"]
)
SHOWROOMPRIVE_GENERIC = frozenset(["showroomprive", "showroom", "privé"])


def _prepare(path: Path, language: str) -> Prepared:
    from reviewops.preprocess import prepare
    from reviewops.sources.files import read_file
    from reviewops.spec import FileFormat

    reviews, _ = read_file(path, FileFormat.AUTO, {})
    return prepare(reviews, Preprocessing(), languages=[language])


@pytest.fixture(scope="module")
def english(shared_data: Path) -> Prepared:
    return _prepare(shared_data / "reviews" / ENGLISH, "en")


@pytest.fixture(scope="module")
def french(shared_data: Path) -> Prepared:
    return _prepare(shared_data / "reviews" / FRENCH, "fr")


@pytest.fixture(scope="module")
def english_nmf(english: Prepared) -> TopicResult:
    return fit_topics(english.tokens, Topics(algorithm="nmf"))


def _labels(result: TopicResult) -> str:
    return "; ".join(topic.label for topic in result.topics)


def _check_useful(
    result: TopicResult, figures: Usefulness, *, max_largest: float, min_useful: int, max_generic: int = 2
) -> None:
    why = f"{figures} -- labels: {_labels(result)}"
    assert figures.largest_share <= max_largest, why  # no catch-all topic
    assert figures.assigned_share >= 0.95, why  # only near-empty reviews go without a topic
    assert figures.duplicate_labels == 0, why
    assert figures.useful_labels >= min_useful, why
    assert figures.generic_labels <= max_generic, why


def test_english_auto_topics_have_no_catch_all_and_distinct_subject_labels(english_nmf: TopicResult) -> None:
    figures = usefulness(english_nmf, GENERIC_WORDS["en"] | PET_INSURANCE_GENERIC)
    assert 5 <= figures.topics <= 12, _labels(english_nmf)
    _check_useful(english_nmf, figures, max_largest=0.35, min_useful=4)
    # no topic is about a company: brands are not topics
    words = {w for topic in english_nmf.topics for term, _ in topic.terms[:10] for w in term.split("_")}
    assert not words & {"embrace", "fetch", "figo", "spot"}, _labels(english_nmf)
    assert figures.coherence >= 0.12 and figures.diversity >= 0.6, figures


def test_english_topics_name_what_pet_insurance_customers_complain_about(english_nmf: TopicResult) -> None:
    labels = [topic.label for topic in english_nmf.topics]
    # Premium increases and denied claims / pre-existing conditions are the complaints of the
    # 1-2 star reviews; each must have a topic of its own, named by its subject.
    assert any("increase" in label or "premium" in label for label in labels), labels
    assert any("deny" in label or "exist condition" in label for label in labels), labels
    premium = next(t for t in english_nmf.topics if "increase" in t.label or "premium" in t.label)
    denied = next(t for t in english_nmf.topics if "deny" in t.label or "exist condition" in t.label)
    assert premium.id != denied.id


@pytest.mark.parametrize("algorithm", ["lda", "gensim-lda"])
def test_english_lda_topics_have_no_catch_all_either(english: Prepared, algorithm: str) -> None:
    result = fit_topics(english.tokens, Topics(algorithm=algorithm))
    figures = usefulness(result, GENERIC_WORDS["en"] | PET_INSURANCE_GENERIC)
    # LDA models raw counts, so its topics weigh "pet insurance" and "dog" more than NMF's do:
    # one more generic label is allowed (was 2 of 4 with a 47-52 % topic). Its praise-only
    # topics are one general-praise theme now (58 % of the reviews with gensim-lda, left out of
    # largest_share), which leaves 3 subject themes at the broad level, each with sub-themes.
    _check_useful(result, figures, max_largest=0.40, min_useful=3, max_generic=3)


def test_french_auto_topics_are_coherent_and_distinct(french: Prepared) -> None:
    result = fit_topics(french.tokens, Topics(algorithm="nmf"))
    figures = usefulness(result, GENERIC_WORDS["fr"] | SHOWROOMPRIVE_GENERIC)
    _check_useful(result, figures, max_largest=0.30, min_useful=5)
    assert figures.coherence > 0.05, figures  # was -0.29: top terms that rarely meet
