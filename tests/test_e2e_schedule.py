"""End to end: schedule slots, as the operator's clock moves (no waiting for real time).

Missed windows (only the latest slot runs; a late one is skipped past startingDeadlineSeconds),
both DST changes of Europe/Paris for a daily 02:30 slot, suspend, and concurrencyPolicy Forbid.
The handlers read the time through tests/support/operator_harness.py `Clock`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.e2e import (
    API,
    KIND,
    RESULT,
    condition,
    example,
    posts_of,
    runs_of,
    settle,
    wait_event,
    wait_runs,
    wait_status,
)
from tests.support.fake_airflow_payloads import DagRun
from tests.support.operator_harness import Clock, Stack

pytestmark = pytest.mark.slow
pytest_plugins = ["tests.support.e2e_fixtures"]  # the stack, ns and clock fixtures


def _hourly(ns: str, **spec: Any) -> dict[str, Any]:
    obj = example("backmarket-en.yaml", ns, schedule="0 * * * *", timeZone="UTC", **spec)
    obj["metadata"]["name"] = "hourly"
    return obj


def _top_of_hour(moment: dt.datetime) -> dt.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def test_missed_windows_run_only_the_latest_slot_and_late_slots_are_skipped(
    stack: Stack, ns: str, clock: Clock
) -> None:
    stack.client.create(_hourly(ns, startingDeadlineSeconds=300))
    wait_status(stack, ns, "hourly", lambda o: o.get("status", {}).get("nextScheduleTime"), "first reconcile")

    slot = _top_of_hour(clock.moment + dt.timedelta(hours=5))
    clock.set(slot + dt.timedelta(minutes=2))  # the operator was "down" for 5 hours
    (run,) = wait_runs(stack, ns, 1)
    assert run.conf["analysis"]["slot"] == slot.strftime("%Y-%m-%dT%H:%M:%SZ")
    missed = wait_event(stack, ns, "hourly", "MissedSlots")
    assert "running only the latest" in missed[0]["message"]
    stack.airflow.complete_run(run.run_id, RESULT)
    wait_status(stack, ns, "hourly", lambda o: o["status"].get("phase") == "Succeeded", "slot run done")

    late = slot + dt.timedelta(hours=1)
    clock.set(late + dt.timedelta(minutes=10))  # 600 s late with startingDeadlineSeconds=300
    obj = wait_status(
        stack,
        ns,
        "hourly",
        lambda o: o["status"].get("lastScheduleTime") == late.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "late slot recorded",
    )
    wait_event(stack, ns, "hourly", "MissedSchedule")
    assert len(runs_of(stack, ns)) == 1
    assert obj["status"]["nextScheduleTime"] == (late + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _transition(zone: ZoneInfo, after: dt.date, forward: bool) -> dt.date:
    """The next local date on which the zone's UTC offset grows (forward) or shrinks."""
    day = after
    while True:
        day += dt.timedelta(days=1)
        before = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(12), zone).utcoffset()
        now = dt.datetime.combine(day, dt.time(12), zone).utcoffset()
        assert before is not None and now is not None
        if (now > before) if forward else (now < before):
            return day


def test_daily_slot_across_both_dst_changes_runs_once_per_day(stack: Stack, ns: str, clock: Clock) -> None:
    paris = ZoneInfo("Europe/Paris")
    obj = example(
        "backmarket-en.yaml", ns, schedule="30 2 * * *", timeZone="Europe/Paris", startingDeadlineSeconds=None
    )
    obj["metadata"]["name"] = "nightly"
    stack.client.create(obj)
    wait_status(
        stack, ns, "nightly", lambda o: o.get("status", {}).get("nextScheduleTime"), "first reconcile"
    )

    def utc(day: dt.date, hour: int, minute: int, fold: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute, fold=fold), paris).astimezone(dt.UTC)

    def text(moment: dt.datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def run_for(slot: dt.datetime, count: int) -> DagRun:
        run = wait_runs(stack, ns, count)[count - 1]
        assert run.conf["analysis"]["slot"] == text(slot)
        stack.airflow.complete_run(run.run_id, RESULT)
        wait_status(
            stack, ns, "nightly", lambda o: not o["status"].get("activeRun"), f"run {run.run_id} done"
        )
        return run

    spring = _transition(paris, clock.moment.date(), forward=True)  # 02:00-03:00 does not exist
    clock.set(utc(spring - dt.timedelta(days=1), 2, 31))
    run_for(utc(spring - dt.timedelta(days=1), 2, 30), 1)

    clock.set(utc(spring, 1, 59) + dt.timedelta(seconds=30))
    gap_end = dt.datetime.combine(spring, dt.time(3, 0), paris).astimezone(dt.UTC)
    wait_status(
        stack, ns, "nightly", lambda o: o["status"].get("nextScheduleTime") == text(gap_end), "next = gap end"
    )
    clock.set(gap_end + dt.timedelta(seconds=30))
    run_for(gap_end, 2)  # 02:30 did not exist: the slot ran at 03:00 CEST, once

    autumn = _transition(paris, spring, forward=False)  # 02:00-03:00 happens twice
    first_0230 = utc(autumn, 2, 30, fold=0)
    clock.set(first_0230 + dt.timedelta(minutes=1))
    run_for(first_0230, 3)
    second_0230 = utc(autumn, 2, 30, fold=1)
    assert second_0230 - first_0230 == dt.timedelta(hours=1)
    clock.set(second_0230 + dt.timedelta(minutes=1))
    next_day = utc(autumn + dt.timedelta(days=1), 2, 30)
    wait_status(
        stack,
        ns,
        "nightly",
        lambda o: o["status"].get("nextScheduleTime") == text(next_day),
        "next = tomorrow",
    )
    assert len(runs_of(stack, ns)) == 3  # the repeated 02:30 did not run twice


def test_suspend_stops_scheduled_runs_until_resumed(stack: Stack, ns: str, clock: Clock) -> None:
    stack.client.create(_hourly(ns, suspend=True))
    obj = wait_status(
        stack, ns, "hourly", lambda o: o.get("status", {}).get("phase") == "Suspended", "Suspended"
    )
    assert condition(obj, "Scheduled")["reason"] == "Suspended"
    assert "nextScheduleTime" not in obj["status"]

    slot = _top_of_hour(clock.moment + dt.timedelta(hours=2))
    clock.set(slot + dt.timedelta(minutes=1))
    settle(stack)
    assert runs_of(stack, ns) == []

    stack.client.patch(API, KIND, ns, "hourly", {"spec": {"suspend": False}})
    (run,) = wait_runs(stack, ns, 1)  # like a CronJob: the latest slot missed while suspended runs
    assert run.conf["analysis"]["slot"] == slot.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_forbid_skips_a_slot_while_a_run_is_active(stack: Stack, ns: str, clock: Clock) -> None:
    stack.client.create(_hourly(ns, concurrencyPolicy="Forbid"))
    wait_status(stack, ns, "hourly", lambda o: o.get("status", {}).get("nextScheduleTime"), "first reconcile")
    slot = _top_of_hour(clock.moment + dt.timedelta(hours=1))
    clock.set(slot + dt.timedelta(minutes=1))
    (run,) = wait_runs(stack, ns, 1)
    stack.airflow.start_run(run.run_id)

    clock.set(slot + dt.timedelta(hours=1, minutes=1))
    obj = wait_status(
        stack,
        ns,
        "hourly",
        lambda o: (
            o["status"]
            .get("lastScheduleTime", "")
            .startswith((slot + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H"))
        ),
        "second slot considered",
    )
    wait_event(stack, ns, "hourly", "SkippedConcurrent")
    assert obj["status"]["activeRun"]["runId"] == run.run_id
    assert obj["status"]["activeRun"]["state"] == "running"
    assert posts_of(stack, ns) == 1
