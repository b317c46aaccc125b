"""`summary.json`: every figure of a run, machine-readable (fields documented in the README)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from reviewops.insights import Insights, TopicInsight
from reviewops.records import Evaluation, Problem, Review, SentimentResult, TopicResult
from reviewops.trends import Windows

# 2: rising-topic periods are day windows; "comparison", "trend", "companies"
# 3: two-level themes: topics.items[] are broad themes, each with subthemes[]; drivers and
#    rising topics may name a sub-theme (parent set); sentiment.trust
SCHEMA_VERSION = 3


def evaluation_dict(evaluation: Evaluation | None) -> dict[str, Any] | None:
    """An Evaluation as JSON (per-class precision/recall/F1/support)."""
    if evaluation is None:
        return None
    return {
        "kind": evaluation.kind,
        "n": evaluation.n,
        "macro_f1": round(evaluation.macro_f1, 4),
        "accuracy": round(evaluation.accuracy, 4),
        "per_class": {
            label: {
                "precision": round(s.precision, 4),
                "recall": round(s.recall, 4),
                "f1": round(s.f1, 4),
                "support": s.support,
            }
            for label, s in evaluation.per_class.items()
        },
    }


def build_summary(
    *,
    run_id: str,
    analysis: str,
    company: str,
    spec: dict[str, Any],
    languages: Sequence[str],
    source_stats: dict[str, Any],
    problems: Sequence[Problem],
    sentiment: SentimentResult,
    topics: TopicResult,
    insights: Insights,
    timings: dict[str, float],
    warnings: Sequence[str],
) -> dict[str, Any]:
    """Assemble the summary document from the stage results."""
    n = insights.reviews
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "analysis": analysis,
        "company": company,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "spec": spec,
        "source": {
            **source_stats,
            "problems": len(problems),
            "problem_samples": [str(p) for p in problems[:20]],
        },
        "reviews": n,
        "rated_reviews": insights.rated,
        "mean_rating": insights.mean_rating,
        "rating_distribution": {str(k): v for k, v in insights.rating_distribution.items()},
        "first_date": insights.first_date,
        "last_date": insights.last_date,
        "languages": dict(Counter(languages).most_common()),
        "sentiment": {
            "method": sentiment.method,
            "shares": insights.sentiment,
            "net": insights.net_sentiment,
            "evaluation": evaluation_dict(sentiment.evaluation),
            "details": {k: v for k, v in sentiment.details.items() if _jsonable(v)},
            # how far to trust the figures, in words (None when the sentiment stage gave none)
            "trust": _trust(sentiment),
        },
        "topics": {
            "algorithm": topics.algorithm,
            "k": len(topics.themes()),  # broad themes; their sub-themes are in items[].subthemes
            "subthemes_k": len(topics.subthemes()),
            "coherence": round(topics.coherence, 4),
            "coherence_measure": topics.coherence_measure,
            "diversity": round(topics.diversity, 4),
            "k_scores": {str(k): v for k, v in topics.k_scores.items()},
            # topics are fitted per language when several have enough reviews: k_scores are the
            # largest language's, and each language's chosen k is in k_chosen
            "k_scores_language": next(iter(_by_language(topics)), None),
            "k_chosen": {lang: info.get("k") for lang, info in _by_language(topics).items()}
            or {"all": len(topics.themes())},
            "unassigned": sum(1 for t in topics.assignments if t < 0),
            "by_language": topics.details.get("by_language", {}),
            "items": theme_items(insights.topics),
        },
        "negative_drivers": [asdict(d) for d in insights.negative_drivers],
        "rising_topics": [asdict(r) for r in insights.rising_topics],
        "comparison": _windows(insights.windows),
        "trend": asdict(insights.trend) if insights.trend is not None else None,
        "companies": [asdict(c) for c in insights.companies],
        "timeline": [asdict(p) for p in insights.timeline],
        "recent_negative_ids": insights.recent_negative_ids,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "throughput": {k: round(n / v, 1) for k, v in timings.items() if v > 0 and n and k != "outputs"},
        "warnings": list(warnings),
        "outputs": {},
    }


def _topic_item(t: TopicInsight) -> dict[str, Any]:
    return {
        "id": t.id,
        "label": t.label,
        "terms": [{"term": term, "weight": round(w, 5)} for term, w in t.terms],
        "size": t.size,
        "share": t.share,
        "mean_rating": t.mean_rating,
        "impact": t.impact,
        "sentiment": t.sentiment,
        "trend": [{"period": p, "reviews": c} for p, c in t.trend],
        "representative_ids": t.representative_ids,
    }


def theme_items(topic_list: Sequence[TopicInsight]) -> list[dict[str, Any]]:
    """The broad themes, each with its `subthemes` (same fields plus `parent` and `share_of_theme`).

    Broad themes stay the top level so that readers of `topics.items` written before sub-themes
    (the CLI table, the operator's status, dashboards' tests) read the same thing; `subthemes`
    is empty for a theme that has none.
    """
    items = {t.id: {**_topic_item(t), "subthemes": []} for t in topic_list if t.parent is None}
    for t in topic_list:
        parent = items.get(t.parent) if t.parent is not None else None
        if parent is not None:
            share_of_theme = round(t.size / parent["size"], 4) if parent["size"] else 0.0
            parent["subthemes"].append(
                {**_topic_item(t), "parent": t.parent, "share_of_theme": share_of_theme}
            )
    return list(items.values())


def _trust(sentiment: SentimentResult) -> str | None:
    trust = sentiment.details.get("trust")
    return trust if isinstance(trust, str) and trust.strip() else None


def _by_language(topics: TopicResult) -> dict[str, dict[str, Any]]:
    found = topics.details.get("by_language")
    if not isinstance(found, dict):
        return {}
    return {str(lang): info for lang, info in found.items() if isinstance(info, dict)}


def _windows(windows: Windows | None) -> dict[str, Any] | None:
    if windows is None:
        return None
    return {
        "days": windows.days,
        "recent_period": windows.recent_period,
        "previous_period": windows.previous_period,
    }


def compact_results(summary: dict[str, Any], top: int = 5) -> dict[str, Any]:
    """The small results block the operator copies into `status.results` (camelCase)."""
    evaluation = summary["sentiment"].get("evaluation") or {}
    return {
        "reviews": summary["reviews"],
        "meanRating": summary["mean_rating"],
        "sentiment": summary["sentiment"]["shares"],
        "topTopics": [t["label"] for t in sorted(summary["topics"]["items"], key=lambda t: -t["size"])][:top],
        "negativeDrivers": [d["label"] for d in summary["negative_drivers"][:top]],
        "macroF1": evaluation.get("macro_f1"),
        "coherence": summary["topics"]["coherence"],
        "mlflowRunId": summary["outputs"].get("mlflow_run_id"),
    }


def _jsonable(value: object) -> bool:
    return isinstance(value, str | int | float | bool | type(None) | list | dict)


def quoted_reviews(summary: dict[str, Any], reviews: Sequence[Review]) -> list[Review]:
    """The reviews the report quotes: the topics' representative ones and the recent negative.

    Here, not in `report`, so that the run picks them without importing the plotting stack.
    """
    items = summary["topics"]["items"]
    wanted = {rid for t in items for rid in t["representative_ids"]} | set(
        summary["recent_negative_ids"][:10]
    )
    return [r for r in reviews if r.id in wanted]
