"""The ReviewAnalysis status as typed values, and the pure rules that update it.

`AnalysisStatus.from_dict` reads whatever is on the object (tolerating missing or foreign
fields); `to_dict` writes the whole status back, so a patch that failed to apply is simply
rewritten by the next reconcile. Field names follow DESIGN.md "Contracts worth keeping stable"
and the CRD's status schema. Two pieces of bookkeeping (the run-now value already handled and
the spec generation last triggered) travel as annotations, see `bookkeeping_patch`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reviewops_operator.clients.base import FAILED, SUCCESS, TERMINAL_STATES
from reviewops_operator.identity import (
    HANDLED_RUN_NOW_ANNOTATION,
    TRIGGERED_GENERATION_ANNOTATION,
    format_time,
    parse_time,
)

TOP_ITEMS = 5  # topTopics / negativeDrivers kept in status: enough for `kubectl describe`


class Phase(StrEnum):
    """One-word summary of an analysis (printed by `kubectl get`), first match wins."""

    INVALID = "Invalid"  # the spec was rejected; status.conditions names the field
    ERROR = "Error"  # Airflow, MLflow, Grafana or the API failed; retrying with backoff
    RUNNING = "Running"  # a run is queued or running in Airflow
    SUSPENDED = "Suspended"  # spec.suspend is true and nothing runs
    FAILED = "Failed"  # the latest finished run failed
    SUCCEEDED = "Succeeded"  # the latest finished run succeeded
    SCHEDULED = "Scheduled"  # waiting for the first cron slot
    PENDING = "Pending"  # accepted, nothing has run yet


READY = "Ready"
SCHEDULED = "Scheduled"
EXPERIMENT_READY = "ExperimentReady"
DASHBOARD_READY = "DashboardReady"
RUN_SUCCEEDED = "RunSucceeded"
CONDITION_TYPES = (READY, SCHEDULED, EXPERIMENT_READY, DASHBOARD_READY, RUN_SUCCEEDED)


@dataclass(slots=True)
class Condition:
    """A Kubernetes-style condition (`kubectl wait --for=condition=Ready` reads these)."""

    type: str
    status: str  # "True" | "False" | "Unknown"
    reason: str
    message: str
    last_transition_time: str
    observed_generation: int

    def to_dict(self) -> dict[str, Any]:
        out = {
            "type": self.type,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "lastTransitionTime": self.last_transition_time,
            "observedGeneration": self.observed_generation,
        }
        if not self.last_transition_time:  # read without one; "" is not a date-time to the API server
            del out["lastTransitionTime"]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Condition:
        status = data.get("status")
        return cls(
            type=str(data["type"]),
            status=status if status in ("True", "False", "Unknown") else "Unknown",
            reason=_str(data.get("reason")),
            message=_str(data.get("message")),
            last_transition_time=_time_or_none(data.get("lastTransitionTime")) or "",
            observed_generation=_int(data.get("observedGeneration")),
        )


@dataclass(slots=True)
class RunRecord:
    """One Airflow run as shown in `activeRun` and `history[]`."""

    run_id: str
    slot: str
    state: str
    started_at: str  # when the operator triggered it
    finished_at: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_STATES

    def to_dict(self) -> dict[str, Any]:
        out = {"runId": self.run_id, "slot": self.slot, "state": self.state}
        if self.started_at:  # read without one; "" is not a date-time to the API server
            out["startedAt"] = self.started_at
        if self.finished_at:
            out["finishedAt"] = self.finished_at
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        run_id = _str(data.get("runId"))
        return cls(
            run_id=run_id,
            slot=_str_or_none(data.get("slot")) or run_id.rsplit("__", 1)[-1],
            state=_str_or_none(data.get("state")) or "queued",
            started_at=_time_or_none(data.get("startedAt")) or "",
            finished_at=_time_or_none(data.get("finishedAt")),
        )


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: object) -> float | int | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _time_or_none(value: object) -> str | None:
    """A timestamp read from status, in the one form this operator writes (RFC 3339 UTC with a Z,
    so that comparing two as text compares the instants), or None when it is not a time."""
    if not isinstance(value, str):
        return None
    try:
        moment = parse_time(value)
        if moment is None:
            return None
        text = format_time(moment)
        readable = parse_time(text) == moment.replace(microsecond=0)  # not so for years before 1000
    except (ValueError, OverflowError):  # not a time, or out of years 1-9999 once in UTC
        return None
    return text if readable else None


def _strings(value: object) -> dict[str, str]:
    """A block of string fields (status.mlflow, status.dashboard); anything else is dropped."""
    if not isinstance(value, Mapping):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _items(value: object) -> list[Any]:
    """A JSON array read from status ([] for anything else, a string included)."""
    return list(value) if isinstance(value, list | tuple) else []


def _run(value: object) -> RunRecord | None:
    """A run record read from status; None without a runId (nothing to follow in Airflow)."""
    return RunRecord.from_dict(value) if isinstance(value, Mapping) and _str(value.get("runId")) else None


_TRIGGERED_GENERATION = re.compile(r"[0-9]+")


@dataclass(slots=True)
class AnalysisStatus:
    """Everything the operator writes under `.status`."""

    observed_generation: int | None = None
    phase: str | None = None
    conditions: list[Condition] = field(default_factory=list)
    last_schedule_time: str | None = None
    next_schedule_time: str | None = None
    last_successful_time: str | None = None
    active_run: RunRecord | None = None
    history: list[RunRecord] = field(default_factory=list)
    succeeded_runs: int = 0
    failed_runs: int = 0
    mlflow: dict[str, Any] = field(default_factory=dict)
    dashboard: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] | None = None
    last_run_now: str | None = None
    last_triggered_generation: int | None = None

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any] | None, annotations: Mapping[str, str] | None = None
    ) -> AnalysisStatus:
        """Read `.status` (and the bookkeeping annotations); unknown or malformed parts are ignored."""
        data = data if isinstance(data, Mapping) else {}
        annotations = annotations if isinstance(annotations, Mapping) else {}
        generation = _str(annotations.get(TRIGGERED_GENERATION_ANNOTATION))
        conditions: dict[str, Condition] = {}
        for item in _items(data.get("conditions")):
            # conditions are a list-map keyed by type: the first of each type counts
            if isinstance(item, Mapping) and item.get("type") in CONDITION_TYPES:
                conditions.setdefault(str(item["type"]), Condition.from_dict(item))
        runs = [_run(item) for item in _items(data.get("history"))]
        return cls(
            observed_generation=_int_or_none(data.get("observedGeneration")),
            phase=_str_or_none(data.get("phase")),
            conditions=list(conditions.values()),
            last_schedule_time=_time_or_none(data.get("lastScheduleTime")),
            next_schedule_time=_time_or_none(data.get("nextScheduleTime")),
            last_successful_time=_time_or_none(data.get("lastSuccessfulTime")),
            active_run=_run(data.get("activeRun")),
            history=[run for run in runs if run is not None],
            succeeded_runs=_int(data.get("succeededRuns")),
            failed_runs=_int(data.get("failedRuns")),
            mlflow=_strings(data.get("mlflow")),
            dashboard=_strings(data.get("dashboard")),
            results=_results_block(data.get("results")),
            last_run_now=_str_or_none(annotations.get(HANDLED_RUN_NOW_ANNOTATION)),
            last_triggered_generation=(
                int(generation) if _TRIGGERED_GENERATION.fullmatch(generation) else None
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The full status (bookkeeping excluded); None values delete the field in a merge patch."""
        return {
            "observedGeneration": self.observed_generation,
            "phase": self.phase,
            "conditions": [c.to_dict() for c in self.conditions],
            "lastScheduleTime": self.last_schedule_time,
            "nextScheduleTime": self.next_schedule_time,
            "lastSuccessfulTime": self.last_successful_time,
            "activeRun": self.active_run.to_dict() if self.active_run else None,
            "history": [h.to_dict() for h in self.history],
            "succeededRuns": self.succeeded_runs,
            "failedRuns": self.failed_runs,
            "mlflow": self.mlflow or None,
            "dashboard": self.dashboard or None,
            "results": self.results,
        }

    def copy(self) -> AnalysisStatus:
        """A deep-enough copy to modify without touching the original."""
        return dataclasses.replace(
            self,
            conditions=[dataclasses.replace(c) for c in self.conditions],
            active_run=dataclasses.replace(self.active_run) if self.active_run else None,
            history=[dataclasses.replace(h) for h in self.history],
            mlflow=dict(self.mlflow),
            dashboard=dict(self.dashboard),
            results=dict(self.results) if self.results is not None else None,
        )

    # --- conditions ------------------------------------------------------------------------------
    def condition(self, kind: str) -> Condition | None:
        """The condition of that type, if set."""
        return next((c for c in self.conditions if c.type == kind), None)

    def is_true(self, kind: str) -> bool:
        """Whether the condition is set and True."""
        found = self.condition(kind)
        return found is not None and found.status == "True"

    def set_condition(
        self, kind: str, status: bool | None, reason: str, message: str, generation: int, now: dt.datetime
    ) -> bool:
        """Set a condition; lastTransitionTime moves only when the status flips. True if it flipped."""
        text = {True: "True", False: "False", None: "Unknown"}[status]
        current = self.condition(kind)
        if current is None:
            current = Condition(kind, text, reason, message, format_time(now), generation)
            self.conditions.append(current)
            self.conditions.sort(key=lambda c: CONDITION_TYPES.index(c.type))
            return True
        flipped = current.status != text
        if flipped:
            current.last_transition_time = format_time(now)
        current.status, current.reason, current.message = text, reason, message
        current.observed_generation = generation
        return flipped

    # --- runs ------------------------------------------------------------------------------------
    def runs_in_flight(self) -> list[RunRecord]:
        """Runs not finished yet: the active one, and older ones still going (Allow)."""
        older = [h for h in self.history if not h.finished]
        return older + ([self.active_run] if self.active_run else [])

    def knows_run(self, run_id: str) -> bool:
        """Whether the run is already tracked (active or in history)."""
        return any(
            r.run_id == run_id for r in [*self.history, *([self.active_run] if self.active_run else [])]
        )

    def start_run(self, record: RunRecord) -> None:
        """Make `record` the active run; a previous unfinished one keeps being followed in history."""
        if self.active_run is not None:
            self.history.append(self.active_run)
        self.active_run = record

    def finish_run(self, run_id: str, state: str, finished_at: dt.datetime) -> RunRecord | None:
        """Record a run's end: counters, lastSuccessfulTime, history. Returns the record."""
        record = next((r for r in self.runs_in_flight() if r.run_id == run_id), None)
        if record is None:
            return None
        record.state = SUCCESS if state == SUCCESS else FAILED
        record.finished_at = format_time(finished_at)
        if self.active_run is record:
            self.active_run = None
            self.history.append(record)
        if record.state == SUCCESS:
            self.succeeded_runs += 1
            self.last_successful_time = max(filter(None, [self.last_successful_time, record.finished_at]))
        else:
            self.failed_runs += 1
        return record

    def prune_history(self, successful_limit: int, failed_limit: int) -> None:
        """Keep the newest N successful and M failed runs, and every unfinished one."""
        kept: list[RunRecord] = []
        budget = {SUCCESS: successful_limit, FAILED: failed_limit}
        for record in reversed(self.history):
            if not record.finished:
                kept.append(record)
            elif budget[record.state] > 0:
                budget[record.state] -= 1
                kept.append(record)
        self.history = list(reversed(kept))

    def latest_finished(self) -> RunRecord | None:
        """The most recently finished run still in history."""
        finished = [h for h in self.history if h.finished and h.finished_at]
        return max(finished, key=lambda h: h.finished_at or "", default=None)

    def since(self, fallback: dt.datetime) -> dt.datetime:
        """When scheduling became active: the Scheduled condition's first transition, or fallback."""
        found = self.condition(SCHEDULED)
        moment = parse_time(found.last_transition_time) if found else None
        return moment or fallback


def results_from_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The status `results` block from the DAG's published summary (tolerant of gaps)."""

    def number(key: str) -> float | None:
        value = summary.get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    def labels(key: str) -> list[str]:
        items = summary.get(key)
        if not isinstance(items, Sequence) or isinstance(items, str):
            return []
        out = [str(i.get("label", "")) if isinstance(i, Mapping) else str(i) for i in items]
        return [label for label in out if label][:TOP_ITEMS]

    shares = summary.get("sentiment")
    sentiment = {
        key: float(shares[key])
        for key in ("positive", "neutral", "negative")
        if isinstance(shares, Mapping) and isinstance(shares.get(key), int | float)
    }
    reviews = summary.get("reviews")
    results: dict[str, Any] = {
        "reviews": int(reviews) if isinstance(reviews, int | float) else None,
        "meanRating": number("meanRating"),
        "sentiment": sentiment or None,
        "negativePercent": round(100 * sentiment["negative"], 1) if "negative" in sentiment else None,
        "topTopics": labels("topTopics"),
        "negativeDrivers": labels("negativeDrivers"),
        "macroF1": number("macroF1"),
        "coherence": number("coherence"),
        "model": _model_block(summary.get("model")),
    }
    return {k: v for k, v in results.items() if v is not None}


_MODEL_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str, "version": str, "registered": bool, "macroF1": (int, float), "championBefore": str,
    "championMacroF1": (int, float), "promoted": bool, "champion": str, "reason": str, "uri": str,
    "scoredWith": str,
}  # fmt: skip


def _results_block(block: object) -> dict[str, Any] | None:
    """status.results as read back: the typed fields of the CRD's results schema only."""
    if not isinstance(block, Mapping):
        return None
    shares = block.get("sentiment")
    sentiment = {
        key: value
        for key in ("positive", "neutral", "negative")
        if isinstance(shares, Mapping) and (value := _number(shares.get(key))) is not None
    }
    labels = {
        key: [item for item in _items(block.get(key)) if isinstance(item, str)]
        for key in ("topTopics", "negativeDrivers")
        if key in block
    }
    numbers = {
        key: _number(block.get(key)) for key in ("meanRating", "negativePercent", "macroF1", "coherence")
    }
    results: dict[str, Any] = {
        "reviews": _int_or_none(block.get("reviews")),
        **numbers,
        "sentiment": sentiment or None,
        **labels,
        "model": _model_block(block.get("model")),
    }
    return {k: v for k, v in results.items() if v is not None}


def _model_block(block: object) -> dict[str, Any] | None:
    """The publish task's model block (registration and champion decision), typed fields only."""
    if not isinstance(block, Mapping):
        return None
    kept = {
        key: block[key]
        for key, kind in _MODEL_FIELDS.items()
        # a bool is an int to isinstance: only boolean fields take one
        if isinstance(block.get(key), kind) and (kind is bool or not isinstance(block.get(key), bool))
    }
    return kept or None


def merge_diff(current: Any, new: Any) -> Any:
    """The RFC 7386 merge patch turning `current` into `new` (nested keys that vanish get null)."""
    if not isinstance(current, Mapping) or not isinstance(new, Mapping):
        return new
    patch: dict[str, Any] = {key: None for key in current if key not in new}
    for key, value in new.items():
        if key not in current or current[key] != value:
            patch[key] = merge_diff(current.get(key), value)
    return patch


def status_patch(new: AnalysisStatus, current: Mapping[str, Any] | None) -> dict[str, Any]:
    """The merge patch from the object's status to `new`: empty when nothing changed.

    Only the fields this operator owns are compared (kopf keeps its own under status.kopf), and
    unchanged fields are left out, so a quiet timer pass writes nothing to the API server.
    """
    current = current or {}
    patch: dict[str, Any] = {}
    for key, value in new.to_dict().items():
        if value is None:
            if current.get(key) is not None:
                patch[key] = None
        elif current.get(key) != value:
            patch[key] = merge_diff(current.get(key), value)
    return patch


def bookkeeping_patch(new: AnalysisStatus, annotations: Mapping[str, str] | None) -> dict[str, str]:
    """Annotations to write so the bookkeeping survives a restart (only those that changed)."""
    wanted = {
        HANDLED_RUN_NOW_ANNOTATION: new.last_run_now,
        TRIGGERED_GENERATION_ANNOTATION: (
            str(new.last_triggered_generation) if new.last_triggered_generation is not None else None
        ),
    }
    current = annotations or {}
    return {k: v for k, v in wanted.items() if v is not None and current.get(k) != v}
