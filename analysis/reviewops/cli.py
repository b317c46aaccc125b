"""`reviewops` command line: analyze a manifest, a file or a Trustpilot domain; run the demo."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from reviewops.records import ProgressFn
from reviewops.spec import (
    ReviewAnalysisSpec,
    SpecError,
    load_manifest,
    parse_spec,
)
from reviewops.stages.cli import stage_app

app = typer.Typer(
    help="ReviewOps: turn customer reviews into decisions (sentiment, topics, drivers, trends).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(stage_app, name="stage")  # one stage of a DAG run per process (Airflow tasks)
err = Console(stderr=True)
out = Console()

DEFAULT_OUT = Path("reviewops-out")


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[Any]:
    if quiet or (not err.is_terminal and not sys.stderr.isatty()):
        # Non-interactive: one line per stage instead of redrawn bars.
        @contextlib.contextmanager
        def plain(name: str, total: int | None) -> Iterator[ProgressFn]:
            if not quiet:
                err.print(f"[dim]…[/dim] {name}")
            yield lambda _n: None

        yield plain
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:

        @contextlib.contextmanager
        def stage(name: str, total: int | None) -> Iterator[ProgressFn]:
            task = progress.add_task(name, total=total)
            try:
                yield lambda n: progress.advance(task, n)
            finally:
                done = progress.tasks[task].completed
                progress.update(task, total=max(done, 1), completed=max(done, 1))

        yield stage


def _build_spec(manifest: Path | None, overrides: dict[str, Any]) -> tuple[ReviewAnalysisSpec, str | None]:
    """The spec from a manifest (or defaults) with command-line overrides applied."""
    if manifest is not None:
        doc = load_manifest(manifest)
        data = doc.spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
        name: str | None = f"{doc.metadata.namespace}/{doc.metadata.name}"
    else:
        data, name = {}, None
    for dotted, value in overrides.items():
        if value is None:
            continue
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    data.setdefault("company", {"name": "Unknown company"})
    return parse_spec(data), name


def _print_summary(summary: dict[str, Any], report: Path | None, summary_path: Path) -> None:
    shares = summary["sentiment"]["shares"]
    mean = summary["mean_rating"]
    out.print(
        f"\n[bold]{summary['company']}[/bold]: {summary['reviews']} reviews"
        + (f", mean {mean:.2f}★" if mean is not None else "")
        + f" · [green]{shares['positive']:.0%} positive[/green]"
        f" · {shares['neutral']:.0%} neutral · [red]{shares['negative']:.0%} negative[/red]"
    )
    evaluation = summary["sentiment"]["evaluation"]
    if evaluation:
        per_class = ", ".join(f"{k} {v['f1']:.2f}" for k, v in evaluation["per_class"].items())
        out.print(
            f"sentiment ({summary['sentiment']['method']}): macro-F1 {evaluation['macro_f1']:.3f}"
            f" [dim]({evaluation['kind']}, n={evaluation['n']}; F1 {per_class})[/dim]"
        )
    topics = summary["topics"]
    out.print(
        f"topics ({topics['algorithm']}, k={topics['k']}): coherence {topics['coherence']:.3f}"
        f" ({topics['coherence_measure']}), diversity {topics['diversity']:.2f}"
    )
    table = Table("topic", "share", "stars", "impact", "negative", title=None, box=None)
    for t in sorted(topics["items"], key=lambda t: -t["size"]):
        impact = t["impact"]
        table.add_row(
            escape(t["label"]),
            f"{t['share']:.0%}",
            f"{t['mean_rating']:.2f}" if t["mean_rating"] is not None else "—",
            f"{impact:+.2f}" if impact is not None else "—",
            f"{t['sentiment']['negative']:.0%}",
        )
    out.print(table)
    if summary["negative_drivers"]:
        out.print(
            "negative drivers: " + ", ".join(escape(d["label"]) for d in summary["negative_drivers"][:3])
        )
    if summary["rising_topics"]:
        out.print(
            "rising: "
            + ", ".join(
                f"{escape(r['label'])} ({r['change'] * 100:+.1f} pts)" for r in summary["rising_topics"][:3]
            )
        )
    for warning in summary["warnings"]:
        err.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    out.print(f"\nsummary: {summary_path}")
    if report:
        out.print(f"report:  {report}")
    for key in ("store", "mlflow_tracking_uri", "mlflow_run_id", "sentiment_model"):
        if key in summary["outputs"]:
            out.print(f"{key.replace('_', ' ')}: {summary['outputs'][key]}")


def _run(spec: ReviewAnalysisSpec, name: str | None, opts: dict[str, Any], quiet: bool) -> None:
    from reviewops.pipeline import NothingToAnalyze, RunOptions, run_analysis

    options = RunOptions(**opts, analysis=name)
    try:
        with _progress(quiet) as stage:
            outcome = run_analysis(spec, options, stage=stage)
    except NothingToAnalyze as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        err.print(
            "[yellow]interrupted:[/yellow] reviews fetched so far are kept in the cache; run again to resume"
        )
        raise typer.Exit(130) from None
    except (ValueError, OSError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    _print_summary(outcome.summary, outcome.report_path, outcome.summary_path)


OutOpt = Annotated[
    Path,
    typer.Option("--out", "-o", help="Folder for the report, summary.json, SQLite store and MLflow store."),
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="REVIEWOPS_STORE_URL",
        help="Results store URL (default: sqlite:///OUT/reviewops.db; '' to skip).",
    ),
]
TrackOpt = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        envvar=["REVIEWOPS_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"],
        help="MLflow tracking URI (default: sqlite:///OUT/mlflow.db).",
    ),
]
NoMlflowOpt = Annotated[bool, typer.Option("--no-mlflow", help="Do not log an MLflow run.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]


@app.command()
def analyze(
    manifest: Annotated[
        Path | None,
        typer.Argument(help="A ReviewAnalysis YAML (kubectl-style manifest).", exists=True, dir_okay=False),
    ] = None,
    input_file: Annotated[
        Path | None,
        typer.Option("--input", "-i", help="CSV, JSONL, Trustpilot JSON or saved HTML page(s)."),
    ] = None,
    file_format: Annotated[
        str | None, typer.Option("--format", help="auto, csv, jsonl, json or html.")
    ] = None,
    domain: Annotated[
        str | None,
        typer.Option("--domain", help="Scrape Trustpilot for this domain, e.g. www.backmarket.com."),
    ] = None,
    company: Annotated[
        str | None, typer.Option("--company", help="Company name (default: the domain).")
    ] = None,
    languages: Annotated[
        str | None, typer.Option("--languages", help="Comma-separated ISO codes, e.g. en,fr.")
    ] = None,
    max_reviews: Annotated[
        int | None, typer.Option("--max-reviews", help="Stop after this many reviews.")
    ] = None,
    topics: Annotated[
        str | None, typer.Option("--topics", help="Topic algorithm: nmf, lda or gensim-lda.")
    ] = None,
    num_topics: Annotated[str | None, typer.Option("--num-topics", help="1-100 or auto.")] = None,
    sentiment: Annotated[
        str | None, typer.Option("--sentiment", help="ratings, lexicon or supervised.")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Reuse a trained sentiment model (path or MLflow URI)."),
    ] = None,
    save_model: Annotated[
        Path | None, typer.Option("--save-model", help="Save the trained sentiment model here.")
    ] = None,
    out_dir: OutOpt = DEFAULT_OUT,
    store: StoreOpt = None,
    tracking_uri: TrackOpt = None,
    no_mlflow: NoMlflowOpt = False,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Preprocessing processes (default: CPU count).")
    ] = None,
    contact: Annotated[
        str | None,
        typer.Option(
            "--contact",
            envvar="REVIEWOPS_CONTACT",
            help="Your e-mail or URL, added to the scraper's User-Agent so sites can reach you.",
        ),
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Analyze reviews from a manifest, a file (--input) or Trustpilot (--domain)."""
    source_type = "file" if input_file else "trustpilot" if domain else None
    overrides: dict[str, Any] = {
        "source.type": source_type,
        "source.path": str(input_file) if input_file else None,
        "source.format": file_format,
        "source.maxReviews": max_reviews,
        "source.languages": languages.split(",") if languages else None,
        "company.domain": domain,
        "company.name": company or domain or (input_file.stem if input_file and manifest is None else None),
        "topics.algorithm": topics,
        "topics.numTopics": (int(num_topics) if num_topics and num_topics.isdigit() else num_topics),
        "sentiment.method": sentiment,
        "sentiment.modelUri": model,
    }
    if input_file and max_reviews is None and manifest is None:
        overrides["source.maxReviews"] = 1_000_000  # a file: read it all unless told otherwise
    if manifest is None and not input_file and not domain:
        err.print(
            "[red]error:[/red] give a manifest, --input FILE or --domain DOMAIN (or run `reviewops demo`)"
        )
        raise typer.Exit(2)
    try:
        spec, name = _build_spec(manifest, overrides)
    except SpecError as exc:
        err.print(f"[red]invalid analysis:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    opts = {
        "out_dir": out_dir,
        "store_url": store,
        "tracking_uri": tracking_uri,
        "mlflow": not no_mlflow,
        "save_model": save_model,
        "workers": workers,
        # a file's name is only a fallback: the companies its reviews name win
        "company_from_source": bool(input_file and not company and not domain and manifest is None),
        "contact": contact,
    }
    _run(spec, name, opts, quiet)


@app.command()
def demo(
    size: Annotated[int, typer.Option("--size", help="Number of generated reviews.")] = 3000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the generator.")] = 42,
    topics: Annotated[str, typer.Option("--topics", help="nmf, lda or gensim-lda.")] = "nmf",
    out_dir: OutOpt = DEFAULT_OUT / "demo",
    store: StoreOpt = None,
    tracking_uri: TrackOpt = None,
    no_mlflow: NoMlflowOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Analyze the built-in demo dataset (offline; no arguments needed)."""
    from reviewops.demo import DEMO_COMPANY

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
            "topics": {"algorithm": topics, "numTopics": "auto"},
            "sentiment": {"method": "supervised"},
        }
    )
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
def validate(manifest: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Check a ReviewAnalysis manifest against the spec; exit 2 naming each bad field."""
    try:
        doc = load_manifest(manifest)
    except SpecError as exc:
        err.print(f"[red]invalid:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    out.print(f"[green]valid[/green]: {doc.metadata.namespace}/{doc.metadata.name}")


def main() -> None:  # pragma: no cover - console entry point
    # MLflow's INFO chatter (environment detection, artifact download bars) buries the results.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
