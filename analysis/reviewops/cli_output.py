"""What the `reviewops` command prints: messages, progress, and a run's results.

Text that comes from outside (file names, file contents, exception messages) is never read as
rich markup or emoji codes: an `:x:` or `[bold]` in a review file stays as written. Output that
goes to a pipe or a file is not wrapped, so URIs and paths stay whole for `grep` and scripts.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from reviewops.records import ProgressFn


def console(stderr: bool = False) -> Console:
    """A console on the current stdout / stderr (CliRunner swaps them per invocation)."""
    stream = sys.stderr if stderr else sys.stdout
    terminal = bool(getattr(stream, "isatty", lambda: False)())
    return Console(
        file=stream,
        stderr=stderr,
        emoji=False,
        highlight=False,
        soft_wrap=not terminal,  # piped: one line per message, never cut mid-word
        width=None if terminal else 1000,  # and tables keep whole cells (run ids, paths)
    )


def say(text: str | Text, *, style: str | None = None) -> None:
    """One line of results on stdout (plain text: no markup is interpreted)."""
    line = text if isinstance(text, Text) else Text(text, style=style or "")
    console().print(line)


def _labelled(label: str, style: str, message: str) -> None:
    console(stderr=True).print(Text.assemble((f"{label}:", style), " ", message))


def error(message: str, label: str = "error") -> None:
    _labelled(label, "bold red", message)


def warn(message: str) -> None:
    _labelled("warning", "yellow", message)


def note(message: str) -> None:
    _labelled("note", "cyan", message)


def fail(message: str, code: int = 2, label: str = "error") -> NoReturn:
    """Print `label: message` on stderr and exit with `code` (2: the input or options are wrong)."""
    error(message, label)
    raise typer.Exit(code)


@contextlib.contextmanager
def progress(quiet: bool) -> Iterator[Any]:
    """A stage opener for `run_analysis`: bars on a terminal, one line per stage otherwise."""
    err = console(stderr=True)
    if quiet or not err.is_terminal:

        @contextlib.contextmanager
        def plain(name: str, total: int | None) -> Iterator[ProgressFn]:
            if not quiet:
                err.print(Text(f"… {name}", style="dim"))
            yield lambda _n: None

        yield plain
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=False) as bars:

        @contextlib.contextmanager
        def stage(name: str, total: int | None) -> Iterator[ProgressFn]:
            task = bars.add_task(name, total=total)
            try:
                yield lambda n: bars.advance(task, n)
            finally:
                done = bars.tasks[task].completed
                bars.update(task, total=max(done, 1), completed=max(done, 1))

        yield stage


def share(value: float | None) -> str:
    """A share as a percentage that never shows a non-empty group as 0%."""
    if value is None:
        return "—"
    if 0 < value < 0.005:
        return "<1%"
    return f"{value:.0%}"


def _signed_points(change: float) -> str:
    return f"{change * 100:+.1f} pts"


def trend_line(summary: dict[str, Any]) -> str | None:
    trend = summary.get("trend")
    if not trend:
        return None
    noise = ", within noise" if trend["within_noise"] else ""
    return (
        f"net sentiment trend: {trend['recent'] * 100:+.0f} in the last {trend['days']} days vs "
        f"{trend['previous'] * 100:+.0f} before ({_signed_points(trend['change'])}{noise}; "
        f"{trend['recent_reviews']} vs {trend['previous_reviews']} reviews)"
    )


def _topic_row(table: Table, t: dict[str, Any], label: Text) -> None:
    impact = t["impact"]
    table.add_row(
        label,
        share(t["share"]),
        f"{t['mean_rating']:.2f}" if t["mean_rating"] is not None else "—",
        f"{impact:+.2f}" if impact is not None else "—",
        share(t["sentiment"]["negative"]),
    )


def _topics_table(items: list[dict[str, Any]], shown: int = 12, subthemes: int = 3) -> tuple[Table, int]:
    """Broad themes by size, each followed by its largest sub-themes ("  › waiting period")."""
    table = Table("topic", "share", "stars", "impact", "negative", box=None)
    ranked = sorted((t for t in items if t["size"] > 0), key=lambda t: -t["size"])
    for t in ranked[:shown]:
        _topic_row(table, t, Text(t["label"]))
        subs = sorted((s for s in t.get("subthemes", []) if s["size"] > 0), key=lambda s: -s["size"])
        for sub in subs[:subthemes]:
            _topic_row(table, sub, Text(f"  › {sub['label']}", style="dim"))
    return table, len(items) - min(len(ranked), shown)


def _companies_table(companies: list[dict[str, Any]]) -> Table:
    table = Table("company", "reviews", "stars", "net", "change", "top complaint", box=None)
    for c in companies:
        change = c["net_change"]
        table.add_row(
            Text(c["company"]),
            str(c["reviews"]),
            f"{c['mean_rating']:.2f}" if c["mean_rating"] is not None else "—",
            f"{c['net_sentiment'] * 100:+.0f}",
            "—"
            if change is None
            else _signed_points(change) + (" ~" if c["net_change_within_noise"] else ""),
            Text(c["top_complaint"] or "—"),
        )
    return table


def _subtheme_count(topics: dict[str, Any]) -> str:
    n = topics.get("subthemes_k") or 0
    return f", {n} sub-themes" if n else ""


def print_summary(summary: dict[str, Any], report: Any, summary_path: Any) -> None:
    """The results of a run: headline, sentiment quality, trend, topics, companies, warnings."""
    out = console()
    shares = summary["sentiment"]["shares"]
    mean = summary["mean_rating"]
    headline = Text.assemble(
        "\n",
        (summary["company"], "bold"),
        f": {summary['reviews']} reviews",
        f", mean {mean:.2f}★" if mean is not None else "",
        " · ",
        (f"{shares['positive']:.0%} positive", "green"),
        f" · {shares['neutral']:.0%} neutral · ",
        (f"{shares['negative']:.0%} negative", "red"),
        f" · net {summary['sentiment']['net'] * 100:+.0f}",
    )
    out.print(headline)
    evaluation = summary["sentiment"]["evaluation"]
    method = summary["sentiment"]["method"]
    if evaluation:
        per_class = ", ".join(f"{k} {v['f1']:.2f}" for k, v in evaluation["per_class"].items())
        out.print(
            Text.assemble(
                f"sentiment ({method}): macro-F1 {evaluation['macro_f1']:.3f} ",
                (f"({evaluation['kind']}, n={evaluation['n']}; F1 {per_class})", "dim"),
            )
        )
    elif method == "ratings":
        out.print(Text("sentiment (ratings): from the stars (1-2 negative, 3 neutral, 4-5 positive)"))
    else:
        out.print(Text(f"sentiment ({method}): no evaluation (no star ratings to compare with)"))
    trust = summary["sentiment"].get("trust")
    if trust:
        out.print(Text(f"how far to trust it: {trust}", style="dim"))
    if (line := trend_line(summary)) is not None:
        out.print(Text(line))
    topics = summary["topics"]
    per_language = topics.get("by_language") or {}
    ks = ", ".join(f"{lang} {info['k']}" for lang, info in per_language.items())
    out.print(
        Text(
            f"topics ({topics['algorithm']}, k={topics['k']}{': ' + ks if ks else ''}"
            f"{_subtheme_count(topics)}): coherence "
            f"{topics['coherence']:.3f} ({topics['coherence_measure']}), diversity {topics['diversity']:.2f}"
        )
    )
    table, hidden = _topics_table(topics["items"])
    out.print(table)
    if hidden:
        out.print(Text(f"… and {hidden} smaller topic(s): see the report", style="dim"))
    if summary["negative_drivers"]:
        out.print(Text("negative drivers: " + ", ".join(d["label"] for d in summary["negative_drivers"][:3])))
    if summary["rising_topics"]:
        rising = ", ".join(
            f"{r['label']} ({_signed_points(r['change'])})" for r in summary["rising_topics"][:3]
        )
        out.print(Text("rising: " + rising))
    if summary.get("companies"):
        out.print(Text("\ncompanies", style="bold"))
        out.print(_companies_table(summary["companies"]))
    for warning in summary["warnings"]:
        warn(warning)
    out.print(Text(f"\nsummary: {summary_path}"))
    if report:
        out.print(Text(f"report:  {report}"))
    for key in ("store", "mlflow_tracking_uri", "mlflow_run_id", "sentiment_model"):
        if key in summary["outputs"]:
            out.print(Text(f"{key.replace('_', ' ')}: {summary['outputs'][key]}"))
