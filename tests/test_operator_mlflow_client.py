"""MLflow experiments: the same contract over MlflowClient (embedded) and REST (a real server)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from reviewops_operator.clients.base import ExperimentStore
from reviewops_operator.clients.mlflow import (
    MlflowLocalExperiments,
    MlflowRestExperiments,
    experiment_store,
    experiment_url,
)
from reviewops_operator.errors import ExternalError
from tests.support.servers import free_port

TAGS = {"reviewops.io/namespace": "insights", "reviewops.io/name": "bm"}


def check_contract(store: ExperimentStore, lookup: object) -> None:
    """Create, repeat, delete, restore: what the operator relies on, for any implementation."""
    name = "reviewops/insights/bm"
    first = store.ensure(name, {**TAGS, "reviewops.io/uid": "u1"})
    assert first.created and not first.restored
    # the analysis deleted and made again (new uid) takes its experiment back
    again = store.ensure(name, {**TAGS, "reviewops.io/uid": "u2"})
    assert again.experiment_id == first.experiment_id and not again.created
    with pytest.raises(ExternalError) as stale:  # the earlier object may not delete it any more
        store.delete(name, {**TAGS, "reviewops.io/uid": "u1"})
    assert stale.value.reason == "ExperimentConflict"
    assert store.delete(name, {**TAGS, "reviewops.io/uid": "u2"}) is True
    assert store.delete(name, {**TAGS, "reviewops.io/uid": "u2"}) is False  # already (soft-)deleted
    restored = store.ensure(name, {**TAGS, "reviewops.io/uid": "u2"})
    assert restored.restored and restored.experiment_id == first.experiment_id
    assert store.delete("never/created", TAGS) is False
    experiment = lookup(name)  # type: ignore[operator]
    assert experiment["lifecycle_stage"] == "active"
    assert experiment["tags"]["reviewops.io/uid"] == "u2"
    # Another namespace's analysis naming this experiment (or MLflow's own "Default") takes
    # nothing over: a conflict, and the tags stay the owner's.
    intruder = {"reviewops.io/namespace": "other-team", "reviewops.io/name": "bm", "reviewops.io/uid": "x"}
    for target in (name, "Default"):
        with pytest.raises(ExternalError) as taken:
            store.ensure(target, intruder)
        assert taken.value.reason == "ExperimentConflict" and not taken.value.transient
        with pytest.raises(ExternalError):
            store.delete(target, intruder)
    assert "belongs to ReviewAnalysis insights/bm" in str(_conflict(store, name, intruder))
    assert lookup(name)["tags"]["reviewops.io/namespace"] == "insights"  # type: ignore[operator]
    assert lookup(name)["lifecycle_stage"] == "active"  # type: ignore[operator]


def _conflict(store: ExperimentStore, name: str, tags: dict[str, str]) -> ExternalError:
    try:
        store.ensure(name, tags)
    except ExternalError as exc:
        return exc
    raise AssertionError(f"{name} was taken over")


@pytest.mark.slow
def test_embedded_store_follows_the_contract(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    store = experiment_store(uri)
    assert isinstance(store, MlflowLocalExperiments)
    from mlflow import MlflowClient

    def lookup(name: str) -> dict[str, object]:
        found = MlflowClient(tracking_uri=uri).get_experiment_by_name(name)
        assert found is not None
        return {"lifecycle_stage": found.lifecycle_stage, "tags": found.tags}

    check_contract(store, lookup)


@pytest.mark.slow
def test_embedded_store_errors_are_reported_not_raised_raw(tmp_path: Path) -> None:
    store = MlflowLocalExperiments(f"sqlite:///{tmp_path / 'db'}")
    with pytest.raises(ExternalError) as caught:
        store.ensure("", TAGS)  # MLflow refuses empty names
    assert caught.value.system == "MLflow" and str(tmp_path) in caught.value.message


def test_server_uri_uses_rest_and_an_unreachable_server_is_transient() -> None:
    store = experiment_store("http://127.0.0.1:9", timeout=1)
    assert isinstance(store, MlflowRestExperiments)
    with pytest.raises(ExternalError) as caught:
        store.ensure("x", TAGS)
    assert caught.value.transient and caught.value.reason == "MLflowUnavailable"


def test_experiment_links_point_at_the_ui() -> None:
    assert experiment_url("https://mlflow.example", "7") == "https://mlflow.example/#/experiments/7"
    assert experiment_url(None, "7") is None


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{root / 'db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        else:
            pytest.fail("mlflow server did not become healthy within 90 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.integration
@pytest.mark.slow
def test_rest_store_follows_the_contract_against_a_real_server(mlflow_server: str) -> None:
    def lookup(name: str) -> dict[str, object]:
        got = requests.get(
            f"{mlflow_server}/api/2.0/mlflow/experiments/get-by-name",
            params={"experiment_name": name},
            timeout=5,
        ).json()["experiment"]
        return {
            "lifecycle_stage": got["lifecycle_stage"],
            "tags": {t["key"]: t["value"] for t in got["tags"]},
        }

    check_contract(MlflowRestExperiments(mlflow_server), lookup)
