from __future__ import annotations

import json
import re
from pathlib import Path

from reviewops.insights import compute_insights
from reviewops.report import render_report, write_wordclouds
from reviewops.summary import build_summary, compact_results
from tests.support.analysis import corpus


def _summary() -> tuple[dict[str, object], list]:  # type: ignore[type-arg]
    reviews, sentiment, topics = corpus()
    summary = build_summary(
        run_id="run-1",
        analysis="local/test",
        company="Back <Market>",
        spec={"company": {"name": "Back <Market>"}},
        languages=["en"] * len(reviews),
        source_stats={"type": "file"},
        problems=[],
        sentiment=sentiment,
        topics=topics,
        insights=compute_insights(reviews, sentiment, topics),
        timings={"preprocess": 0.5, "total": 1.0},
        warnings=["12 reviews in 'de' (unsupported)"],
    )
    return summary, reviews


def test_summary_is_json_and_holds_the_documented_fields() -> None:
    summary, _ = _summary()
    data = json.loads(json.dumps(summary))
    for key in (
        "reviews",
        "mean_rating",
        "sentiment",
        "topics",
        "negative_drivers",
        "rising_topics",
        "timeline",
        "timings",
        "throughput",
        "warnings",
    ):
        assert key in data
    assert data["topics"]["items"][1]["trend"][-1] == {"period": "2026-06", "reviews": 6}
    assert data["throughput"]["preprocess"] == 146.0
    compact = compact_results(data)
    assert compact["topTopics"] == ["delivery / packed", "battery / died"]
    assert compact["negativeDrivers"] == ["battery / died"]


def test_report_is_self_contained_and_escapes_review_text(tmp_path: Path) -> None:
    summary, reviews = _summary()
    clouds = write_wordclouds(summary, tmp_path / "clouds")
    assert sorted(p.name for p in clouds.values()) == ["topic-00.png", "topic-01.png"]
    html = render_report(summary, reviews, clouds)
    assert "What drives negative reviews" in html and "Rising topics" in html
    assert "Back &lt;Market&gt;" in html  # names and texts are escaped, never injected
    assert "<b>Battery</b>" not in html and "&lt;b&gt;Battery&lt;/b&gt;" in html
    # charts + 2 word clouds, all embedded: the file works offline, alone
    assert len(re.findall(r'src="data:image/png;base64,', html)) >= 6
    assert not re.search(r'src="(http|/)', html)
    assert "unsupported" in html  # warnings are shown to the reader
