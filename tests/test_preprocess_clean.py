"""Cleaning review texts: what a reader sees, without markup, links, emoji or noise."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewops.preprocess.clean import clean_text, display_text


def test_html_entities_are_decoded_and_tags_removed() -> None:
    raw = "<p>Fast &amp; cheap<br/>delivery &lt;3 &quot;top&quot;</p>"
    assert clean_text(raw) == 'Fast & cheap delivery <3 "top"'


def test_doubly_escaped_entities_are_decoded() -> None:
    assert clean_text("Tom &amp;amp; Jerry") == "Tom & Jerry"


def test_links_and_email_addresses_are_removed() -> None:
    raw = "Write to help@shop.com or see https://www.shop.com/faq?id=3 and backmarket.fr, thanks"
    assert clean_text(raw) == "Write to or see and, thanks"


def test_abbreviations_are_not_mistaken_for_links() -> None:
    assert clean_text("e.g. the vet, etc. was fine") == "e.g. the vet, etc. was fine"


def test_emoji_are_removed_with_their_modifiers() -> None:
    cleaned = clean_text("Great 👍🏽 service ❤️ 🇫🇷 ⭐⭐⭐⭐⭐")
    assert cleaned == "Great service"


def test_runs_of_punctuation_are_collapsed() -> None:
    assert clean_text("Wow!!!! Really??? ok..... fine!?!?") == "Wow! Really? ok... fine!"


def test_whitespace_and_invisible_characters_are_normalised() -> None:
    assert clean_text("  a\n\n b\t c\u00a0d\u200b e  ") == "a b c d e"


def test_accents_are_composed_so_they_match_the_lemma_tables() -> None:
    decomposed = "Cafe\u0301 cre\u0300me"
    assert clean_text(decomposed) == "Café crème"


@pytest.mark.parametrize("raw", [None, "", "   \n\t", "👍👍", "https://example.com/x"])
def test_nothing_left_gives_an_empty_text(raw: str | None) -> None:
    assert clean_text(raw) == ""


def test_invented_title_is_not_repeated() -> None:
    text = "I have never before had insurance for any of my pets."
    assert display_text("I have never before had insurance for…", text) == text
    assert display_text("I have never before had insurance for...", text) == text
    assert display_text("I have never before had insurance", text) == text


def test_a_real_title_is_merged_in_front() -> None:
    assert display_text("Terrible experience", "My dog had surgery.") == (
        "Terrible experience. My dog had surgery."
    )
    assert display_text("Love it!", "Works well.") == "Love it! Works well."


def test_a_title_is_invented_only_up_to_a_word_boundary() -> None:
    assert display_text("Great", "Greatest insurer ever") == "Great. Greatest insurer ever"


def test_title_alone_or_missing() -> None:
    assert display_text("Top", "") == "Top"
    assert display_text(None, "Fine &amp; fast") == "Fine & fast"


def _unguarded(text: str) -> str:
    """clean_text with every pattern applied to every text (what its cheap tests skip)."""
    import html
    import unicodedata

    from reviewops.preprocess import clean

    text = unicodedata.normalize("NFC", text)
    text = clean._INVISIBLE.sub("", clean._CONTROL.sub("", clean._EMOJI.sub(" ", text)))
    text = html.unescape(html.unescape(text))
    for pattern, replacement in (
        (clean._TAG, " "),
        (clean._EMAIL, " "),
        (clean._URL, " "),
        (clean._REPEATED_MARK, r"\1"),
        (clean._REPEATED_SYMBOL, r"\1"),
        (clean._DOTS, "..."),
        (clean._WHITESPACE, " "),
    ):
        text = pattern.sub(replacement, text)
    return clean._SPACE_BEFORE_MARK.sub(r"\1", text.strip())


# Every whitespace character that Python's \s knows, doubled symbols, marks, markup, links,
# e-mails, entities, emoji, accents and letters.
_PIECES = st.sampled_from(
    [
        *" \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2009\u2028\u3000\u200b\x00",
        *",;:*~=#_+-!?.…",
        "&amp;",
        "&amp;amp;",
        "<b>",
        "a@b.com",
        "http://x.fr/y",
        "shop.com",
        "👍🏽",
        "e\u0301",
        "é",
        "ab",
        "Z",
    ]
)


@given(st.lists(_PIECES, max_size=30).map("".join))
@settings(max_examples=500, deadline=None)
def test_the_cheap_tests_skip_only_patterns_that_would_change_nothing(text: str) -> None:
    assert clean_text(text) == _unguarded(text)
