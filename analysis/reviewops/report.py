"""The self-contained HTML report (charts and word clouds embedded, no external files)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reviewops import __version__, plots
from reviewops.records import Review

_SNIPPET = 280


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data else None


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _stars(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f}★"


def _snippet(text: str) -> str:
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 1].rsplit(" ", 1)[0] + "…"


def write_wordclouds(summary: dict[str, Any], folder: Path) -> dict[int, Path]:
    """One PNG per topic under `folder` (also logged to MLflow)."""
    out = {}
    for topic in summary["topics"]["items"]:
        path = plots.word_cloud(topic["terms"], folder / f"topic-{topic['id']:02d}.png")
        if path is not None:
            out[topic["id"]] = path
    return out


def render_report(summary: dict[str, Any], reviews: Sequence[Review], clouds: dict[int, Path]) -> str:
    """The report's HTML text."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("reviewops", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    by_id = {r.id: r for r in reviews}
    wanted = {rid for t in summary["topics"]["items"] for rid in t["representative_ids"][:2]}
    texts = {rid: _snippet(by_id[rid].text) for rid in wanted if rid in by_id}
    recent_negative = [
        {
            "date": r.published.date().isoformat() if r.published else "",
            "rating": r.rating,
            "text": _snippet(r.text),
        }
        for rid in summary["recent_negative_ids"][:10]
        if (r := by_id.get(rid)) is not None
    ]
    rising = {r["topic_id"] for r in summary["rising_topics"]}
    images = {
        "timeline": _b64(plots.sentiment_over_time(summary["timeline"])),
        "ratings": _b64(plots.rating_distribution(summary["rating_distribution"])),
        "topics": _b64(plots.topics_impact(summary["topics"]["items"])),
        "trends": _b64(plots.topic_trends(summary["topics"]["items"], rising)),
    }
    template = env.get_template("report.html.j2")
    return template.render(
        s=summary,
        img=images,
        clouds={tid: _b64(p.read_bytes()) for tid, p in clouds.items()},
        texts=texts,
        recent_negative=recent_negative,
        pct=_pct,
        stars=_stars,
        version=__version__,
    )
