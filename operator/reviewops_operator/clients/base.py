"""The small interfaces reconcile depends on, so logic is tested against any implementation.

Every method is idempotent: calling it twice with the same arguments has the effect of calling
it once. Implementations raise `reviewops_operator.errors.ExternalError` and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from reviewops_operator.errors import ExternalError
from reviewops_operator.identity import AnalysisRef

# Airflow DAG run states (DagRunState); only the last two are final.
QUEUED = "queued"
RUNNING = "running"
SUCCESS = "success"
FAILED = "failed"
TERMINAL_STATES = frozenset({SUCCESS, FAILED})


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What Airflow says about one DAG run."""

    run_id: str
    state: str
    start_date: dt.datetime | None = None
    end_date: dt.datetime | None = None
    owner_uid: str | None = None  # conf.analysis.uid: the ReviewAnalysis the run was started for


@dataclass(frozen=True, slots=True)
class FailedTask:
    """A task instance of a run that ended failed."""

    task_id: str
    try_number: int
    max_tries: int  # retries allowed: tries = max_tries + 1

    def describe(self) -> str:
        """e.g. `load (try 2 of 2)`."""
        return f"{self.task_id} (try {self.try_number} of {self.max_tries + 1})"


class AirflowApi(Protocol):
    """Triggers and follows DAG runs of the analysis DAG."""

    def trigger(self, run_id: str, conf: dict[str, Any]) -> bool:
        """Start run `run_id`; True if created, False if it already existed (409) for the same
        object (conf.analysis.uid); ExternalError RunConflict when it exists for another one."""

    def get_run(self, run_id: str) -> RunInfo | None:
        """The run's state, or None when Airflow has no such run."""

    def cancel(self, run_id: str, owner_uid: str | None = None) -> None:
        """Mark a run failed so Airflow stops it; a finished or missing run is left alone, and
        so is a run started for another object than `owner_uid` (when given)."""

    def failed_tasks(self, run_id: str) -> list[FailedTask]:
        """The task instances that failed in a run (empty when none or unknown)."""

    def results(self, run_id: str) -> dict[str, Any] | None:
        """The summary the DAG's `publish` task returned, or None when it published nothing."""


@dataclass(frozen=True, slots=True)
class Experiment:
    """An MLflow experiment as the operator reports it."""

    experiment_id: str
    restored: bool = False  # it was soft-deleted and has been brought back
    created: bool = False


class ExperimentStore(Protocol):
    """Creates, restores and deletes MLflow experiments by name."""

    def ensure(self, name: str, tags: dict[str, str]) -> Experiment:
        """Make the experiment exist and be active, with these tags; an existing experiment
        that another analysis (or nobody in ReviewOps) owns is an ExperimentConflict."""

    def delete(self, name: str, owner: dict[str, str]) -> bool:
        """Soft-delete the experiment if `owner` (OWNER_TAGS) owns it; False when there was none."""


OWNER_TAGS = ("reviewops.io/namespace", "reviewops.io/name")
UID_TAG = "reviewops.io/uid"


def ownership_conflict(
    name: str, existing: dict[str, str], owner: dict[str, str], *, same_uid: bool = False
) -> ExternalError | None:
    """None when the experiment's tags name `owner` (and its uid, with `same_uid`), else why not.

    An analysis deleted and made again (same namespace and name, new uid) takes its experiment
    back; deleting needs the very same object. Anything else is left untouched.
    """
    same_owner = all(existing.get(k) == owner.get(k) for k in OWNER_TAGS)
    if same_owner and (not same_uid or existing.get(UID_TAG) == owner.get(UID_TAG)):
        return None
    holder = "/".join(existing.get(k, "") for k in OWNER_TAGS).strip("/")
    if same_owner:
        whose = f"belongs to another object named {holder} (uid {existing.get(UID_TAG)})"
    elif holder:
        whose = f"belongs to ReviewAnalysis {holder}"
    else:
        whose = "is not managed by ReviewOps"
    return ExternalError(
        "MLflow",
        "ExperimentConflict",
        f"MLflow experiment {name!r} {whose}; nothing was changed: set spec.mlflow.experimentName "
        "to a name of this analysis' own",
        transient=False,
    )


class DashboardSink(Protocol):
    """Publishes one Grafana dashboard per analysis."""

    def ensure(self, ref: AnalysisRef, uid: str, folder: str, dashboard: dict[str, Any]) -> str | None:
        """Create or update the dashboard; returns its URL when one is known."""

    def remove(self, ref: AnalysisRef, uid: str) -> None:
        """Delete the dashboard; a missing one is fine."""
