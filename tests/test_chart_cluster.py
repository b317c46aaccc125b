"""The chart on the real control plane (tests/cluster): every manifest accepted by the API
server's validation (server-side dry-run), then a real `helm install` / `helm uninstall`.

ServiceMonitor and PrometheusRule are validated by the Prometheus Operator's own CRDs (v0.85.0,
vendored unmodified in tests/data/prometheus-operator/), and the peering objects by the chart's
kopf.dev CRDs, installed first: nothing is skipped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.controlplane import ControlPlane
from tests.support.helm import CHART, ROOT, full_values, helm, render

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

PROMETHEUS_CRDS = ROOT / "tests" / "data" / "prometheus-operator"
CRD = "reviewanalyses.reviewops.io"


def ensure_namespace(cluster: ControlPlane, name: str) -> None:
    if not cluster.kubectl("get", "namespace", name, "--ignore-not-found", check=False).strip():
        cluster.kubectl("create", "namespace", name)


@pytest.fixture(scope="module")
def cluster(control_plane: ControlPlane) -> Iterator[ControlPlane]:
    """The control plane with the monitoring.coreos.com and kopf.dev CRDs the chart's optional
    kinds need (a server-side dry-run of a CRD does not serve its kind)."""
    for path in [*sorted(PROMETHEUS_CRDS.glob("*.yaml")), CHART / "crds" / "kopf-peering.yaml"]:
        control_plane.kubectl("apply", "--server-side", "--field-manager=reviewops-tests", "-f", str(path))
    for name in ("servicemonitors", "prometheusrules"):
        control_plane.kubectl(
            "wait", "--for=condition=Established", f"crd/{name}.monitoring.coreos.com", "--timeout=60s"
        )
    for name in ("clusterkopfpeerings", "kopfpeerings"):
        control_plane.kubectl("wait", "--for=condition=Established", f"crd/{name}.kopf.dev", "--timeout=60s")
    yield control_plane


def dry_run(cluster: ControlPlane, manifests: list[dict[str, Any]]) -> str:
    """Server-side apply of every manifest with --dry-run=server: admission, schema, RBAC."""
    listing = {"apiVersion": "v1", "kind": "List", "items": manifests}
    return cluster.kubectl(
        "apply", "--server-side", "--dry-run=server", "--field-manager=reviewops-chart-test",
        "--force-conflicts", "-o", "name", "-f", "-", input=json.dumps(listing),
    )  # fmt: skip


@pytest.mark.parametrize("values", ["default", "full"])
def test_every_rendered_manifest_passes_server_side_dry_run(cluster: ControlPlane, values: str) -> None:
    namespace = f"chart-dry-{values}"
    chosen = full_values() if values == "full" else {}
    for name in (namespace, "monitoring", *chosen.get("operator", {}).get("namespaces", [])):
        ensure_namespace(cluster, name)  # the full values' KopfPeerings go to the watched namespaces
    manifests = render(chosen, release="dry", namespace=namespace, include_crds=True)
    kinds = {m["kind"] for m in manifests}
    assert "CustomResourceDefinition" in kinds
    if values == "full":
        assert {"ServiceMonitor", "PrometheusRule", "KopfPeering"} <= kinds
    accepted = dry_run(cluster, manifests).split()
    assert len(accepted) == len(manifests), accepted


def test_dry_run_catches_what_the_schemas_refuse(cluster: ControlPlane) -> None:
    """The dry-run really validates the monitoring kinds: a bad ServiceMonitor is refused."""
    ensure_namespace(cluster, "monitoring")
    monitor = next(m for m in render(full_values(), release="dry") if m["kind"] == "ServiceMonitor")
    monitor["spec"]["endpoints"][0]["honorLabels"] = "yes"
    with pytest.raises(RuntimeError, match="honorLabels"):
        dry_run(cluster, [monitor])


def test_helm_install_establishes_the_crd_and_uninstall_removes_the_release(
    cluster: ControlPlane, tmp_path: Path
) -> None:
    release = namespace = "chart-install"
    ensure_namespace(cluster, namespace)
    cluster.kubectl(
        "create", "secret", "generic", "reviewops-airflow", "-n", namespace,
        "--from-literal=username=reviewops", "--from-literal=password=not-a-real-one",
    )  # fmt: skip
    values = {
        "metrics": {
            "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
            "prometheusRule": {"enabled": True},
        },
        "resultsDatasource": {"enabled": True},
    }
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(values), encoding="utf-8")
    kube = ["--kubeconfig", str(cluster.admin_kubeconfig), "--namespace", namespace]
    installed = helm(
        "install", release, str(CHART), *kube, "--values", str(tmp_path / "values.yaml"),
        "--wait", "--timeout", "180s",
    )  # fmt: skip
    assert "STATUS: deployed" in installed.stdout, installed.stdout
    cluster.kubectl("wait", "--for=condition=Established", f"crd/{CRD}", "--timeout=60s")
    ready = json.loads(
        cluster.kubectl("get", "deployment", f"{release}-reviewops", "-n", namespace, "-o", "json")
    )
    assert ready["status"].get("readyReplicas") == 1
    objects = {
        ("serviceaccount", f"{release}-reviewops"),
        ("service", f"{release}-reviewops"),
        ("deployment", f"{release}-reviewops"),
        ("configmap", f"{release}-reviewops-dashboards"),
        ("configmap", f"{release}-reviewops-dashboard-template"),
        ("configmap", f"{release}-reviewops-results-datasource"),
        ("servicemonitor", f"{release}-reviewops"),
        ("prometheusrule", f"{release}-reviewops"),
    }
    for kind, name in objects:
        assert cluster.kubectl("get", kind, name, "-n", namespace, "-o", "name").strip(), (kind, name)
    for kind in ("clusterrole", "clusterrolebinding"):
        assert cluster.kubectl("get", kind, f"{release}-reviewops", "-o", "name").strip()
    # The operator can be given an analysis right away: the CRD is served.
    example = yaml.safe_load((ROOT / "examples" / "oneshot-demo.yaml").read_text(encoding="utf-8"))
    example["metadata"]["namespace"] = namespace
    cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=json.dumps(example))

    listed = helm("list", *kube, "-o", "json")
    assert [r["name"] for r in json.loads(listed.stdout)] == [release]
    helm("uninstall", release, *kube, "--wait", "--timeout", "120s")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        left = [
            (kind, name)
            for kind, name in objects
            if cluster.kubectl("get", kind, name, "-n", namespace, "--ignore-not-found", "-o", "name").strip()
        ]
        if not left:
            break
        time.sleep(0.5)
    assert not left, f"left behind by helm uninstall: {left}"
    for kind in ("clusterrole", "clusterrolebinding"):
        assert not cluster.kubectl(
            "get", kind, f"{release}-reviewops", "--ignore-not-found", "-o", "name"
        ).strip()
    # Helm never deletes CRDs from crds/ (that would delete every ReviewAnalysis with them).
    assert (
        cluster.kubectl("get", "crd", CRD, "-o", "name").strip()
        == f"customresourcedefinition.apiextensions.k8s.io/{CRD}"
    )
    cluster.kubectl("delete", "namespace", namespace, "--wait=false")


def test_helm_install_with_peering_creates_the_peering_object_and_keeps_kopfs_crds(
    cluster: ControlPlane, tmp_path: Path
) -> None:
    """Two replicas with kopf peering: the ClusterKopfPeering comes and goes with the release;
    kopf's CRDs (shared with every kopf operator; Helm skips them when present) stay."""
    release = namespace = "chart-peering"
    ensure_namespace(cluster, namespace)
    values = {"replicas": 2, "operator": {"standalone": False, "peeringName": "chart-peering"}}
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(values), encoding="utf-8")
    kube = ["--kubeconfig", str(cluster.admin_kubeconfig), "--namespace", namespace]
    helm("install", release, str(CHART), *kube, "--values", str(tmp_path / "values.yaml"))
    peering = json.loads(cluster.kubectl("get", "clusterkopfpeering", "chart-peering", "-o", "json"))
    assert peering["metadata"]["labels"]["app.kubernetes.io/instance"] == release
    deployment = json.loads(
        cluster.kubectl("get", "deployment", f"{release}-reviewops", "-n", namespace, "-o", "json")
    )
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    helm("uninstall", release, *kube, "--wait", "--timeout", "120s")
    left = cluster.kubectl("get", "clusterkopfpeering", "chart-peering", "--ignore-not-found", "-o", "name")
    assert not left.strip(), "the peering object belongs to the release"
    for crd in ("clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"):
        assert cluster.kubectl("get", "crd", crd, "-o", "name").strip()
    cluster.kubectl("delete", "namespace", namespace, "--wait=false")


def test_quickstart_manifests_pass_server_side_dry_run(cluster: ControlPlane) -> None:
    """The quickstart's own manifests and its chart values (Minikube itself cannot run here)."""
    quickstart = CHART / "quickstart"
    for name in ("reviewops-data", "airflow", "monitoring", "reviewops-system"):
        ensure_namespace(cluster, name)
    backends = [
        d for d in yaml.safe_load_all((quickstart / "backends.yaml").read_text(encoding="utf-8")) if d
    ]
    values = yaml.safe_load((quickstart / "reviewops-values.yaml").read_text(encoding="utf-8"))
    manifests = backends + render(values, release="reviewops-quickstart", namespace="reviewops-system")
    accepted = dry_run(cluster, manifests).split()
    assert len(accepted) == len(manifests), accepted
