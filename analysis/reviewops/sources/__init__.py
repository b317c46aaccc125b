"""Review sources: the Trustpilot scraper, files, and the built-in demo dataset.

`load_reviews` is the one entry point: it dispatches on `source.type`, then applies the
spec's filters (languages, since, maxReviews) the same way for every source.
"""

from __future__ import annotations

from pathlib import Path

import requests

from reviewops.records import ProgressFn, SourceResult, no_progress
from reviewops.sources.common import SourceError, select
from reviewops.sources.polite_http import (
    FetchError,
    HttpClient,
    RetryPolicy,
    RobotsDisallowed,
    user_agent,
)
from reviewops.sources.trustpilot_parse import BusinessUnit, ParsedPage, parse_review_page
from reviewops.spec import Company, Source, SourceType

__all__ = [
    "BusinessUnit",
    "FetchError",
    "HttpClient",
    "ParsedPage",
    "RetryPolicy",
    "RobotsDisallowed",
    "SourceError",
    "load_reviews",
    "parse_review_page",
]


def load_reviews(
    source: Source,
    company: Company,
    *,
    cache_dir: Path | None = None,
    progress: ProgressFn = no_progress,
    session: requests.Session | None = None,
    base_url: str | None = None,
    contact: str | None = None,
) -> SourceResult:
    """Read the reviews `source` describes for `company`.

    - trustpilot: scrape `company.domain` in `source.languages` (cached and resumable under
      `cache_dir`; `base_url` replaces https://<lang>.trustpilot.com, e.g. for a test server;
      `contact` is appended to the User-Agent so site operators can reach whoever scrapes);
    - file: read `source.path` (CSV, JSONL, JSON, saved HTML pages, or a folder of them);
    - demo: generate `source.demoSize` reviews with the built-in generator.

    Problems with single rows or pages are reported in the result, never raised. Raises
    SourceError (a ValueError) when the source cannot be read at all: no domain, a missing
    or empty file, wrong columns, invalid UTF-8, JSON that holds no reviews, a robots.txt
    that forbids scraping.
    """
    if source.type == SourceType.DEMO:
        from reviewops.demo import generate

        reviews, _themes = generate(source.demo_size, source.seed, list(source.languages))
        progress(len(reviews))
        return SourceResult(reviews, stats={"generated": len(reviews)})
    if source.type == SourceType.FILE:
        from reviewops.sources.files import read_file_source

        result = read_file_source(source, progress)
        where = str(source.path)
    else:
        agent = user_agent(contact)
        client = HttpClient(session, delay_seconds=source.request_delay_seconds, user_agent=agent)
        result = _scrape(source, company, cache_dir, progress, client, base_url)
        where = f"trustpilot:{company.domain}"
    result.reviews, filtered, notes = select(result.reviews, source, where)
    result.stats.update(filtered)
    result.problems.extend(notes)
    return result


def _scrape(
    source: Source,
    company: Company,
    cache_dir: Path | None,
    progress: ProgressFn,
    client: HttpClient,
    base_url: str | None,
) -> SourceResult:
    from reviewops.sources.scraper import scrape_trustpilot

    if not company.domain:
        raise SourceError(
            "company.domain is required to scrape Trustpilot: give the domain "
            "of the company's Trustpilot page, e.g. www.backmarket.com"
        )
    return scrape_trustpilot(
        company.domain, source, client=client, cache_dir=cache_dir, base_url=base_url, progress=progress
    )
