"""evaluate(): the maths must match scikit-learn's, including classes that never occur."""

from __future__ import annotations

from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from reviewops.records import LABELS, Label
from reviewops.sentiment import evaluate
from reviewops.sentiment.evaluate import evaluation_from_dict, evaluation_to_dict

# hypothesis types sampled_from(a tuple of literals) as plain str
a_label = cast("st.SearchStrategy[Label]", st.sampled_from(LABELS))


@settings(max_examples=150, deadline=None, database=None)
@given(st.data())
def test_matches_sklearn(data: st.DataObject) -> None:
    true = data.draw(st.lists(a_label, min_size=1, max_size=60))
    pred = data.draw(st.lists(a_label, min_size=len(true), max_size=len(true)))
    result = evaluate(true, pred, "check")
    assert result.macro_f1 == pytest.approx(f1_score(true, pred, average="macro", zero_division=0))
    assert result.accuracy == pytest.approx(accuracy_score(true, pred))
    p, r, f, s = precision_recall_fscore_support(true, pred, labels=list(LABELS), zero_division=0)
    for i, label in enumerate(LABELS):
        score = result.per_class[label]
        assert (score.precision, score.recall, score.f1) == pytest.approx((p[i], r[i], f[i]))
        assert score.support == s[i]
    assert result.n == len(true)
    assert result.kind == "check"


def test_a_worked_example() -> None:
    # 4 positive, 2 negative, 1 neutral; two mistakes.
    true: list[Label] = ["positive", "positive", "positive", "positive", "negative", "negative", "neutral"]
    pred: list[Label] = ["positive", "positive", "positive", "neutral", "negative", "positive", "neutral"]
    result = evaluate(true, pred, "held-out split")
    assert result.per_class["positive"].precision == pytest.approx(3 / 4)
    assert result.per_class["positive"].recall == pytest.approx(3 / 4)
    assert result.per_class["neutral"].f1 == pytest.approx(2 / 3)  # P 1/2, R 1
    assert result.per_class["negative"].f1 == pytest.approx(2 / 3)  # P 1, R 1/2
    assert result.accuracy == pytest.approx(5 / 7)
    assert result.macro_f1 == pytest.approx((3 / 4 + 2 / 3 + 2 / 3) / 3)


def test_rejects_misaligned_or_unknown_labels() -> None:
    with pytest.raises(ValueError, match="2 true labels but 1 predictions"):
        evaluate(["positive", "negative"], ["positive"], "x")
    with pytest.raises(ValueError, match="unknown sentiment label 'great'"):
        evaluate(["positive"], ["great"], "x")  # type: ignore[list-item]


def test_dict_round_trip() -> None:
    result = evaluate(["positive", "negative", "neutral"], ["positive", "positive", "neutral"], "k")
    assert evaluation_from_dict(evaluation_to_dict(result)) == result
