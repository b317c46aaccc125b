"""Another language's function words stay out of a language's themes.

A review filed under the wrong language keeps its own stop words as terms: the English reviews
tagged French in the French bank export made a 3.9 % "and / to / the" French theme. When
several languages get themes, each language's model leaves out the other languages' function
words that its own reviews rarely write (`topics.foreign`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from reviewops.preprocess import prepare
from reviewops.preprocess.language import function_words, normalize_language
from reviewops.records import Review
from reviewops.spec import Preprocessing, Topics
from reviewops.topics.by_language import fit_topics_by_language
from reviewops.topics.foreign import foreign_words

FRENCH = ["Service au top, conseillère très claire.", "Top ! Virement reçu le jour même."] * 20
ENGLISH = ["The app is great and the support answers fast.", "Top service, the card came in two days."] * 20


def test_the_other_languages_function_words_that_reviews_rarely_write_are_foreign() -> None:
    found = foreign_words({"fr": [*FRENCH, "Very good and the best"], "en": ENGLISH})
    assert {"the", "and"} <= found["fr"]
    # "top" is an English stop word, but French reviews write it more often than English ones.
    assert "top" not in found["fr"]
    # "possible" is a French stop word and an English word: never foreign to English.
    assert "possible" in function_words("fr") and "possible" not in found["en"]
    assert foreign_words({"fr": FRENCH}) == {"fr": frozenset()}


@pytest.mark.shared_data
def test_no_french_bank_theme_is_made_of_english_function_words(shared_data: Path) -> None:
    with (shared_data / "reviews" / "fr_banks_trustpilot.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    reviews = [
        Review(
            id=str(i), text=r["Experience"], language=normalize_language(r["Language"]), company=r["Company"]
        )
        for i, r in enumerate(rows)
    ]
    prepared = prepare(reviews, Preprocessing())
    result = fit_topics_by_language(
        prepared.tokens, prepared.languages, Topics(), texts=prepared.texts, brands=prepared.brands
    )
    english = function_words("en") - function_words("fr")
    french_topics = [t for t in result.topics if t.label.endswith("[fr]")]
    assert french_topics
    for topic in french_topics:
        top = [term for term, _ in topic.terms[:8]]
        assert sum(term in english for term in top) <= 1, (topic.label, top)


def test_function_words_are_spacys_stop_words() -> None:
    from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH_STOP_WORDS
    from spacy.lang.fr.stop_words import STOP_WORDS as FRENCH_STOP_WORDS

    assert function_words("en") == {word.lower() for word in ENGLISH_STOP_WORDS}
    assert function_words("fr") == {word.lower() for word in FRENCH_STOP_WORDS}
    assert function_words("xx") == frozenset() and function_words("../en") == frozenset()
