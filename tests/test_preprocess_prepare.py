"""`prepare`, the preprocessing stage as the pipeline calls it, on made-up and real reviews."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from reviewops.preprocess import prepare
from reviewops.records import Review
from reviewops.spec import Preprocessing

ENGLISH = [
    "The parcel arrived two weeks late and customer service never answered my emails.",
    "Customer service was friendly and the refurbished phone works like new.",
    "The battery died after a month; customer service sent a replacement quickly.",
    "Great prices, fast delivery, and customer service solved my problem in a day.",
    "I returned the laptop and customer service refunded me within a week.",
    "Screen arrived scratched, but customer service handled the return well.",
]
GERMAN = "Die Lieferung kam schnell und das Handy funktioniert einwandfrei, sehr zu empfehlen."
JAPANESE = "配送がとても速くて、商品も説明どおりでした。また利用したいです。"


def _reviews(texts: list[str]) -> list[Review]:
    return [Review(id=str(number), text=text) for number, text in enumerate(texts)]


def test_results_are_aligned_with_the_reviews() -> None:
    reviews = [
        Review(id="a", title="Terrible experience", text="The batteries were delivered broken."),
        Review(
            id="b", title="Commande livrée en retard…", text="Commande livrée en retard, batteries neuves."
        ),
    ]
    prepared = prepare(reviews, Preprocessing(), languages=["en", "fr"])
    assert prepared.texts == [
        "Terrible experience. The batteries were delivered broken.",
        "Commande livrée en retard, batteries neuves.",
    ]
    assert prepared.languages == ["en", "fr"]
    assert prepared.tokens == [
        ["terrible", "experience", "battery", "deliver", "break"],
        ["commande", "livrer", "retard", "batterie", "neuf"],
    ]
    assert prepared.warnings == []


def test_frequent_pairs_are_joined() -> None:
    prepared = prepare(_reviews(ENGLISH), Preprocessing())
    assert all("customer_service" in tokens for tokens in prepared.tokens)


def test_no_phrases_and_no_lemmas_when_switched_off() -> None:
    options = Preprocessing(lemmatize=False, bigrams=False)
    prepared = prepare(_reviews(ENGLISH), options)
    assert prepared.tokens[0] == [
        "parcel", "arrived", "weeks", "late", "customer", "service", "answered", "emails",
    ]  # fmt: skip
    assert not any("_" in token for tokens in prepared.tokens for token in tokens)


def test_company_name_and_extra_stop_words_are_removed() -> None:
    reviews = _reviews(["Back Market sold me a refurbished phone, BackMarket support was slow."])
    options = Preprocessing(extra_stopwords=["refurbished"])
    prepared = prepare(reviews, options, company_name="Back Market")
    assert prepared.tokens == [["sell", "phone", "support", "slow"]]


def test_markup_links_and_emoji_do_not_reach_the_tokens() -> None:
    raw = "Great &amp; fast 👍👍 see https://www.example.com/page or mail help@example.com &lt;br&gt;"
    prepared = prepare(_reviews([raw]), Preprocessing(), languages=["en"])
    assert prepared.texts == ["Great & fast see or mail"]
    assert prepared.tokens == [["great", "fast", "mail"]]


def test_empty_reviews_get_no_tokens_and_a_warning() -> None:
    prepared = prepare(_reviews(["", "   ", "👍👍👍", "https://example.com", ENGLISH[0]]), Preprocessing())
    assert prepared.tokens[:4] == [[], [], [], []]
    assert prepared.tokens[4]
    assert prepared.languages == ["en"] * 5
    assert any("4 reviews have no text left after cleaning" in w for w in prepared.warnings)


def test_stray_reviews_in_other_languages_pass_with_a_warning() -> None:
    # 1 review in 26 is under the 5 % that makes a language one of the corpus' own.
    prepared = prepare(_reviews([*ENGLISH * 4, GERMAN, JAPANESE]), Preprocessing(), languages=["en"])
    assert prepared.languages[-2:] == ["de", "ja"]
    assert prepared.tokens[-2][:3] == ["die", "lieferung", "kam"]  # words, no German stop words
    assert prepared.tokens[-1] == ["配送がとても速くて", "商品も説明どおりでした", "また利用したいです"]
    assert prepared.warnings == [
        "2 reviews in minor languages (de 1, ja 1): tokens are lowercased words, not lemmas, "
        "and no stop words are removed; list a language in source.languages to analyse it fully",
        "2 reviews are not in the expected languages (en): de 1, ja 1",
    ]


def test_a_sizeable_share_in_another_language_is_analysed_in_it() -> None:
    prepared = prepare(_reviews([*ENGLISH, GERMAN]), Preprocessing(), languages=["en"])
    assert prepared.languages[-1] == "de"
    # German stop words out ("die", "kam", "und"), German lemmas in ("funktioniert").
    assert prepared.tokens[-1][0] == "lieferung"
    assert "funktionieren" in prepared.tokens[-1]
    assert not {"die", "kam", "und", "das"} & set(prepared.tokens[-1])
    assert prepared.warnings == ["1 reviews are not in the expected languages (en): de 1"]


def test_a_corpus_in_a_language_spacy_cannot_handle_passes_with_a_warning() -> None:
    prepared = prepare(_reviews([JAPANESE] * 3), Preprocessing())
    assert prepared.languages == ["ja"] * 3
    assert prepared.tokens[0] == ["配送がとても速くて", "商品も説明どおりでした", "また利用したいです"]
    assert prepared.warnings == [
        "3 reviews in 'ja' (unsupported): tokens are lowercased words, not lemmas, "
        "and no stop words are removed"
    ]


def test_the_source_language_is_trusted() -> None:
    reviews = [Review(id="1", text="Livraison rapide, téléphone conforme.", language="FR-fr")]
    assert prepare(reviews, Preprocessing()).languages == ["fr"]


def test_repeated_reviews_do_not_share_token_lists() -> None:
    prepared = prepare(_reviews([ENGLISH[0], ENGLISH[0]]), Preprocessing())
    assert prepared.tokens[0] == prepared.tokens[1]
    prepared.tokens[0].append("changed")
    assert "changed" not in prepared.tokens[1]


def test_worker_processes_give_the_same_result() -> None:
    texts = [f"{text} Order {number}." for number in range(40) for text in ENGLISH]
    reviews = _reviews([*texts, GERMAN, "", JAPANESE])
    waited: list[int] = []
    alone = prepare(
        reviews,
        Preprocessing(),
        company_name="Back Market",
        workers=1,
        while_waiting=lambda: waited.append(1),
    )
    assert waited == []  # nothing to wait for in one process
    pooled = prepare(
        reviews,
        Preprocessing(),
        company_name="Back Market",
        workers=2,
        while_waiting=lambda: waited.append(2),
    )
    assert pooled == alone
    assert waited == [2]  # the next stage's loading ran once, while the workers tokenized


def test_progress_counts_every_review_once() -> None:
    seen: list[int] = []
    prepare(_reviews([*ENGLISH, *ENGLISH, ""]), Preprocessing(), progress=seen.append)
    assert sum(seen) == 2 * len(ENGLISH) + 1


def test_a_bad_worker_count_is_refused() -> None:
    with pytest.raises(ValueError, match="workers must be 1 or more, got 0"):
        prepare(_reviews(ENGLISH), Preprocessing(), workers=0)


@pytest.mark.slow
@pytest.mark.shared_data
def test_real_english_reviews(shared_data: Path) -> None:
    path = shared_data / "reviews" / "en_pet_insurance_trustpilot.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    reviews = [Review(id=row["id"], text=row["text"], title=row["title"] or None) for row in rows]
    prepared = prepare(reviews, Preprocessing(), company_name="Embrace Pet Insurance", languages=["en"])
    assert Counter(prepared.languages)["en"] >= 0.99 * len(reviews)
    assert sum(1 for tokens in prepared.tokens if tokens) >= 0.99 * len(reviews)
    vocabulary = Counter(token for tokens in prepared.tokens for token in tokens)
    for term in ("customer_service", "claim", "vet_bill", "direct_deposit"):
        assert vocabulary[term] > 50, term
    # The company's name is masked as a brand ("Embrace", "Embrace Pet Insurance"), but its
    # trade words stay where reviewers use them ordinarily ("my pet insurance").
    # ("embraced", the verb, still gives a few "embrace" lemmas: 22 here, the brand ~2,700).
    assert not {"embrace_pet", "the", "was", "be"} & set(vocabulary)
    assert vocabulary["embrace"] < 50
    assert vocabulary["insurance"] + vocabulary["pet_insurance"] > 1000


@pytest.mark.slow
@pytest.mark.shared_data
def test_real_french_reviews_are_detected_as_french(shared_data: Path) -> None:
    path = shared_data / "reviews" / "fr_showroomprive_trustpilot_raw.json"
    pages = json.loads(path.read_text(encoding="utf-8"))
    raw = [review for page in pages for review in page["reviews"]]
    # Drop the language Trustpilot gives, to exercise detection, and compare with it after.
    reviews = [Review(id=item["id"], text=item["text"], title=item["title"]) for item in raw]
    prepared = prepare(reviews, Preprocessing(), company_name="Showroomprive")
    agree = sum(1 for item, lang in zip(raw, prepared.languages, strict=True) if item["language"] == lang)
    assert agree >= 0.97 * len(raw)
    vocabulary = Counter(token for tokens in prepared.tokens for token in tokens)
    assert vocabulary["livraison"] > 20
    assert vocabulary["service_client"] >= 5
