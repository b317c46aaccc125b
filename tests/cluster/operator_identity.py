"""The operator's identity on the real control plane: the chart's ServiceAccount and RBAC.

The RBAC is rendered from charts/reviewops by the built `helm template` (the same manifests a
`helm install` applies), applied server-side, and the operator logs in with a TokenRequest token
of that ServiceAccount — never as admin. With kopf peering (operator.standalone=false) the chart's
peering object comes along, and `install_peering_crds` applies the kopf.dev CRDs of its crds/.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.cluster.controlplane import ControlPlane
from tests.cluster.pki import write_kubeconfig

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "reviewops"
RELEASE, NAMESPACE = "reviewops", "reviewops-system"
SERVICE_ACCOUNT = "reviewops"
PEERING_CRDS = CHART / "crds" / "kopf-peering.yaml"
USERNAME = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"


def install_crd(cluster: ControlPlane) -> None:
    """Apply crds/ server-side (idempotent) and wait until the API serves it."""
    cluster.kubectl("apply", "--server-side", "--field-manager=reviewops-tests", "-f", str(ROOT / "crds"))
    cluster.kubectl("wait", "--for=condition=Established", "crd/reviewanalyses.reviewops.io", "--timeout=60s")


def install_peering_crds(cluster: ControlPlane) -> None:
    """Apply the chart's kopf.dev CRDs (ClusterKopfPeering, KopfPeering) and wait until served."""
    cluster.kubectl("apply", "--server-side", "--field-manager=reviewops-tests", "-f", str(PEERING_CRDS))
    for name in ("clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"):
        cluster.kubectl("wait", "--for=condition=Established", f"crd/{name}", "--timeout=60s")


def render_rbac(cluster: ControlPlane, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The chart's ServiceAccount and RBAC objects (and its peering object when the values turn
    peering on), as `helm template` renders them."""
    peering = (values or {}).get("operator", {}).get("standalone") is False
    command = [
        str(cluster.binaries["helm"]), "template", RELEASE, str(CHART), "--namespace", NAMESPACE,
        "--show-only", "templates/serviceaccount.yaml", "--show-only", "templates/rbac.yaml",
        *(["--show-only", "templates/peering.yaml"] if peering else []), "--values", "-",
    ]  # fmt: skip
    done = subprocess.run(
        command, input=yaml.safe_dump(values or {}), capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"helm template failed: {done.stderr.strip()}")
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def apply_objects(cluster: ControlPlane, objects: list[dict[str, Any]]) -> None:
    """Server-side apply (create or update), as the test's admin."""
    for obj in objects:
        cluster.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=reviewops-tests",
                        "-f", "-", input=json.dumps(obj))  # fmt: skip


def ensure_namespace(cluster: ControlPlane, name: str) -> None:
    """Create a namespace unless it exists."""
    if cluster.kubectl("get", "namespace", name, check=False).startswith("NAME"):
        return
    cluster.kubectl("create", "namespace", name)


def operator_login(
    cluster: ControlPlane, folder: Path, rbac: list[dict[str, Any]] | None = None
) -> dict[str, str]:
    """Install the operator's ServiceAccount + RBAC (`rbac`, default: the chart's) and return
    the environment that makes the operator log in as that ServiceAccount."""
    ensure_namespace(cluster, NAMESPACE)
    apply_objects(cluster, rbac if rbac is not None else render_rbac(cluster))
    token = cluster.service_account_token(NAMESPACE, SERVICE_ACCOUNT)
    config = write_kubeconfig(folder / "operator.kubeconfig", cluster.url, cluster.ca, token=token,
                              user=USERNAME)  # fmt: skip
    return {"KUBECONFIG": str(config), "REVIEWOPS_SCANNING": "true"}
