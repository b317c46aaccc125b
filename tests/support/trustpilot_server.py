"""A Trustpilot look-alike on 127.0.0.1 serving the project's own demo reviews, for end-to-end runs.

`reviewops.demo.generate` writes the reviews (invented text, stars, dates, authors); this module
turns them into Trustpilot's review objects (`pageProps.reviews[]`, the shape
`reviewops.sources.trustpilot_payload` reads) and serves them as listing pages
`/review/<domain>?languages=<lang>&page=N`: newest first, `per_page` a page, the pagination
block and a `<link rel="next">` as Trustpilot's pages carry them, plus `/robots.txt`. The real
parser (`reviewops.sources.trustpilot_parse.parse_review_page`) reads them; nothing is copied
from real pages or reviews.

The server runs in a thread of the test process; Airflow's workers (other processes) reach it
by its URL (REVIEWOPS_TRUSTPILOT_BASE_URL). A domain can be made to fail: `fail(domain, 500)`
answers every listing page of that domain with that status and `Retry-After: 0`, so the
scraper gives up after its retries without the test spending the backoff.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from reviewops.demo import DEMO_COMPANY, generate
from reviewops.records import Review


def review_id(demo_id: str) -> str:
    """Trustpilot ids are 24 hex digits; a demo id maps to one, always the same."""
    return hashlib.sha256(demo_id.encode("utf-8")).hexdigest()[:24]


def _stamp(review: Review) -> str | None:
    if review.published is None:
        return None
    return review.published.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def review_object(review: Review) -> dict[str, Any]:
    """One demo review as a Trustpilot review object (current payload generation)."""
    return {
        "id": review_id(review.id),
        "filtered": False,
        "isPending": False,
        "text": review.text,
        "rating": review.rating,
        "labels": {
            "verification": {
                "isVerified": bool(review.verified),
                "verificationLevel": "verified" if review.verified else "not-verified",
            }
        },
        "title": review.title,
        "likes": review.likes or 0,
        "source": "Organic",
        "dates": {
            "experiencedDate": review.experienced.strftime("%Y-%m-%dT00:00:00.000Z")
            if review.experienced
            else None,
            "publishedDate": _stamp(review),
            "updatedDate": None,
            "submittedDate": _stamp(review),
        },
        "consumer": {
            "id": review_id(f"consumer-{review.author}"),
            "displayName": review.author or "Anonymous",
            "countryCode": review.country or "GB",
            "numberOfReviews": 1,
        },
        "reply": {"message": review.reply} if review.reply else None,
        "language": review.language,
    }


def demo_listing(size: int, seed: int = 42, language: str = "en") -> list[dict[str, Any]]:
    """`size` demo reviews in `language` as Trustpilot review objects, newest first."""
    reviews, _themes = generate(size, seed, [language])
    reviews.sort(key=lambda r: r.published.timestamp() if r.published else 0.0, reverse=True)
    return [review_object(r) for r in reviews]


def render_listing_page(
    objects: list[dict[str, Any]],
    *,
    domain: str,
    language: str,
    page: int,
    per_page: int,
    base_url: str,
) -> str:
    """Page `page` of a listing, with `__NEXT_DATA__` as Trustpilot embeds it."""
    total = len(objects)
    pages = max(1, math.ceil(total / per_page))
    shown = objects[(page - 1) * per_page : page * per_page]
    props = {
        "businessUnit": {
            "id": review_id(f"unit-{domain}"),
            "displayName": DEMO_COMPANY,
            "identifyingName": domain,
            "numberOfReviews": total,
            "trustScore": 4.0,
            "stars": 4,
        },
        "reviews": shown,
        "relevantReviews": [],
        "filters": {
            "pagination": {"currentPage": page, "perPage": per_page, "totalCount": total, "totalPages": pages}
        },
    }
    data = json.dumps({"props": {"pageProps": props}, "page": "/review/[businessUnit]"}, ensure_ascii=False)
    data = data.replace("</", "<\\/")  # a review text can never close the script element
    listing = f"{base_url}/review/{quote(domain)}?languages={language}"
    link = f'<link rel="next" href="{html.escape(listing)}&amp;page={page + 1}">' if page < pages else ""
    return (
        f'<!DOCTYPE html><html lang="{language}"><head><title>{html.escape(DEMO_COMPANY)} reviews'
        f"</title>{link}</head><body><main><h1>{html.escape(DEMO_COMPANY)}</h1></main>"
        f'<script id="__NEXT_DATA__" type="application/json">{data}</script></body></html>'
    )


@dataclass(frozen=True, slots=True)
class Hit:
    """One request the server answered."""

    path: str
    domain: str | None
    language: str | None
    page: int | None
    status: int
    user_agent: str


class DemoTrustpilot:
    """`with DemoTrustpilot() as site: site.add(domain, demo_listing(400))`; `site.url`."""

    def __init__(self, per_page: int = 20) -> None:
        self.per_page = per_page
        self.listings: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.failing: dict[str, int] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="demo-trustpilot", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, domain: str, objects: list[dict[str, Any]], language: str = "en") -> None:
        """Serve `objects` (newest first) as `domain`'s listing in `language`."""
        with self._lock:
            self.listings[(domain, language)] = list(objects)

    def fail(self, domain: str, status: int = 500) -> None:
        """Answer every listing page of `domain` with `status` (Retry-After: 0)."""
        with self._lock:
            self.failing[domain] = status

    def heal(self, domain: str) -> None:
        with self._lock:
            self.failing.pop(domain, None)

    def pages_served(self, domain: str) -> list[int]:
        """Pages of `domain` answered with 200, in order."""
        with self._lock:
            return [h.page for h in self.hits if h.domain == domain and h.status == 200 and h.page]

    def statuses(self, domain: str) -> list[int]:
        with self._lock:
            return [h.status for h in self.hits if h.domain == domain]

    def __enter__(self) -> DemoTrustpilot:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def answer(self, target: str) -> tuple[int, dict[str, str], str, Hit]:
        """Status, headers and body for a request target (path and query)."""
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/robots.txt":
            return 200, {}, "User-agent: *\nAllow: /\n", Hit(parts.path, None, None, None, 200, "")
        segments = parts.path.split("/")
        if len(segments) != 3 or segments[1] != "review":
            return 404, {}, "not found", Hit(parts.path, None, None, None, 404, "")
        domain = unquote(segments[2])
        language = query.get("languages", "en")
        page = int(query["page"]) if query.get("page", "1").isdigit() else 1
        with self._lock:
            failing = self.failing.get(domain)
            objects = self.listings.get((domain, language))
        hit = Hit(parts.path, domain, language, page, 200, "")
        if failing is not None:
            return failing, {"Retry-After": "0"}, "<html><body>unavailable</body></html>", _with(hit, failing)
        if objects is None:
            return 404, {}, "<html><body>no such company</body></html>", _with(hit, 404)
        body = render_listing_page(
            objects, domain=domain, language=language, page=page, per_page=self.per_page, base_url=self.url
        )
        return 200, {}, body, hit

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, headers, body, hit = site.answer(self.path)
                agent = self.headers.get("User-Agent", "")
                with site._lock:
                    site.hits.append(Hit(hit.path, hit.domain, hit.language, hit.page, hit.status, agent))
                payload = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: object) -> None:  # keep pytest's output clean
                pass

        return Handler


def _with(hit: Hit, status: int) -> Hit:
    return Hit(hit.path, hit.domain, hit.language, hit.page, status, hit.user_agent)
