"""The decision offsets of the supervised model: the class shifts that maximise macro-F1.

The stacked model's most probable class almost never says "neutral" (3-star reviews are a few
per cent). So offsets are added to the negative and neutral log-probabilities (positive stays
at 0) and chosen on out-of-fold predictions to maximise macro-F1, which is what the model is
judged on. The search tries every pair of `OFFSETS` and keeps the best, the mildest on ties.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Offsets tried for the negative and neutral log-probabilities (positive stays at 0), the
# smallest first, so that among equally good offsets the search keeps the mildest.
OFFSETS = np.array(sorted(np.round(np.arange(-3.0, 3.01, 0.1), 2), key=abs))


def macro_f1_index(true: IntArray, pred: IntArray) -> float:
    """Macro-F1 over the classes present in either array (fast, for the offset search)."""
    confusion = np.bincount(true * 3 + pred, minlength=9).reshape(3, 3)
    hits = np.diag(confusion).astype(np.float64)
    totals = (confusion.sum(axis=0) + confusion.sum(axis=1)).astype(np.float64)
    present = totals > 0
    return float((2 * hits[present] / totals[present]).mean()) if present.any() else 0.0


def _macro_f1_rows(confusions: IntArray) -> FloatArray:
    """macro_f1_index for a stack of (g, 3, 3) confusion matrices at once."""
    hits = np.diagonal(confusions, axis1=1, axis2=2).astype(np.float64)
    totals = (confusions.sum(axis=1) + confusions.sum(axis=2)).astype(np.float64)
    present = totals > 0
    f1 = np.divide(2 * hits, totals, out=np.zeros_like(hits), where=present)
    counts = present.sum(axis=1)
    macro: FloatArray = np.divide(f1.sum(axis=1), counts, out=np.zeros(len(f1)), where=counts > 0)
    return macro


def tune_offsets(log_proba: FloatArray, y: IntArray) -> FloatArray:
    """The (negative, neutral, 0) offsets with the best macro-F1, the mildest on ties.

    Every (negative, neutral) pair of `OFFSETS` is scored from its confusion table
    (`offset_confusions`); negative offsets are then taken in the grid's mildest-first order,
    each with its best neutral offset, and a later one wins only by a strictly better score.
    """
    confusions = offset_confusions(log_proba, y)
    best, best_offsets = -1.0, np.zeros(3)
    for i, negative in enumerate(OFFSETS):
        scores = _macro_f1_rows(confusions[i])
        k = int(scores.argmax())
        if scores[k] > best + 1e-12:
            best, best_offsets = float(scores[k]), np.array([negative, OFFSETS[k], 0.0])
    return best_offsets


def offset_confusions(log_proba: FloatArray, y: IntArray) -> IntArray:
    """Confusion matrices (true x predicted) for every pair of offsets of `OFFSETS`.

    Returns (negative offset, neutral offset, 3, 3) counts, the offsets in `OFFSETS` order.
    A review's prediction is the argmax of its shifted log-probabilities (the first of equal
    ones). For one negative offset it changes at most once along the sorted neutral offsets:
    if negative beats positive, it is negative up to a threshold and neutral after it;
    otherwise it is positive up to a threshold (the same for every negative offset) and
    neutral after it. So each (review, negative offset) gives one threshold, and the counts
    of all pairs come from one bincount and a cumulative sum: O(n x grid) instead of
    O(n x grid^2) comparisons.
    """
    grid = OFFSETS
    size = len(grid)
    order = np.argsort(grid, kind="stable")
    ascending = grid[order]
    lp0, lp1, lp2 = log_proba[:, 0:1], log_proba[:, 1], log_proba[:, 2]
    shifted = lp0 + grid[None, :]  # (n, negative offsets)
    beats_positive = shifted >= lp2[:, None]
    # Negative wins while lp1 + neutral offset <= shifted: the first `upto` sorted offsets.
    upto = _count_sums_below(ascending, lp1[:, None], shifted, inclusive=True)
    # Otherwise positive wins while lp1 + neutral offset < lp2: the first `below` of them.
    below = np.broadcast_to(_count_sums_below(ascending, lp1, lp2, inclusive=False)[:, None], upto.shape)
    threshold = np.where(beats_positive, upto, below)
    losing_class = np.where(beats_positive, 0, 2)  # the class predicted before the threshold
    rows = np.broadcast_to(np.arange(size)[None, :], upto.shape)
    # ends[i, t, c, k]: reviews of true class t whose prediction at negative offset i is c
    # for exactly the first k sorted neutral offsets.
    keys = ((rows * 3 + y[:, None]) * 3 + losing_class) * (size + 1) + threshold
    ends = np.bincount(keys.ravel(), minlength=size * 9 * (size + 1)).reshape(size, 3, 3, size + 1)
    # before[..., j]: how many of them are still predicted c at sorted neutral offset j.
    before = ends[..., ::-1].cumsum(axis=-1)[..., ::-1][..., 1:]
    totals = np.bincount(y, minlength=3)
    counts = np.zeros((size, size, 3, 3), dtype=np.int64)  # (negative, sorted neutral, t, p)
    for c in (0, 2):
        counts[:, :, :, c] = before[:, :, c, :].transpose(0, 2, 1)
    counts[:, :, :, 1] = totals[None, None, :] - counts[:, :, :, 0] - counts[:, :, :, 2]
    unsorted = np.empty_like(counts)
    unsorted[:, order] = counts
    return unsorted


def _count_sums_below(
    ascending: FloatArray, base: FloatArray, limit: FloatArray, *, inclusive: bool
) -> IntArray:
    """How many j have base + ascending[j] <= limit (< limit unless `inclusive`), as floats add.

    `searchsorted` of limit - base finds it up to rounding; the counts are then moved until
    the sums themselves, computed as the argmax comparison computes them, agree (a sum of a
    fixed base and increasing offsets never decreases, so the answer is one position).
    """
    size = len(ascending)

    def holds(sums: FloatArray) -> Any:
        return sums <= limit if inclusive else sums < limit

    count: IntArray = np.searchsorted(ascending, limit - base, side="right" if inclusive else "left")
    while True:  # a count one too low: the next sum still holds
        up = (count < size) & holds(base + ascending[np.minimum(count, size - 1)])
        if not up.any():
            break
        count = count + up
    while True:  # one too high: the last counted sum does not hold
        down = (count > 0) & ~holds(base + ascending[np.maximum(count - 1, 0)])
        if not down.any():
            break
        count = count - down
    return count
