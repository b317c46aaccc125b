"""Parse one Trustpilot review-listing page into reviews, pagination and the business unit.

Three readers, most complete first: the Next.js payload (`__NEXT_DATA__` →
`props.pageProps.reviews`, never the featured `relevantReviews` / `aiSummaryReviews` /
`topicAiSummaryReviews`), then the JSON-LD `Review` nodes (completed from the markup by id),
then the markup alone. A page cut short in transit is flagged `truncated` so the scraper can
fetch it again rather than store a partial page as if it were whole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from lxml import etree
from lxml import html as lxml_html

from reviewops.records import Problem, Review
from reviewops.sources.common import invented_title, parse_timestamp
from reviewops.sources.trustpilot_markup import (
    markup_current_page,
    markup_next_url,
    reviews_from_markup,
)
from reviewops.sources.trustpilot_payload import PayloadError, is_pending, review_from_payload

Method = Literal["next_data", "json_ld", "markup", "none"]


@dataclass(slots=True)
class BusinessUnit:
    """The reviewed company as Trustpilot describes it."""

    id: str | None = None
    display_name: str | None = None
    identifying_name: str | None = None  # the domain, e.g. www.showroomprive.com
    number_of_reviews: int | None = None
    trust_score: float | None = None
    stars: float | None = None


@dataclass(slots=True)
class ParsedPage:
    """What one listing page holds, and how it was read."""

    url: str
    reviews: list[Review]
    method: Method
    current_page: int | None = None
    total_pages: int | None = None
    total_count: int | None = None
    per_page: int | None = None
    next_url: str | None = None
    business_unit: BusinessUnit | None = None
    problems: list[Problem] = field(default_factory=list)
    truncated: bool = False
    pending: int = 0  # reviews still held for moderation (kept, counted)

    @property
    def is_last(self) -> bool:
        """True when no page follows this one."""
        if self.current_page is not None and self.total_pages is not None:
            return self.current_page >= self.total_pages
        return self.next_url is None


def parse_review_page(html: str, url: str) -> ParsedPage:
    """Read a Trustpilot review-listing page (`/review/<domain>?page=N`) saved or fetched.

    Never raises on bad content: what is wrong goes to `problems`, and `method == "none"`
    means no reviews could be found at all (not a Trustpilot listing, or cut before any).
    """
    truncated = "</html>" not in html[-4096:].lower()
    try:
        doc = lxml_html.fromstring(html)
    except (etree.ParserError, ValueError):
        return ParsedPage(
            url,
            [],
            "none",
            truncated=True,
            problems=[Problem(url, "empty response instead of a review page")],
        )
    problems: list[Problem] = []
    if truncated:
        problems.append(Problem(url, "page is truncated (no closing </html>)"))
    props = _next_data(doc, url, problems)
    if props is not None and isinstance(props.get("reviews"), list):
        page = _from_next_data(props, url, problems)
    else:
        page = _from_json_ld(doc, url, problems) or _from_markup(doc, url, problems)
        if page.method != "none":
            problems.append(Problem(url, f"no usable __NEXT_DATA__; read the {page.method}"))
    page.next_url = page.next_url or markup_next_url(doc)
    page.problems = problems
    page.truncated = truncated or page.truncated
    return page


def _next_data(doc: Any, url: str, problems: list[Problem]) -> Mapping[str, Any] | None:
    scripts = doc.xpath('//script[@id="__NEXT_DATA__"]/text()')
    if not scripts:
        return None
    try:
        data = json.loads(scripts[0])
    except json.JSONDecodeError as exc:
        problems.append(
            Problem(
                url,
                f"__NEXT_DATA__ is not valid JSON ({exc.msg} at char "
                f"{exc.pos}); the page was probably cut short",
            )
        )
        return None
    props = data.get("props", {}).get("pageProps") if isinstance(data, dict) else None
    return props if isinstance(props, Mapping) else None


def _from_next_data(props: Mapping[str, Any], url: str, problems: list[Problem]) -> ParsedPage:
    unit = _business_unit(props.get("businessUnit"))
    company = unit.identifying_name if unit else None
    reviews: list[Review] = []
    pending = 0
    for index, obj in enumerate(props["reviews"]):
        try:
            reviews.append(review_from_payload(obj, url, company))
        except PayloadError as exc:
            problems.append(Problem(f"{url} review #{index + 1}", f"{exc}; skipped"))
            continue
        pending += is_pending(obj)
    pagination = props.get("filters", {}).get("pagination", {})
    return ParsedPage(
        url,
        reviews,
        "next_data",
        current_page=_int(pagination.get("currentPage")),
        total_pages=_int(pagination.get("totalPages")),
        total_count=_int(pagination.get("totalCount")),
        per_page=_int(pagination.get("perPage")),
        business_unit=unit,
        pending=pending,
    )


def _from_json_ld(doc: Any, url: str, problems: list[Problem]) -> ParsedPage | None:
    nodes = _json_ld_nodes(doc)
    review_nodes = [n for n in nodes if n.get("@type") == "Review"]
    if not review_nodes:
        return None
    unit = next((_unit_from_ld(n) for n in nodes if n.get("@type") == "LocalBusiness"), None)
    company = unit.identifying_name if unit else None
    by_id = {r.id: r for r in reviews_from_markup(doc, url, None, company)[0]}
    reviews: list[Review] = []
    for index, node in enumerate(review_nodes):
        try:
            review = _review_from_ld(node, url, company)
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(Problem(f"{url} JSON-LD review #{index + 1}", f"unreadable ({exc!r}); skipped"))
            continue
        if review.id in by_id:
            _complete_from_markup(review, by_id[review.id])
        reviews.append(review)
    return ParsedPage(url, reviews, "json_ld", current_page=markup_current_page(doc), business_unit=unit)


def _from_markup(doc: Any, url: str, problems: list[Problem]) -> ParsedPage:
    reviews, card_problems = reviews_from_markup(doc, url, _url_language(url), _url_domain(url))
    problems.extend(card_problems)
    if not reviews and not card_problems:
        problems.append(
            Problem(url, "no reviews found: not a Trustpilot review listing, or its layout changed")
        )
        return ParsedPage(url, [], "none")
    return ParsedPage(url, reviews, "markup", current_page=markup_current_page(doc))


def _json_ld_nodes(doc: Any) -> list[Mapping[str, Any]]:
    nodes: list[Mapping[str, Any]] = []
    for script in doc.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(script)
        except json.JSONDecodeError:
            continue  # a cut JSON-LD block: the markup still has the reviews
        for item in data if isinstance(data, list) else [data]:
            graph = item.get("@graph", item) if isinstance(item, dict) else item
            nodes.extend(n for n in (graph if isinstance(graph, list) else [graph]) if isinstance(n, dict))
    return nodes


def _review_from_ld(node: Mapping[str, Any], url: str, company: str | None) -> Review:
    # "@id": "https://www.trustpilot.com/#/schema/Review/<domain>/<review id>"
    review_id = str(node["@id"]).rstrip("/").rsplit("/", 1)[-1]
    text = str(node["reviewBody"])
    rating = int(node["reviewRating"]["ratingValue"])
    if not 1 <= rating <= 5:
        raise ValueError(f"rating {rating} outside 1-5")
    author = node.get("author", {}).get("name")
    published = node.get("datePublished")
    return Review(
        id=review_id,
        text=text,
        rating=rating,
        title=invented_title(node.get("headline"), text),
        language=node.get("inLanguage"),
        published=parse_timestamp(published) if published else None,
        company=company,
        author=author.strip() if isinstance(author, str) else None,
        origin=url,
    )


def _unit_from_ld(node: Mapping[str, Any]) -> BusinessUnit:
    # "@id": "https://www.trustpilot.com/#/schema/Organization/<domain>"
    domain = str(node.get("@id", "")).rstrip("/").rsplit("/", 1)[-1] or None
    return BusinessUnit(display_name=node.get("name"), identifying_name=domain)


def _business_unit(obj: object) -> BusinessUnit | None:
    if not isinstance(obj, Mapping):
        return None
    return BusinessUnit(
        id=obj.get("id"),
        display_name=obj.get("displayName"),
        identifying_name=obj.get("identifyingName"),
        number_of_reviews=_int(obj.get("numberOfReviews")),
        trust_score=_float(obj.get("trustScore")),
        stars=_float(obj.get("stars")),
    )


def _complete_from_markup(review: Review, card: Review) -> None:
    for f in fields(Review):
        if getattr(review, f.name) is None:
            setattr(review, f.name, getattr(card, f.name))
    # JSON-LD drops line breaks; the card has the same characters with the author's breaks.
    if "".join(card.text.split()) == "".join(review.text.split()):
        review.text = card.text


def _url_domain(url: str) -> str | None:
    # Listing addresses are /review/<domain>; a saved file's path says nothing.
    parts = urlsplit(url).path.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "review" and parts[2] else None


def _url_language(url: str) -> str | None:
    # The listing was filtered by ?languages=xx, so every review on it is in that language.
    values = parse_qs(urlsplit(url).query).get("languages", [])
    return values[0] if len(values) == 1 and len(values[0]) == 2 else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
