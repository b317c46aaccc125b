"""The small interfaces reconcile depends on, so logic is tested against any implementation.

Every method is idempotent: calling it twice with the same arguments has the effect of calling
it once. Implementations raise `reviewops_operator.errors.ExternalError` and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

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


class AirflowApi(Protocol):
    """Triggers and follows DAG runs of the analysis DAG."""

    def trigger(self, run_id: str, conf: dict[str, Any]) -> bool:
        """Start run `run_id`; True if created, False if it already existed (409)."""

    def get_run(self, run_id: str) -> RunInfo | None:
        """The run's state, or None when Airflow has no such run."""

    def cancel(self, run_id: str) -> None:
        """Mark a run failed so Airflow stops it; a finished or missing run is left alone."""

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
        """Make the experiment exist and be active, with these tags."""

    def delete(self, name: str) -> bool:
        """Soft-delete the experiment; False when there was none."""


class DashboardSink(Protocol):
    """Publishes one Grafana dashboard per analysis."""

    def ensure(self, ref: AnalysisRef, uid: str, folder: str, dashboard: dict[str, Any]) -> str | None:
        """Create or update the dashboard; returns its URL when one is known."""

    def remove(self, ref: AnalysisRef, uid: str) -> None:
        """Delete the dashboard; a missing one is fine."""
