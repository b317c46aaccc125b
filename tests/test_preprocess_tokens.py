"""Tokens: lemmas from spaCy's look-up tables, stop words, company name, offline."""

from __future__ import annotations

import pytest

from reviewops.preprocess.tokens import BREAK, Analyzer, decode, stopwords_for


@pytest.fixture(scope="module")
def english() -> Analyzer:
    return Analyzer("en", lemmatize=True, extra_stopwords=stopwords_for("Back Market"))


@pytest.fixture(scope="module")
def french() -> Analyzer:
    return Analyzer("fr", lemmatize=True, extra_stopwords=stopwords_for("Back Market"))


def test_english_words_become_lemmas(english: Analyzer) -> None:
    assert english.level == "lemmas"
    assert english.tokens("The batteries were delivered yesterday") == [
        "battery",
        "deliver",
        "yesterday",
    ]


def test_english_stop_words_are_dropped_as_words_and_as_lemmas(english: Analyzer) -> None:
    assert english.tokens("It was fine") == ["fine"]  # "was" -> "be", a stop word either way


def test_english_superlatives_keep_their_meaning(english: Analyzer) -> None:
    # The table says best -> well (a stop word); reviews mean the adjective.
    assert english.tokens("Best insurance, worst claims") == ["good", "insurance", "bad", "claim"]


def test_french_words_become_lemmas(french: Analyzer) -> None:
    assert french.level == "lemmas"
    assert french.tokens("Commande livrée, batteries neuves") == [
        "commande",
        "livrer",
        "batterie",
        "neuf",
    ]


def test_french_table_slips_are_corrected(french: Analyzer) -> None:
    assert french.tokens("Les téléphones reçus étaient conformes") == [
        "téléphone",
        "recevoir",
        "conforme",
    ]
    assert french.tokens("Commande reçue, j'ai été remboursée") == ["commande", "recevoir", "rembourser"]


def test_company_name_is_not_a_topic(english: Analyzer) -> None:
    tokens = english.tokens("Back Market sold me a phone; BackMarket support was slow")
    assert tokens == ["sell", "phone", "support", "slow"]


def test_extra_stop_words_also_catch_inflections() -> None:
    analyzer = Analyzer("en", lemmatize=True, extra_stopwords=stopwords_for(None, ["Phone"]))
    assert analyzer.tokens("Two phones and a phone case") == ["case"]


def test_punctuation_numbers_and_single_letters_are_dropped(english: Analyzer) -> None:
    assert english.tokens("I paid $250 for 2 phones!!! A+ x ... 3rd time") == ["pay", "phone", "time"]


def test_contractions_and_elisions_are_split(english: Analyzer, french: Analyzer) -> None:
    assert english.tokens("I don’t think it's broken") == ["think", "break"]
    assert french.tokens("L'appli n'a jamais marché") == ["appli", "jamais", "marché"]


def test_words_are_kept_as_written_when_lemmatize_is_off() -> None:
    analyzer = Analyzer("en", lemmatize=False, extra_stopwords=frozenset())
    assert analyzer.level == "words"
    assert analyzer.tokens("The Batteries were DELIVERED") == ["batteries", "delivered"]


def test_removed_words_leave_a_break_between_their_neighbours(english: Analyzer) -> None:
    assert decode(english.encode(["customer service, price of the battery"])[0]) == [
        "customer",
        "service",
        BREAK,
        "price",
        BREAK,
        "battery",
    ]


def test_empty_text_has_no_tokens(english: Analyzer) -> None:
    assert english.tokens("") == []
    assert english.tokens(" ... !!! 42 ") == []


def test_lemmas_match_spacys_own_lookup_lemmatizer(english: Analyzer) -> None:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"}).initialize()
    text = "the claims were processed quickly and the vets received their payments after surgeries"
    expected = [t.lemma_ for t in nlp(text) if not t.is_stop and not nlp.vocab[t.lemma_].is_stop]
    assert english.tokens(text) == expected


def test_a_language_spacy_cannot_tokenize_falls_back_to_plain_words() -> None:
    analyzer = Analyzer("ja", lemmatize=True, extra_stopwords=frozenset())
    assert analyzer.level == "plain"
    assert analyzer.tokens("配送が速い。とても良い！ OK") == ["配送が速い", "とても良い", "ok"]


def test_a_language_without_lemma_table_gives_words() -> None:
    analyzer = Analyzer("zh", lemmatize=True, extra_stopwords=frozenset())
    assert analyzer.level == "words"


def test_company_name_gives_its_words_and_their_concatenation() -> None:
    assert stopwords_for("Back Market", ["  Refurb "]) == {"back", "market", "backmarket", "refurb"}
    assert stopwords_for(None) == frozenset()
