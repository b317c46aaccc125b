"""The fake Airflow speaks the real REST contract: apache-airflow-client 3.3.2 can use it, and
every answer validates against apache-airflow 3.3.2's own OpenAPI documents."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from airflow_client import client as af
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from tests.support.fake_airflow import ROUTES, FakeAirflow

AIRFLOW = Path(af.__file__).resolve().parents[2] / "airflow" / "api_fastapi"
CORE_SPEC = AIRFLOW / "core_api" / "openapi" / "v2-rest-api-generated.yaml"
AUTH_SPEC = AIRFLOW / "auth" / "managers" / "simple" / "openapi" / "v2-simple-auth-manager-generated.yaml"
RESULT = {"reviews": 10, "meanRating": 4.0, "sentiment": {"positive": 0.8, "neutral": 0.1, "negative": 0.1}}


@pytest.fixture(scope="module")
def specs() -> dict[str, Any]:
    if not CORE_SPEC.is_file():
        pytest.skip(f"apache-airflow's OpenAPI document not found at {CORE_SPEC} (install the airflow extra)")
    core = yaml.load(CORE_SPEC.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    auth = yaml.safe_load(AUTH_SPEC.read_text(encoding="utf-8"))
    return {
        "paths": {**core["paths"], **auth["paths"]},
        "schemas": {**auth["components"]["schemas"], **core["components"]["schemas"]},
    }


@pytest.fixture
def airflow() -> Iterator[FakeAirflow]:
    with FakeAirflow() as fake:
        yield fake


def token(fake: FakeAirflow) -> str:
    answer = requests.post(
        f"{fake.url}/auth/token", json={"username": "admin", "password": "admin"}, timeout=5
    )
    assert answer.status_code == 201
    value: str = answer.json()["access_token"]
    return value


def api(fake: FakeAirflow) -> af.ApiClient:
    return af.ApiClient(af.Configuration(host=fake.url, access_token=token(fake)))


def _operation(specs: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    for template, operations in specs["paths"].items():
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            found: dict[str, Any] = operations[method.lower()]
            return found
    raise AssertionError(f"{method} {path} is not in Airflow's OpenAPI document")


def test_every_fake_route_exists_in_airflow(specs: dict[str, Any]) -> None:
    samples = {"dag": "review_analysis", "run": "r1", "task": "publish", "key": "return_value"}
    for method, pattern, _ in ROUTES:
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: samples[m.group(1)], pattern.pattern).strip("^$")
        _operation(specs, method, path)


def test_the_client_drives_a_whole_run(airflow: FakeAirflow, specs: dict[str, Any]) -> None:
    with api(airflow) as client:
        dag = af.DAGApi(client).patch_dag(
            "review_analysis", af.DAGPatchBody(is_paused=False), update_mask=["is_paused"]
        )
        assert dag.is_paused is False and airflow.paused["review_analysis"] is False
        runs = af.DagRunApi(client)
        body = af.TriggerDAGRunPostBody(
            dag_run_id="ra__ns__a__gen-1", logical_date=None, conf={"spec": {"x": 1}}
        )
        created = runs.trigger_dag_run("review_analysis", body)
        assert (created.dag_run_id, created.state.value, created.conf) == (
            "ra__ns__a__gen-1",
            "queued",
            {"spec": {"x": 1}},
        )
        with pytest.raises(af.ApiException) as duplicate:
            runs.trigger_dag_run("review_analysis", body)
        assert duplicate.value.status == 409
        airflow.start_run("ra__ns__a__gen-1")
        assert runs.get_dag_run("review_analysis", "ra__ns__a__gen-1").state.value == "running"
        airflow.complete_run("ra__ns__a__gen-1", RESULT)
        done = runs.get_dag_run("review_analysis", "ra__ns__a__gen-1")
        assert done.state.value == "success" and done.end_date is not None
        entry = af.XComApi(client).get_xcom_entry(
            "review_analysis", "publish", "ra__ns__a__gen-1", "return_value"
        )
        assert isinstance(entry.actual_instance, af.XComResponseNative)
        assert entry.actual_instance.value == RESULT
        cancelled = runs.patch_dag_run(
            "review_analysis", "ra__ns__a__gen-1", af.DAGRunPatchBody(state="failed")
        )
        assert cancelled.state.value == "failed"
    assert airflow.trigger_count("ra__ns__a__gen-1") == 2


def test_every_answer_matches_airflows_response_schema(airflow: FakeAirflow, specs: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {token(airflow)}"}
    base = f"{airflow.url}/api/v2/dags/review_analysis"
    calls: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]] = [
        ("POST", f"{airflow.url}/auth/token", {"username": "admin", "password": "admin"}, {}),
        ("POST", f"{airflow.url}/auth/token", {"username": "admin", "password": "nope"}, {}),
        ("GET", base, None, headers),
        ("GET", f"{airflow.url}/api/v2/dags/unknown", None, headers),
        ("PATCH", base + "?update_mask=is_paused", {"is_paused": False}, headers),
        ("POST", base + "/dagRuns", {"dag_run_id": "r1", "logical_date": None, "conf": {}}, headers),
        ("POST", base + "/dagRuns", {"dag_run_id": "r1", "logical_date": None, "conf": {}}, headers),
        ("POST", base + "/dagRuns", {"dag_run_id": "r2"}, headers),
        ("GET", base + "/dagRuns/r1", None, headers),
        ("GET", base + "/dagRuns/missing", None, headers),
        ("PATCH", base + "/dagRuns/r1", {"state": "failed"}, headers),
        ("GET", base + "/dagRuns/r1/taskInstances/publish/xcomEntries/return_value", None, headers),
        ("GET", base + "/dagRuns/r1", None, {}),
        ("GET", base + "/dagRuns/r1/taskInstances?state=failed", None, headers),
    ]
    statuses = []
    for i, (method, url, body, extra) in enumerate(calls):
        if i == len(calls) - 1:
            airflow.fail_run("r1", task="load", tries=2)
        answer = requests.request(method, url, json=body, headers=extra, timeout=5)
        statuses.append(answer.status_code)
        path = url.split(airflow.url, 1)[1].split("?")[0]
        responses = _operation(specs, method, path)["responses"]
        schema = responses[str(answer.status_code)]["content"]["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": {"schemas": specs["schemas"]}})
        errors = [e.message for e in validator.iter_errors(answer.json())]
        assert errors == [], f"{method} {path} -> {answer.status_code}: {errors}"
    assert statuses == [201, 401, 200, 404, 200, 200, 409, 422, 200, 404, 200, 404, 401, 200]
    assert answer.json()["task_instances"][0]["task_id"] == "load"  # the failed task, schema-valid


def test_tokens_are_checked(airflow: FakeAirflow) -> None:
    url = f"{airflow.url}/api/v2/dags/review_analysis"
    assert requests.get(url, timeout=5).json() == {"detail": "Not authenticated"}
    forged = token(airflow)[:-4] + "AAAA"
    answer = requests.get(url, headers={"Authorization": f"Bearer {forged}"}, timeout=5)
    assert (answer.status_code, answer.json()["detail"]) == (403, "Invalid JWT token")
    airflow.token_ttl_seconds = 0
    expired = requests.get(url, headers={"Authorization": f"Bearer {token(airflow)}"}, timeout=5)
    assert (expired.status_code, expired.json()["detail"]) == (401, "Token Expired")


def test_outages(airflow: FakeAirflow) -> None:
    headers = {"Authorization": f"Bearer {token(airflow)}"}
    url = f"{airflow.url}/api/v2/dags/review_analysis"
    airflow.start_outage("503")
    assert requests.get(url, headers=headers, timeout=5).status_code == 503
    airflow.start_outage("hang")
    with pytest.raises(requests.Timeout):
        requests.get(url, headers=headers, timeout=0.5)
    airflow.end_outage()
    assert requests.get(url, headers=headers, timeout=5).status_code == 200
