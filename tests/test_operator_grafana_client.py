"""Dashboard sinks: labelled ConfigMaps on the Kubernetes API emulator, Grafana's HTTP API on a
local HTTP server that records what a Grafana would receive."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
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


def _grafana(httpserver: HTTPServer, boards: dict[str, dict[str, Any]]) -> list[tuple[str, str, Any, str]]:
    """A Grafana that keeps dashboards by uid in `boards`; returns the requests it received."""
    received: list[tuple[str, str, Any, str]] = []

    def record(request: Request) -> Response:
        body = request.get_json(silent=True)
        received.append((request.method, request.path, body, request.headers.get("Authorization", "")))
        if request.path == "/api/folders":
            status = 200 if len(received) == 1 else 409  # second time: the folder exists
            return Response(json.dumps({"uid": body["uid"]}), status=status)
        if request.path.startswith("/api/dashboards/uid/"):
            uid = request.path.rsplit("/", 1)[-1]
            if uid not in boards:
                return Response(json.dumps({"message": "Dashboard not found"}), status=404)
            if request.method == "DELETE":
                del boards[uid]
                return Response("{}")
            return Response(json.dumps({"dashboard": boards[uid], "meta": {}}))
        boards[body["dashboard"]["uid"]] = body["dashboard"]
        return Response(
            json.dumps({"uid": body["dashboard"]["uid"], "url": "/d/ro-abc/bm", "status": "success"})
        )

    for path in ("/api/folders", "/api/dashboards/db", "/api/dashboards/uid/ro-abc"):
        httpserver.expect_request(path).respond_with_handler(record)
    return received


def test_api_mode_creates_the_folder_and_overwrites_by_uid(httpserver: HTTPServer) -> None:
    boards: dict[str, dict[str, Any]] = {}
    received = _grafana(httpserver, boards)
    root = httpserver.url_for("/").rstrip("/")
    sink = ApiDashboards(root, "glsa_token")
    assert sink.ensure(REF, "ro-abc", "ReviewOps", MODEL) == f"{root}/d/ro-abc/bm"
    sink.ensure(REF, "ro-abc", "ReviewOps", MODEL)
    assert boards["ro-abc"]["tags"] == ["reviewops"]  # the mark that the operator wrote it
    sink.remove(REF, "ro-abc")
    sink.remove(REF, "ro-abc")
    assert boards == {}
    saved = [r for r in received if r[1] == "/api/dashboards/db"]
    assert len(saved) == 2
    payload = saved[0][2]
    assert payload["overwrite"] is True and payload["folderUid"] == folder_uid("ReviewOps")
    assert payload["dashboard"]["uid"] == "ro-abc" and payload["dashboard"]["id"] is None
    assert all(r[3] == "Bearer glsa_token" for r in received)


def test_api_mode_never_overwrites_or_deletes_a_dashboard_it_did_not_make(httpserver: HTTPServer) -> None:
    foreign = {"uid": "ro-abc", "title": "Finance KPIs", "tags": ["finance"], "panels": []}
    boards: dict[str, dict[str, Any]] = {"ro-abc": dict(foreign)}
    received = _grafana(httpserver, boards)
    sink = ApiDashboards(httpserver.url_for("/").rstrip("/"), "glsa_token")
    for attempt in (
        lambda: sink.ensure(REF, "ro-abc", "ReviewOps", MODEL),
        lambda: sink.remove(REF, "ro-abc"),
    ):
        with pytest.raises(ExternalError) as conflict:
            attempt()
        assert conflict.value.reason == "DashboardConflict" and not conflict.value.transient
        assert "Finance KPIs" in conflict.value.message and REF.key in conflict.value.message
    assert boards == {"ro-abc": foreign}
    assert not [r for r in received if r[0] in ("DELETE",) or r[1] == "/api/dashboards/db"]


def test_api_mode_reports_a_rejected_token_as_a_configuration_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/folders").respond_with_json({"message": "Unauthorized"}, status=401)
    with pytest.raises(ExternalError) as caught:
        ApiDashboards(httpserver.url_for("/").rstrip("/"), "bad").ensure(REF, "ro-abc", "ReviewOps", MODEL)
    assert caught.value.reason == "GrafanaAuthFailed" and not caught.value.transient


def test_api_mode_reads_a_rotated_token_file_at_the_next_call(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewops_operator.runtime import build_runtime
    from reviewops_operator.settings import Settings

    received = _grafana(httpserver, {})
    token_file = tmp_path / "token"
    token_file.write_text("glsa_first\n", encoding="utf-8")
    for key, value in {
        "REVIEWOPS_AIRFLOW_URL": "http://127.0.0.1:1",
        "REVIEWOPS_AIRFLOW_USERNAME": "admin",
        "REVIEWOPS_AIRFLOW_PASSWORD": "x",
        "REVIEWOPS_MLFLOW_TRACKING_URI": "http://127.0.0.1:1",
        "REVIEWOPS_GRAFANA_MODE": "api",
        "REVIEWOPS_GRAFANA_URL": httpserver.url_for("/").rstrip("/"),
        "REVIEWOPS_GRAFANA_TOKEN_FILE": str(token_file),
    }.items():
        monkeypatch.setenv(key, value)
    sink = build_runtime(Settings.from_env()).deps.dashboards
    assert sink is not None
    sink.ensure(REF, "ro-abc", "ReviewOps", MODEL)
    token_file.write_text("glsa_rotated\n", encoding="utf-8")  # the mounted Secret, rotated: no restart
    sink.ensure(REF, "ro-abc", "ReviewOps", MODEL)
    tokens = [authorization for _, _, _, authorization in received]
    assert tokens[0] == "Bearer glsa_first" and tokens[-1] == "Bearer glsa_rotated"
    assert set(tokens) == {"Bearer glsa_first", "Bearer glsa_rotated"}
