"""The reviewed companies' own names, found in the texts and masked before tokenization.

Left in, a brand becomes a topic of its own in a file that mixes companies (on the shared
pet-insurance reviews: "spot / pet insurance / care", 17 % of the reviews), or a phrase that
owns a topic in every model ("Healthy Paws" -> healthy_paw), which says which company a
review is about, not what it is about.

Where names come from: the spec's company name and domain, and each review's `company` (a
name such as "Hello Fresh", a domain such as "spotpetins.com", or a Trustpilot page URL such
as https://www.trustpilot.com/review/www.healthypawspetinsurance.com). Each gives a *label*,
its letters written together: the domain's first label minus "www" ("healthypawspetinsurance")
or the name's words ("hellofresh", "orangebank").

How reviewers write a label: any run of whole words whose letters, written together, spell
the label or a start of it ("Healthy Paws", "HealthyPaws", "Hello Fresh", "Bourso Bank",
"Spot"). Such a run is masked when:
- it spells the whole label (at least 2 letters): it is the name itself;
- it spells a start of the label (at least MIN_BRAND_LENGTH letters), appears at least
  MIN_BRAND_COUNT times, and either holds a word that is not a word of the corpus' languages
  ("younited", "figo": spaCy's lemma tables and stop words do not know it), or is written like
  a name: capitalised inside a sentence at least as often as in lower case. "Spot" (for
  spotpetins) and "Healthy Paws" (for healthypaws...) are; "healthy" alone in "my dog is
  healthy", "just" before "Just Eat", or "orange" in "une orange pressée", are not, so they
  stay. Sentence-initial occurrences say nothing about case and are not counted. On the
  shared French bank reviews "younited" alone is in lower case 36 times and capitalised 25
  times, "orange" alone 31 and 18 times: case alone would keep the first brand.

Masking happens on the text, not on tokens, so a brand goes whatever its lemma
(paws -> paw), no phrase spans it (the mask is a segment break), and the ordinary words of a
multi-word brand are only dropped where they spell the brand.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reviewops.preprocess.lemmas import load_lemma_table
from reviewops.sources.values import trustpilot_page_domain

MIN_BRAND_LENGTH = 4  # shorter starts ("pet" of "petsbest") are too often ordinary words
MIN_BRAND_COUNT = 3
# Stands for a masked brand: a lone mark, which the tokenizer turns into a segment break.
MASK = " | "

_DOMAIN = re.compile(r"(?<![\w.-])(?:https?://)?(?:www\.)?([a-z0-9][a-z0-9-]*)\.[a-z]{2,}(?:\.[a-z]{2,})?\b")
_NAME_WORD = re.compile(r"[^\W_]+")
_SEPARATOR = re.compile(r"[ -]")
# What may end the previous sentence right before a word that starts a new one.
_SENTENCE_END = frozenset('.!?…:;"«»()[]\n')


def domain_labels(names: Iterable[str | None]) -> set[str]:
    """'www.spotpetins.com', 'figopetinsurance.com and fetchpet.com' -> {'spotpetins', ...}.

    A Trustpilot page URL gives its company's domain, not "trustpilot".
    """
    labels: set[str] = set()
    for name in names:
        if name:
            text = trustpilot_page_domain(name) or name.lower()
            labels.update(match.replace("-", "") for match in _DOMAIN.findall(text))
    return labels


def brand_labels(names: Iterable[str | None]) -> set[str]:
    """The label of each name: its domain's (see `domain_labels`), else its words written together.

    "Hello Fresh" -> hellofresh, "Factor_" -> factor, "www.boursobank.com" -> boursobank.
    """
    labels: set[str] = set()
    for name in names:
        if not name or not name.strip():
            continue
        found = domain_labels([name])
        if found:
            labels.update(found)
            continue
        compact = "".join(_NAME_WORD.findall(name.lower()))
        if len(compact) >= 2:
            labels.add(compact)
    return labels


def _label_pattern(label: str) -> str:
    """A run of whole words spelling `label` or a start of it (at least MIN_BRAND_LENGTH letters).

    Nested optional groups try the longest spelling first and back off to a word's end.
    """
    needed = min(len(label), MIN_BRAND_LENGTH)
    sep = "[ -]?"
    tail = ""
    for char in reversed(label[needed:]):
        tail = f"(?:{sep}{re.escape(char)}{tail})?"
    head = sep.join(re.escape(char) for char in label[:needed])
    return head + tail


def _form(match: str) -> str:
    """A matched run as reviews write it, lower case, words separated by spaces."""
    return " ".join(part for part in _SEPARATOR.split(match.lower()) if part)


def _starts_sentence(text: str, start: int) -> bool:
    index = start - 1
    while index >= 0 and text[index] == " ":
        index -= 1
    return index < 0 or text[index] in _SENTENCE_END


@dataclass(slots=True)
class _Seen:
    """How often a form was written, and how: in lower case, or capitalised mid-sentence."""

    count: int = 0
    lower: int = 0
    capitalised: int = 0


@dataclass(slots=True)
class Brands:
    """The brand forms found in a corpus, and how to mask them in a text."""

    names: list[str] = field(default_factory=list)  # forms masked, lower case, sorted
    _pattern: re.Pattern[str] | None = None
    _masked: frozenset[str] = frozenset()

    def mask(self, text: str) -> str:
        """`text` with each brand form replaced by a segment break (see MASK)."""
        if self._pattern is None:
            return text
        found = (_masked_span(text, m.start(), m.end(), self._masked) for m in self._pattern.finditer(text))
        return _splice(text, [span for span in found if span])


class _Vocabulary:
    """The words spaCy knows in one language: its stop words, lemma-table forms and lemmas."""

    def __init__(self, language: str) -> None:
        # Imported here: spaCy is heavy and only needed when a shortened brand must be judged.
        from spacy.util import get_lang_class

        try:
            stops: Iterable[str] = get_lang_class(language).Defaults.stop_words
        except ImportError:  # a language spaCy does not know
            stops = ()
        # The tokenizer loads the same cached table right after; French takes seconds to load.
        table = load_lemma_table(language)
        # Its forms are stored hashed: they answer `in`, only the lemmas can be listed.
        self._forms: Mapping[str, object] = table.entries if table is not None else {}
        lemmas = {
            lemma
            for value in self._forms.values()
            for lemma in (value if isinstance(value, list) else [value])
            if isinstance(lemma, str)
        }
        self._words = frozenset(word.lower() for word in (*stops, *lemmas))

    def __bool__(self) -> bool:
        return bool(self._words)

    def __contains__(self, word: object) -> bool:
        return word in self._words or word in self._forms


@functools.cache
def _vocabulary(language: str) -> _Vocabulary:
    return _Vocabulary(language)


def preload_vocabulary(language: str) -> None:
    """Loads `language`'s vocabulary now (cached for the process), e.g. while workers work."""
    _vocabulary(language)


def _known(word: str, languages: Sequence[str]) -> bool:
    """Whether `word` is an ordinary word of one of `languages` (True when none has a vocabulary)."""
    vocabularies = [vocabulary for language in languages if (vocabulary := _vocabulary(language))]
    return not vocabularies or any(word in vocabulary for vocabulary in vocabularies)


def _written_as_brand(form: str, entry: _Seen, languages: Sequence[str]) -> bool:
    """Whether a shortened brand (a start of its label) is used as the brand's name."""
    if len(form.replace(" ", "")) < MIN_BRAND_LENGTH or entry.count < MIN_BRAND_COUNT:
        return False
    if entry.lower <= entry.capitalised:
        return True
    return not all(_known(word, languages) for word in form.split())


def mask_brands(
    labels: Iterable[str],
    texts: Sequence[str],
    languages: Sequence[str] = (),
    weights: Sequence[int] | None = None,
) -> tuple[Brands, list[str]]:
    """The forms of `labels` that `texts` write as brands, and the texts with them masked.

    `languages` are the corpus' main languages, whose vocabularies tell ordinary words (see
    the module docstring); `weights` how many reviews each text stands for (repeated texts
    are passed once). One regular-expression scan of the texts that may hold a label.
    """
    wanted = sorted({label for label in labels if len(label) >= 2}, key=lambda label: (-len(label), label))
    if not wanted:
        return Brands(), list(texts)
    source = r"(?<![^\W_])(?:" + "|".join(map(_label_pattern, wanted)) + r")(?![^\W_])"
    pattern = re.compile(source, re.IGNORECASE)
    # Matching the lowercased text without IGNORECASE is ~25 % faster; the case of a match is
    # read back from the text, at the same place when lowercasing kept the length.
    lower_pattern = re.compile(source)
    # A match spells at least a label's head, once spaces and hyphens are gone: texts without
    # any head (most of them) are passed by with a few C-level string operations.
    heads = tuple({label[:MIN_BRAND_LENGTH] for label in wanted})
    seen: dict[str, _Seen] = {}
    spans: dict[int, list[tuple[int, int, str]]] = {}
    for index, text in enumerate(texts):
        lowered = text.lower()
        squeezed = lowered.replace(" ", "").replace("-", "")
        if not any(head in squeezed for head in heads):
            continue
        same = len(lowered) == len(text)
        for match in lower_pattern.finditer(lowered) if same else pattern.finditer(text):
            written = text[match.start() : match.end()]
            form = _form(written)
            entry = seen.setdefault(form, _Seen())
            weight = weights[index] if weights is not None else 1
            entry.count += weight
            if written[:1].islower():
                entry.lower += weight
            elif not _starts_sentence(text, match.start()):
                entry.capitalised += weight
            spans.setdefault(index, []).append((match.start(), match.end(), form))
    full = set(wanted)
    masked = frozenset(
        form
        for form, entry in seen.items()
        if form.replace(" ", "") in full or _written_as_brand(form, entry, languages)
    )
    out = list(texts)
    for index, found in spans.items():
        text = texts[index]
        kept = [span for start, end, _ in found if (span := _masked_span(text, start, end, masked))]
        out[index] = _splice(text, kept)
    return Brands(sorted(masked), pattern if masked else None, masked), out


def _masked_span(text: str, start: int, end: int, masked: frozenset[str]) -> tuple[int, int] | None:
    """The longest start of the run text[start:end], in whole words, that is a masked form.

    The expression matches the longest run that spells a start of a label, which may not be a
    brand ("younited c" in "contente de younited c simple") when a shorter one is ("younited").
    """
    run = text[start:end]
    ends = [match.start() for match in _SEPARATOR.finditer(run)] + [len(run)]
    for stop in reversed(ends):
        if _form(run[:stop]) in masked:
            return start, start + stop
    return None


def _splice(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with each (start, end) span replaced by MASK."""
    if not spans:
        return text
    parts: list[str] = []
    last = 0
    for start, end in spans:
        parts.append(text[last:start])
        parts.append(MASK)
        last = end
    parts.append(text[last:])
    return "".join(parts)
