"""Flat rows (CSV lines, JSONL objects) turned into Review records through a column mapping.

`source.columns` maps a review field to a column (`{text: body}`); fields it leaves out are
found by common names, ignoring case and separators (see DEFAULT_COLUMNS). A row without text
raises RowError; the reader reports it with file and line and goes on. A row whose date or
stars cannot be read keeps its text: the value is left empty and a note (file:line) says why.

A row whose company is not in a mapped column takes it from a Trustpilot page URL
(trustpilot.com/review/<domain>, any country site) in any other column, found by its values,
whatever the column's name ("source", "url", "page"): scrapers' exports keep the page they read
a review from, and without a company the brands of a file mixing companies leak into topics.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Mapping, Sequence

from reviewops.records import Problem, Review
from reviewops.sources.common import SourceError, invented_title, stable_id
from reviewops.sources.values import parse_date, parse_rating, trustpilot_page_domain

# Column names a file may use for each review field, compared without case, spaces,
# underscores or hyphens ("Review Title" = "review_title" = "reviewtitle").
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "review_id", "reviewid", "review id"),
    "text": (
        "text",
        "body",
        "content",
        "review",
        "review_text",
        "reviewbody",
        "review_body",
        "review_content",
        "comment",
        "comments",
        "description",
        "message",
        "avis",
        "texte",
        "commentaire",
    ),
    "rating": (
        "rating",
        "stars",
        "score",
        "review_rating",
        "ratingvalue",
        "star_rating",
        "review_stars",
        "rate",
        "note",
    ),
    "title": ("title", "headline", "review_title", "summary", "subject", "titre"),
    "published": (
        "published",
        "publisheddate",
        "published_date",
        "date",
        "date_published",
        "datepublished",
        "created_at",
        "review_date",
        "date_of_review",
        "reviewed_at",
        "posted",
        "timestamp",
        "time",
    ),
    "experienced": ("experienced", "experienceddate", "experienced_date", "date_of_experience"),
    "language": ("language", "lang", "inlanguage", "langue"),
    "company": ("company", "business", "enterprise", "company_name", "business_name", "brand", "entreprise"),
    "author": ("author", "reviewer", "consumer", "reviewer_name", "author_name", "username", "user"),
    "country": ("country", "country_code", "countrycode", "location", "pays"),
    "reply": ("reply", "response", "company_reply", "reply_text", "company_response"),
    "verified": ("verified", "is_verified", "isverified"),
    "likes": ("likes", "useful", "helpful"),
}


def column_key(name: str) -> str:
    """How column names are compared: lowercase letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", name.strip().lower())


_FLAG = {"published": "date"}  # review field -> the name of its --<name>-column flag
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
        raise SourceError(
            f"{where}: source.columns maps unknown field(s) {unknown}; "
            f"fields are: {', '.join(DEFAULT_COLUMNS)}"
        )
    resolved: dict[str, str] = {}
    for name, column in mapping.items():
        if column not in columns:
            raise SourceError(
                f"{where}: source.columns maps {name} to {column!r} (from a manifest "
                f"or a --{_FLAG.get(name, name)}-column flag), which is not a column "
                f"of this file; its columns are: {available}"
            )
        resolved[name] = column
    by_key = {column_key(c): c for c in reversed(columns)}
    taken = set(resolved.values())
    for name, candidates in DEFAULT_COLUMNS.items():
        if name not in resolved:
            found = next(
                (by_key[k] for c in candidates if (k := column_key(c)) in by_key and by_key[k] not in taken),
                None,
            )
            if found is not None:
                resolved[name] = found
                taken.add(found)
    if "text" not in resolved:
        raise SourceError(
            f"{where}: no column holds the review text (looked for "
            f"{', '.join(DEFAULT_COLUMNS['text'])}); the file's columns are: "
            f"{available}. Name it with --text-column <column> (in a manifest: "
            "source.columns, e.g. columns: {text: <column>})"
        )
    return resolved


_WHOLE = re.compile(r"^\s*(\d{1,2})(?:\.0+)?\s*$")
SAMPLE_ROWS = 2000  # rows looked at to spot an unmapped star column


def unmapped_rating_column(
    rows: Sequence[Mapping[str, object]], resolved: Mapping[str, str], where: str
) -> Problem | None:
    """A Problem naming a column that looks like star ratings when none was mapped as `rating`.

    A column whose values (of the rows sampled) are all whole numbers from 1 to 5, or 1 to 10,
    with at least two different values, is very likely the stars under a name the reader does
    not know ("Grade", "Sterne"): without it the run has no evaluation and no topic impact, so
    the user is told which flag maps it.
    """
    if "rating" in resolved or not rows:
        return None
    taken = set(resolved.values())
    columns = list(dict.fromkeys(str(k) for row in rows for k in row))
    for column in columns:
        if column in taken or not column.strip():
            continue
        values: list[int] = []
        for row in rows:
            value = row.get(column)
            if value is None or value == "":
                continue
            match = _WHOLE.match(str(value)) if not isinstance(value, bool) else None
            if match is None:
                break
            values.append(int(match[1]))
        else:
            if len(values) < max(5, len(rows) // 2) or len(set(values)) < 2 or min(values) < 1:
                continue
            scale = 5 if max(values) <= 5 else 10 if max(values) <= 10 else 0
            if not scale:
                continue
            if scale == 10:  # a bare 7 is read as 7 of 5 stars: the scale has to be written
                fix = (
                    f"write its values with their scale (7 -> 7/10; sed or a spreadsheet) and pass "
                    f"--rating-column {column!r} (source.columns: {{rating: {column}}}): 10-point "
                    "values are mapped to five stars, half stars refused"
                )
            else:
                fix = f"pass --rating-column {column!r} (source.columns: {{rating: {column}}}) to use it"
            return Problem(
                where,
                f"column {column!r} holds only whole numbers from 1 to {scale}, like star ratings, "
                "but no column was read as the rating, so the reviews are analysed without stars "
                f"(no evaluation, no topic impact); {fix}",
            )
    return None


# Distinct rating texts remembered per file (an export has a few: "4", "Rated 4 out of 5").
_RATINGS_KEPT = 256


class RowReader:
    """Converts rows of one file with a resolved column mapping."""

    def __init__(self, columns: Mapping[str, str], origin: str) -> None:
        self.columns = dict(columns)
        self.origin = origin  # the file, for deterministic ids and error locations
        self.notes: list[Problem] = []  # values left empty in kept rows, with where and why
        self._page_column: str | None = None  # the last column a Trustpilot page URL was in
        self._ratings: dict[str, int] = {}  # rating texts already read, and their stars

    def review(self, row: Mapping[str, object], line: int) -> Review:
        """The review in `row` (found at `line`); raises RowError when it has no text.

        An unreadable date or rating is left empty and noted in `self.notes`: the text is
        still worth analysing.
        """
        text = self._str("text", row)
        if text is None or not text.strip():
            raise RowError(f"no review text in column {self.columns['text']!r}; row skipped")
        published = self._when("published", row, line)
        experienced = self._when("experienced", row, line)
        review_id = self._str("id", row) or stable_id(self.origin, text, published)
        return Review(
            id=review_id,
            text=text,
            rating=self._rating(row, line),
            title=invented_title(self._str("title", row), text),
            # Fields that repeat across reviews share one string object (~150 B a review).
            language=_shared((self._str("language", row) or "").strip().lower() or None),
            published=published,
            experienced=experienced.date() if experienced else None,
            company=_shared(self._str("company", row) or self._page_company(row)),
            author=self._str("author", row),
            country=_shared(self._str("country", row)),
            reply=self._str("reply", row),
            verified=self._bool("verified", row),
            likes=self._int("likes", row),
            origin=f"{self.origin}:{line}",
        )

    def _page_company(self, row: Mapping[str, object]) -> str | None:
        """The company domain of a Trustpilot page URL in a column not mapped to a field."""
        found = trustpilot_page_domain(row.get(self._page_column)) if self._page_column else None
        if found is None:
            mapped = set(self.columns.values())
            for column, value in row.items():
                if column not in mapped and (found := trustpilot_page_domain(value)) is not None:
                    self._page_column = column
                    break
        return found

    def _raw(self, name: str, row: Mapping[str, object]) -> object:
        column = self.columns.get(name)
        return None if column is None else row.get(column)

    def _str(self, name: str, row: Mapping[str, object]) -> str | None:
        column = self.columns.get(name)  # `_raw`, inlined: this runs ~10 times a row
        value = None if column is None else row.get(column)
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else str(value)

    def take_notes(self) -> list[Problem]:
        """The notes written since the last call (so callers keep problems in line order)."""
        notes, self.notes = self.notes, []
        return notes

    def _note(self, line: int, name: str, exc: ValueError) -> None:
        self.notes.append(
            Problem(f"{self.origin}:{line}", f"column {self.columns[name]!r}: {exc}; review kept without it")
        )

    def _rating(self, row: Mapping[str, object], line: int) -> int | None:
        value = self._raw("rating", row)
        if isinstance(value, str):  # an export writes a handful of distinct ratings
            known = self._ratings.get(value)
            if known is not None:
                return known
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            stars = parse_rating(value)
        except ValueError as exc:
            self._note(line, "rating", exc)
            return None
        if isinstance(value, str) and len(self._ratings) < _RATINGS_KEPT:
            self._ratings[value] = stars
        return stars

    def _when(self, name: str, row: Mapping[str, object], line: int) -> dt.datetime | None:
        value = self._raw(name, row)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            self._note(line, name, exc)
            return None

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


def _shared(value: str | None) -> str | None:
    """One string object for every review with this value (short, repeated values only)."""
    return sys.intern(value) if value is not None and len(value) <= 64 else value
