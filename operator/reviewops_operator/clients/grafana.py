"""Grafana dashboards, one per analysis: a sidecar-labelled ConfigMap, or Grafana's HTTP API.

ConfigMap mode is the GitOps-friendly default: Grafana's dashboard sidecar picks up every
ConfigMap labelled `grafana_dashboard: "1"` and files it in the folder named by the
`grafana_folder` annotation. The ConfigMap is owned by its ReviewAnalysis when both live in the
same namespace (ownerReferences cannot cross namespaces); otherwise the finalizer removes it.

A ConfigMap of that name that another analysis (or anybody) made is never changed or deleted:
every write after the first is a JSON patch whose first operation tests the
`reviewops.io/analysis-uid` label, so a foreign object fails the patch (422) and the analysis
gets a `DashboardConflict` condition instead. No `get` permission is needed for that.

API mode writes each dashboard at a uid hashed from the analysis' namespace and name, tagged
`reviewops`; a dashboard found at that uid without the tag is somebody else's, and is neither
overwritten nor deleted (`DashboardConflict` again).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import requests
import urllib3

from reviewops_operator.errors import ExternalError, classify_http, redact, unreachable
from reviewops_operator.identity import (
    MANAGED_BY,
    AnalysisRef,
    dashboard_configmap_name,
    label_value,
    owner_reference,
)

SIDECAR_LABEL = "grafana_dashboard"
FOLDER_ANNOTATION = "grafana_folder"
ANALYSIS_LABEL = "reviewops.io/analysis"
ANALYSIS_NAMESPACE_LABEL = "reviewops.io/analysis-namespace"
ANALYSIS_UID_LABEL = "reviewops.io/analysis-uid"
# The tag of every dashboard the operator writes through Grafana's API (the dashboards of
# dashboards/ carry it): one without it at an analysis' uid is someone else's.
OWNER_TAG = "reviewops"
_MERGE_PATCH = "application/merge-patch+json"
_JSON_PATCH = "application/json-patch+json"


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _ours(ref: AnalysisRef) -> list[dict[str, Any]]:
    """JSON-patch tests that pass only on this analysis' ConfigMap (its uid label)."""
    return [{"op": "test", "path": _pointer("metadata", "labels", ANALYSIS_UID_LABEL), "value": ref.uid}]


def _left_by_a_former_self(ref: AnalysisRef) -> list[dict[str, Any]]:
    """JSON-patch tests that pass on the ConfigMap an earlier analysis of the same namespace and
    name left (deleted and made again: a new uid), which the new one adopts."""
    return [
        {
            "op": "test",
            "path": _pointer("metadata", "labels", "app.kubernetes.io/managed-by"),
            "value": MANAGED_BY,
        },
        {"op": "test", "path": _pointer("metadata", "annotations", ANALYSIS_LABEL), "value": ref.key},
    ]


def owned_update(ref: AnalysisRef, body: dict[str, Any], adopt: bool = False) -> list[dict[str, Any]]:
    """A JSON patch that rewrites `body`'s labels, annotations, owner and data only if ours."""
    meta = body["metadata"]
    ops = _left_by_a_former_self(ref) if adopt else _ours(ref)
    ops += [{"op": "add", "path": f"/metadata/{k}", "value": meta[k]} for k in ("labels", "annotations")]
    if "ownerReferences" in meta:
        ops.append({"op": "add", "path": "/metadata/ownerReferences", "value": meta["ownerReferences"]})
    ops.append({"op": "add", "path": "/data", "value": body["data"]})
    return ops


def dashboard_link(grafana_url: str | None, uid: str) -> str | None:
    """Grafana's short link to a dashboard by uid (`/d/<uid>`), when Grafana's URL is known."""
    return redact(f"{grafana_url}/d/{uid}") if grafana_url else None


def configmap_body(
    ref: AnalysisRef, namespace: str, uid: str, folder: str, dashboard: dict[str, Any]
) -> dict[str, Any]:
    """The dashboard ConfigMap: sidecar label, folder annotation, owner when same namespace."""
    metadata: dict[str, Any] = {
        "name": dashboard_configmap_name(ref),
        "namespace": namespace,
        "labels": {
            SIDECAR_LABEL: "1",
            "app.kubernetes.io/managed-by": MANAGED_BY,
            ANALYSIS_LABEL: label_value(ref.name),
            ANALYSIS_NAMESPACE_LABEL: label_value(ref.namespace),
            **({ANALYSIS_UID_LABEL: ref.uid} if ref.uid else {}),
        },
        "annotations": {FOLDER_ANNOTATION: folder, ANALYSIS_LABEL: ref.key},
    }
    if namespace == ref.namespace and ref.uid:
        metadata["ownerReferences"] = [owner_reference(ref)]
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata,
        "data": {f"{uid}.json": json.dumps(dashboard, sort_keys=True)},
    }


class ConfigMapDashboards:
    """`DashboardSink` writing labelled ConfigMaps with the `kubernetes` client."""

    def __init__(self, api_client: Any, *, namespace: str | None, grafana_url: str | None) -> None:
        from kubernetes import client

        self._core = client.CoreV1Api(api_client)
        self._models: Any = client
        self._namespace = namespace
        self._grafana_url = grafana_url
        self._api_url = str(api_client.configuration.host)

    def _target(self, ref: AnalysisRef) -> tuple[str, str]:
        return self._namespace or ref.namespace, dashboard_configmap_name(ref)

    def _failure(self, what: str, exc: Exception) -> Exception:
        if isinstance(exc, self._models.ApiException):
            body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else exc.body
            return classify_http("Kubernetes", what, self._api_url, int(exc.status or 0), str(body))
        return unreachable("Kubernetes", what, self._api_url, exc)

    def ensure(self, ref: AnalysisRef, uid: str, folder: str, dashboard: dict[str, Any]) -> str | None:
        """Create the ConfigMap, or merge-patch it when it exists (idempotent)."""
        namespace, name = self._target(ref)
        body = configmap_body(ref, namespace, uid, folder, dashboard)
        what = f"writing dashboard ConfigMap {namespace}/{name}"
        try:
            try:
                # A plain dict body: the client serializes it as is (any client version).
                self._core.create_namespaced_config_map(namespace, body, _preload_content=False)
            except self._models.ApiException as exc:
                if exc.status != 409:
                    raise
                if not ref.uid:  # no identity to check (an object without uid: tests only)
                    self._core.patch_namespaced_config_map(
                        name, namespace, body, _content_type=_MERGE_PATCH, _preload_content=False
                    )
                else:
                    self._owned_patch(
                        ref, namespace, name, owned_update(ref, body), owned_update(ref, body, True)
                    )
        except (self._models.ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._failure(what, exc) from exc
        return dashboard_link(self._grafana_url, uid)

    def _owned_patch(
        self, ref: AnalysisRef, namespace: str, name: str, *attempts: list[dict[str, Any]]
    ) -> None:
        """Apply the first patch whose ownership tests pass; a foreign ConfigMap is a conflict."""
        for ops in attempts:
            try:
                self._core.patch_namespaced_config_map(
                    name, namespace, ops, _content_type=_JSON_PATCH, _preload_content=False
                )
                return
            except self._models.ApiException as exc:
                if exc.status != 422:
                    raise
        raise ExternalError(
            "Kubernetes",
            "DashboardConflict",
            f"ConfigMap {namespace}/{name} exists but is not this analysis' dashboard (its label "
            f"{ANALYSIS_UID_LABEL} is not {ref.uid}); nothing was changed: delete or rename that "
            "ConfigMap, or rename the analysis",
            transient=False,
        )

    def remove(self, ref: AnalysisRef, uid: str) -> None:
        """Delete the ConfigMap if it is ours; absent is fine, a foreign one is left alone."""
        namespace, name = self._target(ref)
        what = f"deleting dashboard ConfigMap {namespace}/{name}"
        try:
            if ref.uid:
                # a no-op patch that fails on a foreign ConfigMap
                self._owned_patch(ref, namespace, name, _ours(ref), _left_by_a_former_self(ref))
            self._core.delete_namespaced_config_map(name, namespace, _preload_content=False)
        except self._models.ApiException as exc:
            if exc.status != 404:
                raise self._failure(what, exc) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._failure(what, exc) from exc


def folder_uid(folder: str) -> str:
    """A stable Grafana folder uid for a folder title (≤ 40 characters)."""
    return f"ro-folder-{hashlib.sha256(folder.encode('utf-8')).hexdigest()[:20]}"


class ApiDashboards:
    """`DashboardSink` over Grafana's HTTP API (a service-account token with Editor rights)."""

    def __init__(self, grafana_url: str, token: str | Callable[[], str], *, timeout: float = 10.0) -> None:
        self._url = grafana_url.rstrip("/")
        self._timeout = timeout
        self._session = requests.Session()
        self._token = token  # a callable is read at every call: a rotated Secret file is picked up

    def _send(self, what: str, method: str, path: str, ok: tuple[int, ...], **kwargs: Any) -> Any:
        url = f"{self._url}{path}"
        token = self._token() if callable(self._token) else self._token
        try:
            answer = self._session.request(
                method, url, timeout=self._timeout, headers={"Authorization": f"Bearer {token}"}, **kwargs
            )
        except requests.RequestException as exc:
            raise unreachable("Grafana", what, url, exc) from exc
        if answer.status_code not in ok:
            raise classify_http("Grafana", what, url, answer.status_code, answer.text)
        try:
            return answer.json()
        except ValueError:
            return None

    def ensure(self, ref: AnalysisRef, uid: str, folder: str, dashboard: dict[str, Any]) -> str | None:
        """Create the folder if needed, then POST the dashboard with overwrite (same uid)."""
        parent = folder_uid(folder)
        # 409/412: the folder exists already (Grafana versions differ in the code they use).
        self._send(
            f"creating Grafana folder {folder!r}",
            "POST",
            "/api/folders",
            (200, 409, 412),
            json={"uid": parent, "title": folder},
        )
        self._check_ours(ref, uid, "saving")
        tags = [str(tag) for tag in dashboard.get("tags") or []]
        payload = {
            "dashboard": {
                **dashboard,
                "uid": uid,
                "id": None,
                "tags": tags if OWNER_TAG in tags else [OWNER_TAG, *tags],
            },
            "folderUid": parent,
            "overwrite": True,
            "message": f"reviewops-operator: {ref.key}",
        }
        saved = self._send(
            f"saving dashboard {uid} for {ref.key}", "POST", "/api/dashboards/db", (200,), json=payload
        )
        path = saved.get("url") if isinstance(saved, dict) else None
        if isinstance(path, str) and path.startswith("/"):
            return f"{self._url}{path}"
        return dashboard_link(self._url, uid)

    def _check_ours(self, ref: AnalysisRef, uid: str, doing: str) -> None:
        """A dashboard already at `uid` that the operator did not write (no OWNER_TAG) is a
        conflict: it is neither overwritten nor deleted. Absent is fine."""
        found = self._send(
            f"reading dashboard {uid} before {doing} it", "GET", f"/api/dashboards/uid/{uid}", (200, 404)
        )
        board = found.get("dashboard") if isinstance(found, dict) else None
        if not isinstance(board, dict):  # 404 (Grafana answers a JSON message) or no body
            return
        if OWNER_TAG not in (board.get("tags") or []):
            raise ExternalError(
                "Grafana",
                "DashboardConflict",
                f"Grafana dashboard {uid} ({board.get('title')!r}) exists but was not made by the "
                f"ReviewOps operator (no {OWNER_TAG!r} tag); nothing was changed: delete or move "
                f"that dashboard, or rename the analysis {ref.key}",
                transient=False,
            )

    def remove(self, ref: AnalysisRef, uid: str) -> None:
        """DELETE the dashboard by uid if the operator made it; 404 is fine."""
        self._check_ours(ref, uid, "deleting")
        self._send(
            f"deleting dashboard {uid} of {ref.key}", "DELETE", f"/api/dashboards/uid/{uid}", (200, 404)
        )
