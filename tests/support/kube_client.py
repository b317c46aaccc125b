"""A small synchronous Kubernetes REST client for tests (requests), plus polling helpers.

Tests drive the emulator or the real control plane (tests/cluster) over HTTP, as kubectl and the
operator do, so every write goes through the same admission path (schema, status isolation,
generation) as theirs. Resources are found through the server's discovery documents, as kubectl
finds them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import requests
import yaml

T = TypeVar("T")
Json = dict[str, Any]
MERGE = "application/merge-patch+json"


class ApiError(Exception):
    """A non-2xx answer; `status` is the HTTP code, `body` the Kubernetes Status object."""

    def __init__(self, status: int, body: Json) -> None:
        super().__init__(f"{status} {body.get('reason')}: {body.get('message')}")
        self.status = status
        self.body = body


def load_manifests(path: Path) -> list[Json]:
    """The non-empty documents of a YAML file."""
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def wait_for(
    check: Callable[[], T | None], timeout: float = 20.0, what: str = "condition", every: float = 0.05
) -> T:
    """Poll `check` every `every` s until it returns something truthy; TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last value: {last!r})")


class ApiServer(Protocol):
    """What a client needs of an API server: its URL and how to authenticate to it."""

    @property
    def url(self) -> str: ...

    def authenticate(self, session: requests.Session) -> None:
        """Set TLS trust and credentials on `session` (nothing for the plain-HTTP emulator)."""


class KubeClient:
    """CRUD on an API server (emulator or real) by apiVersion/kind/namespace/name."""

    def __init__(self, server: ApiServer) -> None:
        self.server = server
        self.http = requests.Session()
        server.authenticate(self.http)
        self._resources: dict[tuple[str, str], tuple[str, bool]] = {}

    def resource(self, api_version: str, kind: str) -> tuple[str, bool]:
        """(plural, namespaced) of `kind`, from discovery (re-read once on a miss: new CRDs)."""
        key = (api_version, kind)
        if key not in self._resources:
            base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
            listing = self._call("GET", base)
            for found in listing.get("resources", []):
                if "/" not in found["name"]:
                    self._resources[(api_version, found["kind"])] = (found["name"], found["namespaced"])
        if key not in self._resources:
            raise LookupError(f"no resource serves {api_version} {kind}")
        return self._resources[key]

    def path(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str | None = None,
        subresource: str | None = None,
    ) -> str:
        """The REST path of a collection or an object."""
        base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        plural, namespaced = self.resource(api_version, kind)
        parts = [base]
        if namespace is not None and namespaced:
            parts.append(f"namespaces/{namespace}")
        parts.append(plural)
        parts += [p for p in (name, subresource) if p]
        return "/".join(parts)

    def _call(self, method: str, path: str, **kwargs: Any) -> Json:
        response = self.http.request(method, self.server.url + path, timeout=10, **kwargs)
        body: Json = response.json() if response.content else {}
        if response.status_code >= 400:
            raise ApiError(response.status_code, body)
        return body

    def create(self, obj: Json, namespace: str = "default", strict: bool = False) -> Json:
        """POST an object (fieldValidation=Strict when asked, as kubectl's default)."""
        ns = obj.get("metadata", {}).get("namespace", namespace)
        params = {"fieldValidation": "Strict"} if strict else {}
        return self._call("POST", self.path(obj["apiVersion"], obj["kind"], ns), json=obj, params=params)

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Json | None:
        """The object, or None when it does not exist."""
        try:
            return self._call("GET", self.path(api_version, kind, namespace, name))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def objects(self, api_version: str, kind: str, namespace: str | None = None) -> list[Json]:
        """Objects of a kind (one namespace or all)."""
        items: list[Json] = self._call("GET", self.path(api_version, kind, namespace))["items"]
        return items

    def patch(
        self,
        api_version: str,
        kind: str,
        namespace: str,
        name: str,
        patch: Any,
        subresource: str | None = None,
        content_type: str = MERGE,
    ) -> Json:
        """PATCH an object (merge patch by default)."""
        return self._call(
            "PATCH",
            self.path(api_version, kind, namespace, name, subresource),
            json=patch,
            headers={"Content-Type": content_type},
        )

    def delete(self, api_version: str, kind: str, namespace: str, name: str) -> Json:
        """DELETE an object (it may linger while finalizers remain)."""
        return self._call("DELETE", self.path(api_version, kind, namespace, name))

    def apply(self, obj: Json, namespace: str = "default") -> Json:
        """Create, or replace spec, labels and annotations of an existing object (like kubectl apply)."""
        meta = obj.get("metadata", {})
        ns = meta.get("namespace", namespace)
        current = self.get(obj["apiVersion"], obj["kind"], ns, meta["name"])
        if current is None:
            return self.create(obj, ns)
        current["spec"] = obj.get("spec")
        for field in ("labels", "annotations"):
            if field in meta:
                current["metadata"][field] = {**current["metadata"].get(field, {}), **meta[field]}
        path = self.path(obj["apiVersion"], obj["kind"], ns, meta["name"])
        return self._call("PUT", path, json=current)

    def events(self, namespace: str, name: str) -> list[Json]:
        """Core v1 Events about one object, oldest first."""
        items = [
            e
            for e in self.objects("v1", "Event", namespace)
            if e.get("involvedObject", {}).get("name") == name
        ]
        return sorted(items, key=lambda e: e["metadata"]["resourceVersion"].zfill(12))
