"""A polite HTTP client for scraping: identifies itself, paces requests, obeys robots.txt, and
retries transient failures with exponential backoff that honours `Retry-After`.

Waiting goes through an injectable `sleep` (and `clock`), so tests exercise real retry paths
against a loopback server without spending real seconds.
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests

from reviewops import __version__
from reviewops.sources.common import SourceError

# Where a site operator who sees our User-Agent in their logs can learn who we are.
PROJECT_URL = "https://github.com/reviewops/reviewops"
USER_AGENT = f"ReviewOps/{__version__} (+{PROJECT_URL})"


def user_agent(contact: str | None = None) -> str:
    """Our User-Agent; with `contact` (an e-mail or URL of whoever runs the scrape) appended.

    Site operators who see unusual traffic should be able to reach the person behind it, not
    only the project: deployments set it with REVIEWOPS_CONTACT / --contact.
    """
    contact = (contact or "").strip()
    if not contact:
        return USER_AGENT
    return f"ReviewOps/{__version__} (+{PROJECT_URL}; contact: {contact})"


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class FetchError(Exception):
    """A request that failed for good (retries exhausted, or an answer retrying cannot fix)."""

    def __init__(self, url: str, status: int | None, message: str) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.status = status
        self.message = message


class RobotsDisallowed(SourceError):
    """robots.txt forbids the path: a deliberate refusal by the site, never retried."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: retries after the first attempt, backoff base and caps (seconds)."""

    max_retries: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    # A server asking for a longer pause than this is told "later" rather than waited on.
    max_retry_after_seconds: float = 600.0

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (0-based): 1, 2, 4, ... capped."""
        return float(min(self.backoff_seconds * 2**retry, self.max_backoff_seconds))


class HttpClient:
    """GET pages politely; one instance per scrape so the pacing and robots cache are shared."""

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        delay_seconds: float = 1.0,
        timeout: tuple[float, float] = (10.0, 30.0),
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.session = session or requests.Session()
        self.delay_seconds = delay_seconds
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.user_agent = user_agent
        self.requests_sent = 0
        self._last_request: float | None = None
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}

    def get_text(self, url: str) -> str:
        """The body of a 200 answer; retries 429/5xx/timeouts, raises FetchError when it gives up."""
        for retry in range(self.policy.max_retries + 1):
            status, body, retry_after = self._attempt(url)
            if status == 200:
                return body
            if status is not None and status not in RETRY_STATUSES:
                raise FetchError(url, status, f"HTTP {status}{_hint(status)}")
            if retry == self.policy.max_retries:
                break
            self.pause_before_retry(url, status, retry, retry_after)
        what = f"HTTP {status}" if status is not None else "no answer"
        raise FetchError(
            url,
            status,
            f"{what} after {self.policy.max_retries + 1} attempts; giving up (run again later to resume)",
        )

    def pause_before_retry(
        self, url: str, status: int | None, retry: int, retry_after: float | None = None
    ) -> None:
        """Wait before retry number `retry`: the server's Retry-After if it gave one, else backoff."""
        wait = self.policy.backoff(retry) if retry_after is None else retry_after
        if wait > self.policy.max_retry_after_seconds:
            raise FetchError(
                url,
                status,
                f"HTTP {status}: the server asks to wait {wait:.0f} s "
                "(Retry-After), longer than ReviewOps waits; run again later",
            )
        self.sleep(wait)

    def ensure_allowed(self, url: str) -> None:
        """Raise RobotsDisallowed unless the site's robots.txt lets our User-Agent fetch `url`."""
        parser = self._robots_for(url)
        if not parser.can_fetch(self.user_agent, url):
            robots_url = _origin(url) + "/robots.txt"
            raise RobotsDisallowed(
                f"{robots_url} disallows {url} for {self.user_agent!r}; ReviewOps respects "
                "robots.txt. Read the reviews from an export instead (source.type: file)."
            )
        crawl_delay = parser.crawl_delay(self.user_agent)
        if crawl_delay is not None:
            self.delay_seconds = max(self.delay_seconds, float(crawl_delay))

    def _robots_for(self, url: str) -> urllib.robotparser.RobotFileParser:
        origin = _origin(url)
        if origin not in self._robots:
            parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
            try:
                parser.parse(self.get_text(origin + "/robots.txt").splitlines())
            except FetchError as exc:
                # RFC 9309: a missing robots.txt (4xx) allows everything; an unreachable one
                # (5xx, no answer) must be read as "disallow everything", so we stop.
                if exc.status is None or exc.status >= 500:
                    raise FetchError(
                        exc.url,
                        exc.status,
                        f"robots.txt unreachable ({exc.message}); not scraping without it",
                    ) from None
                parser.parse([])  # no rules: everything allowed
            self._robots[origin] = parser
        return self._robots[origin]

    def _attempt(self, url: str) -> tuple[int | None, str, float | None]:
        self._pace()
        self.requests_sent += 1
        try:
            response = self.session.get(
                url,
                headers={"User-Agent": self.user_agent, "Accept": "text/html,*/*;q=0.8"},
                timeout=self.timeout,
            )
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            # An unknown host or a refused connection will not change in a few seconds: say
            # so at once instead of retrying behind a progress bar.
            cause = unreachable_cause(exc)
            if cause is not None:
                raise FetchError(
                    url, None, f"{cause}; check the network, the proxy settings (HTTPS_PROXY) and the address"
                ) from None
            # No answer in time, or one cut off mid-body (fewer bytes than Content-Length):
            # transient, retried.
            return None, "", None
        finally:
            self._last_request = self.clock()
        retry_after = _retry_after(response.headers.get("Retry-After"))
        return response.status_code, _decode(response), retry_after

    def _pace(self) -> None:
        if self._last_request is None or self.delay_seconds <= 0:
            return
        wait = self.delay_seconds - (self.clock() - self._last_request)
        if wait > 0:
            self.sleep(wait)


def unreachable_cause(exc: BaseException) -> str | None:
    """Why a request could not even connect, in words, when retrying cannot help; else None.

    Name resolution failures (no network, no DNS, a misspelt host) and refused connections
    (nothing listens on that port) are permanent for the length of a run; time-outs and
    connections cut mid-answer are not.
    """
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(f"{type(e).__name__} {e}" for e in chain)
    host = urlsplit(getattr(getattr(exc, "request", None), "url", "") or "").netloc
    where = f" for {host}" if host else ""
    if (
        "NameResolutionError" in text
        or "gaierror" in text
        or "Name or service not known" in text
        or "Temporary failure in name resolution" in text
    ):
        return f"name resolution failed{where} (no network, no DNS, or no such host)"
    if "ConnectionRefusedError" in text or "Connection refused" in text:
        return f"connection refused{where} (nothing listens there)"
    return None


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: either a number of seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _decode(response: requests.Response) -> str:
    # Without a charset, requests falls back to ISO-8859-1 for text/*; pages today are UTF-8.
    declared = "charset=" in response.headers.get("Content-Type", "").lower()
    encoding = response.encoding if declared and response.encoding else "utf-8"
    return response.content.decode(encoding, errors="replace")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _hint(status: int) -> str:
    if status == 404:
        return " (no such page: check company.domain against the address on trustpilot.com)"
    if status in (401, 403):
        return " (access refused: Trustpilot may be blocking automated requests from here)"
    return ""
