"""Bodies the fake Airflow answers with, shaped as apache-airflow 3.3.2's response models.

`DagRun.as_response` is a DAGRunResponse, `dag_response` a DAGResponse, `xcom_entry` an
XComResponseNative, `problem` one item of FastAPI's 422 HTTPValidationError, `unique_violation`
the detail of Airflow's 409 for a duplicate dag_run_id (stack traces hidden, as by default).
tests/test_e2e_fake_airflow.py validates them against Airflow's OpenAPI document.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


def now() -> dt.datetime:
    """The current UTC time."""
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime | None) -> str | None:
    """RFC 3339 with a Z, as Airflow writes datetimes; None stays None."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def b64(data: bytes) -> str:
    """Unpadded URL-safe base64 (JWT segments, file tokens)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class DagRun:
    """One DAG run as the fake stores it."""

    dag_id: str
    run_id: str
    conf: Json
    logical_date: str | None
    state: str = "queued"
    note: str | None = None
    queued_at: dt.datetime = field(default_factory=now)
    start_date: dt.datetime | None = None
    end_date: dt.datetime | None = None
    xcom: dict[tuple[str, str], Any] = field(default_factory=dict)
    failed_tasks: list[tuple[str, int, int]] = field(default_factory=list)  # (task, try, max tries)

    def as_response(self, user: str) -> Json:
        """The DAGRunResponse body."""
        duration = (
            (self.end_date - self.start_date).total_seconds() if self.start_date and self.end_date else None
        )
        return {
            "dag_run_id": self.run_id,
            "dag_id": self.dag_id,
            "dag_display_name": self.dag_id,
            "logical_date": self.logical_date,
            "queued_at": iso(self.queued_at),
            "start_date": iso(self.start_date),
            "end_date": iso(self.end_date),
            "duration": duration,
            "data_interval_start": None,
            "data_interval_end": None,
            "run_after": iso(self.queued_at),
            "last_scheduling_decision": None,
            "run_type": "manual",
            "state": self.state,
            "triggered_by": "rest_api",
            "triggering_user_name": user,
            "conf": self.conf,
            "note": self.note,
            "dag_versions": [dag_version(self.dag_id)],
            "bundle_version": None,
            "partition_key": None,
            "partition_date": None,
        }


def dag_version(dag_id: str) -> Json:
    """A DagVersionResponse (every run carries the DAG version it ran)."""
    return {
        "id": "0197a000-0000-7000-8000-000000000001",
        "version_number": 1,
        "dag_id": dag_id,
        "bundle_name": "dags-folder",
        "bundle_version": None,
        "created_at": "2026-01-01T00:00:00Z",
        "dag_display_name": dag_id,
        "bundle_url": None,
    }


def dag_response(dag_id: str, paused: bool) -> Json:
    """A DAGResponse."""
    return {
        "dag_id": dag_id,
        "dag_display_name": dag_id,
        "is_paused": paused,
        "is_stale": False,
        "last_parsed_time": "2026-01-01T00:00:00Z",
        "last_parse_duration": 0.1,
        "last_expired": None,
        "bundle_name": "dags-folder",
        "bundle_version": None,
        "relative_fileloc": f"{dag_id}.py",
        "fileloc": f"/opt/airflow/dags/{dag_id}.py",
        "description": None,
        "timetable_summary": None,
        "timetable_description": "Never, external triggers only",
        "timetable_partitioned": False,
        "timetable_periodic": False,
        "tags": [],
        "max_active_tasks": 16,
        "max_active_runs": 16,
        "max_consecutive_failed_dag_runs": 0,
        "has_task_concurrency_limits": False,
        "has_import_errors": False,
        "next_dagrun_logical_date": None,
        "next_dagrun_data_interval_start": None,
        "next_dagrun_data_interval_end": None,
        "next_dagrun_run_after": None,
        "allowed_run_types": None,
        "owners": ["reviewops"],
        "is_backfillable": False,
        "file_token": b64(dag_id.encode()),
    }


def xcom_entry(run: DagRun, task_id: str, key: str, value: Any) -> Json:
    """An XComResponseNative body."""
    return {
        "key": key, "timestamp": iso(run.end_date or now()), "logical_date": run.logical_date,
        "map_index": -1, "task_id": task_id, "dag_id": run.dag_id, "run_id": run.run_id,
        "dag_display_name": run.dag_id, "task_display_name": task_id, "run_after": iso(run.queued_at),
        "value": value,
    }  # fmt: skip


def task_instance(run: DagRun, task_id: str, try_number: int, max_tries: int, state: str) -> Json:
    """A TaskInstanceResponse body (every field Airflow's schema requires)."""
    return {
        "id": f"00000000-0000-4000-8000-{abs(hash((run.run_id, task_id))) % 10**12:012d}",
        "task_id": task_id, "dag_id": run.dag_id, "dag_run_id": run.run_id, "map_index": -1,
        "logical_date": run.logical_date, "run_after": iso(run.queued_at), "start_date": iso(run.start_date),
        "end_date": iso(run.end_date), "duration": 1.0, "state": state, "try_number": try_number,
        "max_tries": max_tries, "task_display_name": task_id, "dag_display_name": run.dag_id,
        "hostname": "worker", "unixname": "airflow", "pool": "default_pool", "pool_slots": 1,
        "queue": "default", "priority_weight": 1, "operator": "BashOperator", "operator_name": "BashOperator",
        "queued_when": iso(run.queued_at), "scheduled_when": iso(run.queued_at), "pid": 4242,
        "executor": None, "executor_config": "{}", "note": None, "rendered_map_index": None,
        "trigger": None, "triggerer_job": None, "dag_version": dag_version(run.dag_id),
    }  # fmt: skip


def problem(kind: str, field_name: str, message: str, given: Any) -> Json:
    """One validation problem of a request body (FastAPI's 422 detail item)."""
    return {"type": kind, "loc": ["body", field_name], "msg": message, "input": given}


def unique_violation() -> Json:
    """Airflow's 409 detail when a dag_run_id already exists."""
    return {
        "reason": "Unique constraint violation", "statement": "hidden", "orig_error": "hidden",
        "message": "Serious error when handling your request. Check logs for more details",
    }  # fmt: skip
