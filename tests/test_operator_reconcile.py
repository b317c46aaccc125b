"""Reconcile and finalize with real parts: the Airflow HTTP fake (Airflow 3's REST contract),
an embedded MLflow store (sqlite) and dashboard ConfigMaps on the Kubernetes API emulator."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reviewops_operator.clients.airflow import AirflowRestClient
from reviewops_operator.clients.grafana import ConfigMapDashboards
from reviewops_operator.clients.kube import api_client
from reviewops_operator.clients.mlflow import MlflowLocalExperiments, MlflowRestExperiments
from reviewops_operator.finalize import finalize
from reviewops_operator.identity import AnalysisRef, dashboard_configmap_name, experiment_owner
from reviewops_operator.passes import Deps, ObjectView, Outcome
from reviewops_operator.reconcile import reconcile
from reviewops_operator.settings import Settings
from reviewops_operator.status import AnalysisStatus
from tests.support.fake_airflow import FakeAirflow
from tests.support.kube import EmulatorServer
from tests.support.kube_client import KubeClient

pytestmark = pytest.mark.slow  # the embedded MLflow store takes a few seconds to import and migrate

T0 = dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)
SUMMARY = {
    "reviews": 1500,
    "meanRating": 3.9,
    "sentiment": {"positive": 0.62, "neutral": 0.12, "negative": 0.26},
    "topTopics": ["delivery", "battery"],
    "negativeDrivers": ["battery"],
    "macroF1": 0.78,
    "coherence": 0.55,
    "mlflowRunId": "mlflow-run-1",
}
_names = itertools.count()


@pytest.fixture(scope="module")
def kube() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture(scope="module")
def experiments(tmp_path_factory: pytest.TempPathFactory) -> MlflowLocalExperiments:
    return MlflowLocalExperiments(f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}")


@pytest.fixture
def airflow() -> Iterator[FakeAirflow]:
    with FakeAirflow() as fake:
        yield fake


@dataclass
class Analysis:
    """One ReviewAnalysis driven through reconciles, carrying status like the API server would."""

    deps: Deps
    ref: AnalysisRef
    spec: dict[str, Any]
    status: AnalysisStatus = field(default_factory=AnalysisStatus)
    verified_at: dt.datetime | None = None
    run_now: str | None = None

    def step(self, now: dt.datetime) -> Outcome:
        view = ObjectView(self.ref, self.spec, self.status, self.run_now, created=T0)
        outcome = reconcile(view, self.deps, now, self.verified_at)
        self.status, self.verified_at = outcome.status, outcome.verified_at
        return outcome

    def change_spec(self, **fields: Any) -> None:
        self.spec = {**self.spec, **fields}
        self.ref = AnalysisRef(self.ref.namespace, self.ref.name, self.ref.uid, self.ref.generation + 1)

    def condition(self, kind: str) -> tuple[str, str]:
        found = self.status.condition(kind)
        assert found is not None, f"no {kind} condition in {self.status.conditions}"
        return found.status, found.reason


def make(airflow: FakeAirflow, experiments: Any, kube: EmulatorServer, **spec: Any) -> Analysis:
    settings = Settings(
        airflow_url=airflow.url,
        airflow_username="admin",
        airflow_password="admin",  # type: ignore[arg-type]
        mlflow_tracking_uri="sqlite:///unused",
        mlflow_ui_url="https://mlflow.example",
        grafana_url="https://grafana.example",
    )
    deps = Deps(
        settings=settings,
        airflow=AirflowRestClient(airflow.url, "admin", "admin", "review_analysis", timeout=2),
        experiments=experiments,
        dashboards=ConfigMapDashboards(
            api_client(kube.url), namespace=None, grafana_url=settings.grafana_url
        ),
    )
    ref = AnalysisRef("insights", f"bm-{next(_names)}", "uid-1", 1)
    return Analysis(deps, ref, {"company": {"name": "Back Market", "domain": "www.example.com"}, **spec})


DAILY = {"schedule": "0 6 * * *", "timeZone": "Europe/Paris"}
SLOT = dt.datetime(2024, 5, 2, 4, tzinfo=dt.UTC)  # 06:00 in Paris


def notes(outcome: Outcome) -> list[str]:
    return [n.reason for n in outcome.notes]


def test_create_then_slot_then_success_fills_the_whole_status(
    airflow: FakeAirflow, experiments: MlflowLocalExperiments, kube: EmulatorServer
) -> None:
    a = make(airflow, experiments, kube, **DAILY)
    first = a.step(T0)
    assert a.status.phase == "Scheduled" and a.condition("Ready") == ("True", "Ready")
    assert a.status.next_schedule_time == "2024-05-02T04:00:00Z"
    assert a.status.mlflow["url"].startswith("https://mlflow.example/#/experiments/")
    assert a.status.mlflow["experimentName"] == f"reviewops/insights/{a.ref.name}"
    assert a.status.dashboard["url"] == f"https://grafana.example/d/{a.status.dashboard['uid']}"
    assert KubeClient(kube).get("v1", "ConfigMap", "insights", dashboard_configmap_name(a.ref)) is not None
    assert {"ExperimentReady", "DashboardReady", "Ready"} <= set(notes(first))
    assert airflow.runs == {}

    due = a.step(SLOT + dt.timedelta(seconds=20))
    run_id = f"ra__insights__{a.ref.name}__2024-05-02T04:00:00Z"
    assert "Triggered" in notes(due) and a.status.phase == "Running"
    assert a.status.active_run is not None and a.status.active_run.run_id == run_id
    assert a.status.last_schedule_time == "2024-05-02T04:00:00Z"
    assert airflow.run(run_id).conf["analysis"]["slot"] == "2024-05-02T04:00:00Z"

    airflow.start_run(run_id)
    a.step(SLOT + dt.timedelta(seconds=50))
    assert a.status.active_run is not None and a.status.active_run.state == "running"
    airflow.complete_run(run_id, SUMMARY)
    done = a.step(SLOT + dt.timedelta(minutes=2))
    assert "RunSucceeded" in notes(done) and a.status.phase == "Succeeded"
    assert a.status.active_run is None and a.status.succeeded_runs == 1
    assert a.condition("RunSucceeded") == ("True", "RunSucceeded")
    assert a.status.results is not None and a.status.results["negativePercent"] == 26.0
    assert a.status.mlflow["lastRunId"] == "mlflow-run-1"
    assert [h.state for h in a.status.history] == ["success"]
    assert done.observations.finished[0].run_id == run_id
    quiet = a.step(SLOT + dt.timedelta(minutes=3))
    assert quiet.notes == [] and len(airflow.runs) == 1


def test_a_failed_run_is_counted_and_reported(
    airflow: FakeAirflow, experiments: MlflowLocalExperiments, kube: EmulatorServer
) -> None:
    a = make(airflow, experiments, kube)  # one-shot
    a.step(T0)
    run_id = f"ra__insights__{a.ref.name}__gen-1"
    airflow.fail_run(run_id, task="load", tries=3)
    failed = a.step(T0 + dt.timedelta(minutes=1))
    assert a.status.phase == "Failed" and a.status.failed_runs == 1
    assert a.condition("RunSucceeded") == ("False", "RunFailed")
    assert [(n.type, n.reason) for n in failed.notes] == [("Warning", "RunFailed")]
    # The user is told where it failed, not only to go and look.
    assert f"run {run_id} failed at task load (try 3 of 3)" in failed.notes[0].message


def test_restart_mid_run_never_triggers_twice(
    airflow: FakeAirflow, experiments: MlflowLocalExperiments, kube: EmulatorServer
) -> None:
    a = make(airflow, experiments, kube, **DAILY)
    a.step(T0)
    before_trigger = a.status.copy()
    a.step(SLOT + dt.timedelta(seconds=5))
    # The operator crashed before its status patch landed: it starts again from the old status.
    a.status, a.verified_at = before_trigger, None
    again = a.step(SLOT + dt.timedelta(seconds=40))
    assert "AlreadyTriggered" in notes(again)
    assert len(airflow.runs) == 1 and a.status.active_run is not None


def test_airflow_down_is_a_retried_condition_and_the_slot_runs_when_it_is_back(
    airflow: FakeAirflow, experiments: MlflowLocalExperiments, kube: EmulatorServer
) -> None:
    a = make(airflow, experiments, kube, **DAILY)
    a.step(T0)
    airflow.start_outage("503")
    down = a.step(SLOT + dt.timedelta(seconds=10))
    assert down.transient_error is not None and down.transient_error.reason == "AirflowUnavailable"
    assert a.status.phase == "Error" and a.condition("Ready") == ("False", "AirflowUnavailable")
    assert a.status.last_schedule_time is None  # the slot is still due
    airflow.end_outage()
    back = a.step(SLOT + dt.timedelta(minutes=3))
    assert back.errors == [] and "Triggered" in notes(back)
    assert a.condition("Ready") == ("True", "Ready")


def test_invalid_spec_is_permanent_names_the_field_and_calls_nothing(
    airflow: FakeAirflow, experiments: MlflowLocalExperiments, kube: EmulatorServer
) -> None:
    a = make(airflow, experiments, kube, topics={"numTopics": 500}, timeZone="Mars/Olympus")
    outcome = a.step(T0)
    assert a.status.phase == "Invalid" and outcome.transient_error is None
    status, reason = a.condition("Ready")
    assert (status, reason) == ("False", "InvalidSpec")
    message = a.status.condition("Ready").message  # type: ignore[union-attr]
    assert "spec.topics.numTopics" in message and "spec.timeZone" in message
    assert [(n.type, n.reason) for n in outcome.notes] == [("Warning", "InvalidSpec")]
    assert airflow.calls == []


def test_one_shot_runs_once_per_generation(
    airflow: FakeAirflow, experiments: MlflowLocalExperiments, kube: EmulatorServer
) -> None:
    a = make(airflow, experiments, kube)
    a.step(T0)
    a.step(T0 + dt.timedelta(minutes=1))
    assert list(airflow.runs) == [("review_analysis", f"ra__insights__{a.ref.name}__gen-1")]
    assert a.status.last_triggered_generation == 1 and a.condition("Scheduled") == ("True", "OneShot")
    airflow.complete_run(f"ra__insights__{a.ref.name}__gen-1", SUMMARY)
    a.change_spec(topics={"algorithm": "lda"})
    a.step(T0 + dt.timedelta(minutes=2))
    assert ("review_analysis", f"ra__insights__{a.ref.name}__gen-2") in airflow.runs
    assert airflow.run(f"ra__insights__{a.ref.name}__gen-2").conf["spec"]["topics"]["algorithm"] == "lda"


def test_forbid_skips_a_slot_while_a_run_is_active(
    airflow: FakeAirflow, experiments: MlflowLocalExperiments, kube: EmulatorServer
) -> None:
    a = make(airflow, experiments, kube, **DAILY)
    a.step(T0)
    a.step(SLOT + dt.timedelta(seconds=5))
    next_day = a.step(SLOT + dt.timedelta(days=1, seconds=5))  # first run still queued
    assert "SkippedConcurrent" in notes(next_day) and len(airflow.runs) == 1
    assert a.status.last_schedule_time == "2024-05-03T04:00:00Z"


def test_replace_cancels_the_active_run_in_airflow(
    airflow: FakeAirflow, experiments: MlflowLocalExperiments, kube: EmulatorServer
) -> None:
    a = make(airflow, experiments, kube, concurrencyPolicy="Replace", **DAILY)
    a.step(T0)
    a.step(SLOT + dt.timedelta(seconds=5))
    old = f"ra__insights__{a.ref.name}__2024-05-02T04:00:00Z"
    replaced = a.step(SLOT + dt.timedelta(days=1, seconds=5))
    assert "RunReplaced" in notes(replaced)
    assert airflow.run(old).state == "failed" and a.status.failed_runs == 1
    assert a.status.active_run is not None and a.status.active_run.slot == "2024-05-03T04:00:00Z"


def test_run_now_annotation_starts_one_manual_run(
    airflow: FakeAirflow, experiments: MlflowLocalExperiments, kube: EmulatorServer
) -> None:
    a = make(airflow, experiments, kube, **DAILY)
    a.step(T0)
    a.run_now = "2024-05-01T11:00:00Z"
    a.step(T0 + dt.timedelta(hours=1))
    a.step(T0 + dt.timedelta(hours=1, minutes=1))
    assert [r for _, r in airflow.runs] == [f"ra__insights__{a.ref.name}__manual-2024-05-01T11:00:00Z"]
    assert a.status.last_run_now == "2024-05-01T11:00:00Z"


def test_mlflow_down_holds_runs_back_until_the_experiment_exists(
    airflow: FakeAirflow, experiments: MlflowLocalExperiments, kube: EmulatorServer
) -> None:
    a = make(airflow, experiments, kube)
    a.deps = Deps(
        a.deps.settings,
        a.deps.airflow,
        MlflowRestExperiments("http://127.0.0.1:9", timeout=1),
        a.deps.dashboards,
    )
    outcome = a.step(T0)
    assert outcome.transient_error is not None and outcome.transient_error.system == "MLflow"
    assert a.condition("ExperimentReady") == ("False", "MLflowUnavailable")
    assert a.condition("Scheduled") == ("False", "WaitingForExperiment")
    assert airflow.runs == {}
    a.deps = Deps(a.deps.settings, a.deps.airflow, experiments, a.deps.dashboards)
    a.step(T0 + dt.timedelta(minutes=1))
    assert len(airflow.runs) == 1 and a.condition("ExperimentReady") == ("True", "ExperimentReady")


def test_turning_the_dashboard_off_removes_it(
    airflow: FakeAirflow, experiments: MlflowLocalExperiments, kube: EmulatorServer
) -> None:
    a = make(airflow, experiments, kube, **DAILY)
    a.step(T0)
    a.change_spec(dashboard={"enabled": False})
    a.step(T0 + dt.timedelta(minutes=1))
    assert a.condition("DashboardReady") == ("True", "Disabled") and a.status.dashboard == {}
    assert KubeClient(kube).get("v1", "ConfigMap", "insights", dashboard_configmap_name(a.ref)) is None


def test_delete_policy_cancels_runs_deletes_experiment_and_dashboard(
    airflow: FakeAirflow, experiments: MlflowLocalExperiments, kube: EmulatorServer, tmp_path: Path
) -> None:
    a = make(airflow, experiments, kube, deletionPolicy="Delete")
    a.step(T0)
    farewell = finalize(ObjectView(a.ref, a.spec, a.status), a.deps)
    assert farewell.errors == []
    assert {"RunCancelled", "ExperimentDeleted"} <= {n.reason for n in farewell.notes}
    assert airflow.run(f"ra__insights__{a.ref.name}__gen-1").state == "failed"
    assert experiments.delete(f"reviewops/insights/{a.ref.name}", experiment_owner(a.ref)) is False  # gone
    assert KubeClient(kube).get("v1", "ConfigMap", "insights", dashboard_configmap_name(a.ref)) is None


def test_retain_policy_leaves_runs_and_experiment(
    airflow: FakeAirflow, experiments: MlflowLocalExperiments, kube: EmulatorServer
) -> None:
    a = make(airflow, experiments, kube)
    a.step(T0)
    farewell = finalize(ObjectView(a.ref, a.spec, a.status), a.deps)
    assert {"RunsLeftRunning", "ExperimentRetained"} <= {n.reason for n in farewell.notes}
    assert airflow.run(f"ra__insights__{a.ref.name}__gen-1").state == "queued"
    assert experiments.delete(f"reviewops/insights/{a.ref.name}", experiment_owner(a.ref)) is True  # kept
