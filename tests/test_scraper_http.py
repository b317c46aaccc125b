"""The Trustpilot scraper against a Trustpilot look-alike server on 127.0.0.1.

Waits are recorded by an injected sleep instead of spent, so retry and pacing paths run for
real (real sockets, real HTTP statuses and headers) in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewops.records import SourceResult
from reviewops.sources import HttpClient, RetryPolicy, SourceError, load_reviews
from reviewops.sources.scraper import listing_url, scrape_trustpilot
from reviewops.spec import Company, Source
from tests.support.sources import FakeTrustpilot, Fault, Sleeps, invented_reviews

DOMAIN = "www.example-shop.com"


@pytest.fixture
def site() -> Iterator[FakeTrustpilot]:
    with FakeTrustpilot() as fake:
        fake.listings["en"] = invented_reviews(45)
        yield fake


def scrape(
    site: FakeTrustpilot, tmp_path: Path, sleeps: Sleeps | None = None, **source: object
) -> SourceResult:
    spec = Source.model_validate({"maxReviews": 1000, "requestDelaySeconds": 0, **source})
    client = HttpClient(delay_seconds=spec.request_delay_seconds, sleep=sleeps or Sleeps())
    return scrape_trustpilot(DOMAIN, spec, client=client, cache_dir=tmp_path, base_url=site.url)


def test_pages_through_to_the_last_page_newest_first(site: FakeTrustpilot, tmp_path: Path) -> None:
    result = load_reviews(
        Source(max_reviews=1000, request_delay_seconds=0),
        Company(name="Example", domain=DOMAIN),
        cache_dir=tmp_path,
        base_url=site.url,
    )

    assert result.complete and result.problems == []
    assert [r.id for r in result.reviews] == [r["id"] for r in site.listings["en"]]
    assert site.page_requests() == [("en", 1), ("en", 2), ("en", 3)]
    assert all(r.user_agent.startswith("ReviewOps/0.1.0 (+http") for r in site.requests)
    assert site.requests[0].path == "/robots.txt"
    assert result.stats["pages"] == 3 and result.stats["new"] == 45


def test_the_user_agent_names_whoever_runs_the_scrape(site: FakeTrustpilot, tmp_path: Path) -> None:
    load_reviews(
        Source(max_reviews=5, request_delay_seconds=0),
        Company(name="Example", domain=DOMAIN),
        cache_dir=tmp_path,
        base_url=site.url,
        contact="cx-data@example.org",
    )

    agents = {r.user_agent for r in site.requests}
    assert len(agents) == 1 and agents.pop().endswith("; contact: cx-data@example.org)")
    assert site.requests[0].path == "/robots.txt"  # robots.txt is asked with the same identity


def test_stops_at_max_reviews(site: FakeTrustpilot, tmp_path: Path) -> None:
    result = scrape(site, tmp_path, maxReviews=25)

    assert len(result.reviews) == 25 and result.complete
    assert site.page_requests() == [("en", 1), ("en", 2)]


def test_stops_at_the_since_date(site: FakeTrustpilot, tmp_path: Path) -> None:
    # One review a day back from 2025-06-30: since 2025-06-05 covers 26 reviews (pages 1-2).
    result = scrape(site, tmp_path, since="2025-06-05")

    assert len(result.reviews) == 26
    assert min(r.published for r in result.reviews if r.published).date() == dt.date(2025, 6, 5)
    assert site.page_requests() == [("en", 1), ("en", 2)]


def test_429_waits_as_long_as_retry_after_says(site: FakeTrustpilot, tmp_path: Path) -> None:
    site.fail("en", 2, Fault(429, {"Retry-After": "7"}), Fault(429, {"Retry-After": "3"}))
    sleeps = Sleeps()

    result = scrape(site, tmp_path, sleeps)

    assert result.complete and len(result.reviews) == 45
    assert sleeps.waits == [7.0, 3.0]


def test_retry_after_as_an_http_date(site: FakeTrustpilot, tmp_path: Path) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    site.fail("en", 1, Fault(503, {"Retry-After": email.utils.format_datetime(later, usegmt=True)}))
    sleeps = Sleeps()

    scrape(site, tmp_path, sleeps)

    assert len(sleeps.waits) == 1 and 25 <= sleeps.waits[0] <= 31


def test_server_errors_then_success_back_off_exponentially(site: FakeTrustpilot, tmp_path: Path) -> None:
    site.fail("en", 1, Fault(500), Fault(502), Fault(503))
    sleeps = Sleeps()

    result = scrape(site, tmp_path, sleeps)

    assert result.complete and len(result.reviews) == 45
    assert sleeps.waits == [1.0, 2.0, 4.0]


def test_a_429_storm_gives_up_keeps_what_it_has_and_resumes_later(
    site: FakeTrustpilot, tmp_path: Path
) -> None:
    site.fail("en", 2, *[Fault(429, {"Retry-After": "1"})] * 6)

    first = scrape(site, tmp_path)

    assert not first.complete and len(first.reviews) == 20
    assert first.problems[-1].where == listing_url(site.url, DOMAIN, "en", 2)
    assert "HTTP 429 after 6 attempts" in first.problems[-1].message

    site.requests.clear()
    second = scrape(site, tmp_path)

    assert second.complete and len(second.reviews) == 45
    # Page 1 only to look for new reviews, then the interrupted deep scan goes on at page 2.
    assert site.page_requests() == [("en", 1), ("en", 2), ("en", 3)]


def test_a_server_asking_to_wait_too_long_is_not_waited_on(site: FakeTrustpilot, tmp_path: Path) -> None:
    site.fail("en", 1, Fault(429, {"Retry-After": "86400"}))
    sleeps = Sleeps()

    result = scrape(site, tmp_path, sleeps)

    assert not result.complete and result.reviews == [] and sleeps.waits == []
    assert "asks to wait 86400 s" in result.problems[-1].message


def test_truncated_page_is_fetched_again(site: FakeTrustpilot, tmp_path: Path) -> None:
    site.fail("en", 2, Fault(truncate=True))

    result = scrape(site, tmp_path)

    assert result.complete and len(result.reviews) == 45
    assert any("truncated" in p.message for p in result.problems)
    assert site.page_requests() == [("en", 1), ("en", 2), ("en", 2), ("en", 3)]


def test_page_that_stays_truncated_stops_without_losing_anything(
    site: FakeTrustpilot, tmp_path: Path
) -> None:
    site.fail("en", 2, *[Fault(truncate=True)] * 6)

    first = scrape(site, tmp_path)

    assert not first.complete and len(first.reviews) == 20
    assert "fetched again on the next run" in first.problems[-1].message
    second = scrape(site, tmp_path)
    assert second.complete and len(second.reviews) == 45


def test_connection_cut_mid_body_is_retried(site: FakeTrustpilot, tmp_path: Path) -> None:
    site.fail("en", 1, Fault(drop=True))

    result = scrape(site, tmp_path)

    assert result.complete and len(result.reviews) == 45


def test_empty_page_ends_the_scrape_cleanly(site: FakeTrustpilot, tmp_path: Path) -> None:
    site.empty_pages.add(("en", 2))

    result = scrape(site, tmp_path)

    assert result.complete and result.problems == [] and len(result.reviews) == 20
    assert site.page_requests() == [("en", 1), ("en", 2)]


def test_robots_txt_disallow_is_a_clear_error(site: FakeTrustpilot, tmp_path: Path) -> None:
    site.robots = "User-agent: *\nDisallow: /review/\n"

    with pytest.raises(SourceError, match=r"robots.txt disallows .*/review/www.example-shop.com"):
        scrape(site, tmp_path)
    assert site.page_requests() == []


def test_missing_robots_txt_allows_and_crawl_delay_is_honoured(site: FakeTrustpilot, tmp_path: Path) -> None:
    site.robots = "User-agent: *\nCrawl-delay: 5\n"
    sleeps = Sleeps()

    scrape(site, tmp_path, sleeps)

    assert len(sleeps.waits) == 3 and all(4.5 < w <= 5 for w in sleeps.waits)
    site.robots = None
    assert scrape(site, tmp_path / "other").complete


def test_request_delay_paces_page_requests(site: FakeTrustpilot, tmp_path: Path) -> None:
    sleeps = Sleeps()

    scrape(site, tmp_path, sleeps, requestDelaySeconds=0.5)

    # robots.txt, then three pages: a pause before each page.
    assert len(sleeps.waits) == 3 and all(0.3 < w <= 0.5 for w in sleeps.waits)


def test_interrupted_scrape_keeps_its_pages_and_resumes(site: FakeTrustpilot, tmp_path: Path) -> None:
    seen: list[int] = []

    def stop_after_two_pages(count: int) -> None:
        seen.append(count)
        if sum(seen) >= 40:
            raise KeyboardInterrupt

    spec = Source(max_reviews=1000, request_delay_seconds=0)
    with pytest.raises(KeyboardInterrupt):
        scrape_trustpilot(
            DOMAIN,
            spec,
            client=HttpClient(delay_seconds=0),
            cache_dir=tmp_path,
            base_url=site.url,
            progress=stop_after_two_pages,
        )
    site.requests.clear()

    result = scrape(site, tmp_path)

    assert result.complete and len(result.reviews) == 45
    assert result.stats["cached"] == 40 and result.stats["new"] == 5
    assert site.page_requests() == [("en", 1), ("en", 2), ("en", 3)]


def test_second_run_fetches_only_the_new_reviews(site: FakeTrustpilot, tmp_path: Path) -> None:
    scrape(site, tmp_path)
    newer = invented_reviews(5, newest=dt.datetime(2025, 7, 5, 12, tzinfo=dt.UTC), id_start=1000)
    site.listings["en"] = newer + site.listings["en"]
    site.requests.clear()

    result = scrape(site, tmp_path)

    assert site.page_requests() == [("en", 1)]
    assert len(result.reviews) == 50 and result.stats["new"] == 5
    assert [r.id for r in result.reviews[:5]] == [r["id"] for r in newer]


def test_new_reviews_pass_interrupted_is_finished_by_the_next_run(
    site: FakeTrustpilot, tmp_path: Path
) -> None:
    scrape(site, tmp_path)
    site.listings["en"] = (
        invented_reviews(30, newest=dt.datetime(2025, 8, 1, tzinfo=dt.UTC), id_start=1000)
        + site.listings["en"]
    )
    site.fail("en", 2, *[Fault(503)] * 6)
    assert not scrape(site, tmp_path).complete
    site.listings["en"] = (
        invented_reviews(5, newest=dt.datetime(2025, 8, 10, tzinfo=dt.UTC), id_start=2000)
        + site.listings["en"]
    )

    result = scrape(site, tmp_path)

    assert result.complete
    assert sorted(r.id for r in result.reviews) == sorted(r["id"] for r in site.listings["en"])


def test_languages_share_max_reviews_and_use_their_own_site(site: FakeTrustpilot, tmp_path: Path) -> None:
    site.listings["fr"] = invented_reviews(30, language="fr", id_start=500)

    result = scrape(site, tmp_path, languages=["en", "fr"], maxReviews=40)

    assert [r.language for r in result.reviews].count("fr") == 20
    assert len(result.reviews) == 40
    assert listing_url(None, DOMAIN, "fr", 2) == (
        "https://fr.trustpilot.com/review/www.example-shop.com?languages=fr&page=2"
    )
    assert listing_url(None, DOMAIN, "en", 1).startswith("https://www.trustpilot.com/review/")


def test_without_a_cache_nothing_is_written(site: FakeTrustpilot, tmp_path: Path) -> None:
    spec = Source(max_reviews=1000, request_delay_seconds=0)
    result = scrape_trustpilot(DOMAIN, spec, client=HttpClient(delay_seconds=0), base_url=site.url)

    assert len(result.reviews) == 45 and list(tmp_path.iterdir()) == []


def test_give_up_policy_is_configurable(site: FakeTrustpilot, tmp_path: Path) -> None:
    site.fail("en", 1, Fault(500), Fault(500))
    client = HttpClient(delay_seconds=0, sleep=Sleeps(), policy=RetryPolicy(max_retries=1))

    result = scrape_trustpilot(DOMAIN, Source(request_delay_seconds=0), client=client, base_url=site.url)

    assert not result.complete and "HTTP 500 after 2 attempts" in result.problems[-1].message


def test_missing_domain_is_a_clear_error() -> None:
    with pytest.raises(SourceError, match=r"company\.domain is required"):
        load_reviews(Source(), Company(name="No Domain"))


def test_unreachable_robots_txt_means_no_scraping(site: FakeTrustpilot, tmp_path: Path) -> None:
    site.robots_faults.extend([Fault(503)] * 6)

    result = scrape(site, tmp_path)

    assert not result.complete and result.reviews == [] and site.page_requests() == []
    assert "robots.txt unreachable" in result.problems[-1].message


def test_a_crash_mid_write_loses_nothing(site: FakeTrustpilot, tmp_path: Path) -> None:
    scrape(site, tmp_path, maxReviews=20)
    stored = next(tmp_path.rglob("en.jsonl"))
    content = stored.read_text(encoding="utf-8")
    stored.write_text(content[: content.rindex("{") + 15], encoding="utf-8")  # cut the last line

    second = scrape(site, tmp_path)
    third = scrape(site, tmp_path)

    # The cut review is skipped on load, then fetched again with page 1 (the new-reviews pass);
    # later appends start on a fresh line, so the damage does not spread.
    assert any("unreadable cache line" in p.message for p in second.problems)
    assert len(second.reviews) == len(third.reviews) == 45
    assert third.complete and site.listings["en"][19]["id"] in {r.id for r in third.reviews}
    assert third.stats["new"] == 0
