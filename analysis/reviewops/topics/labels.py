"""Readable topic labels from top terms: "customer service / refund" rather than topic 3."""

from __future__ import annotations

from collections.abc import Sequence

MAX_TERMS = 3
# A label already this long reads better with two terms than three.
LONG_LABEL = 24
SEPARATOR = " / "


def humanise(term: str) -> str:
    """A preprocessing bigram such as "customer_service" written as words."""
    return term.replace("_", " ").strip()


def _overlaps(term: str, chosen: Sequence[str]) -> bool:
    """True when term repeats a word of a chosen term ("battery" after "battery life")."""
    words = set(term.split())
    return any(words & set(other.split()) for other in chosen)


def topic_label(terms: Sequence[str], max_terms: int = MAX_TERMS) -> str:
    """Two or three of the top terms, heaviest first, skipping ones that repeat a word."""
    chosen: list[str] = []
    for raw in terms:
        term = humanise(raw)
        if not term or _overlaps(term, chosen):
            continue
        chosen.append(term)
        if len(chosen) >= max_terms or (len(chosen) >= 2 and len(SEPARATOR.join(chosen)) >= LONG_LABEL):
            break
    return SEPARATOR.join(chosen) if chosen else "(no terms)"


def unique_labels(term_lists: Sequence[Sequence[str]]) -> list[str]:
    """One label per topic; a label equal to an earlier one gets one more term, then a number."""
    labels: list[str] = []
    for terms in term_lists:
        label = topic_label(terms)
        if label in labels:
            label = topic_label(terms, MAX_TERMS + 1)
        suffix = 2
        base = label
        while label in labels:
            label = f"{base} ({suffix})"
            suffix += 1
        labels.append(label)
    return labels
