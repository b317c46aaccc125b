from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from reviewops.insights import compute_insights
from reviewops.store import (
    StoreError,
    _sqlite_datetime,
    count_rows,
    open_store,
    read_run,
    review_scores,
    topics,
    write_run,
)
from tests.support.analysis import corpus
from tests.support.servers import postgres_server


def _write(engine: Engine, run_id: str = "run-1") -> None:
    reviews, sentiment, topic_result = corpus()
    write_run(
        engine,
        run_row={
            "run_id": run_id,
            "analysis": "insights/backmarket-en",
            "company": "Back Market",
            "created_at": dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
            "reviews": len(reviews),
            "mean_rating": 3.66,
            "spec": {"company": {"name": "Back Market", "domain": "www.example.com"}},
        },
        review_list=reviews,
        sentiment=sentiment,
        topic_result=topic_result,
        insights=compute_insights(reviews, sentiment, topic_result),
    )


def _check_run(engine: Engine) -> None:
    _write(engine)
    _write(engine)  # a retried task writes the same run again: no duplicates, no error
    assert count_rows(engine, "run-1") == {
        "runs": 1,
        "reviews": 73,
        "review_scores": 73,
        "topics": 2,
        "topic_terms": 6,
    }
    _write(engine, "run-2")
    assert count_rows(engine, "run-1")["reviews"] == 73  # runs are independent
    run = read_run(engine, "run-1")
    assert run is not None and run["spec"] == {
        "company": {"name": "Back Market", "domain": "www.example.com"}
    }
    with engine.connect() as conn:
        battery = (
            conn.execute(select(topics).where(topics.c.run_id == "run-1", topics.c.topic_id == 1))
            .mappings()
            .one()
        )
        assert battery["negative_driver_rank"] == 1 and battery["rising_change"] is not None
        unassigned = (
            conn.execute(select(review_scores.c.review_id).where(review_scores.c.topic_id == -1))
            .scalars()
            .all()
        )
        assert unassigned == ["short", "short"]  # one per run


def test_sqlite_store_is_idempotent_per_run(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'results.db'}")
    _check_run(engine)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.mark.integration
def test_postgresql_store_is_idempotent_per_run(postgres_url: str) -> None:
    engine = open_store(postgres_url)
    try:
        _check_run(engine)
    finally:
        engine.dispose()


def test_unreachable_store_names_the_url_without_password() -> None:
    with pytest.raises(StoreError) as err:
        open_store("postgresql+psycopg://user:s3cret@127.0.0.1:1/db")
    assert "127.0.0.1:1" in str(err.value) and "s3cret" not in str(err.value)


@settings(max_examples=300, deadline=None)
@given(
    when=st.one_of(
        st.datetimes(timezones=st.none() | st.timezones()),
        st.dates(),
    )
)
def test_review_dates_are_stored_as_sqlalchemy_stores_them(when: dt.date) -> None:
    """The fast formatter writes SQLite dates byte for byte as SQLAlchemy's DateTime does, so
    that SQLAlchemy (and Grafana's queries) read them back the same."""
    from sqlalchemy import DateTime
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    expected = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    assert expected is not None
    assert _sqlite_datetime(when) == expected(when)
