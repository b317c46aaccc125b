"""Brands never reach the tokens, in any form, while their words used ordinarily stay.

A brand left in the tokens owns a topic ("Healthy Paws" -> healthy_paw in every model); a
brand rule that drops the brand's ordinary words ("healthy" in "my dog is healthy") loses
what reviews say. Hand-written reviews pin the rules; the shared files check them on real
companies (skipped without ../shared/data).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from reviewops.preprocess import prepare
from reviewops.records import Prepared, Review
from reviewops.sources.files import read_file
from reviewops.spec import FileFormat, Preprocessing

REPEATS = 3  # a shortened brand must be seen a few times to be judged


def _reviews(
    brand_texts: Sequence[str], ordinary: Sequence[str], *, language: str, company: str | None = None
) -> tuple[list[Review], list[int], list[int]]:
    """Reviews of the texts, repeated, and the indexes of brand and of ordinary reviews."""
    reviews: list[Review] = []
    brand_ids: list[int] = []
    ordinary_ids: list[int] = []
    for round_ in range(REPEATS):
        for text in brand_texts:
            brand_ids.append(len(reviews))
            reviews.append(Review(id=f"b{round_}-{text}", text=text, language=language, company=company))
        for text in ordinary:
            ordinary_ids.append(len(reviews))
            reviews.append(Review(id=f"o{round_}-{text}", text=text, language=language, company=company))
    return reviews, brand_ids, ordinary_ids


def _words(prepared: Prepared, ids: Sequence[int]) -> set[str]:
    """Every token of the reviews at `ids`, and every word of their joined phrases."""
    tokens = {token for index in ids for token in prepared.tokens[index]}
    return tokens | {word for token in tokens for word in token.split("_")}


HEALTHY_PAWS = [
    "Healthy Paws paid my claim within a week.",
    "I switched to Healthy Paws after my vet recommended them.",
    "healthy paws customer service was friendly and quick.",
    "HealthyPaws reimbursed the surgery in full.",
]
HEALTHY = ["My dog is healthy again after the surgery.", "Good food keeps my old cat healthy."]


@pytest.mark.parametrize(
    ("company_name", "brands", "company"),
    [
        ("Healthy Paws", [], None),
        (None, ["healthypawspetinsurance.com"], None),
        (None, [], "https://www.trustpilot.com/review/www.healthypawspetinsurance.com"),
    ],
    ids=["name", "domain", "trustpilot-url"],
)
def test_a_two_word_brand_leaves_every_form_but_its_ordinary_word_stays(
    company_name: str | None, brands: list[str], company: str | None
) -> None:
    reviews, brand_ids, ordinary_ids = _reviews(HEALTHY_PAWS, HEALTHY, language="en", company=company)
    prepared = prepare(reviews, Preprocessing(), company_name=company_name, brands=brands, workers=1)
    brand_words = _words(prepared, brand_ids)
    assert not {"healthy", "paw", "paws", "healthypaws", "healthy_paw"} & brand_words
    assert {"claim", "vet", "surgery"} <= brand_words
    for index in ordinary_ids:
        assert "healthy" in prepared.tokens[index]
    assert "healthy paws" in prepared.brands and "healthy" not in prepared.brands
    # Without a company the brand stays: the rule above is what removes it.
    plain = prepare(
        [Review(id=r.id, text=r.text, language="en") for r in reviews], Preprocessing(), workers=1
    )
    assert {"healthy", "paw", "healthypaws"} <= _words(plain, brand_ids)
    assert plain.brands == []


@pytest.mark.parametrize(
    ("domain", "brand", "ordinary", "word"),
    [
        ("www.hellofresh.com", "Hello Fresh", "The vegetables were fresh and crisp.", "fresh"),
        ("www.just-eat.co.uk", "Just Eat", "We eat at home on Sundays.", "eat"),
        ("cookunity.com", "Cook Unity", "I do not cook much anymore.", "cook"),
    ],
)
def test_a_brand_written_together_in_its_domain_is_found_split_in_the_text(
    domain: str, brand: str, ordinary: str, word: str
) -> None:
    texts = [
        f"{brand} delivered my order two days late.",
        f"I ordered from {brand} again this month.",
        f"{brand.lower()} support refunded the missing box.",
        f"{brand.replace(' ', '')} charged me twice.",
    ]
    reviews, brand_ids, ordinary_ids = _reviews(texts, [ordinary], language="en", company=domain)
    prepared = prepare(reviews, Preprocessing(), workers=1)
    parts = set(brand.lower().split())
    assert not (parts | {brand.lower().replace(" ", "")}) & _words(prepared, brand_ids)
    assert {"order", "refund", "charge"} <= _words(prepared, brand_ids)
    assert all(word in prepared.tokens[index] for index in ordinary_ids)
    assert brand.lower() in prepared.brands and word not in prepared.brands


def test_french_brands_go_and_the_ordinary_orange_stays() -> None:
    texts = [
        "Orange Bank a bloqué ma carte sans raison.",
        "J'ai ouvert un compte chez Orange Bank.",
        "orange bank ne répond jamais au téléphone.",
        "Bourso Bank est rapide et la carte est gratuite.",
        "J'ai choisi BoursoBank pour le virement instantané.",
        "Chez Bourso tout est simple.",
    ]
    ordinary = ["Le jus d'orange était offert en agence.", "Une orange pressée chaque matin au guichet."]
    reviews, brand_ids, ordinary_ids = _reviews(texts, ordinary, language="fr")
    prepared = prepare(
        reviews, Preprocessing(), company_name="Orange Bank", brands=["www.boursobank.com"], workers=1
    )
    brand_words = _words(prepared, brand_ids)
    assert not {"orange", "bank", "bourso", "boursobank"} & brand_words
    assert {"carte", "compte", "virement"} <= brand_words
    assert all("orange" in prepared.tokens[index] for index in ordinary_ids)
    assert {"orange bank", "bourso bank", "boursobank", "bourso"} <= set(prepared.brands)
    assert "orange" not in prepared.brands


# --- the shared files: every company, read as a user would ---------------------------------

TOP = 300  # the terms a topic model is made of, by document frequency


def _prepared(path: Path, columns: dict[str, str]) -> tuple[list[Review], Prepared]:
    reviews, problems = read_file(path, FileFormat.AUTO, columns)
    assert reviews and not [p for p in problems if "fields where the header" in p.message]
    return reviews, prepare(reviews, Preprocessing())


def _top_terms(prepared: Prepared) -> set[str]:
    counts = Counter(token for tokens in prepared.tokens for token in set(tokens))
    top = {token for token, _ in counts.most_common(TOP)}
    return top | {word for token in top for word in token.split("_")}


@pytest.mark.slow
@pytest.mark.shared_data
def test_no_food_brand_reaches_the_tokens(shared_data: Path) -> None:
    reviews, prepared = _prepared(shared_data / "reviews" / "en_food_trustpilot.csv", {})
    assert len({review.company for review in reviews}) == 9  # the Brand column is the company
    vocabulary = {word for tokens in prepared.tokens for token in tokens for word in token.split("_")}
    # Names nobody writes ordinarily: in no token at all.
    assert not {"starbucks", "grubhub", "hellofresh", "cookunity", "freshnlean", "justeat"} & vocabulary
    assert not {"hello_fresh", "cook_unity", "grub_hub", "hale_grove", "mountain_rose", "just_eat"} & {
        token for tokens in prepared.tokens for token in tokens
    }
    # Brand words that are also ordinary words: not among the top terms...
    assert not {"factor", "hale", "mountain", "unity", "hello"} & _top_terms(prepared)
    # ... and still there where reviewers use them ordinarily.
    counts = Counter(token for tokens in prepared.tokens for token in tokens)
    assert min(counts["fresh"], counts["cook"], counts["eat"]) > 100
    assert not {"fresh", "cook", "just", "eat"} & set(prepared.brands)


@pytest.mark.slow
@pytest.mark.shared_data
def test_no_french_bank_brand_reaches_the_tokens(shared_data: Path) -> None:
    path = shared_data / "reviews" / "fr_banks_trustpilot.csv"
    reviews, prepared = _prepared(path, {"text": "Experience"})
    assert len({review.company for review in reviews}) == 6
    tokens = {token for doc in prepared.tokens for token in doc}
    words = {word for token in tokens for word in token.split("_")}
    assert not {"younited", "cofidis", "boursobank", "floabank", "anytime"} & words
    assert not {"orange_bank", "younited_credit", "floa_bank"} & tokens
    assert not {"younited", "cofidis", "floa"} & _top_terms(prepared)
    # "orange" alone is an ordinary word (and here also the telecom company): it is kept.
    assert "orange" not in prepared.brands and "orange bank" in prepared.brands
