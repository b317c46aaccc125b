from __future__ import annotations

import datetime as dt

import pytest

from reviewops.sources.values import parse_date, parse_rating


@pytest.mark.parametrize(
    ("value", "stars"),
    [
        (4, 4),
        (4.0, 4),
        ("5", 5),
        ("4,0", 4),
        ("4/5", 4),
        ("4 / 5", 4),
        ("Rated 1 out of 5 stars", 1),
        ("3 stars", 3),
        ("note : 2 sur 5", 2),
        ("8/10", 4),
        ("★★☆☆☆", 2),
        ("⭐⭐⭐", 3),
    ],
)
def test_ratings_in_the_shapes_exports_write(value: object, stars: int) -> None:
    assert parse_rating(value) == stars


@pytest.mark.parametrize("value", ["0", "6", "4.5", "7/10", "great", "2024-01-01", True, ""])
def test_what_is_not_a_whole_star_rating_is_refused_with_the_value_shown(value: object) -> None:
    with pytest.raises(ValueError, match="star"):
        parse_rating(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-04-03", dt.datetime(2024, 4, 3, tzinfo=dt.UTC)),
        ("2024-04-03T19:24:11Z", dt.datetime(2024, 4, 3, 19, 24, 11, tzinfo=dt.UTC)),
        ("2024-04-03T21:24:11+02:00", dt.datetime(2024, 4, 3, 19, 24, 11, tzinfo=dt.UTC)),
        ("April 3, 2024", dt.datetime(2024, 4, 3, tzinfo=dt.UTC)),
        ("25/12/2024", dt.datetime(2024, 12, 25, tzinfo=dt.UTC)),  # 25 cannot be a month
        (1712102400, dt.datetime(2024, 4, 3, tzinfo=dt.UTC)),
        ("1712102400000", dt.datetime(2024, 4, 3, tzinfo=dt.UTC)),  # milliseconds
    ],
)
def test_dates_in_the_shapes_exports_write(value: object, expected: dt.datetime) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["yesterday-ish", "12", 12, "not a date at all"])
def test_what_is_not_a_date_is_refused_with_the_value_shown(value: object) -> None:
    with pytest.raises(ValueError, match=r"not a (date|plausible Unix timestamp)"):
        parse_date(value)
