"""The analysis run: load -> preprocess -> sentiment -> topics -> insights -> outputs.

One function per stage, each taking plain values, so the CLI, an Airflow task or a pod can run
the whole chain or a single stage. Outputs are written summary-first: a failing MLflow or
database never loses the summary and the report already computed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewops.background import Background
from reviewops.insights import Insights, compute_insights
from reviewops.records import (
    Prepared,
    Problem,
    ProgressFn,
    Review,
    SentimentResult,
    SourceResult,
    TopicResult,
    no_progress,
)
from reviewops.spec import ReviewAnalysisSpec, Sentiment, safe_name

log = logging.getLogger(__name__)

# A stage opener: (stage name, total items or None) -> context manager yielding a ProgressFn.
StageOpener = Callable[[str, int | None], AbstractContextManager[ProgressFn]]


@contextlib.contextmanager
def _silent_stage(_name: str, _total: int | None) -> Iterator[ProgressFn]:
    yield no_progress


class NothingToAnalyze(RuntimeError):
    """No review could be read; the message lists the problems met."""


@dataclass(slots=True)
class RunOptions:
    """Where a local run writes and what it logs (embedded defaults under `out_dir`)."""

    out_dir: Path
    analysis: str | None = None  # "namespace/name" or a local name; default: company slug
    run_id: str | None = None
    store_url: str | None = None  # default sqlite:///<out_dir>/reviewops.db ; "" disables
    tracking_uri: str | None = None  # default sqlite:///<out_dir>/mlflow.db
    mlflow: bool = True
    save_model: Path | None = None
    cache_dir: Path | None = None
    workers: int | None = None
    # the spec's company name is only a fallback (e.g. a file's name): use the companies the
    # reviews name (a CSV `company` column, a Trustpilot JSON's business unit) when they have one
    company_from_source: bool = False
    contact: str | None = None  # appended to the scraper's User-Agent (REVIEWOPS_CONTACT)
    base_url: str | None = None  # replaces https://<lang>.trustpilot.com (REVIEWOPS_TRUSTPILOT_BASE_URL)


@dataclass(slots=True)
class RunOutcome:
    summary: dict[str, Any]
    summary_path: Path
    report_path: Path | None
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Timer:
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    @contextlib.contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start


def load(spec: ReviewAnalysisSpec, options: RunOptions, progress: ProgressFn) -> SourceResult:
    """Read the reviews the spec asks for; raise NothingToAnalyze when none could be read."""
    from reviewops.sources import load_reviews

    cache_dir = options.cache_dir or options.out_dir / "cache"
    result = load_reviews(
        spec.source,
        spec.company,
        cache_dir=cache_dir,
        progress=progress,
        contact=options.contact,
        base_url=options.base_url,
    )
    if not result.reviews:
        detail = "; ".join(str(p) for p in result.problems[:5]) or "the source returned no review"
        raise NothingToAnalyze(f"no review could be read ({detail})")
    return result


def preprocess(
    spec: ReviewAnalysisSpec, reviews: list[Review], options: RunOptions, progress: ProgressFn
) -> Prepared:
    from reviewops.preprocess import prepare

    return prepare(
        reviews,
        spec.preprocessing,
        company_name=spec.company.name,
        languages=spec.source.requested_languages(),
        brands=[spec.company.domain],
        progress=progress,
        workers=options.workers,
        while_waiting=_import_topic_models,
    )


def _import_topic_models() -> None:
    """scikit-learn (~1.5 s of imports, which the topics stage needs), loaded while the
    preprocessing workers tokenize."""
    import reviewops.topics.sklearn_models  # noqa: F401


def sentiment(
    spec: ReviewAnalysisSpec,
    reviews: list[Review],
    prepared: Prepared,
    options: RunOptions,
    progress: ProgressFn,
) -> SentimentResult:
    from reviewops.sentiment import analyze_sentiment

    options_used, fallback = sentiment_fallback(spec, reviews)
    if spec.sentiment.model_uri:
        use_model_store(spec.sentiment.model_uri, options)
    save = options.save_model
    if save is None and options_used.method == "supervised" and options_used.model_uri is None:
        save = options.out_dir / "sentiment-model.joblib"
    result = analyze_sentiment(reviews, prepared, options_used, save_model=save, progress=progress)
    notes = [fallback] if fallback else []
    from_lexicon = result.details.get("from_lexicon")
    if not fallback and result.method == "ratings" and isinstance(from_lexicon, int) and from_lexicon:
        notes.append(
            f"{from_lexicon} of {len(reviews)} reviews have no stars: the ratings method scored "
            "them with the lexicon (VADER / French lexicon) instead"
        )
    if notes:
        for note in notes:
            log.info(note)
        earlier = result.details.get("warnings")
        result.details["warnings"] = notes + (list(earlier) if isinstance(earlier, list) else [])
    return result


def sentiment_fallback(spec: ReviewAnalysisSpec, reviews: Sequence[Review]) -> tuple[Sentiment, str | None]:
    """The sentiment options to run, and a one-line note when `supervised` cannot be trained.

    Training needs enough starred reviews of each class (see `check_trainable`); without them
    the stars themselves are the sentiment (`ratings`, the lexicon for reviews without stars),
    or the lexicon when no review has stars. The run goes on and says what it did.
    """
    options = spec.sentiment
    if options.method != "supervised" or options.model_uri:
        return options, None
    from collections import Counter

    from reviewops.records import LABELS, stars_to_label
    from reviewops.sentiment import SentimentError
    from reviewops.sentiment.supervised import MIN_PER_CLASS, MIN_STARRED, check_trainable

    stars = [r.rating for r in reviews if r.rating is not None]
    try:
        check_trainable(stars)
    except SentimentError:
        counts = Counter(stars_to_label(s) for s in stars)
        found = ", ".join(f"{counts[label]} {label}" for label in LABELS)
        used = (
            "the stars themselves (ratings; the lexicon for reviews without stars)"
            if stars
            else "the lexicon (VADER / French lexicon)"
        )
        note = (
            f"supervised sentiment could not be trained: {len(stars)} reviews have stars ({found}); "
            f"it needs {MIN_STARRED}, with {MIN_PER_CLASS} of each class. Used {used} instead; "
            "choose with --sentiment ratings|lexicon, or reuse a model with --model PATH"
        )
        return options.model_copy(update={"method": "ratings" if stars else "lexicon"}), note
    return options, None


def use_model_store(model_uri: str, options: RunOptions) -> None:
    """Point MLflow at the run's store before an MLflow model URI (models:/, runs:/) is loaded.

    Without it MLflow resolves the URI against its default store, which creates ./mlflow.db
    in whatever folder the command runs from. The store is --tracking-uri /
    MLFLOW_TRACKING_URI, else OUT/mlflow.db when that file exists (a previous run there).
    """
    import os
    import re

    if not re.match(r"^(models|runs):/", model_uri):
        return
    from reviewops.sentiment import SentimentError
    from reviewops.tracking import TrackingError, check_reachable

    uri = options.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        database = options.out_dir / "mlflow.db"
        if not database.is_file():
            raise SentimentError(
                f"sentiment.modelUri {model_uri!r}: no MLflow store to look it up in "
                f"({database} does not exist); pass --tracking-uri URI (the store that holds "
                "the model), or --model PATH to a saved .joblib model"
            )
        uri = f"sqlite:///{database.resolve()}"
    try:
        check_reachable(uri)
    except TrackingError as exc:
        raise SentimentError(f"sentiment.modelUri {model_uri!r}: {exc}") from None
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)


def topics(spec: ReviewAnalysisSpec, prepared: Prepared, progress: ProgressFn) -> TopicResult:
    from reviewops.topics.by_language import fit_topics_by_language

    return fit_topics_by_language(
        prepared.tokens,
        prepared.languages,
        spec.topics,
        progress=progress,
        min_tokens=spec.preprocessing.min_tokens,
        texts=prepared.texts,
        brands=prepared.brands,
    )


def source_company(reviews: Sequence[Review], most: int = 4) -> str | None:
    """The company the reviews name: 'A', 'A, B and C' for up to `most`, else 'A, B and 3 more'."""
    names = sorted({r.company.strip() for r in reviews if r.company and r.company.strip()})
    if not names:
        return None
    if len(names) == 1:
        return names[0]
    if len(names) <= most:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{', '.join(names[: most - 1])} and {len(names) - most + 1} more"


_KEPT = "review kept without it"


def source_warnings(problems: Sequence[Problem], examples: int = 2) -> list[str]:
    """The source's problems as a few warnings a reader can act on (all are in summary.json).

    Values left empty in kept reviews (an unreadable date or rating) and skipped rows are
    counted with an example each; problems of a whole file or page are listed one by one.
    """
    kept = [p for p in problems if p.message.endswith(_KEPT)]
    located = [p for p in problems if not p.message.endswith(_KEPT) and _has_line(p.where)]
    other = [p for p in problems if not p.message.endswith(_KEPT) and not _has_line(p.where)]
    warnings = [str(p) for p in other[:5]]
    if len(other) > 5:
        warnings.append(f"... and {len(other) - 5} more source problems (see summary.json)")
    if kept:
        shown = "; ".join(str(p).removesuffix("; " + _KEPT) for p in kept[:examples])
        warnings.append(
            f"{len(kept)} value(s) could not be read and were left empty; the reviews were kept "
            f"(e.g. {shown})"
        )
    if located:
        shown = "; ".join(str(p) for p in located[:examples])
        warnings.append(f"{len(located)} row(s) or entries skipped (e.g. {shown})")
    return warnings


def _has_line(where: str) -> bool:
    head, _, tail = where.rpartition(":")
    return (bool(head) and tail.isdigit()) or " $" in where  # file:line, or file $[json path]


def default_run_id(analysis: str) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"local__{safe_name(analysis)}__{stamp}"


def run_analysis(
    spec: ReviewAnalysisSpec,
    options: RunOptions,
    *,
    stage: StageOpener = _silent_stage,
    source_result: SourceResult | None = None,
) -> RunOutcome:
    """Run every stage and write every output; see RunOptions for the defaults."""
    with fewer_collections():
        return _run_stages(spec, options, stage, source_result)


# The cyclic garbage collector's first threshold during a run (Python's default is 700). A
# run allocates millions of objects that live until its end (reviews, token lists), and the
# default thresholds made the collector walk all of them again and again: at 100k reviews
# 2,234 young, 200 middle and 8 full collections took 1.6 s of the main process (its CPU
# alone, not counting the workers); with 100,000: 14 young ones, 0.5 s. The run's data holds
# no reference cycles, so memory does not grow for it (1M-review peak checked in bench/).
RUN_GC_THRESHOLD = 100_000
# A trained sentiment model is fitted beside the topics from OVERLAP_MIN_REVIEWS reviews (a
# fork costs more than it saves on small runs) up to OVERLAP_MAX_REVIEWS: the child and the
# topics hold their memory at once, and the child copies the pages of the texts it reads
# (peak PSS at 100k: 946 -> 1,301 MB; at 1M: 2,910 -> 3,795 MB, over the 3 GB a 1M run must
# stay under). Larger runs train in turn.
OVERLAP_MIN_REVIEWS = 5_000
OVERLAP_MAX_REVIEWS = 400_000


def trains_beside_topics(options: Sentiment, reviews: int) -> bool:
    """Whether the sentiment stage runs on a child beside the topics: when it trains a model
    on a run of OVERLAP_MIN_REVIEWS to OVERLAP_MAX_REVIEWS reviews."""
    return (
        options.method == "supervised"
        and not options.model_uri
        and OVERLAP_MIN_REVIEWS <= reviews <= OVERLAP_MAX_REVIEWS
    )


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the garbage collector less often inside the block; restores the thresholds."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], RUN_GC_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _run_stages(
    spec: ReviewAnalysisSpec,
    options: RunOptions,
    stage: StageOpener,
    source_result: SourceResult | None,
) -> RunOutcome:
    options.out_dir.mkdir(parents=True, exist_ok=True)
    timer = _Timer()

    if source_result is None:
        with timer.measure("load"), stage("load reviews", spec.source.max_reviews) as p:
            source_result = load(spec, options, p)
    reviews = source_result.reviews
    if options.company_from_source and (named := source_company(reviews)) is not None:
        spec = spec.model_copy(update={"company": spec.company.model_copy(update={"name": named})})
    analysis = options.analysis or safe_name(spec.company.name)
    run_id = options.run_id or default_run_id(analysis)
    n = len(reviews)
    with timer.measure("preprocess"), stage("preprocess", n) as p:
        prepared = preprocess(spec, reviews, options, p)
    prepared.warnings[:0] = source_warnings(source_result.problems)
    chosen = sentiment_fallback(spec, reviews)[0]  # the method that will run
    method = chosen.method
    # Training a model runs on a forked child while topics are fitted here: much of training
    # is one process' work (features, meta-model, evaluation), which leaves a core to the
    # topics. Other methods stay in turn: a saved model's labelling keeps both cores busy
    # itself, and side by side with topics both stages slowed down by as much as they
    # overlapped (gen100k, saved model: same wall time, +10 s CPU).
    training = (
        method == "supervised" and not chosen.model_uri and OVERLAP_MIN_REVIEWS <= n <= OVERLAP_MAX_REVIEWS
    )
    with stage(f"sentiment ({method})", n) as sentiment_progress:
        job: Background[SentimentResult] = Background(
            "sentiment",
            lambda p: sentiment(spec, reviews, prepared, options, p),
            sentiment_progress,
            fork=training and options.workers != 1,
        )
        with job:
            if not job.forked:
                senti = job.result()
            with timer.measure("topics"), stage(f"topics ({spec.topics.algorithm})", None) as p:
                topic_result = topics(spec, prepared, p)
            senti = job.result()
    timer.timings["sentiment"] = job.seconds
    with timer.measure("insights"):
        insights = compute_insights(reviews, senti, topic_result)
    # Wall time from the first stage: stages that overlap count once.
    timer.timings["total"] = time.perf_counter() - timer.started

    from reviewops.outputs import write_outputs

    with stage("write outputs", None):
        return write_outputs(
            spec=spec,
            options=options,
            analysis=analysis,
            run_id=run_id,
            source_result=source_result,
            prepared=prepared,
            sentiment=senti,
            topic_result=topic_result,
            insights=insights,
            timings=timer.timings,
        )


__all__ = [
    "Insights",
    "NothingToAnalyze",
    "RunOptions",
    "RunOutcome",
    "StageOpener",
    "default_run_id",
    "run_analysis",
    "source_company",
]
