"""Cleaning of review texts for display and analysis.

A cleaned text keeps what a reader needs (words, sentence punctuation, accents) and loses what
only adds noise to word counts: markup, HTML entities, links, e-mail addresses, emoji, runs of
punctuation and irregular whitespace. Everything here is plain `re` and runs per text, so it is
cheap enough to call on every review of a 100k corpus inside worker processes.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Tags only: "<" followed by a letter, "/" or "!" — so "<3" and "a < b" survive.
_TAG = re.compile(r"<[A-Za-z/!][^<>]{0,500}>")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Bare domains ("backmarket.com") count as links only with a common top-level domain, so that
# "e.g." or "etc." are not taken for links. _DOMAIN_HINT is a cheap test run first: the full
# pattern is by far the slowest step when run on every text.
_TLD = r"(?:com|net|org|info|biz|io|co|fr|de|es|it|nl|be|ch|eu|uk|us|ca|au)\b"
_DOMAIN_HINT = re.compile(r"\." + _TLD, re.IGNORECASE)
_URL = re.compile(r"(?:https?://|www\.)\S+|\b(?:[a-z0-9-]+\.)+" + _TLD + r"(?:/\S*)?", re.IGNORECASE)
# Pictographs, emoticons, flags, dingbats, stars, the joiners/selectors/skin tones that glue
# emoji sequences together, plus zero-width characters and byte-order marks.
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"
    "\u2600-\u27bf"
    "\u2b00-\u2bff"
    "\u2300-\u23ff"
    "\ufe0e\ufe0f\u200d\u20e3"
    "\U000e0020-\U000e007f"
    "]+"
)
_INVISIBLE = re.compile("[\u200b\u200c\u2060\ufeff]+")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]+")
_REPEATED_MARK = re.compile(r"([!?])[!?]+")
_REPEATED_SYMBOL = re.compile(r"([,;:*~=#_+-])\1+")
_SYMBOL_PAIRS = tuple(symbol * 2 for symbol in ",;:*~=#_+-")
_DOTS = re.compile(r"[.…]{2,}|…")
# Only what needs changing: runs of whitespace, and single tabs/newlines.
_WHITESPACE = re.compile(r"\s{2,}|[^\S ]")
_SPACE_BEFORE_MARK = re.compile(r" ([,.])(?= |$)")
_TITLE_END = " .…"
_SENTENCE_END = (".", "!", "?", "…", ":", ";")


def clean_text(text: str | None) -> str:
    """Return `text` without markup, entities, links, e-mails, emoji and noisy punctuation.

    Whitespace is collapsed to single spaces, runs such as "!!!" become "!", and an ellipsis
    becomes "...". Unicode is normalised to NFC so that accented words match the lemma tables
    whatever the source's encoding. `None` and blank texts give "".
    """
    if not text:
        return ""
    # Cheap substring tests guard every pattern: most reviews need only two or three of them.
    if text.isascii():
        if not text.isprintable():
            text = _CONTROL.sub("", text)
    else:
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        text = _INVISIBLE.sub("", _CONTROL.sub("", _EMOJI.sub(" ", text)))
    if "&" in text:
        # Scraped pages are sometimes escaped twice ("&amp;amp;"); a third level is not seen.
        text = html.unescape(html.unescape(text))
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "@" in text:
        text = _EMAIL.sub(" ", text)
    if "http" in text or "www." in text or _DOMAIN_HINT.search(text):
        text = _URL.sub(" ", text)
    if "!" in text or "?" in text:
        text = _REPEATED_MARK.sub(r"\1", text)
    if any(pair in text for pair in _SYMBOL_PAIRS):
        text = _REPEATED_SYMBOL.sub(r"\1", text)
    if ".." in text or "…" in text:
        text = _DOTS.sub("...", text)
    # Whitespace other than " " is never printable, so a printable text without "  " has
    # nothing for the pattern to change (the test is C-level, the pattern ~2x the cost).
    if "  " in text or not text.isprintable():
        text = _WHITESPACE.sub(" ", text)
    text = text.strip()
    # Removing a link or emoji can strand a comma or full stop ("see <link> ." -> "see .");
    # re-attach it. Spaces before "!?;:" stay: French typography wants them.
    if " ." in text or " ," in text:
        text = _SPACE_BEFORE_MARK.sub(r"\1", text)
    return text


def is_invented_title(title: str, text: str) -> bool:
    """True when `title` is only the first words of `text` (Trustpilot's "First words…").

    Both arguments must already be cleaned. The comparison ignores case and a trailing
    ellipsis or full stop on the title.
    """
    core = title.rstrip(_TITLE_END).casefold()
    if not core:
        return True
    folded = text.casefold()
    # Invented titles stop at a word boundary: "Great" is not the start of "Greatest ...".
    return folded.startswith(core) and (len(folded) == len(core) or not folded[len(core)].isalnum())


def display_text(title: str | None, text: str | None) -> str:
    """The cleaned text a reader sees: the title merged in front when it adds something.

    Titles Trustpilot invented from the first words of the text are dropped; a real title is
    joined with ". " unless it already ends a sentence.
    """
    body = clean_text(text)
    head = clean_text(title)
    if not head or is_invented_title(head, body):
        return body
    if not body:
        return head
    separator = " " if head.endswith(_SENTENCE_END) else ". "
    return f"{head}{separator}{body}"
