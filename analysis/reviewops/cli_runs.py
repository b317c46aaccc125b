"""`reviewops runs`, `compare` and `open`: past runs from the results store, and the last report.

Without `--store` the commands look at every results store under `--out` (default
`reviewops-out`): `reviewops-out/reviewops.db` and one folder deeper, where `make demo` and
`--out reviewops-out/<name>` put theirs. A store is only read, never created.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from reviewops.cli_output import console, fail, note, say

DEFAULT_OUT = Path("reviewops-out")

RunsOutOpt = Annotated[
    Path,
    typer.Option("--out", "-o", metavar="DIR", help="Folder whose results stores (reviewops.db) are read."),
]
RunsStoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="URL",
        envvar="REVIEWOPS_STORE_URL",
        help="Read this results store instead (any SQLAlchemy URL).",
    ),
]


def store_urls(out: Path, store: str | None) -> list[str]:
    """The store URLs to read: --store, else every OUT/reviewops.db and OUT/*/reviewops.db."""
    if store:
        return [store]
    found = [out / "reviewops.db", *sorted(out.glob("*/reviewops.db"))]
    return [f"sqlite:///{p.resolve()}" for p in found if p.is_file()]


def _all_runs(out: Path, store: str | None, limit: int = 1000) -> list[dict[str, Any]]:
    from reviewops.store import StoreError, list_runs, open_store, redact_url

    urls = store_urls(out, store)
    if not urls:
        fail(
            f"no results store under {out}/ (looked for reviewops.db there and one folder deeper); "
            "run `reviewops demo` or `reviewops analyze ...` first, or pass --store URL"
        )
    rows: list[dict[str, Any]] = []
    for url in urls:
        try:
            engine = open_store(url)
        except StoreError as exc:
            fail(str(exc))
        try:
            for row in list_runs(engine, limit=limit):
                rows.append({**row, "store": redact_url(url), "store_url": url})
        except Exception as exc:  # a store of another tool, a locked file: say which one
            fail(f"cannot read runs from {redact_url(url)}: {exc.__class__.__name__}: {exc}")
        finally:
            engine.dispose()
    rows.sort(key=lambda r: (_when(r["created_at"]), r["run_id"]), reverse=True)
    return rows


def _when(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.min.replace(tzinfo=dt.UTC)


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value * 100:+.0f}" if signed else f"{value:.0%}"


def runs(
    out: RunsOutOpt = DEFAULT_OUT,
    store: RunsStoreOpt = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", metavar="N", min=1, help="Show at most N runs.")
    ] = 20,
) -> None:
    """List past runs, newest first: id, company, date, reviews, net sentiment, macro-F1."""
    rows = _all_runs(out, store)[:limit]
    if not rows:
        say(f"no runs yet in {', '.join(store_urls(out, store))}")
        return
    table = Table("run", "company", "date", "reviews", "stars", "net", "macro-F1", box=None)
    for row in rows:
        created = _when(row["created_at"])
        table.add_row(
            Text(row["run_id"]),
            Text(row["company"]),
            created.strftime("%Y-%m-%d %H:%M") if created.year > 1 else "—",
            str(row["reviews"]),
            f"{row['mean_rating']:.2f}" if row["mean_rating"] is not None else "—",
            _pct(row["net_sentiment"], signed=True),
            f"{row['macro_f1']:.3f}" if row["macro_f1"] is not None else "—",
        )
    console().print(table)


def _find(rows: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
    exact = [r for r in rows if r["run_id"] == wanted]
    matches = exact or [r for r in rows if wanted in r["run_id"]]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        fail(f"no run {wanted!r} in the results store(s); `reviewops runs` lists them")
    listed = ", ".join(r["run_id"] for r in matches[:5])
    fail(f"{wanted!r} names {len(matches)} runs ({listed}); give more of the run id")


def _similarity(a: dict[str, Any], b: dict[str, Any]) -> float:
    """How much two topics' top terms overlap (0..1): topics of two runs are other models."""
    terms_a, terms_b = set(a["terms"][:10]), set(b["terms"][:10])
    if not terms_a or not terms_b:
        return 1.0 if a["label"] == b["label"] else 0.0
    return len(terms_a & terms_b) / min(len(terms_a), len(terms_b))


def match_topics(
    a: list[dict[str, Any]], b: list[dict[str, Any]], threshold: float = 0.3
) -> list[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
    """Pairs (topic of A, topic of B) of the same theme, by shared top terms; None when unmatched."""
    pairs = sorted(
        ((_similarity(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)),
        key=lambda p: -p[0],
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    matched: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
    for score, i, j in pairs:
        if score < threshold:
            break
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            matched.append((a[i], b[j]))
    matched += [(None, y) for j, y in enumerate(b) if j not in used_b]
    matched += [(x, None) for i, x in enumerate(a) if i not in used_a]
    return matched


def _topic_changes(a: list[dict[str, Any]], b: list[dict[str, Any]], shown: int = 8) -> list[str]:
    moved, new, gone = [], [], []
    for before, after in match_topics(a, b):
        if before is not None and after is not None:
            change = after["share"] - before["share"]
            if abs(change) >= 0.01:
                name = (
                    after["label"]
                    if after["label"] == before["label"]
                    else f"{before['label']} ≈ {after['label']}"
                )
                moved.append(
                    (
                        abs(change),
                        f"  {name}: {before['share']:.0%} → {after['share']:.0%} ({change * 100:+.0f} pts)",
                    )
                )
        elif after is not None:
            new.append((after["share"], f"  new: {after['label']} ({after['share']:.0%})"))
        elif before is not None:
            gone.append((before["share"], f"  gone: {before['label']} (was {before['share']:.0%})"))
    lines = []
    for group in (moved, new, gone):
        group.sort(key=lambda item: -item[0])
        lines += [line for _, line in group[:shown]]
        if len(group) > shown:
            lines.append(f"  ... and {len(group) - shown} more")
    return lines


def _subtheme_changes(a: list[dict[str, Any]], b: list[dict[str, Any]], shown: int = 6) -> list[str]:
    """Share moves of the sub-themes of themes found in both runs ("claims › waiting period")."""
    from reviewops.trends import PATH_SEPARATOR

    moved = []
    for before, after in match_topics(a, b):
        if before is None or after is None:
            continue
        for sub_a, sub_b in match_topics(before.get("subthemes", []), after.get("subthemes", [])):
            if sub_a is None or sub_b is None:
                continue
            change = sub_b["share"] - sub_a["share"]
            if abs(change) >= 0.01:
                name = f"{after['label']}{PATH_SEPARATOR}{sub_b['label']}"
                moved.append(
                    (
                        abs(change),
                        f"  {name}: {sub_a['share']:.0%} → {sub_b['share']:.0%} ({change * 100:+.0f} pts)",
                    )
                )
    moved.sort(key=lambda item: -item[0])
    return [line for _, line in moved[:shown]]


def _drivers(topic_rows: list[dict[str, Any]]) -> list[str]:
    """The top negative drivers by rank; a sub-theme driver is named "theme › sub-theme"."""
    from reviewops.trends import PATH_SEPARATOR

    rows = [(t["label"], t) for t in topic_rows]
    rows += [
        (f"{t['label']}{PATH_SEPARATOR}{sub['label']}", sub)
        for t in topic_rows
        for sub in t.get("subthemes", [])
    ]
    ranked = sorted(
        (r for r in rows if r[1]["negative_driver_rank"]), key=lambda r: r[1]["negative_driver_rank"]
    )
    return [label for label, _ in ranked[:5]]


def compare(
    run_a: Annotated[
        str, typer.Argument(metavar="RUN_A", help="The earlier run (id or a unique part of it).")
    ],
    run_b: Annotated[str, typer.Argument(metavar="RUN_B", help="The later run.")],
    out: RunsOutOpt = DEFAULT_OUT,
    store: RunsStoreOpt = None,
) -> None:
    """What changed between two runs: sentiment, stars, themes and negative drivers."""
    from reviewops.store import open_store, read_topics

    rows = _all_runs(out, store)
    a, b = _find(rows, run_a), _find(rows, run_b)
    say(f"{a['run_id']} → {b['run_id']}", style="bold")
    if a["company"] != b["company"]:
        note(f"the runs analyse different companies: {a['company']} / {b['company']}")
    figures = [
        ("reviews", str(a["reviews"]), str(b["reviews"])),
        ("mean stars", _num(a["mean_rating"]), _num(b["mean_rating"])),
        ("net sentiment", _pct(a["net_sentiment"], True), _pct(b["net_sentiment"], True)),
        ("positive", _pct(a["positive"]), _pct(b["positive"])),
        ("negative", _pct(a["negative"]), _pct(b["negative"])),
        ("macro-F1", _num(a["macro_f1"], 3), _num(b["macro_f1"], 3)),
        ("sentiment method", str(a["sentiment_method"]), str(b["sentiment_method"])),
    ]
    table = Table("", "A", "B", "change", box=None)
    for name, left, right in figures:
        table.add_row(name, left, right, _delta(left, right))
    console().print(table)
    topics = []
    for row in (a, b):
        engine = open_store(row["store_url"])
        try:
            topics.append(read_topics(engine, row["run_id"]))
        finally:
            engine.dispose()
    changes = _topic_changes(topics[0], topics[1])
    say("themes (matched by their top terms):" if changes else "themes: no share moved by 1 point or more")
    for line in changes:
        say(line)
    sub_changes = _subtheme_changes(topics[0], topics[1])
    if sub_changes:
        say("sub-themes of those themes:")
        for line in sub_changes:
            say(line)
    before, after = _drivers(topics[0]), _drivers(topics[1])
    say(f"negative drivers: {', '.join(before) or '—'} → {', '.join(after) or '—'}")


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _delta(left: str, right: str) -> str:
    try:
        a, b = float(left.rstrip("%")), float(right.rstrip("%"))
    except ValueError:
        return "" if left == right else "changed"
    unit = " pts" if left.endswith("%") or left.startswith(("+", "-")) else ""
    digits = len(left.partition(".")[2]) if "." in left else 0
    return f"{b - a:+.{digits}f}{unit}"


def open_report(
    out: RunsOutOpt = DEFAULT_OUT,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", metavar="", help="Only print the report's path.")
    ] = False,
) -> None:
    """Open the newest report.html under --out in a browser (and print its path)."""
    reports = [p for p in [out / "report.html", *out.glob("*/report.html")] if p.is_file()]
    if not reports:
        fail(f"no report.html under {out}/; run `reviewops demo` or `reviewops analyze ...` first")
    newest = max(reports, key=lambda p: p.stat().st_mtime)
    say(str(newest.resolve()))
    if no_browser:
        return
    import webbrowser

    if not webbrowser.open(newest.resolve().as_uri()):
        note("no browser found here; open the file above by hand")
