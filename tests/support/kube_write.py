"""The write side of the emulator: create, patch, replace and delete as a Kubernetes API server.

A mixin of `KubeEmulator` (tests/support/kube.py), which holds the state it works on: kmock's
object store, the installed CRDs and the resourceVersion counter. Every method runs under the
emulator's lock and returns the watch events to publish.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import re
import uuid
from dataclasses import dataclass
from typing import Any

import jsonpatch
import kmock
from kmock._internal.rendering import Request

from tests.support import crd_schema

Json = dict[str, Any]
Key = tuple[kmock.resource, str | None, str]
Event = tuple[kmock.resource, Json]  # a watch event and the resource whose watchers get it

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # what the API server uses for generateName
_STRIPPED_WHEN_EMPTY = ("finalizers", "labels", "annotations", "ownerReferences")


def now_rfc3339() -> str:
    """The current UTC time as the API server writes it."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CustomResource:
    """What the emulator keeps of an installed CRD."""

    kind: str
    group: str
    schema: Json
    columns: list[Json]
    has_status: bool


def _status_error(code: int, reason: str, message: str, **details: Any) -> kmock.KubernetesError:
    return kmock.KubernetesError(status=code, reason=reason, message=message, details=details)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (returns a new value)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _without_meta(obj: Json) -> Json:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


class WriteSemantics:
    """Create / patch / put / delete with the API server's rules (mixed into KubeEmulator)."""

    # Provided by KubeEmulator (kmock's store and attrs fields).
    objects: kmock.ObjectsArray
    resources: kmock.ResourcesArray
    history_limit: int
    _crds: dict[kmock.resource, CustomResource]
    _version: int
    _warnings: list[str]

    def live(self, res: kmock.resource, namespace: str | None, name: str) -> Json | None:
        """A copy of the stored object, or None (call from the emulator's loop: see EmulatorServer)."""
        key = (res, namespace, name)
        if key not in self.objects or self.objects[key].deleted:
            return None
        return copy.deepcopy(self.objects[key].raw)

    def _next_version(self) -> str:
        self._version += 1
        return str(self._version)

    def _mutate(self, request: Request, res: kmock.resource, method: str) -> tuple[int, Json, list[Event]]:
        namespace = request.namespace if self.resources[res].namespaced else None
        if method == "POST":
            return self._create(request, res, namespace)
        key: Key = (res, namespace, str(request.name))
        old = self.live(*key)
        if old is None:
            raise not_found(res, str(request.name))
        if request.subresource not in (None, "status") or (
            request.subresource == "status" and not self._has_status(res)
        ):
            raise _status_error(404, "NotFound", f"the server could not find {request.url.path}")
        if method == "DELETE":
            return 200, *self._delete(key, old)
        if method == "PUT":
            new = request.data if isinstance(request.data, dict) else {}
        else:
            new = self._apply_patch(request, res, old)
        code, body, events = self._update(request, key, old, new)
        return code, body, events

    # --- operations --------------------------------------------------------------------------

    def _create(
        self, request: Request, res: kmock.resource, namespace: str | None
    ) -> tuple[int, Json, list[Event]]:
        obj = copy.deepcopy(request.data) if isinstance(request.data, dict) else {}
        meta = obj.setdefault("metadata", {})
        if namespace is not None:
            if meta.get("namespace") not in (None, namespace):
                raise _status_error(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent on the request",
                )
            meta["namespace"] = namespace
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(random.choices(_NAME_CHARS, k=5))
        name = meta.get("name")
        kind = self.resources[res].kind or str(res.plural)
        if not name or len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
            raise _invalid(
                kind,
                name or "",
                [
                    crd_schema.FieldProblem(
                        "metadata.name",
                        f"Invalid value: {json.dumps(name)}: a lowercase RFC 1123 subdomain is required",
                    )
                ],
            )
        key: Key = (res, namespace, name)
        if self.live(*key) is not None:
            raise _status_error(
                409,
                "AlreadyExists",
                f'{res.plural}.{res.group} "{name}" already exists',
                name=name,
                group=res.group,
                kind=res.plural,
            )
        crd = self._crds.get(res)
        if crd is not None:
            if crd.has_status:
                obj.pop("status", None)  # creating through the main resource never sets status
            obj = self._admit(crd, obj, request, name)
        meta = obj["metadata"]
        for system in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion", "generation"):
            meta.pop(system, None)
        meta.update(
            uid=str(uuid.uuid4()), creationTimestamp=now_rfc3339(), resourceVersion=self._next_version()
        )
        if crd is not None:
            meta["generation"] = 1
        _strip_empty(meta)
        if key in self.objects:
            self.objects[key].history.append(obj)
        else:
            self.objects[key] = obj
        self._trim(key)
        return 201, obj, [(res, {"type": "ADDED", "object": copy.deepcopy(obj)})]

    def _apply_patch(self, request: Request, res: kmock.resource, old: Json) -> Json:
        ctype = request.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype == "application/json-patch+json":
            try:
                patched: Json = jsonpatch.apply_patch(old, request.data)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                raise _status_error(422, "Invalid", f"the server rejected our request: {exc}") from exc
            return patched
        if ctype == "application/merge-patch+json" or (
            ctype == "application/strategic-merge-patch+json" and res not in self._crds
        ):
            return dict(merge_patch(old, request.data))
        raise _status_error(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - "
            f"accepted media types include: application/json-patch+json, "
            f"application/merge-patch+json (got {ctype!r})",
        )

    def _update(self, request: Request, key: Key, old: Json, new: Json) -> tuple[int, Json, list[Event]]:
        res, _, name = key
        crd = self._crds.get(res)
        new = copy.deepcopy(new)
        wanted_version = (new.get("metadata") or {}).get("resourceVersion")
        if wanted_version and wanted_version != old["metadata"]["resourceVersion"]:
            raise _status_error(
                409,
                "Conflict",
                f"Operation cannot be fulfilled on {res.plural}.{res.group} "
                f'"{name}": the object has been modified; please apply your changes to the '
                f"latest version and try again",
                name=name,
            )
        if request.subresource == "status":
            status = new.get("status")
            new = {k: copy.deepcopy(v) for k, v in old.items() if k != "status"}
            if status is not None:
                new["status"] = status
        elif crd is not None and crd.has_status:
            new.pop("status", None)
            if "status" in old:
                new["status"] = old["status"]
        meta = new.setdefault("metadata", {})
        old_meta = old["metadata"]
        if meta.get("name", name) != name or meta.get("namespace", key[1]) != key[1]:
            raise _status_error(
                400, "BadRequest", "the name or namespace of the object does not match the URL"
            )
        for system in (
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "generation",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "resourceVersion",
        ):
            meta.pop(system, None)
            if system in old_meta:
                meta[system] = old_meta[system]
        if request.subresource == "status":
            new["metadata"] = copy.deepcopy(old_meta)
        _strip_empty(meta)
        if old_meta.get("deletionTimestamp"):
            added = set(meta.get("finalizers", [])) - set(old_meta.get("finalizers", []))
            if added:
                raise _invalid(
                    crd.kind if crd else str(res.plural),
                    name,
                    [
                        crd_schema.FieldProblem(
                            "metadata.finalizers",
                            f"Forbidden: no new finalizers can be added if the object is being "
                            f"deleted, found new finalizers {sorted(added)}",
                        )
                    ],
                )
        if crd is not None:
            new = self._admit(crd, new, request, name)
            if _without_meta(new) != _without_meta(old):
                new["metadata"]["generation"] = old_meta.get("generation", 1) + 1
        if new == old:
            return 200, old, []  # a no-op write changes nothing, not even resourceVersion
        new["metadata"]["resourceVersion"] = self._next_version()
        self.objects[key].history.append(new)
        self._trim(key)
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            return 200, new, self._remove(key, new)
        return 200, new, [(res, {"type": "MODIFIED", "object": copy.deepcopy(new)})]

    def _delete(self, key: Key, old: Json) -> tuple[Json, list[Event]]:
        meta = old["metadata"]
        if meta.get("deletionTimestamp"):
            return old, []
        if meta.get("finalizers"):
            new = copy.deepcopy(old)
            new["metadata"].update(
                deletionTimestamp=now_rfc3339(),
                deletionGracePeriodSeconds=0,
                resourceVersion=self._next_version(),
            )
            self.objects[key].history.append(new)
            self._trim(key)
            return new, [(key[0], {"type": "MODIFIED", "object": copy.deepcopy(new)})]
        return old, self._remove(key, old)

    def _remove(self, key: Key, last: Json) -> list[Event]:
        self.objects[key].delete()
        self._trim(key)
        gone = copy.deepcopy(last)
        gone["metadata"]["resourceVersion"] = self._next_version()
        events: list[Event] = [(key[0], {"type": "DELETED", "object": gone})]
        # Background garbage collection, done at once: dependents whose owners are all gone.
        live_uids = {o.raw["metadata"].get("uid") for o in self.objects.values() if not o.deleted}
        for other_key, other in list(self.objects.items()):
            if other.deleted:
                continue
            refs = other.raw["metadata"].get("ownerReferences") or []
            if (
                refs
                and any(r.get("uid") == last["metadata"]["uid"] for r in refs)
                and not any(r.get("uid") in live_uids for r in refs)
            ):
                _, more = self._delete(other_key, copy.deepcopy(other.raw))
                events += more
        return events

    # --- helpers -----------------------------------------------------------------------------

    def _admit(self, crd: CustomResource, obj: Json, request: Request, name: str) -> Json:
        strict = request.params.get("fieldValidation") == "Strict"
        try:
            stored = crd_schema.admit(crd.schema, obj, strict=strict)
        except crd_schema.SchemaRejection as exc:
            if exc.kind == "unknown":
                fields = ", ".join(f'unknown field "{p.path}"' for p in exc.problems)
                raise _status_error(
                    400,
                    "BadRequest",
                    f'{crd.kind} in version "{request.resource.version if request.resource else ""}" '
                    f"cannot be handled as a {crd.kind}: strict decoding error: {fields}",
                ) from exc
            problems = list(exc.problems)
            if crd_schema.has_rules(crd.schema) and any(p.blocking for p in problems):
                # A real server skips a CRD's CEL rules on an object with a wrong type, format or
                # enum value, and says so in one more cause (field "<nil>").
                problems.append(crd_schema.FieldProblem("<nil>", f"Invalid value: null: {RULES_SKIPPED}"))
            raise _invalid(f"{crd.kind}.{crd.group}", name, problems) from exc
        if request.params.get("fieldValidation", "Warn") == "Warn":
            self._warnings = [f'unknown field "{p}"' for p in crd_schema.unknown_fields(crd.schema, obj)]
        return stored

    def _has_status(self, res: kmock.resource) -> bool:
        return "status" in self.resources[res].subresources

    def _trim(self, key: Key) -> None:
        history = self.objects[key].history
        if len(history) > self.history_limit:
            del history[: len(history) - self.history_limit]


RULES_SKIPPED = (
    "some validation rules were not checked because the object was invalid; "
    "correct the existing errors to complete validation"
)


def _invalid(kind: str, name: str, problems: list[crd_schema.FieldProblem]) -> kmock.KubernetesError:
    causes = [{"reason": "FieldValueInvalid", "message": p.message, "field": p.path} for p in problems]
    message = f'{kind} "{name}" is invalid: ' + ", ".join(str(p) for p in problems)
    return _status_error(422, "Invalid", message, name=name, kind=kind, causes=causes)


def _strip_empty(meta: Json) -> None:
    for field in _STRIPPED_WHEN_EMPTY:
        if field in meta and not meta[field]:
            del meta[field]


def not_found(res: kmock.resource, name: str) -> kmock.KubernetesError:
    """404 NotFound for an object, as the API server words it."""
    return _status_error(404, "NotFound", f'{res.plural}.{res.group} "{name}" not found', name=name)
