"""What a `ReviewAnalysis` may point at in a cluster: the admin decides, not the object.

Two spec fields name things outside the analysis: `sentiment.modelUri` (a saved model: a
joblib file is a pickle, and loading one runs code on the worker) and `source.path` (a file the
worker reads). In a cluster the object is written by a team, so both are checked against lists
the cluster admin sets (`REVIEWOPS_ALLOWED_MODEL_URIS`, `REVIEWOPS_ALLOWED_FILE_ROOTS`) before
anything is read: by the operator (the object gets `Ready=False, reason NotAllowed`, no run is
triggered) and again by every DAG stage (a run can also be triggered by hand). `reviewops
analyze` on one machine is not checked: its user owns the machine.

Entries of `allowed_model_uris`:
- a URI prefix (`models:/reviewops.{namespace}.`, `s3://models/approved/`): `{namespace}` is
  the analysis' namespace, so one entry lets each namespace use the models its own analyses
  registered (the registry names them `reviewops.<namespace>.<name>`; namespaces hold no dots);
- an absolute folder (`/models`): local files under it (symbolic links resolved on a worker);
- `*`: anything (unsafe: any object can then make a worker unpickle any file).
Entries of `allowed_file_roots` are absolute folders, or `*`.

This module stays light (stdlib only): the operator image imports it.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from reviewops.spec import ReviewAnalysisSpec, SourceType, SpecError

DEFAULT_MODEL_URIS = ("models:/reviewops.{namespace}.",)
ANYTHING = "*"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class PolicyError(SpecError):
    """The spec points at something the cluster admin did not allow; names the field."""


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """The admin's allow-lists (see the module docstring for the entries' forms)."""

    model_uris: tuple[str, ...] = DEFAULT_MODEL_URIS
    file_roots: tuple[str, ...] = ()
    resolve_links: bool = False  # True where the files are (a worker): follow symbolic links

    @classmethod
    def of(
        cls, model_uris: Iterable[str], file_roots: Iterable[str], resolve_links: bool = False
    ) -> AccessPolicy:
        return cls(tuple(model_uris), tuple(file_roots), resolve_links)


def split_list(value: object) -> object:
    """A comma-separated environment value as a list (blank entries dropped); lists pass."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def check_entries(entries: Iterable[str], *, paths_only: bool) -> list[str]:
    """Settings validation: each entry must be `*`, an absolute folder or (models) a URI prefix."""
    bad = []
    for entry in entries:
        if entry == ANYTHING:
            continue
        if _SCHEME.match(entry) and not paths_only:
            if _has_dot_segment(entry):
                bad.append(f"{entry!r} holds a '.' or '..' segment")
            continue
        if not entry.startswith("/"):
            bad.append(f"{entry!r} is not an absolute folder" + ("" if paths_only else " or a URI prefix"))
    return bad


def _has_dot_segment(uri: str) -> bool:
    return any(part in {".", ".."} for part in re.split(r"[/\\]", unquote(uri)))


def _local_path(value: str, resolve_links: bool) -> str | None:
    """The absolute, normalised path a local reference names; None when it is not local."""
    if _SCHEME.match(value):
        parts = urlsplit(value)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            return None
        value = unquote(parts.path)
    value = str(Path(value).expanduser())  # the file reader expands ~ too
    if not value.startswith("/"):
        return ""  # relative: depends on the worker's current folder, never allowed
    return os.path.realpath(value) if resolve_links else posixpath.normpath(value)


def _under(path: str, root: str, resolve_links: bool) -> bool:
    base = os.path.realpath(root) if resolve_links else posixpath.normpath(root)
    return path == base or path.startswith(base.rstrip("/") + "/")


def model_uri_allowed(uri: str, namespace: str | None, policy: AccessPolicy) -> bool:
    if ANYTHING in policy.model_uris:
        return True
    path = _local_path(uri, policy.resolve_links)
    for pattern in policy.model_uris:
        if "{namespace}" in pattern and namespace is None:
            continue  # a hand-triggered run has no namespace: its own-namespace entries do not apply
        entry = pattern.replace("{namespace}", namespace or "")
        if entry.startswith("/"):
            if path and _under(path, entry, policy.resolve_links):
                return True
        elif path is None and uri.startswith(entry) and not _has_dot_segment(uri[len(entry) :]):
            return True
    return False


def file_path_allowed(value: str, policy: AccessPolicy) -> bool:
    if ANYTHING in policy.file_roots:
        return True
    path = _local_path(value, policy.resolve_links)
    return bool(path) and any(_under(path or "", root, policy.resolve_links) for root in policy.file_roots)


def policy_problems(spec: ReviewAnalysisSpec, namespace: str | None, policy: AccessPolicy) -> list[str]:
    """One line per field the policy refuses, naming the field and what the user can do."""
    problems = []
    uri = spec.sentiment.model_uri
    if uri and not model_uri_allowed(uri, namespace, policy):
        allowed = (
            ", ".join(e.replace("{namespace}", namespace or "<namespace>") for e in policy.model_uris)
            or "nothing"
        )
        problems.append(
            f"spec.sentiment.modelUri: {uri!r} is not allowed in this cluster (allowed: {allowed}); "
            "use a model registered by an analysis of this namespace (spec.mlflow.registerModel), "
            "or ask the cluster admin to add it to REVIEWOPS_ALLOWED_MODEL_URIS"
        )
    path = spec.source.path
    if spec.source.type == SourceType.FILE and path and not file_path_allowed(path, policy):
        roots = ", ".join(policy.file_roots) or "none: file sources are off"
        problems.append(
            f"spec.source.path: {path!r} is outside the folders this cluster lets "
            f"analyses read (allowed: {roots}); put the file under one of them, or ask the "
            "cluster admin to add a folder to REVIEWOPS_ALLOWED_FILE_ROOTS"
        )
    return problems


def enforce(spec: ReviewAnalysisSpec, namespace: str | None, policy: AccessPolicy) -> None:
    """Raise PolicyError naming every refused field."""
    problems = policy_problems(spec, namespace, policy)
    if problems:
        raise PolicyError("; ".join(problems))


__all__ = [
    "ANYTHING",
    "DEFAULT_MODEL_URIS",
    "AccessPolicy",
    "PolicyError",
    "check_entries",
    "enforce",
    "file_path_allowed",
    "model_uri_allowed",
    "policy_problems",
    "split_list",
]
