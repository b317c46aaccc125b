"""Process-wide objects (clients, metrics) and the small per-object memory kopf keeps for us.

Clients are built once at startup and shared by every object: no per-object threads or
connection pools, which keeps the operator small with thousands of analyses.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reviewops_operator.clients.airflow import AirflowRestClient
from reviewops_operator.clients.base import DashboardSink
from reviewops_operator.clients.grafana import ApiDashboards, ConfigMapDashboards
from reviewops_operator.clients.kube import api_client
from reviewops_operator.clients.mlflow import experiment_store
from reviewops_operator.identity import RUN_NOW_ANNOTATION, AnalysisRef, parse_time
from reviewops_operator.metrics import OperatorMetrics
from reviewops_operator.passes import Deps, ObjectView
from reviewops_operator.settings import GrafanaMode, Settings
from reviewops_operator.status import AnalysisStatus


@dataclass(slots=True)
class Runtime:
    """What every handler needs: dependencies and metrics."""

    deps: Deps
    metrics: OperatorMetrics


def build_runtime(settings: Settings) -> Runtime:
    """Create the clients from validated settings (no network calls happen here)."""
    airflow = AirflowRestClient(
        settings.airflow_url,
        # read at every token fetch / call, so rotated Secret files need no restart
        lambda: settings.airflow_user() or "",
        lambda: settings.airflow_secret() or "",
        settings.airflow_dag_id,
        timeout=settings.airflow_timeout_seconds,
        verify_tls=settings.airflow_verify_tls,
    )
    dashboards: DashboardSink | None = None
    if settings.grafana_mode is GrafanaMode.CONFIGMAP:
        dashboards = ConfigMapDashboards(
            api_client(settings.kubernetes_api_url),
            namespace=settings.grafana_dashboard_namespace,
            grafana_url=settings.grafana_url,
        )
    elif settings.grafana_mode is GrafanaMode.API and settings.grafana_url:
        dashboards = ApiDashboards(
            settings.grafana_url,
            lambda: settings.grafana_secret() or "",
            timeout=settings.grafana_timeout_seconds,
        )
    experiments = experiment_store(settings.mlflow_tracking_uri, timeout=settings.mlflow_timeout_seconds)
    return Runtime(deps=Deps(settings, airflow, experiments, dashboards), metrics=OperatorMetrics())


@dataclass(slots=True)
class ObjectMemory:
    """Per-object state kept between reconciles (lost on restart, which is fine).

    `status` is the status this operator wrote last. The object in kopf's cache can lag behind
    our own patch (the watch event arrives later), and the timer and change handlers may run
    back to back; reading our last write instead avoids acting twice on the same finished run.
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    status: AnalysisStatus | None = None
    last_notes: frozenset[tuple[str, str]] = frozenset()
    verified_at: dt.datetime | None = None


_MEMO_KEY = "reviewops_object"
_memo_guard = threading.Lock()


def object_memory(memo: Any) -> ObjectMemory:
    """The ObjectMemory stored in kopf's per-object memo, created on first use."""
    with _memo_guard:  # the timer and a change handler may ask for it at the same moment
        found = memo.get(_MEMO_KEY)
        if not isinstance(found, ObjectMemory):
            found = ObjectMemory()
            memo[_MEMO_KEY] = found
        return found


def object_view(body: Mapping[str, Any], status: AnalysisStatus | None = None) -> ObjectView:
    """An ObjectView from a raw object body (kopf's `body`), optionally with a fresher status."""
    meta = body.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    ref = AnalysisRef(
        namespace=str(meta.get("namespace") or "default"),
        name=str(meta.get("name") or ""),
        uid=str(meta.get("uid") or ""),
        generation=int(meta.get("generation") or 1),
    )
    run_now = annotations.get(RUN_NOW_ANNOTATION)
    return ObjectView(
        ref=ref,
        spec=body.get("spec") or {},
        status=status or AnalysisStatus.from_dict(body.get("status"), annotations),
        run_now=str(run_now) if run_now else None,
        created=parse_time(meta.get("creationTimestamp")),
    )
