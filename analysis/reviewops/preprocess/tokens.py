"""From a cleaned text to its tokens: lemmas, lowercase, no stop words, punctuation or numbers.

Words are split by spaCy's tokenizer (from `spacy.blank`, no other pipe), which knows each
language's contractions and elisions ("don't" -> do + n't, "l'appli" -> l' + appli). It does
not run on whole texts, though: a regular expression cuts each text into word chunks
("don't", "l'appli", "x-rays") and single marks, and spaCy's tokenizer, then the lemma table
and the stop-word list, see each *distinct* chunk once. Building spaCy's Doc and Token objects
for every text costs more than all the rest; this way a 100k-review corpus costs one
tokenizer call per vocabulary entry, and a dictionary look-up per word. Within a chunk spaCy
sees exactly what it would see in the full text, since it splits on whitespace first and
peels punctuation off chunks the same way.

Where a stop word, number or punctuation mark was removed, the token stream holds a BREAK
marker, so that phrase detection only joins words a reviewer actually wrote side by side.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from reviewops.preprocess.lemmas import LemmaTable, load_lemma_table

# lemmas: spaCy tokenizer + look-up lemmas; words: spaCy tokenizer, lowercased words (no
# table, or lemmatize off); plain: no spaCy support at all, lowercased words as written.
Level = Literal["lemmas", "words", "plain"]

# Letters, optionally joined by an inner apostrophe or hyphen ("aujourd'hui", "e-mail").
_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")
# A chunk of letters and digits, optionally joined by inner apostrophes or hyphens, or any
# other single non-space character (a mark: a segment break). Digits stay in the chunk so
# that "2nd" or "10jours" is dropped as a number, not kept as "nd" or "jours".
_CHUNK = re.compile(r"[^\W_]+(?:['-][^\W_]+)*|\S")
# Stands where words were dropped; never a token, since tokens are made of letters.
BREAK = "|"
# Several BREAKs in a row (tokens are space-separated in an encoded text).
_BREAK_RUN = re.compile(r"\|(?: \|)+")

# Languages whose spaCy tokenizer keeps a word of letters whole unless it is a special case.
_WHOLE_WORDS = frozenset({"en", "fr"})


class _Everything:
    """A container holding every string: no word skips the tokenizer."""

    def __contains__(self, _item: object) -> bool:
        return True


_EVERYTHING = _Everything()

# What a chunk turns into: its tokens and BREAKs, usually one, more when spaCy splits it.
_Tokens = tuple[str, ...]


@functools.cache
def _blank_pipeline(language: str) -> Any:
    """spaCy's blank pipeline for `language`, or None when spaCy cannot build one here."""
    import spacy  # heavy: imported only when a text is actually tokenized

    try:
        return spacy.blank(language)
    except ImportError:
        # Unknown code, or a language whose tokenizer needs an extra library that is not
        # installed (Japanese: SudachiPy, Korean: mecab-ko, Thai: PyThaiNLP, ...).
        return None


def stopwords_for(company_name: str | None, extra: Iterable[str] = ()) -> frozenset[str]:
    """Stop words the analysis adds to spaCy's: `extra`, and the company's name words if given.

    "Back Market" gives back, market and backmarket (reviewers write it both ways). `prepare`
    passes no name: it masks brands in the text instead (see `brands`), which keeps a brand's
    words where they are used ordinarily ("healthy" of "Healthy Paws" in "my dog is healthy").
    """
    words = {word.strip().lower() for word in extra if word.strip()}
    if company_name:
        parts = [part.lower() for part in _WORD.findall(company_name)]
        words.update(parts)
        if len(parts) > 1:
            words.add("".join(parts))
    return frozenset(words)


class Analyzer:
    """Tokens of one language's texts; build one per (language, options) and reuse it."""

    def __init__(
        self,
        language: str,
        *,
        lemmatize: bool,
        extra_stopwords: frozenset[str],
        use_spacy: bool = True,
    ) -> None:
        self.language = language
        # Without spaCy nothing is loaded: worth it for a language with a handful of reviews.
        nlp = _blank_pipeline(language) if use_spacy else None
        self._table: LemmaTable | None = load_lemma_table(language) if lemmatize and nlp is not None else None
        self.level: Level = "lemmas" if self._table else "words" if nlp is not None else "plain"
        self._tokenizer = nlp.tokenizer if nlp is not None else None
        # Words of letters only that the tokenizer may split (every word in other languages).
        self._special: frozenset[str] | _Everything = (
            frozenset(nlp.tokenizer.rules) if language in _WHOLE_WORDS and nlp is not None else _EVERYTHING
        )
        stops = {word.lower() for word in nlp.Defaults.stop_words} if nlp is not None else set()
        self._stops = frozenset(stops) | extra_stopwords
        # chunk as written -> its token(s) and BREAKs joined by spaces; grows with the vocabulary.
        self._cache: dict[str, str] = {}
        # whitespace-separated piece of text -> the same for all its chunks.
        self._pieces: dict[str, str] = {}

    def tokens(self, text: str) -> list[str]:
        """The tokens of `text`."""
        return [token for token in decode(self.encode([text])[0]) if token != BREAK]

    def encode(self, texts: Sequence[str]) -> list[str]:
        """The tokens of each text, BREAK markers included, as one string (see `decode`).

        One string per text is much cheaper to send between processes than a list.
        """
        return [self._encode(text) for text in texts]

    def _encode(self, text: str) -> str:
        # _CHUNK never matches whitespace, so a text's chunks are those of its
        # whitespace-separated pieces in turn: a piece ("price!!", "don't") is resolved once
        # per corpus and then costs one C-level dict look-up; str.split is much cheaper than
        # the regular expression over the whole text.
        # spaCy's English and French rules expect the ASCII apostrophe.
        pieces = text.replace("’", "'").split()
        cache = self._pieces
        found = list(map(cache.get, pieces))
        if None in found:
            for piece in set(itertools.compress(pieces, map(operator.not_, found))):
                cache[piece] = " ".join(map(self._chunk_tokens, _CHUNK.findall(piece)))
            found = list(map(cache.__getitem__, pieces))
        # Tokens are letters, so a BREAK is a lone "|": runs become one, none at either end.
        joined = _BREAK_RUN.sub(BREAK, " ".join(found))  # type: ignore[arg-type]
        if joined.startswith(BREAK):
            joined = joined[2:]
        if joined.endswith(BREAK):
            joined = joined[:-2]
        return joined

    def piece_tokens(self, piece: str) -> list[str]:
        """The tokens and BREAKs of one whitespace-free piece of text, as `encode` finds them.

        Not cached here: its caller keeps what it needs of the answer (see `numbering`).
        """
        found = self._pieces.get(piece)
        if found is None:
            found = " ".join(map(self._chunk_tokens, _CHUNK.findall(piece)))
        return found.split(" ")

    def _chunk_tokens(self, chunk: str) -> str:
        """A chunk's tokens and BREAKs, joined by spaces (cached)."""
        found = self._cache.get(chunk)
        if found is None:
            found = self._cache[chunk] = " ".join(self._resolve(chunk))
        return found

    def _resolve(self, chunk: str) -> _Tokens:
        if self._tokenizer is None or len(chunk) == 1 or self._compound(chunk):
            return (self._token(chunk),)
        if chunk.isalpha() and chunk not in self._special:
            # spaCy's English and French rules split a word of letters only through a special
            # case (tokenizer exceptions: "cannot", "gonna"): checked on 1.2M word forms of
            # spacy-lookups-data, every other one stays whole. Calling the tokenizer, which
            # builds a Doc per chunk, was most of the cost of a corpus' first pass.
            return (self._token(chunk),)
        return tuple(self._token(token.text) for token in self._tokenizer(chunk))

    def _compound(self, chunk: str) -> bool:
        # "pre-existing", "user-friendly", "e-mail" stay one word (spaCy would split them and
        # "pre" / "existing" say less apart); verb-pronoun forms ("pouvez-vous", "est-ce") and
        # "follow-up" are split as usual, since one of their parts is a stop word.
        return (
            "-" in chunk
            and bool(_WORD.fullmatch(chunk))
            and not any(part.lower() in self._stops for part in chunk.split("-"))
        )

    def _token(self, word: str) -> str:
        """The word's token, or BREAK when it is dropped."""
        lower = word.lower()
        if len(lower) < 2 or lower in self._stops or not _WORD.fullmatch(lower):
            return BREAK
        if self._table is None:
            return lower
        lemma = self._table(word, lower)
        # A lemma can be a stop word when the word is not ("having" -> "have").
        if lemma != lower and (len(lemma) < 2 or lemma in self._stops or not _WORD.fullmatch(lemma)):
            return BREAK
        return lemma


def decode(encoded: str) -> list[str]:
    """Tokens, BREAK markers included, back from `Analyzer.encode`'s string."""
    return encoded.split(" ") if encoded else []


@functools.cache
def analyzer(
    language: str, lemmatize: bool, extra_stopwords: frozenset[str], use_spacy: bool = True
) -> Analyzer:
    """A shared Analyzer per process, so its word cache serves every batch of a corpus."""
    return Analyzer(language, lemmatize=lemmatize, extra_stopwords=extra_stopwords, use_spacy=use_spacy)
