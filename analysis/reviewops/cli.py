"""`reviewops` command line: analyze a manifest, a file or a Trustpilot domain; run the demo;
validate manifests; list and compare past runs; open the last report.

Start-up stays light: `--help`, `--version` and `validate` import neither the NLP stack
(spaCy, scikit-learn, gensim) nor MLflow; each command imports what it needs when it runs.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from reviewops.cli_output import error, fail, note, print_summary, progress, say
from reviewops.cli_runs import compare, open_report, runs
from reviewops.spec import (
    MAX_SEED,
    FileFormat,
    ReviewAnalysisSpec,
    SentimentMethod,
    SourceType,
    SpecError,
    TopicAlgorithm,
    load_manifest,
    parse_spec,
)
from reviewops.stages.cli import stage_app

app = typer.Typer(
    help="ReviewOps: turn customer reviews into decisions (sentiment, topics, drivers, trends).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)

DEFAULT_OUT = Path("reviewops-out")


def _version(value: bool) -> None:
    if value:
        from reviewops import __version__

        say(f"reviewops {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", metavar="", is_eager=True, callback=_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """ReviewOps: turn customer reviews into decisions (sentiment, topics, drivers, trends)."""


def _build_spec(manifest: Path | None, overrides: dict[str, Any]) -> tuple[ReviewAnalysisSpec, str | None]:
    """The spec from a manifest (or defaults) with command-line overrides applied."""
    if manifest is not None:
        doc = load_manifest(manifest)
        data = doc.spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
        name: str | None = f"{doc.metadata.namespace}/{doc.metadata.name}"
    else:
        data, name = {}, None
    for dotted, value in overrides.items():
        if value is None or value == {}:
            continue
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        if isinstance(value, dict) and isinstance(node.get(leaf), dict):
            node[leaf] = {**node[leaf], **value}  # --text-column adds to a manifest's columns
        else:
            node[leaf] = value
    data.setdefault("company", {"name": "Unknown company"})
    return parse_spec(data), name


# Set once a command starts an analysis: the process then ends through `leave`.
_ANALYSED = False


def _run(spec: ReviewAnalysisSpec, name: str | None, opts: dict[str, Any], quiet: bool) -> None:
    from reviewops.pipeline import NothingToAnalyze, RunOptions, run_analysis

    global _ANALYSED
    _ANALYSED = True
    options = RunOptions(**opts, analysis=name)
    try:
        with progress(quiet) as stage:
            outcome = run_analysis(spec, options, stage=stage)
    except NothingToAnalyze as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("reviews fetched so far are kept in the cache; run again to resume", 130, "interrupted")
    except (ValueError, OSError) as exc:
        fail(str(exc))
    print_summary(outcome.summary, outcome.report_path, outcome.summary_path)


OutOpt = Annotated[
    Path,
    typer.Option(
        "--out",
        "-o",
        metavar="DIR",
        help="Folder for the report, summary.json, SQLite store and MLflow store.",
    ),
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="URL",
        envvar="REVIEWOPS_STORE_URL",
        help="Results store URL (default: sqlite:///OUT/reviewops.db; '' to skip).",
    ),
]
TrackOpt = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        metavar="URI",
        envvar=["REVIEWOPS_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"],
        help="MLflow tracking URI (default: sqlite:///OUT/mlflow.db).",
    ),
]
NoMlflowOpt = Annotated[bool, typer.Option("--no-mlflow", metavar="", help="Do not log an MLflow run.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", metavar="", help="No progress output.")]
TopicsOpt = Annotated[
    TopicAlgorithm | None,
    typer.Option("--topics", metavar="nmf|lda|gensim-lda", case_sensitive=False, help="Topic algorithm."),
]
SentimentOpt = Annotated[
    SentimentMethod | None,
    typer.Option(
        "--sentiment",
        metavar="ratings|lexicon|supervised",
        case_sensitive=False,
        help="Sentiment method (default supervised: trained on the stars; falls back to the stars "
        "or the lexicon, saying so, when there are too few to learn from).",
    ),
]


def _value(choice: Any) -> Any:
    return None if choice is None else str(choice.value if hasattr(choice, "value") else choice)


@app.command()
def analyze(
    manifest: Annotated[
        Path | None,
        typer.Argument(
            metavar="MANIFEST",
            help="A ReviewAnalysis YAML (kubectl-style manifest).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    input_file: Annotated[
        Path | None,
        typer.Option(
            "--input", "-i", metavar="FILE", help="CSV, JSONL, Trustpilot JSON or saved HTML page(s)."
        ),
    ] = None,
    file_format: Annotated[
        FileFormat | None,
        typer.Option(
            "--format", metavar="auto|csv|jsonl|json|html", case_sensitive=False, help="File format."
        ),
    ] = None,
    text_column: Annotated[
        str | None,
        typer.Option("--text-column", metavar="NAME", help="The file's column holding the review text."),
    ] = None,
    rating_column: Annotated[
        str | None,
        typer.Option(
            "--rating-column", metavar="NAME", help="The file's column holding the stars (1-5 or 1-10)."
        ),
    ] = None,
    date_column: Annotated[
        str | None, typer.Option("--date-column", metavar="NAME", help="The file's column holding the date.")
    ] = None,
    domain: Annotated[
        str | None,
        typer.Option(
            "--domain", metavar="DOMAIN", help="Scrape Trustpilot for this domain, e.g. www.backmarket.com."
        ),
    ] = None,
    company: Annotated[
        str | None,
        typer.Option(
            "--company", metavar="NAME", help="Company name (default: the domain, or the file's companies)."
        ),
    ] = None,
    languages: Annotated[
        str | None,
        typer.Option("--languages", metavar="CODES", help="Comma-separated ISO codes, e.g. en,fr."),
    ] = None,
    max_reviews: Annotated[
        int | None, typer.Option("--max-reviews", metavar="N", min=1, help="Stop after this many reviews.")
    ] = None,
    topics: TopicsOpt = None,
    num_topics: Annotated[
        str | None, typer.Option("--num-topics", metavar="K|auto", help="1-100 or auto.")
    ] = None,
    sentiment: SentimentOpt = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", metavar="PATH|URI", help="Reuse a trained sentiment model (path or MLflow URI)."
        ),
    ] = None,
    save_model: Annotated[
        Path | None,
        typer.Option("--save-model", metavar="PATH", help="Save the trained sentiment model here."),
    ] = None,
    out_dir: OutOpt = DEFAULT_OUT,
    store: StoreOpt = None,
    tracking_uri: TrackOpt = None,
    no_mlflow: NoMlflowOpt = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            metavar="N",
            min=1,
            help="Preprocessing processes (default: CPUs); 1 also draws the report in this process.",
        ),
    ] = None,
    contact: Annotated[
        str | None,
        typer.Option(
            "--contact",
            metavar="EMAIL",
            envvar="REVIEWOPS_CONTACT",
            help="Your e-mail or URL, added to the scraper's User-Agent so sites can reach you.",
        ),
    ] = None,
    trustpilot_url: Annotated[
        str | None,
        typer.Option(
            "--trustpilot-url",
            metavar="URL",
            envvar="REVIEWOPS_TRUSTPILOT_BASE_URL",
            help="Scrape this mirror or test server instead of https://<lang>.trustpilot.com.",
        ),
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Analyze reviews from a manifest, a file (--input) or Trustpilot (--domain)."""
    if manifest is None and not input_file and not domain:
        fail("give a manifest, --input FILE or --domain DOMAIN (or run `reviewops demo`)")
    if input_file and domain:
        fail(
            f"--input reads {input_file} and --domain scrapes Trustpilot's page of {domain}: give one "
            "(to name the file's company, use --company NAME)"
        )
    columns = {"text": text_column, "rating": rating_column, "published": date_column}
    columns = {field: column for field, column in columns.items() if column}
    if columns and not input_file and manifest is None:
        fail("--text-column, --rating-column and --date-column map the columns of an --input file")
    source_type = SourceType.FILE.value if input_file else SourceType.TRUSTPILOT.value if domain else None
    overrides: dict[str, Any] = {
        "source.type": source_type,
        "source.path": str(input_file) if input_file else None,
        "source.format": _value(file_format),
        "source.columns": columns,
        "source.maxReviews": max_reviews,
        "source.languages": [lang.strip() for lang in languages.split(",") if lang.strip()]
        if languages
        else None,
        "company.domain": domain,
        "company.name": company or domain or (input_file.stem if input_file and manifest is None else None),
        "topics.algorithm": _value(topics),
        "topics.numTopics": (int(num_topics) if num_topics and num_topics.isdigit() else num_topics),
        "sentiment.method": _value(sentiment),
        "sentiment.modelUri": model,
    }
    if input_file and max_reviews is None and manifest is None:
        overrides["source.maxReviews"] = 1_000_000  # a file: read it all unless told otherwise
    try:
        spec, name = _build_spec(manifest, overrides)
    except SpecError as exc:
        fail(str(exc), label="invalid analysis")
    opts = {
        "out_dir": out_dir,
        "store_url": store,
        "tracking_uri": tracking_uri,
        "mlflow": not no_mlflow,
        "save_model": save_model,
        "workers": workers,
        # a file's name is only a fallback: the companies its reviews name win
        "company_from_source": bool(input_file and not company and manifest is None),
        "contact": contact,
        "base_url": trustpilot_url,
    }
    _run(spec, name, opts, quiet)


@app.command()
def demo(
    size: Annotated[
        int, typer.Option("--size", metavar="N", min=10, max=1_000_000, help="Number of generated reviews.")
    ] = 3000,
    seed: Annotated[
        int, typer.Option("--seed", metavar="N", min=0, max=MAX_SEED, help="Random seed of the generator.")
    ] = 42,
    topics: TopicsOpt = TopicAlgorithm.NMF,
    sentiment: SentimentOpt = SentimentMethod.SUPERVISED,
    out_dir: OutOpt = DEFAULT_OUT / "demo",
    store: StoreOpt = None,
    tracking_uri: TrackOpt = None,
    no_mlflow: NoMlflowOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Analyze the built-in demo dataset (offline; no arguments needed)."""
    from reviewops.demo import DEMO_COMPANY

    try:
        spec = parse_spec(
            {
                "company": {"name": DEMO_COMPANY},
                "source": {
                    "type": "demo",
                    "languages": ["en", "fr"],
                    "demoSize": size,
                    "seed": seed,
                    "maxReviews": size,
                },
                "topics": {"algorithm": _value(topics) or "nmf", "numTopics": "auto"},
                "sentiment": {"method": _value(sentiment) or "supervised"},
            }
        )
    except SpecError as exc:
        fail(str(exc), label="invalid demo options")
    opts = {
        "out_dir": out_dir,
        "store_url": store,
        "tracking_uri": tracking_uri,
        "mlflow": not no_mlflow,
        "save_model": None,
        "workers": None,
    }
    _run(spec, "local/demo", opts, quiet)


@app.command()
def validate(
    manifests: Annotated[
        list[Path], typer.Argument(metavar="MANIFEST", help="ReviewAnalysis YAML files to check.")
    ],
) -> None:
    """Check ReviewAnalysis manifests against the spec; exit 2 naming each bad field of each file."""
    bad = 0
    for path in manifests:
        if not path.is_file():
            error(f"{path}: no such file", label="invalid")
            bad += 1
            continue
        try:
            doc = load_manifest(path)
        except SpecError as exc:
            error(str(exc), label="invalid")
            bad += 1
            continue
        say(f"valid: {path}: {doc.metadata.namespace}/{doc.metadata.name}")
        source = doc.spec.source
        if source.type == SourceType.FILE and source.path and not Path(source.path).expanduser().exists():
            note(f"{path}: source.path {source.path} does not exist here (fine if it is read elsewhere)")
    if len(manifests) > 1:
        say(f"{len(manifests) - bad} of {len(manifests)} manifest(s) valid")
    if bad:
        raise typer.Exit(2)


app.command()(runs)
app.command()(compare)
app.command("open")(open_report)
app.add_typer(stage_app, name="stage")  # one stage of a DAG run per process (Airflow tasks)


def main() -> None:  # pragma: no cover - console entry point
    # MLflow's INFO chatter (environment detection, artifact download bars) buries the results.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except SystemExit as exc:  # typer always ends with one, carrying the status
        if _ANALYSED:  # other commands (help, validate, runs) end as usual: a caller may go on
            leave(exc.code)
        raise


def leave(code: object) -> NoReturn:
    """End the process the way the interpreter would, without tearing it down.

    A run leaves millions of objects (reviews, tokens, spaCy tables, imported modules) that the
    interpreter would free one by one on the way out: 0.7-0.9 s after a 100k-review analysis,
    for nothing. So, as the interpreter does at exit: wait for the non-daemon threads, run the
    exit handlers (logging, MLflow, multiprocessing), flush the output; then `os._exit`.
    `code` is a SystemExit code: None or 0 for success, a number, or a message (status 1).
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        # What the interpreter does first at exit: thread pools (concurrent.futures, MLflow's
        # artifact transfers) are told to stop, then the non-daemon threads are waited for.
        shutdown()
    else:  # pragma: no cover - every CPython this supports has it
        for thread in threading.enumerate():
            if thread is not threading.main_thread() and not thread.daemon:
                thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: started with the stream closed (>&-)
                stream.flush()
        except (OSError, ValueError):  # a closed pipe (reviewops runs | head): as Python does,
            status = status or 120  # a run that was fine ends with 120
    os._exit(status)


__all__ = ["app", "leave", "main"]

if __name__ == "__main__":  # pragma: no cover
    main()
