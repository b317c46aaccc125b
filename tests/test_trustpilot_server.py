"""tests/support/trustpilot_server.py: the demo reviews, served as pages the real scraper reads.

The end-to-end test (tests/test_e2e_airflow.py) relies on this site standing in for Trustpilot;
here the real `load_reviews` scrapes it page by page and gets the demo reviews back unchanged,
and a failing domain gives up fast (Retry-After: 0) with the HTTP status in the problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewops.demo import generate
from reviewops.records import SourceResult
from reviewops.sources import load_reviews
from reviewops.sources.trustpilot_parse import parse_review_page
from reviewops.spec import Company, Source
from tests.support.trustpilot_server import DemoTrustpilot, demo_listing, review_id

DOMAIN = "www.remarket.example"


@pytest.fixture
def site() -> Iterator[DemoTrustpilot]:
    with DemoTrustpilot(per_page=20) as demo:
        demo.add(DOMAIN, demo_listing(95, seed=3))
        yield demo


def scrape(site: DemoTrustpilot, tmp_path: Path, domain: str = DOMAIN, most: int = 1000) -> SourceResult:
    source = Source(max_reviews=most, request_delay_seconds=0)
    return load_reviews(
        source,
        Company(name="ReMarket", domain=domain),
        cache_dir=tmp_path,
        base_url=site.url,
        contact="qa@x.test",
    )


def test_the_scraper_reads_every_page_and_gets_the_demo_reviews_back(
    site: DemoTrustpilot, tmp_path: Path
) -> None:
    result = scrape(site, tmp_path)
    demo, _ = generate(95, 3, ["en"])
    by_id = {review_id(r.id): r for r in demo}
    assert result.complete and result.problems == []
    reviews = result.reviews
    assert len(reviews) == 95 and site.pages_served(DOMAIN) == [1, 2, 3, 4, 5]
    for review in reviews:
        original = by_id[review.id]
        assert (review.text, review.rating, review.published) == (
            original.text,
            original.rating,
            original.published,
        )
        assert review.language == "en" and review.company == DOMAIN
    stamps = [r.published.timestamp() for r in reviews if r.published]
    assert len(stamps) == 95 and stamps == sorted(stamps, reverse=True)
    assert all("qa@x.test" in h.user_agent for h in site.hits)


def test_pages_carry_trustpilot_pagination(site: DemoTrustpilot) -> None:
    status, _, body, _ = site.answer(f"/review/{DOMAIN}?languages=en&page=2")
    page = parse_review_page(body, "http://x/review?page=2")
    assert status == 200 and page.method == "next_data" and not page.truncated
    assert (page.current_page, page.total_pages, page.total_count, len(page.reviews)) == (2, 5, 95, 20)
    assert page.next_url is not None and page.next_url.endswith("page=3")
    last = parse_review_page(site.answer(f"/review/{DOMAIN}?languages=en&page=5")[2], "http://x")
    assert last.is_last and len(last.reviews) == 15 and last.next_url is None


def test_a_failing_domain_gives_up_fast_naming_the_status(site: DemoTrustpilot, tmp_path: Path) -> None:
    site.fail(DOMAIN, 503)
    result = scrape(site, tmp_path)
    assert result.reviews == [] and not result.complete
    assert "HTTP 503 after 6 attempts" in str(result.problems[0])
    assert site.statuses(DOMAIN) == [503] * 6
    site.heal(DOMAIN)
    assert len(scrape(site, tmp_path / "again", most=30).reviews) == 30
