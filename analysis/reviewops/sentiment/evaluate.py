"""Scoring sentiment labels against the labels the stars give: per-class P/R/F1 and macro-F1.

About 75 % of Trustpilot reviews have five stars, so accuracy flatters any model that says
"positive"; macro-F1 (the unweighted mean of the per-class F1) is the figure to watch.
Plain Python, no scikit-learn: the operator and the summary use it without the NLP stack.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from reviewops.records import LABELS, ClassScore, Evaluation, Label


def evaluate(true: Sequence[Label], pred: Sequence[Label], kind: str) -> Evaluation:
    """Compare predicted labels with true ones (same order), like scikit-learn's metrics.

    `per_class` always lists the three labels (support 0 when a class never occurs). Macro-F1
    averages over the labels that occur in `true` or `pred`, as `f1_score(average="macro")`
    does; a precision or recall with nothing to divide by counts as 0.
    """
    if len(true) != len(pred):
        raise ValueError(f"cannot evaluate {kind!r}: {len(true)} true labels but {len(pred)} predictions")
    for label in (*true, *pred):
        if label not in LABELS:
            raise ValueError(f"unknown sentiment label {label!r}; expected one of {LABELS}")
    pairs = Counter(zip(true, pred, strict=True))
    true_counts = Counter(true)
    pred_counts = Counter(pred)
    per_class: dict[str, ClassScore] = {}
    for label in LABELS:
        hits = pairs[(label, label)]
        precision = hits / pred_counts[label] if pred_counts[label] else 0.0
        recall = hits / true_counts[label] if true_counts[label] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = ClassScore(precision, recall, f1, true_counts[label])
    present = [label for label in LABELS if true_counts[label] or pred_counts[label]]
    macro_f1 = sum(per_class[label].f1 for label in present) / len(present) if present else 0.0
    correct = sum(count for (t, p), count in pairs.items() if t == p)
    accuracy = correct / len(true) if true else 0.0
    return Evaluation(kind, len(true), macro_f1, accuracy, per_class)


def evaluation_to_dict(evaluation: Evaluation) -> dict[str, Any]:
    """An Evaluation as plain JSON-able data (stored in model bundles and MLflow metadata)."""
    return {
        "kind": evaluation.kind,
        "n": evaluation.n,
        "macro_f1": evaluation.macro_f1,
        "accuracy": evaluation.accuracy,
        "per_class": {
            label: {"precision": s.precision, "recall": s.recall, "f1": s.f1, "support": s.support}
            for label, s in evaluation.per_class.items()
        },
    }


def evaluation_from_dict(data: Mapping[str, Any]) -> Evaluation:
    """The inverse of `evaluation_to_dict`."""
    return Evaluation(
        kind=str(data["kind"]),
        n=int(data["n"]),
        macro_f1=float(data["macro_f1"]),
        accuracy=float(data["accuracy"]),
        per_class={
            label: ClassScore(float(s["precision"]), float(s["recall"]), float(s["f1"]), int(s["support"]))
            for label, s in data["per_class"].items()
        },
    )


def format_evaluation(evaluation: Evaluation) -> str:
    """A one-line summary, e.g. for logs: 'held-out split (n=2339): macro-F1 0.724 (neg 0.85 ...)'."""
    classes = " ".join(f"{label[:3]} {score.f1:.2f}" for label, score in evaluation.per_class.items())
    return (
        f"{evaluation.kind} (n={evaluation.n}): macro-F1 {evaluation.macro_f1:.3f} "
        f"({classes}), accuracy {evaluation.accuracy:.3f}"
    )
