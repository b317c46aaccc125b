"""A star column under a name the reader does not know is spotted and named with its flag."""

from __future__ import annotations

from reviewops.sources.tabular import unmapped_rating_column


def _rows(**columns: list[object]) -> list[dict[str, object]]:
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def test_a_one_to_five_or_one_to_ten_column_is_named_with_the_flag() -> None:
    rows = _rows(Review=["ok"] * 8, Grade=["5", "4", "1", "2", "", "3", "5", "5"])
    problem = unmapped_rating_column(rows, {"text": "Review"}, "x.csv")
    assert problem is not None and problem.where == "x.csv"
    assert "'Grade'" in problem.message and "from 1 to 5" in problem.message
    assert "--rating-column 'Grade'" in problem.message
    ten = _rows(Review=["ok"] * 6, Score=[10, 8, 1, 7, 9, 3])
    found = unmapped_rating_column(ten, {"text": "Review"}, "x.csv")
    assert found is not None and "from 1 to 10" in found.message and "7 -> 7/10" in found.message


def test_no_warning_when_stars_are_mapped_or_nothing_looks_like_stars() -> None:
    stars = _rows(
        Review=["ok"] * 6, rating=["5", "4", "1", "2", "3", "5"], Grade=["5", "4", "1", "2", "3", "5"]
    )
    assert unmapped_rating_column(stars, {"text": "Review", "rating": "rating"}, "x.csv") is None
    other = _rows(
        Review=["ok"] * 6,
        index=["0", "1", "2", "3", "4", "5"],  # starts at 0
        big=["1", "2", "3", "40", "5", "6"],  # above 10
        flag=["1", "1", "1", "1", "1", "1"],  # one value only
        words=["a", "b", "c", "d", "e", "f"],
        half=["1.5", "2", "3", "4", "5", "1"],  # not whole
    )
    assert unmapped_rating_column(other, {"text": "Review"}, "x.csv") is None
