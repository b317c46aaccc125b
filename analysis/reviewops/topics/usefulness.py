"""Is a topic result useful to the person reading it? Figures a customer-experience manager notices.

Coherence and diversity say whether topics are statistically sound; they do not say whether a
manager can act on them. On real reviews a model can score well and still put half of the
reviews in one "good / company / dog" topic. These figures look at what the report shows:

Figures are about the broad themes (TopicResult.themes()), the level a reader scans first:

- largest_share: share of all reviews in the biggest theme other than general praise (a
  catch-all makes it large; the general-praise theme is large by design and reported apart
  as praise_share);
- assigned_share: share of reviews that got a topic at all;
- generic_labels: labels led or dominated by words that say nothing about a subject
  ("great", "recommend", the company's name), given by the caller;
- duplicate_labels: labels that repeat the lead term, or two terms, of an earlier label;
- useful_labels: topics whose label is neither generic nor a duplicate.

Used by bench/bench_topics.py and the tests on real reviews; the topic stage does not use it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from reviewops.records import TopicResult
from reviewops.topics.labels import SEPARATOR


# Words that praise or blame without naming a subject, and words every review of any company
# uses. Evaluation lists, not stop words: a dataset adds its own (domain, company names).
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


GENERIC_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        """great good excellent amazing amaze awesome wonderful fantastic best nice happy love
        recommend highly_recommend thank thanks service company experience satisfied satisfy
        pleased glad perfect super bad terrible horrible worst"""
    ),
    "fr": _words(
        """bon bonne bien très top super parfait excellent satisfait satisfaite recommander
        recommande merci service expérience content ravir ravi génial nul mauvais déçu site
        société entreprise"""
    ),
}


@dataclass(frozen=True, slots=True)
class Usefulness:
    """What a reader of the topics notices; see the module docstring."""

    topics: int
    largest_share: float
    assigned_share: float
    coherence: float
    diversity: float
    generic_labels: int
    duplicate_labels: int
    useful_labels: int
    praise_share: float = 0.0  # share of all reviews in the general-praise theme


def label_terms(label: str) -> list[str]:
    """The terms of a label ("claim process / vet [en]" -> ["claim process", "vet"])."""
    if label.endswith("]") and " [" in label:  # the language tag of by_language
        label = label[: label.rindex(" [")]
    return [term.strip() for term in label.split(SEPARATOR) if term.strip()]


def _generic(term: str, generic: Collection[str]) -> bool:
    """A term is generic when it is listed, or all its words are ("pet insurance")."""
    words = term.split()
    return term.replace(" ", "_") in generic or all(word in generic for word in words)


def is_generic_label(label: str, generic: Collection[str]) -> bool:
    """True when the label's lead term, or at least half of its terms, is generic."""
    terms = label_terms(label)
    if not terms:
        return True
    flags = [_generic(term, generic) for term in terms]
    return flags[0] or 2 * sum(flags) >= len(flags)


def duplicates(labels: Sequence[str]) -> list[bool]:
    """Per label, True when an earlier label has the same lead term or two of its terms."""
    seen: list[list[str]] = []
    flags = []
    for label in labels:
        terms = label_terms(label)
        flags.append(
            any(
                (terms and other and terms[0] == other[0]) or len(set(terms) & set(other)) >= 2
                for other in seen
            )
        )
        seen.append(terms)
    return flags


def is_general_praise(label: str) -> bool:
    """True for the label of the general-praise theme, in any language."""
    from reviewops.topics.naming import GENERAL_PRAISE

    return (label_terms(label) or [""])[0] in GENERAL_PRAISE.values()


def usefulness(result: TopicResult, generic: Collection[str]) -> Usefulness:
    """The figures of `result`'s broad themes (over all its reviews), `generic` the generic words."""
    n = len(result.assignments)
    themes = result.themes()
    sizes = [0] * len(themes)
    for topic in result.assignments:
        if topic >= 0:
            sizes[topic] += 1
    labels = [topic.label for topic in themes]
    praise = [is_general_praise(label) for label in labels]
    generic_flags = [is_generic_label(label, generic) for label in labels]
    duplicate_flags = duplicates(labels)
    subjects = [size for size, p in zip(sizes, praise, strict=True) if not p]
    return Usefulness(
        topics=len(themes),
        praise_share=round(sum(s for s, p in zip(sizes, praise, strict=True) if p) / n, 4) if n else 0.0,
        largest_share=round(max(subjects) / n, 4) if subjects and n else 0.0,
        assigned_share=round(sum(sizes) / n, 4) if n else 0.0,
        coherence=result.coherence,
        diversity=result.diversity,
        generic_labels=sum(generic_flags),
        duplicate_labels=sum(duplicate_flags),
        useful_labels=sum(1 for g, d in zip(generic_flags, duplicate_flags, strict=True) if not g and not d),
    )
