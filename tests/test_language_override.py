"""A source's language tag gives way to a confident detection, and the user is told.

Sources tag wrongly: Trustpilot tags some Dutch reviews "af" (which then got no topics), and
exports put a country in their language column. Only a long text the detector is sure of
overrules a tag; a short one keeps it.
"""

from __future__ import annotations

import pytest

from reviewops.preprocess import prepare
from reviewops.preprocess.language import Guess, guess_language, overriding_language
from reviewops.records import Review
from reviewops.spec import Preprocessing

DUTCH = "De bezorging was snel en de klantenservice heeft mijn vraag heel vriendelijk beantwoord."
FRENCH = "La livraison a été rapide et le service client a répondu à toutes mes questions."
ENGLISH = "The parcel arrived two days late but the support team refunded the shipping."


@pytest.mark.parametrize(
    ("text", "tag", "expected"),
    [(DUTCH, "af", "nl"), (FRENCH, "en", "fr"), (ENGLISH, "fr", "en"), (ENGLISH, "gb", "en")],
)
def test_a_long_text_detected_with_confidence_overrules_a_wrong_tag(
    text: str, tag: str, expected: str
) -> None:
    assert overriding_language(tag, guess_language(text)) == expected


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        (DUTCH, "nl"),  # the tag is right
        ("Top service", "de"),  # too short to contradict anything
        ("Very Easy! Very Easy!", "fr"),  # short texts are often confidently misread
    ],
)
def test_a_right_tag_or_a_short_text_keeps_the_tag(text: str, tag: str) -> None:
    assert overriding_language(tag, guess_language(text)) is None


def test_the_tag_is_kept_unless_the_detector_is_sure_with_a_margin() -> None:
    long = 12
    assert overriding_language("fr", Guess((("en", 0.95), ("fr", 0.01)), long)) == "en"
    assert overriding_language("fr", Guess((("en", 0.85), ("fr", 0.01)), long)) is None  # not sure
    assert overriding_language("fr", Guess((("en", 0.92), ("fr", 0.07)), long)) is None  # tag plausible
    assert overriding_language("fr", Guess((("en", 0.99),), 3)) is None  # too few words
    assert overriding_language("fr", Guess(())) is None
    assert overriding_language("fr", None) is None


def test_prepare_uses_the_detected_language_and_counts_the_overrides() -> None:
    reviews = [
        Review(id="nl", text=DUTCH, language="af"),
        Review(id="fr", text=FRENCH, language="en"),
        Review(id="en", text=ENGLISH, language="en"),
        Review(id="short", text="Top service", language="fr"),
    ]
    # Without lemmas: loading the Dutch and French tables would cost seconds, and stop words
    # are enough to show which language a text was tokenized in.
    prepared = prepare(reviews, Preprocessing(lemmatize=False), workers=1)
    assert prepared.languages == ["nl", "fr", "en", "fr"]
    # Tokenized as Dutch: its stop words ("de", "en", "heeft") are gone, its words are there.
    assert {"bezorging", "klantenservice"} <= set(prepared.tokens[0])
    assert not {"de", "en", "heeft", "mijn"} & set(prepared.tokens[0])
    assert "livraison" in prepared.tokens[1] and "le" not in prepared.tokens[1]
    warning = next(w for w in prepared.warnings if "confidently contradicts" in w)
    assert warning.startswith("2 reviews tagged by the source")
    assert "'af' -> 'nl' 1" in warning and "'en' -> 'fr' 1" in warning


def test_no_warning_when_every_tag_agrees() -> None:
    reviews = [Review(id="en", text=ENGLISH, language="en"), Review(id="fr", text=FRENCH, language="fr")]
    prepared = prepare(reviews, Preprocessing(lemmatize=False), workers=1)
    assert prepared.languages == ["en", "fr"]
    assert not any("contradicts" in w for w in prepared.warnings)
