"""The DAG in kubernetes mode on a real Airflow 3 against the real control plane of tests/cluster.

Airflow (LocalExecutor) runs `review_analysis` with REVIEWOPS_DAG_MODE=kubernetes: every stage is
a KubernetesPodOperator pod, created through REVIEWOPS_POD_KUBECONFIG with the token of a
ServiceAccount whose Role grants only what the operator needs in the runs' namespace. kwok
plays the kubelet: it runs the pods it can schedule and completes those labelled
`kubernetes_pod_operator=True` after ~1 s (tests/cluster/kwok.yaml). A watch on the namespace
records every pod while it exists (succeeded pods are deleted by the DAG).

What this proves: the pods carry the configured image, pull policy and pull secret, per-stage
resources, service account, node selector, env-from Secret and ConfigMap, labels and the
`reviewops stage <name> --run-id <run id>` command; they are scheduled on the node and reach
Succeeded; Airflow marks those tasks successful. What it cannot prove: that the stages work in
the image (no container runs on kwok; tests/test_e2e_airflow.py proves the same commands in
local mode), and publish's XCom: KubernetesPodOperator reads it by exec'ing into its sidecar
while the sidecar runs; kwok ends every container of the pod at once and no kubelet could serve
an exec anyway, so on kwok publish fails at that step ("Checking if xcom sidecar container is
started"), after its pod ran. Pod logs are off (REVIEWOPS_POD_GET_LOGS=false): the API server
would fetch them from a kubelet, which kwok does not serve.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from reviewops.spec import parse_spec
from reviewops_operator.identity import AnalysisRef, oneshot_run_id, run_conf, slot_of
from tests.support.airflow_server import AirflowServer

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.cluster, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "review_analysis"
RUNS_NS = "reviewops-runs"
IMAGE = "registry.example/reviewops/analysis:e2e"
ACCOUNT = "reviewops-analysis"
STAGES = ("validate", "load", "preprocess", "sentiment", "topics", "insights", "publish")
NODE_SELECTOR = {"kubernetes.io/os": "linux", "kwok.x-k8s.io/node": "fake"}
RESOURCES = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}}
SENTIMENT = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "3Gi"}}
# What Airflow's own identity may do in the runs' namespace, and nothing else.
AIRFLOW_ROLE = [
    {
        "apiGroups": [""],
        "resources": ["pods"],
        "verbs": ["create", "get", "list", "watch", "patch", "delete"],
    },
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create", "get"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "list", "watch"]},
]


@dataclass
class PodWatch:
    """Every pod of a namespace as last seen (ADDED/MODIFIED), and the phases it went through."""

    url: str
    session: requests.Session
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    phases: dict[str, list[str]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        version = ""
        while not self._stop.is_set():  # reconnects until stopped; each watch ends after 30 s
            params = {"watch": "1", "timeoutSeconds": "30", "allowWatchBookmarks": "false"}
            if version:
                params["resourceVersion"] = version
            try:
                with self.session.get(self.url, params=params, stream=True, timeout=60) as answer:
                    for line in answer.iter_lines():
                        if self._stop.is_set():
                            return
                        event = json.loads(line)
                        pod = event["object"]
                        version = pod["metadata"].get("resourceVersion", version)
                        if event["type"] in {"ADDED", "MODIFIED"}:
                            name = pod["metadata"]["name"]
                            self.pods[name] = pod
                            phase = pod.get("status", {}).get("phase", "")
                            seen = self.phases.setdefault(name, [])
                            if phase and (not seen or seen[-1] != phase):
                                seen.append(phase)
            except (requests.RequestException, ValueError):
                time.sleep(0.5)

    def stop(self) -> None:
        self._stop.set()

    def of_stage(self, stage: str) -> list[dict[str, Any]]:
        return [
            p
            for p in self.pods.values()
            if p["metadata"].get("labels", {}).get("reviewops.io/stage") == stage
        ]


@dataclass
class KubeRun:
    airflow: AirflowServer
    watch: PodWatch
    run_id: str
    states: dict[str, str | None]
    seconds: float
    audit: list[dict[str, Any]]


def _prepare_namespace(cluster: Any, folder: Path) -> Path:
    """The runs' namespace, the pods' ServiceAccount, Secret and ConfigMap, and Airflow's kubeconfig."""
    from tests.cluster.operator_identity import apply_objects, ensure_namespace
    from tests.cluster.pki import write_kubeconfig

    ensure_namespace(cluster, RUNS_NS)
    meta = {"namespace": RUNS_NS}
    apply_objects(cluster, [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": ACCOUNT, **meta}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "airflow-worker", **meta}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "reviewops-analysis-env", **meta},
         "stringData": {"REVIEWOPS_STORE_URL": "postgresql+psycopg://reviewops@db/reviewops"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "reviewops-analysis-config", **meta},
         "data": {"REVIEWOPS_ARTIFACTS_URL": "/artifacts"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "airflow-pod-runner", **meta}, "rules": AIRFLOW_ROLE},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "airflow-pod-runner", **meta},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "airflow-pod-runner"},
         "subjects": [{"kind": "ServiceAccount", "name": "airflow-worker", "namespace": RUNS_NS}]},
    ])  # fmt: skip
    token = cluster.service_account_token(RUNS_NS, "airflow-worker")
    user = f"system:serviceaccount:{RUNS_NS}:airflow-worker"
    return write_kubeconfig(
        folder / "airflow.kubeconfig", cluster.url, cluster.ca, token=token, namespace=RUNS_NS, user=user
    )


@pytest.fixture(scope="module")
def kube_run(control_plane: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeRun]:
    folder = tmp_path_factory.mktemp("dag-kubernetes")
    kubeconfig = _prepare_namespace(control_plane, folder)
    env = {
        "REVIEWOPS_DAG_MODE": "kubernetes",
        "REVIEWOPS_DAG_RETRIES": "0",
        "REVIEWOPS_POD_IMAGE": IMAGE,
        "REVIEWOPS_POD_IMAGE_PULL_POLICY": "Always",
        "REVIEWOPS_POD_IMAGE_PULL_SECRETS": "registry-creds",
        "REVIEWOPS_POD_NAMESPACE": RUNS_NS,
        "REVIEWOPS_POD_SERVICE_ACCOUNT": ACCOUNT,
        "REVIEWOPS_POD_NODE_SELECTOR": json.dumps(NODE_SELECTOR),
        "REVIEWOPS_POD_RESOURCES": json.dumps(RESOURCES),
        "REVIEWOPS_POD_STAGE_RESOURCES": json.dumps({"sentiment": SENTIMENT}),
        "REVIEWOPS_POD_ENV_FROM_SECRETS": "reviewops-analysis-env",
        "REVIEWOPS_POD_ENV_FROM_CONFIGMAPS": "reviewops-analysis-config",
        "REVIEWOPS_POD_KUBECONFIG": str(kubeconfig),
        "REVIEWOPS_POD_STARTUP_TIMEOUT_SECONDS": "120",
        "REVIEWOPS_POD_GET_LOGS": "false",  # kwok serves no container logs
    }
    airflow = AirflowServer(ROOT / "dags", env, parallelism=2)
    session = requests.Session()
    control_plane.authenticate(session)
    watch = PodWatch(f"{control_plane.url}/api/v1/namespaces/{RUNS_NS}/pods", session)
    watcher = threading.Thread(target=watch.run, name="pod-watch", daemon=True)
    watcher.start()
    try:
        airflow.start()
        airflow.wait()
        airflow.wait_for_dag(DAG_ID)
        ref = AnalysisRef("insights", "remarket-pods", uid="uid-pods", generation=1)
        run_id = oneshot_run_id(ref, 1)
        spec = parse_spec(
            {
                "company": {"name": "ReMarket", "domain": "www.example.com"},
                "source": {"type": "demo", "demoSize": 200},
            }
        )
        airflow.call("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
        started = time.monotonic()
        body = {
            "dag_run_id": run_id,
            "logical_date": None,
            "conf": run_conf(ref, spec, slot_of(run_id), run_id),
        }
        airflow.call("POST", f"/dags/{DAG_ID}/dagRuns", json=body).raise_for_status()
        airflow.wait_for_run(DAG_ID, run_id, 420)
        seconds = time.monotonic() - started
        print(f"\nkubernetes mode: trigger -> run finished: {seconds:.1f} s")
        audit = control_plane.audit_events(f"system:serviceaccount:{RUNS_NS}:airflow-worker")
        yield KubeRun(airflow, watch, run_id, airflow.task_states(DAG_ID, run_id), seconds, audit)
    finally:
        watch.stop()
        airflow.stop()
        airflow.cleanup()
        control_plane.kubectl("delete", "pods", "--all", "-n", RUNS_NS, "--wait=false", check=False)


def test_every_stage_runs_as_a_pod_with_the_configured_settings(kube_run: KubeRun) -> None:
    for stage in STAGES:
        pods = kube_run.watch.of_stage(stage)
        assert len(pods) == 1, (stage, list(kube_run.watch.pods))
        pod = pods[0]
        spec = pod["spec"]
        (base, *sidecars) = spec["containers"]
        assert base["image"] == IMAGE and base["imagePullPolicy"] == "Always"
        assert base["command"] == ["reviewops"]
        assert base["args"][:4] == ["stage", stage, "--run-id", kube_run.run_id]
        if stage == "validate":
            assert (
                json.loads(base["args"][base["args"].index("--conf") + 1])["analysis"]["runId"]
                == kube_run.run_id
            )
        assert base["resources"] == (SENTIMENT if stage == "sentiment" else RESOURCES)
        assert base["envFrom"] == [
            {"secretRef": {"name": "reviewops-analysis-env"}},
            {"configMapRef": {"name": "reviewops-analysis-config"}},
        ]
        assert spec["serviceAccountName"] == ACCOUNT
        assert spec["nodeSelector"] == NODE_SELECTOR and spec["nodeName"] == "kwok-node-0"
        assert spec["imagePullSecrets"] == [{"name": "registry-creds"}]
        labels = pod["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "reviewops-analysis"
        assert labels["kubernetes_pod_operator"] == "True"
        assert "Succeeded" in kube_run.watch.phases[pod["metadata"]["name"]], kube_run.watch.phases
        if stage == "publish":  # the XCom sidecar and the file it reads
            assert base["args"][-2:] == ["--xcom-file", "/airflow/xcom/return.json"]
            assert [c["name"] for c in sidecars] == ["airflow-xcom-sidecar"]
        else:
            assert sidecars == []


def test_airflow_follows_the_pods_and_fails_only_at_the_publish_xcom(kube_run: KubeRun) -> None:
    states = kube_run.states
    assert {s: states[s] for s in STAGES[:-1]} == dict.fromkeys(STAGES[:-1], "success"), states
    validate = kube_run.airflow.task_log(DAG_ID, kube_run.run_id, "validate")
    assert "Waiting for container 'base' state to be completed" in validate, validate[-2000:]
    assert "Deleting pod: reviewops-validate-" in validate  # a succeeded pod is removed
    # kwok runs no container: KubernetesPodOperator reads publish's XCom by exec'ing into the
    # sidecar, which kwok has already marked terminated, so publish fails there and only there
    assert states["publish"] == "failed", states
    publish = kube_run.airflow.task_log(DAG_ID, kube_run.run_id, "publish")
    assert "Checking if xcom sidecar container is started" in publish, publish[-2000:]
    assert "Skipping deleting pod: reviewops-publish-" in publish  # kept for `kubectl logs`


def test_airflow_works_within_its_role_in_the_runs_namespace(kube_run: KubeRun) -> None:
    """Every request Airflow's ServiceAccount made was allowed and stayed in the runs' namespace.

    Measured here (logs off, XCom never reached): get/list/create/patch/delete on pods. A real
    cluster also needs pods/log (REVIEWOPS_POD_GET_LOGS=true) and pods/exec (publish's XCom).
    """
    used = {
        (e["verb"], e["objectRef"].get("resource"), e["objectRef"].get("subresource")) for e in kube_run.audit
    }
    assert {("create", "pods", None), ("get", "pods", None), ("delete", "pods", None)} <= used, used
    granted = {
        (verb, *rule.partition("/")[::2])
        for r in AIRFLOW_ROLE
        for rule in r["resources"]
        for verb in r["verbs"]
    }
    assert {(verb, resource, sub or "") for verb, resource, sub in used} <= granted
    assert {e["objectRef"].get("namespace") for e in kube_run.audit} == {RUNS_NS}
    assert [
        e for e in kube_run.audit if e["responseStatus"]["code"] >= 400 and e["responseStatus"]["code"] != 404
    ] == []
