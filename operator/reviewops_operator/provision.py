"""The objects an analysis owns outside Kubernetes: its MLflow experiment and its dashboard."""

from __future__ import annotations

import datetime as dt

from reviewops.spec import ReviewAnalysisSpec
from reviewops_operator.clients.mlflow import experiment_url
from reviewops_operator.dashboard import render_analysis_dashboard
from reviewops_operator.errors import ExternalError
from reviewops_operator.identity import (
    MANAGED_BY,
    dashboard_configmap_name,
    dashboard_uid,
    experiment_name,
    experiment_owner,
)
from reviewops_operator.passes import Pass
from reviewops_operator.schedule import Note
from reviewops_operator.settings import GrafanaMode
from reviewops_operator.status import DASHBOARD_READY, EXPERIMENT_READY, AnalysisStatus


def needs_verify(
    status: AnalysisStatus,
    generation: int,
    verified_at: dt.datetime | None,
    now: dt.datetime,
    resync_seconds: float,
) -> bool:
    """Whether to (re)check the experiment and dashboard on this pass."""
    return (
        verified_at is None
        or status.observed_generation != generation
        or not status.is_true(EXPERIMENT_READY)
        or not status.is_true(DASHBOARD_READY)
        or (now - verified_at).total_seconds() >= resync_seconds
    )


def ensure_experiment(p: Pass, spec: ReviewAnalysisSpec) -> None:
    if not spec.mlflow.enabled:
        p.condition(EXPERIMENT_READY, True, "Disabled", "spec.mlflow.enabled is false")
        return
    ref = p.obj.ref
    name = experiment_name(ref, spec)
    tags = {
        **experiment_owner(ref),
        "reviewops.io/company": spec.company.name,
        "reviewops.io/managed-by": MANAGED_BY,
    }
    try:
        experiment = p.deps.experiments.ensure(name, tags)
    except ExternalError as exc:
        p.fail(exc)
        p.condition(EXPERIMENT_READY, False, exc.reason, exc.message)
        return
    if experiment.restored:
        p.notes.append(
            Note(
                "Normal",
                "ExperimentRestored",
                f"MLflow experiment {name!r} was deleted and has been restored",
            )
        )
    p.status.mlflow.update(
        {
            "experimentId": experiment.experiment_id,
            "experimentName": name,
            "url": experiment_url(p.deps.settings.mlflow_link_root(), experiment.experiment_id),
        }
    )
    p.status.mlflow = {k: v for k, v in p.status.mlflow.items() if v is not None}
    p.condition(
        EXPERIMENT_READY,
        True,
        "ExperimentReady",
        f"MLflow experiment {name!r} (id {experiment.experiment_id})",
    )


def ensure_dashboard(p: Pass, spec: ReviewAnalysisSpec) -> None:
    ref, settings, sink = p.obj.ref, p.deps.settings, p.deps.dashboards
    uid = dashboard_uid(ref)
    if sink is None or not spec.dashboard.enabled:
        if sink is not None and p.status.dashboard.get("uid"):
            try:  # was provisioned before the spec turned it off: take it down
                sink.remove(ref, uid)
            except ExternalError as exc:
                p.fail(exc)
                p.condition(DASHBOARD_READY, False, exc.reason, exc.message)
                return
        p.status.dashboard = {}
        why = "spec.dashboard.enabled is false" if sink is not None else "REVIEWOPS_GRAFANA_MODE=disabled"
        p.condition(DASHBOARD_READY, True, "Disabled", why)
        return
    try:
        model = render_analysis_dashboard(
            ref,
            company=spec.company.name,
            uid=uid,
            results_datasource=settings.grafana_results_datasource_uid,
            prometheus_datasource=settings.grafana_prometheus_datasource_uid,
            template_dir=settings.dashboard_template_dir,
        )
        url = sink.ensure(ref, uid, spec.dashboard.folder, model)
    except ExternalError as exc:
        p.fail(exc)
        p.condition(DASHBOARD_READY, False, exc.reason, exc.message)
        return
    p.status.dashboard = {"uid": uid, **({"url": url} if url else {})}
    if settings.grafana_mode is GrafanaMode.CONFIGMAP:
        namespace = settings.grafana_dashboard_namespace or ref.namespace
        p.status.dashboard["configMap"] = f"{namespace}/{dashboard_configmap_name(ref)}"
        where = f"ConfigMap {p.status.dashboard['configMap']}"
    else:
        where = f"Grafana folder {spec.dashboard.folder!r}"
    p.condition(DASHBOARD_READY, True, "DashboardReady", f"dashboard {uid} in {where}")
