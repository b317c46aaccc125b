"""Reviews from files: CSV, JSON Lines, raw Trustpilot JSON, and saved Trustpilot HTML pages.

`source.path` is a file or a folder (every supported file directly inside it, by name). The
format comes from `source.format`, else from the extension, else from the content. Bad rows
become Problems located by file and line; only an unreadable file as a whole is an error.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from reviewops.records import Problem, ProgressFn, Review, SourceResult, no_progress
from reviewops.sources.common import SourceError, dedupe
from reviewops.sources.tabular import (
    SAMPLE_ROWS,
    RowError,
    RowReader,
    resolve_columns,
    unmapped_rating_column,
)
from reviewops.sources.trustpilot_parse import parse_review_page
from reviewops.sources.trustpilot_payload import PayloadError, looks_like_review, review_from_payload
from reviewops.spec import FileFormat, Source

SUFFIXES = {
    ".csv": FileFormat.CSV,
    ".tsv": FileFormat.CSV,
    ".jsonl": FileFormat.JSONL,
    ".ndjson": FileFormat.JSONL,
    ".json": FileFormat.JSON,
    ".html": FileFormat.HTML,
    ".htm": FileFormat.HTML,
}
_DELIMITERS = ",;\t|"
_HEAD_BYTES = 64 * 1024


def read_file_source(source: Source, progress: ProgressFn = no_progress) -> SourceResult:
    """Every review in `source.path`, deduplicated by id (filters are applied by the caller)."""
    if not source.path:
        raise SourceError(
            "source.path is required when source.type is file: give the CSV, "
            "JSONL, JSON or HTML file (or a folder of them) to read"
        )
    path = Path(source.path).expanduser()
    if not path.exists():
        raise SourceError(
            f"source.path: {path} not found (looked at {path.resolve()}); "
            "check the path given to --input or in source.path (relative paths "
            "start from the current directory)"
        )
    files = _folder_files(path) if path.is_dir() else [path]
    reviews: list[Review] = []
    problems: list[Problem] = []
    for file in files:
        got, trouble = read_file(file, FileFormat(source.format), source.columns, strict=not path.is_dir())
        reviews.extend(got)
        problems.extend(trouble)
        progress(len(got))
    unique, duplicates = dedupe(reviews)
    stats = {"files": len(files), "read": len(reviews), "problems": len(problems), "duplicates": duplicates}
    return SourceResult(unique, problems, True, stats)


def read_file(
    path: Path, fmt: FileFormat, columns: Mapping[str, str], *, strict: bool = True
) -> tuple[list[Review], list[Problem]]:
    """Reviews of one file and its bad rows; SourceError when the file as a whole is unusable.

    CSV and JSON Lines are read as a stream (a 1M-review export is not held in memory twice
    over); JSON and HTML whole. `strict=False` (files of a folder) turns "no reviews in this
    HTML page" into a Problem.
    """
    where = str(path)
    head = _head(path, where)
    kind = fmt if fmt != FileFormat.AUTO else detect_format(path, head)
    if kind == FileFormat.CSV:
        return _streamed(path, where, lambda lines: _read_csv(lines, _first_line(head), where, columns))
    if kind == FileFormat.JSONL:
        return _streamed(path, where, lambda lines: _read_jsonl(lines, where, columns))
    text = _decode(path.read_bytes(), where)
    if kind == FileFormat.JSON:
        try:
            return _read_json(text, where, columns)
        except json.JSONDecodeError as exc:
            if fmt == FileFormat.AUTO and exc.msg == "Extra data":
                return _read_jsonl(io.StringIO(text), where, columns)  # JSON Lines saved as .json
            raise SourceError(
                f"{where}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); "
                "fix the file, or pass --format jsonl (source.format: jsonl) if "
                "it holds one object per line"
            ) from None
    return _read_html(text, where, strict)


def _head(path: Path, where: str) -> str:
    """The file's first characters (enough to tell its format and delimiter); SourceError
    when the file holds nothing but white space."""
    with path.open("rb") as file:
        data = file.read(_HEAD_BYTES)
        empty = not data.strip() and not any(chunk.strip() for chunk in iter(lambda: file.read(1 << 20), b""))
    if empty:
        raise SourceError(
            f"{where}: the file is empty; export the reviews again or point source.path at another file"
        )
    # The cut may split a character: only whole ones are kept.
    return data.decode("utf-8-sig", errors="ignore")


def _first_line(head: str) -> str:
    return head.split("\n", 1)[0]


def _streamed(
    path: Path, where: str, read: Callable[[Iterable[str]], tuple[list[Review], list[Problem]]]
) -> tuple[list[Review], list[Problem]]:
    """`read` over the file's lines, decoded as they come; invalid UTF-8 is located exactly."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as lines:
            return read(lines)
    except UnicodeDecodeError:
        _decode(path.read_bytes(), where)  # raises the SourceError naming the line and byte
        raise


def detect_format(path: Path, text: str) -> FileFormat:
    """The file's format from its extension, else from its first characters."""
    if path.suffix.lower() in SUFFIXES:
        return SUFFIXES[path.suffix.lower()]
    start = text.lstrip()[:1]
    if start == "<":
        return FileFormat.HTML
    if start == "[":
        return FileFormat.JSON
    if start == "{":
        lines = [line for line in text.splitlines() if line.strip()]
        return FileFormat.JSONL if len(lines) > 1 and _is_json(lines[0]) else FileFormat.JSON
    return FileFormat.CSV


def _folder_files(folder: Path) -> list[Path]:
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUFFIXES
    )
    if not files:
        raise SourceError(f"{folder}: no {', '.join(sorted(SUFFIXES))} file in this folder")
    return files


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")  # an Excel export starts with a byte-order mark
    except UnicodeDecodeError as exc:
        # The error indexes the bytes after the byte-order mark (`exc.object`).
        body = bytes(exc.object)
        line = body.count(b"\n", 0, exc.start) + 1
        offset = exc.start + len(data) - len(body)
        raise SourceError(
            f"{where}:{line}: not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset "
            f"{offset}); re-save the file as UTF-8, e.g. iconv -f latin1 -t utf-8 "
            f"{Path(where).name} > fixed{Path(where).suffix}"
        ) from None


def _read_csv(
    lines: Iterable[str], header_line: str, where: str, mapping: Mapping[str, str]
) -> tuple[list[Review], list[Problem]]:
    delimiter = max(_DELIMITERS, key=header_line.count)
    reader = csv.reader(lines, delimiter=delimiter)
    header = next(reader)
    rows = RowReader(resolve_columns(header, mapping, where), where)
    reviews: list[Review] = []
    problems: list[Problem] = []
    sample: list[dict[str, str]] = []
    last_line = reader.line_num
    try:
        for record in reader:
            # A quoted field can span lines: the record starts right after the previous one.
            line, last_line = last_line + 1, reader.line_num
            if not record:
                continue
            if len(record) != len(header):
                problems.append(
                    Problem(
                        f"{where}:{line}",
                        f"{len(record)} fields where the "
                        f"header has {len(header)} (a stray quote or delimiter?); "
                        "row skipped",
                    )
                )
                continue
            row = dict(zip(header, record, strict=True))
            if len(sample) < SAMPLE_ROWS:
                sample.append(row)
            try:
                reviews.append(rows.review(row, line))
            except RowError as exc:
                problems.append(Problem(f"{where}:{line}", str(exc)))
            problems.extend(rows.take_notes())
    except csv.Error as exc:
        raise SourceError(f"{where}:{reader.line_num}: unreadable CSV ({exc})") from None
    if not reviews and not problems:
        raise SourceError(f"{where}: a header but no rows; the export is empty")
    if (unmapped := unmapped_rating_column(sample, rows.columns, where)) is not None:
        problems.insert(0, unmapped)
    return reviews, problems


def _read_jsonl(
    lines: Iterable[str], where: str, mapping: Mapping[str, str]
) -> tuple[list[Review], list[Problem]]:
    reviews: list[Review] = []
    problems: list[Problem] = []
    rows: RowReader | None = None
    sample: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(f"{where}:{number}", f"not valid JSON ({exc.msg}); line skipped"))
            continue
        if not isinstance(obj, dict):
            problems.append(Problem(f"{where}:{number}", "not a JSON object; line skipped"))
            continue
        try:
            if looks_like_review(obj):
                reviews.append(review_from_payload(obj, f"{where}:{number}"))
                continue
            rows = rows or RowReader(resolve_columns(list(obj), mapping, where), where)
            if len(sample) < SAMPLE_ROWS:
                sample.append(obj)
            reviews.append(rows.review(obj, number))
            problems.extend(rows.take_notes())
        except (RowError, PayloadError) as exc:
            problems.append(Problem(f"{where}:{number}", str(exc)))
    if rows is not None and (unmapped := unmapped_rating_column(sample, rows.columns, where)):
        problems.insert(0, unmapped)
    return reviews, problems


def _read_json(text: str, where: str, mapping: Mapping[str, str]) -> tuple[list[Review], list[Problem]]:
    found: list[tuple[Mapping[str, Any], str, str | None]] = []
    flat: list[tuple[Mapping[str, Any], str]] = []
    _collect(json.loads(text), "$", None, found, flat)
    if not found and not flat:
        raise SourceError(
            f"{where}: this JSON holds no reviews; expected a list of review "
            "objects (Trustpilot's or flat rows with a text field), a list of "
            "pages like [{reviews: [...]}], or Trustpilot's page data"
        )
    reviews: list[Review] = []
    problems: list[Problem] = []
    for obj, json_path, company in found:
        try:
            reviews.append(review_from_payload(obj, f"{where} {json_path}", company))
        except PayloadError as exc:
            problems.append(Problem(f"{where} {json_path}", f"{exc}; skipped"))
    if flat:
        keys = list(dict.fromkeys(k for obj, _ in flat for k in obj))
        rows = RowReader(resolve_columns(keys, mapping, where), where)
        for index, (obj, json_path) in enumerate(flat):
            try:
                reviews.append(rows.review(obj, index + 1))
            except RowError as exc:
                problems.append(Problem(f"{where} {json_path}", str(exc)))
            problems.extend(rows.take_notes())
        sample = [obj for obj, _ in flat[:SAMPLE_ROWS]]
        if (unmapped := unmapped_rating_column(sample, rows.columns, where)) is not None:
            problems.insert(0, unmapped)
    return reviews, problems


def _collect(
    data: object,
    json_path: str,
    company: str | None,
    found: list[tuple[Mapping[str, Any], str, str | None]],
    flat: list[tuple[Mapping[str, Any], str]],
) -> None:
    """Walk the JSON shapes reviews come in, noting each review object with its JSON path."""
    if isinstance(data, list):
        for index, item in enumerate(data):
            _collect(item, f"{json_path}[{index}]", company, found, flat)
    elif isinstance(data, dict):
        if looks_like_review(data):
            found.append((data, json_path, company))
        elif isinstance(data.get("reviews"), list):
            _collect(data["reviews"], f"{json_path}.reviews", _wrapper_company(data) or company, found, flat)
        elif isinstance(data.get("props"), dict):
            _collect(data["props"].get("pageProps"), f"{json_path}.props.pageProps", company, found, flat)
        elif any(str(k).lower() in ("text", "body", "content", "review", "reviewbody") for k in data):
            flat.append((data, json_path))


def _wrapper_company(wrapper: Mapping[str, Any]) -> str | None:
    # A scraper export's page: {enterprise_url: "www.x.com", enterprise: {name}, reviews: [...]}
    # or Trustpilot's own pageProps: {businessUnit: {identifyingName}, reviews: [...]}.
    unit = wrapper.get("businessUnit")
    if isinstance(unit, dict) and isinstance(unit.get("identifyingName"), str):
        return str(unit["identifyingName"])
    url = wrapper.get("enterprise_url")
    if isinstance(url, str) and url:
        return url.rstrip("/").rsplit("/", 1)[-1]
    enterprise = wrapper.get("enterprise")
    name = enterprise.get("name") if isinstance(enterprise, dict) else None
    return name if isinstance(name, str) else None


def _read_html(text: str, where: str, strict: bool) -> tuple[list[Review], list[Problem]]:
    page = parse_review_page(text, where)
    if page.method == "none" and strict:
        raise SourceError(
            f"{where}: no Trustpilot reviews in this HTML; save the review page "
            "itself (trustpilot.com/review/<domain>) with its scripts"
        )
    return page.reviews, page.problems


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True
