from __future__ import annotations

import copy
import dataclasses
import json
import re
import time
from pathlib import Path
from typing import Any

from reviewops import plots
from reviewops.insights import compute_insights
from reviewops.records import Review, SentimentResult, TopicResult
from reviewops.report import (
    findings_text,
    language_breakdown,
    render_report,
    topic_tones,
    write_wordclouds,
)
from reviewops.summary import build_summary, compact_results
from tests.support.analysis import corpus


def _build(
    reviews: list[Review], sentiment: SentimentResult, topics: TopicResult, languages: list[str] | None = None
) -> dict[str, Any]:
    return build_summary(
        run_id="run-1",
        analysis="local/test",
        company="Back <Market>",
        spec={"company": {"name": "Back <Market>", "domain": "www.example.com"}},
        languages=languages or ["en"] * len(reviews),
        source_stats={"type": "file"},
        problems=[],
        sentiment=sentiment,
        topics=topics,
        insights=compute_insights(reviews, sentiment, topics),
        timings={"preprocess": 0.5, "total": 1.0},
        warnings=["12 reviews in 'de' (unsupported)"],
    )


def _summary() -> tuple[dict[str, Any], list[Review]]:
    reviews, sentiment, topics = corpus()
    return _build(reviews, sentiment, topics), reviews


def _sentences(html: str) -> str:
    """The key findings block as text (tags stripped, entities of < > & kept)."""
    block = html.split('id="key-findings"', 1)[1].split("</section>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", block))


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
    assert "Key findings" in html and "What drives negative reviews" in html and "Rising topics" in html
    assert "Back &lt;Market&gt;" in html  # names and texts are escaped, never injected
    assert "<b>Battery</b>" not in html and "&lt;b&gt;Battery&lt;/b&gt;" in html
    # timeline + topic trends + 2 word clouds, all embedded: the file works offline, alone
    assert len(re.findall(r'src="data:image/png;base64,', html)) >= 4
    assert not re.search(r'(src|href)="(http|//|/)', html)
    assert "<script" not in html and "<link" not in html and "url(" not in html
    assert "unsupported" in html  # warnings are shown to the reader
    # star ratings and topic shares are HTML, not images: 5★ row first
    stars = re.findall(r'<span class="sl">(\d)★</span>', html)
    assert stars == ["5", "4", "3", "2", "1"]
    # battery reviews average 1.00★, 2.66 below the 3.66★ mean: shown with a real minus sign
    assert "−2.66★" in html and "-2.66" not in html


def test_key_findings_name_the_top_driver_the_rising_topic_and_the_net_trend() -> None:
    summary, reviews = _summary()
    findings = findings_text(summary)
    text = " ".join(findings)
    # 73 reviews, 24 negative, all about the battery
    assert findings[0].startswith("73 reviews from 2026-01-15 to 2026-06-15: 3.66★ on average")
    driver = next(f for f in findings if "biggest driver" in f)
    assert (
        "battery / died" in driver and "24 negative reviews" in driver and "100% of all negatives" in driver
    )
    rising = next(f for f in findings if f.startswith("Fastest rising topic"))
    # 2 battery reviews a month of 12 before, 6 of 12 (13 in June) after
    assert "battery / died" in rising and "from 17% to 50% of reviews" in rising
    assert "6 reviews in 15 Jan – 31 Mar 2026, 18 in 1 Apr – 15 Jun 2026" in rising
    # net sentiment: (30 - 6) / 36 = +66.7 before, (18 - 18) / 37 = 0 after
    trend = next(f for f in findings if f.startswith("Net sentiment"))
    # the history spans 152 days: two windows of 76 days
    assert (
        "fell over the last 76 days (1 Apr – 15 Jun 2026): 0.0 vs +66.7 in the 76 days before "
        "(−66.7 pts; 37 vs 36 reviews)" in trend
    )
    assert "delivery / packed" in text and "praise" in text
    html = render_report(summary, reviews, {})
    shown = _sentences(html)
    assert "biggest driver of negative reviews is battery / died" in shown
    assert '<b class="neg">battery / died</b>' in html  # the driver is bold red


def test_without_dates_the_report_says_why_there_is_no_trend() -> None:
    reviews, sentiment, topics = corpus()
    undated = [dataclasses.replace(r, published=None) for r in reviews]
    summary = _build(undated, sentiment, topics)
    findings = findings_text(summary)
    assert "No review has a date" in findings[1]
    html = render_report(summary, undated, {})
    assert "No review has a date: no trend can be drawn." in html
    assert not re.search(r'alt="net sentiment', html)
    assert "battery / died" in _sentences(html)  # the drivers do not need dates

    few = [r if i % 20 == 0 else dataclasses.replace(r, published=None) for i, r in enumerate(reviews)]
    summary = _build(few, sentiment, topics)
    findings = findings_text(summary)
    assert "(4 with a date)" in findings[0]
    html = render_report(summary, few, {})
    assert "Only 4 of 73 reviews have a date" in html


def test_without_stars_no_star_columns_and_no_star_claims() -> None:
    reviews, sentiment, topics = corpus()
    unrated = [dataclasses.replace(r, rating=None) for r in reviews]
    summary = _build(unrated, sentiment, topics)
    text = " ".join(findings_text(summary))
    assert "★" not in text and "battery / died" in text
    # without stars the tone comes from the negative share: battery is 100% negative vs 33%
    assert topic_tones(summary) == {0: "positive", 1: "negative"}
    html = render_report(summary, unrated, {})
    assert "no star ratings" in html and "Mean ★" not in html and "vs average</th>" not in html
    assert 'class="srow"' not in html


def test_several_languages_get_a_breakdown() -> None:
    reviews, sentiment, topics = corpus()
    tagged = dataclasses.replace(
        topics,
        topics=[
            dataclasses.replace(topics.topics[0], label="delivery / packed [en]"),
            dataclasses.replace(topics.topics[1], label="batterie / morte [fr]"),
        ],
    )
    languages = ["fr" if t == 1 else "en" for t in tagged.assignments]
    summary = _build(reviews, sentiment, tagged, languages)
    rows = {row["language"]: row for row in language_breakdown(summary)}
    assert set(rows) == {"en", "fr"}
    assert rows["fr"]["driver"]["label"] == "batterie / morte [fr]" and rows["en"]["driver"] is None
    assert rows["fr"]["sentiment"]["negative"] == 1.0 and rows["en"]["mean_rating"] == 5.0
    html = render_report(summary, reviews, {})
    assert "By language" in html and "batterie / morte [fr]" in html
    single = _build(reviews, sentiment, topics)
    assert language_breakdown(single) == [] and "By language" not in render_report(single, reviews, {})


def test_untrusted_topic_labels_are_escaped_in_the_findings() -> None:
    summary, reviews = _summary()
    hostile = copy.deepcopy(summary)
    label = '<img src=x onerror="alert(1)">'
    for part in (hostile["topics"]["items"], hostile["negative_drivers"], hostile["rising_topics"]):
        for item in part:
            if item["label"] == "battery / died":
                item["label"] = label
    html = render_report(hostile, reviews, {})
    assert label not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in _sentences(html)


def test_month_axis_and_charts_handle_gaps_long_histories_and_thin_data() -> None:
    assert plots.month_range(["2025-11", "2026-02"]) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    long = plots.month_range(["2015-12", "2024-04"])
    assert len(long) == 101 and plots.chart_months(long) == long[-36:]

    def point(period: str, n: int) -> dict[str, Any]:
        return {
            "period": period,
            "reviews": n,
            "mean_rating": 4.0,
            "positive": 0.7,
            "neutral": 0.1,
            "negative": 0.2,
            "net_sentiment": 0.5,
        }

    thin = [point(f"2024-{m:02d}", 5) for m in range(1, 9)]
    assert plots.sentiment_over_time(thin) is None  # no month has enough reviews to read shares
    png = plots.sentiment_over_time(
        [point(p, 50) for p in long[::7]], first_date="2015-12-18", last_date="2024-04-04"
    )
    assert png is not None and png.startswith(b"\x89PNG")
    items = [{"id": 0, "label": "x", "share": 1.0, "trend": [{"period": "2024-01", "reviews": 50}]}]
    assert plots.topic_trends(items, set()) is None  # one month is not a trend


def test_render_is_fast_for_100k_reviews() -> None:
    summary, reviews = _summary()
    many = reviews + [dataclasses.replace(reviews[i % len(reviews)], id=f"x{i}") for i in range(100_000)]
    render_report(summary, many, {})  # warm up matplotlib and jinja
    started = time.perf_counter()
    render_report(summary, many, {})
    # ~0.5 s on a laptop; the bound only catches work that grows with the number of reviews
    assert time.perf_counter() - started < 5.0


def test_cjk_topics_draw_without_a_glyph_warning_flood_and_the_report_says_so(tmp_path: Path) -> None:
    import warnings

    summary, reviews = _summary()
    cjk = copy.deepcopy(summary)
    item = cjk["topics"]["items"][0]
    item["label"] = "配送 / 速い"
    item["terms"] = [{"term": "配送", "weight": 0.5}, {"term": "速い", "weight": 0.3}, *item["terms"]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clouds = write_wordclouds(cjk, tmp_path / "clouds")
        html = render_report(cjk, reviews, clouds)
    glyphs = [w for w in caught if "Glyph" in str(w.message)]
    assert glyphs == []
    assert "2 topic word(s) are in a script the installed font cannot draw" in html
    assert "配送 / 速い" in html  # the tables still show the text
    assert plots.drawable_text("配送 / battery") == "… / battery"
    assert not plots.drawable("速い") and plots.drawable("écran ★")


def test_summary_names_the_k_chosen_per_language() -> None:
    summary, _ = _summary()
    assert summary["topics"]["k_chosen"] == {"all": summary["topics"]["k"]}
    assert summary["topics"]["k_scores_language"] is None
