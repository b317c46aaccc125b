"""Least privilege for real: the operator runs as the chart's ServiceAccount, not as admin.

The API server's audit log (tests/cluster/controlplane.py records every request made with a
service-account token) shows what the operator asked for and what it was told. A whole life
cycle — create, run, update, delete — under the chart's RBAC gets no 403 and uses every verb of
every rule; with any one rule removed, the same life cycle is refused something. Twice: with the
chart's defaults (standalone) and with kopf peering on (replicas: 2), whose two extra rules are
for the ClusterKopfPeering the replicas share.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.controlplane import ControlPlane
from tests.cluster.operator_identity import (
    USERNAME,
    apply_objects,
    ensure_namespace,
    install_crd,
    install_peering_crds,
    operator_login,
    render_rbac,
)
from tests.support.e2e import API, KIND, example
from tests.support.fake_airflow import FakeAirflow
from tests.support.kube_client import KubeClient, wait_for
from tests.support.operator_harness import OperatorHarness, mlflow_store

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

Audit = dict[str, Any]

PEERING = "reviewops-rbac"
# variant → (chart values, the operator's environment that goes with them)
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "default": ({}, {}),
    "peering": (
        {"replicas": 2, "operator": {"standalone": False, "peeringName": PEERING}},
        {"REVIEWOPS_STANDALONE": "false", "REVIEWOPS_PEERING_NAME": PEERING},
    ),
}


@pytest.fixture(scope="module")
def cluster(control_plane: ControlPlane) -> Iterator[ControlPlane]:
    install_crd(control_plane)
    install_peering_crds(control_plane)
    yield control_plane
    apply_objects(control_plane, render_rbac(control_plane))  # leave the full rights behind


def _rule_of(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind]
    return found


def _key(event: Audit) -> tuple[str, str, str]:
    ref = event.get("objectRef", {})
    resource = ref.get("resource", "") + ("/" + ref["subresource"] if ref.get("subresource") else "")
    return ref.get("apiGroup", ""), resource, event["verb"]


def lifecycle(
    cluster: ControlPlane,
    folder: Path,
    ns: str,
    rbac: list[dict[str, Any]],
    env: dict[str, str] | None = None,
) -> tuple[list[Audit], bool]:
    """Create, run, update and delete one analysis under `rbac` (the operator's environment plus
    `env`); (audit events, completed). An operator that crashes on a refusal has not completed."""
    folder.mkdir(parents=True, exist_ok=True)
    ensure_namespace(cluster, ns)
    login = operator_login(cluster, folder, rbac)
    time.sleep(1)  # RBAC changes reach the authorizer through an informer
    mark = len(cluster.audit_events(USERNAME))
    try:
        completed = _run_one(cluster, folder, ns, login, env)
    except RuntimeError as exc:  # raised by the harness' stop()
        if "crashed" not in str(exc):
            raise
        completed = False
    time.sleep(1)  # watches closed by the stop are audited when they end
    return cluster.audit_events(USERNAME)[mark:], completed


def _run_one(
    cluster: ControlPlane, folder: Path, ns: str, login: dict[str, str], env: dict[str, str] | None
) -> bool:
    client = KubeClient(cluster)
    completed = True
    quick = (0.5, 1.0) if env else None  # peering: a refused keep-alive must not hold the stop for 54 s
    with FakeAirflow() as airflow, OperatorHarness(login, airflow, mlflow_store(folder), 0.5, env, quick):
        client.create(example("oneshot-demo.yaml", ns))
        try:
            wait_for(
                lambda: any(r.conf["analysis"]["namespace"] == ns for r in airflow.all_runs()), 15, "a run"
            )
            wait_for(lambda: (o := client.get(API, KIND, ns, "oneshot-demo"))
                     and any(c["type"] == "Ready" and c["status"] == "True"
                             for c in o.get("status", {}).get("conditions", [])), 15, "Ready")  # fmt: skip
            client.patch(API, KIND, ns, "oneshot-demo", {"spec": {"topics": {"numTopics": 6}}})
            wait_for(lambda: (o := client.get(API, KIND, ns, "oneshot-demo"))
                     and o.get("status", {}).get("observedGeneration") == 2, 15, "generation 2")  # fmt: skip
        except TimeoutError:
            completed = False
        client.delete(API, KIND, ns, "oneshot-demo")
        try:
            wait_for(lambda: client.get(API, KIND, ns, "oneshot-demo") is None, 15, "finalized")
        except TimeoutError:
            completed = False
            client.patch(API, KIND, ns, "oneshot-demo", {"metadata": {"finalizers": None}})
    return completed


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_charts_rbac_is_enough_and_every_verb_is_used(
    cluster: ControlPlane, tmp_path: Path, variant: str
) -> None:
    values, env = VARIANTS[variant]
    rbac = render_rbac(cluster, values)
    events, completed = lifecycle(cluster, tmp_path, f"rbac-full-{variant}", rbac, env)
    assert completed
    forbidden = sorted({_key(e) for e in events if e.get("responseStatus", {}).get("code") == 403})
    assert not forbidden, f"the operator was refused: {forbidden}"
    used = {_key(e) for e in events if e.get("responseStatus", {}).get("code", 500) < 400}
    granted = {
        (group, resource, verb)
        for rule in _rule_of(rbac, "ClusterRole")["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert granted - used == set(), f"granted but never used: {sorted(granted - used)}"
    rules = _rule_of(rbac, "ClusterRole")["rules"]
    assert len(rules) == RULES[variant], "update DEFAULT_RULES / PEERING_RULES"
    assert all(r["apiGroups"] == ["kopf.dev"] for r in rules[DEFAULT_RULES:]), "peering rules come last"


DEFAULT_RULES = 5  # rules of the ClusterRole with the chart's default values
PEERING_RULES = 2  # added by kopf peering: list/watch the peering objects, patch the chart's one
RULES = {"default": DEFAULT_RULES, "peering": DEFAULT_RULES + PEERING_RULES}
# Each default rule is removed with the default values; the peering rules with peering on.
REMOVALS = [("default", i) for i in range(DEFAULT_RULES)] + [
    ("peering", DEFAULT_RULES + i) for i in range(PEERING_RULES)
]


@pytest.mark.parametrize(("variant", "index"), REMOVALS)
def test_each_rule_is_needed(cluster: ControlPlane, tmp_path: Path, variant: str, index: int) -> None:
    values, env = VARIANTS[variant]
    rbac = render_rbac(cluster, values)
    role = _rule_of(rbac, "ClusterRole")
    removed = role["rules"][index]
    reduced = copy.deepcopy(rbac)
    del _rule_of(reduced, "ClusterRole")["rules"][index]
    events, completed = lifecycle(cluster, tmp_path, f"rbac-{variant}-without-{index}", reduced, env)
    refused = {_key(e) for e in events if e.get("responseStatus", {}).get("code") == 403}
    expected = {
        (g, r, v) for g in removed["apiGroups"] for r in removed["resources"] for v in removed["verbs"]
    }
    assert refused & expected, f"without {removed} nothing was refused (completed={completed})"
