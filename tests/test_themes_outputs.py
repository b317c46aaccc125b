"""Two-level themes (broad themes with sub-themes) as the outputs show them.

The producer (reviewops.topics) is tested elsewhere: here TopicResults are built by hand, so
each test plants exactly the complaint it expects the outputs to name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, MetaData, Table, create_engine, select

from reviewops import plots
from reviewops import store as results_store
from reviewops.cli_runs import _drivers, _subtheme_changes
from reviewops.insights import compute_insights
from reviewops.records import Prepared, Review, SentimentResult, Topic, TopicResult, stars_to_label
from reviewops.report import findings_text, render_report
from reviewops.stages import records_io
from reviewops.stages.artifacts import RunArtifacts
from reviewops.store import open_store, read_topics, review_scores, write_run
from reviewops.summary import build_summary, compact_results

CLAIMS, PRICE, SERVICE = 0, 1, 2
WAITING, REIMBURSE, RENEWAL = 3, 4, 5
TRUST = "Agrees with the stars on 8 reviews in 10; read shares within 5 points."

# (month, broad theme, sub-theme or -1, stars, how many): six months, months 4-6 are "recent".
# Claims stays ~40% of reviews throughout, but within it the waiting-period complaints grow
# while slow-reimbursement ones shrink: only the sub-theme level sees what changed.
_PLAN: list[tuple[int, int, int, int, int]] = []
for _m in range(1, 7):
    _recent = _m >= 4
    _PLAN += [
        (_m, CLAIMS, WAITING, 1, 9 if _recent else 1),
        (_m, CLAIMS, REIMBURSE, 3, 1 if _recent else 9),
        (_m, PRICE, RENEWAL, 2, 4),
        (_m, PRICE, -1, 4, 4),
        (_m, SERVICE, -1, 5, 7),
    ]


def _month(m: int, day: int) -> dt.datetime:
    return dt.datetime(2026, m, 1 + day % 27, 12, tzinfo=dt.UTC)


def themed_corpus(*, with_subthemes: bool = True) -> tuple[list[Review], SentimentResult, TopicResult]:
    """Pet-insurance-like reviews with three broad themes and three sub-themes (see _PLAN)."""
    reviews: list[Review] = []
    broad: list[int] = []
    subs: list[int] = []
    for m, theme, sub, stars, n in _PLAN:
        for i in range(n):
            reviews.append(
                Review(
                    id=f"r{len(reviews)}",
                    text=f"review {theme}-{sub} number {i}",
                    rating=stars,
                    published=_month(m, i),
                )
            )
            broad.append(theme)
            subs.append(sub)
    reviews.append(Review(id="short", text="ok", rating=3, published=_month(6, 1)))
    broad.append(-1)
    subs.append(-1)
    labels = [stars_to_label(r.rating) or "neutral" for r in reviews]
    sentiment = SentimentResult(
        method="lexicon",
        labels=labels,
        scores=[{"positive": 0.8, "neutral": 0.0, "negative": -0.8}[x] for x in labels],
        details={"trust": TRUST},
    )
    topics = [
        Topic(CLAIMS, "claims", [("claim", 0.9), ("vet", 0.5)]),
        Topic(PRICE, "price", [("price", 0.9), ("premium", 0.6)]),
        Topic(SERVICE, "customer service", [("service", 0.9), ("helpful", 0.4)]),
    ]
    if with_subthemes:
        topics += [
            Topic(WAITING, "waiting period", [("waiting", 0.8), ("period", 0.7)], parent=CLAIMS),
            Topic(REIMBURSE, "slow reimbursement", [("reimbursement", 0.8), ("slow", 0.5)], parent=CLAIMS),
            Topic(
                RENEWAL, "premium increase at renewal", [("renewal", 0.8), ("increase", 0.6)], parent=PRICE
            ),
        ]
    result = TopicResult(
        algorithm="nmf",
        topics=topics,
        assignments=broad,
        coherence=0.2,
        coherence_measure="npmi",
        diversity=0.9,
        sub_assignments=subs if with_subthemes else [],
    )
    return reviews, sentiment, result


def _summary(with_subthemes: bool = True) -> tuple[dict[str, Any], list[Review]]:
    reviews, sentiment, topics = themed_corpus(with_subthemes=with_subthemes)
    summary = build_summary(
        run_id="run-themes",
        analysis="local/themes",
        company="An Insurer",
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
    return summary, reviews


# --- insights: drivers and rising alerts name the sub-theme --------------------------------------
def test_the_rising_alert_is_the_growing_subtheme_not_its_steady_theme() -> None:
    reviews, sentiment, topics = themed_corpus()
    insights = compute_insights(reviews, sentiment, topics)
    rising = [(r.topic_id, r.label) for r in insights.rising_topics]
    assert rising and rising[0] == (WAITING, "claims › waiting period"), rising
    assert CLAIMS not in {tid for tid, _ in rising}
    # Without sub-themes the same reviews raise no alert: claims' share did not move.
    flat = compute_insights(*themed_corpus(with_subthemes=False))
    assert [r.topic_id for r in flat.rising_topics] == []


def test_negative_drivers_name_the_specific_complaint() -> None:
    reviews, sentiment, topics = themed_corpus()
    drivers = compute_insights(reviews, sentiment, topics).negative_drivers
    assert drivers and drivers[0].label == "claims › waiting period"
    assert drivers[0].parent == CLAIMS
    assert CLAIMS not in {d.topic_id for d in drivers}  # its sub-theme says it more precisely
    flat = compute_insights(*themed_corpus(with_subthemes=False)).negative_drivers
    assert flat and flat[0].label == "claims" and flat[0].parent is None


def test_a_theme_whose_complaints_are_spread_over_small_subthemes_is_still_a_driver() -> None:
    reviews, sentiment, topics = themed_corpus()
    # Scatter claims over many tiny sub-themes: none stands out alone, the theme still does.
    claims = [i for i, t in enumerate(topics.assignments) if t == CLAIMS]
    tiny = [Topic(10 + j, f"detail {j}", [("x", 1.0)], parent=CLAIMS) for j in range(len(claims) // 2)]
    subs = list(topics.sub_assignments)
    for n, i in enumerate(claims):
        subs[i] = 10 + (n // 2) % len(tiny)
    themed = dataclasses.replace(topics, topics=[*topics.themes(), *tiny], sub_assignments=subs)
    drivers = compute_insights(reviews, sentiment, themed).negative_drivers
    assert [d.label for d in drivers][:1] == ["claims"]


# --- summary.json -------------------------------------------------------------------------------
def test_summary_nests_subthemes_under_their_theme_and_keeps_the_top_level() -> None:
    summary, _ = _summary()
    topics = summary["topics"]
    assert topics["k"] == 3 and topics["subthemes_k"] == 3
    assert [t["label"] for t in topics["items"]] == ["claims", "price", "customer service"]
    claims = topics["items"][0]
    assert [s["label"] for s in claims["subthemes"]] == ["waiting period", "slow reimbursement"]
    waiting = claims["subthemes"][0]
    assert waiting["size"] == 30 and waiting["parent"] == CLAIMS
    assert waiting["share_of_theme"] == 0.5 and waiting["sentiment"]["negative"] == 1.0
    assert waiting["terms"][0] == {"term": "waiting", "weight": 0.8}
    assert topics["items"][2]["subthemes"] == []
    compact = compact_results(summary)
    assert compact["topTopics"] == ["claims", "price", "customer service"]
    assert compact["negativeDrivers"][0] == "claims › waiting period"


def test_summary_carries_the_sentiment_trust_statement_when_given() -> None:
    summary, _ = _summary()
    assert summary["sentiment"]["trust"] == TRUST
    reviews, sentiment, topics = themed_corpus()
    sentiment.details.pop("trust")
    plain = build_summary(
        run_id="r",
        analysis="a/b",
        company="c",
        spec={},
        languages=["en"] * len(reviews),
        source_stats={},
        problems=[],
        sentiment=sentiment,
        topics=topics,
        insights=compute_insights(reviews, sentiment, topics),
        timings={},
        warnings=[],
    )
    assert plain["sentiment"]["trust"] is None


# --- HTML report --------------------------------------------------------------------------------
def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_report_nests_subthemes_and_shows_the_trust_statement() -> None:
    summary, reviews = _summary()
    html = render_report(summary, reviews, {})
    rows = re.findall(r'<tr class="(theme|subtheme)">\s*<td[^>]*>([^<]*)', html)
    assert [label.strip() for _, label in rows] == [
        "claims",
        "› waiting period",
        "› slow reimbursement",
        "price",
        "› premium increase at renewal",
        "customer service",
    ]
    assert [kind for kind, _ in rows] == ["theme", "subtheme", "subtheme", "theme", "subtheme", "theme"]
    trust_at = html.index("How far to trust the sentiment figures")
    assert TRUST in html[trust_at : trust_at + 300]
    assert html.index('id="sentiment-trust"') < html.index('id="key-findings"')  # beside the figures
    text = _text(html)
    assert "biggest driver of negative reviews is claims › waiting period" in " ".join(findings_text(summary))
    assert "Fastest rising topic: claims › waiting period" in " ".join(findings_text(summary))
    assert "claims › waiting period" in text.split("What drives negative reviews", 1)[1]


def test_report_of_a_run_without_subthemes_or_trust_is_unchanged_in_shape() -> None:
    summary, reviews = _summary(with_subthemes=False)
    summary["sentiment"]["trust"] = None
    html = render_report(summary, reviews, {})
    assert 'class="subtheme"' not in html and "How far to trust" not in html
    assert html.count('<tr class="theme">') == 3


# --- stage artifacts ----------------------------------------------------------------------------
def test_topic_artifacts_round_trip_the_hierarchy(tmp_path: Path) -> None:
    _, _, topics = themed_corpus()
    artifacts = RunArtifacts(str(tmp_path), "run-1")
    artifacts.begin("topics")
    records_io.write_topics(artifacts, topics)
    artifacts.finish("topics", 0.1)
    back = records_io.read_topics(artifacts, len(topics.assignments))
    assert back.sub_assignments == topics.sub_assignments
    assert [(t.id, t.parent) for t in back.topics] == [(t.id, t.parent) for t in topics.topics]
    assert [t.label for t in back.subthemes(CLAIMS)] == ["waiting period", "slow reimbursement"]


def test_topic_artifacts_written_before_subthemes_still_read(tmp_path: Path) -> None:
    _, _, topics = themed_corpus(with_subthemes=False)
    artifacts = RunArtifacts(str(tmp_path), "run-old")
    artifacts.begin("topics")
    artifacts.write_arrays("topics", "assignments.npz", assignments=topics.assignments)
    artifacts.write_json(
        "topics",
        "result.json",
        {
            "algorithm": "nmf",
            "topics": [{"id": t.id, "label": t.label, "terms": t.terms} for t in topics.topics],
            "coherence": 0.2,
            "coherence_measure": "npmi",
            "diversity": 0.9,
            "k_scores": {},
            "details": {},
        },
    )
    artifacts.finish("topics", 0.1)
    back = records_io.read_topics(artifacts, len(topics.assignments))
    assert back.sub_assignments == [] and all(t.parent is None for t in back.topics)
    assert back.themes() == back.topics


# --- results store ------------------------------------------------------------------------------
def _write(engine: Engine, run_id: str, with_subthemes: bool = True) -> None:
    reviews, sentiment, topics = themed_corpus(with_subthemes=with_subthemes)
    write_run(
        engine,
        run_row={
            "run_id": run_id,
            "analysis": "local/themes",
            "company": "An Insurer",
            "created_at": dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
            "reviews": len(reviews),
        },
        review_list=reviews,
        sentiment=sentiment,
        topic_result=topics,
        insights=compute_insights(reviews, sentiment, topics),
    )


def _old_store(path: Path) -> None:
    """A store as the version before sub-themes created it: no parent_id, no subtopic_id."""
    old = MetaData()
    for table in results_store.TABLES:
        columns = [
            Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in table.c
            if c.name not in {"parent_id", "subtopic_id"}
        ]
        Table(table.name, old, *columns)
    engine = create_engine(f"sqlite:///{path}")
    old.create_all(engine)
    engine.dispose()


def test_a_store_from_before_subthemes_accepts_a_run_with_them(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_store(path)
    with sqlite3.connect(path) as db:
        assert "parent_id" not in {row[1] for row in db.execute("PRAGMA table_info(topics)")}
    engine = open_store(f"sqlite:///{path}")
    try:
        _write(engine, "run-flat", with_subthemes=False)
        _write(engine, "run-themes")
        themes = read_topics(engine, "run-themes")
        claims = next(t for t in themes if t["label"] == "claims")
        assert [s["label"] for s in claims["subthemes"]] == ["waiting period", "slow reimbursement"]
        assert claims["subthemes"][0]["parent_id"] == CLAIMS
        assert claims["subthemes"][0]["negative_driver_rank"] == 1
        assert claims["subthemes"][0]["terms"] == ["waiting", "period"]
        assert _drivers(themes)[0] == "claims › waiting period"
        flat = read_topics(engine, "run-flat")
        assert len(flat) == 3 and all(t["subthemes"] == [] for t in flat)
        with engine.connect() as conn:
            subs = dict(
                conn.execute(
                    select(review_scores.c.review_id, review_scores.c.subtopic_id).where(
                        review_scores.c.run_id == "run-themes"
                    )
                ).all()
            )
            flat_subs = set(
                conn.execute(
                    select(review_scores.c.subtopic_id).where(review_scores.c.run_id == "run-flat")
                ).scalars()
            )
        assert subs["r0"] == WAITING and subs["short"] is None
        assert flat_subs == {None}
    finally:
        engine.dispose()


def test_rising_subthemes_get_their_own_trend_panel() -> None:
    summary, _ = _summary()
    items = summary["topics"]["items"]
    waiting = {**items[0]["subthemes"][0], "label": "waiting period (in claims)"}
    tones = {t["id"]: "neutral" for t in items}
    plain = plots.topic_trends(items, {WAITING}, tones)
    with_panel = plots.topic_trends(items, {WAITING}, tones, subthemes=[waiting])
    assert plain is not None and with_panel is not None and with_panel != plain


def test_prepared_artifacts_keep_the_brands_theme_labels_leave_out(tmp_path: Path) -> None:
    artifacts = RunArtifacts(str(tmp_path), "run-1")
    artifacts.begin("preprocess")
    prepared = Prepared(["a b"], ["en"], [["a", "b"]], [], ["healthy paws"])
    records_io.write_prepared(artifacts, prepared)
    artifacts.finish("preprocess", 0.1)
    assert records_io.read_prepared(artifacts, 1).brands == ["healthy paws"]
    artifacts.fs.rm(artifacts.path("preprocess", "brands.json"))  # as written before brands
    assert records_io.read_prepared(artifacts, 1).brands == []


def test_compare_reports_how_the_subthemes_of_a_theme_moved() -> None:
    def run(waiting: float) -> list[dict[str, Any]]:
        subs = [
            {"label": "waiting period", "terms": ["waiting", "period"], "share": waiting, "subthemes": []},
            {
                "label": "slow reimbursement",
                "terms": ["slow", "reimbursement"],
                "share": 0.1,
                "subthemes": [],
            },
        ]
        return [{"label": "claims", "terms": ["claim", "vet"], "share": 0.4, "subthemes": subs}]

    assert _subtheme_changes(run(0.04), run(0.2)) == ["  claims › waiting period: 4% → 20% (+16 pts)"]
    assert _subtheme_changes(run(0.04), run(0.045)) == []
