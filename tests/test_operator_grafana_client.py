"""Dashboard sinks: labelled ConfigMaps on the Kubernetes API emulator, Grafana's HTTP API on a
local HTTP server that records what a Grafana would receive."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reviewops_operator.clients.grafana import ApiDashboards, ConfigMapDashboards, folder_uid
from reviewops_operator.clients.kube import api_client
from reviewops_operator.errors import ExternalError
from reviewops_operator.identity import AnalysisRef, dashboard_configmap_name
from tests.support.kube import EmulatorServer
from tests.support.kube_client import ApiError, KubeClient

REF = AnalysisRef(namespace="insights", name="backmarket-en", uid="0a1b-uid", generation=1)
MODEL = {"title": "BM", "panels": [{"type": "stat", "title": "Reviews"}]}


@pytest.fixture(scope="module")
def kube() -> Iterator[tuple[EmulatorServer, KubeClient]]:
    with EmulatorServer() as server:
        yield server, KubeClient(server)


def _configmap(client: KubeClient, namespace: str) -> dict[str, Any] | None:
    return client.get("v1", "ConfigMap", namespace, dashboard_configmap_name(REF))


def test_configmap_is_labelled_for_the_sidecar_owned_and_updated_in_place(
    kube: tuple[EmulatorServer, KubeClient],
) -> None:
    server, client = kube
    sink = ConfigMapDashboards(api_client(server.url), namespace=None, grafana_url="https://grafana.example")
    url = sink.ensure(REF, "ro-abc", "ReviewOps", MODEL)
    assert url == "https://grafana.example/d/ro-abc"
    stored = _configmap(client, "insights")
    assert stored is not None
    meta = stored["metadata"]
    assert meta["labels"]["grafana_dashboard"] == "1"
    assert meta["annotations"]["grafana_folder"] == "ReviewOps"
    assert meta["ownerReferences"][0]["uid"] == "0a1b-uid"
    assert json.loads(stored["data"]["ro-abc.json"]) == MODEL
    version = meta["resourceVersion"]
    sink.ensure(REF, "ro-abc", "Insights", {**MODEL, "title": "BM v2"})  # idempotent update
    updated = _configmap(client, "insights")
    assert updated is not None and updated["metadata"]["resourceVersion"] != version
    assert updated["metadata"]["annotations"]["grafana_folder"] == "Insights"
    assert json.loads(updated["data"]["ro-abc.json"])["title"] == "BM v2"
    sink.remove(REF, "ro-abc")
    sink.remove(REF, "ro-abc")  # already gone: fine
    assert _configmap(client, "insights") is None


def test_a_configmap_of_that_name_made_by_someone_else_is_never_changed_or_deleted(
    kube: tuple[EmulatorServer, KubeClient],
) -> None:
    server, client = kube
    name = dashboard_configmap_name(REF)
    foreign = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": {"mine.json": "{}"},
        "metadata": {"name": name, "namespace": "shared", "labels": {"grafana_dashboard": "1"}},
    }
    client.create(foreign)
    sink = ConfigMapDashboards(api_client(server.url), namespace="shared", grafana_url=None)
    for attempt in (
        lambda: sink.ensure(REF, "ro-abc", "ReviewOps", MODEL),
        lambda: sink.remove(REF, "ro-abc"),
    ):
        with pytest.raises(ExternalError) as refused:
            attempt()
        assert refused.value.reason == "DashboardConflict" and not refused.value.transient
        assert f"shared/{name}" in refused.value.message
    kept = client.get("v1", "ConfigMap", "shared", name)
    assert kept is not None and kept["data"] == {"mine.json": "{}"}  # untouched
    # An analysis deleted and made again (same namespace and name, a new uid) adopts the
    # dashboard its former self left behind.
    client.delete("v1", "ConfigMap", "shared", name)
    former = AnalysisRef(namespace=REF.namespace, name=REF.name, uid="former-uid", generation=1)
    sink.ensure(former, "ro-abc", "ReviewOps", MODEL)
    sink.ensure(REF, "ro-abc", "Insights", MODEL)
    adopted = client.get("v1", "ConfigMap", "shared", name)
    assert adopted is not None and adopted["metadata"]["labels"]["reviewops.io/analysis-uid"] == REF.uid
    assert adopted["metadata"]["annotations"]["grafana_folder"] == "Insights"
    sink.remove(REF, "ro-abc")
    assert client.get("v1", "ConfigMap", "shared", name) is None


def test_configmap_in_a_shared_namespace_has_no_cross_namespace_owner(
    kube: tuple[EmulatorServer, KubeClient],
) -> None:
    server, client = kube
    sink = ConfigMapDashboards(api_client(server.url), namespace="monitoring", grafana_url=None)
    assert sink.ensure(REF, "ro-abc", "ReviewOps", MODEL) is None
    stored = _configmap(client, "monitoring")
    assert stored is not None and "ownerReferences" not in stored["metadata"]
    assert stored["metadata"]["annotations"]["reviewops.io/analysis"] == "insights/backmarket-en"
    sink.remove(REF, "ro-abc")
    with pytest.raises(ApiError):
        client.delete("v1", "ConfigMap", "monitoring", dashboard_configmap_name(REF))


def test_unreachable_kubernetes_api_is_transient() -> None:
    sink = ConfigMapDashboards(api_client("http://127.0.0.1:9"), namespace=None, grafana_url=None)
    with pytest.raises(ExternalError) as caught:
        sink.ensure(REF, "ro-abc", "ReviewOps", MODEL)
    assert caught.value.transient and "insights/" in caught.value.message


def test_api_mode_creates_the_folder_and_overwrites_by_uid(httpserver: HTTPServer) -> None:
    received: list[tuple[str, str, Any, str]] = []

    def record(request: Request) -> Response:
        body = request.get_json(silent=True)
        received.append((request.method, request.path, body, request.headers.get("Authorization", "")))
        if request.path == "/api/folders":
            status = 200 if len(received) == 1 else 409  # second time: the folder exists
            return Response(json.dumps({"uid": body["uid"]}), status=status)
        if request.method == "DELETE":
            return Response("{}", status=404 if sum(r[0] == "DELETE" for r in received) > 1 else 200)
        return Response(
            json.dumps({"uid": body["dashboard"]["uid"], "url": "/d/ro-abc/bm", "status": "success"})
        )

    httpserver.expect_request("/api/folders").respond_with_handler(record)
    httpserver.expect_request("/api/dashboards/db").respond_with_handler(record)
    httpserver.expect_request("/api/dashboards/uid/ro-abc").respond_with_handler(record)
    root = httpserver.url_for("/").rstrip("/")
    sink = ApiDashboards(root, "glsa_token")
    assert sink.ensure(REF, "ro-abc", "ReviewOps", MODEL) == f"{root}/d/ro-abc/bm"
    sink.ensure(REF, "ro-abc", "ReviewOps", MODEL)
    sink.remove(REF, "ro-abc")
    sink.remove(REF, "ro-abc")
    saved = [r for r in received if r[1] == "/api/dashboards/db"]
    assert len(saved) == 2
    payload = saved[0][2]
    assert payload["overwrite"] is True and payload["folderUid"] == folder_uid("ReviewOps")
    assert payload["dashboard"]["uid"] == "ro-abc" and payload["dashboard"]["id"] is None
    assert all(r[3] == "Bearer glsa_token" for r in received)


def test_api_mode_reports_a_rejected_token_as_a_configuration_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/folders").respond_with_json({"message": "Unauthorized"}, status=401)
    with pytest.raises(ExternalError) as caught:
        ApiDashboards(httpserver.url_for("/").rstrip("/"), "bad").ensure(REF, "ro-abc", "ReviewOps", MODEL)
    assert caught.value.reason == "GrafanaAuthFailed" and not caught.value.transient
