"""The Airflow client against the HTTP fake that speaks Airflow 3's REST contract."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewops_operator.clients.airflow import AirflowRestClient, unwrap_xcom
from reviewops_operator.errors import ExternalError
from tests.support.fake_airflow import FakeAirflow

RUN = "ra__insights__bm__2024-05-02T06:00:00Z"


@pytest.fixture
def airflow() -> Iterator[FakeAirflow]:
    with FakeAirflow() as fake:
        yield fake


def client(fake: FakeAirflow, *, password: str = "admin", timeout: float = 5.0) -> AirflowRestClient:
    return AirflowRestClient(fake.url, "admin", password, "review_analysis", timeout=timeout)


def test_trigger_unpauses_the_dag_once_and_sends_id_and_conf(airflow: FakeAirflow) -> None:
    api = client(airflow)
    assert api.trigger(RUN, {"spec": {"company": {"name": "BM", "domain": "www.example.com"}}}) is True
    assert api.trigger("second", {}) is True
    assert airflow.paused["review_analysis"] is False
    assert [c for c in airflow.calls if c[0] == "PATCH"] == [("PATCH", "/api/v2/dags/review_analysis", 200)]
    assert airflow.run(RUN).conf == {"spec": {"company": {"name": "BM", "domain": "www.example.com"}}}
    assert airflow.trigger_posts[0]["logical_date"] is None


def test_a_duplicate_trigger_is_success_without_a_second_run(airflow: FakeAirflow) -> None:
    assert client(airflow).trigger(RUN, {}) is True
    assert client(airflow).trigger(RUN, {}) is False  # a fresh client, as after a restart
    assert airflow.trigger_count(RUN) == 2
    assert len(airflow.runs) == 1


def test_run_state_and_results_are_read_back(airflow: FakeAirflow) -> None:
    api = client(airflow)
    api.trigger(RUN, {})
    assert api.get_run(RUN) is not None and api.get_run(RUN).state == "queued"  # type: ignore[union-attr]
    airflow.start_run(RUN)
    running = api.get_run(RUN)
    assert running is not None and running.state == "running" and running.start_date is not None
    assert api.results(RUN) is None  # nothing published yet
    airflow.complete_run(RUN, {"reviews": 12, "meanRating": 4.0})
    done = api.get_run(RUN)
    assert done is not None and done.state == "success" and done.end_date is not None
    assert api.results(RUN) == {"reviews": 12, "meanRating": 4.0}
    assert api.get_run("never-triggered") is None


def test_cancel_marks_an_active_run_failed_and_leaves_finished_ones(airflow: FakeAirflow) -> None:
    api = client(airflow)
    api.trigger(RUN, {})
    api.trigger("done", {})
    airflow.complete_run("done", {})
    api.cancel(RUN)
    api.cancel("done")
    api.cancel("missing")
    assert airflow.run(RUN).state == "failed"
    assert airflow.run("done").state == "success"


def _conf(uid: str) -> dict[str, object]:
    return {"spec": {}, "analysis": {"namespace": "insights", "name": "bm", "uid": uid}}


def test_a_run_of_another_object_with_the_same_id_is_neither_followed_nor_cancelled(
    airflow: FakeAirflow,
) -> None:
    # "insights/bm" deleted and created again: same run ids, another uid
    api = client(airflow)
    assert api.trigger(RUN, _conf("uid-old")) is True
    assert api.trigger(RUN, _conf("uid-old")) is False  # a retried trigger of the same object
    with pytest.raises(ExternalError) as conflict:
        api.trigger(RUN, _conf("uid-new"))
    assert conflict.value.reason == "RunConflict" and not conflict.value.transient
    assert "uid-old" in conflict.value.message and "Delete that run" in conflict.value.message
    assert api.get_run(RUN).owner_uid == "uid-old"  # type: ignore[union-attr]
    api.cancel(RUN, "uid-new")
    assert airflow.run(RUN).state == "queued"  # another object's run is left alone
    api.cancel(RUN, "uid-old")
    assert airflow.run(RUN).state == "failed"
    assert len(airflow.runs) == 1


def test_an_expired_token_is_refreshed_transparently(airflow: FakeAirflow) -> None:
    airflow.token_ttl_seconds = 1
    api = client(airflow)
    api.trigger(RUN, {})
    time.sleep(1.1)
    assert api.get_run(RUN) is not None
    tokens = [c for c in airflow.calls if c[1] == "/auth/token"]
    assert len(tokens) == 2
    assert ("GET", f"/api/v2/dags/review_analysis/dagRuns/{RUN}", 401) in airflow.calls


def test_bad_credentials_are_a_configuration_error_naming_the_user(airflow: FakeAirflow) -> None:
    with pytest.raises(ExternalError) as caught:
        client(airflow, password="wrong").trigger(RUN, {})
    assert caught.value.reason == "AirflowAuthFailed" and not caught.value.transient
    assert "'admin'" in caught.value.message and airflow.url in caught.value.message


def test_missing_dag_says_how_to_fix_it(airflow: FakeAirflow) -> None:
    api = AirflowRestClient(airflow.url, "admin", "admin", "not_deployed", timeout=5)
    with pytest.raises(ExternalError) as caught:
        api.trigger(RUN, {})
    assert caught.value.reason == "DagNotFound" and "REVIEWOPS_AIRFLOW_DAG_ID" in caught.value.message


def test_outage_and_timeouts_are_transient(airflow: FakeAirflow) -> None:
    api = client(airflow, timeout=0.5)
    api.trigger(RUN, {})
    airflow.start_outage("503")
    with pytest.raises(ExternalError) as down:
        api.get_run(RUN)
    assert down.value.transient and down.value.reason == "AirflowUnavailable" and "503" in down.value.message
    airflow.start_outage("hang")
    started = time.monotonic()
    with pytest.raises(ExternalError) as hung:
        api.get_run(RUN)
    assert hung.value.transient and time.monotonic() - started < 5
    airflow.end_outage()
    assert api.get_run(RUN) is not None


def test_unreachable_airflow_is_transient() -> None:
    api = AirflowRestClient("http://127.0.0.1:9", "admin", "admin", "review_analysis", timeout=1)
    with pytest.raises(ExternalError) as caught:
        api.trigger(RUN, {})
    assert caught.value.transient and "http://127.0.0.1:9" in caught.value.message


def test_xcom_values_are_unwrapped_from_airflow_serializers() -> None:
    assert unwrap_xcom('{"reviews": 3}') == {"reviews": 3}
    assert unwrap_xcom({"__classname__": "builtins.dict", "__version__": 1, "__data__": {"a": 1}}) == {"a": 1}
    assert unwrap_xcom({"__type": "dict", "__var": {"a": 2}}) == {"a": 2}
    assert unwrap_xcom("not json") == "not json"


def test_a_rotated_password_file_is_read_at_the_next_token_fetch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewops_operator.runtime import build_runtime
    from reviewops_operator.settings import Settings

    secret = tmp_path / "password"
    secret.write_text("first\n")
    with FakeAirflow(password="first", token_ttl_seconds=3) as fake:
        for key, value in {
            "REVIEWOPS_AIRFLOW_URL": fake.url,
            "REVIEWOPS_AIRFLOW_USERNAME": "admin",
            "REVIEWOPS_AIRFLOW_PASSWORD_FILE": str(secret),
            "REVIEWOPS_MLFLOW_TRACKING_URI": "http://127.0.0.1:1",
            "REVIEWOPS_GRAFANA_MODE": "disabled",
        }.items():
            monkeypatch.setenv(key, value)
        api = build_runtime(Settings.from_env()).deps.airflow
        assert api.trigger(RUN, {}) is True
        fake.password = "second"  # rotated in Airflow and in the mounted Secret, no restart
        secret.write_text("second\n")
        time.sleep(3.2)  # the token expires (3 s: a fresh one outlives a slow request on a loaded machine)
        assert api.trigger("after-rotation", {}) is True
        assert fake.trigger_count("after-rotation") == 1
