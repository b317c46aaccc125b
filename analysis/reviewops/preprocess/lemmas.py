"""Lemmas without a trained model: spaCy's look-up tables from spacy-lookups-data.

This is what spaCy's `lemmatizer` pipe does in "lookup" mode (`table.get(text, text)`), done
directly so that a word is looked up once per corpus instead of once per occurrence. The tables
know no part of speech, and a few of their choices hurt review vocabulary, so two languages get
small corrections:

- English maps "better"/"best" to "well" (the adverb) and "worse"/"worst" to "wrong"; reviews
  use the adjectives ("best insurance"), and "well" is a stop word, so they would vanish.
- French maps some feminine or plural past participles to a homonymous noun ("livrée" ->
  "livrée", the livery; "arrivée" -> "arrivée"); in reviews these are nearly always verbs
  ("commande livrée"), so -ée/-ées/-és forms the table leaves unchanged become the -er verb
  when the table knows that verb as a lemma. Masculine -é forms are left alone: those the
  table keeps unchanged are mostly real nouns ("marché", "côté"). Feminine participles of
  other verbs stop half-way ("reçue" -> "reçu"), so a French lemma is looked up once more
  ("reçu" -> "recevoir"). A few frequent words the table gets wrong for reviews are listed in
  _FRENCH_FIXES, found by checking ~100 frequent marketplace words: shop nouns and adjectives
  it turns into verbs ("téléphone" -> "téléphoner", "conformes" -> "conformer"), and the
  auxiliary "été", which it reads as the summer.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

_ENGLISH_FIXES: Mapping[str, str] = {
    "better": "good",
    "best": "good",
    "worse": "bad",
    "worst": "bad",
}
_FRENCH_FIXES: Mapping[str, str] = {
    "téléphone": "téléphone",
    "téléphones": "téléphone",
    "échanges": "échange",
    "contrôle": "contrôle",
    "contrôles": "contrôle",
    "démarche": "démarche",
    "démarches": "démarche",
    "conformes": "conforme",
    "été": "être",
}
_FRENCH_PARTICIPLE_ENDINGS = ("ées", "ée", "és")


class LemmaTable:
    """A language's look-up lemmatizer: `table(word, lower)` gives the lowercase lemma.

    The table is tried with the word as written first (German nouns are capitalised in it),
    then lowercased; words it does not know are their own lemma.
    """

    def __init__(self, language: str, table: Mapping[str, object]) -> None:
        self.language = language
        self._table = table

    @property
    def entries(self) -> Mapping[str, object]:
        """The table itself: form -> lemma (French: a list of candidate lemmas)."""
        return self._table

    def __call__(self, word: str, lower: str) -> str:
        found = self._lookup(word)
        if found is None and word != lower:
            found = self._lookup(lower)
        return found or lower

    def _lookup(self, word: str) -> str | None:
        found = self._table.get(word)
        # French values are lists of candidates, best first; the others are plain strings.
        if isinstance(found, list):
            found = found[0] if found else None
        return found.lower() if isinstance(found, str) and found else None


class _EnglishLemmas(LemmaTable):
    def __call__(self, word: str, lower: str) -> str:
        return _ENGLISH_FIXES.get(lower) or super().__call__(word, lower)


class _FrenchLemmas(LemmaTable):
    def __init__(self, table: Mapping[str, object], verbs: frozenset[str]) -> None:
        super().__init__("fr", table)
        self._verbs = verbs

    def __call__(self, word: str, lower: str) -> str:
        fixed = _FRENCH_FIXES.get(lower)
        if fixed is not None:
            return fixed
        lemma = super().__call__(word, lower)
        if lemma != lower:
            return self._lookup(lemma) or lemma
        for ending in _FRENCH_PARTICIPLE_ENDINGS:
            if lower.endswith(ending):
                verb = lower[: -len(ending)] + "er"
                return verb if verb in self._verbs else lemma
        return lemma


@functools.cache
def load_lemma_table(language: str) -> LemmaTable | None:
    """The look-up lemmatizer for `language`, or None when spacy-lookups-data has no table.

    Loading takes from ~0.2 s (English) to a few seconds (Turkish, 1.3M forms); the result is
    cached for the life of the process.
    """
    # Imported here: spaCy is only needed by the preprocessing stage.
    from spacy.lookups import load_lookups

    lookups = load_lookups(language, ["lemma_lookup"], strict=False)
    if not lookups.has_table("lemma_lookup") or not len(lookups.get_table("lemma_lookup")):
        return None
    table = lookups.get_table("lemma_lookup")
    if language == "en":
        return _EnglishLemmas(language, table)
    if language == "fr":
        # The -er verbs the table knows are the -er lemmas its forms point to (spaCy's own
        # French verb index lacks "passer", "recevoir", ...).
        verbs = frozenset(lemma for lemmas in table.values() for lemma in lemmas if lemma.endswith("er"))
        return _FrenchLemmas(table, verbs)
    return LemmaTable(language, table)
