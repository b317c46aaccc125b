"""File sources: CSV, JSONL, JSON, saved HTML pages; column mapping, bad rows, clear errors."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from reviewops.records import SourceResult
from reviewops.sources import SourceError, load_reviews
from reviewops.spec import Company, Source, SpecError, parse_spec
from tests.support.sources import invented_reviews, render_page

COMPANY = Company(name="Example Shop")


def read(path: Path, **source: object) -> SourceResult:
    spec = Source.model_validate({"type": "file", "path": str(path), "maxReviews": 1_000_000, **source})
    return load_reviews(spec, COMPANY)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.shared_data
def test_real_pet_insurance_csv_loads_every_review_quickly(shared_data: Path) -> None:
    start = time.perf_counter()
    result = read(shared_data / "reviews/en_pet_insurance_trustpilot.csv")
    elapsed = time.perf_counter() - start

    assert len(result.reviews) == 11_694 and result.problems == []
    first = result.reviews[0]
    assert first.id == "660d90bba202a1b7ebec9f01" and first.rating == 5
    assert first.company == "embracepetinsurance.com"
    assert first.published == dt.datetime(2024, 4, 3, 19, 24, 11, tzinfo=dt.UTC)
    assert first.experienced == dt.date(2024, 4, 3)
    assert first.origin.endswith("en_pet_insurance_trustpilot.csv:2")
    assert {r.company for r in result.reviews} >= {"embracepetinsurance.com"}
    assert elapsed < 5  # about 0.3 s measured; the bound only catches a pathological slowdown


@pytest.mark.shared_data
def test_real_raw_trustpilot_json_with_page_wrappers(shared_data: Path) -> None:
    result = read(shared_data / "reviews/fr_showroomprive_trustpilot_raw.json", languages=["fr"])

    assert len(result.reviews) == 200 and result.problems == []
    assert {r.company for r in result.reviews} == {"www.showroomprive.com"}
    assert {r.language for r in result.reviews} == {"fr"}
    assert result.reviews[0].id == "69597e3992d0356a8287c02d"
    assert result.reviews[0].experienced == dt.date(2025, 12, 26)


@pytest.mark.shared_data
def test_saved_html_page_and_folder(shared_data: Path) -> None:
    result = read(shared_data / "trustpilot", languages=["fr"])

    assert len(result.reviews) == 20 and result.reviews[0].id == "6a0b08d5a7e65362c64c38f5"


def test_csv_default_column_names_are_recognised(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "export.csv",
        "Review_ID,Body,Stars,Date,Lang\n"
        "a1,Fast delivery,5,2025-01-02,en\n"
        'a2,"Screen was\nscratched",2,2025-01-03T10:00:00Z,en\n',
    )

    result = read(path)

    assert [(r.id, r.rating, r.language) for r in result.reviews] == [("a1", 5, "en"), ("a2", 2, "en")]
    assert result.reviews[1].text == "Screen was\nscratched"
    assert result.reviews[0].published == dt.datetime(2025, 1, 2, tzinfo=dt.UTC)


def test_column_mapping_names_unusual_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "survey.csv", "comment_body;grade;when\nGood price;4;2025-02-01\n")

    result = read(path, columns={"text": "comment_body", "rating": "grade", "published": "when"})

    assert (result.reviews[0].text, result.reviews[0].rating) == ("Good price", 4)
    assert result.reviews[0].published is not None


def test_bad_rows_are_reported_with_file_and_line_and_only_textless_ones_skipped(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "reviews.csv",
        "id,text,rating,date\n"
        '1,"Fine\nover two lines",5,2025-01-01\n'  # lines 2-3
        "2,,4,2025-01-01\n"  # line 4: no text
        "3,Too many stars,7,2025-01-01\n"  # line 5
        "4,Odd date,3,the day after\n"  # line 6
        "5,Half a star,4.5,2025-01-01\n"  # line 7
        "6,No rating is fine,,2025-01-01\n",
    )  # line 8

    result = read(path)

    # a row without text is skipped; a row with a bad value keeps its text, without the value
    assert [r.id for r in result.reviews] == ["1", "3", "4", "5", "6"]
    by_id = {r.id: r for r in result.reviews}
    assert by_id["3"].rating is None and by_id["5"].rating is None and by_id["6"].rating is None
    assert by_id["4"].published is None and by_id["4"].rating == 3
    where = [p.where for p in result.problems]
    assert where == [f"{path}:4", f"{path}:5", f"{path}:6", f"{path}:7"]
    assert "no review text" in result.problems[0].message
    assert "'7' is not a whole number of stars" in result.problems[1].message
    assert "'the day after' is not a date" in result.problems[2].message
    assert all("review kept without it" in p.message for p in result.problems[1:])
    assert result.complete


def test_a_rating_written_on_many_rows_is_read_or_refused_on_every_one(tmp_path: Path) -> None:
    # ratings repeat from row to row: each row still gets its own value or its own note
    path = write(
        tmp_path,
        "repeat.csv",
        "id,text,rating\n"
        + "".join(
            f"{i},Review {i},{value}\n" for i, value in enumerate(["Rated 4 out of 5 stars", "4.5", "2"] * 3)
        ),
    )

    result = read(path)

    assert [r.rating for r in result.reviews] == [4, None, 2] * 3
    assert [p.where for p in result.problems] == [f"{path}:{line}" for line in (3, 6, 9)]
    assert all("'4.5' is not a whole number of stars" in p.message for p in result.problems)


def test_exports_of_other_tools_are_understood(tmp_path: Path) -> None:
    # column names with spaces and capitals, stars written out, dates in words or as epochs
    path = write(
        tmp_path,
        "export.csv",
        "Review ID,Reviewer Name,Review Title,Review Content,Review Rating,Review Date\n"
        'a,Ann,Late,Parcel came late,Rated 2 out of 5 stars,"March 3, 2024"\n'
        "b,Bob,Great,Works well,4/5,1709424000\n"
        "c,Cy,Fine,As described,★★★★★,2024-03-05 10:00\n"
        "d,Di,Meh,Average,6/10,03/04/2024\n",
    )

    result = read(path)

    assert result.problems == []
    assert [(r.id, r.title, r.text, r.rating, r.author) for r in result.reviews] == [
        ("a", "Late", "Parcel came late", 2, "Ann"),
        ("b", "Great", "Works well", 4, "Bob"),
        ("c", "Fine", "As described", 5, "Cy"),
        ("d", "Meh", "Average", 3, "Di"),
    ]
    dates = [r.published.date().isoformat() for r in result.reviews if r.published]
    assert dates == ["2024-03-03", "2024-03-03", "2024-03-05", "2024-03-04"]


def test_rows_without_id_get_a_stable_id(tmp_path: Path) -> None:
    path = write(tmp_path, "noid.csv", "text,date\nSame text,2025-01-01\nSame text,2025-01-02\n")

    first, again = read(path), read(path)

    ids = [r.id for r in first.reviews]
    assert ids == [r.id for r in again.reviews] and len(set(ids)) == 2


def test_duplicate_ids_are_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.csv", "id,text\nx,First\nx,Again\n")

    result = read(path)

    assert [r.text for r in result.reviews] == ["First"] and result.stats["duplicates"] == 1


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "excel.csv", "\ufeffid,text\n1,Hello\n".encode())

    assert read(path).reviews[0].id == "1"


def test_jsonl_mixes_flat_rows_and_trustpilot_objects(tmp_path: Path) -> None:
    payload = invented_reviews(1)[0]
    lines = [
        json.dumps({"id": "f1", "review": "Flat row", "stars": 3}),
        "{broken",
        json.dumps(payload),
        json.dumps(["not", "an", "object"]),
    ]
    path = write(tmp_path, "mixed.jsonl", "\n".join(lines) + "\n")

    result = read(path)

    assert [r.id for r in result.reviews] == ["f1", payload["id"]]
    assert [p.where for p in result.problems] == [f"{path}:2", f"{path}:4"]


def test_json_list_of_flat_rows_and_jsonl_named_json(tmp_path: Path) -> None:
    flat = write(
        tmp_path, "flat.json", json.dumps([{"text": "One", "rating": "5"}, {"text": "Two", "rating": 1}])
    )
    lines = write(tmp_path, "lines.json", '{"text": "A"}\n{"text": "B"}\n')

    assert [r.rating for r in read(flat).reviews] == [5, 1]
    assert [r.text for r in read(lines).reviews] == ["A", "B"]


def test_folder_of_saved_pages_is_read_and_deduplicated(tmp_path: Path) -> None:
    reviews = invented_reviews(30)
    write(tmp_path, "page1.html", render_page(reviews[:20], 1, 2))
    write(tmp_path, "page2.html", render_page(reviews[15:], 2, 2))  # overlaps page 1
    write(tmp_path, "notes.txt", "ignored")

    result = read(tmp_path)

    assert [r.id for r in result.reviews] == [r["id"] for r in reviews]
    assert result.stats["files"] == 2 and result.stats["duplicates"] == 5


def test_filters_languages_since_and_max_reviews(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "many.csv",
        "id,text,language,date\n"
        "1,Old,en,2024-01-01\n2,Newer,en,2025-03-01\n3,Newest,en,2025-04-01\n"
        "4,Nouveau,fr,2025-04-02\n5,Unknown language,,2025-03-15\n6,Undated,en,\n",
    )

    english = read(path, languages=["en"])
    assert [r.id for r in english.reviews] == ["1", "2", "3", "5", "6"]
    assert english.problems[0].message == (
        "left out 1 in 'fr': not in source.languages ['en']; add them there to keep them"
    )
    # Without a languages choice, a file is read in every language it holds.
    assert [r.id for r in read(path, since="2025-03-01").reviews] == ["2", "3", "4", "5", "6"]
    # The newest are kept (undated last), in the file's order.
    capped = read(path, languages=["en", "fr"], maxReviews=3)
    assert [r.id for r in capped.reviews] == ["3", "4", "5"]
    # ...and the cut is said, with the field and the flag that lift it
    assert [p.message for p in capped.problems] == [
        "kept the newest 3 of 6 reviews (source.maxReviews, --max-reviews); raise it to analyse them all"
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", "", "the file is empty"),
        ("header.csv", "id,text\n", "a header but no rows"),
        ("cols.csv", "id,opinion\n1,Nice\n", r"no column holds the review text .* 'id', 'opinion'"),
        ("notreviews.json", '{"kind": "config", "items": [1, 2]}', "holds no reviews"),
        ("broken.json", '[{"text": "a"},\n {"text": ]', r"broken.json:2:11: not valid JSON"),
        ("page.html", "<html><body>Hello</body></html>", "no Trustpilot reviews in this HTML"),
    ],
)
def test_unreadable_files_raise_a_clear_error(tmp_path: Path, name: str, content: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        read(write(tmp_path, name, content))


def test_invalid_utf8_names_line_and_offset(tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.csv", "id,text\n1,ok\n2,caf\xe9\n".encode("latin-1"))

    with pytest.raises(SourceError, match=r"latin1.csv:3: not valid UTF-8 \(byte 0xe9 at offset 18\)"):
        read(path)


def test_a_large_file_is_streamed_and_still_located_exactly(tmp_path: Path) -> None:
    # Excel's byte-order mark and CRLF endings; a bad byte far past the first 64 KiB read to
    # tell the format is still reported with its line.
    rows = "".join(f'{i},"Review number {i}, fine",5\r\n' for i in range(5000))
    path = write(tmp_path, "big.csv", b"\xef\xbb\xbf" + f"id,text,rating\r\n{rows}".encode())
    got = read(path)
    assert len(got.reviews) == 5000 and got.reviews[-1].text == "Review number 4999, fine"
    assert not got.problems
    broken = write(tmp_path, "broken.csv", path.read_bytes() + b'5000,"caf\xe9",4\r\n')
    with pytest.raises(SourceError, match=r"broken.csv:5002: not valid UTF-8 \(byte 0xe9"):
        read(broken)
    lines = "".join(json.dumps({"id": str(i), "text": f"Line {i}"}) + "\r\n" for i in range(3000))
    jsonl = read(write(tmp_path, "big.jsonl", lines + "\n{broken\n"))
    assert len(jsonl.reviews) == 3000 and [p.where for p in jsonl.problems] == [f"{tmp_path}/big.jsonl:3002"]


def test_mapping_errors_say_what_exists(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "body,stars\nHi,5\n")

    with pytest.raises(SourceError, match=r"maps text to 'comment'.*columns are: 'body', 'stars'"):
        read(path, columns={"text": "comment"})
    with pytest.raises(SourceError, match=r"unknown field\(s\) \['stars'\]"):
        read(path, columns={"stars": "stars"})


def test_missing_path_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"spec\.source\.path: is required when type is file"):
        parse_spec({"company": {"name": "X", "domain": "www.example.com"}, "source": {"type": "file"}})
    with pytest.raises(SourceError, match=r"nowhere.csv not found"):
        read(tmp_path / "nowhere.csv")


def test_demo_source_is_generated() -> None:
    result = load_reviews(Source(type="demo", demo_size=40, seed=3, languages=["en"]), COMPANY)

    assert len(result.reviews) == 40 and result.stats["generated"] == 40
