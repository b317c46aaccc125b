"""Word-by-word French -> English with Debian's FreeDict dictionary (benchmarks only).

    apt-get install -y dict-freedict-fra-eng     # files under /usr/share/dictd/

Why: the project has 11.7k real English reviews with stars and no real French training data.
A crude dictionary translation lets a model trained on the English reviews score French text,
which is a way around training on synthetic French. The product does not depend on this: the
dictionary is a Debian package, not a Python dependency, and the benchmark skips it when absent.

The dictionary has ~8.5k head words in their dictionary form only ("déçu", "livrer"), so a
word is looked up as written, then without plural / feminine endings, then as the infinitive
of an "-é(e)(s)" participle. A head word's translation is the first item of its first sense.
French negation ("ne ... pas", "n'... jamais") becomes "not" / "never" before the verb, which is
where the English model learned it. Words without a translation are kept (names, "top", "ok").
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from itertools import pairwise
from pathlib import Path

DICTIONARY = Path("/usr/share/dictd/freedict-fra-eng.dict.dz")

# Function words the dictionary lacks or translates unhelpfully (a sense list ordered by
# frequency in general text, not in reviews): what a reviewer means by them.
OVERRIDES: dict[str, str] = {
    "pas": "not",
    "ne": "",
    "n": "",
    "jamais": "never",
    "rien": "nothing",
    "aucun": "no",
    "aucune": "no",
    "sans": "without",
    "mais": "but",
    "tres": "very",
    "trop": "too",
    "tout": "all",
    "je": "i",
    "j": "i",
    "il": "it",
    "elle": "she",
    "on": "we",
    "nous": "we",
    "vous": "you",
    "ils": "they",
    "le": "the",
    "la": "the",
    "les": "the",
    "l": "the",
    "un": "a",
    "une": "a",
    "des": "some",
    "de": "of",
    "du": "of",
    "d": "of",
    "et": "and",
    "est": "is",
    "a": "has",
    "ai": "have",
    "ont": "have",
    "suis": "am",
    "sont": "are",
    "ma": "my",
    "mon": "my",
    "mes": "my",
    "ce": "this",
    "cette": "this",
    "ces": "these",
    "qui": "who",
    "que": "that",
    "qu": "that",
    "avec": "with",
    "pour": "for",
    "en": "in",
    "au": "to the",
    "aux": "to the",
    "plus": "more",
    "bien": "well",
    "bon": "good",
    "bonne": "good",
    "super": "great",
    "decu": "disappointed",
    "decue": "disappointed",
    "decevant": "disappointing",
    "recommande": "recommend",
    "satisfait": "satisfied",
    "satisfaite": "satisfied",
    "commande": "order",
    "colis": "parcel",
    "livraison": "delivery",
    "livre": "delivered",
    "recu": "received",
    "rembourse": "refunded",
    "remboursement": "refund",
    "arnaque": "scam",
    "nul": "useless",
    "moyen": "average",
    "correct": "okay",
    "parfait": "perfect",
    "rapide": "fast",
    "merci": "thanks",
    "toujours": "always",
    "encore": "still",
    "fuir": "avoid",
}
_WORD = re.compile(r"[^\W\d_]+|\d+|[^\w\s]", re.UNICODE)
_SENSE = re.compile(r"^\d+\.\s*")


def fold(word: str) -> str:
    """Lower case without accents."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def load_dictionary(path: Path = DICTIONARY) -> dict[str, str]:
    """Folded French head word -> its first English translation."""
    entries: dict[str, str] = {}
    with gzip.open(path, "rt", encoding="utf-8") as dictionary:  # dictzip reads as gzip
        lines = dictionary.read().splitlines()
    for head, body in pairwise(lines):
        if " /" not in head or "<" not in head:
            continue
        word = fold(head.split(" /", 1)[0])
        first = _SENSE.sub("", body).split(",")[0].strip()
        if word and " " not in word and first and word not in entries:
            entries[word] = first
    return entries


def _candidates(word: str) -> list[str]:
    """The word, then forms a dictionary head word may have (singular, masculine, infinitive)."""
    forms = [word]
    for end in ("s", "x", "e", "es"):
        if word.endswith(end) and len(word) > len(end) + 2:
            forms.append(word[: -len(end)])
    for end in ("ee", "ees", "es", "e"):
        if word.endswith(end) and len(word) > len(end) + 2:
            forms.append(word[: -len(end)] + "er")
    return forms


class Translator:
    """Translate French text word by word (see the module docstring)."""

    def __init__(self, path: Path = DICTIONARY) -> None:
        self.words = {**load_dictionary(path), **OVERRIDES}

    def word(self, word: str) -> str:
        """One folded word in English, or the word itself when nothing matches."""
        for form in _candidates(word):
            if form in self.words:
                return self.words[form]
        return word

    def __call__(self, text: str) -> str:
        """The text in (crude) English."""
        return " ".join(
            part
            for part in (
                self.word(tok) if tok[0].isalpha() else tok for tok in map(fold, _WORD.findall(text))
            )
            if part
        )
