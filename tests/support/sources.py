"""Test helpers for the review sources: invented reviews, synthetic Trustpilot pages, and a
small Trustpilot look-alike HTTP server on 127.0.0.1 with scriptable failures.

Every text here is made up for the tests; nothing is copied from real reviews.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_OPENINGS = ["Parcel came", "The phone arrived", "Support answered", "Refund took", "Battery lasts"]
_ENDINGS = [
    "quickly and well packed.",
    "with a scratch on the screen.",
    "after two weeks.",
    "all day without trouble.",
    "but the charger was missing.",
]


def invented_reviews(
    count: int,
    *,
    newest: dt.datetime = dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC),
    language: str = "en",
    id_start: int = 0,
    step: dt.timedelta = dt.timedelta(days=1),
) -> list[dict[str, Any]]:
    """`count` Trustpilot-shaped review objects, newest first, one per `step` back in time."""
    reviews = []
    for i in range(count):
        number = id_start + i
        published = newest - i * step
        text = f"{_OPENINGS[number % 5]} {_ENDINGS[(number // 5) % 5]} Order {number}."
        reviews.append(
            {
                "id": f"{number:024x}",
                "filtered": False,
                "isPending": False,
                "text": text,
                "rating": number % 5 + 1,
                "labels": {
                    "verification": {
                        "isVerified": number % 2 == 0,
                        "verificationLevel": "verified" if number % 2 == 0 else "not-verified",
                    }
                },
                "title": f"Review number {number}",
                "likes": number % 3,
                "source": "Organic",
                "dates": {
                    "experiencedDate": published.strftime("%Y-%m-%dT00:00:00.000Z"),
                    "publishedDate": published.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "updatedDate": None,
                    "submittedDate": None,
                },
                "consumer": {
                    "id": f"c{number}",
                    "displayName": f"Tester{number}",
                    "countryCode": "GB",
                    "numberOfReviews": 1,
                },
                "reply": None,
                "language": language,
            }
        )
    return reviews


def render_page(
    reviews: list[dict[str, Any]],
    page: int,
    total_pages: int,
    *,
    domain: str = "www.example-shop.com",
    per_page: int = 20,
    total_count: int | None = None,
) -> str:
    """A listing page carrying its data the way Trustpilot does: `__NEXT_DATA__` JSON."""
    props = {
        "businessUnit": {
            "id": "b1",
            "displayName": "Example Shop",
            "identifyingName": domain,
            "numberOfReviews": total_count or len(reviews),
            "trustScore": 4.1,
            "stars": 4,
        },
        "reviews": reviews,
        "relevantReviews": invented_reviews(2, id_start=900_000),  # featured: must be ignored
        "filters": {
            "pagination": {
                "currentPage": page,
                "perPage": per_page,
                "totalCount": total_count or len(reviews),
                "totalPages": total_pages,
            }
        },
    }
    data = json.dumps({"props": {"pageProps": props}, "page": "/review/[businessUnit]"})
    return (
        '<!DOCTYPE html><html lang="en"><head><title>Example Shop reviews</title></head>'
        f'<body><main>reviews</main><script id="__NEXT_DATA__" type="application/json">'
        f"{data}</script></body></html>"
    )


@dataclass
class Fault:
    """One scripted answer replacing the normal page: a status, headers, maybe a cut body."""

    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    truncate: bool = False  # serve the real page cut in half, with status 200
    drop: bool = False  # announce the whole page, send half, close the connection


@dataclass
class Request:
    path: str
    query: dict[str, str]
    user_agent: str


class FakeTrustpilot:
    """A loopback server answering /robots.txt and /review/<domain>?languages=xx&page=N.

    `listings[language]` holds the review objects, newest first; `faults[(language, page)]`
    queues answers served before the real page (`robots_faults` before robots.txt);
    `empty_pages` answer with an empty review list.
    """

    def __init__(self, per_page: int = 20, robots: str | None = "User-agent: *\nAllow: /\n") -> None:
        self.per_page = per_page
        self.robots = robots
        self.listings: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.faults: dict[tuple[str, int], deque[Fault]] = defaultdict(deque)
        self.empty_pages: set[tuple[str, int]] = set()
        self.robots_faults: deque[Fault] = deque()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # A short poll interval keeps shutdown (one per test) from costing half a second.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def page_requests(self) -> list[tuple[str, int]]:
        """(language, page) of every listing request, in order."""
        return [
            (r.query["languages"], int(r.query["page"]))
            for r in self.requests
            if r.path.startswith("/review/")
        ]

    def fail(self, language: str, page: int, *faults: Fault) -> None:
        """Serve these answers, in order, before the real page."""
        self.faults[(language, page)].extend(faults)

    def __enter__(self) -> FakeTrustpilot:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], str, int]:
        """Status, extra headers, body, and the Content-Length to announce."""
        if path == "/robots.txt":
            if self.robots_faults:
                refusal = self.robots_faults.popleft()
                return refusal.status, refusal.headers, "", 0
            robots = self.robots or ""
            return (404 if self.robots is None else 200), {}, robots, len(robots.encode())
        if not path.startswith("/review/"):
            return 404, {}, "not found", 9
        language, page = query.get("languages", "en"), int(query.get("page", "1"))
        with self._lock:
            queued = self.faults[(language, page)]
            fault = queued.popleft() if queued else None
            listing = list(self.listings[language])
        total_pages = max(1, math.ceil(len(listing) / self.per_page))
        start = (page - 1) * self.per_page
        shown = [] if (language, page) in self.empty_pages else listing[start : start + self.per_page]
        body = render_page(
            shown,
            page,
            total_pages,
            domain=path.split("/")[2],
            per_page=self.per_page,
            total_count=len(listing),
        )
        size = len(body.encode())
        if fault is None:
            return 200, {}, body, size
        if fault.truncate:
            half = body[: len(body) // 2]
            return 200, {}, half, len(half.encode())
        if fault.drop:
            return 200, {}, body[: len(body) // 2], size
        busy = "<html><body>busy</body></html>"
        return fault.status, fault.headers, busy, len(busy)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                fake.requests.append(Request(parts.path, query, self.headers.get("User-Agent", "")))
                status, headers, body, length = fake._answer(parts.path, query)
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(length))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: object) -> None:  # keep pytest output clean
                pass

        return Handler


@dataclass
class Sleeps:
    """An injectable `sleep` that records the waits instead of spending them."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
