"""A file without a company column takes each review's company from a Trustpilot page URL.

Scrapers' exports keep the page a review was read from (a `source` or `url` column); without
a company the brands of a file mixing companies leak into the topics. The column is found by
its values, whatever its name; a mapped company column always wins.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from reviewops.preprocess import prepare
from reviewops.sources.files import read_file
from reviewops.sources.values import trustpilot_page_domain
from reviewops.spec import FileFormat, Preprocessing


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        (
            "https://www.trustpilot.com/review/www.healthypawspetinsurance.com",
            "www.healthypawspetinsurance.com",
        ),
        ("https://fr.trustpilot.com/review/www.boursobank.com?page=2", "www.boursobank.com"),
        ("uk.trustpilot.com/review/just-eat.co.uk/", "just-eat.co.uk"),
        ("  https://de.trustpilot.com/review/Zalando.de#reviews ", "zalando.de"),
        ("https://www.trustpilot.com/reviews/64f1c2a9e2b1", None),  # one review, not a company page
        ("https://www.example.com/review/www.shop.com", None),
        ("See https://www.trustpilot.com/review/www.shop.com for more", None),  # prose, not a URL
        ("Great service", None),
        (None, None),
        (4, None),
    ],
)
def test_a_trustpilot_page_url_names_its_company(value: object, domain: str | None) -> None:
    assert trustpilot_page_domain(value) == domain


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_a_url_column_under_any_name_gives_the_company(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "export.csv",
        [
            ["text", "rating", "page", "note_url"],
            ["Fast claim", "5", "https://www.trustpilot.com/review/spotpetins.com?page=3", "see example.com"],
            ["Slow refund", "2", "https://fr.trustpilot.com/review/www.boursobank.com", ""],
            ["No page here", "4", "", ""],
        ],
    )
    reviews, problems = read_file(path, FileFormat.AUTO, {})
    assert not problems
    assert [r.company for r in reviews] == ["spotpetins.com", "www.boursobank.com", None]


def test_a_company_column_wins_over_the_url(tmp_path: Path) -> None:
    rows = [
        ["text", "company", "shop", "source"],
        ["Fast claim", "Healthy Paws", "Paws Shop", "https://www.trustpilot.com/review/spotpetins.com"],
        ["Slow refund", "", "", "https://www.trustpilot.com/review/spotpetins.com"],
    ]
    path = _write_csv(tmp_path / "export.csv", rows)
    by_default, _ = read_file(path, FileFormat.AUTO, {})
    # The company column is read; a row where it is empty falls back on the page URL.
    assert [r.company for r in by_default] == ["Healthy Paws", "spotpetins.com"]
    mapped, _ = read_file(path, FileFormat.AUTO, {"company": "shop"})
    assert [r.company for r in mapped] == ["Paws Shop", "spotpetins.com"]


def test_json_lines_rows_take_their_company_from_the_url_too(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    rows = [
        {"body": "Great app", "url": "https://www.trustpilot.com/review/www.hellofresh.com"},
        {"body": "Late box", "url": "https://www.trustpilot.com/review/cookunity.com"},
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
    reviews, _ = read_file(path, FileFormat.AUTO, {})
    assert [r.company for r in reviews] == ["www.hellofresh.com", "cookunity.com"]


@pytest.mark.slow
@pytest.mark.shared_data
def test_pet_insurers_read_from_their_urls_leave_no_brand_in_the_tokens(
    shared_data: Path, tmp_path: Path
) -> None:
    # The file WITHOUT its company column (a temporary copy): only `source` names the company.
    with (shared_data / "reviews" / "en_pet_insurance_trustpilot.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    columns = [column for column in rows[0] if column != "company"]
    path = tmp_path / "pet.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    reviews, _ = read_file(path, FileFormat.AUTO, {})
    assert Counter(r.company for r in reviews) == Counter(
        row["company"] for row in rows
    )  # spotpetins.com, embracepetinsurance.com, fetchpet.com, figopetinsurance.com

    prepared = prepare(reviews, Preprocessing())
    counts = Counter(token for tokens in prepared.tokens for token in set(tokens))
    top = {token for token, _ in counts.most_common(300)}
    brand_words = {"spot", "figo", "fetch", "embrace", "spotpetins", "fetchpet"}
    assert not brand_words & {word for token in top for word in token.split("_")}
    # Nowhere as a phrase, and "figo" (no ordinary meaning) nowhere at all.
    assert not [token for token in counts if "_" in token and brand_words & set(token.split("_"))]
    assert counts["figo"] == 0
    # Left: "spot on", "fetch" the ball, "embraced": ordinary uses, a handful each.
    assert max(counts["spot"], counts["fetch"], counts["embrace"]) < 50
    assert {"figo", "spot", "fetch", "embrace"} <= set(prepared.brands)
    # The trade words of the domains are not brands: pet insurance stays.
    assert counts["pet_insurance"] > 500
