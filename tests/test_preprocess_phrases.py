"""Frequent two-word phrases, scored by NPMI over the corpus."""

from __future__ import annotations

import itertools

from reviewops.preprocess.phrases import PhraseModel, learn_phrases, scaled_min_count
from reviewops.preprocess.tokens import BREAK

NOUNS = ["phone", "price", "screen", "battery", "parcel", "refund", "seller", "case"]


def _corpus() -> list[list[str]]:
    # "customer service" always together; "great" next to many different nouns.
    docs = []
    for noun, other in itertools.product(NOUNS, NOUNS):
        docs.append(["great", noun, BREAK, "customer", "service", BREAK, other, "arrive"])
    return docs


def test_a_fixed_pair_becomes_a_phrase_and_loose_pairs_do_not() -> None:
    model = learn_phrases(_corpus())
    assert ("customer", "service") in model.pairs
    assert not any(first == "great" for first, _ in model.pairs)
    joined = model.join(["great", "phone", BREAK, "customer", "service"])
    assert joined == ["great", "phone", "customer_service"]


def test_words_separated_by_a_removed_word_are_never_joined() -> None:
    docs = [["price", BREAK, "battery", "charge"]] * 50 + [["screen", "crack"]] * 50
    model = learn_phrases(docs)
    assert ("price", "battery") not in model.pairs
    assert model.join(["price", BREAK, "battery"]) == ["price", "battery"]


def test_rare_pairs_are_ignored() -> None:
    docs = [["customer", "service"]] * 4 + [["screen", "crack"]] * 4
    assert learn_phrases(docs).pairs == frozenset()
    assert learn_phrases(docs, min_count=3).pairs == {("customer", "service"), ("screen", "crack")}


def test_min_count_grows_with_the_corpus() -> None:
    assert scaled_min_count(200) == 5
    assert scaled_min_count(100_000) == 50


def test_phrases_join_left_to_right_without_overlap() -> None:
    model = PhraseModel([("a", "b"), ("b", "c")])
    assert model.join(["a", "b", "c"]) == ["a_b", "c"]
    assert model.join(["b", "c", BREAK, "a"]) == ["b_c", "a"]


def test_an_empty_corpus_has_no_phrases() -> None:
    assert learn_phrases([]).pairs == frozenset()
    assert learn_phrases([[], [BREAK]]).join([]) == []
