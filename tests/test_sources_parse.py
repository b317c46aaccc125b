"""The Trustpilot page parser against a real saved page and variants cut from it."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from reviewops.records import Review
from reviewops.sources import parse_review_page
from reviewops.sources.common import invented_title
from reviewops.sources.trustpilot_markup import parse_local_date
from tests.support.sources import invented_reviews, render_page

URL = "https://fr.trustpilot.com/review/www.showroomprive.com?page=5"
PAGE = "trustpilot/fr_showroomprive_page5.html"
NEXT_DATA = re.compile(r'<script id="__NEXT_DATA__"[^>]*>(.*?)</script>', re.S)
JSON_LD = re.compile(r'<script type="application/ld\+json"[^>]*>.*?</script>', re.S)

# Read off the page as a visitor sees it: id, stars, published (UTC), date of experience,
# country, "Vérifié" label, title start (None: Trustpilot's invented "First words…"), text start.
EXPECTED = [
    ("6a0b08d5a7e65362c64c38f5", 1, "2026-05-18T14:40:53", "2026-05-13", "FR", False, None, "J'ai reç"),
    ("6a0afbcb6e0be914c6146072", 4, "2026-05-18T13:45:15", "2026-05-18", "FR", False, "Site sér", "J'ai eu "),
    ("6a0aeb79c7cc2e331733672b", 5, "2026-05-18T12:35:37", "2026-05-10", "CM", False, "Super pr", "Super pr"),
    ("6a0adda82431299cded02ff4", 2, "2026-05-18T11:36:40", "2026-05-18", "FR", False, "Site de ", "Site de "),
    ("6a0ad113cb385cc15288e03b", 5, "2026-05-18T10:42:59", "2026-05-14", "FR", False, "Prix trè", "Très bon"),
    ("6a0ac68c756e9527c4fc9d69", 1, "2026-05-18T09:58:04", "2026-05-18", "FR", False, "Commande", "Commande"),
    ("6a0ab86cfa1e90a05a7148fc", 5, "2026-05-18T08:57:48", "2026-05-17", "FR", True, "RAS !", "Excellen"),
    ("6a0ab74c3e833b86c9aebfcf", 1, "2026-05-18T08:53:00", "2026-03-18", "FR", False, "Pratique", "Votre ré"),
    ("6a0ab65ba440d02857ec01af", 5, "2026-05-18T08:48:59", "2026-05-17", "FR", True, None, "bien reç"),
    ("6a0a1eb13a2bc5a12eb5e96e", 5, "2026-05-17T22:01:53", "2026-05-17", "FR", True, "Livraiso", "Livraiso"),
    ("6a0a17a49aaa14315995899c", 2, "2026-05-17T21:31:48", "2026-05-17", "FR", True, "Prix pro", "Le point"),
    ("6a0a05a3c22ef7236a6012a5", 5, "2026-05-17T20:14:59", "2026-05-17", "IT", True, "Articles", "Articles"),
    ("6a0a0375e2b7291c1dc87e69", 5, "2026-05-17T20:05:41", "2026-05-17", "FR", True, "Rapide ", "Rapide ,"),
    ("6a09ff8a1ff68a5499b76404", 5, "2026-05-17T19:48:58", "2026-05-02", "FR", False, "Bcp de m", "Bcp de m"),
    ("6a09fd164f861fddebaeca86", 5, "2026-05-17T19:38:30", "2026-05-17", "FR", True, "Top très", "Top très"),
    ("6a09fbf6a091ae4914f88b7d", 5, "2026-05-17T19:33:42", "2026-05-17", "FR", True, None, "Je suis "),
    ("6a09fb7cff4086e001758039", 5, "2026-05-17T19:31:40", "2026-05-17", "FR", True, "Articles", "Articles"),
    ("6a09fa3b0b9090dba3f4405e", 5, "2026-05-17T19:26:20", "2026-05-17", "FR", True, "Niveau c", "Niveau c"),
    ("6a09f9a00210eaabb20f9fb1", 5, "2026-05-17T19:23:44", "2026-05-10", "FR", True, "Tarif at", "Commande"),
    ("6a09f6fee6389cacfceaafd9", 5, "2026-05-17T19:12:30", "2026-05-17", "BE", True, "Super ra", "Super ra"),
]
EDITED = "6a0ab74c3e833b86c9aebfcf"  # updated after publication: its card shows the edit time


@pytest.fixture(scope="module")
def real_page(shared_data: Path) -> str:
    return (shared_data / PAGE).read_text(encoding="utf-8")


def _check_core_fields(reviews: list[Review], *, published: bool = True) -> None:
    assert [r.id for r in reviews] == [row[0] for row in EXPECTED]
    for review, (_id, stars, when, _exp, _country, _verified, title, text) in zip(
        reviews, EXPECTED, strict=True
    ):
        assert review.rating == stars, review.id
        assert review.text.startswith(text), review.id
        if title is None:
            assert review.title is None, review.id
        else:
            assert review.title is not None and review.title.startswith(title), review.id
        if published and review.id != EDITED:
            assert review.published == dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC)


def _check_detail_fields(reviews: list[Review]) -> None:
    for review, (_id, _stars, _when, experienced, country, verified, _t, _x) in zip(
        reviews, EXPECTED, strict=True
    ):
        assert review.experienced == dt.date.fromisoformat(experienced), review.id
        assert review.country == country, review.id
        assert review.verified is verified, review.id
        assert review.likes == 0, review.id
        # Every review on this page has a company reply, opening with a greeting.
        assert review.reply is not None and review.reply.startswith("Bonjour"), review.id


@pytest.mark.shared_data
def test_real_page_reads_every_field_from_next_data(real_page: str) -> None:
    page = parse_review_page(real_page, URL)

    assert page.method == "next_data"
    assert page.problems == [] and not page.truncated
    _check_core_fields(page.reviews)
    _check_detail_fields(page.reviews)
    assert {r.language for r in page.reviews} == {"fr"}
    assert {r.company for r in page.reviews} == {"www.showroomprive.com"}
    assert all(r.author and r.author.startswith("Reviewer") for r in page.reviews)
    assert all(r.origin == URL for r in page.reviews)
    edited = next(r for r in page.reviews if r.id == EDITED)
    assert edited.published == dt.datetime(2026, 5, 18, 8, 53, tzinfo=dt.UTC)
    # The text keeps the author's line breaks.
    assert "\n\n" in next(r for r in page.reviews if r.id == "6a0aeb79c7cc2e331733672b").text


@pytest.mark.shared_data
def test_real_page_pagination_business_unit_and_featured_lists(real_page: str) -> None:
    page = parse_review_page(real_page, URL)

    assert (page.current_page, page.per_page, page.total_pages) == (5, 20, 12204)
    assert page.total_count == 244071
    assert not page.is_last
    assert page.next_url == "https://fr.trustpilot.com/review/www.showroomprive.com?page=6"
    unit = page.business_unit
    assert unit is not None
    assert (unit.display_name, unit.identifying_name) == ("Showroomprive", "www.showroomprive.com")
    assert (unit.number_of_reviews, unit.trust_score, unit.stars) == (261612, 3.9, 4.0)
    # relevantReviews holds reviews that are not on this page: they must not be counted.
    assert "6a0d706e5451faebc9d326fd" not in {r.id for r in page.reviews}


@pytest.mark.shared_data
def test_json_ld_only_page_gives_the_same_reviews_completed_from_markup(real_page: str) -> None:
    page = parse_review_page(NEXT_DATA.sub("", real_page), URL)

    assert page.method == "json_ld"
    _check_core_fields(page.reviews)
    _check_detail_fields(page.reviews)
    assert {r.language for r in page.reviews} == {"fr"}
    assert "\n\n" in next(r for r in page.reviews if r.id == "6a0aeb79c7cc2e331733672b").text
    assert any("__NEXT_DATA__" in p.message for p in page.problems)


@pytest.mark.shared_data
def test_markup_only_page_gives_the_same_reviews(real_page: str) -> None:
    stripped = JSON_LD.sub("", NEXT_DATA.sub("", real_page))
    page = parse_review_page(stripped, URL + "&languages=fr")

    assert page.method == "markup"
    _check_core_fields(page.reviews)
    _check_detail_fields(page.reviews)
    assert {r.language for r in page.reviews} == {"fr"}  # from the ?languages= filter
    assert {r.company for r in page.reviews} == {"www.showroomprive.com"}
    assert page.current_page == 5
    assert page.next_url is not None and page.next_url.endswith("page=6")
    # The card shows the last edit's time, not the first publication.
    edited = next(r for r in page.reviews if r.id == EDITED)
    assert edited.published == dt.datetime(2026, 5, 18, 11, 41, 41, tzinfo=dt.UTC)


@pytest.mark.shared_data
def test_older_payload_with_pending_and_no_source(real_page: str) -> None:
    data = json.loads(NEXT_DATA.search(real_page).group(1))  # type: ignore[union-attr]
    for review in data["props"]["pageProps"]["reviews"]:
        review["pending"] = review.pop("isPending")
        review.pop("source")
        review["dates"].pop("submittedDate")
    data["props"]["pageProps"]["reviews"][0]["pending"] = True
    script = json.dumps(data).replace("</", "<\\/")
    old = NEXT_DATA.sub(
        lambda _: f'<script id="__NEXT_DATA__" type="application/json">{script}</script>', real_page
    )

    page = parse_review_page(old, URL)

    assert page.method == "next_data" and page.problems == []
    _check_core_fields(page.reviews)
    _check_detail_fields(page.reviews)
    assert page.pending == 1


@pytest.mark.shared_data
def test_page_cut_short_is_flagged_and_still_read_from_json_ld(real_page: str) -> None:
    cut = real_page[: real_page.index('id="__NEXT_DATA__"') + 5000]

    page = parse_review_page(cut, URL)

    assert page.truncated
    assert any("truncated" in p.message for p in page.problems)
    assert page.method == "json_ld" and len(page.reviews) == 20


def test_empty_listing_page_is_the_last_page() -> None:
    page = parse_review_page(render_page([], page=3, total_pages=2), "http://x/review/d?page=3")

    assert page.method == "next_data" and page.reviews == [] and page.is_last


def test_a_page_that_is_not_a_listing_says_so() -> None:
    page = parse_review_page(
        "<html><body><h1>Please verify you are human</h1></body></html>",
        "https://www.trustpilot.com/review/x.com?page=1",
    )

    assert page.method == "none" and page.reviews == []
    assert "no reviews found" in page.problems[0].message
    assert parse_review_page("", "u").method == "none"


def test_bad_review_object_is_a_problem_not_a_failure() -> None:
    reviews = invented_reviews(3)
    reviews[1]["rating"] = 9
    page = parse_review_page(render_page(reviews, 1, 1), "http://x/review/d?page=1")

    assert [r.id for r in page.reviews] == [reviews[0]["id"], reviews[2]["id"]]
    assert page.problems[0].where == "http://x/review/d?page=1 review #2"
    assert "rating 9" in page.problems[0].message


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        ("The parcel came…", "The parcel came late and damaged.", None),
        ("The parcel   came...", "The parcel\ncame late and damaged.", None),
        # The author's own titles: an ellipsis on other words, or the opening without one.
        ("Great value …", "Ordered twice, both fine.", "Great value …"),
        ("The parcel came late", "The parcel came late and damaged.", "The parcel came late"),
        ("  ", "Some text.", None),
        (None, "Some text.", None),
    ],
)
def test_invented_title_rule(title: str | None, text: str, expected: str | None) -> None:
    assert invented_title(title, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13 mai 2026", dt.date(2026, 5, 13)),
        ("1 février 2025", dt.date(2025, 2, 1)),
        ("Date of experience: May 13, 2026", dt.date(2026, 5, 13)),
        ("13 Mai 2026", dt.date(2026, 5, 13)),
        ("13. Mai 2026", dt.date(2026, 5, 13)),
        ("hier", None),
        ("31 février 2026", None),
    ],
)
def test_local_dates_of_the_markup(text: str, expected: dt.date | None) -> None:
    assert parse_local_date(text) == expected
