"""A Kubernetes API emulator for tests: kmock's emulator plus the object semantics kopf relies on.

Added to `kmock.KubernetesEmulator` (which keeps serving discovery, get, list and watch):
- `metadata.uid`, `resourceVersion` (one counter, bumped on every change, not on no-op patches),
  `generation` (custom resources: 1 on create, +1 when anything outside metadata/status changes),
  `creationTimestamp`, `generateName`, DNS-1123 name checks;
- merge patch, JSON patch (a failed `test` op answers 422, as kopf expects), PUT with a
  resourceVersion precondition (409 when stale); strategic merge patch is a merge patch for
  built-in kinds and 415 for custom resources, as on a real server;
- the status subresource: `/status` writes change only `.status`, main-resource writes keep it;
- deletion: finalizers set `deletionTimestamp`, removing the last one deletes, new finalizers are
  refused while deleting; dependents listed in `ownerReferences` are deleted with their owner;
- 409 AlreadyExists on create, 422 Invalid (naming each field) when a custom resource fails the
  CRD's openAPIV3Schema, with pruning, defaulting and strict field validation
  (tests/support/crd_schema.py); server-side printing (`as=Table`) with the CRD's printer columns.

- lists with `kind`/`apiVersion` and the current resourceVersion; label selectors (=, ==, !=,
  exists, in, notin) and field selectors on lists, watches and tables; watches that resume from a
  resourceVersion (a bounded event log; older than the log answers an ERROR 410 Expired event),
  honour `timeoutSeconds`, and replay current objects as ADDED when started without a version;
- the OpenAPI v3 documents of installed CRDs, so `kubectl explain` works.

The real control plane of tests/cluster runs the same end-to-end suites and checks what this
emulator leaves out; where the two disagreed, this emulator was changed (whole-number floats are
integers; a "<nil>" cause when CEL rules are skipped) — tests/cluster/README.md lists them.

Not emulated (a real API server does these): namespace existence and deletion, field selectors
restricted to the fields each kind supports (any dotted path works here), watch bookmarks,
pagination (`limit`/`continue` return everything), server-side apply, managedFields, RBAC,
admission webhooks, CEL validation, validation of built-in kinds, garbage collection delays
(dependents go at once), OpenAPI v2 and built-in kinds in OpenAPI v3 (`kubectl apply` needs
`--validate=false`), and `deletecollection`.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar, cast

import aiohttp.web
import attrs
import kmock
from kmock._internal.rendering import Request

from tests.support import crd_schema
from tests.support.kube_read import render_table, selected
from tests.support.kube_write import CustomResource, Json, WriteSemantics, not_found

T = TypeVar("T")


@attrs.define(kw_only=True)
class KubeEmulator(WriteSemantics, kmock.KubernetesEmulator):
    """kmock's Kubernetes emulator with honest object metadata, status and validation."""

    history_limit: int = 20  # versions kept per object (kmock keeps all; the bench makes many)
    event_log_size: int = 5000  # watch events kept per resource for resuming watches
    _crds: dict[kmock.resource, CustomResource] = attrs.field(factory=dict, init=False)
    _version: int = attrs.field(default=0, init=False)  # the last resourceVersion handed out
    _log: dict[kmock.resource, collections.deque[tuple[int, Json]]] = attrs.field(factory=dict, init=False)
    _warnings: list[str] = attrs.field(factory=list, init=False)  # of the request being served

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.resources.load_bundled()

    def install_crd(self, crd: Json) -> kmock.resource:
        """Serve a CustomResourceDefinition: discovery, schema checks, printer columns."""
        spec = crd["spec"]
        version = crd_schema.storage_version(crd)
        res = kmock.resource(spec["group"], version["name"], spec["names"]["plural"])
        self.resources[res] = kmock.ResourceInfo(
            namespaced=spec["scope"] == "Namespaced",
            kind=spec["names"]["kind"],
            singular=spec["names"]["singular"],
            shortnames=spec["names"].get("shortNames", []),
            categories=spec["names"].get("categories", []),
            subresources=list(version.get("subresources", {})),
            verbs=["create", "delete", "get", "list", "patch", "update", "watch"],
        )
        self._crds[res] = CustomResource(
            kind=spec["names"]["kind"],
            group=spec["group"],
            schema=version["schema"]["openAPIV3Schema"],
            columns=version.get("additionalPrinterColumns", []),
            has_status="status" in version.get("subresources", {}),
        )
        return res

    def resource_for(self, api_version: str, kind: str) -> kmock.resource:
        """The resource (group, version, plural) serving a kind."""
        group, _, version = api_version.rpartition("/")
        for res in self.resources:
            if res.group == group and res.version == version and self.resources[res].kind == kind:
                return res
        raise LookupError(f"no resource serves {api_version} {kind}")

    def live_objects(self, res: kmock.resource) -> list[Json]:
        """Copies of all stored objects of a resource, by namespace and name."""
        found = [copy.deepcopy(o.raw) for (r, _, _), o in self.objects.items() if r == res and not o.deleted]
        return sorted(found, key=lambda o: (o["metadata"].get("namespace") or "", o["metadata"]["name"]))

    def _visible(self, request: Request) -> list[Json]:
        return [o for o in self.live_objects(_resource(request)) if _in_scope(o, request)]

    # --- request dispatch --------------------------------------------------------------------

    async def _serve_version(self, request: Request) -> Any:
        # kmock repeats a resource's short names on its subresources; kubectl then warns that
        # `ra` is ambiguous. A real server lists subresources without names or categories.
        listing = cast(Json, await super()._serve_version(request))
        for entry in listing["resources"]:
            if "/" in entry["name"]:
                entry.update(shortNames=[], categories=[], verbs=["get", "patch", "update"])
        return listing

    async def _serve_list(self, request: Request) -> Any:
        res = _resource(request)
        if res not in self.resources:
            raise kmock.KubernetesResourceNotFoundError()
        async with self._lock:
            items = self._visible(request)
            version = str(self._version)
        api_version = res.version if res.group == "" else f"{res.group}/{res.version}"
        kind = f"{self.resources[res].kind}List"
        return {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"resourceVersion": version},
            "items": items,
        }

    async def _serve_watch(self, request: Request) -> AsyncIterator[Any]:
        yield b""  # send the headers now: a watch may stay silent for a long time
        res = _resource(request)
        bus = self._buses[res]
        since = request.params.get("resourceVersion", "")
        async with self._lock:  # writers hold it too: nothing slips between backlog and mark
            mark = await bus.mark()
            log = self._log.get(res, collections.deque())
            backlog: list[Json]
            if since in ("", "0"):
                backlog = [{"type": "ADDED", "object": o} for o in self._visible(request)]
            elif len(log) == log.maxlen and int(since) < log[0][0] - 1:
                backlog = [_expired(since)]
            else:
                backlog = [copy.deepcopy(e) for rv, e in log if rv > int(since)]
        loop = asyncio.get_running_loop()
        timeout = request.params.get("timeoutSeconds")
        deadline = loop.time() + float(timeout) if timeout else None
        try:
            for event in backlog:
                if event["type"] == "ERROR" or _in_scope(event["object"], request):
                    yield event
                if event["type"] == "ERROR":
                    return
            while deadline is None or loop.time() < deadline:
                remaining = None if deadline is None else deadline - loop.time()
                try:
                    event = await asyncio.wait_for(bus.get(since=mark), remaining)
                except TimeoutError:
                    return
                if _in_scope(event["object"], request):
                    yield event
        finally:
            await bus.unmark(mark)

    def _openapi(self, path: str) -> Json | None:
        """OpenAPI v3 documents of the installed CRDs (what `kubectl explain` reads), else None."""
        groups = {f"apis/{c.group}/{r.version}": (r, c) for r, c in self._crds.items()}
        if path == "/openapi/v3":
            return {"paths": {g: {"serverRelativeURL": f"/openapi/v3/{g}"} for g in groups}}
        found = groups.get(path.removeprefix("/openapi/v3/"))
        if found is None:
            return None
        res, crd = found
        gvk = [{"group": crd.group, "version": res.version, "kind": crd.kind}]
        name = ".".join([*reversed(crd.group.split(".")), str(res.version), crd.kind])
        schema = {**crd.schema, "x-kubernetes-group-version-kind": gvk}
        ref = {"$ref": f"#/components/schemas/{name}"}
        get = {"x-kubernetes-group-version-kind": gvk[0], "x-kubernetes-action": "get",
               "responses": {"200": {"content": {"application/json": {"schema": ref}}}}}  # fmt: skip
        path = f"/apis/{crd.group}/{res.version}/namespaces/{{namespace}}/{res.plural}/{{name}}"
        return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "emulated"},
                "paths": {path: {"get": get}}, "components": {"schemas": {name: schema}}}  # fmt: skip

    async def _handle(self, request: Request) -> aiohttp.web.StreamResponse:
        if request.method.value.upper() == "GET" and request.url.path.startswith("/openapi/v3"):
            document = self._openapi(request.url.path)
            if document is not None:
                return aiohttp.web.json_response(document)
        res, method = request.resource, request.method.value.upper()
        if res is None or res.plural is None or res not in self.resources:
            return await super()._handle(request)
        crd = self._crds.get(res)
        accept = request.headers.get("Accept", "")
        if method == "GET" and crd and "as=Table" in accept and request.params.get("watch") != "true":
            async with self._lock:
                items = self._visible(request)
            if request.name and not items:
                return await self._render_error(not_found(res, request.name))
            return aiohttp.web.json_response(render_table(crd.columns, items))
        if method not in ("POST", "PATCH", "PUT", "DELETE") or (method != "POST" and not request.name):
            return await super()._handle(request)
        try:
            async with self._lock:
                self._warnings = []
                code, body, events = self._mutate(request, res, method)
                warnings = self._warnings
                for target, event in events:
                    log = self._log.setdefault(target, collections.deque(maxlen=self.event_log_size))
                    log.append((int(event["object"]["metadata"]["resourceVersion"]), event))
                    await self._buses[target].put(event)
        except kmock.KubernetesError as exc:
            return await self._render_error(exc)
        # RFC 7234 warn-text: a quoted string, inner quotes escaped (kubectl prints the text).
        quoted = [w.replace('"', '\\"') for w in warnings]
        headers = {"Warning": ", ".join(f'299 - "{w}"' for w in quoted)} if warnings else {}
        return aiohttp.web.json_response(body, status=code, headers=headers)


def _in_scope(obj: Json, request: Request) -> bool:
    meta = obj["metadata"]
    if request.namespace is not None and meta.get("namespace") != request.namespace:
        return False
    if request.name is not None and meta.get("name") != request.name:
        return False
    return selected(obj, dict(request.params))


def _resource(request: Request) -> kmock.resource:
    if request.resource is None:
        raise kmock.KubernetesResourceNotFoundError()
    return request.resource


def _expired(since: str) -> Json:
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 410, "reason": "Expired",
              "message": f"too old resource version: {since}"}  # fmt: skip
    return {"type": "ERROR", "object": status}


class EmulatorServer:
    """Serves a KubeEmulator on 127.0.0.1 from a daemon thread with its own event loop."""

    def __init__(self, emulator: KubeEmulator | None = None) -> None:
        self.emulator = emulator if emulator is not None else KubeEmulator()
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    def __enter__(self) -> EmulatorServer:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="kube-emulator", daemon=True)
        self._thread.start()
        if not ready.wait(15) or self._failure is not None:
            raise RuntimeError(f"the Kubernetes emulator did not start: {self._failure!r}")
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(15)

    def _run(self, ready: threading.Event) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            async with self.emulator, kmock.Server(self.emulator) as server:
                self.url = str(server.url).rstrip("/")
                ready.set()
                await self._stop.wait()

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by __enter__ instead of dying silently in a thread
            self._failure = exc
            ready.set()

    def authenticate(self, session: Any) -> None:
        """Plain HTTP, no credentials: the emulator trusts everyone."""

    def call(self, fn: Callable[[KubeEmulator], T], timeout: float = 10) -> T:
        """Run fn(emulator) on the emulator's loop (so reads never race its writes)."""
        if self._loop is None:
            raise RuntimeError("the emulator is not running")

        async def run() -> T:
            async with self.emulator._lock:
                return fn(self.emulator)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)
