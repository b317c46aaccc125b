"""Reading the values people put in review exports: dates and star ratings in their many shapes.

Trustpilot's own payloads are ISO 8601 and whole stars; exports made by other tools are not:
"Rated 4 out of 5 stars", "4/5", "★★★★☆", "4,0", "March 3, 2024", "03/04/2024 14:05",
1709424000. Each parser returns the value or raises ValueError with a message that shows the
text and the shapes that are understood.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from dateutil import parser as dateutil_parser

_STAR_GLYPHS = "★⭐"
_EMPTY_STAR_GLYPHS = "☆"
# "4", "4.0", "4,0", "4/5", "4 / 5", "4 out of 5", "Rated 4 out of 5 stars", "4 stars", "note : 4/5"
_RATING = re.compile(
    r"^\D*?(?P<value>\d+(?:[.,]\d+)?)\s*(?:(?:/|out of|sur|of)\s*(?P<scale>\d+(?:[.,]\d+)?))?\D*$",
    re.IGNORECASE,
)
# A Trustpilot company page, on any country site: the company is the domain after /review/.
_TRUSTPILOT_PAGE = re.compile(
    r"(?:https?://)?(?:[a-z0-9-]+\.)*trustpilot\.[a-z]{2,}(?:\.[a-z]{2,})?/review/([a-z0-9][a-z0-9.-]*\.[a-z]{2,})"
    r"/?(?:[?#]\S*)?",
    re.IGNORECASE,
)
_URL_MAX = 500
_EPOCH_SECONDS = (946_684_800, 4_102_444_800)  # 2000-01-01 .. 2100-01-01: a plausible review date
_EPOCH_TEXT = re.compile(r"\d{9,13}(\.\d+)?")
_HAS_YEAR = re.compile(r"(?<!\d)(19|20)\d\d(?!\d)|(?<!\d)\d{1,2}[/.-]\d{1,2}[/.-]\d\d(?!\d)")


def trustpilot_page_domain(value: object) -> str | None:
    """The company domain of a Trustpilot review page URL, or None when `value` is not one.

    "https://fr.trustpilot.com/review/www.boursobank.com?page=2" -> "www.boursobank.com". The
    whole value must be the URL: a text that mentions one is not a company.
    """
    if not isinstance(value, str) or len(value) > _URL_MAX or "trustpilot." not in value.lower():
        return None
    match = _TRUSTPILOT_PAGE.fullmatch(value.strip())
    return match.group(1).lower() if match else None


def parse_rating(value: object) -> int:
    """Whole stars 1..5 from a number or a text such as 'Rated 4 out of 5 stars' or '★★★★☆'.

    Ratings on another scale ('8/10') are mapped to five stars; half stars are refused, since
    Trustpilot has none and rounding would invent a label.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a star rating")
    if isinstance(value, int | float):
        return _whole_stars(float(value), 5.0, repr(value))
    text = str(value).strip()
    glyphs = sum(text.count(g) for g in _STAR_GLYPHS)
    if glyphs and all(c in _STAR_GLYPHS + _EMPTY_STAR_GLYPHS + " " for c in text):
        return _whole_stars(float(glyphs), 5.0, repr(text))
    match = _RATING.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a star rating (expected e.g. 4, 4/5, 'Rated 4 out of 5 stars')")
    number = float(match["value"].replace(",", "."))
    scale = float(match["scale"].replace(",", ".")) if match["scale"] else 5.0
    return _whole_stars(number, scale, repr(text))


def _whole_stars(number: float, scale: float, shown: str) -> int:
    if scale <= 0 or math.isnan(number):
        raise ValueError(f"{shown} is not a star rating")
    stars = number * 5.0 / scale if scale != 5.0 else number
    if not stars.is_integer() and abs(stars - round(stars)) > 1e-9:
        raise ValueError(f"{shown} is not a whole number of stars from 1 to 5")
    whole = round(stars)
    if not 1 <= whole <= 5:
        raise ValueError(f"{shown} is not a whole number of stars from 1 to 5")
    return whole


def parse_date(value: object) -> dt.datetime:
    """A timezone-aware UTC datetime from ISO 8601, epoch seconds/milliseconds or a written date.

    Naive values are taken as UTC (Trustpilot and most exports write UTC). Written dates in
    English ('March 3, 2024', 'Mar 3 2024 14:05') go through dateutil; '03/04/2024' is read
    month first, as dateutil does, unless the first number cannot be a month.
    """
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch(float(value), repr(value))
    text = str(value).strip()
    if _EPOCH_TEXT.fullmatch(text):
        return _from_epoch(float(text), repr(text))
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        parsed = _written_date(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _written_date(text: str) -> dt.datetime:
    # dateutil fills what is missing from today ("12" becomes the 12th of this month): only
    # texts that carry a year are dates.
    problem = ValueError(
        f"{text!r} is not a date (expected e.g. 2024-04-03, 2024-04-03T19:24:11Z, April 3, 2024 "
        "or a Unix timestamp)"
    )
    if not _HAS_YEAR.search(text):
        raise problem
    try:
        return dateutil_parser.parse(text)
    except (ValueError, OverflowError):
        raise problem from None


def _from_epoch(number: float, shown: str) -> dt.datetime:
    seconds = number / 1000 if number > _EPOCH_SECONDS[1] else number
    if not _EPOCH_SECONDS[0] <= seconds <= _EPOCH_SECONDS[1]:
        raise ValueError(f"{shown} is not a plausible Unix timestamp of a review (2000..2100)")
    return dt.datetime.fromtimestamp(seconds, dt.UTC)
