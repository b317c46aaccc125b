"""The stages of one DAG run, each a function from the artifact store to the artifact store.

validate -> load -> preprocess -> sentiment -> topics -> insights -> publish, the same chain as
`reviewops.pipeline.run_analysis` and calling the same functions (`pipeline.load`, `.preprocess`,
`.sentiment`, `.topics`, `insights.compute_insights`, `outputs.write_outputs`): the DAG cuts the
engine into processes, it does not reimplement it. What a stage needs from an earlier one it
reads from `<artifacts>/<run id>/<stage>/`; what it produces it writes to its own folder, after
clearing it, so a retried stage replaces its outputs (see `artifacts.py`).

`publish` is the only stage with effects outside the run folder, and both are keyed on the run
id: the results store replaces the run's rows (`store.write_run`), and MLflow resumes the run
tagged `reviewops.run_id` (`tracking.log_analysis_run`), so a retried publish never creates a
second MLflow run. Unlike `reviewops analyze`, publish fails when the store or MLflow cannot be
written: in a DAG a failure is retried, while a warning would silently lose the run.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewops.records import no_progress
from reviewops.settings import AnalysisSettings, SettingsError, load_settings
from reviewops.stages import records_io as io
from reviewops.stages.artifacts import RunArtifacts
from reviewops.stages.conf import RunConf, parse_conf

if TYPE_CHECKING:
    from reviewops.pipeline import RunOptions
    from reviewops.spec import ReviewAnalysisSpec

STAGES = ("validate", "load", "preprocess", "sentiment", "topics", "insights", "publish")
ANALYSIS_STAGES = ("load", "preprocess", "sentiment", "topics", "insights")  # timed in the summary


class StageError(RuntimeError):
    """A stage cannot do its job; the message says what to fix."""


@dataclass(slots=True)
class StageOutcome:
    """What a stage tells its caller: one line for the log, and publish's small results."""

    message: str
    results: dict[str, Any] | None = None
    marker: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class StageContext:
    run_id: str
    store: RunArtifacts
    settings: AnalysisSettings
    conf_data: object = None  # validate only: the raw conf to check

    def conf(self) -> RunConf:
        """The conf validate accepted, validated again (the file may come from another version)
        and checked again against the admin's allow-lists (which may have changed since)."""
        self.store.marker("validate")
        conf = parse_conf(self.store.read_json("validate", "conf.json"))
        self.enforce_policy(conf)
        return conf

    def enforce_policy(self, conf: RunConf) -> None:
        """PolicyError (naming the field) when the spec points where the admin did not allow."""
        from reviewops.policy import enforce

        namespace = conf.analysis.namespace if conf.analysis is not None else None
        enforce(conf.spec, namespace, self.settings.policy())

    def options(self, conf: RunConf, out_dir: Path) -> RunOptions:
        from reviewops.pipeline import RunOptions

        settings = self.settings
        return RunOptions(
            out_dir=out_dir,
            analysis=conf.analysis_key,
            run_id=self.run_id,
            store_url=settings.store_url,
            tracking_uri=settings.mlflow_tracking_uri,
            mlflow=conf.spec.mlflow.enabled,
            cache_dir=Path(settings.cache_dir) if settings.cache_dir else None,
            workers=settings.workers,
            contact=settings.contact,
            base_url=settings.trustpilot_base_url,
        )


def run_stage(
    stage: str,
    *,
    run_id: str,
    artifacts_url: str | None = None,
    conf: object = None,
    settings: AnalysisSettings | None = None,
) -> StageOutcome:
    """Run one stage of run `run_id`: clear its folder, compute, write, mark it finished."""
    if stage not in STAGES:
        raise StageError(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
    settings = settings or load_settings()
    url = artifacts_url or settings.artifacts_url
    if not url:
        raise SettingsError(
            "no artifact store: set REVIEWOPS_ARTIFACTS_URL or pass --artifacts (an absolute folder "
            "or fsspec URL shared by every task of the DAG)"
        )
    if stage == "validate" and conf is None:
        raise StageError("validate needs the run's conf (--conf)")
    try:
        store = RunArtifacts(url, run_id)
    except ValueError as exc:
        raise StageError(str(exc)) from exc
    context = StageContext(run_id, store, settings, conf)
    started = time.perf_counter()
    store.begin(stage)
    outcome = _STEPS[stage](context)
    store.finish(stage, time.perf_counter() - started, **outcome.marker)
    return outcome


def _validate(ctx: StageContext) -> StageOutcome:
    conf = parse_conf(ctx.conf_data)  # SpecError names the bad fields
    ctx.enforce_policy(conf)  # before anything is read: never load a model the admin did not allow
    problems = ctx.settings.publish_problems(conf.spec.mlflow.enabled)
    if problems:  # checked before any work: a misconfigured worker fails the run at once
        raise SettingsError("; ".join(problems))
    ctx.store.write_json("validate", "conf.json", conf.to_dict())
    spec = conf.spec
    note = ""
    if conf.analysis is not None and conf.analysis.run_id not in {"", ctx.run_id}:
        # e.g. an operator's conf re-triggered by hand: this DAG run is a run of its own
        note = f"; conf names run {conf.analysis.run_id}, results are keyed on this run {ctx.run_id}"
    return StageOutcome(
        f"valid: {conf.analysis_key} ({spec.source.type} source, sentiment {spec.sentiment.method}, "
        f"topics {spec.topics.algorithm}) -> {ctx.store.url('')}{note}"
    )


def _load(ctx: StageContext) -> StageOutcome:
    from reviewops.pipeline import load

    conf = ctx.conf()
    with tempfile.TemporaryDirectory(prefix="reviewops-load-") as tmp:
        result = load(conf.spec, ctx.options(conf, Path(tmp)), no_progress)
    io.write_source(ctx.store, result)
    n = len(result.reviews)
    state = "" if result.complete else ", source stopped early"
    return StageOutcome(
        f"{n} reviews ({len(result.problems)} problems{state})",
        marker={"reviews": n, "problems": len(result.problems), "complete": result.complete},
    )


def _preprocess(ctx: StageContext) -> StageOutcome:
    from reviewops.pipeline import preprocess, source_warnings

    conf = ctx.conf()
    source = io.read_source(ctx.store)
    reviews = source.reviews
    with tempfile.TemporaryDirectory(prefix="reviewops-preprocess-") as tmp:
        prepared = preprocess(conf.spec, reviews, ctx.options(conf, Path(tmp)), no_progress)
    prepared.warnings[:0] = source_warnings(source.problems)  # as `reviewops analyze` reports them
    io.write_prepared(ctx.store, prepared)
    tokens = sum(len(t) for t in prepared.tokens)
    return StageOutcome(f"{len(reviews)} reviews, {tokens} tokens", marker={"reviews": len(reviews)})


def _sentiment(ctx: StageContext) -> StageOutcome:
    from reviewops.pipeline import sentiment

    conf = ctx.conf()
    reviews = io.read_source(ctx.store).reviews
    prepared = io.read_prepared(ctx.store, len(reviews))
    spec, marker = _pinned_model(ctx, conf)
    with tempfile.TemporaryDirectory(prefix="reviewops-sentiment-") as tmp:
        result = sentiment(spec, reviews, prepared, ctx.options(conf, Path(tmp)), no_progress)
        io.write_sentiment(ctx.store, result)  # uploads a trained model before tmp goes
    f1 = result.evaluation.macro_f1 if result.evaluation else None
    shown = f", macro-F1 {f1:.3f}" if f1 is not None else ""
    used = f" with {marker['model_uri']}" if "model_uri" in marker else ""
    return StageOutcome(
        f"{result.method} on {len(reviews)} reviews{used}{shown}", marker={"macro_f1": f1, **marker}
    )


def _pinned_model(ctx: StageContext, conf: RunConf) -> tuple[ReviewAnalysisSpec, dict[str, Any]]:
    """The spec to score with: a `models:/<name>@<alias>` URI pinned to the version it names now.

    The run then scores with one known version even if another run moves the alias meanwhile,
    and the sentiment marker (and publish's results and MLflow tags) say which.
    """
    spec, uri = conf.spec, conf.spec.sentiment.model_uri
    tracking_uri = ctx.settings.mlflow_tracking_uri
    if not uri or not tracking_uri:
        return spec, {}
    from reviewops.tracking import TrackingError, pin_alias

    # an MLflow model URI (models:/..., runs:/...) resolves against the admin's server
    os.environ.setdefault("MLFLOW_TRACKING_URI", tracking_uri)
    try:
        pinned = pin_alias(uri, tracking_uri)
    except TrackingError as exc:
        raise StageError(str(exc)) from exc
    if pinned != uri:
        sentiment = spec.sentiment.model_copy(update={"model_uri": pinned})
        spec = spec.model_copy(update={"sentiment": sentiment})
    return spec, {"model_uri": pinned, "requested_model_uri": uri}


def _topics(ctx: StageContext) -> StageOutcome:
    from reviewops.pipeline import topics

    conf = ctx.conf()
    n = int(ctx.store.marker("load").get("reviews", 0))
    prepared = io.read_prepared(ctx.store, n)
    result = topics(conf.spec, prepared, no_progress)
    io.write_topics(ctx.store, result)
    return StageOutcome(
        f"{result.algorithm}: {len(result.themes())} themes, {len(result.subthemes())} sub-themes, "
        f"coherence {result.coherence:.3f}",
        marker={
            "k": len(result.themes()),
            "subthemes": len(result.subthemes()),
            "coherence": result.coherence,
        },
    )


def _insights(ctx: StageContext) -> StageOutcome:
    from reviewops.insights import compute_insights

    reviews = io.read_source(ctx.store).reviews
    result = compute_insights(
        reviews,
        io.read_sentiment(ctx.store, len(reviews)),
        io.read_topics(ctx.store, len(reviews)),
    )
    io.write_insights(ctx.store, result)
    return StageOutcome(
        f"{len(result.negative_drivers)} negative drivers, {len(result.rising_topics)} rising topics"
    )


def _publish(ctx: StageContext) -> StageOutcome:
    from reviewops.outputs import write_outputs
    from reviewops.summary import compact_results

    conf = ctx.conf()
    settings, store = ctx.settings, ctx.store
    problems = settings.publish_problems(conf.spec.mlflow.enabled)
    if problems:
        raise SettingsError("; ".join(problems))
    source = io.read_source(store)
    n = len(source.reviews)
    timings = {stage: float(store.marker(stage)["seconds"]) for stage in ANALYSIS_STAGES}
    timings["total"] = sum(timings.values())
    with tempfile.TemporaryDirectory(prefix="reviewops-publish-") as tmp:
        work, out = Path(tmp), Path(tmp) / "out"
        out.mkdir()
        sentiment = io.read_sentiment(store, n, model_dir=work)
        outcome = write_outputs(
            spec=conf.spec,
            options=ctx.options(conf, out),
            analysis=conf.analysis_key,
            run_id=ctx.run_id,
            source_result=source,
            prepared=io.read_prepared(store, n),
            sentiment=sentiment,
            topic_result=io.read_topics(store, n),
            insights=io.read_insights(store),
            timings=timings,
        )
        summary = outcome.summary
        _require_written(settings, conf, summary, outcome.warnings)
        # the settings' URI: summary.json names it with any password hidden
        tracking = settings.mlflow_tracking_uri or summary["outputs"].get("mlflow_tracking_uri")
        model = _model_results(conf, summary, tracking, sentiment.details, store.marker("sentiment"))
        if model:
            summary["model_registry"] = model
        store.put_tree(out, "publish")
    # where things went, as the artifact store names them (the worker's folder is gone)
    summary["outputs"].update(
        report=store.url("publish", "report.html"), summary=store.url("publish", "summary.json")
    )
    if "model_path" in sentiment.details:
        summary["outputs"]["sentiment_model"] = store.url("sentiment", io.MODEL_FILE)
    store.write_json("publish", "summary.json", summary)
    results = compact_results(summary)
    if model:
        results["model"] = model  # the registration decision, for the operator to show
    store.write_json("publish", "results.json", results)
    return StageOutcome(
        f"{n} reviews published (MLflow run {results['mlflowRunId'] or 'none'})",
        results=results,
        marker={"mlflow_run_id": results["mlflowRunId"]},
    )


def _model_results(
    conf: RunConf,
    summary: dict[str, Any],
    tracking_uri: str | None,
    details: dict[str, Any],
    marker: dict[str, Any],
) -> dict[str, Any]:
    """Register the trained model when the spec asks (spec.mlflow.registerModel), and say
    which model scored the run; {} when neither applies. Registration failures fail publish."""
    from reviewops.tracking import (
        TrackingError,
        held_out_f1,
        register_model,
        registered_model_name,
        tag_run,
    )

    outputs = summary["outputs"]
    mlflow_run_id = outputs.get("mlflow_run_id")
    block: dict[str, Any] = {}
    try:
        if "model_uri" in marker:  # scored with a model from elsewhere (an alias pinned to a version)
            block["scoredWith"] = marker["model_uri"]
            if tracking_uri and mlflow_run_id:
                tag_run(tracking_uri, mlflow_run_id, {"reviewops.sentiment.model_uri": marker["model_uri"]})
        if not conf.spec.mlflow.register_model:
            return block
        model_uri = outputs.get("sentiment_model_uri")
        if details.get("model") != "trained" or not model_uri or not tracking_uri or not mlflow_run_id:
            return {
                **block,
                "registered": False,
                "reason": "no model was trained and logged in this run (registerModel registers "
                "the model of sentiment.method supervised without modelUri)",
            }
        registration = register_model(
            tracking_uri=tracking_uri,
            name=registered_model_name(conf.analysis_key),
            model_uri=str(model_uri),
            mlflow_run_id=str(mlflow_run_id),
            macro_f1=held_out_f1(summary),
        )
    except TrackingError as exc:
        raise StageError(str(exc)) from exc
    return {**block, "registered": True, **registration.results()}


def _require_written(
    settings: AnalysisSettings, conf: RunConf, summary: dict[str, Any], warnings: list[str]
) -> None:
    """Raise when the store or MLflow was wanted but not written (write_outputs only warns)."""
    missing = []
    if settings.store_url and "store" not in summary["outputs"]:
        missing.append("the results store")
    if conf.spec.mlflow.enabled and "mlflow_run_id" not in summary["outputs"]:
        missing.append("MLflow")
    if missing:
        why = [w for w in warnings if "not written" in w or "not logged" in w]
        raise StageError(f"publish could not write {' and '.join(missing)}: {'; '.join(why)}")


_STEPS: dict[str, Callable[[StageContext], StageOutcome]] = {
    "validate": _validate,
    "load": _load,
    "preprocess": _preprocess,
    "sentiment": _sentiment,
    "topics": _topics,
    "insights": _insights,
    "publish": _publish,
}


def results_line(results: dict[str, Any]) -> str:
    """publish's results as one JSON line (the last line of its output is the task's XCom)."""
    return json.dumps(results, ensure_ascii=False, separators=(",", ":"), default=str)
