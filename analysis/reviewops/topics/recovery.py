"""How well topics recover known themes (the demo's planted ones): best-match F1 and NMI.

Best-match F1 pairs topics and themes one to one (Hungarian matching on F1) and averages the
matched F1 over themes: a merged or a missing theme counts 0. NMI (arithmetic normalisation)
also credits a theme split over two topics. Reviews without a topic (-1) are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True, slots=True)
class Recovery:
    """Agreement between topic assignments and known themes."""

    f1: float  # mean over themes of the F1 of the topic matched to each
    nmi: float
    matches: dict[str, int]  # theme -> the topic matched to it (themes left unmatched absent)
    reviews: int  # reviews compared (those with a topic)


def _contingency(topics: Sequence[int], themes: Sequence[str]) -> tuple[NDArray[np.float64], list[str]]:
    names = sorted(set(themes))
    column = {name: j for j, name in enumerate(names)}
    table = np.zeros((max(topics) + 1, len(names)))
    for topic, theme in zip(topics, themes, strict=True):
        table[topic, column[theme]] += 1
    return table, names


def _entropy(counts: NDArray[np.float64]) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def _nmi(table: NDArray[np.float64]) -> float:
    n = table.sum()
    h_topics, h_themes = _entropy(table.sum(axis=1)), _entropy(table.sum(axis=0))
    if h_topics == 0.0 and h_themes == 0.0:
        return 1.0
    nz = table > 0
    outer = np.outer(table.sum(axis=1), table.sum(axis=0))
    mutual = float((table[nz] / n * np.log(table[nz] * n / outer[nz])).sum())
    return mutual / ((h_topics + h_themes) / 2.0)


def recovery(assignments: Sequence[int], themes: Sequence[str]) -> Recovery:
    """Compare each review's topic with its known theme (same order, same length)."""
    if len(assignments) != len(themes):
        raise ValueError(
            f"{len(assignments)} topic assignments for {len(themes)} themes: give one theme per review"
        )
    kept = [(t, th) for t, th in zip(assignments, themes, strict=True) if t >= 0]
    if not kept:
        return Recovery(f1=0.0, nmi=0.0, matches={}, reviews=0)
    topics, truth = [t for t, _ in kept], [th for _, th in kept]
    table, names = _contingency(topics, truth)
    precision = table / np.maximum(table.sum(axis=1, keepdims=True), 1.0)
    recall = table / np.maximum(table.sum(axis=0, keepdims=True), 1.0)
    f1 = np.divide(
        2 * precision * recall,
        precision + recall,
        out=np.zeros_like(table),
        where=(precision + recall) > 0,
    )
    rows, cols = linear_sum_assignment(-f1)
    return Recovery(
        f1=float(f1[rows, cols].sum() / len(names)),
        nmi=_nmi(table),
        matches={names[c]: int(r) for r, c in zip(rows, cols, strict=True) if f1[r, c] > 0},
        reviews=len(kept),
    )
