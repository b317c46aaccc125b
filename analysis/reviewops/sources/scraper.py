"""Scrape a company's Trustpilot review listing, incrementally and resumably.

Addresses: `https://<host>.trustpilot.com/review/<domain>?languages=<lang>&page=N`. The
`languages` parameter does the filtering (it works on every host); the host is the language's
own Trustpilot site (fr.trustpilot.com for French, www for English and for languages without
one), i.e. the page a reader of that language gets, as in the saved fr.trustpilot.com page
the parser is tested on. Only the markup fallback depends on the host: it reads English and
French dates.

The listing is newest first. The cache (see cache.py) remembers which stretches ("gaps") of
the listing are still to fetch: a run first fetches what appeared since the last run (a gap
from page 1 down to the first review already stored), then finishes any gap an earlier run
left open (interrupted, rate limited), then extends the deep scan while fewer than
`maxReviews` are stored. Each page's reviews are stored as soon as it is parsed.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from reviewops.records import Problem, ProgressFn, Review, SourceResult, no_progress
from reviewops.sources.cache import Checkpoint, Gap, ReviewCache
from reviewops.sources.common import dedupe
from reviewops.sources.polite_http import FetchError, HttpClient
from reviewops.sources.trustpilot_parse import ParsedPage, parse_review_page
from reviewops.spec import Source

# Trustpilot's per-language sites; other languages use www with the languages filter.
HOSTS = {
    "en": "www",
    "fr": "fr",
    "de": "de",
    "es": "es",
    "it": "it",
    "nl": "nl",
    "da": "dk",
    "sv": "se",
    "nb": "no",
    "pl": "pl",
    "pt": "pt",
}
# How many of the newest stored ids mark the end of a new-reviews pass (two pages' worth, so
# a few deleted reviews cannot make the pass miss the stored part).
_ANCHORS = 40


def listing_url(base_url: str | None, domain: str, language: str, page: int) -> str:
    """The address of one page of a company's review listing in one language."""
    base = base_url.rstrip("/") if base_url else f"https://{HOSTS.get(language, 'www')}.trustpilot.com"
    return f"{base}/review/{quote(domain)}?languages={language}&page={page}"


class _PageFailed(Exception):
    """A page still unusable after retries; carries what could be read from it."""

    def __init__(self, page: ParsedPage) -> None:
        super().__init__(page.url)
        self.page = page


@dataclass(slots=True)
class _Run:
    """One language's scrape: stored reviews, checkpoint and counters."""

    domain: str
    language: str
    source: Source
    quota: int
    client: HttpClient
    cache: ReviewCache
    base_url: str | None
    progress: ProgressFn
    stored: list[Review] = field(default_factory=list)
    known: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    complete: bool = True
    pages: int = 0
    new: int = 0
    pending: int = 0
    wanted: int = 0  # stored reviews within `since`, kept current page by page

    def in_range(self, review: Review) -> bool:
        since = self.source.since
        return since is None or review.published is None or review.published.date() >= since

    def run(self) -> None:
        loaded, self.problems = self.cache.load()
        self.stored, _ = dedupe(loaded)
        self.known = {r.id for r in self.stored}
        self.wanted = sum(map(self.in_range, self.stored))
        self.progress(len(self.stored))
        checkpoint = self._starting_checkpoint()
        try:
            self.client.ensure_allowed(self._url(1))
            for gap in list(checkpoint.gaps):
                # A gap paused by `since` or the quota means every gap below is older still.
                if self._worth_fetching(gap, checkpoint) and not self._fill(gap, checkpoint):
                    break
        except FetchError as exc:
            self.problems.append(Problem(exc.url, exc.message))
            self.complete = False
        except _PageFailed as exc:
            self._keep(exc.page.reviews)
            self.problems.extend(exc.page.problems)
            self.problems.append(
                Problem(exc.page.url, "page unusable after retries; it will be fetched again on the next run")
            )
            self.complete = False

    def _starting_checkpoint(self) -> Checkpoint:
        checkpoint = self.cache.load_checkpoint() or Checkpoint(gaps=[Gap(1)])
        if self.stored:
            newest = sorted(self.stored, key=_newest_first)[:_ANCHORS]
            checkpoint.gaps.insert(0, Gap(1, until=[r.id for r in newest]))
        return checkpoint

    def _worth_fetching(self, gap: Gap, checkpoint: Checkpoint) -> bool:
        since = self.source.since
        if since is not None and gap.floor is not None and gap.floor < since.isoformat():
            return False
        if not gap.until:  # the deep scan
            return not checkpoint.reached_end and self.wanted < self.quota
        return True

    def _fill(self, gap: Gap, checkpoint: Checkpoint) -> bool:
        """Fetch the gap's pages; True when the gap is closed, False when paused."""
        until = set(gap.until)
        while True:
            page = self._fetch(self._url(gap.next_page))
            self._keep(page.reviews)
            self.problems.extend(page.problems)
            self.pages += 1
            self.pending += page.pending
            dates = [r.published for r in page.reviews if r.published is not None]
            if dates:
                gap.floor = min(dates).date().isoformat()
            gap.next_page += 1
            met_stored = bool(until) and any(r.id in until for r in page.reviews)
            at_end = page.is_last or not page.reviews
            if met_stored or at_end:
                checkpoint.gaps.remove(gap)
                checkpoint.reached_end |= at_end and not until
                self.cache.save_checkpoint(checkpoint)
                return True
            self.cache.save_checkpoint(checkpoint)
            since = self.source.since
            if since is not None and dates and min(dates).date() < since:
                return False
            if not until and self.wanted >= self.quota:
                return False

    def _fetch(self, url: str) -> ParsedPage:
        """A parsed page, fetched again (with backoff) while it arrives cut short or empty."""
        retries = self.client.policy.max_retries
        for retry in range(retries + 1):
            page = parse_review_page(self.client.get_text(url), url)
            if not page.truncated and page.method != "none":
                return page
            if retry < retries:
                what = "arrived truncated" if page.truncated else "held no review data"
                self.problems.append(Problem(url, f"page {what}; fetching it again"))
                self.client.pause_before_retry(url, 200, retry)
        raise _PageFailed(page)

    def _keep(self, reviews: list[Review]) -> None:
        fresh = [r for r in reviews if r.id not in self.known]
        fresh, _ = dedupe(fresh)
        self.cache.append(fresh)
        self.stored.extend(fresh)
        self.known.update(r.id for r in fresh)
        self.new += len(fresh)
        self.wanted += sum(map(self.in_range, fresh))
        self.progress(len(fresh))

    def _url(self, page: int) -> str:
        return listing_url(self.base_url, self.domain, self.language, page)


def scrape_trustpilot(
    domain: str,
    source: Source,
    *,
    client: HttpClient,
    cache_dir: Path | None = None,
    base_url: str | None = None,
    progress: ProgressFn = no_progress,
) -> SourceResult:
    """Reviews of `domain` in `source.languages`, newest first, at most `source.maxReviews`.

    `maxReviews` is shared between the languages (a language with fewer reviews leaves its
    share to the next). Never raises for network trouble: a give-up returns what was fetched
    with `complete=False` and a Problem naming the URL and status. Raises RobotsDisallowed
    when robots.txt forbids the listing.
    """
    reviews: list[Review] = []
    problems: list[Problem] = []
    complete = True
    stats = {"pages": 0, "new": 0, "cached": 0, "pending": 0}
    remaining = source.max_reviews
    for index, language in enumerate(source.languages):
        quota = math.ceil(remaining / (len(source.languages) - index))
        run = _Run(
            domain,
            language,
            source,
            quota,
            client,
            ReviewCache(cache_dir, domain, language),
            base_url,
            progress,
        )
        run.run()
        chosen = sorted(filter(run.in_range, run.stored), key=_newest_first)[:quota]
        reviews.extend(chosen)
        remaining -= len(chosen)
        problems.extend(run.problems)
        complete &= run.complete
        stats["pages"] += run.pages
        stats["new"] += run.new
        stats["cached"] += len(run.stored) - run.new
        stats["pending"] += run.pending
    stats["requests"] = client.requests_sent
    return SourceResult(reviews, problems, complete, stats)


def _newest_first(review: Review) -> float:
    return -(review.published or dt.datetime.min.replace(tzinfo=dt.UTC)).timestamp()
