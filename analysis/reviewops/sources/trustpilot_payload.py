"""Trustpilot's review objects (`pageProps.reviews[]`) turned into Review records.

Shared by the page parser and the raw-JSON file reader. Two payload generations exist: the
current one (`isPending`, `source`, `dates.submittedDate`) and an older one (`pending`, no
`source`, no `submittedDate`); only fields present in both are required.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from reviewops.records import Review
from reviewops.sources.common import invented_title, parse_timestamp


class PayloadError(ValueError):
    """A review object that lacks what every review needs (an id, a text, a valid rating)."""


def looks_like_review(obj: object) -> bool:
    """True for a mapping shaped like a Trustpilot review object (not a flat CSV-like row)."""
    return (
        isinstance(obj, Mapping)
        and "id" in obj
        and "text" in obj
        and ("dates" in obj or "consumer" in obj or "labels" in obj)
    )


def is_pending(obj: Mapping[str, Any]) -> bool:
    """Whether Trustpilot still holds the review for moderation (either payload generation)."""
    return bool(obj.get("isPending", obj.get("pending", False)))


def review_from_payload(obj: Mapping[str, Any], origin: str, company: str | None = None) -> Review:
    """One review object as a Review; raises PayloadError naming the bad field."""
    review_id = obj.get("id")
    if not isinstance(review_id, str) or not review_id:
        raise PayloadError("review object has no 'id'")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise PayloadError(f"review {review_id} has no 'text'")
    rating = obj.get("rating")
    if rating is not None and (not isinstance(rating, int) or not 1 <= rating <= 5):
        raise PayloadError(f"review {review_id} has rating {rating!r}, expected 1-5")
    dates = _mapping(obj.get("dates"))
    consumer = _mapping(obj.get("consumer"))
    reply = _mapping(obj.get("reply"))
    verification = _mapping(_mapping(obj.get("labels")).get("verification"))
    author = consumer.get("displayName")
    title = obj.get("title")
    likes = obj.get("likes")
    verified = verification.get("isVerified")
    return Review(
        id=review_id,
        text=text,
        rating=rating,
        title=invented_title(title if isinstance(title, str) else None, text),
        language=_str_or_none(obj.get("language")),
        published=_timestamp(dates.get("publishedDate"), review_id, "dates.publishedDate"),
        experienced=_date(dates.get("experiencedDate"), review_id),
        company=company,
        author=author.strip() if isinstance(author, str) else None,
        country=_str_or_none(consumer.get("countryCode")),
        reply=_str_or_none(reply.get("message")),
        verified=verified if isinstance(verified, bool) else None,
        likes=likes if isinstance(likes, int) else None,
        origin=origin,
    )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _timestamp(value: object, review_id: str, field: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"review {review_id} has {field}={value!r}, expected an ISO date")
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise PayloadError(f"review {review_id} {field}: {exc}") from None


def _date(value: object, review_id: str) -> dt.date | None:
    # experiencedDate is a calendar day written as midnight UTC.
    stamp = _timestamp(value, review_id, "dates.experiencedDate")
    return stamp.date() if stamp else None
