"""What happens when a ReviewAnalysis is deleted (run by kopf's finalizer before it goes).

deletionPolicy decides the fate of what the analysis produced:
- Retain (default): active Airflow runs finish on their own, the MLflow experiment stays (its
  name can never be reused anyway: MLflow deletes are soft).
- Delete: active runs are cancelled (state failed), the experiment is soft-deleted.
The dashboard is removed in both cases: it only renders data that stays in the results store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewops.spec import DeletionPolicy, ReviewAnalysisSpec, SpecError, parse_spec
from reviewops_operator.errors import ExternalError
from reviewops_operator.identity import dashboard_uid, experiment_name, experiment_owner
from reviewops_operator.passes import Deps, ObjectView
from reviewops_operator.schedule import Note


@dataclass(slots=True)
class Farewell:
    """The result of a finalization attempt; errors keep the finalizer in place for a retry."""

    notes: list[Note] = field(default_factory=list)
    errors: list[ExternalError] = field(default_factory=list)


def finalize(obj: ObjectView, deps: Deps) -> Farewell:
    """Cancel or leave runs, delete or retain the experiment, remove the dashboard."""
    out = Farewell()
    ref, status = obj.ref, obj.status
    spec: ReviewAnalysisSpec | None
    try:
        spec = parse_spec(dict(obj.spec))
    except SpecError:
        spec = None  # an invalid spec still gets cleaned up, with the safe (Retain) policy
    policy = DeletionPolicy(spec.deletion_policy) if spec else DeletionPolicy.RETAIN

    in_flight = [r.run_id for r in status.runs_in_flight()]
    if in_flight and policy is DeletionPolicy.DELETE:
        for run_id in in_flight:
            try:
                deps.airflow.cancel(run_id, ref.uid)
                out.notes.append(
                    Note("Normal", "RunCancelled", f"run {run_id} cancelled (deletionPolicy Delete)")
                )
            except ExternalError as exc:
                out.errors.append(exc)
    elif in_flight:
        out.notes.append(
            Note(
                "Normal",
                "RunsLeftRunning",
                f"run(s) {', '.join(in_flight)} left to finish in Airflow (deletionPolicy Retain)",
            )
        )

    name = experiment_name(ref, spec) if spec else status.mlflow.get("experimentName")
    if name and policy is DeletionPolicy.DELETE and (spec is None or spec.mlflow.enabled):
        try:
            if deps.experiments.delete(name, experiment_owner(ref)):
                out.notes.append(
                    Note(
                        "Normal",
                        "ExperimentDeleted",
                        f"MLflow experiment {name!r} deleted (soft: its name stays taken)",
                    )
                )
        except ExternalError as exc:
            out.errors.append(exc)
    elif name and status.mlflow.get("experimentId"):
        out.notes.append(
            Note("Normal", "ExperimentRetained", f"MLflow experiment {name!r} kept (deletionPolicy Retain)")
        )

    if deps.dashboards is not None:
        try:
            deps.dashboards.remove(ref, dashboard_uid(ref))
        except ExternalError as exc:
            out.errors.append(exc)
    for error in out.errors:
        out.notes.append(Note("Warning", error.reason, f"cleanup: {error.message}"))
    return out
