from __future__ import annotations

from reviewops.preprocess import prepare
from reviewops.preprocess.brands import brand_tokens, domain_labels
from reviewops.records import Review
from reviewops.spec import Preprocessing


def test_domain_labels_come_from_domains_only() -> None:
    names = ["www.SpotPetIns.com", "figopetinsurance.com and fetch-pet.co.uk", "Back Market", None]
    assert domain_labels(names) == {"spotpetins", "figopetinsurance", "fetchpet"}


def test_the_longest_frequent_word_starting_a_domain_is_the_brand() -> None:
    docs = [["spot", "pay", "claim"]] * 3 + [["spotpetins", "easy"], ["spo"], ["figo"]]
    # "spot" starts spotpetins and is frequent; "figo" is seen once only; "spo" is too short
    assert brand_tokens({"spotpetins", "figopetinsurance"}, docs) == {"spot", "spotpetins"}
    assert brand_tokens(set(), docs) == set()


def test_brands_of_a_mixed_file_leave_the_tokens_and_no_phrase_spans_them() -> None:
    texts = [
        "Spot paid my vet bill fast.",
        "Figo denied the claim for my dog.",
        "Spot customer service was helpful.",
        "Figo raised the premium again.",
    ] * 5
    reviews = [
        Review(
            id=str(i),
            text=t,
            language="en",
            company="spotpetins.com" if "Spot" in t else "figopetinsurance.com",
        )
        for i, t in enumerate(texts)
    ]
    tokens = prepare(reviews, Preprocessing(), workers=1).tokens
    words = {w for doc in tokens for token in doc for w in token.split("_")}
    assert "spot" not in words and "figo" not in words
    assert {"vet", "claim", "premium"} <= words
    # without the companies' domains the brands stay: nothing else is removed by this rule
    plain = prepare(
        [Review(id=r.id, text=r.text, language="en") for r in reviews], Preprocessing(), workers=1
    )
    assert "spot" in {t for doc in plain.tokens for t in doc}
