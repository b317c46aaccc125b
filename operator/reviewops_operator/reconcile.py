"""One reconcile of one ReviewAnalysis: plain values in, a new status and Events out.

Level-based: every call looks at the whole desired state (spec) and the whole observed state
(status + what Airflow, MLflow and Grafana say) and moves one step closer, so it is safe to call
on create, update, resume and from the timer, as often as kopf likes. External calls go through
the Protocols in `clients.base`; everything else is pure.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from reviewops.policy import PolicyError, enforce
from reviewops.spec import ReviewAnalysisSpec, SpecError, parse_spec
from reviewops_operator.clients.base import FAILED, QUEUED, SUCCESS, TERMINAL_STATES
from reviewops_operator.errors import ExternalError
from reviewops_operator.identity import format_time, parse_time, run_conf
from reviewops_operator.passes import Deps, ObjectView, Outcome, Pass
from reviewops_operator.provision import ensure_dashboard, ensure_experiment, needs_verify
from reviewops_operator.schedule import Note, ScheduleState, plan
from reviewops_operator.status import (
    DASHBOARD_READY,
    EXPERIMENT_READY,
    READY,
    RUN_SUCCEEDED,
    SCHEDULED,
    AnalysisStatus,
    Phase,
    RunRecord,
    results_from_summary,
)


def _finish(p: Pass, record: RunRecord, state: str, ended: dt.datetime | None) -> bool:
    """Close a finished run; False when its results could not be read yet (retry later)."""
    summary: dict[str, Any] | None = None
    if state == SUCCESS:
        try:
            summary = p.deps.airflow.results(record.run_id)
        except ExternalError as exc:
            p.fail(exc)
            return False
    done = p.status.finish_run(record.run_id, state, ended or p.now)
    if done is None:
        return True
    p.seen.finished.append(done)
    if done.state == SUCCESS:
        p.condition(RUN_SUCCEEDED, True, "RunSucceeded", f"run {done.run_id} succeeded")
        p.notes.append(Note("Normal", "RunSucceeded", f"run {done.run_id} succeeded"))
        if summary is None:
            p.notes.append(
                Note(
                    "Warning",
                    "ResultsMissing",
                    f"run {done.run_id} succeeded but its publish task returned no summary",
                )
            )
        else:
            p.status.results = results_from_summary(summary)
            if isinstance(summary.get("mlflowRunId"), str):
                p.status.mlflow["lastRunId"] = summary["mlflowRunId"]
    else:
        message = f"run {done.run_id} failed{_where_it_failed(p, done.run_id)}; see its task logs in Airflow"
        p.condition(RUN_SUCCEEDED, False, "RunFailed", message)
        p.notes.append(Note("Warning", "RunFailed", message))
    return True


def _where_it_failed(p: Pass, run_id: str) -> str:
    """` at task load (try 2 of 2)`, or '' when Airflow cannot say (the run is closed anyway)."""
    try:
        failed = p.deps.airflow.failed_tasks(run_id)
    except ExternalError:
        return ""
    return f" at task {', '.join(t.describe() for t in failed)}" if failed else ""


def _poll_runs(p: Pass) -> bool:
    """Bring every unfinished run's state up to date; False if Airflow could not be asked."""
    for record in p.status.runs_in_flight():
        try:
            info = p.deps.airflow.get_run(record.run_id)
        except ExternalError as exc:
            p.fail(exc)
            return False
        if info is None:
            p.notes.append(
                Note("Warning", "RunLost", f"Airflow no longer knows run {record.run_id}; counted as failed")
            )
            _finish(p, record, FAILED, None)
            continue
        started = parse_time(record.started_at)
        if record.state == QUEUED and info.state != QUEUED and info.start_date and started:
            p.seen.start_latencies.append(max((info.start_date - started).total_seconds(), 0.0))
        if info.state in TERMINAL_STATES:
            if not _finish(p, record, info.state, info.end_date):
                return False
        else:
            record.state = info.state
    return True


def _schedule(p: Pass, spec: ReviewAnalysisSpec) -> None:
    status, ref = p.status, p.obj.ref
    state = ScheduleState(
        active_since=p.obj.created or status.since(p.now),
        last_schedule_time=parse_time(status.last_schedule_time),
        active_run_ids=tuple(r.run_id for r in status.runs_in_flight()),
        last_triggered_generation=status.last_triggered_generation,
        last_run_now=status.last_run_now,
    )
    decision = plan(spec, ref, state, p.now, p.obj.run_now)
    p.notes.extend(decision.notes)
    status.next_schedule_time = (
        format_time(decision.next_schedule_time) if decision.next_schedule_time else None
    )
    trigger = decision.trigger
    if trigger is not None and spec.mlflow.enabled and not status.is_true(EXPERIMENT_READY):
        # The run would log into a missing experiment: keep the slot due and try again later.
        p.condition(
            SCHEDULED,
            False,
            "WaitingForExperiment",
            f"run {trigger.run_id} waits for the MLflow experiment (see ExperimentReady)",
        )
        return
    if trigger is not None:
        try:
            for run_id in decision.cancel:
                p.deps.airflow.cancel(run_id, ref.uid)
                if p.status.finish_run(run_id, FAILED, p.now) is not None:
                    p.notes.append(
                        Note(
                            "Normal",
                            "RunReplaced",
                            f"run {run_id} cancelled to start {trigger.run_id} (concurrencyPolicy Replace)",
                        )
                    )
            created = p.deps.airflow.trigger(
                trigger.run_id, run_conf(ref, spec, trigger.slot, trigger.run_id)
            )
        except ExternalError as exc:
            p.fail(exc)
            p.condition(SCHEDULED, False, exc.reason, exc.message)
            return
        if created or not status.knows_run(trigger.run_id):
            status.start_run(RunRecord(trigger.run_id, trigger.slot, QUEUED, format_time(p.now)))
            p.seen.triggered.append(trigger)
        if created:
            p.notes.append(Note("Normal", "Triggered", f"started run {trigger.run_id} ({trigger.kind})"))
        else:
            p.notes.append(
                Note(
                    "Normal",
                    "AlreadyTriggered",
                    f"run {trigger.run_id} already existed in Airflow; following it",
                )
            )
        status.last_triggered_generation = p.generation
    status.last_schedule_time = (
        format_time(decision.last_schedule_time) if decision.last_schedule_time else None
    )
    status.last_run_now = decision.run_now
    if spec.suspend:
        p.condition(SCHEDULED, False, "Suspended", "spec.suspend is true: no scheduled runs")
    elif spec.schedule:
        nxt = status.next_schedule_time or "never"
        p.condition(SCHEDULED, True, "Scheduled", f"next run at {nxt} ({spec.schedule} {spec.time_zone})")
    else:
        done = status.last_triggered_generation == p.generation
        p.condition(
            SCHEDULED,
            True,
            "OneShot",
            f"runs once per spec generation; generation {p.generation} {'triggered' if done else 'pending'}",
        )


def _phase(status: AnalysisStatus, spec: ReviewAnalysisSpec | None, errors: bool) -> Phase:
    if spec is None:
        return Phase.INVALID
    if errors:
        return Phase.ERROR
    if status.runs_in_flight():
        return Phase.RUNNING
    if spec.suspend:
        return Phase.SUSPENDED
    latest = status.condition(RUN_SUCCEEDED)
    if latest is not None and latest.status == "False":
        return Phase.FAILED
    if latest is not None and latest.status == "True":
        return Phase.SUCCEEDED
    return Phase.SCHEDULED if spec.schedule else Phase.PENDING


def _summarize(p: Pass, spec: ReviewAnalysisSpec | None) -> None:
    status = p.status
    if status.condition(RUN_SUCCEEDED) is None:
        p.condition(RUN_SUCCEEDED, None, "NoRunYet", "no run has finished yet")
    if spec is not None:
        blocking = [
            c
            for c in status.conditions
            if c.type in (EXPERIMENT_READY, DASHBOARD_READY, SCHEDULED)
            and c.status != "True"
            and c.reason != "Suspended"
        ]
        if p.errors:
            p.condition(READY, False, p.errors[0].reason, p.errors[0].message)
        elif blocking:
            p.condition(READY, False, blocking[0].reason, blocking[0].message)
        else:
            p.condition(READY, True, "Ready", "MLflow experiment, dashboard and schedule are in place")
        status.prune_history(spec.successful_runs_history_limit, spec.failed_runs_history_limit)
    status.phase = _phase(status, spec, bool(p.errors)).value
    status.observed_generation = p.generation


def reconcile(
    obj: ObjectView, deps: Deps, now: dt.datetime, verified_at: dt.datetime | None = None
) -> Outcome:
    """Reconcile one analysis at `now`; never raises for external failures (see Outcome.errors)."""
    p = Pass(obj=obj, deps=deps, now=now, status=obj.status.copy())
    try:
        parsed = parse_spec(dict(obj.spec))
        enforce(parsed, obj.ref.namespace, deps.settings.policy())
        spec: ReviewAnalysisSpec | None = parsed
    except PolicyError as exc:
        spec = None  # nothing is created or triggered for a spec pointing where it may not
        message = f"not allowed: {exc}"
        for kind in (READY, SCHEDULED):
            p.condition(kind, False, "NotAllowed", message)
        p.notes.append(Note("Warning", "NotAllowed", message))
    except SpecError as exc:
        spec = None
        message = f"invalid spec: {exc}"
        for kind in (READY, SCHEDULED):
            p.condition(kind, False, "InvalidSpec", message)
        p.notes.append(Note("Warning", "InvalidSpec", f"{message}; fix the manifest and apply it again"))
    if spec is not None and needs_verify(
        p.status, p.generation, verified_at, now, deps.settings.resync_seconds
    ):
        ensure_experiment(p, spec)
        ensure_dashboard(p, spec)
        if not p.errors:
            verified_at = now
    # Runs started by an earlier, valid generation are still followed when the spec turns invalid.
    if _poll_runs(p) and spec is not None:
        _schedule(p, spec)
    _summarize(p, spec)
    return Outcome(
        status=p.status,
        notes=p.notes,
        observations=p.seen,
        spec=spec,
        verified_at=verified_at,
        errors=p.errors,
    )
