"""The last-resort reader of a Trustpilot review page: its HTML markup.

Used when the page has neither `__NEXT_DATA__` nor JSON-LD reviews, and to fill fields JSON-LD
does not carry (country, reply, experience date, verification). The markup is a rendering for
people, so some facts are read from localized text: the experience date ("13 mai 2026") and the
verification label ("Vérifié"). Dates in languages other than English and French stay None.
A card shows one time, the last edit's: for an edited review `published` is its update time.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from reviewops.records import Problem, Review
from reviewops.sources.common import invented_title, parse_timestamp

# The main list's cards; the carousel of featured reviews has no rating attribute.
_CARDS = "//article[.//*[@data-service-review-rating]]"
_REVIEW_LINK = re.compile(r"/reviews/([0-9a-f]{24})\b")
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "janvier", "jan", "janv"),
            ("february", "fevrier", "feb", "fevr"),
            ("march", "mars", "mar"),
            ("april", "avril", "apr", "avr"),
            ("may", "mai"),
            ("june", "juin", "jun"),
            ("july", "juillet", "jul", "juil"),
            ("august", "aout", "aug"),
            ("september", "septembre", "sep", "sept"),
            ("october", "octobre", "oct"),
            ("november", "novembre", "nov"),
            ("december", "decembre", "dec"),
        ],
        start=1,
    )
    for name in names
}
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})\.?\s+([^\W\d_]+)\.?\s+(\d{4})")
_MONTH_DAY_YEAR = re.compile(r"([^\W\d_]+)\.?\s+(\d{1,2}),?\s+(\d{4})")


def reviews_from_markup(
    doc: Any, url: str, language: str | None, company: str | None
) -> tuple[list[Review], list[Problem]]:
    """Every review card of the page's main list, in page order."""
    reviews: list[Review] = []
    problems: list[Problem] = []
    for index, card in enumerate(doc.xpath(_CARDS)):
        review = _card_review(card, url, language, company)
        if review is None:
            problems.append(
                Problem(f"{url} review card #{index + 1}", "card without a review link or text; skipped")
            )
        else:
            reviews.append(review)
    return reviews, problems


def markup_next_url(doc: Any) -> str | None:
    """The next page's address from `<link rel="next">` or the pagination's next button."""
    hrefs = doc.xpath('//link[@rel="next"]/@href | //a[@name="pagination-button-next"]/@href')
    return str(hrefs[0]) if hrefs else None


def markup_current_page(doc: Any) -> int | None:
    """The page number the pagination marks as current."""
    current = str(
        doc.xpath('string(//a[starts-with(@name, "pagination-button-")][@aria-current="page"])')
    ).strip()
    return int(current) if current.isdigit() else None


def _card_review(card: Any, url: str, language: str | None, company: str | None) -> Review | None:
    links = [m.group(1) for href in card.xpath(".//a/@href") if (m := _REVIEW_LINK.search(href))]
    title = _first_text(card, ".//*[@data-service-review-title-typography]")
    # Trustpilot omits the text paragraph when it would repeat the title verbatim.
    text = _first_text(card, ".//*[@data-service-review-text-typography]") or title
    if not links or not text:
        return None
    rating = card.xpath(".//@data-service-review-rating")
    published = card.xpath(".//time[@data-service-review-date-time-ago]/@datetime")
    labels = " ".join(card.xpath('.//*[@data-name="review-label-tooltip-trigger"]//text()'))
    likes = re.findall(r"\d+", " ".join(card.xpath(".//*[@data-find-useful-button]//text()")))
    author = _first_text(card, ".//*[@data-consumer-name-typography]")
    return Review(
        id=links[0],
        text=text,
        rating=int(rating[0]) if rating and str(rating[0]).isdigit() else None,
        title=invented_title(title, text),
        language=language,
        published=parse_timestamp(published[0]) if published else None,
        experienced=parse_local_date(_first_text(card, './/*[@data-testid="review-badge-date"]')),
        company=company,
        author=author.strip() if author else None,
        country=_first_text(card, ".//*[@data-consumer-country-typography]"),
        reply=_first_text(card, ".//*[@data-service-review-business-reply-text-typography]"),
        # Only verified reviews carry the label ("Verified", "Vérifié", "Verifiziert", ...).
        verified="verif" in _fold(labels),
        likes=int(likes[0]) if likes else 0,
        origin=url,
    )


def parse_local_date(text: str | None) -> dt.date | None:
    """A date written for people in English or French ("13 mai 2026", "May 13, 2026")."""
    if not text:
        return None
    folded = _fold(text)
    for pattern, day_group, month_group in ((_DAY_MONTH_YEAR, 1, 2), (_MONTH_DAY_YEAR, 2, 1)):
        match = pattern.search(folded)
        if match and match.group(month_group) in _MONTHS:
            month = _MONTHS[match.group(month_group)]
            try:
                return dt.date(int(match.group(3)), month, int(match.group(day_group)))
            except ValueError:
                return None
    return None


def _fold(text: str) -> str:
    # Lowercase without accents, so "Février" and "fevrier" compare equal.
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _first_text(node: Any, path: str) -> str | None:
    found = node.xpath(path)
    return _text_with_breaks(found[0]) if found else None


def _text_with_breaks(element: Any) -> str | None:
    # <br> is a line break in the author's text; lxml's text_content() would drop it.
    parts: list[str] = [element.text or ""]
    for child in element:
        parts.append("\n" if child.tag == "br" else child.text_content())
        parts.append(child.tail or "")
    text = "".join(parts)
    return text if text.strip() else None
