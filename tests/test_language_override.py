"""A source's language tag gives way to a confident detection, and the user is told.

Sources tag wrongly: Trustpilot tags some Dutch reviews "af" (which then got no topics), and
exports put a country in their language column. Only a long text the detector is sure of
overrules a tag; a short one keeps it.
"""

from __future__ import annotations

import pytest

from reviewops.preprocess import prepare
from reviewops.preprocess.language import (
    Guess,
    doubted_override,
    guess_language,
    overriding_language,
    own_function_words,
)
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


# English reviews that the bundled detector gives 0.75-0.89 (the strict rule asks 0.9), and a
# short French one it reads as English with 0.85: a tag already found wrong gives way to the
# first kind only, whose English function words ("the", "and", "very"...) confirm detection.
PLAIN_ENGLISH = (
    "Not impressed at all by the way the bank tries to foist a different card on you",
    "The customer feedback system is lamentable, long delays to replies",
    "Very fast and easy service",
    "They are good",
    "Thank you for the service",
)
FRENCH_READ_AS_ENGLISH = ("Bon service. Bon contact.", "Top ! Top ! Top !")


def test_a_doubted_tag_gives_way_when_detection_and_function_words_agree() -> None:
    for text in PLAIN_ENGLISH:
        guess = guess_language(text)
        assert overriding_language("fr", guess) is None, text  # the strict rule keeps the tag
        assert doubted_override("fr", guess, text, {"fr", "en"}) == "en", text
    for text in FRENCH_READ_AS_ENGLISH:
        assert own_function_words(text, "en", "fr") < 2
        assert doubted_override("fr", Guess((("en", 0.85), ("fr", 0.0)), 4), text, {"fr", "en"}) is None
    english = Guess((("en", 0.86), ("fr", 0.02)), 5)
    assert doubted_override("fr", english, "Very fast and easy service", {"fr"}) is None  # not a main one
    plausible = Guess((("en", 0.86), ("fr", 0.08)), 5)
    assert doubted_override("fr", plausible, "Very fast and easy service", {"fr", "en"}) is None
    unsure = Guess((("en", 0.45), ("fr", 0.02)), 5)
    assert doubted_override("fr", unsure, "Very fast and easy service", {"fr", "en"}) is None


def _tagged_fr(texts: list[str]) -> list[Review]:
    return [Review(id=str(i), text=text, language="fr") for i, text in enumerate(texts)]


def test_prepare_loosens_only_a_tag_that_detection_found_wrong() -> None:
    french = [f"{FRENCH} Commande numéro {i}." for i in range(20)]
    # Without a confident contradiction the "fr" tag is trusted: plain English keeps it.
    kept = prepare(_tagged_fr([*french, *PLAIN_ENGLISH]), Preprocessing(lemmatize=False), workers=1)
    assert set(kept.languages) == {"fr"}
    # One long English text the detector is sure of puts the tag in doubt: then the plain
    # English reviews are English too, and the French ones it misreads stay French.
    texts = [*french, ENGLISH, *PLAIN_ENGLISH, *FRENCH_READ_AS_ENGLISH]
    prepared = prepare(_tagged_fr(texts), Preprocessing(lemmatize=False), workers=1)
    assert prepared.languages == ["fr"] * 20 + ["en"] * (1 + len(PLAIN_ENGLISH)) + ["fr", "fr"]
    warning = next(w for w in prepared.warnings if "confidently contradicts" in w)
    assert warning.startswith(f"{1 + len(PLAIN_ENGLISH)} reviews tagged by the source")


def test_a_country_tag_found_on_french_reviews_reads_as_french() -> None:
    # A "Language" column holding countries: "RE" (Réunion) on French reviews. The long one
    # is detected French with confidence, which puts "re" in doubt and names what it hides;
    # the short ones, which the detector alone reads as English (0.99 for "Bonne relation"),
    # are French too; a plain English one under the same tag is English.
    right = [Review(id=f"f{i}", text=f"{FRENCH} Commande {i}.", language="fr") for i in range(20)]
    right += [Review(id=f"e{i}", text=f"{ENGLISH} Order {i}.", language="en") for i in range(20)]
    country = [
        "La conseillère a été très claire et le virement est arrivé le lendemain.",
        "Bonne relation",
        "Super services",
    ]
    tagged = [Review(id=f"re{i}", text=text, language="re") for i, text in enumerate(country)]
    tagged.append(Review(id="re-en", text="They are good and they answer the phone", language="re"))
    prepared = prepare([*right, *tagged], Preprocessing(lemmatize=False), workers=1)
    assert prepared.languages[40:] == ["fr", "fr", "fr", "en"]
    warning = next(w for w in prepared.warnings if "confidently contradicts" in w)
    assert "'re' -> 'fr' 3" in warning and "'re' -> 'en' 1" in warning
    assert not any("minor languages" in w for w in prepared.warnings)
