"""Fixtures of the end-to-end tests: `pytest_plugins = ["tests.support.e2e_fixtures"]`.

Each test module runs one operator per API server (`stack`, module scope, parametrised: the
emulator for the fast path, then the real control plane of tests/cluster, skipped when its
binaries are not built); each test works in a namespace of its own (`ns`), whose analyses are
deleted afterwards; `clock` moves the operator's time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest

from tests.support.e2e import API, KIND
from tests.support.kube_client import wait_for
from tests.support.operator_harness import Clock, Stack, running_stack


@pytest.fixture(scope="module", params=["emulator", pytest.param("cluster", marks=pytest.mark.cluster)])
def stack(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """An API server, the fake Airflow, MLflow and the operator, for one test module."""
    cluster = request.getfixturevalue("control_plane") if request.param == "cluster" else None
    with running_stack(tmp_path_factory.mktemp("mlflow"), cluster=cluster) as running:
        yield running


@pytest.fixture
def ns(stack: Stack, request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace of this test's own; its analyses are deleted (and finalized) afterwards."""
    name = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")[-50:].strip("-")
    stack.create_namespace(name)
    yield name
    if stack.airflow.outage:
        stack.airflow.end_outage()
    for obj in stack.client.objects(API, KIND, name):
        stack.client.delete(API, KIND, name, obj["metadata"]["name"])
    wait_for(lambda: not stack.client.objects(API, KIND, name), 30, f"analyses in {name} to be finalized")
    stack.delete_namespace(name)


@pytest.fixture
def clock(stack: Stack) -> Iterator[Clock]:
    """The operator's clock, starting now; real time again after the test."""
    moment = Clock(dt.datetime.now(dt.UTC).replace(microsecond=0))
    moment.install()
    yield moment
    moment.uninstall()
