"""The values one reconcile works with: its inputs, its outcome and the state of a pass."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reviewops.spec import ReviewAnalysisSpec
from reviewops_operator.clients.base import AirflowApi, DashboardSink, ExperimentStore
from reviewops_operator.errors import ExternalError
from reviewops_operator.identity import AnalysisRef
from reviewops_operator.schedule import Note, Trigger
from reviewops_operator.settings import Settings
from reviewops_operator.status import DASHBOARD_READY, EXPERIMENT_READY, READY, AnalysisStatus, RunRecord


@dataclass(frozen=True, slots=True)
class Deps:
    """What reconcile talks to; `dashboards` is None when GRAFANA_MODE=disabled."""

    settings: Settings
    airflow: AirflowApi
    experiments: ExperimentStore
    dashboards: DashboardSink | None


@dataclass(frozen=True, slots=True)
class ObjectView:
    """The parts of a ReviewAnalysis object reconcile reads."""

    ref: AnalysisRef
    spec: Mapping[str, Any]
    status: AnalysisStatus
    run_now: str | None = None  # the reviewops.io/run-now annotation
    created: dt.datetime | None = None  # metadata.creationTimestamp


@dataclass(slots=True)
class Observations:
    """Facts for metrics: what was triggered, what finished, how long runs waited to start."""

    triggered: list[Trigger] = field(default_factory=list)
    finished: list[RunRecord] = field(default_factory=list)
    start_latencies: list[float] = field(default_factory=list)


@dataclass(slots=True)
class Outcome:
    """The result of one reconcile."""

    status: AnalysisStatus
    notes: list[Note]
    observations: Observations
    spec: ReviewAnalysisSpec | None
    verified_at: dt.datetime | None  # when experiment and dashboard were last confirmed
    errors: list[ExternalError] = field(default_factory=list)

    @property
    def transient_error(self) -> ExternalError | None:
        """The first error worth retrying soon (kopf.TemporaryError), if any."""
        return next((e for e in self.errors if e.transient), None)


@dataclass(slots=True)
class Pass:
    """Mutable state of one reconcile pass, shared by its steps."""

    obj: ObjectView
    deps: Deps
    now: dt.datetime
    status: AnalysisStatus
    notes: list[Note] = field(default_factory=list)
    errors: list[ExternalError] = field(default_factory=list)
    seen: Observations = field(default_factory=Observations)

    @property
    def generation(self) -> int:
        """The spec generation being reconciled."""
        return self.obj.ref.generation

    def fail(self, error: ExternalError) -> None:
        """Record an external failure and announce it."""
        self.errors.append(error)
        self.notes.append(Note("Warning", error.reason, error.message))

    def condition(self, kind: str, ok: bool | None, reason: str, message: str) -> None:
        """Set a condition for this generation (announcing it when it becomes True)."""
        flipped = self.status.set_condition(kind, ok, reason, message, self.generation, self.now)
        # Announce readiness changes once; failures are announced by `fail` with their cause.
        if flipped and ok and kind in (EXPERIMENT_READY, DASHBOARD_READY, READY):
            self.notes.append(Note("Normal", reason, message))
