"""The API emulator behaves like a Kubernetes API server where the operator and kubectl rely on it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support import crd_schema
from tests.support.kube import EmulatorServer, KubeEmulator
from tests.support.kube_client import ApiError, KubeClient

API, KIND, NS = "reviewops.io/v1alpha1", "ReviewAnalysis", "team"
PATH = f"/apis/reviewops.io/v1alpha1/namespaces/{NS}/reviewanalyses"


@pytest.fixture
def kube() -> Iterator[EmulatorServer]:
    with EmulatorServer(KubeEmulator(event_log_size=20)) as server:
        server.call(lambda e: e.install_crd(crd_schema.load_crd()))
        yield server


@pytest.fixture
def client(kube: EmulatorServer) -> KubeClient:
    return KubeClient(kube)


def analysis(name: str = "a", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": KIND,
        "metadata": {"name": name, "namespace": NS},
        "spec": {"company": {"name": "Back Market", "domain": "www.example.com"}, **spec},
    }


def test_create_sets_identity_metadata_and_defaults(client: KubeClient) -> None:
    made = client.create(analysis(status={"phase": "Succeeded"}))
    meta = made["metadata"]
    assert len(meta["uid"]) == 36 and meta["generation"] == 1
    assert meta["creationTimestamp"].endswith("Z") and int(meta["resourceVersion"]) > 0
    assert made["spec"]["timeZone"] == "UTC" and made["spec"]["topics"]["numTopics"] == "auto"
    assert made["spec"]["source"]["languages"] == ["en"]
    assert "status" not in made  # status only comes through the status subresource
    second = client.create(analysis("b"))
    assert second["metadata"]["uid"] != meta["uid"]
    assert int(second["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])


def test_create_conflicts_and_bad_names(client: KubeClient) -> None:
    client.create(analysis())
    with pytest.raises(ApiError) as conflict:
        client.create(analysis())
    assert (conflict.value.status, conflict.value.body["reason"]) == (409, "AlreadyExists")
    with pytest.raises(ApiError) as bad:
        client.create(analysis("Not_A_Name"))
    assert bad.value.status == 422 and bad.value.body["details"]["causes"][0]["field"] == "metadata.name"


def test_generate_name_gives_a_unique_name(client: KubeClient) -> None:
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"generateName": "kopf-event-"}, "reason": "X"}
    names = {client.create(dict(event), NS)["metadata"]["name"] for _ in range(5)}
    assert len(names) == 5 and all(n.startswith("kopf-event-") and len(n) == 16 for n in names)


def test_invalid_custom_resource_is_refused_with_every_field_named(client: KubeClient) -> None:
    with pytest.raises(ApiError) as refused:
        client.create(
            analysis(topics={"numTopics": 101}, concurrencyPolicy="Never", source={"since": "2024-13-01"})
        )
    assert refused.value.status == 422 and refused.value.body["reason"] == "Invalid"
    fields = [c["field"] for c in refused.value.body["details"]["causes"]]
    # "<nil>": the CEL rules skipped because the schema refused the object, as a real server says.
    assert fields == ["spec.concurrencyPolicy", "spec.source.since", "spec.topics.numTopics", "<nil>"]
    assert 'ReviewAnalysis.reviewops.io "a" is invalid' in refused.value.body["message"]
    assert client.get(API, KIND, NS, "a") is None


def test_unknown_fields_strict_is_an_error_otherwise_pruned_with_a_warning(kube: EmulatorServer) -> None:
    body = analysis(scheduel="0 6 * * *")
    strict = requests.post(kube.url + PATH, json=body, params={"fieldValidation": "Strict"}, timeout=5)
    assert strict.status_code == 400 and 'unknown field "spec.scheduel"' in strict.json()["message"]
    lenient = requests.post(kube.url + PATH, json=body, timeout=5)
    assert lenient.status_code == 201
    assert "scheduel" not in lenient.json()["spec"]
    assert lenient.headers["Warning"] == '299 - "unknown field \\"spec.scheduel\\""'


def test_status_is_isolated_from_the_main_resource(client: KubeClient) -> None:
    client.create(analysis())
    updated = client.patch(API, KIND, NS, "a", {"spec": {"suspend": True}, "status": {"phase": "Running"}})
    assert updated["spec"]["suspend"] is True and "status" not in updated
    assert updated["metadata"]["generation"] == 2
    status = client.patch(
        API, KIND, NS, "a", {"spec": {"suspend": False}, "status": {"phase": "Running"}}, subresource="status"
    )
    assert status["status"] == {"phase": "Running"} and status["spec"]["suspend"] is True
    assert status["metadata"]["generation"] == 2  # status writes never bump the generation
    labelled = client.patch(API, KIND, NS, "a", {"metadata": {"labels": {"team": "x"}}})
    assert labelled["metadata"]["generation"] == 2 and labelled["status"] == {"phase": "Running"}


def test_status_writes_are_validated_and_pruned(client: KubeClient) -> None:
    client.create(analysis())
    with pytest.raises(ApiError) as refused:
        client.patch(API, KIND, NS, "a", {"status": {"phase": "Weird"}}, subresource="status")
    assert (
        refused.value.status == 422 and refused.value.body["details"]["causes"][0]["field"] == "status.phase"
    )
    kept = client.patch(
        API, KIND, NS, "a", {"status": {"phase": "Pending", "debug": 1}}, subresource="status"
    )
    assert kept["status"] == {"phase": "Pending"}


def test_no_op_writes_keep_the_resource_version(client: KubeClient) -> None:
    made = client.create(analysis())
    same = client.patch(API, KIND, NS, "a", {"spec": {"suspend": False}})  # the default already
    assert same["metadata"]["resourceVersion"] == made["metadata"]["resourceVersion"]


def test_optimistic_concurrency(kube: EmulatorServer, client: KubeClient) -> None:
    made = client.create(analysis())
    client.patch(API, KIND, NS, "a", {"spec": {"suspend": True}})
    stale = requests.put(f"{kube.url}{PATH}/a", json=made, timeout=5)
    assert stale.status_code == 409 and stale.json()["reason"] == "Conflict"
    version = made["metadata"]["resourceVersion"]
    test_op = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": version},
        {"op": "add", "path": "/metadata/finalizers", "value": ["x/y"]},
    ]
    with pytest.raises(ApiError) as failed:
        client.patch(API, KIND, NS, "a", test_op, content_type="application/json-patch+json")
    assert failed.value.status == 422
    with pytest.raises(ApiError) as unsupported:
        client.patch(API, KIND, NS, "a", {"spec": {}}, content_type="application/strategic-merge-patch+json")
    assert unsupported.value.status == 415


def test_finalizers_hold_deletion_until_removed(client: KubeClient) -> None:
    client.create(
        {**analysis(), "metadata": {"name": "a", "namespace": NS, "finalizers": ["reviewops.io/finalizer"]}}
    )
    deleting = client.delete(API, KIND, NS, "a")
    assert deleting["metadata"]["deletionTimestamp"]
    assert client.get(API, KIND, NS, "a") is not None
    with pytest.raises(ApiError) as refused:
        client.patch(API, KIND, NS, "a", {"metadata": {"finalizers": ["reviewops.io/finalizer", "other/x"]}})
    assert refused.value.status == 422
    client.patch(API, KIND, NS, "a", {"metadata": {"finalizers": None}})
    assert client.get(API, KIND, NS, "a") is None


def test_dependents_are_garbage_collected_with_their_owner(client: KubeClient) -> None:
    owner = client.create(analysis())
    ref = {"apiVersion": API, "kind": KIND, "name": "a", "uid": owner["metadata"]["uid"], "controller": True}
    client.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dash", "ownerReferences": [ref]}}, NS
    )
    client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "free"}}, NS)
    client.delete(API, KIND, NS, "a")
    assert [c["metadata"]["name"] for c in client.objects("v1", "ConfigMap", NS)] == ["free"]


def test_lists_carry_kind_and_honour_selectors(kube: EmulatorServer, client: KubeClient) -> None:
    for name, team in (("a", "x"), ("b", "y"), ("c", "x")):
        client.create(
            {**analysis(name), "metadata": {"name": name, "namespace": NS, "labels": {"team": team}}}
        )
    listing = requests.get(kube.url + PATH, params={"labelSelector": "team=x"}, timeout=5).json()
    assert listing["kind"] == "ReviewAnalysisList" and listing["apiVersion"] == API
    assert [i["metadata"]["name"] for i in listing["items"]] == ["a", "c"]
    assert int(listing["metadata"]["resourceVersion"]) >= 3
    one = requests.get(kube.url + PATH, params={"fieldSelector": "metadata.name=b"}, timeout=5).json()
    assert [i["metadata"]["name"] for i in one["items"]] == ["b"]
    other = requests.get(kube.url + PATH, params={"labelSelector": "team notin (x)"}, timeout=5).json()
    assert [i["metadata"]["name"] for i in other["items"]] == ["b"]


def _watch(kube: EmulatorServer, **params: str) -> list[dict[str, Any]]:
    response = requests.get(
        kube.url + PATH, params={"watch": "true", "timeoutSeconds": "1", **params}, timeout=10
    )
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def test_watches_resume_from_a_resource_version_and_expire(kube: EmulatorServer, client: KubeClient) -> None:
    first = client.create(analysis("a"))
    client.create(analysis("b"))
    client.patch(API, KIND, NS, "a", {"spec": {"suspend": True}})
    fresh = _watch(kube)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in fresh] == [("ADDED", "a"), ("ADDED", "b")]
    resumed = _watch(kube, resourceVersion=first["metadata"]["resourceVersion"])
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in resumed] == [
        ("ADDED", "b"),
        ("MODIFIED", "a"),
    ]
    for i in range(25):  # more than the emulator's event log keeps
        client.create(analysis(f"n{i}"))
    expired = _watch(kube, resourceVersion=first["metadata"]["resourceVersion"])
    assert expired[0]["type"] == "ERROR" and expired[0]["object"]["code"] == 410


def test_server_side_printing_uses_the_printer_columns(kube: EmulatorServer, client: KubeClient) -> None:
    client.create(analysis(schedule="0 6 * * *"))
    status = {"phase": "Succeeded", "results": {"reviews": 12, "negativePercent": 8.5}}
    client.patch(API, KIND, NS, "a", {"status": status}, subresource="status")
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io"
    table = requests.get(kube.url + PATH, headers={"Accept": accept}, timeout=5).json()
    assert table["kind"] == "Table"
    names = [c["name"] for c in table["columnDefinitions"]]
    cells = dict(zip(names, table["rows"][0]["cells"], strict=True))
    assert cells["Name"] == "a" and cells["Company"] == "Back Market" and cells["Schedule"] == "0 6 * * *"
    assert (cells["Phase"], cells["Reviews"], cells["Negative %"], cells["Suspend"]) == (
        "Succeeded",
        12,
        8.5,
        False,
    )
    assert cells["Last Run"] is None and cells["Age"].endswith("s")
    missing = requests.get(f"{kube.url}{PATH}/zzz", headers={"Accept": accept}, timeout=5)
    assert missing.status_code == 404
