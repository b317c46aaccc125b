"""Writing a run's outputs: summary.json, word clouds, the HTML report, the SQL store, MLflow.

The summary is written first and rewritten last (with the output locations), so a failing
store or MLflow server costs a warning, never the figures already computed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewops.background import Background
from reviewops.insights import Insights
from reviewops.records import Prepared, Review, SentimentResult, SourceResult, TopicResult
from reviewops.spec import ReviewAnalysisSpec, experiment_name_for, spec_to_dict
from reviewops.summary import build_summary, quoted_reviews

if TYPE_CHECKING:
    from reviewops.pipeline import RunOptions, RunOutcome

log = logging.getLogger(__name__)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(path)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def write_outputs(
    *,
    spec: ReviewAnalysisSpec,
    options: RunOptions,
    analysis: str,
    run_id: str,
    source_result: SourceResult,
    prepared: Prepared,
    sentiment: SentimentResult,
    topic_result: TopicResult,
    insights: Insights,
    timings: dict[str, float],
) -> RunOutcome:
    """Write every output of a run; failures of the store or MLflow become warnings."""
    import time

    started = time.perf_counter()  # the imports below are part of the outputs' time

    from reviewops.pipeline import RunOutcome
    from reviewops.store import redact_url

    out = options.out_dir
    warnings = list(prepared.warnings)
    extra = sentiment.details.get("warnings")
    if isinstance(extra, list):
        warnings += [str(w) for w in extra]
    topic_warning = topic_result.details.get("warning")
    if isinstance(topic_warning, str):
        warnings.append(topic_warning)
    if not source_result.complete:
        warnings.append(
            f"the source stopped early: {len(source_result.reviews)} reviews were analysed; "
            "run again to fetch the rest (already fetched reviews are kept)"
        )
    summary = build_summary(
        run_id=run_id,
        analysis=analysis,
        company=spec.company.name,
        spec=spec_to_dict(spec),
        languages=prepared.languages,
        source_stats={
            "type": spec.source.type,
            "complete": source_result.complete,
            **source_result.stats,
        },
        problems=source_result.problems,
        sentiment=sentiment,
        topics=topic_result,
        insights=insights,
        timings=timings,
        warnings=warnings,
    )
    summary_path = out / "summary.json"
    _write_json(summary_path, summary)

    # The report is drawn on a forked child while the store is written here (see background).
    # That way round, the child touches the summary and the few quoted reviews, not every
    # review: at 1M reviews a child writing the store copied ~0.4 GB of the parent's pages.
    quoted = quoted_reviews(summary, source_result.reviews)
    with Background(
        "report", lambda _p: _write_report(summary, quoted, out), fork=options.workers != 1
    ) as report:
        if options.store_url != "":
            store_url = options.store_url or sqlite_url(out / "reviewops.db")
            try:
                _write_store(
                    store_url,
                    run_id,
                    analysis,
                    spec,
                    summary,
                    source_result,
                    sentiment,
                    topic_result,
                    insights,
                )
                summary["outputs"]["store"] = redact_url(store_url)
            except Exception as exc:  # StoreError or a driver error: keep going, say so
                warnings.append(f"results store not written: {exc}")
        report_path = report.result()
    summary["outputs"]["report"] = str(report_path)

    model_path = sentiment.details.get("model_path")
    if options.mlflow and spec.mlflow.enabled:
        tracking_uri = options.tracking_uri or sqlite_url(out / "mlflow.db")
        try:
            tracked = _log_mlflow(
                tracking_uri,
                analysis,
                run_id,
                spec,
                summary,
                out,
                summary_path,
                report_path,
                model_path,
            )
            summary["outputs"].update(
                mlflow_tracking_uri=redact_url(tracking_uri),
                mlflow_experiment_id=tracked.experiment_id,
                mlflow_run_id=tracked.run_id,
                sentiment_model_uri=tracked.model_uri,
            )
            if options.store_url != "" and "store" in summary["outputs"]:
                _set_mlflow_run(options.store_url or sqlite_url(out / "reviewops.db"), run_id, tracked.run_id)
        except Exception as exc:
            warnings.append(f"MLflow run not logged: {exc}")
    if isinstance(model_path, str):
        summary["outputs"]["sentiment_model"] = model_path
    summary["timings"]["outputs"] = round(time.perf_counter() - started, 3)
    summary["warnings"] = warnings
    _write_json(summary_path, summary)
    return RunOutcome(summary, summary_path, report_path, warnings)


def _write_report(summary: dict[str, Any], quoted: list[Review], out: Path) -> Path:
    """Word clouds and report.html under `out`; the report's path."""
    from reviewops.report import render_report, write_wordclouds

    clouds = write_wordclouds(summary, out / "wordclouds")
    path = out / "report.html"
    path.write_text(render_report(summary, quoted, clouds), encoding="utf-8")
    return path


def _write_store(
    store_url: str,
    run_id: str,
    analysis: str,
    spec: ReviewAnalysisSpec,
    summary: dict[str, Any],
    source_result: SourceResult,
    sentiment: SentimentResult,
    topic_result: TopicResult,
    insights: Insights,
) -> None:
    from reviewops.store import open_store, write_run

    evaluation = summary["sentiment"]["evaluation"] or {}
    shares = summary["sentiment"]["shares"]
    engine = open_store(store_url)
    try:
        write_run(
            engine,
            run_row={
                "run_id": run_id,
                "analysis": analysis,
                "company": spec.company.name,
                "created_at": dt.datetime.now(dt.UTC),
                "reviews": summary["reviews"],
                "mean_rating": summary["mean_rating"],
                "positive": shares["positive"],
                "neutral": shares["neutral"],
                "negative": shares["negative"],
                "net_sentiment": summary["sentiment"]["net"],
                "sentiment_method": sentiment.method,
                "macro_f1": evaluation.get("macro_f1"),
                "topic_algorithm": topic_result.algorithm,
                "num_topics": len(topic_result.themes()),  # broad themes, as summary topics.k
                "coherence": topic_result.coherence,
                "diversity": topic_result.diversity,
                "mlflow_run_id": None,
                "spec": spec_to_dict(spec),
            },
            review_list=source_result.reviews,
            sentiment=sentiment,
            topic_result=topic_result,
            insights=insights,
        )
    finally:
        engine.dispose()


def _set_mlflow_run(store_url: str, run_id: str, mlflow_run_id: str) -> None:
    from sqlalchemy import update

    from reviewops.store import open_store, runs

    engine = open_store(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(update(runs).where(runs.c.run_id == run_id).values(mlflow_run_id=mlflow_run_id))
    finally:
        engine.dispose()


def _log_mlflow(
    tracking_uri: str,
    analysis: str,
    run_id: str,
    spec: ReviewAnalysisSpec,
    summary: dict[str, Any],
    out: Path,
    summary_path: Path,
    report_path: Path,
    model_path: object,
) -> Any:
    from reviewops.tracking import log_analysis_run

    topics_path = out / "topics.json"
    _write_json(topics_path, {"topics": summary["topics"]})
    experiment = experiment_name_for(analysis, spec)
    log_model = None
    if isinstance(model_path, str) and Path(model_path).exists():
        from reviewops.sentiment import log_model_to_mlflow

        def log_model() -> str:
            return log_model_to_mlflow(Path(model_path), "sentiment-model")

    artifact_location = None
    if tracking_uri.startswith("sqlite:"):
        # An embedded store would otherwise put artifacts in ./mlruns of whatever the cwd is:
        # keep them beside the database file (out/ by default), which outlives a DAG stage's
        # temporary folder and is the same for every run of the experiment.
        database = tracking_uri.split("?", 1)[0].removeprefix("sqlite:///")
        on_disk = tracking_uri.startswith("sqlite:///") and database not in {"", ":memory:"}
        folder = Path(database).parent if on_disk else out
        artifact_location = (folder / "mlartifacts").resolve().as_uri()
    return log_analysis_run(
        tracking_uri=tracking_uri,
        experiment_name=experiment,
        run_id=run_id,
        run_name=run_id,
        spec=spec_to_dict(spec),
        summary=summary,
        artifacts=[summary_path, topics_path, report_path, out / "wordclouds"],
        artifact_location=artifact_location,
        log_model=log_model,
        tags={"reviewops.analysis": analysis, "reviewops.company": spec.company.name},
    )
