"""Property tests: arbitrary specs thrown at the spec model, the DAG's conf validation and reconcile.

- Every rejection is a SpecError naming a field by its YAML path (`spec.topics.numTopics: ...`),
  never another exception type: for the operator (`parse_spec`, then the InvalidSpec condition
  written by `reconcile`) and for the DAG's `validate` task (`stages.conf.parse_conf`).
- A near-valid spec (an example with one field broken) is rejected at that field, or at the field
  a cross-field rule blames (the model's `cel_rules`).
- Valid specs round-trip through the model and through the Airflow conf the operator sends.
- An accepted schedule fires on whole minutes, at the same slots on every reconcile.
- `reconcile` and `finalize` never raise, whatever the spec, the status and what Airflow, MLflow
  and Grafana answer (external failures become conditions and `Outcome.errors`), and every conf
  `reconcile` triggers a run with passes the DAG's validation.
- The bugs these properties found are pinned as regression cases.

Runs are reproducible: every test is derandomized (no example database is consulted).
Status-side properties are in test_property_status.py, which reuses the strategies and fakes here.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from reviewops.spec import CelRule, ReviewAnalysisSpec, SpecError, parse_spec, spec_to_dict
from reviewops.stages.conf import parse_conf, read_conf_argument
from reviewops_operator.clients.base import Experiment, FailedTask, RunInfo
from reviewops_operator.errors import ExternalError
from reviewops_operator.finalize import finalize
from reviewops_operator.identity import AnalysisRef, run_conf
from reviewops_operator.passes import Deps, ObjectView
from reviewops_operator.reconcile import reconcile
from reviewops_operator.schedule import latest_slot, next_slot
from reviewops_operator.settings import Settings
from reviewops_operator.status import READY, AnalysisStatus, Phase

EXAMPLE_PATHS = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))
EXAMPLES = [yaml.safe_load(path.read_text(encoding="utf-8"))["spec"] for path in EXAMPLE_PATHS]
# Sized for < 30 s for both property files on a loaded 2-core machine; derandomized for CI.
FAST = settings(max_examples=150, deadline=None, derandomize=True, database=None)
SLOW = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- what the model declares --------------------------------------------------------------------


def _fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, type[BaseModel] | None]]:
    out: list[tuple[str, type[BaseModel] | None]] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{info.alias or name}"
        nested = info.annotation if isinstance(info.annotation, type) else None
        if nested is not None and issubclass(nested, BaseModel):
            out.append((path, nested))
            out.extend(_fields(nested, f"{path}."))
        else:
            out.append((path, None))
    return out


FIELD_PATHS = [path for path, _ in _fields(ReviewAnalysisSpec)]


def _blamed(model: type[BaseModel], prefix: str = "") -> list[str]:
    rules: tuple[CelRule, ...] = getattr(model, "cel_rules", ())
    out = [f"{prefix}{rule.field}" for rule in rules]
    for path, nested in _fields(model):
        if nested is not None and "." not in path:
            out.extend(_blamed(nested, f"{prefix}{path}."))
    return out


BLAMED_BY_RULES = _blamed(ReviewAnalysisSpec)  # company.domain, source.path, topics.minTopics


def error_lines(message: str, roots: str = "spec") -> list[str]:
    """The "; "-joined lines of a rejection (a key of the input may itself contain "; ")."""
    return re.split(rf"; (?=(?:{roots})[.:])", message)


def assert_names_fields(message: str, roots: str = "spec") -> None:
    """Each line of a rejection starts with the path of the field at fault (`spec.a.b: ...`);
    an unknown key is named as given, even "" (`spec.: Extra inputs are not permitted`)."""
    assert message, "a rejection without a message"
    for line in error_lines(message, roots):
        assert re.match(rf"^(?:{roots})(\..*?)?: .", line, re.DOTALL), f"no field named in {line!r}"


# --- strategies ---------------------------------------------------------------------------------

NASTY_STRINGS = [
    "",
    " ",
    "../",
    "../../etc/passwd",
    "/etc/passwd",
    "C:\\Windows\\system32",
    "a" * 5000,
    "é" * 300,
    "\x00",
    "line\nbreak",
    "😀",
    "auto",
    "${HOME}",
    "'; DROP TABLE runs; --",
    "{{ dag_run.conf }}",
    "null",
    "5",
    "true",
]
NASTY_NUMBERS: list[Any] = [
    0,
    -1,
    -(2**63),
    2**63,
    2**64,
    10**30,
    0.5,
    -0.0,
    1e308,
    float("inf"),
    float("nan"),
    5.0,
]
# Values a field might legitimately take somewhere in the spec (so some mutations are accepted).
PLAUSIBLE: list[Any] = [
    True,
    False,
    1,
    2,
    3,
    8,
    10,
    42,
    100,
    0.2,
    "en",
    "fr",
    "demo",
    "file",
    "trustpilot",
    "lda",
    "nmf",
    "gensim-lda",
    "ratings",
    "lexicon",
    "supervised",
    "Forbid",
    "Allow",
    "Replace",
    "Retain",
    "Delete",
    "csv",
    "UTC",
    "Europe/Paris",
    "Etc/GMT+14",
    "0 6 * * *",
    "@daily",
    "*/0 * * * *",
    "2024-01-01",
    "2024-02-30",
    "www.example.com",
    "Team/Sub",
    ["en", "fr"],
    [],
    {},
]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(NASTY_STRINGS + NASTY_NUMBERS)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
moments = st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2099, 1, 1), timezones=st.just(dt.UTC))
bad_values = st.sampled_from(NASTY_STRINGS + NASTY_NUMBERS + PLAUSIBLE) | json_values


def _set(spec: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `spec` with `path` (dotted) set to `value`; intermediate objects are created,
    and an intermediate that is not an object is replaced by one."""
    parts = path.split(".")
    out = dict(spec)
    node = out
    for part in parts[:-1]:
        child = node.get(part)
        node[part] = dict(child) if isinstance(child, dict) else {}
        node = node[part]
    node[parts[-1]] = value
    return out


def _delete(spec: dict[str, Any], path: str) -> dict[str, Any]:
    parts = path.split(".")
    out = dict(spec)
    node = out
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            return out
        node[part] = dict(child)
        node = node[part]
    node.pop(parts[-1], None)
    return out


@st.composite
def mutations(draw: st.DrawFn) -> tuple[dict[str, Any], str, Any]:
    """(an example spec with one field changed, the field's path, the value; `...` = deleted)."""
    spec = draw(st.sampled_from(EXAMPLES))
    extra = draw(st.sampled_from(["", *[p + "." for p, n in _fields(ReviewAnalysisSpec) if n]]))
    path = draw(st.sampled_from(FIELD_PATHS) | st.just(f"{extra}unknownField"))
    if draw(st.integers(0, 9)) == 0:
        return _delete(spec, path), path, ...
    value = draw(bad_values)
    return _set(spec, path, value), path, value


arbitrary_specs = st.dictionaries(
    st.sampled_from([p.rsplit(".", 1)[-1] for p in FIELD_PATHS]) | st.text(max_size=10),
    json_values,
    max_size=8,
)
any_spec = mutations().map(lambda m: m[0]) | arbitrary_specs | st.sampled_from(EXAMPLES)


@st.composite
def valid_specs(draw: st.DrawFn) -> ReviewAnalysisSpec:
    """An example after up to eight plausible changes, each kept only if the model accepts it."""
    spec = draw(st.sampled_from(EXAMPLES))
    for _ in range(draw(st.integers(0, 8))):
        changed = _set(spec, draw(st.sampled_from(FIELD_PATHS)), draw(st.sampled_from(PLAUSIBLE)))
        try:
            parse_spec(changed)
        except SpecError:
            continue
        spec = changed
    return parse_spec(spec)


# --- the spec model: what both the operator and the DAG use --------------------------------------


@FAST
@given(any_spec)
def test_parse_spec_accepts_or_names_every_bad_field(raw: dict[str, Any]) -> None:
    try:
        parse_spec(raw)
    except SpecError as exc:
        assert_names_fields(str(exc))


@FAST
@given(mutations())
def test_a_broken_field_is_rejected_at_that_field_or_where_a_rule_blames(
    mutation: tuple[dict[str, Any], str, Any],
) -> None:
    spec, path, _ = mutation
    try:
        parse_spec(spec)
    except SpecError as exc:
        message = str(exc)
        assert_names_fields(message)
        named = [f"spec.{path}", *(f"spec.{blamed}" for blamed in BLAMED_BY_RULES)]
        assert any(line.startswith(tuple(named)) for line in error_lines(message)), (path, message)


@FAST
@given(valid_specs())
def test_valid_specs_round_trip(spec: ReviewAnalysisSpec) -> None:
    assert ReviewAnalysisSpec.model_validate(spec.model_dump(by_alias=True)) == spec
    assert parse_spec(spec_to_dict(spec)) == spec  # what the operator sends in the conf


# --- the DAG's validate task ---------------------------------------------------------------------

analysis_blocks = (
    st.fixed_dictionaries(
        {"namespace": st.just("insights"), "name": st.just("bm")},
        optional={
            "uid": json_values,
            "generation": json_values,
            "slot": json_values,
            "runId": json_values,
        },
    )
    | st.dictionaries(st.sampled_from(["namespace", "name", "generation", "uid"]), json_values)
    | json_values
)
confs = (
    st.fixed_dictionaries({"spec": any_spec}, optional={"analysis": analysis_blocks, "extra": json_values})
    | st.fixed_dictionaries({}, optional={"spec": json_values, "analysis": json_values})
    | json_values
)


@FAST
@given(confs)
def test_dag_conf_validation_accepts_or_names_every_bad_field(conf: Any) -> None:
    try:
        parsed = parse_conf(conf)
    except SpecError as exc:
        assert_names_fields(str(exc), roots="spec|analysis|conf")
    else:
        assert parse_conf(parsed.to_dict()).to_dict() == parsed.to_dict()


@FAST
@given(valid_specs(), st.integers(1, 2**31))
def test_every_conf_the_operator_sends_passes_the_dag_validation(
    spec: ReviewAnalysisSpec, generation: int
) -> None:
    ref = AnalysisRef("insights", "bm", "uid-1", generation)
    conf = parse_conf(run_conf(ref, spec, f"gen-{generation}", f"ra__insights__bm__gen-{generation}"))
    assert conf.spec == spec and conf.analysis is not None and conf.analysis.generation == generation


# Bugs these properties found in reviewops/spec.py and stages/conf.py, pinned as regressions.
KNOWN_SPEC_BUGS = [
    pytest.param({"timeZone": zone}, id=f"timeZone-{zone}")  # a tzdata folder: IsADirectoryError
    for zone in ("America", "Etc", "Europe")
]


@pytest.mark.parametrize("change", KNOWN_SPEC_BUGS)
def test_known_spec_rejections_name_the_field(change: dict[str, Any]) -> None:
    spec = {**EXAMPLES[0], **change}
    with pytest.raises(SpecError, match=rf"^spec\.{next(iter(change))}: "):
        parse_conf({"spec": spec})
    # the operator: the handler must write InvalidSpec, not fail (and be retried) forever
    view = ObjectView(AnalysisRef("insights", "bm", "uid-1", 1), spec, AnalysisStatus())
    deps = Deps(operator_settings(), Quiet(), Quiet(), Quiet())
    check_outcome(spec, view, deps, dt.datetime(2024, 5, 1, tzinfo=dt.UTC))


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def test_a_deeply_nested_spec_value_is_rejected_naming_the_field() -> None:
    with pytest.raises(SpecError, match=r"^spec\.deep"):
        parse_conf({"spec": {**EXAMPLES[0], "deep": _nested(500)}})


def test_a_deeply_nested_conf_text_is_rejected() -> None:
    with pytest.raises(SpecError, match=r"^conf: "):
        read_conf_argument('{"spec": ' + "[" * 3000 + "]" * 3000 + "}")


# --- schedules: an accepted cron means the same slots every time, on whole minutes -------------

CRON_FIELDS = [
    "*",
    "0",
    "5",
    "59",
    "*/15",
    "1-5",
    "0,30",
    "L",
    "5#3",
    "7-0",
    "?",
    "MON",
    "JAN",
    "*/0",
    "99",
    "R",
    "H",
]
crons = st.lists(st.sampled_from(CRON_FIELDS), min_size=4, max_size=6).map(" ".join) | st.sampled_from(
    ["@daily", "@hourly", "@yearly", "@reboot", "0 0 30 2 *", "0 0 31 4,6,9,11 *"]
)


def _slots(spec: ReviewAnalysisSpec, now: dt.datetime) -> tuple[dt.datetime | None, ...]:
    assert spec.schedule is not None
    zone = ZoneInfo(spec.time_zone)
    return (latest_slot(spec.schedule, zone, now), next_slot(spec.schedule, zone, now))


def check_schedule(cron: str, zone: str, now: dt.datetime) -> None:
    try:
        spec = parse_spec({**EXAMPLES[0], "schedule": cron, "timeZone": zone})
    except SpecError as exc:
        assert_names_fields(str(exc))
        return
    first = _slots(spec, now)
    assert _slots(spec, now) == first, "the same schedule gives other slots on the next reconcile"
    for slot in first:
        assert slot is None or (slot.second, slot.microsecond) == (0, 0), f"{cron!r} fires at {slot}"


@FAST
@given(crons, st.sampled_from(["UTC", "Europe/Paris", "Pacific/Apia", "Etc/GMT-14"]), moments)
def test_an_accepted_schedule_fires_on_the_same_whole_minutes_every_time(
    cron: str, zone: str, now: dt.datetime
) -> None:
    check_schedule(cron, zone, now)


@pytest.mark.parametrize(
    "cron",
    [
        "R 6 * * *",  # croniter draws R anew at each parse: other slots (run ids) every reconcile
        "0 H * * *",  # likewise for H (hashed)
        "0\n6 * * * *",  # croniter splits on the newline: six fields, every second of 06:00
        "0\u00a06 * * *",  # a no-break space inside a field
    ],
)
def test_schedules_that_do_not_mean_five_fixed_cron_fields_are_refused(cron: str) -> None:
    with pytest.raises(SpecError, match=r"^spec\.schedule: "):
        parse_spec({**EXAMPLES[0], "schedule": cron})
    check_schedule(cron, "UTC", dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC))


# --- the operator: reconcile and finalize against fakes that answer anything --------------------


class Oracle:
    """Answers of Airflow, MLflow and Grafana, drawn by hypothesis call by call."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def _maybe_fail(self, system: str) -> None:
        if self.data.draw(st.integers(0, 5)) == 0:
            transient = self.data.draw(st.booleans())
            raise ExternalError(system, f"{system}Unavailable", f"{system} said no", transient=transient)

    def _time(self) -> dt.datetime | None:
        return self.data.draw(
            st.none()
            | st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC))
        )


class FakeAirflow(Oracle):
    def trigger(self, run_id: str, conf: dict[str, Any]) -> bool:
        parse_conf(conf)  # the DAG's validate task accepts what the operator sends
        self._maybe_fail("Airflow")
        return self.data.draw(st.booleans())

    def get_run(self, run_id: str) -> RunInfo | None:
        self._maybe_fail("Airflow")
        if self.data.draw(st.integers(0, 5)) == 0:
            return None
        state = self.data.draw(st.sampled_from(["queued", "running", "success", "failed", "up_for_retry"]))
        return RunInfo(run_id, state, self._time(), self._time())

    def cancel(self, run_id: str, owner_uid: str | None = None) -> None:
        self._maybe_fail("Airflow")

    def failed_tasks(self, run_id: str) -> list[FailedTask]:
        self._maybe_fail("Airflow")
        return self.data.draw(
            st.lists(st.builds(FailedTask, st.text(max_size=10), st.integers(0, 5), st.integers(0, 5)))
        )

    def results(self, run_id: str) -> dict[str, Any] | None:
        self._maybe_fail("Airflow")
        summary = self.data.draw(st.none() | st.dictionaries(st.text(max_size=12), json_values, max_size=5))
        return summary


class FakeExperiments(Oracle):
    def ensure(self, name: str, tags: dict[str, str]) -> Experiment:
        self._maybe_fail("MLflow")
        return Experiment(self.data.draw(st.text(min_size=1, max_size=8)), self.data.draw(st.booleans()))

    def delete(self, name: str, owner: dict[str, str]) -> bool:
        self._maybe_fail("MLflow")
        return self.data.draw(st.booleans())


class FakeDashboards(Oracle):
    def ensure(self, ref: AnalysisRef, uid: str, folder: str, dashboard: dict[str, Any]) -> str | None:
        self._maybe_fail("Grafana")
        return self.data.draw(st.none() | st.just(f"http://grafana.test/d/{uid}"))

    def remove(self, ref: AnalysisRef, uid: str) -> None:
        self._maybe_fail("Grafana")


class Quiet:
    """Airflow, MLflow and Grafana answering every call successfully (runs have succeeded)."""

    def trigger(self, run_id: str, conf: dict[str, Any]) -> bool:
        return True

    def get_run(self, run_id: str) -> RunInfo | None:
        return RunInfo(run_id, "success", None, None)

    def cancel(self, run_id: str, owner_uid: str | None = None) -> None:
        return None

    def failed_tasks(self, run_id: str) -> list[FailedTask]:
        return []

    def results(self, run_id: str) -> dict[str, Any] | None:
        return {"reviews": 10}

    def ensure(self, *args: Any) -> Any:
        return Experiment("1") if len(args) == 2 else "http://grafana.test/d/1"

    def delete(self, name: str, owner: dict[str, str]) -> bool:
        return True

    def remove(self, ref: AnalysisRef, uid: str) -> None:
        return None


@functools.cache
def operator_settings() -> Settings:
    return Settings(
        airflow_url="http://airflow.test",
        airflow_username="admin",
        airflow_password="admin",
        mlflow_tracking_uri="http://mlflow.test",
        grafana_url="http://grafana.test",
        standalone=True,
    )


def fake_deps(data: st.DataObject) -> Deps:
    dashboards = FakeDashboards(data) if data.draw(st.booleans()) else None
    return Deps(operator_settings(), FakeAirflow(data), FakeExperiments(data), dashboards)


refs = st.builds(
    AnalysisRef,
    namespace=st.sampled_from(["insights", "default", "a" * 63]),
    name=st.sampled_from(["backmarket-en", "x", "a.b-c", "n" * 253]),
    uid=st.text(max_size=10),
    generation=st.integers(1, 2**40),
)


def check_outcome(raw_spec: dict[str, Any], view: ObjectView, deps: Deps, now: dt.datetime) -> None:
    """reconcile never raises; an invalid spec is Invalid with the fields named in Ready."""
    outcome = reconcile(view, deps, now)
    try:
        expected: ReviewAnalysisSpec | None = parse_spec(raw_spec)
        problem = ""
    except SpecError as exc:
        expected, problem = None, str(exc)
    assert outcome.spec == expected
    ready = outcome.status.condition(READY)
    assert ready is not None
    if expected is None:
        assert outcome.status.phase == Phase.INVALID
        assert (ready.status, ready.reason) == ("False", "InvalidSpec")
        assert ready.message == f"invalid spec: {problem}"
        assert_names_fields(problem)
    else:
        assert outcome.status.phase != Phase.INVALID
    assert outcome.status.observed_generation == view.ref.generation
    finalize(view, deps)  # never raises either


@SLOW
@given(any_spec, refs, moments, st.data())
def test_reconcile_never_raises_and_an_invalid_spec_names_its_fields(
    raw: dict[str, Any], ref: AnalysisRef, now: dt.datetime, data: st.DataObject
) -> None:
    view = ObjectView(ref, raw, AnalysisStatus(), run_now=data.draw(st.none() | st.text(max_size=20)))
    check_outcome(raw, view, fake_deps(data), now)
