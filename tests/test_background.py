"""Work on a forked child (reviewops.background) and the run steps that use it.

The report is drawn beside the SQL store, and label phrases are counted beside the topic
fit; what the user gets must be the same as in one process, and a failing or dying child must
surface as a clear error (or, for the store, a warning), never as a hang or a silent gap.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from reviewops import pipeline
from reviewops.background import Background, BackgroundError, can_fork
from reviewops.pipeline import RunOptions, run_analysis
from reviewops.records import ProgressFn
from reviewops.spec import Sentiment, parse_spec

pytestmark = pytest.mark.skipif(not can_fork(), reason="forked children are Linux-only")


def test_the_value_comes_from_another_process_with_its_progress() -> None:
    seen: list[int] = []

    def work(progress: ProgressFn) -> dict[str, Any]:
        for _ in range(3):
            progress(5)
        return {"pid": os.getpid(), "rows": list(range(100_000))}

    with Background("counting", work, seen.append) as job:
        value = job.result()
    assert job.forked
    assert value["pid"] != os.getpid()
    assert value["rows"][-1] == 99_999
    assert sum(seen) == 15
    assert job.seconds > 0


def test_a_child_that_returns_none_is_a_result_not_a_death() -> None:
    with Background("quiet", lambda _p: None) as job:
        assert job.result() is None


class Unpicklable(Exception):
    def __init__(self, what: str, lock: Any) -> None:
        super().__init__(what)
        self.lock = lock

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle a lock")


def test_the_childs_exception_is_raised_in_the_caller_with_its_traceback() -> None:
    def fail(_progress: ProgressFn) -> None:
        raise ValueError("sentiment.modelUri 'models:/x/1': no such model")

    with Background("sentiment", fail) as job, pytest.raises(ValueError, match="no such model") as raised:
        job.result()
    assert any("in fail" in note and "forked process" in note for note in raised.value.__notes__)


def test_an_exception_that_cannot_cross_is_named() -> None:
    def fail(_progress: ProgressFn) -> None:
        raise Unpicklable("store is locked", threading.Lock())

    job = Background("store", fail)
    with pytest.raises(BackgroundError, match="Unpicklable: store is locked"):
        job.result()


def test_a_result_that_cannot_cross_is_an_error_not_a_hang() -> None:
    job = Background("odd", lambda _p: threading.Lock())
    with pytest.raises(BackgroundError, match="sent back"):
        job.result()


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_a_child_that_dies_gives_an_error_naming_its_exit(how: str) -> None:
    def die(_progress: ProgressFn) -> None:
        if how == "exit":
            os._exit(3)
        os.kill(os.getpid(), signal.SIGKILL)

    with Background("sentiment", die) as job, pytest.raises(BackgroundError) as raised:
        job.result()
    message = str(raised.value)
    assert "the sentiment process ended without a result" in message
    assert ("exit code 3" if how == "exit" else "exit code -9") in message


def test_leaving_early_stops_the_child() -> None:
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt), Background("slow", lambda _p: time.sleep(60)) as job:
        raise KeyboardInterrupt
    assert time.perf_counter() - started < 10
    assert job._process is not None and job._process.exitcode is not None


def test_the_child_may_start_workers_of_its_own() -> None:
    import multiprocessing

    def pooled(_progress: ProgressFn) -> list[int]:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            return pool.map(abs, [-1, -2, -3])

    with Background("pooled", pooled) as job:
        assert job.result() == [1, 2, 3]


def test_without_fork_the_work_runs_here_and_fails_at_result() -> None:
    calls: list[int] = []

    def work(progress: ProgressFn) -> int:
        progress(2)
        return os.getpid()

    job = Background("here", work, calls.append, fork=False)
    assert not job.forked and calls == [2]  # done at once
    assert job.result() == os.getpid()

    def fail(_progress: ProgressFn) -> None:
        raise RuntimeError("broken")

    failed = Background("here", fail, fork=False)
    with pytest.raises(RuntimeError, match="broken"):
        failed.result()


def test_a_daemonic_process_does_not_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    class Daemonic:
        daemon = True

    monkeypatch.setattr(multiprocessing, "current_process", Daemonic)
    assert not can_fork()
    assert not Background("here", lambda _p: 1).forked


_PER_RUN = {"seconds", "seconds_subthemes", "seconds_labels", "model_path"}


def _untimed(value: Any) -> Any:
    """`value` without the durations and the folder it records (they differ between runs)."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k not in _PER_RUN}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _spec(path: Path) -> Any:
    return parse_spec(
        {
            "company": {"name": "Food Boxes", "domain": "www.example.com"},
            "source": {"type": "file", "path": str(path), "maxReviews": 1200, "columns": {"rating": "Grade"}},
            "sentiment": {"method": "supervised"},
            "topics": {"algorithm": "nmf", "numTopics": "auto"},
            "mlflow": {"enabled": False},
        }
    )


def test_only_a_model_trained_on_a_mid_sized_run_goes_beside_the_topics() -> None:
    supervised, saved = Sentiment(method="supervised"), Sentiment(method="supervised", modelUri="m.joblib")
    assert pipeline.trains_beside_topics(supervised, 100_000)
    assert not pipeline.trains_beside_topics(
        supervised, pipeline.OVERLAP_MIN_REVIEWS - 1
    )  # fork not worth it
    assert not pipeline.trains_beside_topics(supervised, 1_000_000)  # memory: trained in turn
    assert not pipeline.trains_beside_topics(saved, 100_000)  # labelling keeps both cores busy
    assert not pipeline.trains_beside_topics(Sentiment(method="ratings"), 100_000)


@pytest.mark.slow
def test_a_run_gives_the_same_results_with_its_report_phrases_and_model_on_children(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = shared_data / "reviews" / "en_food_trustpilot.csv"
    monkeypatch.setenv("REVIEWOPS_ALLOWED_FILE_ROOTS", str(source.parent))
    monkeypatch.setattr(pipeline, "OVERLAP_MIN_REVIEWS", 0)  # the model is trained beside topics
    children: list[str] = []

    class Recorded(Background[Any]):
        def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
            super().__init__(name, *args, **kwargs)
            if self.forked:
                children.append(name)

    monkeypatch.setattr(pipeline, "Background", Recorded)
    spec = _spec(source)
    forked = run_analysis(spec, RunOptions(out_dir=tmp_path / "forked", mlflow=False, run_id="r1"))
    assert children == ["sentiment"]  # (the report's child is made in outputs, not recorded)
    alone = run_analysis(spec, RunOptions(out_dir=tmp_path / "alone", mlflow=False, run_id="r1", workers=1))
    assert children == ["sentiment"]
    assert forked.summary["sentiment"]["evaluation"]["macro_f1"] > 0.5
    assert (tmp_path / "forked" / "sentiment-model.joblib").is_file()  # saved by the child
    for key in ("reviews", "sentiment", "topics", "negative_drivers", "rising_topics", "timeline"):
        assert _untimed(forked.summary[key]) == _untimed(alone.summary[key]), key
    assert forked.summary["outputs"]["store"].endswith("forked/reviewops.db")
    drawn = [
        re.sub(r"stage timings: [^<]*", "", (tmp_path / name / "report.html").read_text("utf-8"))
        for name in ("forked", "alone")
    ]
    assert drawn[0].count('<p class="quote">') >= 3  # the quoted reviews reached the child
    assert drawn[0].replace("/forked/", "/alone/") == drawn[1]

    from reviewops.store import count_rows, open_store

    engine = open_store(forked.summary["outputs"]["store"])
    try:
        assert count_rows(engine, "r1")["reviews"] == 1200
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_store_that_fails_is_a_warning_and_the_report_is_still_written(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = shared_data / "reviews" / "en_food_trustpilot.csv"
    monkeypatch.setenv("REVIEWOPS_ALLOWED_FILE_ROOTS", str(source.parent))
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store's folder should be")
    outcome = run_analysis(
        _spec(source),
        RunOptions(out_dir=tmp_path / "out", mlflow=False, store_url=f"sqlite:///{blocked}/r.db"),
    )
    assert outcome.report_path is not None and outcome.report_path.is_file()
    assert "store" not in outcome.summary["outputs"]
    assert any(w.startswith("results store not written") for w in outcome.warnings)
