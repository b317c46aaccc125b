"""The schedule logic: pure functions of (spec, state, now), so every case is exact."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from reviewops.spec import ReviewAnalysisSpec, parse_spec
from reviewops_operator.identity import AnalysisRef
from reviewops_operator.schedule import (
    ScheduleState,
    count_slots_between,
    latest_slot,
    next_slot,
    plan,
    wall_to_utc,
)

PARIS = ZoneInfo("Europe/Paris")
REF = AnalysisRef(namespace="insights", name="backmarket-en", uid="u-1", generation=1)
CREATED = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)  # type: ignore[misc]


def spec(**fields: Any) -> ReviewAnalysisSpec:
    return parse_spec({"company": {"name": "Back Market", "domain": "www.example.com"}, **fields})


def daily(**fields: Any) -> ReviewAnalysisSpec:
    return spec(schedule="0 6 * * *", timeZone="UTC", **fields)


# --- time zones and DST ---------------------------------------------------------------------


def test_wall_time_that_exists_once_maps_to_its_only_instant() -> None:
    assert wall_to_utc(dt.datetime(2024, 6, 1, 6, 0), PARIS) == utc(2024, 6, 1, 4, 0)


def test_wall_time_in_spring_forward_gap_fires_when_the_gap_ends() -> None:
    # 2024-03-31 02:00 CET -> 03:00 CEST: 02:30 never happens; it runs at 03:00 CEST = 01:00Z.
    assert wall_to_utc(dt.datetime(2024, 3, 31, 2, 30), PARIS) == utc(2024, 3, 31, 1, 0)


def test_wall_time_in_fall_back_overlap_fires_at_its_first_occurrence() -> None:
    # 2024-10-27 03:00 CEST -> 02:00 CET: 02:30 happens at 00:30Z and again at 01:30Z.
    assert wall_to_utc(dt.datetime(2024, 10, 27, 2, 30), PARIS) == utc(2024, 10, 27, 0, 30)


def test_daily_slot_in_the_spring_gap_runs_exactly_once_that_day() -> None:
    cron = "30 2 * * *"
    assert next_slot(cron, PARIS, utc(2024, 3, 30, 12)) == utc(2024, 3, 31, 1, 0)
    assert next_slot(cron, PARIS, utc(2024, 3, 31, 1, 0)) == utc(2024, 4, 1, 0, 30)
    assert count_slots_between(cron, PARIS, utc(2024, 3, 30, 12), utc(2024, 4, 1, 12)) == 2


def test_daily_slot_in_the_fall_overlap_runs_exactly_once_that_day() -> None:
    cron = "30 2 * * *"
    # During the second 02:xx hour (01:45Z = 02:45 CET) the day's slot is already behind us.
    assert latest_slot(cron, PARIS, utc(2024, 10, 27, 1, 45)) == utc(2024, 10, 27, 0, 30)
    assert next_slot(cron, PARIS, utc(2024, 10, 27, 0, 30)) == utc(2024, 10, 28, 1, 30)
    assert count_slots_between(cron, PARIS, utc(2024, 10, 26, 12), utc(2024, 10, 28, 12)) == 2


def test_hourly_cron_across_spring_forward_has_no_duplicate_and_no_gap_slot() -> None:
    cron = "0 * * * *"
    # 01:00 CET = 00:00Z; 02:00 does not exist (-> 03:00 CEST = 01:00Z, the same as 03:00).
    assert next_slot(cron, PARIS, utc(2024, 3, 31, 0, 0)) == utc(2024, 3, 31, 1, 0)
    assert next_slot(cron, PARIS, utc(2024, 3, 31, 1, 0)) == utc(2024, 3, 31, 2, 0)


def test_hourly_cron_across_fall_back_runs_the_repeated_hour_once() -> None:
    cron = "0 * * * *"
    # 02:00 CEST = 00:00Z; the second 02:00 (CET, 01:00Z) is skipped; 03:00 CET = 02:00Z.
    assert next_slot(cron, PARIS, utc(2024, 10, 27, 0, 0)) == utc(2024, 10, 27, 2, 0)
    assert latest_slot(cron, PARIS, utc(2024, 10, 27, 1, 30)) == utc(2024, 10, 27, 0, 0)


def test_cron_that_never_fires_gives_no_slot() -> None:
    assert latest_slot("0 0 30 2 *", PARIS, utc(2024, 6, 1)) is None
    assert next_slot("0 0 30 2 *", PARIS, utc(2024, 6, 1)) is None


def test_plan_in_paris_triggers_the_gap_slot_with_its_utc_instant() -> None:
    s = spec(schedule="30 2 * * *", timeZone="Europe/Paris")
    decision = plan(s, REF, ScheduleState(active_since=CREATED), utc(2024, 3, 31, 1, 0, 20))
    assert decision.trigger is not None
    assert decision.trigger.run_id == "ra__insights__backmarket-en__2024-03-31T01:00:00Z"
    assert decision.last_schedule_time == utc(2024, 3, 31, 1, 0)
    assert decision.next_schedule_time == utc(2024, 4, 1, 0, 30)


# --- scheduled slots ------------------------------------------------------------------------


def test_nothing_is_due_before_the_first_slot_after_creation() -> None:
    created = utc(2024, 5, 1, 10)
    decision = plan(daily(), REF, ScheduleState(active_since=created), utc(2024, 5, 1, 12))
    assert decision.trigger is None
    assert decision.last_schedule_time is None
    assert decision.next_schedule_time == utc(2024, 5, 2, 6)


def test_a_due_slot_triggers_a_deterministic_run() -> None:
    state = ScheduleState(active_since=utc(2024, 5, 1, 10))
    first = plan(daily(), REF, state, utc(2024, 5, 2, 6, 0, 30))
    again = plan(daily(), REF, state, utc(2024, 5, 2, 6, 1))
    assert first.trigger is not None and again.trigger is not None
    assert first.trigger.run_id == again.trigger.run_id == "ra__insights__backmarket-en__2024-05-02T06:00:00Z"
    assert first.trigger.slot == "2024-05-02T06:00:00Z"
    assert first.last_schedule_time == utc(2024, 5, 2, 6)
    assert first.notes == ()


def test_a_slot_already_scheduled_is_not_triggered_again() -> None:
    state = ScheduleState(active_since=CREATED, last_schedule_time=utc(2024, 5, 2, 6))
    assert plan(daily(), REF, state, utc(2024, 5, 2, 18)).trigger is None


def test_after_downtime_only_the_latest_missed_slot_runs_and_the_rest_are_reported() -> None:
    state = ScheduleState(active_since=CREATED, last_schedule_time=utc(2024, 5, 1, 6))
    decision = plan(daily(), REF, state, utc(2024, 5, 4, 9))
    assert decision.trigger is not None
    assert decision.trigger.slot == "2024-05-04T06:00:00Z"
    assert [n.reason for n in decision.notes] == ["MissedSlots"]
    assert decision.notes[0].message.startswith("2 earlier slot(s)")


def test_a_slot_later_than_the_starting_deadline_is_skipped_once_with_a_warning() -> None:
    s = daily(startingDeadlineSeconds=600)
    state = ScheduleState(active_since=CREATED, last_schedule_time=utc(2024, 5, 1, 6))
    late = plan(s, REF, state, utc(2024, 5, 2, 6, 20))
    assert late.trigger is None
    assert [(n.type, n.reason) for n in late.notes] == [("Warning", "MissedSchedule")]
    assert late.last_schedule_time == utc(2024, 5, 2, 6)
    # Recorded as handled: the next pass neither triggers nor warns again.
    state2 = ScheduleState(active_since=CREATED, last_schedule_time=late.last_schedule_time)
    later = plan(s, REF, state2, utc(2024, 5, 2, 6, 25))
    assert later.trigger is None and later.notes == ()


def test_a_slot_within_the_starting_deadline_still_runs() -> None:
    state = ScheduleState(active_since=CREATED, last_schedule_time=utc(2024, 5, 1, 6))
    decision = plan(daily(startingDeadlineSeconds=600), REF, state, utc(2024, 5, 2, 6, 9))
    assert decision.trigger is not None


def test_deadline_applies_to_the_latest_slot_after_downtime() -> None:
    state = ScheduleState(active_since=CREATED, last_schedule_time=utc(2024, 5, 1, 6))
    decision = plan(daily(startingDeadlineSeconds=3600), REF, state, utc(2024, 5, 4, 9))
    assert decision.trigger is None
    assert decision.last_schedule_time == utc(2024, 5, 4, 6)


# --- suspend --------------------------------------------------------------------------------


def test_suspended_analysis_schedules_nothing_and_has_no_next_time() -> None:
    state = ScheduleState(active_since=CREATED, last_schedule_time=utc(2024, 5, 1, 6))
    decision = plan(daily(suspend=True), REF, state, utc(2024, 5, 3, 9))
    assert decision.trigger is None
    assert decision.next_schedule_time is None
    assert decision.last_schedule_time == utc(2024, 5, 1, 6)  # untouched while suspended


def test_resuming_runs_the_latest_slot_missed_while_suspended_like_cronjob() -> None:
    state = ScheduleState(active_since=CREATED, last_schedule_time=utc(2024, 5, 1, 6))
    decision = plan(daily(), REF, state, utc(2024, 5, 3, 9))
    assert decision.trigger is not None and decision.trigger.slot == "2024-05-03T06:00:00Z"


def test_run_now_still_runs_while_suspended() -> None:
    state = ScheduleState(active_since=CREATED)
    decision = plan(daily(suspend=True), REF, state, utc(2024, 5, 3, 9), run_now="2024-05-03T09:00")
    assert decision.trigger is not None and decision.trigger.kind == "manual"


# --- concurrency ----------------------------------------------------------------------------

ACTIVE = ("ra__insights__backmarket-en__2024-05-01T06:00:00Z",)


def _due_with_active(**fields: Any) -> tuple[ReviewAnalysisSpec, ScheduleState, dt.datetime]:
    state = ScheduleState(active_since=CREATED, last_schedule_time=utc(2024, 5, 1, 6), active_run_ids=ACTIVE)
    return daily(**fields), state, utc(2024, 5, 2, 6, 1)


def test_forbid_with_an_active_run_skips_the_slot_once() -> None:
    s, state, now = _due_with_active()
    decision = plan(s, REF, state, now)
    assert decision.trigger is None
    assert decision.last_schedule_time == utc(2024, 5, 2, 6)
    assert [n.reason for n in decision.notes] == ["SkippedConcurrent"]
    assert ACTIVE[0] in decision.notes[0].message


def test_replace_cancels_the_active_run_and_starts_the_new_one() -> None:
    s, state, now = _due_with_active(concurrencyPolicy="Replace")
    decision = plan(s, REF, state, now)
    assert decision.trigger is not None and decision.trigger.slot == "2024-05-02T06:00:00Z"
    assert decision.cancel == ACTIVE


def test_allow_starts_the_new_run_beside_the_active_one() -> None:
    s, state, now = _due_with_active(concurrencyPolicy="Allow")
    decision = plan(s, REF, state, now)
    assert decision.trigger is not None
    assert decision.cancel == ()


# --- run-now --------------------------------------------------------------------------------


def test_a_new_run_now_value_starts_one_manual_run() -> None:
    state = ScheduleState(active_since=utc(2024, 5, 1, 10))
    now = utc(2024, 5, 1, 12, 0, 5)
    decision = plan(daily(), REF, state, now, run_now="try-1")
    assert decision.trigger is not None
    assert decision.trigger.run_id == "ra__insights__backmarket-en__manual-try-1"
    assert decision.run_now == "try-1"
    assert decision.last_schedule_time == now.replace(microsecond=0)


def test_a_run_now_value_already_handled_does_nothing() -> None:
    state = ScheduleState(active_since=utc(2024, 5, 1, 10), last_run_now="try-1")
    decision = plan(daily(), REF, state, utc(2024, 5, 1, 12), run_now="try-1")
    assert decision.trigger is None and decision.run_now == "try-1"


def test_run_now_waits_for_an_active_run_under_forbid_and_then_starts() -> None:
    busy = ScheduleState(active_since=utc(2024, 5, 1, 10), active_run_ids=ACTIVE)
    waiting = plan(daily(), REF, busy, utc(2024, 5, 1, 12), run_now="try-2")
    assert waiting.trigger is None
    assert waiting.run_now is None  # not consumed: it is still pending
    assert [n.reason for n in waiting.notes] == ["WaitingForActiveRun"]
    free = ScheduleState(active_since=utc(2024, 5, 1, 10))
    started = plan(daily(), REF, free, utc(2024, 5, 1, 12, 5), run_now="try-2")
    assert started.trigger is not None and started.run_now == "try-2"


def test_a_due_slot_goes_first_and_run_now_follows_on_the_next_pass() -> None:
    state = ScheduleState(active_since=CREATED, last_schedule_time=utc(2024, 5, 1, 6))
    decision = plan(daily(concurrencyPolicy="Allow"), REF, state, utc(2024, 5, 2, 6, 1), run_now="x")
    assert decision.trigger is not None and decision.trigger.kind == "scheduled"
    assert decision.run_now is None


# --- one-shot -------------------------------------------------------------------------------


def test_one_shot_runs_once_per_generation() -> None:
    s = spec()
    first = plan(s, REF, ScheduleState(active_since=CREATED), utc(2024, 5, 1))
    assert first.trigger is not None
    assert first.trigger.run_id == "ra__insights__backmarket-en__gen-1"
    assert first.next_schedule_time is None
    done = ScheduleState(active_since=CREATED, last_triggered_generation=1)
    assert plan(s, REF, done, utc(2024, 5, 2)).trigger is None
    gen2 = AnalysisRef(namespace="insights", name="backmarket-en", uid="u-1", generation=2)
    second = plan(s, gen2, done, utc(2024, 5, 3))
    assert second.trigger is not None and second.trigger.slot == "gen-2"


def test_one_shot_waits_for_the_previous_generation_under_forbid() -> None:
    gen2 = AnalysisRef(namespace="insights", name="backmarket-en", uid="u-1", generation=2)
    busy = ScheduleState(active_since=CREATED, last_triggered_generation=1, active_run_ids=("ra__x__gen-1",))
    decision = plan(spec(), gen2, busy, utc(2024, 5, 3))
    assert decision.trigger is None
    assert [n.reason for n in decision.notes] == ["WaitingForActiveRun"]


def test_one_shot_replace_cancels_the_previous_generation() -> None:
    gen2 = AnalysisRef(namespace="insights", name="backmarket-en", uid="u-1", generation=2)
    busy = ScheduleState(active_since=CREATED, last_triggered_generation=1, active_run_ids=("ra__x__gen-1",))
    decision = plan(spec(concurrencyPolicy="Replace"), gen2, busy, utc(2024, 5, 3))
    assert decision.trigger is not None and decision.cancel == ("ra__x__gen-1",)


def test_suspended_one_shot_does_not_run() -> None:
    assert plan(spec(suspend=True), REF, ScheduleState(active_since=CREATED), utc(2024, 5, 1)).trigger is None


@pytest.mark.parametrize("cron", ["@daily", "*/15 * * * *", "0 6 * * 1-5"])
def test_latest_and_next_slot_bracket_now(cron: str) -> None:
    now = utc(2024, 7, 3, 10, 7, 31)
    latest, upcoming = latest_slot(cron, PARIS, now), next_slot(cron, PARIS, now)
    assert latest is not None and upcoming is not None
    assert latest <= now < upcoming
    assert count_slots_between(cron, PARIS, latest, upcoming) == 0
