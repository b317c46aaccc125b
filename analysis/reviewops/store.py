"""The results store: SQL tables through SQLAlchemy (a SQLite file by default, PostgreSQL works too).

Tables (one row set per run; writing a run again replaces its rows, so a retried task is harmless):
- ``runs``           one row per analysis run: identity, spec, headline figures, MLflow run id.
- ``reviews``        the reviews analysed in a run (id, date, stars, language, title, text, origin).
- ``review_scores``  per review and run: sentiment label and score, dominant topic (broad
                     theme) and sub-theme (NULL when none).
- ``topics``         per topic and run: label, size, share, mean stars, impact, sentiment mix,
                     negative-driver and rising flags; broad themes have parent_id NULL, a
                     sub-theme the topic_id of its broad theme.
- ``topic_terms``    per topic and run: ranked top terms with weights.
Grafana's per-analysis dashboard queries these tables (see dashboards/).

The schema only ever grows: a column added by a newer version is added to an existing store
when it is opened (`_add_missing_columns`), so a store written by an older version keeps
accepting runs and its old rows read as "no sub-themes".
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    select,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import SQLAlchemyError

from reviewops.insights import Insights
from reviewops.records import Review, SentimentResult, TopicResult

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(250), primary_key=True),
    Column("analysis", String(253), nullable=False, index=True),
    Column("company", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("reviews", Integer, nullable=False),
    Column("mean_rating", Float),
    Column("positive", Float),
    Column("neutral", Float),
    Column("negative", Float),
    Column("net_sentiment", Float),
    Column("sentiment_method", String(32)),
    Column("macro_f1", Float),
    Column("topic_algorithm", String(32)),
    Column("num_topics", Integer),
    Column("coherence", Float),
    Column("diversity", Float),
    Column("mlflow_run_id", String(64)),
    Column("spec", JSON),
)

reviews = Table(
    "reviews",
    metadata,
    Column("run_id", String(250), primary_key=True),
    Column("review_id", String(128), primary_key=True),
    Column("company", String(200)),
    Column("published", DateTime(timezone=True), index=True),
    Column("rating", Integer),
    Column("language", String(8)),
    Column("title", Text),
    Column("text", Text, nullable=False),
    Column("origin", Text),
)

review_scores = Table(
    "review_scores",
    metadata,
    Column("run_id", String(250), primary_key=True),
    Column("review_id", String(128), primary_key=True),
    Column("sentiment", String(8), nullable=False),
    Column("sentiment_score", Float, nullable=False),
    Column("topic_id", Integer, nullable=False),  # -1: too few tokens for a topic
    Column("subtopic_id", Integer),  # the review's sub-theme; NULL: none, or the run made none
)

topics = Table(
    "topics",
    metadata,
    Column("run_id", String(250), primary_key=True),
    Column("topic_id", Integer, primary_key=True),
    Column("label", String(200), nullable=False),
    Column("size", Integer, nullable=False),
    Column("share", Float, nullable=False),
    Column("mean_rating", Float),
    Column("impact", Float),
    Column("positive", Float),
    Column("neutral", Float),
    Column("negative", Float),
    Column("negative_driver_rank", Integer),  # 1 = strongest driver; NULL when not a driver
    Column("rising_change", Float),  # share change last period vs previous; NULL when not rising
    Column("parent_id", Integer),  # NULL: a broad theme; else its broad theme's topic_id
)

topic_terms = Table(
    "topic_terms",
    metadata,
    Column("run_id", String(250), primary_key=True),
    Column("topic_id", Integer, primary_key=True),
    Column("rank", Integer, primary_key=True),
    Column("term", String(200), nullable=False),
    Column("weight", Float, nullable=False),
)

TABLES = (runs, reviews, review_scores, topics, topic_terms)
_CHUNK = 5000
_DRIVER_CHUNK = 50_000
_Row = TypeVar("_Row")


class StoreError(RuntimeError):
    """The results store cannot be reached or written; the message says which URL and why."""


def redact_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def open_store(url: str) -> Engine:
    """Connect and create the tables if needed (idempotent)."""
    try:
        engine = create_engine(url, future=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        metadata.create_all(engine)
        _add_missing_columns(engine)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot open the results store {redact_url(url)}: {exc.__class__.__name__}: {exc}. "
            "Check the URL (e.g. sqlite:///results.db or postgresql+psycopg://user:pw@host/db)."
        ) from exc
    return engine


def _add_missing_columns(engine: Engine) -> None:
    """Add the nullable columns a store created by an older version lacks (create_all skips them).

    Only ever adds: ALTER TABLE ... ADD COLUMN of a nullable column is cheap and safe on SQLite
    and PostgreSQL, and leaves every existing row and query as it was. Two writers racing to
    add the same column is harmless: the loser's error is ignored when the column now exists.
    """
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError

    for table in TABLES:
        present = {c["name"] for c in inspect(engine).get_columns(table.name)}
        for column in table.c:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            try:
                with engine.begin() as conn:
                    conn.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}')
            except DBAPIError:
                if column.name not in {c["name"] for c in inspect(engine).get_columns(table.name)}:
                    raise


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _chunks(rows: Iterable[_Row], size: int = _CHUNK) -> Iterator[list[_Row]]:
    """`rows` in lists of `size`, taken as they come: a generator of 1M rows is never all built."""
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _insert_many(conn: Connection, table: Table, rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert tuples given in the table's column order, many rows per statement.

    On SQLite the rows go straight to the driver's executemany (values converted by the
    columns' own bind processors where they have one, e.g. DateTime): at 100k reviews that is
    ~10x faster than an insert() per chunk of dictionaries, which SQLAlchemy compiles and
    processes row by row. Other databases take the portable path, in chunks.
    """
    columns = list(table.c)
    if conn.dialect.name == "sqlite":
        dialect = conn.dialect
        processors = [
            (
                i,
                _sqlite_datetime
                if isinstance(c.type, DateTime)
                else c.type.dialect_impl(dialect).bind_processor(dialect),
            )
            for i, c in enumerate(columns)
        ]
        convert = [(i, p) for i, p in processors if p is not None]
        if convert:
            rows = (_converted(row, convert) for row in rows)
        names = ", ".join(f'"{c.name}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        for chunk in _chunks(rows, _DRIVER_CHUNK):
            conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', chunk)
        return
    keys = [c.name for c in columns]
    for chunk in _chunks(rows):
        conn.execute(insert(table), [dict(zip(keys, row, strict=True)) for row in chunk])


def _sqlite_datetime(value: Any) -> Any:
    """What SQLAlchemy's SQLite DateTime stores ("2025-01-02 03:04:05.000000", no zone), in
    one C call: its own processor formats a dictionary per value (0.3 s at 100k reviews)."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    return _SQLITE_DATETIME(value) if _SQLITE_DATETIME is not None else value


_SQLITE_DATETIME = DateTime().dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())


def _converted(row: tuple[Any, ...], convert: Sequence[tuple[int, Any]]) -> tuple[Any, ...]:
    values = list(row)
    for i, process in convert:
        if values[i] is not None:
            values[i] = process(values[i])
    return tuple(values)


def write_run(
    engine: Engine,
    *,
    run_row: dict[str, Any],
    review_list: Sequence[Review],
    sentiment: SentimentResult,
    topic_result: TopicResult,
    insights: Insights,
) -> None:
    """Write one run in a single transaction, replacing any earlier rows of the same run id."""
    run_id = run_row["run_id"]
    # Rows as tuples in column order: the two large tables go to the driver's executemany,
    # made as they are inserted (at 1M reviews the lists would hold ~0.5 GB).
    review_rows = (
        (run_id, r.id, r.company, r.published, r.rating, r.language, r.title, r.text, r.origin)
        for r in review_list
    )
    subs = topic_result.sub_assignments or [-1] * len(topic_result.assignments)
    score_rows = (
        (run_id, r.id, label, float(score), int(topic), int(sub) if sub >= 0 else None)
        for r, label, score, topic, sub in zip(
            review_list, sentiment.labels, sentiment.scores, topic_result.assignments, subs, strict=True
        )
    )
    driver_rank = {d.topic_id: rank for rank, d in enumerate(insights.negative_drivers, start=1)}
    rising = {r.topic_id: r.change for r in insights.rising_topics}
    topic_rows = [
        {
            "run_id": run_id,
            "topic_id": t.id,
            "label": t.label,
            "size": t.size,
            "share": t.share,
            "mean_rating": t.mean_rating,
            "impact": t.impact,
            "positive": t.sentiment.get("positive"),
            "neutral": t.sentiment.get("neutral"),
            "negative": t.sentiment.get("negative"),
            "negative_driver_rank": driver_rank.get(t.id),
            "rising_change": rising.get(t.id),
            "parent_id": t.parent,
        }
        for t in insights.topics
    ]
    term_rows = [
        {"run_id": run_id, "topic_id": t.id, "rank": rank, "term": term, "weight": float(w)}
        for t in insights.topics
        for rank, (term, w) in enumerate(t.terms, start=1)
    ]
    try:
        with engine.begin() as conn:
            for table in TABLES:
                conn.execute(delete(table).where(table.c.run_id == run_id))
            conn.execute(insert(runs), [run_row])
            _insert_many(conn, reviews, review_rows)
            _insert_many(conn, review_scores, score_rows)
            for table, rows in ((topics, topic_rows), (topic_terms, term_rows)):
                for chunk in _chunks(rows):
                    conn.execute(insert(table), chunk)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot write run {run_id} to {redact_url(str(engine.url))}: {exc.__class__.__name__}: {exc}"
        ) from exc


def read_run(engine: Engine, run_id: str) -> dict[str, Any] | None:
    """The `runs` row of a run, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(runs).where(runs.c.run_id == run_id)).mappings().first()
    if row is None:
        return None
    out = dict(row)
    if isinstance(out.get("spec"), str):
        out["spec"] = json.loads(out["spec"])
    return out


def count_rows(engine: Engine, run_id: str) -> dict[str, int]:
    """Rows per table for a run (used by tests and `reviewops` messages)."""
    from sqlalchemy import func

    with engine.connect() as conn:
        return {
            t.name: int(
                conn.execute(select(func.count()).select_from(t).where(t.c.run_id == run_id)).scalar_one()
            )
            for t in TABLES
        }


__all__ = [
    "TABLES",
    "StoreError",
    "count_rows",
    "list_runs",
    "open_store",
    "read_run",
    "read_topics",
    "write_run",
]


# --- read side: `reviewops runs` and `reviewops compare` ----------------------------------------


def list_runs(engine: Engine, *, limit: int = 20, analysis: str | None = None) -> list[dict[str, Any]]:
    """The newest runs first (without their spec), optionally of one analysis."""
    columns = [c for c in runs.c if c.name != "spec"]
    query = select(*columns).order_by(runs.c.created_at.desc(), runs.c.run_id.desc()).limit(limit)
    if analysis is not None:
        query = query.where(runs.c.analysis == analysis)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def read_topics(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    """A run's broad themes, largest first, each with its ranked `terms` and its `subthemes`.

    Sub-themes are rows of the same shape (largest first, with `terms`, `subthemes` empty);
    runs without sub-themes, and runs written before they existed, have empty `subthemes`.
    """
    with engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                select(topics)
                .where(topics.c.run_id == run_id)
                .order_by(topics.c.size.desc(), topics.c.topic_id)
            ).mappings()
        ]
        terms: dict[int, list[str]] = {}
        for r in conn.execute(
            select(topic_terms.c.topic_id, topic_terms.c.term)
            .where(topic_terms.c.run_id == run_id)
            .order_by(topic_terms.c.topic_id, topic_terms.c.rank)
        ):
            terms.setdefault(int(r.topic_id), []).append(str(r.term))
    for row in rows:
        row["terms"] = terms.get(int(row["topic_id"]), [])
        row["subthemes"] = []
    broad = {int(row["topic_id"]): row for row in rows if row["parent_id"] is None}
    for row in rows:
        parent = row["parent_id"]
        if parent is not None and int(parent) in broad:
            broad[int(parent)]["subthemes"].append(row)
    return list(broad.values())
