"""End to end: the real operator (kopf) reconciles examples/*.yaml applied to the API emulator.

Airflow is the HTTP fake (tests/support/fake_airflow.py: runs move only when a test says so),
MLflow is a real embedded store, dashboards are ConfigMaps. Schedules: tests/test_e2e_schedule.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from mlflow import MlflowClient

from reviewops.spec import parse_spec, spec_to_dict
from reviewops_operator.identity import AnalysisRef, oneshot_run_id
from tests.support.e2e import (
    API,
    KIND,
    RESULT,
    condition,
    example,
    get,
    posts_of,
    runs_of,
    settle,
    wait_event,
    wait_runs,
    wait_status,
)
from tests.support.fake_airflow_payloads import DagRun
from tests.support.kube_client import ApiError, wait_for
from tests.support.operator_harness import Stack

pytestmark = pytest.mark.slow
pytest_plugins = ["tests.support.e2e_fixtures"]  # the stack, ns and clock fixtures


# --- create, update ------------------------------------------------------------------------------


def test_create_makes_experiment_dashboard_run_and_status(stack: Stack, ns: str) -> None:
    stack.client.create(example("oneshot-demo.yaml", ns))
    stack.client.create(example("backmarket-en.yaml", ns))

    (run,) = wait_runs(stack, ns, 1)  # only the one-shot runs now; the daily one waits for 06:00
    spec = parse_spec(example("oneshot-demo.yaml", ns)["spec"])
    assert run.conf["spec"] == spec_to_dict(spec)
    assert run.conf["analysis"]["name"] == "oneshot-demo"
    assert stack.airflow.paused["review_analysis"] is False  # the operator unpaused the DAG

    obj = wait_status(stack, ns, "oneshot-demo", lambda o: o["status"].get("phase") == "Running", "Running")
    active = obj["status"]["activeRun"]
    assert (active["runId"], active["state"]) == (run.run_id, "queued")
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"] == 1
    assert condition(obj, "Ready")["status"] == "True"

    experiment = MlflowClient(stack.mlflow_uri).get_experiment(obj["status"]["mlflow"]["experimentId"])
    assert experiment.name == f"reviewops/{ns}/oneshot-demo"
    assert experiment.tags["reviewops.io/namespace"] == ns

    configmaps = [
        c
        for c in stack.client.objects("v1", "ConfigMap", ns)
        if c["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    ]
    assert len(configmaps) == 2
    owned = {c["metadata"]["ownerReferences"][0]["uid"] for c in configmaps}
    assert obj["metadata"]["uid"] in owned
    assert any(obj["status"]["dashboard"]["uid"] in key for c in configmaps for key in c["data"])
    assert len(obj["status"]["dashboard"]["uid"]) <= 40

    stack.airflow.complete_run(run.run_id, RESULT)
    obj = wait_status(
        stack, ns, "oneshot-demo", lambda o: o["status"].get("phase") == "Succeeded", "Succeeded"
    )
    status = obj["status"]
    assert status["results"]["reviews"] == 4812
    assert status["results"]["negativePercent"] == pytest.approx(21.0)
    assert status["results"]["topTopics"][:2] == ["delivery", "battery"]
    assert (status["succeededRuns"], status["failedRuns"]) == (1, 0)
    assert status["history"][0]["runId"] == run.run_id and status["history"][0]["state"] == "success"
    assert "activeRun" not in status
    assert condition(obj, "RunSucceeded")["status"] == "True"
    for reason in ("Triggered", "RunSucceeded"):
        wait_event(stack, ns, "oneshot-demo", reason)

    daily = get(stack, ns, "backmarket-en")
    assert daily["status"]["phase"] == "Scheduled"
    next_slot = dt.datetime.fromisoformat(daily["status"]["nextScheduleTime"].replace("Z", "+00:00"))
    assert next_slot.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M") == "06:00"
    assert condition(daily, "Ready")["status"] == "True"
    assert posts_of(stack, ns) == 1


def test_spec_update_is_a_new_generation_with_a_new_run(stack: Stack, ns: str) -> None:
    stack.client.create(example("oneshot-demo.yaml", ns))
    (first,) = wait_runs(stack, ns, 1)
    stack.airflow.complete_run(first.run_id, RESULT)
    wait_status(
        stack, ns, "oneshot-demo", lambda o: o["status"].get("phase") == "Succeeded", "first run done"
    )

    stack.client.patch(API, KIND, ns, "oneshot-demo", {"metadata": {"labels": {"team": "insights"}}})
    assert get(stack, ns, "oneshot-demo")["metadata"]["generation"] == 1  # metadata is not spec

    stack.client.patch(API, KIND, ns, "oneshot-demo", {"spec": {"topics": {"numTopics": 7}}})
    second = wait_runs(stack, ns, 2)[1]
    assert second.conf["spec"]["topics"]["numTopics"] == 7
    assert second.conf["analysis"]["generation"] == 2
    obj = wait_status(
        stack, ns, "oneshot-demo", lambda o: o["status"].get("observedGeneration") == 2, "generation 2"
    )
    assert obj["metadata"]["generation"] == 2
    # RunSucceeded describes the last finished run (of generation 1); the others were recomputed.
    recomputed = [c for c in obj["status"]["conditions"] if c["type"] != "RunSucceeded"]
    assert len(recomputed) == 4 and all(c["observedGeneration"] == 2 for c in recomputed)
    assert obj["status"]["activeRun"]["runId"] == second.run_id
    assert posts_of(stack, ns) == 2


def test_run_now_annotation_starts_a_manual_run(stack: Stack, ns: str) -> None:
    stack.client.create(example("backmarket-en.yaml", ns))
    wait_status(stack, ns, "backmarket-en", lambda o: condition(o, "Ready").get("status") == "True", "Ready")
    stack.client.patch(
        API, KIND, ns, "backmarket-en", {"metadata": {"annotations": {"reviewops.io/run-now": "first"}}}
    )
    (run,) = wait_runs(stack, ns, 1)
    assert "manual" in run.run_id
    settle(stack)
    assert posts_of(stack, ns) == 1  # the same annotation value does not run again


# --- failures and restarts ---------------------------------------------------------------------


def test_operator_restart_mid_run_does_not_trigger_again(stack: Stack, ns: str) -> None:
    stack.client.create(example("oneshot-demo.yaml", ns))
    (run,) = wait_runs(stack, ns, 1)
    wait_status(stack, ns, "oneshot-demo", lambda o: o.get("status", {}).get("activeRun"), "run recorded")

    stack.operator.restart()
    stack.airflow.start_run(run.run_id)
    wait_status(
        stack,
        ns,
        "oneshot-demo",
        lambda o: o["status"]["activeRun"]["state"] == "running",
        "restarted operator polls",
    )
    stack.airflow.complete_run(run.run_id, RESULT)
    wait_status(
        stack,
        ns,
        "oneshot-demo",
        lambda o: o["status"].get("phase") == "Succeeded",
        "Succeeded after restart",
    )
    assert posts_of(stack, ns) == 1
    assert len(runs_of(stack, ns)) == 1


def test_a_run_already_in_airflow_is_followed_not_duplicated(stack: Stack, ns: str) -> None:
    # As after a crash between Airflow's answer and the status write: the run exists, status does not know it.
    run_id = oneshot_run_id(AnalysisRef(ns, "oneshot-demo"), 1)
    stack.airflow.add_run(DagRun("review_analysis", run_id, {"analysis": {"namespace": ns}}, None))
    stack.client.create(example("oneshot-demo.yaml", ns))
    wait_status(
        stack,
        ns,
        "oneshot-demo",
        lambda o: (o.get("status", {}).get("activeRun") or {}).get("runId") == run_id,
        "follows the run",
    )
    wait_event(stack, ns, "oneshot-demo", "AlreadyTriggered")
    assert len(runs_of(stack, ns)) == 1
    assert posts_of(stack, ns) == 1  # answered 409


def test_a_run_left_by_another_object_of_the_same_name_is_not_followed(stack: Stack, ns: str) -> None:
    # A deleted "oneshot-demo" (Retain) left its run; the new object has the same run id, another uid.
    run_id = oneshot_run_id(AnalysisRef(ns, "oneshot-demo"), 1)
    old = {"analysis": {"namespace": ns, "name": "oneshot-demo", "uid": "uid-of-the-deleted-object"}}
    stack.airflow.add_run(DagRun("review_analysis", run_id, old, None))
    stack.client.create(example("oneshot-demo.yaml", ns))
    obj = wait_status(
        stack,
        ns,
        "oneshot-demo",
        lambda o: condition(o, "Scheduled").get("reason") == "RunConflict",
        "Scheduled=False RunConflict",
    )
    assert "uid-of-the-deleted-object" in condition(obj, "Scheduled")["message"]
    assert not (obj.get("status", {}).get("activeRun") or {}).get("runId")
    wait_event(stack, ns, "oneshot-demo", "RunConflict")
    assert stack.airflow.run(run_id).conf == old and stack.airflow.run(run_id).state == "queued"
    assert len(runs_of(stack, ns)) == 1


def test_an_experiment_that_another_team_made_is_left_alone(stack: Stack, ns: str) -> None:
    # Somebody made the experiment this analysis would use, outside ReviewOps.
    name = f"reviewops/{ns}/oneshot-demo"
    foreign = MlflowClient(stack.mlflow_uri).create_experiment(name, tags={"team": "finance"})
    stack.client.create(example("oneshot-demo.yaml", ns))
    obj = wait_status(
        stack,
        ns,
        "oneshot-demo",
        lambda o: condition(o, "ExperimentReady").get("reason") == "ExperimentConflict",
        "ExperimentReady=False ExperimentConflict",
    )
    assert "is not managed by ReviewOps" in condition(obj, "ExperimentReady")["message"]
    wait_event(stack, ns, "oneshot-demo", "ExperimentConflict")
    assert runs_of(stack, ns) == []  # no run logs into somebody else's experiment
    experiment = MlflowClient(stack.mlflow_uri).get_experiment(foreign)
    assert experiment.tags == {"team": "finance"} and experiment.lifecycle_stage == "active"


@pytest.mark.parametrize("mode", ["503", "hang"])
def test_airflow_down_then_up_shows_a_condition_and_recovers(stack: Stack, ns: str, mode: str) -> None:
    stack.airflow.start_outage(mode)
    stack.client.create(example("oneshot-demo.yaml", ns))
    obj = wait_status(
        stack,
        ns,
        "oneshot-demo",
        lambda o: condition(o, "Scheduled").get("status") == "False",
        "Airflow failure shown",
    )
    assert obj["status"]["phase"] == "Error"
    assert condition(obj, "Ready")["status"] == "False"
    assert "airflow" in condition(obj, "Scheduled")["message"].lower()
    # kopf posts Events in the background: the Warning may land just after the status patch
    wait_for(
        lambda: any(e["type"] == "Warning" for e in stack.client.events(ns, "oneshot-demo")),
        what="a Warning Event",
    )
    assert runs_of(stack, ns) == []

    stack.airflow.end_outage()
    (run,) = wait_runs(stack, ns, 1, timeout=30)
    obj = wait_status(
        stack, ns, "oneshot-demo", lambda o: condition(o, "Ready").get("status") == "True", "recovered"
    )
    assert obj["status"]["phase"] == "Running"
    assert obj["status"]["activeRun"]["runId"] == run.run_id
    assert stack.operator.alive(), "the operator must retry, not crash"


# --- invalid specs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "patch", "skips_rules"),
    [
        ("spec.topics.numTopics", {"topics": {"numTopics": 0}}, False),
        ("spec.topics.numTopics", {"topics": {"numTopics": "five"}}, False),
        ("spec.source.languages[0]", {"source": {"languages": ["english"]}}, False),
        ("spec.concurrencyPolicy", {"concurrencyPolicy": "Sometimes"}, True),
        ("spec.sentiment.method", {"sentiment": {"method": "magic"}}, True),
        ("spec.schedule", {"schedule": "every day at six"}, False),
        ("spec.source.maxReviews", {"source": {"maxReviews": 0}}, False),
        ("spec.timeZone", {"timeZone": "Europe/Paris "}, False),
        ("spec.source.since", {"source": {"since": "2024-13-01"}}, True),
    ],
)
def test_schema_invalid_specs_are_refused_naming_the_field(
    stack: Stack, ns: str, field: str, patch: dict[str, Any], skips_rules: bool
) -> None:
    obj = example("backmarket-en.yaml", ns)
    for key, value in patch.items():
        obj["spec"][key] = {**obj["spec"].get(key, {}), **value} if isinstance(value, dict) else value
    with pytest.raises(ApiError) as refused:
        stack.client.create(obj)
    assert refused.value.status == 422
    # The CRD has CEL rules: a real server skips them after a wrong type, format or enum value,
    # and says so in one more cause ("<nil>"); a value out of range or off pattern does not.
    skipped = ["<nil>"] if skips_rules else []
    assert [c["field"] for c in refused.value.body["details"]["causes"]] == [field, *skipped]
    assert field in refused.value.body["message"]


def test_unknown_fields_are_refused_by_strict_validation(stack: Stack, ns: str) -> None:
    obj = example("backmarket-en.yaml", ns, timezone="Europe/Paris")
    with pytest.raises(ApiError) as refused:
        stack.client.create(obj, strict=True)
    assert refused.value.status == 400 and 'unknown field "spec.timezone"' in refused.value.body["message"]


@pytest.mark.parametrize(("field", "value"), [("timeZone", "Mars/Olympus_Mons"), ("schedule", "61 * * * *")])
def test_specs_only_the_model_rejects_get_a_permanent_condition(
    stack: Stack, ns: str, field: str, value: str
) -> None:
    stack.client.create(example("backmarket-en.yaml", ns, **{field: value}))
    obj = wait_status(
        stack, ns, "backmarket-en", lambda o: o.get("status", {}).get("phase") == "Invalid", "Invalid"
    )
    ready = condition(obj, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
    assert f"spec.{field}" in ready["message"]
    wait_event(stack, ns, "backmarket-en", "InvalidSpec")

    stack.client.patch(
        API,
        KIND,
        ns,
        "backmarket-en",
        {"spec": {field: "Europe/Paris" if field == "timeZone" else "0 6 * * *"}},
    )
    wait_status(
        stack,
        ns,
        "backmarket-en",
        lambda o: condition(o, "Ready").get("status") == "True",
        "Ready once fixed",
    )


def test_a_trustpilot_source_without_a_domain_is_refused_at_apply(stack: Stack, ns: str) -> None:
    obj = example("backmarket-en.yaml", ns, company={"name": "Back Market"})
    with pytest.raises(ApiError) as refused:
        stack.client.create(obj)
    assert refused.value.status == 422
    assert [c["field"] for c in refused.value.body["details"]["causes"]] == ["spec.company.domain"]
    assert "company.domain is required when source.type is trustpilot" in refused.value.body["message"]
    # the same object reading a file needs no domain (the CEL rule looks at source.type)
    stack.client.create(
        example("backmarket-en.yaml", ns, company={"name": "Back Market"}, source={"type": "demo"})
    )


@pytest.mark.parametrize(
    ("field", "spec"),
    [
        # a pickle anywhere on the worker: loading it runs its code
        ("spec.sentiment.modelUri", {"sentiment": {"method": "supervised", "modelUri": "/tmp/x.joblib"}}),
        # another namespace's registered model
        (
            "spec.sentiment.modelUri",
            {"sentiment": {"modelUri": "models:/reviewops.someone-else.bm@champion"}},
        ),
        # any file the worker can read
        ("spec.source.path", {"source": {"type": "file", "path": "/etc/passwd"}}),
    ],
)
def test_a_spec_pointing_outside_the_admins_allow_lists_never_runs(
    stack: Stack, ns: str, field: str, spec: dict[str, Any]
) -> None:
    stack.client.create(example("backmarket-en.yaml", ns, **spec))
    obj = wait_status(
        stack,
        ns,
        "backmarket-en",
        lambda o: condition(o, "Ready").get("reason") == "NotAllowed",
        "NotAllowed",
    )
    ready = condition(obj, "Ready")
    assert ready["status"] == "False" and ready["message"].startswith(f"not allowed: {field}:")
    assert "REVIEWOPS_ALLOWED_" in ready["message"]  # says who can change it
    wait_event(stack, ns, "backmarket-en", "NotAllowed")
    stack.client.patch(
        API, KIND, ns, "backmarket-en", {"metadata": {"annotations": {"reviewops.io/run-now": "1"}}}
    )
    settle(stack)
    assert runs_of(stack, ns) == []


# --- deletion ------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["Retain", "Delete"])
def test_delete_honours_the_deletion_policy(stack: Stack, ns: str, policy: str) -> None:
    stack.client.create(example("oneshot-demo.yaml", ns, deletionPolicy=policy))
    (run,) = wait_runs(stack, ns, 1)
    obj = wait_status(
        stack, ns, "oneshot-demo", lambda o: condition(o, "Ready").get("status") == "True", "Ready"
    )
    experiment_id = obj["status"]["mlflow"]["experimentId"]
    assert "reviewops.io/finalizer" in obj["metadata"]["finalizers"]

    stack.client.delete(API, KIND, ns, "oneshot-demo")
    wait_for(lambda: stack.client.get(API, KIND, ns, "oneshot-demo") is None, 30, "finalized and gone")

    experiment = MlflowClient(stack.mlflow_uri).get_experiment(experiment_id)
    dashboards = [
        c
        for c in stack.client.objects("v1", "ConfigMap", ns)
        if c["metadata"].get("labels", {}).get("grafana_dashboard")
    ]
    assert dashboards == []
    if policy == "Retain":
        assert experiment.lifecycle_stage == "active"
        assert run.state == "queued"  # left to finish
        wait_event(stack, ns, "oneshot-demo", "RunsLeftRunning")
    else:
        assert experiment.lifecycle_stage == "deleted"
        assert run.state == "failed"  # cancelled
        for reason in ("RunCancelled", "ExperimentDeleted"):
            wait_event(stack, ns, "oneshot-demo", reason)
