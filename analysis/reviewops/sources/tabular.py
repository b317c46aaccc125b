"""Flat rows (CSV lines, JSONL objects) turned into Review records through a column mapping.

`source.columns` maps a review field to a column (`{text: body}`); fields it leaves out are
found by common names, case-insensitively (see DEFAULT_COLUMNS). A row that cannot become a
review raises RowError; the reader reports it with file and line and goes on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from reviewops.records import Review
from reviewops.sources.common import SourceError, invented_title, parse_timestamp, stable_id

DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "review_id", "reviewid"),
    "text": ("text", "body", "content", "review", "review_text", "reviewbody", "comment"),
    "rating": ("rating", "stars", "score", "review_rating", "ratingvalue"),
    "title": ("title", "headline", "review_title"),
    "published": ("published", "publisheddate", "published_date", "date", "date_published",
                  "datepublished", "created_at"),
    "experienced": ("experienced", "experienceddate", "experienced_date", "date_of_experience"),
    "language": ("language", "lang", "inlanguage"),
    "company": ("company", "business", "enterprise"),
    "author": ("author", "reviewer", "consumer"),
    "country": ("country", "country_code", "countrycode"),
    "reply": ("reply", "response", "company_reply"),
    "verified": ("verified", "is_verified", "isverified"),
    "likes": ("likes", "useful"),
}
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


class RowError(ValueError):
    """One row that cannot become a review; the message names the column and the value."""


def resolve_columns(columns: Sequence[str], mapping: Mapping[str, str], where: str) -> dict[str, str]:
    """Review field -> column name, from `source.columns` first, then the default names.

    Raises SourceError when the mapping names an unknown field or a missing column, or when
    no column holds the review text; the message lists the columns the file has.
    """
    available = ", ".join(repr(c) for c in columns) or "none"
    unknown = sorted(set(mapping) - set(DEFAULT_COLUMNS))
    if unknown:
        raise SourceError(f"{where}: source.columns maps unknown field(s) {unknown}; "
                          f"fields are: {', '.join(DEFAULT_COLUMNS)}")
    resolved: dict[str, str] = {}
    for name, column in mapping.items():
        if column not in columns:
            raise SourceError(f"{where}: source.columns maps {name} to {column!r}, which is "
                              f"not a column of this file; its columns are: {available}")
        resolved[name] = column
    by_lower = {c.strip().lower(): c for c in reversed(columns)}
    for name, candidates in DEFAULT_COLUMNS.items():
        if name not in resolved:
            found = next((by_lower[c] for c in candidates if c in by_lower), None)
            if found is not None:
                resolved[name] = found
    if "text" not in resolved:
        raise SourceError(f"{where}: no column holds the review text (looked for "
                          f"{', '.join(DEFAULT_COLUMNS['text'])}); the file's columns are: "
                          f"{available}. Name it with source.columns, e.g. columns: "
                          "{text: <column>}")
    return resolved


class RowReader:
    """Converts rows of one file with a resolved column mapping."""

    def __init__(self, columns: Mapping[str, str], origin: str) -> None:
        self.columns = dict(columns)
        self.origin = origin  # the file, for deterministic ids and error locations

    def review(self, row: Mapping[str, object], line: int) -> Review:
        """The review in `row` (found at `line`); raises RowError for missing text or bad values."""
        text = self._str("text", row)
        if text is None or not text.strip():
            raise RowError(f"no review text in column {self.columns['text']!r}; row skipped")
        published = self._when("published", row)
        experienced = self._when("experienced", row)
        review_id = self._str("id", row) or stable_id(self.origin, text, published)
        return Review(
            id=review_id,
            text=text,
            rating=self._rating(row),
            title=invented_title(self._str("title", row), text),
            language=(self._str("language", row) or "").strip().lower() or None,
            published=published,
            experienced=experienced.date() if experienced else None,
            company=self._str("company", row),
            author=self._str("author", row),
            country=self._str("country", row),
            reply=self._str("reply", row),
            verified=self._bool("verified", row),
            likes=self._int("likes", row),
            origin=f"{self.origin}:{line}",
        )

    def _raw(self, name: str, row: Mapping[str, object]) -> object:
        column = self.columns.get(name)
        return None if column is None else row.get(column)

    def _str(self, name: str, row: Mapping[str, object]) -> str | None:
        value = self._raw(name, row)
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else str(value)

    def _rating(self, row: Mapping[str, object]) -> int | None:
        value = self._raw("rating", row)
        if value is None or value == "":
            return None
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or not number.is_integer() or not 1 <= number <= 5:
            raise RowError(f"rating {value!r} in column {self.columns['rating']!r} is not a "
                           "whole number from 1 to 5; row skipped")
        return int(number)

    def _when(self, name: str, row: Mapping[str, object]) -> dt.datetime | None:
        value = self._str(name, row)
        if value is None:
            return None
        try:
            return parse_timestamp(value)
        except ValueError as exc:
            raise RowError(f"column {self.columns[name]!r}: {exc}; row skipped") from None

    def _bool(self, name: str, row: Mapping[str, object]) -> bool | None:
        value = self._raw(name, row)
        if value is None or isinstance(value, bool):
            return value
        folded = str(value).strip().lower()
        return True if folded in _TRUE else False if folded in _FALSE else None

    def _int(self, name: str, row: Mapping[str, object]) -> int | None:
        value = self._raw(name, row)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip() if value is not None else ""
        return int(text) if text.isdigit() else None

