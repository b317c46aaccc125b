"""Theme labels as short phrases reviewers wrote ("waiting period", "carte bloquée"), not lemmas.

Three lemmas such as "deny / tell / month" make a reader guess the subject; the words the
reviews themselves use side by side name it. A label phrase is a run of 1-4 words read from
the reviews' cleaned texts, inside one clause (punctuation ends a run), that starts and ends
with a content word, holds at most two stop words, and whose content words are all terms the
topic model kept (their lemma is in its vocabulary). Brand names are pruned from the model's
vocabulary, so they never make a label; `brands` is checked as well, for words a brand shares
with the language. Each phrase is counted once per review.

A group of reviews (a theme, or a sub-theme) is labelled by its phrases' relevance:
coverage x log(lift) ** LIFT_POWER, coverage being the share of the group's reviews that
write the phrase and lift how much more often they do than the reference reviews (the whole corpus for a
theme, the parent theme for a sub-theme, so that sibling sub-themes get distinct labels).
Phrases of several content words get a bonus: "pre-existing condition" names more than
"condition". Forms of a lemma count as one phrase, and so do words derived from a shorter
one ("cancellation", "cancelled" and "cancel": stem_words), shown as reviewers most often
wrote them. bare_word tells, from spaCy's lemma index (parts of speech without a parser),
the one-word phrases that name no subject: inflected verbs and adverbs ("decided",
"promptly"); topics.naming weighs them down. Phrases are counted on at most MAX_DOCUMENTS
reviews (a seeded sample), which bounds the cost at 100k reviews; the counts are sparse
matrices, grouped by one product.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from reviewops.preprocess.lemmas import LemmaTable, load_lemma_table

MAX_WORDS = 4
# A derived word counts as the word it extends from this many letters ("cancel"+"lation").
MIN_STEM = 5
MAX_STOP_WORDS = 2
# Reviews read for phrases: a sub-theme of 1 % shows ~100 of them; measured ~2 s at 10k.
MAX_DOCUMENTS = 10_000
# A label phrase is written by at least this share of the group's reviews (and 3 of them).
MIN_COVERAGE = 0.03
MIN_COUNT = 3
# Lift below this says the phrase is as common elsewhere: it names nothing particular.
MIN_LIFT = 1.2
# Lift counts twice: with coverage x log(lift) words of the trade that a tenth of all the
# reviews use ("vet", "paid") named the pet-insurance denials theme before "denied" did.
LIFT_POWER = 2.0
# Score bonus per content word beyond the first.
LENGTH_BONUS = 1.5
# Score factor of phrases made only of generic words ("great service") outside the
# general-praise theme: a specific subject, when there is one, names the theme better.
GENERIC_FACTOR = 0.3

# A phrase read as cut off (PhraseCounts.cut): this share of the reviews writing it go on
# with one same word, among at least this many reviews. Measured on the pet-insurance reviews:
# "easy to work" (with) 0.98, "easy to sign" (up) 0.96; whole phrases at most 0.27 ("easy to
# use" and), Cdiscount's "avis négatifs" (sur) 0.42. Only stop words count as the next word:
# a content word makes a longer phrase ("rapport qualité prix"), a candidate label itself,
# except after a phrase of MAX_WORDS words, which cannot grow.
CUT_SHARE = 0.75
CUT_MIN_REVIEWS = 5

# Forms of "have" that make a perfect tense (see dangling_flags).
_PERFECT_AUXILIARIES = {
    "en": frozenset({"has", "have", "had", "'ve"}),
    "fr": frozenset({"ai", "as", "a", "avons", "avez", "ont", "avait", "avais", "avaient", "aurait"}),
    "de": frozenset({"habe", "hast", "hat", "haben", "habt", "hatte", "hatten"}),
    "es": frozenset({"he", "has", "ha", "hemos", "habéis", "han", "había"}),
    "it": frozenset({"ho", "hai", "ha", "abbiamo", "avete", "hanno", "aveva"}),
}
# Infinitive endings of the languages whose verb index is incomplete.
_INFINITIVES = {"fr": ("er", "ir", "oir", "re")}
# Plural endings (English, French, Spanish, ...): "claims" is the noun, not "he claims".
_PLURALS = ("s", "es", "x")
# A word (letters, inner apostrophes or hyphens), or any other visible mark: a clause break.
_CHUNK = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*|\S")
# French and Italian elisions ("l'appli", "d'attente") are a stop word glued to a word.
_ELISION = re.compile(r"^([^\W\d_]{1,2}|qu)['’](?=[^\W\d_])", re.IGNORECASE)


@functools.cache
def stop_words(language: str | None) -> frozenset[str]:
    """spaCy's stop words for `language` (empty when spaCy has none), lowercase."""
    if not language:
        return frozenset()
    try:
        from spacy.util import get_lang_class

        words: Collection[str] = get_lang_class(language).Defaults.stop_words
    except (ImportError, KeyError, AttributeError):
        return frozenset()
    return frozenset(word.lower() for word in words)


@dataclass(slots=True)
class PhraseCounts:
    """Which phrase each sampled review writes: rows are `rows` (review indexes), columns `phrases`."""

    matrix: sparse.csr_matrix  # sampled reviews x phrases, 1 where the review writes it
    rows: NDArray[np.int64]
    phrases: list[str]  # display form: the most common way reviewers wrote it, lowercase
    content: list[frozenset[str]]  # each phrase's content lemmas
    heads: list[str]  # each phrase's last lemma
    # True for a phrase that reads cut off: most reviews writing it go on with the same word
    # ("colis reçu au bout" + "de"; see count_phrases). None: not measured.
    cut: NDArray[np.bool_] | None = None

    def group_counts(self, groups: NDArray[np.int64], n_groups: int) -> NDArray[np.float64]:
        """(groups x phrases) review counts; `groups` gives each review's group, -1 for none."""
        of_rows = groups[self.rows]
        keep = np.flatnonzero(of_rows >= 0)
        member = sparse.csr_matrix(
            (np.ones(keep.size), (of_rows[keep], keep)), shape=(n_groups, len(self.rows))
        )
        return np.asarray((member @ self.matrix).todense(), dtype=np.float64)

    def group_sizes(self, groups: NDArray[np.int64], n_groups: int) -> NDArray[np.float64]:
        """Sampled reviews per group."""
        of_rows = groups[self.rows]
        return np.bincount(of_rows[of_rows >= 0], minlength=n_groups).astype(np.float64)


class _Reader:
    """Splits texts into clauses of (word, lemma) and finds each clause's candidate phrases."""

    def __init__(self, language: str | None, vocabulary: Collection[str], brands: Collection[str]) -> None:
        self._stops = stop_words(language)
        self._table: LemmaTable | None = load_lemma_table(language) if language else None
        self._terms = {part for term in vocabulary for part in term.split("_")}
        self._brand_words = {word for brand in brands for word in brand.lower().split()}
        # word as written -> (lowercase word, lemma, kind): 0 stop word, 1 usable, 2 unusable
        self._words: dict[str, tuple[str, str, int]] = {}
        self._chunks: dict[str, tuple[tuple[str, str, int], ...]] = {}
        self.lemmas: dict[str, str] = {}  # lowercase word -> lemma

    def _word(self, word: str) -> tuple[str, str, int]:
        known = self._words.get(word)
        if known is None:
            lower = word.lower().replace("’", "'")
            lemma = self._table(word, lower) if self._table is not None else lower
            if lower in self._stops:
                kind = 0
            elif lower in self._brand_words or lemma in self._brand_words:
                kind = 2
            else:
                kind = 1 if lemma in self._terms or lower in self._terms else 2
            known = self._words[word] = (lower, lemma, kind)
            self.lemmas[lower] = lemma
        return known

    def _chunk(self, chunk: str) -> tuple[tuple[str, str, int], ...]:
        """The word(s) of a chunk: an elided article and its word are two."""
        known = self._chunks.get(chunk)
        if known is None:
            elided = _ELISION.match(chunk) if "'" in chunk or "’" in chunk else None
            if elided:
                known = (self._word(elided.group(0)[:-1]), self._word(chunk[elided.end() :]))
            else:
                known = (self._word(chunk),)
            self._chunks[chunk] = known
        return known

    def clauses(self, text: str) -> list[list[tuple[str, str, int]]]:
        clauses: list[list[tuple[str, str, int]]] = [[]]
        for chunk in _CHUNK.findall(text):
            if not chunk[0].isalpha():
                if clauses[-1]:
                    clauses.append([])
                continue
            clauses[-1].extend(self._chunk(chunk))
        return [clause for clause in clauses if clause]

    @staticmethod
    def phrases(
        clause: list[tuple[str, str, int]],
        found: set[str],
        followed: set[tuple[str, tuple[str, str, int]]] | None = None,
    ) -> None:
        """Adds to `found` every phrase of the clause, its words as written (lowercase), and to
        `followed` each phrase of several words with the word that follows it in the clause
        (as the clause holds it: written, lemma, kind)."""
        size = len(clause)
        for start in range(size):
            if clause[start][2] != 1:
                continue
            found.add(clause[start][0])
            stops = 0
            for end in range(start + 1, min(start + MAX_WORDS, size)):
                end_kind = clause[end][2]
                if end_kind == 2:
                    break
                if end_kind == 0:
                    stops += 1
                    if stops > MAX_STOP_WORDS:
                        break
                    continue
                phrase = " ".join(w[0] for w in clause[start : end + 1])
                found.add(phrase)
                if followed is not None and end + 1 < size:
                    followed.add((phrase, clause[end + 1]))


def count_phrases(
    texts: Sequence[str],
    rows: NDArray[np.int64],
    *,
    language: str | None,
    vocabulary: Collection[str],
    brands: Collection[str] = (),
    seed: int = 0,
) -> PhraseCounts:
    """Phrases written by the reviews texts[i], i in `rows` (at most MAX_DOCUMENTS of them).

    Phrases are counted as written, then forms of the same lemmas ("claim denied", "claims
    denied") are merged into one phrase shown in its most common form.
    """
    if len(rows) > MAX_DOCUMENTS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=MAX_DOCUMENTS, replace=False))
    reader = _Reader(language, vocabulary, brands)
    ids: dict[str, int] = {}
    indptr = [0]
    indices: list[int] = []
    followers: Counter[tuple[str, tuple[str, str, int]]] = Counter()
    for row in rows.tolist():
        found: set[str] = set()
        followed: set[tuple[str, tuple[str, str, int]]] = set()
        for clause in reader.clauses(texts[row]):
            reader.phrases(clause, found, followed)
        # sorted: phrase ids, and so ties between equal scores, must not follow the set's
        # order, which changes from one process to the next (string hashing is randomised)
        indices.extend(ids.setdefault(form, len(ids)) for form in sorted(found))
        indptr.append(len(indices))
        followers.update(followed)
    by_form = sparse.csr_matrix(
        (np.ones(len(indices)), np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
        shape=(len(rows), len(ids)),
    )
    counts = _merge_forms(
        by_form, list(ids), reader.lemmas, stop_words(language), np.asarray(rows, dtype=np.int64)
    )
    counts.cut = _cut_flags(counts, by_form, ids, followers)
    return counts


def _cut_flags(
    counts: PhraseCounts,
    by_form: sparse.csr_matrix,
    ids: dict[str, int],
    followers: Counter[tuple[str, tuple[str, str, int]]],
) -> NDArray[np.bool_]:
    """Which phrases (in their shown form) read cut off: written by CUT_MIN_REVIEWS reviews or
    more, CUT_SHARE of which go on with one same word. The "completeness" test of phrase
    mining: a phrase nearly always extended is part of a longer one ("easy to work" of "easy
    to work with"). A content word that follows makes a longer phrase, which competes as a
    label itself, so it makes the phrase cut only when that longer one is cut too or could
    not be a phrase (over MAX_WORDS words): "phone that works like" + "new" + ... ."""
    frequency = np.asarray(by_form.sum(axis=0)).ravel()
    most: dict[str, tuple[int, str, bool]] = {}
    for (phrase, (word, _, kind)), n in followers.items():
        if n > most.get(phrase, (0, "", False))[0]:
            most[phrase] = (n, word, kind == 0)
    cut: dict[str, bool] = {}
    # longest first: whether a phrase is cut can depend on its one-word-longer extension
    for phrase in sorted(most, key=lambda p: -p.count(" ")):
        n, word, stop = most[phrase]
        written = frequency[ids[phrase]]
        longer = f"{phrase} {word}"
        cut[phrase] = bool(
            written >= CUT_MIN_REVIEWS
            and n >= CUT_SHARE * written
            and (stop or phrase.count(" ") + 1 >= MAX_WORDS or cut.get(longer, False))
        )
    return np.asarray([cut.get(shown, False) for shown in counts.phrases], dtype=np.bool_)


def _merge_forms(
    by_form: sparse.csr_matrix,
    forms: list[str],
    lemmas: dict[str, str],
    stops: frozenset[str],
    rows: NDArray[np.int64],
) -> PhraseCounts:
    """One column per lemma sequence: a review writes it when it writes any of its forms.
    A lemma that extends another one ("cancellation", "cancel") counts as the shorter one."""
    stem = stem_words(set(lemmas.values()) - stops)
    canonical = {word: stem.get(lemma, lemma) for word, lemma in lemmas.items()}
    keys: dict[tuple[str, ...], int] = {}
    column = np.asarray(
        [keys.setdefault(tuple(map(canonical.__getitem__, form.split(" "))), len(keys)) for form in forms],
        dtype=np.int64,
    )
    merge = sparse.csr_matrix(
        (np.ones(len(forms)), (np.arange(len(forms)), column)), shape=(len(forms), len(keys))
    )
    matrix = sparse.csr_matrix(by_form @ merge)
    matrix.data[:] = 1.0
    frequency = np.asarray(by_form.sum(axis=0)).ravel()
    shown: list[str] = [""] * len(keys)
    best = np.full(len(keys), -1.0)
    # the most common form; ties go to the alphabetically first, for determinism
    for form_id in sorted(range(len(forms)), key=forms.__getitem__):
        key = column[form_id]
        if frequency[form_id] > best[key]:
            best[key], shown[key] = frequency[form_id], forms[form_id]
    return PhraseCounts(
        matrix=matrix,
        rows=rows,
        phrases=shown,
        content=[frozenset(lemma for lemma in key if lemma not in stops) for key in keys],
        heads=[key[-1] for key in keys],
    )


def stem_words(lemmas: set[str]) -> dict[str, str]:
    """lemma -> the shortest other lemma of at least MIN_STEM letters it starts with
    ("cancellation" -> "cancel", "reimbursement" -> "reimburse"): the lemma table lists
    derived words as lemmas of their own, and a label should count them together."""
    stems: dict[str, str] = {}
    for lemma in lemmas:
        for end in range(MIN_STEM, len(lemma)):
            if lemma[:end] in lemmas:
                stems[lemma] = lemma[:end]
                break
    return stems


def phrase_scores(
    counts: NDArray[np.float64],
    size: float,
    reference: NDArray[np.float64],
    reference_size: float | int,
    n_content: NDArray[np.float64],
    factors: NDArray[np.float64],
    lift_power: float = LIFT_POWER,
) -> NDArray[np.float64]:
    """Relevance of every phrase to a group (see the module docstring); -inf when unusable."""
    if size <= 0 or reference_size <= 0:
        return np.full(counts.shape, -np.inf)
    coverage = counts / size
    rate = (reference + 1.0) / (reference_size + 1.0)  # smoothed: a phrase only this group writes
    lift = coverage / rate
    usable = (counts >= max(MIN_COUNT, MIN_COVERAGE * size)) & (lift >= MIN_LIFT)
    score = coverage * np.log(np.maximum(lift, 1.0)) ** lift_power * (1.0 + LENGTH_BONUS * (n_content - 1.0))
    return np.where(usable, score * factors, -np.inf)


def content_sizes(counts: PhraseCounts) -> NDArray[np.float64]:
    """Content words per phrase."""
    return np.asarray([max(1, len(c)) for c in counts.content], dtype=np.float64)


def generic_flags(counts: PhraseCounts, generic: Collection[str]) -> NDArray[np.bool_]:
    """True for the phrases whose content lemmas are all generic words."""
    return np.asarray([bool(c) and c.issubset(generic) for c in counts.content], dtype=np.bool_)


@functools.cache
def parts_of_speech(language: str | None) -> dict[str, frozenset[str]]:
    """spaCy's lemma index for `language` ("noun", "verb", "adj", "adv" -> the words it
    lists), empty when spacy-lookups-data has none. It knows no context, so it only tells
    which parts of speech a word can be."""
    if not language:
        return {}
    try:
        from spacy.lookups import load_lookups

        lookups = load_lookups(language, ["lemma_index"], strict=False)
    except (ImportError, ValueError, OSError):
        return {}
    if not lookups.has_table("lemma_index"):
        return {}
    table = lookups.get_table("lemma_index")
    return {pos: frozenset(table.get(pos, ())) for pos in ("noun", "verb", "adj", "adv")}


def bare_word(word: str, lemma: str, pos: dict[str, frozenset[str]], language: str | None) -> bool:
    """True for a word that names nothing on its own: an inflected verb ("decided", "joined",
    "annulée") or an adverb ("promptly", "rapidement"). A form the index also lists as a noun
    ("waiting") or the plural of a noun ("claims") is kept. French verbs the index lacks
    ("recevoir") are known by their infinitive ending."""
    if not pos:
        return False
    plural = lemma in pos["noun"] and word.startswith(lemma) and word[len(lemma) :] in _PLURALS
    if word in pos["noun"] or plural:
        return False
    if word in pos["adv"] and word not in pos["adj"]:
        return True
    infinitive = language in _INFINITIVES and lemma.endswith(_INFINITIVES[language])
    return word != lemma and (lemma in pos["verb"] or (infinitive and lemma not in pos["noun"]))


def bare_flags(counts: PhraseCounts, language: str | None) -> NDArray[np.bool_]:
    """True for the one-word phrases that are a bare verb form or adverb (bare_word)."""
    pos = parts_of_speech(language)
    return np.asarray(
        [
            " " not in phrase and bare_word(phrase, head, pos, language)
            for phrase, head in zip(counts.phrases, counts.heads, strict=True)
        ],
        dtype=np.bool_,
    )


def dangling_flags(counts: PhraseCounts, language: str | None) -> NDArray[np.bool_]:
    """True for the phrases of several words that end on the word after a "have" auxiliary:
    "colis a mis" (... ten days), "code promo a rendu" (... the price higher), "have
    received". A perfect tense with "have" mostly takes an object, cut off here, so as a
    label the phrase reads unfinished. Also true for the phrases that most of their reviews
    extend with one same word (PhraseCounts.cut): "colis reçu au bout" (de ...)."""
    auxiliaries = _PERFECT_AUXILIARIES.get(language or "", frozenset())
    flags = [len(words) > 2 and words[-2] in auxiliaries for words in (p.split(" ") for p in counts.phrases)]
    after_auxiliary = np.asarray(flags, dtype=np.bool_)
    return after_auxiliary if counts.cut is None else after_auxiliary | counts.cut
