"""Property tests: arbitrary `.status` (and bookkeeping annotations) thrown at what the handlers run.

The status on an object is whatever an older operator version, a `kubectl edit --subresource
status` or another client left there. Whatever it is:
- reading it never raises, and reading what was written gives back the same status;
- a reconcile pass as the kopf handlers run it (object_view -> reconcile -> status_patch,
  bookkeeping_patch -> metrics -> finalize) never raises;
- a status the API server accepted stays acceptable after the operator's merge patch (a patch
  the API server refuses would leave the object stuck with a stale status forever).

Strategies and fakes come from test_property_specs.py.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewops_operator.finalize import finalize
from reviewops_operator.identity import (
    HANDLED_RUN_NOW_ANNOTATION,
    RUN_NOW_ANNOTATION,
    TRIGGERED_GENERATION_ANNOTATION,
)
from reviewops_operator.metrics import OperatorMetrics
from reviewops_operator.passes import Deps
from reviewops_operator.reconcile import reconcile
from reviewops_operator.runtime import object_view
from reviewops_operator.status import (
    CONDITION_TYPES,
    AnalysisStatus,
    bookkeeping_patch,
    status_patch,
)
from tests.support import crd_schema
from tests.test_property_specs import (
    EXAMPLE_PATHS,
    EXAMPLES,
    FAST,
    SLOW,
    Quiet,
    any_spec,
    fake_deps,
    json_values,
    moments,
    operator_settings,
)

STATUS_SCHEMA = crd_schema.object_schema(crd_schema.load_crd())["properties"]["status"]

# --- strategies ---------------------------------------------------------------------------------

timestamps = st.sampled_from(
    [
        "2024-05-01T06:00:00Z",
        "2024-05-01T06:00:00.123456Z",
        "2024-05-01T08:00:00+02:00",
        "2024-05-01T06:00:00z",  # valid RFC 3339, lowercase
        "2024-05-01 06:00:00Z",  # valid to the API server (date-time with a space)
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        "0999-01-01T00:00:00Z",
        "2024-05-01",
        "",
        "yesterday",
        "2024-13-45T99:00:00Z",
    ]
) | st.datetimes(dt.datetime(1, 1, 2), dt.datetime(9999, 12, 30), timezones=st.just(dt.UTC)).map(
    lambda moment: moment.isoformat()
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The strategy's values, or any JSON value instead (a wrong type, null, a nested mess)."""
    return strategy | json_values


run_ids = st.sampled_from(["ra__insights__bm__gen-1", "ra__insights__bm__2024-05-01T04:00:00Z", "", "x"])
run_records = st.fixed_dictionaries(
    {},
    optional={
        "runId": maybe(run_ids),
        "slot": maybe(st.sampled_from(["gen-1", "2024-05-01T04:00:00Z", ""])),
        "state": maybe(st.sampled_from(["queued", "running", "success", "failed", "up_for_retry"])),
        "startedAt": maybe(timestamps),
        "finishedAt": maybe(timestamps),
    },
)
conditions = st.fixed_dictionaries(
    {"type": maybe(st.sampled_from([*CONDITION_TYPES, "Other"]))},
    optional={
        "status": maybe(st.sampled_from(["True", "False", "Unknown"])),
        "reason": maybe(st.sampled_from(["Ready", "InvalidSpec", ""])),
        "message": maybe(st.text(max_size=20)),
        "lastTransitionTime": maybe(timestamps),
        "observedGeneration": maybe(st.integers(0, 10)),
    },
)
strings = st.dictionaries(
    st.sampled_from(["experimentId", "experimentName", "url", "uid", "lastRunId"]), st.text()
)
results = st.fixed_dictionaries(
    {},
    optional={
        "reviews": maybe(st.integers(0, 10**6)),
        "meanRating": maybe(st.floats(1, 5)),
        "sentiment": maybe(
            st.dictionaries(st.sampled_from(["positive", "neutral", "negative"]), st.floats(0, 1))
        ),
        "topTopics": maybe(st.lists(st.text(max_size=8), max_size=3)),
        "negativeDrivers": maybe(st.lists(st.text(max_size=8), max_size=3)),
        "macroF1": maybe(st.floats(0, 1)),
        "model": maybe(st.dictionaries(st.sampled_from(["name", "version", "promoted"]), json_values)),
    },
)
statuses = (
    st.fixed_dictionaries(
        {},
        optional={
            "observedGeneration": maybe(st.integers(0, 5)),
            "phase": maybe(st.sampled_from(["Running", "Succeeded", "Bogus"])),
            "conditions": maybe(st.lists(maybe(conditions), max_size=6)),
            "lastScheduleTime": maybe(timestamps),
            "nextScheduleTime": maybe(timestamps),
            "lastSuccessfulTime": maybe(timestamps),
            "activeRun": maybe(run_records),
            "history": maybe(st.lists(maybe(run_records), max_size=5)),
            "succeededRuns": maybe(st.integers(0, 10)),
            "failedRuns": maybe(st.integers(0, 10)),
            "mlflow": maybe(strings),
            "dashboard": maybe(strings),
            "results": maybe(results),
            # foreign or older fields: kopf's own, and shapes this operator never wrote
            "kopf": json_values,
            "lastRun": maybe(run_records),
        },
    )
    | json_values
)
# The same shapes with schema-valid values only (every field optional, times in any valid form).
valid_times = timestamps.filter(lambda text: crd_schema._is_date_time(text) and text != "2024-05-01")
valid_runs = st.fixed_dictionaries(
    {"runId": run_ids},
    optional={"state": st.sampled_from(["queued", "running", "success", "failed"]), "startedAt": valid_times,
              "finishedAt": valid_times, "slot": st.sampled_from(["gen-1", "2024-05-01T04:00:00Z"])},
)  # fmt: skip
valid_conditions = st.fixed_dictionaries(
    {"type": st.sampled_from(CONDITION_TYPES), "status": st.sampled_from(["True", "False", "Unknown"])},
    optional={"reason": st.just("Ready"), "message": st.text(max_size=10), "lastTransitionTime": valid_times,
              "observedGeneration": st.integers(0, 5)},
)  # fmt: skip
valid_statuses = st.fixed_dictionaries(
    {},
    optional={
        "observedGeneration": st.integers(0, 5),
        "phase": st.sampled_from(["Running", "Succeeded", "Failed", "Pending"]),
        "conditions": st.lists(valid_conditions, max_size=5, unique_by=lambda c: c["type"]),
        "lastScheduleTime": valid_times,
        "nextScheduleTime": valid_times,
        "lastSuccessfulTime": valid_times,
        "activeRun": valid_runs,
        "history": st.lists(valid_runs, max_size=4),
        "succeededRuns": st.integers(0, 10),
        "failedRuns": st.integers(0, 10),
        "mlflow": strings.filter(lambda block: "uid" not in block),
        "results": st.fixed_dictionaries(
            {}, optional={"reviews": st.integers(0, 10), "macroF1": st.floats(0, 1)}
        ),
    },
)
bookkeeping = st.dictionaries(
    st.sampled_from([TRIGGERED_GENERATION_ANNOTATION, HANDLED_RUN_NOW_ANNOTATION, RUN_NOW_ANNOTATION]),
    st.sampled_from(["1", "2", "007", "²", "١", "-1", " 3", "99999999999999999999", "", "now"])
    | st.text(max_size=10),
)


def body(spec: Any, status: Any, notes: dict[str, str], generation: int) -> dict[str, Any]:
    return {
        "metadata": {
            "namespace": "insights",
            "name": "bm",
            "uid": "uid-1",
            "generation": generation,
            "annotations": notes,
            "creationTimestamp": "2024-05-01T00:00:00Z",
        },
        "spec": spec,
        "status": status,
    }


def merge(current: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch, as the API server does."""
    if not isinstance(patch, dict):
        return patch
    out = dict(current) if isinstance(current, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


@functools.cache
def metrics() -> OperatorMetrics:
    return OperatorMetrics()


# --- properties ---------------------------------------------------------------------------------


@FAST
@given(statuses, bookkeeping)
def test_reading_any_status_never_raises_and_reading_back_what_is_written_is_stable(
    raw: Any, notes: dict[str, str]
) -> None:
    status = AnalysisStatus.from_dict(raw, notes)
    written = status.to_dict()
    again = AnalysisStatus.from_dict(written, {**notes, **bookkeeping_patch(status, notes)})
    assert again.to_dict() == written
    assert (again.last_run_now, again.last_triggered_generation) == (
        status.last_run_now,
        status.last_triggered_generation,
    )


@SLOW
@given(any_spec | st.sampled_from(EXAMPLES), statuses, bookkeeping, moments, st.integers(1, 5), st.data())
def test_a_handler_pass_never_raises_whatever_the_status(
    spec: dict[str, Any],
    raw: Any,
    notes: dict[str, str],
    now: dt.datetime,
    generation: int,
    data: st.DataObject,
) -> None:
    obj = body(spec, raw, notes, generation)
    view = object_view(obj)
    deps = fake_deps(data)
    outcome = reconcile(view, deps, now, data.draw(st.none() | moments))
    patch = status_patch(outcome.status, raw if isinstance(raw, dict) else None)
    assert merge(raw, patch) is not None
    bookkeeping_patch(outcome.status, notes)
    metrics().observe(view.ref, outcome.observations)
    metrics().publish(view.ref, outcome.spec, outcome.status)
    finalize(view, deps)
    # the next pass starts from the status just written (what kopf's memo keeps)
    reconcile(object_view(obj, outcome.status), deps, now + dt.timedelta(minutes=5), outcome.verified_at)


def stored(raw: Any) -> dict[str, Any]:
    """What the API server could hold of `raw`: unknown fields pruned, invalid fields left out."""
    current = crd_schema.prune(STATUS_SCHEMA, raw, root=False) if isinstance(raw, dict) else {}
    invalid = {re.split(r"[.\[]", p.path)[0] for p in crd_schema.validate(STATUS_SCHEMA, current)}
    current = {k: v for k, v in current.items() if k not in invalid}
    return {} if crd_schema.validate(STATUS_SCHEMA, current) else current


@SLOW
@given(st.sampled_from(EXAMPLES) | any_spec, valid_statuses | statuses, moments, st.data())
def test_a_status_the_api_server_accepted_stays_acceptable_after_the_patch(
    spec: dict[str, Any], raw: Any, now: dt.datetime, data: st.DataObject
) -> None:
    current = stored(raw)
    outcome = reconcile(object_view(body(spec, current, {}, 1)), fake_deps(data), now)
    written = merge(current, status_patch(outcome.status, current))
    assert crd_schema.validate(STATUS_SCHEMA, written) == []


# --- the statuses that broke the operator before (pinned, whatever the strategies draw) ----------


WITHOUT_TIME = {"type": "Scheduled", "status": "True"}  # status.since() reads its time
BROKE_BEFORE = [
    pytest.param({"mlflow": "abc"}, {}, id="mlflow-not-an-object"),
    pytest.param({"dashboard": 5}, {}, id="dashboard-not-an-object"),
    pytest.param({"history": 5, "conditions": 3}, {}, id="lists-not-lists"),
    pytest.param([1], {}, id="status-not-an-object"),
    pytest.param({"lastScheduleTime": "2024-05-01T06:00:00z"}, {}, id="lowercase-z-time"),
    pytest.param({"lastScheduleTime": "yesterday"}, {}, id="not-a-time"),
    pytest.param({"conditions": [{**WITHOUT_TIME, "lastTransitionTime": "x"}]}, {}, id="bad-transition-time"),
    pytest.param({"activeRun": {"runId": "r", "startedAt": "soon"}}, {}, id="bad-startedAt"),
    pytest.param({"history": [{"runId": "r", "state": "success", "finishedAt": 3}]}, {}, id="bad-finishedAt"),
    pytest.param({"results": {"sentiment": ["negative"]}}, {}, id="results-sentiment-a-list"),
    pytest.param({}, {TRIGGERED_GENERATION_ANNOTATION: "²"}, id="superscript-generation"),
    pytest.param({"conditions": [WITHOUT_TIME]}, {}, id="condition-without-lastTransitionTime"),
    pytest.param({"activeRun": {"runId": "ra__insights__bm__gen-1"}}, {}, id="run-without-startedAt"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "notes"), BROKE_BEFORE)
@pytest.mark.parametrize("spec", EXAMPLES, ids=[path.stem for path in EXAMPLE_PATHS])
def test_statuses_that_broke_the_operator_before(
    raw: Any, notes: dict[str, str], spec: dict[str, Any]
) -> None:
    deps = Deps(operator_settings(), Quiet(), Quiet(), Quiet())
    view = object_view(body(spec, raw, notes, 1))
    outcome = reconcile(view, deps, dt.datetime(2024, 5, 2, 5, tzinfo=dt.UTC))
    metrics().observe(view.ref, outcome.observations)
    metrics().publish(view.ref, outcome.spec, outcome.status)
    finalize(view, deps)
    current = stored(raw)
    assert crd_schema.validate(STATUS_SCHEMA, merge(current, status_patch(outcome.status, current))) == []
