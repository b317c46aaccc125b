"""Language of each review: the bundled fastText model, offline, and what to do when unsure."""

from __future__ import annotations

import socket

import pytest

from reviewops.preprocess import language
from reviewops.preprocess.language import (
    Guess,
    guess_language,
    normalize_language,
    resolve_languages,
)

FRENCH = [
    "La livraison a pris trois semaines et le service client ne répond jamais.",
    "Commande reçue en parfait état, je recommande ce vendeur sans hésiter.",
    "Le téléphone reconditionné fonctionne très bien mais la batterie tient peu.",
]
ENGLISH = [
    "The parcel arrived two weeks late and nobody answered my emails.",
    "Great prices and the phone works like new, I will order again.",
    "The refund took a month and the support team kept asking the same questions.",
]


@pytest.mark.parametrize(
    ("code", "expected"),
    [("en", "en"), ("EN", "en"), ("fr-FR", "fr"), ("pt_BR", "pt"), ("", None), (None, None), ("12", None)],
)
def test_language_tags_are_normalised(code: str | None, expected: str | None) -> None:
    assert normalize_language(code) == expected


@pytest.mark.parametrize(("text", "expected"), [(t, "fr") for t in FRENCH] + [(t, "en") for t in ENGLISH])
def test_short_french_and_english_reviews_are_recognised(text: str, expected: str) -> None:
    guess = guess_language(text)
    assert guess.best is not None and guess.best[0] == expected
    assert guess.sure


def test_a_text_without_letters_has_no_guess() -> None:
    assert guess_language("10/10 !!! 5*").best is None


def test_detection_works_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise OSError("network access attempted during language detection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    language._detector.cache_clear()  # load the model again, now with the network cut
    best = guess_language(ENGLISH[0]).best
    assert best is not None and best[0] == "en"


def test_short_texts_take_the_corpus_language() -> None:
    observed = [guess_language(text) for text in [*FRENCH, "Top", "Nickel", "Super"]]
    choice = resolve_languages(observed)
    assert choice.languages == ["fr"] * 6
    assert choice.main == ["fr"]


def test_a_short_text_confidently_misread_stays_in_the_corpus_language() -> None:
    # The lite model reads "Easy! Easy!" as Spanish at 0.93.
    observed = [guess_language(text) for text in [*ENGLISH, "Easy! Easy!"]]
    assert resolve_languages(observed).languages[-1] == "en"


def test_a_long_review_in_another_language_keeps_it() -> None:
    german = "Die Lieferung kam schnell und das Handy funktioniert einwandfrei, sehr zu empfehlen."
    observed = [guess_language(text) for text in [*ENGLISH, german]]
    assert resolve_languages(observed, ["en"]).languages[-1] == "de"


def test_japanese_length_is_counted_without_spaces() -> None:
    guess = guess_language("配送がとても速くて、商品も説明どおりでした。また利用したいです。")
    assert guess.best is not None and guess.best[0] == "ja"
    assert guess.sure


def test_given_languages_are_kept_and_count_for_the_corpus() -> None:
    choice = resolve_languages(["de", "de", Guess(())])
    assert choice.languages == ["de", "de", "de"]
    assert choice.undetermined == 1


def test_undetectable_texts_fall_back_to_the_expected_language() -> None:
    choice = resolve_languages([Guess(()), Guess(())], expected=["fr", "en"])
    assert choice.languages == ["fr", "fr"]
    assert (choice.fallback, choice.undetermined) == ("fr", 2)


def test_an_empty_corpus_defaults_to_english() -> None:
    assert resolve_languages([Guess(())]).languages == ["en"]
