"""Readable topic labels from top terms: "customer service / refund" rather than topic 3.

A label names what sets a topic apart, so its terms are picked by relevance (Sievert &
Shirley 2014, the LDAvis ranking): weight x log-lift, a term's weight in the topic balanced
against how much more it weighs there than in the whole corpus. By weight alone, words every
kind of review uses led labels on real reviews ("great / service / excellent", "quick / easy
/ process" next to "fast / process / easy"); by relevance the same topics read "prompt /
communication / service" and "quick / response / turnaround".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

MAX_TERMS = 3
# A label already this long reads better with two terms than three.
LONG_LABEL = 24
SEPARATOR = " / "
# Relevance = RELEVANCE_WEIGHT x log p(term | topic) + (1 - RELEVANCE_WEIGHT) x log lift.
# 0.6 is what Sievert & Shirley's users found best to interpret topics.
RELEVANCE_WEIGHT = 0.6
# Label terms come from this many of a topic's heaviest terms (fit_topics passes topTerms): a
# rare term with a huge lift would make an exact but unfamiliar label.
LABEL_CANDIDATES = 10


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


def relevance_order(
    distributions: NDArray[np.float64], marginal: NDArray[np.float64], candidates: int = LABEL_CANDIDATES
) -> list[list[int]]:
    """Per topic, the ids of its `candidates` heaviest terms, most relevant first.

    `distributions` is topics x terms (rows sum to 1), `marginal` each term's share of the
    corpus (sums to 1).
    """
    n = min(candidates, distributions.shape[1])
    heaviest = np.argsort(-distributions, axis=1, kind="stable")[:, :n]
    orders = []
    for topic, ids in enumerate(heaviest):
        weight = distributions[topic, ids]
        share = marginal[ids]
        usable = (weight > 0) & (share > 0)
        log_weight = np.log(weight, out=np.full_like(weight, -np.inf), where=usable)
        log_share = np.log(share, out=np.zeros_like(share), where=usable)
        score = RELEVANCE_WEIGHT * log_weight + (1.0 - RELEVANCE_WEIGHT) * (log_weight - log_share)
        orders.append([int(ids[i]) for i in np.argsort(-score, kind="stable")])
    return orders
