"""The CRD on a real kube-apiserver (tests/cluster): what the emulator only imitates.

`kubectl apply --server-side` of crds/ and examples/ with validation on (no --validate=false);
every breakage of the CRD <-> model agreement suite gets the same verdict from the real server
(dry-run, strict field validation) as from the emulator's validator, and the defaults it stores
are the emulator's; `kubectl explain`, printer columns, server-side apply's field manager.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from reviewops.spec import SpecError, parse_spec, spec_to_dict
from tests.cluster.controlplane import ControlPlane
from tests.support.kube_client import load_manifests, wait_for
from tests.test_crd_agreement import FULL_SPEC, breakages, crd_verdict

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
API = "/apis/reviewops.io/v1alpha1"
NS = "crd-tests"


@pytest.fixture(scope="module")
def cluster(control_plane: ControlPlane) -> Iterator[ControlPlane]:
    """The control plane with the CRD applied server-side and Established."""
    control_plane.kubectl(
        "apply", "--server-side", "--field-manager=reviewops-tests", "-f", str(ROOT / "crds")
    )
    control_plane.kubectl(
        "wait", "--for=condition=Established", "crd/reviewanalyses.reviewops.io", "--timeout=60s"
    )
    control_plane.kubectl("create", "namespace", NS)
    yield control_plane
    control_plane.kubectl("delete", "namespace", NS, "--wait=false")


def _session(plane: ControlPlane) -> requests.Session:
    session = requests.Session()
    plane.authenticate(session)
    return session


def _dry_run(session: requests.Session, plane: ControlPlane, spec: Any) -> requests.Response:
    obj = {"apiVersion": "reviewops.io/v1alpha1", "kind": "ReviewAnalysis",
           "metadata": {"name": "probe"}, "spec": spec}  # fmt: skip
    return session.post(
        f"{plane.url}{API}/namespaces/{NS}/reviewanalyses",
        params={"dryRun": "All", "fieldValidation": "Strict"},
        json=obj,
        timeout=10,
    )


def test_crd_is_established_with_its_names(cluster: ControlPlane) -> None:
    crd = json.loads(cluster.kubectl("get", "crd", "reviewanalyses.reviewops.io", "-o", "json"))
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions["Established"] == "True" and conditions["NamesAccepted"] == "True"
    assert "ra" in crd["status"]["acceptedNames"]["shortNames"]
    # A structural schema: the server reports no NonStructuralSchema condition.
    assert "NonStructuralSchema" not in conditions


def examples_in(namespace: str, pattern: str = "*.yaml") -> list[dict[str, Any]]:
    """The ReviewAnalysis documents of examples/, moved to `namespace`."""
    found = [d for p in sorted((ROOT / "examples").glob(pattern))
             for d in load_manifests(p) if d.get("kind") == "ReviewAnalysis"]  # fmt: skip
    for doc in found:
        doc["metadata"]["namespace"] = namespace
    return found


def as_yaml(docs: list[dict[str, Any]]) -> str:
    return "---\n".join(json.dumps(d) + "\n" for d in docs)


def test_every_example_applies_server_side_and_gets_the_models_defaults(cluster: ControlPlane) -> None:
    examples = examples_in(NS)
    out = cluster.kubectl("apply", "--server-side", "-f", "-", input=as_yaml(examples))
    assert len(examples) >= 3 and out.count("serverside-applied") == len(examples), out
    for doc in examples:
        stored = json.loads(
            cluster.kubectl(
                "get", "ra", doc["metadata"]["name"], "-n", NS, "-o", "json", "--show-managed-fields"
            )
        )
        assert stored["spec"] == json.loads(json.dumps(spec_to_dict(parse_spec(doc["spec"])))), doc[
            "metadata"
        ]
        managers = {m["manager"] for m in stored["metadata"]["managedFields"]}
        assert "kubectl" in managers, managers  # server-side apply recorded the field manager


def test_printer_columns_and_explain(cluster: ControlPlane) -> None:
    cluster.kubectl("apply", "--server-side", "-f", "-", input=as_yaml(examples_in(NS, "backmarket-en.yaml")))
    table = cluster.kubectl("get", "ra", "-n", NS)
    header = table.splitlines()[0].split()
    assert header[:3] == ["NAME", "COMPANY", "SCHEDULE"], header
    assert "backmarket-en" in table and "Back Market" in table
    # The CRD's OpenAPI document is published a few seconds after the CRD is Established.
    field = "reviewanalysis.spec.topics.numTopics"
    explained = wait_for(
        lambda: "FIELD: numTopics" in (out := cluster.kubectl("explain", field, check=False)) and out,
        30,
        "kubectl explain to know the CRD",
        every=0.5,
    )
    assert "auto" in explained and "FIELD: numTopics" in explained, explained
    assert "concurrencyPolicy" in cluster.kubectl("explain", "ra.spec")


def test_every_breakage_gets_the_same_verdict_as_the_emulator(cluster: ControlPlane) -> None:
    """~800 broken specs: real server (dry-run, strict) vs tests/support/crd_schema.py."""
    session = _session(cluster)
    disagreements, unnamed, checked = [], [], 0
    for base in (FULL_SPEC, {"company": {"name": "X", "domain": "www.example.com"}}):
        for label, spec in [("as is", base), *breakages(base)]:
            answer = _dry_run(session, cluster, spec)
            assert answer.status_code in (201, 400, 422), (label, answer.status_code, answer.text[:300])
            real_ok = answer.status_code == 201
            emulated_ok, stored = crd_verdict(spec)
            checked += 1
            if real_ok != emulated_ok:
                disagreements.append(
                    f"{label}: real {answer.status_code} {answer.json().get('message', '')[:160]}"
                )
            elif real_ok and stored is not None and answer.json()["spec"] != stored:
                disagreements.append(f"{label}: stored specs differ: {answer.json()['spec']} != {stored}")
            elif not real_ok:
                field = label.split(" ")[0].split(":")[0].split("[")[0].split("{")[0]
                if field != "<spec>" and field.split(".")[-1] not in answer.json().get("message", ""):
                    unnamed.append(f"{label}: {answer.json().get('message', '')[:160]}")
    assert checked > 600
    assert not disagreements, "\n".join(disagreements)
    assert not unnamed, "rejections that do not name the field:\n" + "\n".join(unnamed)


def test_what_the_real_server_taught_the_emulator_and_the_model(cluster: ControlPlane) -> None:
    """Disagreements found against kube-apiserver 1.37, each fixed and pinned here."""
    session = _session(cluster)
    # 1. A whole-number float is an integer: stored as 5. The emulator and the model agree now.
    spec = {"company": {"name": "X", "domain": "www.example.com"}, "source": {"maxReviews": 5.0}}
    answer = _dry_run(session, cluster, spec)
    assert answer.status_code == 201 and answer.json()["spec"]["source"]["maxReviews"] == 5
    assert crd_verdict(spec)[1]["source"]["maxReviews"] == 5  # type: ignore[index]
    assert parse_spec(spec).source.max_reviews == 5
    # 2. A `format: date` string field skips its type check on arrays; the CRD's CEL rule (made
    #    by reviewops_operator.crd for every formatted string) refuses them, naming the field.
    answer = _dry_run(
        session, cluster, {"company": {"name": "X", "domain": "www.example.com"}, "source": {"since": ["x"]}}
    )
    assert answer.status_code == 422, answer.text
    assert "spec.source.since" in answer.json()["message"]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"source": {"type": "file"}}, "spec.source.path"),
        ({"source": {"type": "file", "path": None}}, "spec.source.path"),
        ({"topics": {"minTopics": 9, "maxTopics": 5}}, "spec.topics.minTopics"),
        ({"topics": {"maxTopics": 3}}, "spec.topics.minTopics"),  # against the default minTopics 4
        ({"topics": {"seed": 2**32}}, "spec.topics.seed"),
        ({"source": {"type": "demo", "seed": 2**32}}, "spec.source.seed"),
        # The Grafana sidecar writes dashboards under the folder's path: no way out of its root.
        ({"dashboard": {"folder": "../../etc"}}, "spec.dashboard.folder"),
        ({"dashboard": {"folder": "/var/lib/grafana"}}, "spec.dashboard.folder"),
        ({"dashboard": {"folder": "Team/../.."}}, "spec.dashboard.folder"),
        # A Trustpilot source (the default) names its page by the company's domain.
        ({"company": {"name": "X"}}, "spec.company.domain"),
        ({"company": {"name": "X"}, "source": {"type": "trustpilot"}}, "spec.company.domain"),
    ],
)
def test_cross_field_and_safety_rules_are_enforced_by_the_server_the_emulator_and_the_model(
    cluster: ControlPlane, spec: dict[str, Any], field: str
) -> None:
    full = {"company": {"name": "X", "domain": "www.example.com"}, **spec}
    if "company" in spec:
        full = spec
    answer = _dry_run(_session(cluster), cluster, full)
    assert answer.status_code == 422, answer.text
    assert answer.json()["details"]["causes"][0]["field"] == field, answer.json()["message"]
    assert not crd_verdict(full)[0]
    with pytest.raises(SpecError, match=field.replace(".", r"\.")):
        parse_spec(full)
