from __future__ import annotations

from reviewops.preprocess import prepare
from reviewops.preprocess.brands import MASK, domain_labels, mask_brands
from reviewops.records import Review
from reviewops.spec import Preprocessing


def test_domain_labels_come_from_domains_only() -> None:
    names = ["www.SpotPetIns.com", "figopetinsurance.com and fetch-pet.co.uk", "Back Market", None]
    assert domain_labels(names) == {"spotpetins", "figopetinsurance", "fetchpet"}


def test_a_frequent_start_of_a_domain_written_as_a_name_is_the_brand() -> None:
    texts = ["Spot paid the claim.", "I love Spot, great.", "Spotpetins is fine.", "Spo.", "Figo ok."] * 3
    brands, masked = mask_brands({"spotpetins", "figopetinsurance"}, texts)
    # "spot" starts spotpetins and is frequent; "spo" is too short; "figo" is seen 3 times
    assert brands.names == ["figo", "spot", "spotpetins"]
    assert masked[:3] == [f"{MASK} paid the claim.", f"I love {MASK}, great.", f"{MASK} is fine."]
    # the same masks on a text of the same corpus that was not among those scanned
    assert (
        brands.mask("Spot, then Spotpetins; spots and spotty.") == f"{MASK}, then {MASK}; spots and spotty."
    )
    assert mask_brands(set(), texts) == (mask_brands(set(), [])[0], texts)


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
