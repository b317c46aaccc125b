"""The self-contained HTML report (charts and word clouds embedded, no external files).

Everything in it comes from the run's summary (see the README's `summary.json` table) plus the
reviews themselves for quotes. Key findings are plain sentences built from those figures, so the
reader gets the answer before the charts. Review text and topic labels are untrusted: the
template escapes every value, and findings are passed as (text, style) segments, never as HTML.
"""

from __future__ import annotations

import base64
import datetime as dt
import difflib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from reviewops import __version__, plots
from reviewops.records import Review
from reviewops.summary import quoted_reviews
from reviewops.trends import MIN_WINDOW_DAYS, MIN_WINDOW_REVIEWS, RECENT_DAYS

_SNIPPET = 280
_BROAD_TOPIC = 0.4  # a topic holding this share of reviews is a catch-all: say so
_MINUS = "\u2212"

Segment = tuple[str, str]  # (text, style): "" plain, "b" bold, "neg" / "pos" coloured bold
Finding = list[Segment]


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data else None


def _signed(value: float, digits: int = 0) -> str:
    """'+5', '−3.2', '0': a real minus sign, never a hyphen; no sign on zero."""
    if round(value, digits) == 0:
        return f"{0:.{digits}f}"
    return f"{value:+.{digits}f}".replace("-", _MINUS)


def _int(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _stars(value: float | None) -> str:
    """Mean stars: '3.43★'."""
    return "—" if value is None else f"{value:.2f}★"


def _vs_avg(impact: float | None) -> str:
    """A topic's stars against the overall mean ('−0.84★' = 0.84 below); impact has the other sign."""
    return "—" if impact is None else _signed(-impact, 2) + "★"


def _pts(change: float) -> str:
    return _signed(change * 100, 1) + " pts"


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 1].rsplit(" ", 1)[0] + "…"


def _months(n: int) -> str:
    return f"{n} month" if n == 1 else f"{n} months"


def _window(period: str) -> str:
    """'2026-08-29..2026-11-26' -> '29 Aug – 26 Nov 2026'; across years '15 Nov 2025 – 12 Feb 2026'."""
    first_text, _, last_text = period.partition("..")
    first = dt.date.fromisoformat(first_text)
    last = dt.date.fromisoformat(last_text or first_text)
    if first == last:
        return f"{last.day} {last:%b %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def flat_topics(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Every theme of the summary: each broad theme followed by its sub-themes (if any).

    Drivers and rising alerts may name a sub-theme, so lookups by id go through this list;
    summaries written before sub-themes simply have none.
    """
    return [entry for t in summary["topics"]["items"] for entry in (t, *t.get("subthemes", []))]


def topic_tones(summary: dict[str, Any]) -> dict[int, str]:
    """'negative' (a complaint topic), 'positive' (praise) or 'neutral' for each topic id.

    With stars: the topic's mean is at least 0.25★ below (above) the overall mean. Without stars:
    its share of negative reviews is at least 10 points above (below) the overall share.
    """
    overall_negative = summary["sentiment"]["shares"].get("negative", 0.0)
    tones = {}
    for t in flat_topics(summary):
        impact = t["impact"]
        if impact is not None:
            tone = "negative" if impact >= 0.25 else "positive" if impact <= -0.25 else "neutral"
        else:
            diff = t["sentiment"].get("negative", 0.0) - overall_negative
            tone = "negative" if diff >= 0.1 else "positive" if diff <= -0.1 else "neutral"
        tones[t["id"]] = tone
    return tones


def _recent_start(summary: dict[str, Any]) -> dt.date | None:
    comparison = summary["comparison"]
    return dt.date.fromisoformat(comparison["recent_period"][:10]) if comparison else None


def history_months(summary: dict[str, Any]) -> int:
    """Calendar months from the first to the last dated review (gaps included)."""
    return len(plots.month_range([p["period"] for p in summary["timeline"]]))


def dated_reviews(summary: dict[str, Any]) -> int:
    return sum(p["reviews"] for p in summary["timeline"])


def history_note(summary: dict[str, Any]) -> str | None:
    """Why trends cannot be measured (None when they can): no dates, too short, too few."""
    if summary["trend"] is not None:
        return None
    dated = dated_reviews(summary)
    if not dated:
        return "No review has a date: trends and rising topics cannot be measured."
    comparison = summary["comparison"]
    if comparison is None:
        first, last = (dt.date.fromisoformat(summary[k]) for k in ("first_date", "last_date"))
        span = (last - first).days
        return (
            f"The dated reviews span {_days(span + 1)} ({summary['first_date']} → {summary['last_date']}): "
            f"trends compare the last {RECENT_DAYS} days (or half the history, at least {MIN_WINDOW_DAYS} "
            "days) with as many days before."
        )
    return (
        f"Only {dated:,} of {summary['reviews']:,} reviews have a date: too few to compare the last "
        f"{_days(comparison['days'])} with the {_days(comparison['days'])} before "
        f"(at least {MIN_WINDOW_REVIEWS} in each)."
    )


def _tone_style(tone: str) -> str:
    return {"negative": "neg", "positive": "pos"}.get(tone, "b")


def _headline(summary: dict[str, Any]) -> Finding:
    shares, net = summary["sentiment"]["shares"], summary["sentiment"]["net"]
    head: Finding = [(f"{summary['reviews']:,} reviews", "b")]
    if summary["first_date"]:
        head.append((f" from {summary['first_date']} to {summary['last_date']}", ""))
        dated = dated_reviews(summary)
        if dated < summary["reviews"]:
            head.append((f" ({dated:,} with a date)", ""))
    head.append((": ", ""))
    if summary["mean_rating"] is not None:
        head += [(f"{summary['mean_rating']:.2f}★", "b"), (" on average, ", "")]
    return [
        *head,
        (f"{shares['positive']:.0%} positive", "pos"),
        (" and ", ""),
        (f"{shares['negative']:.0%} negative", "neg"),
        (", a net sentiment of ", ""),
        (_signed(net * 100), "pos" if net > 0 else "neg" if net < 0 else "b"),
        (".", ""),
    ]


def _trend_finding(trend: dict[str, Any]) -> Finding:
    change = trend["change"]
    verb = "held steady" if trend["within_noise"] else "improved" if change > 0 else "fell"
    style = "b" if trend["within_noise"] else "pos" if change > 0 else "neg"
    return [
        ("Net sentiment ", ""),
        (verb, style),
        (f" over the last {_days(trend['days'])} ({_window(trend['recent_period'])}): ", ""),
        (_signed(trend["recent"] * 100, 1), "b"),
        (f" vs {_signed(trend['previous'] * 100, 1)} in the {_days(trend['days'])} before (", ""),
        (_signed(change * 100, 1) + " pts", style),
        (f"; {trend['recent_reviews']:,} vs {trend['previous_reviews']:,} reviews", ""),
        (", within noise)." if trend["within_noise"] else ").", ""),
    ]


def _companies_finding(summary: dict[str, Any]) -> Finding | None:
    rows = summary.get("companies") or []
    if len(rows) < 2:
        return None
    ranked = sorted(rows, key=lambda r: -r["net_sentiment"])
    best, worst = ranked[0], ranked[-1]
    finding: Finding = [
        (f"Of {len(rows)} companies, ", ""),
        (best["company"], "pos"),
        (f" has the best net sentiment ({_signed(best['net_sentiment'] * 100)}) and ", ""),
        (worst["company"], "neg"),
        (f" the worst ({_signed(worst['net_sentiment'] * 100)})", ""),
    ]
    if worst["top_complaint"]:
        finding.append((f", its biggest complaint: {worst['top_complaint']}", ""))
    finding.append((".", ""))
    return finding


def _driver_finding(summary: dict[str, Any], items: dict[int, dict[str, Any]]) -> Finding | None:
    drivers = summary["negative_drivers"]
    negative = summary["sentiment"]["shares"]["negative"]
    if not drivers:
        if items and negative:
            return [("No topic stands out in negative reviews: complaints are spread across topics.", "")]
        return None
    d = drivers[0]
    topic = items.get(d["topic_id"], {})
    finding: Finding = [
        ("The biggest driver of negative reviews is ", ""),
        (d["label"], "neg"),
        (f": {d['negative_reviews']:,} negative reviews, ", ""),
        (f"{d['negative_share']:.0%} of all negatives", "b"),
        (f"; {d['negative_rate']:.0%} of the reviews on it are negative vs {negative:.0%} overall", ""),
    ]
    if topic.get("mean_rating") is not None:
        finding.append((f", {topic['mean_rating']:.2f}★ on average", ""))
    if topic.get("share", 0) >= _BROAD_TOPIC:
        finding.append(
            (f" (a broad topic, {topic['share']:.0%} of all reviews: see its words and quotes below)", "")
        )
    finding.append((".", ""))
    if len(drivers) > 1:
        finding.append((" Next: ", ""))
        for i, other in enumerate(drivers[1:3]):
            finding += [
                (" and " if i else "", ""),
                (other["label"], "b"),
                (f" ({other['negative_share']:.0%} of negatives)", ""),
            ]
        finding.append((".", ""))
    return finding


def _rising_finding(
    summary: dict[str, Any], items: dict[int, dict[str, Any]], tones: dict[int, str]
) -> Finding | None:
    rising = summary["rising_topics"]
    if not rising:
        return None
    r = rising[0]
    tone = tones.get(r["topic_id"], "neutral")
    sentiment = items.get(r["topic_id"], {}).get("sentiment", {})
    finding: Finding = [
        ("Fastest rising topic: ", ""),
        (r["label"], _tone_style(tone)),
        (", from ", ""),
        (f"{r['previous_share']:.0%} to {r['recent_share']:.0%} of reviews", "b"),
        (f" ({r['previous']:,} reviews in {_window(r['previous_period'])}, ", ""),
        (f"{r['recent']:,} in {_window(r['recent_period'])}; {_pts(r['change'])})", ""),
    ]
    if tone == "negative":
        finding.append(
            (f": rated below average, {sentiment.get('negative', 0):.0%} of its reviews negative.", "")
        )
    elif tone == "positive":
        finding.append(
            (f": rated above average, {sentiment.get('positive', 0):.0%} of its reviews positive.", "")
        )
    else:
        finding.append((".", ""))
    worse = next((x for x in rising[1:] if tones.get(x["topic_id"]) == "negative"), None)
    if tone != "negative" and worse is not None:
        finding += [
            (" Rising among topics rated below average: ", ""),
            (worse["label"], "neg"),
            (f" ({worse['previous_share']:.0%} → {worse['recent_share']:.0%}, {_pts(worse['change'])}).", ""),
        ]
    return finding


def _praise_finding(summary: dict[str, Any], tones: dict[int, str]) -> Finding | None:
    # the counterpart of the negative drivers: most positive reviews above the overall rate
    positive = summary["sentiment"]["shares"]["positive"]
    praised = [
        (t["size"] * (t["sentiment"].get("positive", 0.0) - positive), t)
        for t in summary["topics"]["items"]
        if tones.get(t["id"]) == "positive"
    ]
    if not praised:
        return None
    best = max(praised, key=lambda x: x[0])[1]
    finding: Finding = [
        ("The biggest source of praise is ", ""),
        (best["label"], "pos"),
        (f": {best['size']:,} reviews, {best['sentiment']['positive']:.0%} positive", ""),
    ]
    if best["mean_rating"] is not None:
        finding.append((f", {best['mean_rating']:.2f}★ on average", ""))
    return [*finding, (".", "")]


def _cautions(summary: dict[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    evaluation = summary["sentiment"]["evaluation"]
    if evaluation and evaluation["macro_f1"] < 0.6:
        text = (
            f"the sentiment model agrees poorly with the stars (macro-F1 {evaluation['macro_f1']:.2f}); "
            "read sentiment figures as rough."
        )
        out.append([("Caution: ", "neg"), (text, "")])
    topics = summary["topics"]
    measure, coherence = topics["coherence_measure"], topics["coherence"]
    if topics["items"] and ((measure == "npmi" and coherence < 0) or (measure == "c_v" and coherence < 0.3)):
        few = f", only {summary['reviews']:,} reviews" if summary["reviews"] < 1000 else ""
        text = (
            f"topics are weakly coherent ({measure} {_signed(coherence, 2)}{few}); "
            "treat topic labels as rough themes."
        )
        out.append([("Caution: ", "neg"), (text, "")])
    return out


def key_findings(summary: dict[str, Any]) -> list[Finding]:
    """The few sentences a reader needs first, each a list of (text, style) segments.

    Overall figures; net sentiment of the last 90 days vs the 90 before (or why it can't be
    measured); the biggest negative driver; the fastest rising topic; the biggest source of
    praise; cautions when the models are weak.
    """
    items = {t["id"]: t for t in flat_topics(summary)}
    tones = topic_tones(summary)
    trend = summary["trend"]
    findings = [_headline(summary)]
    findings.append(_trend_finding(trend) if trend is not None else [(history_note(summary) or "", "")])
    for finding in (
        _companies_finding(summary),
        _driver_finding(summary, items),
        _rising_finding(summary, items, tones),
    ):
        if finding is not None:
            findings.append(finding)
    if not summary["rising_topics"] and trend is not None:
        days = _days(trend["days"])
        findings.append([(f"No topic grew clearly faster than the others over the last {days}.", "")])
    praise = _praise_finding(summary, tones)
    if praise is not None:
        findings.append(praise)
    return findings + _cautions(summary)


def findings_text(summary: dict[str, Any]) -> list[str]:
    """The key findings as plain sentences (for tests, logs and the CLI)."""
    return ["".join(text for text, _ in finding) for finding in key_findings(summary)]


def language_breakdown(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per language when there are several, from the topics tagged '[xx]'.

    Sentiment and stars are the size-weighted mix of the language's topics, so they cover the
    reviews that have a topic (`with_topic`), which is nearly all of them.
    """
    languages = summary["languages"]
    if len(languages) < 2:
        return []
    total = sum(languages.values()) or 1
    by_language = summary["topics"].get("by_language") or {}
    theme_label = _theme_labels(summary)
    rows = []
    for lang, count in languages.items():
        tag = f"[{lang}]"
        topics = [t for t in summary["topics"]["items"] if t["label"].endswith(tag)]
        size = sum(t["size"] for t in topics)
        mix = (
            {
                lab: sum(t["size"] * t["sentiment"].get(lab, 0.0) for t in topics) / size
                for lab in ("positive", "neutral", "negative")
            }
            if size
            else None
        )
        rated = [(t["size"], t["mean_rating"]) for t in topics if t["mean_rating"] is not None]
        weight = sum(n for n, _ in rated)
        quality = by_language.get(lang) or {}
        rows.append(
            {
                "language": lang,
                "reviews": count,
                "share": count / total,
                "with_topic": size,
                "sentiment": mix,
                "net": mix["positive"] - mix["negative"] if mix else None,
                "mean_rating": sum(n * m for n, m in rated) / weight if weight else None,
                "k": quality.get("k"),
                "coherence": quality.get("coherence"),
                "driver": next(
                    (d for d in summary["negative_drivers"] if theme_label(d).endswith(tag)), None
                ),
                "rising": next((r for r in summary["rising_topics"] if theme_label(r).endswith(tag)), None),
            }
        )
    return rows


def _theme_labels(summary: dict[str, Any]) -> Callable[[dict[str, Any]], str]:
    """A function giving the broad theme's label of a driver or rising alert (which may be a sub-theme)."""
    broad = {t["id"]: t["label"] for t in summary["topics"]["items"]}

    def label(alert: dict[str, Any]) -> str:
        parent = alert.get("parent")
        return str(broad.get(parent, alert["label"]) if parent is not None else alert["label"])

    return label


def _rising_subthemes(summary: dict[str, Any], by_topic: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """The rising sub-themes as chart panels, labelled "sub-theme (in theme)".

    The sub-theme's own words come first because panel titles are cut at ~36 characters.
    """
    return [
        {**by_topic[r["topic_id"]], "label": f"{by_topic[r['topic_id']]['label']} (in {parent['label']})"}
        for r in summary["rising_topics"]
        if r.get("parent") is not None
        and r["topic_id"] in by_topic
        and (parent := by_topic.get(r["parent"])) is not None
    ]


def _same_quote(a: str, b: str) -> bool:
    """One contains the other, or they open alike (demo and copy-paste reviews repeat sentences)."""
    if a in b or b in a:
        return True
    n = min(len(a), len(b), 120)
    return difflib.SequenceMatcher(None, a[:n], b[:n]).ratio() > 0.85


def _quotes(
    topic: dict[str, Any], tone: str, by_id: dict[str, Review], limit: int = 2
) -> list[dict[str, Any]]:
    """Distinct representative quotes; complaint topics show complaints first, praise topics praise."""
    reviews = [
        r for rid in topic["representative_ids"] if (r := by_id.get(rid)) is not None and r.text.strip()
    ]
    if tone == "negative":
        reviews.sort(key=lambda r: r.rating if r.rating is not None else 3)
    elif tone == "positive":
        reviews.sort(key=lambda r: -(r.rating if r.rating is not None else 3))
    chosen: list[dict[str, Any]] = []
    seen: list[str] = []
    for r in reviews:
        key = " ".join(r.text.lower().split())
        if any(_same_quote(key, s) for s in seen):
            continue
        seen.append(key)
        chosen.append({"text": _snippet(r.text), "rating": r.rating})
        if len(chosen) == limit:
            break
    return chosen


def star_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """5★ down to 1★ with count, share and bar width (% of the largest), [] without stars."""
    counts = {int(k): v for k, v in summary["rating_distribution"].items()}
    total = sum(counts.values())
    if not total:
        return []
    top = max(counts.values())
    return [
        {
            "stars": star,
            "count": counts.get(star, 0),
            "share": counts.get(star, 0) / total,
            "width": 100 * counts.get(star, 0) / top,
        }
        for star in (5, 4, 3, 2, 1)
    ]


def undrawable_terms(summary: dict[str, Any]) -> int:
    """How many topic terms the charts' font cannot draw (CJK, ...): left out of the images."""
    return sum(
        not plots.drawable(term["term"]) for topic in summary["topics"]["items"] for term in topic["terms"]
    )


def write_wordclouds(summary: dict[str, Any], folder: Path) -> dict[int, Path]:
    """One PNG per topic under `folder` (also logged to MLflow), coloured by the topic's tone."""
    tones = topic_tones(summary)
    out = {}
    for topic in summary["topics"]["items"]:
        path = plots.word_cloud(
            topic["terms"], folder / f"topic-{topic['id']:02d}.png", tone=tones.get(topic["id"], "neutral")
        )
        if path is not None:
            out[topic["id"]] = path
    return out


def render_report(summary: dict[str, Any], reviews: Sequence[Review], clouds: dict[int, Path]) -> str:
    """The report's HTML text; `reviews` must hold those it quotes (see `quoted_reviews`)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("reviewops", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    items = summary["topics"]["items"]
    tones = topic_tones(summary)
    by_id = {r.id: r for r in quoted_reviews(summary, reviews)}
    multilingual = len(summary["languages"]) > 1
    recent_negative = [
        {
            "date": r.published.date().isoformat() if r.published else "—",
            "rating": r.rating,
            "language": r.language or "",
            "text": _snippet(r.text),
        }
        for rid in summary["recent_negative_ids"][:10]
        if (r := by_id.get(rid)) is not None
    ]
    rising = {r["topic_id"]: r for r in summary["rising_topics"]}
    drivers = {d["topic_id"]: i + 1 for i, d in enumerate(summary["negative_drivers"])}
    by_topic = {t["id"]: t for t in flat_topics(summary)}
    max_share = max((t["share"] for t in items), default=0) or 1
    max_negative_share = max((d["negative_share"] for d in summary["negative_drivers"]), default=0) or 1
    dated = dated_reviews(summary)
    images = {
        "timeline": _b64(
            plots.sentiment_over_time(
                summary["timeline"], first_date=summary["first_date"], last_date=summary["last_date"]
            )
        ),
        # a broad theme is marked rising in the chart when it or one of its sub-themes rose
        "trends": _b64(
            plots.topic_trends(
                items,
                set(rising),
                tones,
                recent_start=_recent_start(summary),
                subthemes=_rising_subthemes(summary, by_topic),
            )
        ),
    }
    template = env.get_template("report.html.j2")
    return template.render(
        s=summary,
        img=images,
        clouds={tid: _b64(p.read_bytes()) for tid, p in clouds.items()},
        quotes={t["id"]: _quotes(t, tones.get(t["id"], "neutral"), by_id) for t in items},
        tones=tones,
        findings=key_findings(summary),
        languages=language_breakdown(summary),
        multilingual=multilingual,
        recent_negative=recent_negative,
        rising=rising,
        drivers=drivers,
        by_topic=by_topic,
        max_negative_share=max_negative_share,
        max_share=max_share,
        star_rows=star_rows(summary),
        topics_by_share=sorted(items, key=lambda t: -t["share"]),
        subthemes_by_share={
            t["id"]: sorted(t.get("subthemes", []), key=lambda x: -x["share"]) for t in items
        },
        trust=summary["sentiment"].get("trust"),
        dated=dated,
        undated=summary["reviews"] - dated,
        history_months=history_months(summary),
        history_note=history_note(summary),
        undrawable=undrawable_terms(summary),
        months=_months,
        days=_days,
        min_month_reviews=plots.MIN_MONTH_REVIEWS,
        max_months=plots.MAX_MONTHS,
        window=_window,
        num=_int,
        pct=_pct,
        stars=_stars,
        vs_avg=_vs_avg,
        signed=_signed,
        pts=_pts,
        version=__version__,
    )
