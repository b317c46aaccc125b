"""`summary.json`: every figure of a run, machine-readable (fields documented in the README)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from reviewops.insights import Insights
from reviewops.records import Evaluation, Problem, SentimentResult, TopicResult
from reviewops.trends import Windows

SCHEMA_VERSION = 2  # 2: rising-topic periods are day windows; "comparison", "trend", "companies"


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
        },
        "topics": {
            "algorithm": topics.algorithm,
            "k": len(topics.topics),
            "coherence": round(topics.coherence, 4),
            "coherence_measure": topics.coherence_measure,
            "diversity": round(topics.diversity, 4),
            "k_scores": {str(k): v for k, v in topics.k_scores.items()},
            # topics are fitted per language when several have enough reviews: k_scores are the
            # largest language's, and each language's chosen k is in k_chosen
            "k_scores_language": next(iter(_by_language(topics)), None),
            "k_chosen": {lang: info.get("k") for lang, info in _by_language(topics).items()}
            or {"all": len(topics.topics)},
            "unassigned": sum(1 for t in topics.assignments if t < 0),
            "by_language": topics.details.get("by_language", {}),
            "items": [
                {
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
                for t in insights.topics
            ],
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
