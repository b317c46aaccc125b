"""The operator on the real control plane, where the emulator cannot follow (tests/cluster).

Optimistic concurrency on status writes (409), deleting a namespace that holds analyses (the
namespace controller deletes them, the finalizer runs, the namespace goes), the real garbage
collector removing a dashboard ConfigMap through its ownerReference, a watch resumed from a
compacted resourceVersion (410 Gone) that kopf recovers from, and a pod made the way Airflow's
KubernetesPodOperator makes it, scheduled onto the kwok node and run to Succeeded.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.cluster.controlplane import NODE_NAME, ControlPlane
from tests.support.e2e import API, KIND, condition, example, wait_event, wait_runs, wait_status
from tests.support.kube_client import ApiError, wait_for
from tests.support.operator_harness import Stack, running_stack
from tests.test_cluster_crd import as_yaml, examples_in

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("mlflow"), cluster=control_plane) as running:
        yield running


def _namespace(stack: Stack, name: str) -> str:
    stack.create_namespace(name)
    return name


def _dashboards(stack: Stack, ns: str) -> list[dict[str, Any]]:
    return [
        c
        for c in stack.client.objects("v1", "ConfigMap", ns)
        if c["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    ]


def _ready(stack: Stack, ns: str, name: str) -> dict[str, Any]:
    return wait_status(stack, ns, name, lambda o: condition(o, "Ready").get("status") == "True", "Ready")


def test_kubectl_apply_then_wait_for_ready(stack: Stack) -> None:
    assert stack.cluster is not None
    ns = _namespace(stack, "kubectl-wait")
    manifest = as_yaml(examples_in(ns, "backmarket-en.yaml"))
    stack.cluster.kubectl("apply", "--server-side", "-f", "-", input=manifest)
    out = stack.cluster.kubectl(
        "wait", "--for=condition=Ready", "ra/backmarket-en", "-n", ns, "--timeout=60s"
    )
    assert "condition met" in out
    row = stack.cluster.kubectl("get", "ra", "backmarket-en", "-n", ns, "--no-headers")
    assert "Back Market" in row and "0 6 * * *" in row, row
    stack.cluster.kubectl("delete", "-f", "-", "--timeout=60s", input=manifest)


def test_a_status_write_with_a_stale_resource_version_is_a_conflict(stack: Stack) -> None:
    ns = _namespace(stack, "conflicts")
    stack.client.create(example("backmarket-en.yaml", ns))
    obj = _ready(stack, ns, "backmarket-en")
    stale = obj["metadata"]["resourceVersion"]
    stack.client.patch(API, KIND, ns, "backmarket-en", {"metadata": {"labels": {"touched": "yes"}}})
    with pytest.raises(ApiError) as conflict:
        stack.client.patch(
            API, KIND, ns, "backmarket-en",
            {"metadata": {"resourceVersion": stale}, "status": {"phase": "Failed"}}, subresource="status",
        )  # fmt: skip
    assert conflict.value.status == 409 and conflict.value.body["reason"] == "Conflict"
    # Written without a precondition, the bogus phase lands; the operator's next pass puts the
    # truth back (its status is level-based, not remembered from its own last write).
    stack.client.patch(API, KIND, ns, "backmarket-en", {"status": {"phase": "Failed"}}, subresource="status")
    stack.client.patch(API, KIND, ns, "backmarket-en", {"metadata": {"annotations": {"nudge": "1"}}})
    wait_status(
        stack,
        ns,
        "backmarket-en",
        lambda o: o["status"].get("phase") not in (None, "Failed"),
        "phase repaired",
    )
    stack.client.delete(API, KIND, ns, "backmarket-en")
    wait_for(lambda: stack.client.get(API, KIND, ns, "backmarket-en") is None, 30, "finalized")


def test_deleting_a_namespace_finalizes_its_analyses(stack: Stack) -> None:
    ns = _namespace(stack, "doomed")
    stack.client.create(example("oneshot-demo.yaml", ns))
    stack.client.create(example("backmarket-en.yaml", ns))
    wait_runs(stack, ns, 1)
    _ready(stack, ns, "oneshot-demo")
    _ready(stack, ns, "backmarket-en")
    started = time.monotonic()
    stack.client.delete("v1", "Namespace", None, ns)
    wait_for(lambda: stack.client.get("v1", "Namespace", None, ns) is None, 90, f"namespace {ns} gone")
    assert time.monotonic() - started < 90
    farewells = [e for e in _events_everywhere(stack) if e.get("involvedObject", {}).get("namespace") == ns]
    assert farewells == [] or all(e["metadata"]["namespace"] == ns for e in farewells)
    assert stack.operator.alive()


def _events_everywhere(stack: Stack) -> list[dict[str, Any]]:
    return stack.client.objects("v1", "Event")


def test_the_garbage_collector_removes_a_dashboard_whose_owner_is_gone(stack: Stack) -> None:
    """Finalizer forced off with the operator stopped: the ownerReference still cleans up."""
    ns = _namespace(stack, "orphans")
    stack.client.create(example("backmarket-en.yaml", ns))
    obj = _ready(stack, ns, "backmarket-en")
    (dashboard,) = wait_for(lambda: _dashboards(stack, ns), 20, "dashboard ConfigMap")
    assert dashboard["metadata"]["ownerReferences"][0]["uid"] == obj["metadata"]["uid"]
    stack.operator.stop()
    try:
        stack.client.delete(API, KIND, ns, "backmarket-en")
        stack.client.patch(API, KIND, ns, "backmarket-en", [{"op": "remove", "path": "/metadata/finalizers"}],
                           content_type="application/json-patch+json")  # fmt: skip
        wait_for(lambda: stack.client.get(API, KIND, ns, "backmarket-en") is None, 20, "analysis gone")
        wait_for(lambda: not _dashboards(stack, ns), 60, "garbage collection of the dashboard ConfigMap")
    finally:
        stack.operator.start()


def _etcd(stack: Stack, method: str, body: dict[str, Any]) -> dict[str, Any]:
    assert stack.cluster is not None
    answer = requests.post(f"{stack.cluster.state.etcd_url}/v3/{method}", json=body, timeout=10)
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def test_watches_resumed_after_an_api_server_restart_get_410_and_kopf_relists(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    """etcd compacted and kube-apiserver restarted (empty watch cache): the operator's watches
    resume from versions the server no longer has, get 410 Gone, re-list, and go on working."""
    assert stack.cluster is not None
    ns = _namespace(stack, "compacted")
    stack.client.create(example("backmarket-en.yaml", ns))
    _ready(stack, ns, "backmarket-en")
    caplog.set_level(logging.DEBUG, logger="kopf")
    for i in range(5):  # move etcd's revision past what the operator has seen
        stack.client.create({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": f"filler-{i}", "namespace": ns}})  # fmt: skip
    revision = int(_etcd(stack, "kv/range", {"key": "AA=="})["header"]["revision"])
    _etcd(stack, "kv/compaction", {"revision": revision, "physical": True})
    stack.cluster.restart_apiserver()
    stack.client.create(example("oneshot-demo.yaml", ns))
    (run,) = wait_runs(stack, ns, 1, timeout=60)
    _ready(stack, ns, "oneshot-demo")
    assert run.conf["analysis"]["name"] == "oneshot-demo"
    restarts = [r.getMessage() for r in caplog.records if "Restarting the watch-stream" in r.getMessage()]
    assert any("reviewanalyses" in m for m in restarts), "no 410 Gone seen on the ReviewAnalysis watch"
    for name in ("backmarket-en", "oneshot-demo"):
        stack.client.delete(API, KIND, ns, name)
    wait_for(lambda: not stack.client.objects(API, KIND, ns), 30, "finalized")


KPO_LABELS = {
    "kubernetes_pod_operator": "True",
    "dag_id": "review_analysis",
    "task_id": "preprocess",
    "run_id": "reviewops-insights-backmarket-en-20261202t0600",
    "try_number": "1",
    "airflow_version": "3.3.2",
    "already_checked": "False",
}


def test_a_pod_made_like_kubernetes_pod_operator_runs_to_succeeded(stack: Stack) -> None:
    ns = _namespace(stack, "workers")
    stack.client.create({"apiVersion": "v1", "kind": "ServiceAccount",
                         "metadata": {"name": "reviewops-analysis", "namespace": ns}})  # fmt: skip
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "review-analysis-preprocess-abc123", "namespace": ns, "labels": KPO_LABELS},
        "spec": {
            "serviceAccountName": "reviewops-analysis",
            "restartPolicy": "Never",
            "containers": [{
                "name": "base",
                "image": "reviewops/analysis:0.1.0",
                "imagePullPolicy": "IfNotPresent",
                "args": ["stage", "preprocess", "--run-id", KPO_LABELS["run_id"]],
                "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
            }],
        },
    }  # fmt: skip
    stack.client.create(pod)
    done = wait_for(
        lambda: (
            (p := stack.client.get("v1", "Pod", ns, pod["metadata"]["name"]))
            and p.get("status", {}).get("phase") == "Succeeded"
            and p
        ),
        60,
        "the pod to succeed on the kwok node",
    )
    assert done["spec"]["nodeName"] == NODE_NAME  # bound by the real kube-scheduler
    assert done["spec"]["serviceAccountName"] == "reviewops-analysis"
    (status,) = done["status"]["containerStatuses"]
    assert status["state"]["terminated"]["exitCode"] == 0
    assert status["image"] == "reviewops/analysis:0.1.0"
    # The ServiceAccount admission plugin mounted a projected token, as on any cluster.
    assert any("projected" in v for v in done["spec"]["volumes"]), json.dumps(done["spec"]["volumes"])[:300]
    # A pod without the label is left Running: only KubernetesPodOperator's pods complete.
    other = {**pod, "metadata": {"name": "long-running", "namespace": ns}}
    stack.client.create(other)
    wait_for(
        lambda: (
            (p := stack.client.get("v1", "Pod", ns, "long-running"))
            and p.get("status", {}).get("phase") == "Running"
        ),
        60,
        "the unlabelled pod to run",
    )
    time.sleep(2)
    assert stack.client.get("v1", "Pod", ns, "long-running")["status"]["phase"] == "Running"  # type: ignore[index]


def test_a_foreign_configmap_with_the_dashboards_name_is_left_alone(stack: Stack) -> None:
    from reviewops_operator.identity import AnalysisRef, dashboard_configmap_name

    ns = _namespace(stack, "squatted")
    name = dashboard_configmap_name(AnalysisRef(namespace=ns, name="backmarket-en"))
    stack.client.create({"apiVersion": "v1", "kind": "ConfigMap", "data": {"theirs": "1"},
                         "metadata": {"name": name, "namespace": ns}})  # fmt: skip
    stack.client.create(example("backmarket-en.yaml", ns))
    obj = wait_status(
        stack,
        ns,
        "backmarket-en",
        lambda o: condition(o, "DashboardReady").get("status") == "False",
        "conflict",
    )
    assert condition(obj, "DashboardReady")["reason"] == "DashboardConflict"
    assert name in condition(obj, "DashboardReady")["message"]
    wait_event(stack, ns, "backmarket-en", "DashboardConflict")
    stack.client.delete(API, KIND, ns, "backmarket-en")
    wait_for(lambda: stack.client.get(API, KIND, ns, "backmarket-en") is None, 30, "finalized")
    kept = stack.client.get("v1", "ConfigMap", ns, name)
    assert kept is not None and kept["data"] == {"theirs": "1"} and "ownerReferences" not in kept["metadata"]
