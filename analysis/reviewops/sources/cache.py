"""The scrape cache: every review fetched, appended as JSON Lines the moment its page is parsed,
plus a small checkpoint saying which parts of the listing are still to fetch.

Layout: `<cache_dir>/trustpilot/<domain>/<language>.jsonl` and `<language>.checkpoint.json`.
A crash can at worst leave a half-written last line (skipped on load) or a checkpoint one page
behind (that page is fetched again and deduplicated), so an interrupted scrape loses nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from reviewops.records import Problem, Review
from reviewops.spec import safe_name

_DATE_FIELDS = {"published": dt.datetime.fromisoformat, "experienced": dt.date.fromisoformat}
_REVIEW_FIELDS = {f.name for f in fields(Review)}


@dataclass(slots=True)
class Gap:
    """A stretch of the newest-first listing not fetched yet, starting at `next_page`.

    It ends at the first page holding one of `until` (reviews stored by an earlier run), or at
    the listing's end when `until` is empty (the deep scan). `floor` is the publication date of
    the oldest review seen in it, so a run with a later `since` knows it has nothing to fetch.
    """

    next_page: int
    until: list[str] = field(default_factory=list)
    floor: str | None = None


@dataclass(slots=True)
class Checkpoint:
    gaps: list[Gap] = field(default_factory=list)  # newest part of the listing first
    reached_end: bool = False  # the deep scan saw the last page


def review_to_json(review: Review) -> dict[str, Any]:
    """A Review as JSON-able data (dates in ISO 8601)."""
    data = asdict(review)
    for name in _DATE_FIELDS:
        value = data[name]
        data[name] = value.isoformat() if value is not None else None
    return data


def review_from_json(data: dict[str, Any]) -> Review:
    """The inverse of review_to_json; unknown keys (from a newer version) are ignored."""
    values = {k: v for k, v in data.items() if k in _REVIEW_FIELDS}
    for name, parse in _DATE_FIELDS.items():
        if values.get(name) is not None:
            values[name] = parse(values[name])
    return Review(**values)


class ReviewCache:
    """Stored reviews and checkpoint for one domain and language; `directory=None` keeps nothing."""

    def __init__(self, directory: Path | None, domain: str, language: str) -> None:
        self.folder = directory / "trustpilot" / safe_name(domain) if directory else None
        self.language = language

    @property
    def reviews_path(self) -> Path | None:
        return self.folder / f"{self.language}.jsonl" if self.folder else None

    @property
    def checkpoint_path(self) -> Path | None:
        return self.folder / f"{self.language}.checkpoint.json" if self.folder else None

    def load(self) -> tuple[list[Review], list[Problem]]:
        """Stored reviews in storage order; unreadable lines become Problems, not failures."""
        path = self.reviews_path
        if path is None or not path.exists():
            return [], []
        reviews: list[Review] = []
        problems: list[Problem] = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    reviews.append(review_from_json(json.loads(line)))
                except (ValueError, TypeError) as exc:
                    problems.append(Problem(f"{path}:{number}", f"unreadable cache line skipped ({exc})"))
        return reviews, problems

    def append(self, reviews: list[Review]) -> None:
        """Add reviews to the store now, durably, so an interruption right after keeps them."""
        path = self.reviews_path
        if path is None or not reviews:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps(review_to_json(r), ensure_ascii=False) + "\n" for r in reviews)
        if _ends_mid_line(path):
            lines = "\n" + lines  # a crash cut the last line: do not glue a review onto it
        with path.open("a", encoding="utf-8") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())

    def load_checkpoint(self) -> Checkpoint | None:
        """The saved checkpoint, or None when this domain/language was never scraped here."""
        path = self.checkpoint_path
        if path is None or not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            gaps = [Gap(**gap) for gap in data["gaps"]]
            return Checkpoint(gaps=gaps, reached_end=bool(data["reached_end"]))
        except (ValueError, TypeError, KeyError):
            # A damaged checkpoint only costs refetching: the head pass will meet stored ids.
            return None

    def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Replace the checkpoint atomically (write a temporary file, then rename)."""
        path = self.checkpoint_path
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(checkpoint)), encoding="utf-8")
        temporary.replace(path)


def _ends_mid_line(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) != b"\n"
