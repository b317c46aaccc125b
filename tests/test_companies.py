"""Several companies in one run: a row each, and a sentence saying who stands where."""

from __future__ import annotations

from pathlib import Path

from reviewops.companies import company_breakdown
from reviewops.insights import compute_insights
from reviewops.records import Review, SentimentResult, TopicResult
from reviewops.report import findings_text, render_report
from reviewops.summary import build_summary
from tests.support.analysis import corpus


def _two_companies() -> tuple[list[Review], SentimentResult, TopicResult]:
    reviews, sentiment, topics = corpus()
    # every battery review (all 1 star) is about "Rival"; delivery reviews alternate
    for i, r in enumerate(reviews):
        r.company = "rival.com" if r.id.startswith("b") or i % 2 else "ReMarket"
    return reviews, sentiment, topics


def test_one_row_per_company_largest_first_with_its_biggest_complaint() -> None:
    reviews, sentiment, topics = _two_companies()
    rows = company_breakdown(reviews, sentiment, topics, None)
    assert [r.company for r in rows] == ["rival.com", "ReMarket"]
    rival, own = rows
    assert rival.reviews + own.reviews == len(reviews)
    assert own.sentiment["negative"] == 0 and own.top_complaint is None  # no negative review
    assert rival.top_complaint == "battery / died" and rival.top_complaint_share == 1.0
    assert rival.net_sentiment < own.net_sentiment
    assert rival.net_change is None  # no windows given


def test_a_single_company_or_none_gives_no_breakdown() -> None:
    reviews, sentiment, topics = corpus()
    assert company_breakdown(reviews, sentiment, topics, None) == []
    for r in reviews:
        r.company = "ReMarket"
    assert company_breakdown(reviews, sentiment, topics, None) == []


def test_report_and_findings_show_the_companies_side_by_side(tmp_path: Path) -> None:
    reviews, sentiment, topics = _two_companies()
    summary = build_summary(
        run_id="r",
        analysis="local/test",
        company="ReMarket and rival.com",
        spec={},
        languages=["en"] * len(reviews),
        source_stats={"type": "file"},
        problems=[],
        sentiment=sentiment,
        topics=topics,
        insights=compute_insights(reviews, sentiment, topics),
        timings={"total": 1.0},
        warnings=[],
    )
    assert [c["company"] for c in summary["companies"]] == ["rival.com", "ReMarket"]
    sentence = next(f for f in findings_text(summary) if f.startswith("Of 2 companies"))
    assert "ReMarket has the best net sentiment" in sentence
    assert "rival.com the worst" in sentence and "battery / died" in sentence
    html = render_report(summary, reviews, {})
    assert "By company" in html and "of its negatives" in html
