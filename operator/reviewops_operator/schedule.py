"""When to run: pure functions of (spec, schedule state, now). No I/O, no clock reads.

Semantics follow Kubernetes CronJob where it has one, so platform teams meet no surprises:

- Slots are cron times on the wall clock of `timeZone`. In a spring-forward gap (02:30 does not
  exist on the last Sunday of March in Europe/Paris) the slot runs at the first instant after
  the gap (03:00 local), once, as Unix cron does. In a fall-back overlap (02:30 happens twice on
  the last Sunday of October) it runs once, at the first occurrence. So a daily job runs exactly
  once on both days; an hourly job sees one shorter and one longer gap.
- Slots count from the last scheduled slot (`status.lastScheduleTime`), or from when the
  analysis was created. After downtime only the latest missed slot runs; the older ones are
  reported in one Event. A slot later than `startingDeadlineSeconds` is skipped with a Warning.
- Suspended: no scheduled runs; like CronJob, on resume the latest slot missed meanwhile runs
  unless `startingDeadlineSeconds` rules it out. A manual run-now still runs.
- concurrencyPolicy with a run still active: Forbid skips the scheduled slot (one Event) and
  makes run-now / one-shot runs wait; Replace cancels the active run first; Allow overlaps.
- Without a schedule the analysis runs once per spec generation. Manual and one-shot runs set
  lastScheduleTime to when they started. At most one run starts per reconcile; the next
  reconcile picks up anything else that is due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from croniter import CroniterError, croniter

from reviewops.spec import ConcurrencyPolicy, ReviewAnalysisSpec
from reviewops_operator.identity import (
    AnalysisRef,
    format_time,
    manual_run_id,
    oneshot_run_id,
    scheduled_run_id,
    slot_of,
)

# Wider than any UTC offset change, so searching from local time ± this never misses a slot.
_DST_MARGIN = dt.timedelta(hours=3)
_MAX_STEPS = 2000  # a per-minute cron needs ~360 steps to cross the margin both ways
_MISSED_COUNT_CAP = 100  # like CronJob, stop counting missed slots after 100

TriggerKind = Literal["scheduled", "manual", "oneshot"]


@dataclass(frozen=True, slots=True)
class Note:
    """An Event the user should see: `type` is Normal or Warning, `reason` is CamelCase."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class ScheduleState:
    """What the schedule logic needs from status (after active runs were polled)."""

    active_since: dt.datetime  # creation time: slots before it never count
    last_schedule_time: dt.datetime | None = None
    active_run_ids: tuple[str, ...] = ()  # runs still queued or running in Airflow
    last_triggered_generation: int | None = None
    last_run_now: str | None = None


@dataclass(frozen=True, slots=True)
class Trigger:
    """A run to start now."""

    run_id: str
    slot: str  # ISO time, "gen-N" or "manual-..." as shown in history
    kind: TriggerKind


@dataclass(frozen=True, slots=True)
class Plan:
    """The decision for this reconcile; reconcile applies it and writes status."""

    trigger: Trigger | None
    cancel: tuple[str, ...]  # Replace: runs to stop before the trigger
    last_schedule_time: dt.datetime | None  # the value once the plan is carried out
    next_schedule_time: dt.datetime | None
    run_now: str | None  # the run-now value handled once the plan is carried out
    notes: tuple[Note, ...] = field(default=())


def wall_to_utc(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The instant a naive wall-clock slot fires: first occurrence if repeated, gap end if skipped."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # In a gap, fold=1 maps before the transition and fold=0 after: bisect for the transition.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(dt.UTC)
    high = first
    after = high.astimezone(zone).utcoffset()
    while (high - low) > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def _local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def latest_slot(cron: str, zone: ZoneInfo, now: dt.datetime) -> dt.datetime | None:
    """The latest slot at or before `now` (UTC), or None if the cron never fired."""
    # Walking back from past `now` is exact because wall_to_utc never decreases with wall time.
    walker = croniter(cron, _local(now, zone) + _DST_MARGIN)
    try:
        for _ in range(_MAX_STEPS):
            slot = wall_to_utc(walker.get_prev(dt.datetime), zone)
            if slot <= now:
                return slot
    except CroniterError:
        return None
    return None


def next_slot(cron: str, zone: ZoneInfo, now: dt.datetime) -> dt.datetime | None:
    """The first slot strictly after `now` (UTC), or None if the cron never fires again."""
    walker = croniter(cron, _local(now, zone) - _DST_MARGIN)
    try:
        for _ in range(_MAX_STEPS):
            slot = wall_to_utc(walker.get_next(dt.datetime), zone)
            if slot > now:
                return slot
    except CroniterError:
        return None
    return None


def count_slots_between(cron: str, zone: ZoneInfo, after: dt.datetime, before: dt.datetime) -> int:
    """How many distinct slots fall strictly between two instants (capped at 100)."""
    walker = croniter(cron, _local(after, zone) - _DST_MARGIN)
    seen: set[dt.datetime] = set()
    try:
        while len(seen) < _MISSED_COUNT_CAP:
            slot = wall_to_utc(walker.get_next(dt.datetime), zone)
            if slot >= before:
                break
            if slot > after:
                seen.add(slot)
    except CroniterError:
        pass
    return len(seen)


def _concurrency(
    spec: ReviewAnalysisSpec, state: ScheduleState
) -> Literal["free", "forbid", "replace", "allow"]:
    if not state.active_run_ids:
        return "free"
    policy = ConcurrencyPolicy(spec.concurrency_policy)
    if policy is ConcurrencyPolicy.FORBID:
        return "forbid"
    return "replace" if policy is ConcurrencyPolicy.REPLACE else "allow"


def _plan_slot(
    cron: str,
    spec: ReviewAnalysisSpec,
    ref: AnalysisRef,
    state: ScheduleState,
    now: dt.datetime,
    notes: list[Note],
) -> tuple[Trigger | None, dt.datetime | None]:
    """The scheduled slot due now, if any: (trigger, new lastScheduleTime)."""
    zone = ZoneInfo(spec.time_zone)
    latest = latest_slot(cron, zone, now)
    earliest = state.last_schedule_time or state.active_since
    if spec.suspend or latest is None or latest <= earliest:
        return None, state.last_schedule_time
    slot_text = format_time(latest)
    late = (now - latest).total_seconds()
    deadline = spec.starting_deadline_seconds
    if deadline is not None and late > deadline:
        notes.append(
            Note(
                "Warning",
                "MissedSchedule",
                f"slot {slot_text} skipped: {late:.0f}s late, more than startingDeadlineSeconds={deadline}",
            )
        )
        return None, latest
    missed = count_slots_between(cron, zone, earliest, latest)
    if missed:
        more = "+" if missed >= _MISSED_COUNT_CAP else ""
        notes.append(
            Note(
                "Normal",
                "MissedSlots",
                f"{missed}{more} earlier slot(s) after {format_time(earliest)} were not "
                f"run (operator down or suspended); running only the latest, {slot_text}",
            )
        )
    if _concurrency(spec, state) == "forbid":
        notes.append(
            Note(
                "Normal",
                "SkippedConcurrent",
                f"slot {slot_text} skipped: run {state.active_run_ids[-1]} is still "
                "active and concurrencyPolicy is Forbid",
            )
        )
        return None, latest
    return Trigger(scheduled_run_id(ref, latest), slot_text, "scheduled"), latest


def plan(
    spec: ReviewAnalysisSpec,
    ref: AnalysisRef,
    state: ScheduleState,
    now: dt.datetime,
    run_now: str | None = None,
) -> Plan:
    """Decide what to start now. `run_now` is the current `reviewops.io/run-now` annotation."""
    notes: list[Note] = []
    zone = ZoneInfo(spec.time_zone)
    next_time = None
    if spec.schedule and not spec.suspend:
        next_time = next_slot(spec.schedule, zone, now)

    trigger: Trigger | None = None
    last_schedule = state.last_schedule_time
    if spec.schedule:
        trigger, last_schedule = _plan_slot(spec.schedule, spec, ref, state, now, notes)

    handled_run_now = state.last_run_now
    wanted: Trigger | None = None
    if trigger is None and run_now and run_now != state.last_run_now:
        run_id = manual_run_id(ref, run_now)
        wanted = Trigger(run_id, slot_of(run_id), "manual")
    elif (
        trigger is None
        and not spec.schedule
        and not spec.suspend
        and state.last_triggered_generation != ref.generation
    ):
        wanted = Trigger(oneshot_run_id(ref, ref.generation), f"gen-{ref.generation}", "oneshot")
    if wanted is not None:
        if _concurrency(spec, state) == "forbid":
            # Unlike a cron slot, a request does not expire: it waits for the active run.
            what = "run-now request" if wanted.kind == "manual" else f"generation {ref.generation}"
            notes.append(
                Note(
                    "Normal",
                    "WaitingForActiveRun",
                    f"{what} waits for run {state.active_run_ids[-1]} to finish (concurrencyPolicy Forbid)",
                )
            )
        else:
            trigger = wanted
            # lastScheduleTime is "when the latest run was started" for these runs too, so
            # `kubectl get` shows it and a later schedule counts slots from here.
            last_schedule = now.replace(microsecond=0)
            if wanted.kind == "manual":
                handled_run_now = run_now

    cancel: tuple[str, ...] = ()
    if trigger is not None and _concurrency(spec, state) == "replace":
        cancel = state.active_run_ids
    return Plan(
        trigger=trigger,
        cancel=cancel,
        last_schedule_time=last_schedule,
        next_schedule_time=next_time,
        run_now=handled_run_now,
        notes=tuple(notes),
    )
