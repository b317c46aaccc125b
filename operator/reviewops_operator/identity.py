"""Deterministic names for everything the operator creates outside the ReviewAnalysis object.

Determinism is what makes the operator restart-safe: the same (namespace, name, slot) always gives
the same Airflow dag_run_id, so a second trigger after a crash answers 409 instead of starting a
second run; the same (namespace, name) always gives the same MLflow experiment and Grafana uid.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from reviewops.spec import API_GROUP, API_VERSION, KIND, ReviewAnalysisSpec, experiment_name_for, spec_to_dict

RUN_NOW_ANNOTATION = f"{API_GROUP}/run-now"
# The operator's bookkeeping lives in annotations, not status: the CRD's status schema is the
# user-facing contract (a real API server prunes anything else), annotations are never pruned.
HANDLED_RUN_NOW_ANNOTATION = f"{API_GROUP}/handled-run-now"
TRIGGERED_GENERATION_ANNOTATION = f"{API_GROUP}/triggered-generation"
FINALIZER = f"{API_GROUP}/finalizer"
MANAGED_BY = "reviewops-operator"

# Airflow's run_id column is 250 characters; characters outside this set are rejected by its API.
_RUN_ID_MAX = 250
_RUN_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.~:+-]")
_RUN_ID_PREFIX = "ra"
_SEP = "__"
_GRAFANA_UID_HASH_CHARS = 24  # "ro-" + 24 hex = 27 characters, within Grafana's 40


@dataclass(frozen=True, slots=True)
class AnalysisRef:
    """Who a ReviewAnalysis is: the values every external name is derived from."""

    namespace: str
    name: str
    uid: str = ""
    generation: int = 0

    @property
    def key(self) -> str:
        """`namespace/name`, the human-readable identity used in messages."""
        return f"{self.namespace}/{self.name}"


def _digest(text: str, chars: int) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:chars]


def format_time(moment: dt.datetime) -> str:
    """RFC 3339 UTC with a Z, second precision: the form Kubernetes uses in status fields."""
    return moment.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> dt.datetime | None:
    """Read a status timestamp back (tolerates +00:00 offsets and fractions); None stays None."""
    if not text:
        return None
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _run_id(ref: AnalysisRef, suffix: str) -> str:
    run_id = _SEP.join([_RUN_ID_PREFIX, ref.namespace, ref.name, suffix])
    if len(run_id) <= _RUN_ID_MAX:
        return run_id
    # Very long names: keep a readable prefix and a hash of the full identity so ids stay unique.
    fixed = len(_RUN_ID_PREFIX) + 3 * len(_SEP) + len(ref.namespace) + len(suffix) + 9
    short_name = f"{ref.name[: max(_RUN_ID_MAX - fixed, 1)]}-{_digest(ref.key, 8)}"
    return _SEP.join([_RUN_ID_PREFIX, ref.namespace, short_name, suffix])


def scheduled_run_id(ref: AnalysisRef, slot: dt.datetime) -> str:
    """dag_run_id of a cron slot: `ra__<ns>__<name>__2024-03-31T04:00:00Z`."""
    return _run_id(ref, format_time(slot))


def oneshot_run_id(ref: AnalysisRef, generation: int) -> str:
    """dag_run_id of the run of an unscheduled analysis for one spec generation."""
    return _run_id(ref, f"gen-{generation}")


def manual_run_id(ref: AnalysisRef, request: str) -> str:
    """dag_run_id of a run-now request; the annotation value makes it unique and repeatable."""
    cleaned = _RUN_ID_UNSAFE.sub("-", request.strip())[:64]
    if cleaned != request:
        # Two different values must not clean up to the same id (that would read as "already run").
        cleaned = f"{cleaned}-{_digest(request, 8)}"
    return _run_id(ref, f"manual-{cleaned}")


def slot_of(run_id: str) -> str:
    """The slot part of a run id (an ISO time, `gen-N` or `manual-...`), shown in history."""
    return run_id.rsplit(_SEP, 1)[-1]


def run_conf(ref: AnalysisRef, spec: ReviewAnalysisSpec, slot: str, run_id: str) -> dict[str, Any]:
    """The Airflow `conf` of a run: the validated spec plus who and which slot it is for."""
    return {
        "spec": spec_to_dict(spec),
        "analysis": {
            "namespace": ref.namespace,
            "name": ref.name,
            "uid": ref.uid,
            "generation": ref.generation,
            "slot": slot,
            "runId": run_id,
        },
    }


def experiment_owner(ref: AnalysisRef) -> dict[str, str]:
    """The tags that say which ReviewAnalysis an MLflow experiment belongs to."""
    return {
        "reviewops.io/namespace": ref.namespace,
        "reviewops.io/name": ref.name,
        "reviewops.io/uid": ref.uid,
    }


def experiment_name(ref: AnalysisRef, spec: ReviewAnalysisSpec) -> str:
    """MLflow experiment: `reviewops/<namespace>/<name>`, or the spec's name under
    `reviewops/<namespace>/` (reviewops.spec.experiment_name_for, shared with the DAG)."""
    return experiment_name_for(ref.key, spec)


def dashboard_uid(ref: AnalysisRef) -> str:
    """Grafana dashboard uid: stable, at most 40 characters, from a hash of namespace/name."""
    return f"ro-{_digest(ref.key, _GRAFANA_UID_HASH_CHARS)}"


def dashboard_configmap_name(ref: AnalysisRef) -> str:
    """ConfigMap holding the dashboard; the hash keeps it unique when several namespaces share one."""
    base = re.sub(r"[^a-z0-9-]", "-", f"reviewops-dashboard-{ref.name}".lower())[:200].strip("-")
    return f"{base}-{_digest(ref.key, 8)}"


def label_value(text: str) -> str:
    """A valid Kubernetes label value (≤ 63 characters, alphanumeric ends)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", text)
    if len(cleaned) > 63:
        cleaned = f"{cleaned[:54]}-{_digest(text, 8)}"
    return cleaned.strip("-_.")


def owner_reference(ref: AnalysisRef) -> dict[str, Any]:
    """ownerReference making a same-namespace child garbage-collected with its ReviewAnalysis."""
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": KIND,
        "name": ref.name,
        "uid": ref.uid,
        "controller": True,
        "blockOwnerDeletion": False,
    }
