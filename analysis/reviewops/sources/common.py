"""Rules every source shares: errors, dates, ids, invented titles, filtering and capping."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Iterable

from reviewops.records import Problem, Review
from reviewops.spec import Source, SourceType

_SPACES = re.compile(r"\s+")
_ELLIPSES = ("…", "...")


class SourceError(ValueError):
    """A source that cannot be read at all; the message says what is wrong, where, and what to do."""


def parse_timestamp(value: str) -> dt.datetime:
    """An ISO 8601 date or date-time as a timezone-aware UTC datetime.

    Naive values are taken as UTC because Trustpilot and most exports write UTC. Raises
    ValueError with the offending text when the value is not ISO 8601.
    """
    text = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an ISO 8601 date (expected e.g. 2024-04-03 or 2024-04-03T19:24:11Z)"
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def invented_title(title: str | None, text: str) -> str | None:
    """The title to keep: None when Trustpilot made it up from the text's first words.

    Trustpilot shows "First words of the text…" when the author wrote no title. Rule: a title
    that ends with an ellipsis ("…" or "...") and whose words before it (whitespace collapsed)
    are the start of the text is invented, so preprocessing must not count those words twice.
    A title equal to the text's opening without an ellipsis is the author's own and is kept.
    """
    if title is None:
        return None
    stripped = title.strip()
    for ellipsis in _ELLIPSES:
        if stripped.endswith(ellipsis):
            stem = _SPACES.sub(" ", stripped[: -len(ellipsis)]).strip()
            if stem and _SPACES.sub(" ", text).strip().startswith(stem):
                return None
            break
    return title if stripped else None


def stable_id(origin: str, text: str, published: dt.datetime | None) -> str:
    """A deterministic id for a review its source gave none: the same row always gets the same id."""
    stamp = published.isoformat() if published else ""
    digest = hashlib.sha1(f"{origin}\x1f{text}\x1f{stamp}".encode(), usedforsecurity=False)
    return digest.hexdigest()[:24]


def dedupe(reviews: Iterable[Review]) -> tuple[list[Review], int]:
    """Reviews with the first occurrence of each id kept, and how many repeats were dropped."""
    seen: set[str] = set()
    kept: list[Review] = []
    dropped = 0
    for review in reviews:
        if review.id in seen:
            dropped += 1
        else:
            seen.add(review.id)
            kept.append(review)
    return kept, dropped


def select(
    reviews: list[Review], source: Source, where: str
) -> tuple[list[Review], dict[str, int], list[Problem]]:
    """Apply the spec's filters: languages, `since`, then `maxReviews` (newest first).

    Reviews without a language or a date are kept: the source did not say, and dropping them
    would silently shrink files that carry no such column. When more than `maxReviews` remain,
    the newest are kept (undated ones last) and the input order is preserved. Reviews left out
    for their language are reported (at `where`), since a missing `languages` entry is the
    usual reason a file seems to hold nothing. A file source whose spec does not set
    `languages` keeps every language.
    """
    requested = source.requested_languages()
    wanted = set(requested) if requested is not None else {r.language for r in reviews if r.language}
    by_language = [r for r in reviews if r.language is None or r.language in wanted]
    problems: list[Problem] = []
    if len(by_language) < len(reviews):
        others = Counter(r.language for r in reviews if r.language and r.language not in wanted)
        counts = ", ".join(f"{n} in {lang!r}" for lang, n in others.most_common())
        problems.append(
            Problem(
                where,
                f"left out {counts}: not in source.languages {sorted(wanted)}; add them there to keep them",
            )
        )
    since = source.since
    in_range = by_language
    if since is not None:
        in_range = [r for r in by_language if r.published is None or r.published.date() >= since]
    kept = in_range
    if len(in_range) > source.max_reviews:
        order = sorted(range(len(in_range)), key=lambda i: _age_key(in_range[i]))
        chosen = sorted(order[: source.max_reviews])
        kept = [in_range[i] for i in chosen]
        if source.type == SourceType.FILE:  # a scrape stops at maxReviews by design; a file is cut
            problems.append(
                Problem(
                    where,
                    f"kept the newest {source.max_reviews} of {len(in_range)} reviews "
                    "(source.maxReviews, --max-reviews); raise it to analyse them all",
                )
            )
    stats = {
        "filtered_language": len(reviews) - len(by_language),
        "filtered_since": len(by_language) - len(in_range),
        "capped": len(in_range) - len(kept),
    }
    return kept, stats, problems


def _age_key(review: Review) -> tuple[int, float]:
    # Newest first; undated reviews sort after every dated one.
    if review.published is None:
        return (1, 0.0)
    return (0, -review.published.timestamp())
