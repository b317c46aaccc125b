"""More than one replica: kopf peering on the real control plane (tests/cluster).

Three operator processes (`python -m reviewops_operator`, as in the image) log in as the chart's
ServiceAccount under the chart's RBAC with peering on, share the chart's ClusterKopfPeering and
derive their priorities from their start times, as the chart's replicas do: the one started
first is active, the later ones wait. One analysis goes through the replicas:

1. replica-a, -b, -c start in that order: a is active, b and c wait; only a's log shows the
   analysis, and it triggers one DAG run;
2. replica-a is SIGKILLed (no goodbye in the peering object): replica-b, the next oldest, takes
   over once a's record expires, within TAKEOVER_KILLED (peering lifetime LIFETIME s + slack for
   a slow host), does not trigger the run again, and follows it to Succeeded; c still waits;
3. a spec change is reconciled by b alone: one new run, no duplicate;
4. replica-b gets SIGTERM (kopf removes its record as it exits): replica-c takes over within
   TAKEOVER_TERMINATED and follows the new run to Succeeded.

"No duplicate run" is counted at the fake Airflow: every POST .../dagRuns, accepted or refused
with 409, is recorded; there is exactly one per spec generation. The takeover times measured are
printed (pytest -s) and kept in charts/reviewops/README.md ("Running more than one replica").
"""

from __future__ import annotations

import contextlib
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.controlplane import ControlPlane
from tests.cluster.operator_identity import install_crd, install_peering_crds, operator_login, render_rbac
from tests.support.e2e import API, KIND, RESULT, example
from tests.support.fake_airflow import FakeAirflow
from tests.support.kube_client import KubeClient, wait_for
from tests.support.operator_harness import OperatorProcess, mlflow_store

PEERING = "reviewops-peering-test"
VALUES = {"replicas": 2, "operator": {"standalone": False, "peeringName": PEERING}}
LIFETIME = 10  # s; the chart's default is 60
TAKEOVER_KILLED = LIFETIME + 10.0  # s: the killed replica's record expires after at most LIFETIME
TAKEOVER_TERMINATED = 10.0  # s: a terminated replica removes its record on the way out
STARTUP = 60.0  # s: an operator process on a busy 2-core host
RESUMED = "Resuming operations after the pause"  # kopf, when a replica becomes active
PRIORITY = f"peering in '{PEERING}' with priority"  # the operator's startup handler
NS, NAME = "peering", "oneshot-demo"
HANDLED = f"[{NS}/{NAME}]"  # kopf's prefix of every log line about the analysis


@pytest.fixture
def cluster(control_plane: ControlPlane) -> ControlPlane:
    install_crd(control_plane)
    install_peering_crds(control_plane)
    return control_plane


def _peers(client: KubeClient) -> dict[str, dict[str, Any]]:
    """status of the ClusterKopfPeering: {identity: {priority, lifetime, lastseen}}."""
    obj = client.get("kopf.dev/v1", "ClusterKopfPeering", "", PEERING)  # cluster-scoped: no namespace
    assert obj is not None, f"the chart's ClusterKopfPeering {PEERING} is missing"
    peers: dict[str, dict[str, Any]] = obj.get("status") or {}
    return peers


def _posts(airflow: FakeAirflow) -> list[str]:
    """dag_run_id of every POST .../dagRuns for the analysis (409s included)."""
    return [
        str(b.get("dag_run_id"))
        for b in airflow.trigger_posts
        if (b.get("conf") or {}).get("analysis", {}).get("namespace") == NS
    ]


def _status(client: KubeClient) -> dict[str, Any]:
    obj = client.get(API, KIND, NS, NAME)
    assert obj is not None
    status: dict[str, Any] = obj.get("status") or {}
    return status


@pytest.fixture
def replicas(cluster: ControlPlane, tmp_path: Path) -> Iterator[tuple[FakeAirflow, KubeClient, Any]]:
    """The fake Airflow, an admin client, and a factory of operator processes (all stopped after)."""
    client = KubeClient(cluster)
    login = operator_login(cluster, tmp_path, render_rbac(cluster, VALUES))
    started: list[OperatorProcess] = []
    with FakeAirflow() as airflow:
        uri = mlflow_store(tmp_path)
        peering = {
            "REVIEWOPS_STANDALONE": "false",
            "REVIEWOPS_PEERING_NAME": PEERING,
            "REVIEWOPS_PEERING_LIFETIME_SECONDS": str(LIFETIME),
        }

        def start(name: str, wait: bool = True) -> OperatorProcess:
            """Start a replica; with `wait`, until it has derived its priority (so the next one
            started is younger)."""
            process = OperatorProcess(name, tmp_path, login, airflow, uri, interval=1.0, env=peering)
            started.append(process.start())
            if wait:
                process.wait_log(PRIORITY, STARTUP)
            return process

        client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        try:
            yield airflow, client, start
        finally:
            survivors = [p for p in started if p.alive()]
            if client.get(API, KIND, NS, NAME) is not None:
                client.delete(API, KIND, NS, NAME)
                if survivors:
                    with contextlib.suppress(TimeoutError):
                        wait_for(lambda: client.get(API, KIND, NS, NAME) is None, 30, "finalized")
                if client.get(API, KIND, NS, NAME) is not None:
                    client.patch(API, KIND, NS, NAME, {"metadata": {"finalizers": None}})
            for process in started:
                process.stop()
            cluster.kubectl("delete", "namespace", NS, "--wait=false")
            for process in started:
                print(f"--- {process.name} ---\n{process.log()[-1500:]}")


def test_replicas_derive_distinct_priorities_the_earliest_start_ranking_highest() -> None:
    import kopf

    from reviewops_operator.handlers import configure_peering, start_priority

    first, second = start_priority(1_764_700_000_000_000_000), start_priority(1_764_700_000_000_001_000)
    assert first > second and first - second == 1  # one microsecond apart is enough
    assert -(2**53) < start_priority() < 0  # exact in JSON; kopf's default 0 and --dev 666 outrank it
    settings = kopf.OperatorSettings()
    configure_peering(settings, "reviewops", None, 10)
    peering = settings.peering
    assert (peering.standalone, peering.mandatory, peering.name, peering.lifetime) == (
        False,
        True,
        "reviewops",
        10,
    )
    assert peering.priority < 0
    configure_peering(settings, "reviewops", 5, 10)  # one replica may be given a fixed priority
    assert settings.peering.priority == 5


@pytest.mark.cluster
@pytest.mark.slow
def test_one_replica_reconciles_and_another_takes_over_without_a_duplicate_run(
    replicas: tuple[FakeAirflow, KubeClient, Any],
) -> None:
    airflow, client, start = replicas
    began = time.monotonic()

    # 1. Three replicas started one after the other: the oldest is active, the others wait.
    a = start("replica-a")
    b = start("replica-b")
    c = start("replica-c", wait=False)  # starts while the test goes on
    a.wait_log(RESUMED, STARTUP)
    client.create(example("oneshot-demo.yaml", NS))
    wait_for(lambda: _status(client).get("activeRun"), 30, "the first run recorded in status")
    (first,) = airflow.wait_for_runs(1)
    wait_for(lambda: {"replica-a", "replica-b", "replica-c"} <= set(_peers(client)), STARTUP, "3 records")
    peers = _peers(client)
    assert peers["replica-a"]["priority"] > peers["replica-b"]["priority"] > peers["replica-c"]["priority"]
    assert {p["lifetime"] for p in peers.values()} == {LIFETIME}
    time.sleep(3)  # a few timer ticks (1 s): the standbys must stay silent
    assert HANDLED in a.log()
    for standby in (b, c):
        assert HANDLED not in standby.log() and RESUMED not in standby.log(), standby.name
    assert _posts(airflow) == [first.run_id]

    # 2. SIGKILL the active replica: no goodbye, its record must expire first; the next oldest
    # takes over, follows the run and does not trigger it again.
    a.signal(signal.SIGKILL)
    killed = time.monotonic()
    a.wait(10)
    took_over = b.wait_log(RESUMED, TAKEOVER_KILLED + 10) - killed
    b.wait_log(HANDLED, 30)
    handled = time.monotonic() - killed
    assert took_over <= TAKEOVER_KILLED, f"replica-b took over {took_over:.1f} s after SIGKILL"
    wait_for(lambda: "replica-a" not in _peers(client), 10, "replica-a's expired record cleaned up")
    airflow.complete_run(first.run_id, RESULT)
    wait_for(lambda: _status(client).get("succeededRuns") == 1, 30, "replica-b follows the run")
    assert _posts(airflow) == [first.run_id], "the new active replica ran the analysis again"

    # 3. A spec change is reconciled by the active replica alone: one new run.
    client.patch(API, KIND, NS, NAME, {"spec": {"topics": {"numTopics": 6}}})
    wait_for(lambda: _status(client).get("observedGeneration") == 2, 30, "generation 2 reconciled")
    second = next(r for r in airflow.wait_for_runs(2) if r.run_id != first.run_id)
    assert second.conf["analysis"]["generation"] == 2
    time.sleep(3)
    assert HANDLED not in c.log() and RESUMED not in c.log()
    assert _posts(airflow) == [first.run_id, second.run_id]

    # 4. SIGTERM the active replica: kopf deletes its record while exiting, c resumes at once.
    b.signal(signal.SIGTERM)
    terminated = time.monotonic()
    took_over_graceful = c.wait_log(RESUMED, TAKEOVER_TERMINATED + 20) - terminated
    assert b.wait(30) == 0
    assert took_over_graceful <= TAKEOVER_TERMINATED, (
        f"replica-c took over {took_over_graceful:.1f} s after SIGTERM"
    )
    airflow.complete_run(second.run_id, RESULT)
    wait_for(lambda: _status(client).get("succeededRuns") == 2, 30, "replica-c follows the run")
    assert HANDLED in c.log()
    assert _posts(airflow) == [first.run_id, second.run_id], "a run was triggered twice"
    assert sorted(_peers(client)) == ["replica-c"]

    report = {
        "lifetime_s": LIFETIME,
        "takeover_after_sigkill_s": round(took_over, 2),
        "handled_after_sigkill_s": round(handled, 2),
        "takeover_after_sigterm_s": round(took_over_graceful, 2),
        "test_s": round(time.monotonic() - began, 1),
    }
    print("peering takeover:", json.dumps(report))
