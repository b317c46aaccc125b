"""The committed CRD is the generator's output, and it is a valid structural schema."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from reviewops_operator import crd as generator
from tests.support import crd_schema
from tests.support.kube_read import evaluate

CRD = crd_schema.load_crd()
SCHEMA = crd_schema.object_schema(CRD)


def _nodes(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for key, sub in (node.get("properties") or {}).items():
        yield from _nodes(sub, f"{path}.{key}")
    if isinstance(node.get("items"), dict):
        yield from _nodes(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _nodes(node["additionalProperties"], f"{path}{{}}")


def test_committed_crd_is_what_the_generator_prints() -> None:
    committed = crd_schema.CRD_PATH.read_text(encoding="utf-8")
    assert committed == generator.render_crd(), (
        "crds/reviewanalysis.yaml is stale: run `python -m reviewops_operator.crd > crds/reviewanalysis.yaml`"
    )


def test_generator_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reviewops_operator.crd"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout == crd_schema.CRD_PATH.read_text(encoding="utf-8")


def test_identity_status_and_names() -> None:
    spec = CRD["spec"]
    version = crd_schema.storage_version(CRD)
    assert CRD["metadata"]["name"] == "reviewanalyses.reviewops.io"
    assert (spec["group"], spec["scope"], version["name"]) == ("reviewops.io", "Namespaced", "v1alpha1")
    assert spec["names"]["kind"] == "ReviewAnalysis"
    assert "ra" in spec["names"]["shortNames"]
    assert spec["names"]["categories"] == ["reviewops"]
    assert version["subresources"] == {"status": {}}
    assert version["served"] and version["storage"]


@pytest.mark.parametrize(
    ("path", "node"), list(_nodes(SCHEMA)), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_node_is_structural(path: str, node: dict[str, Any]) -> None:
    assert "$ref" not in node and "$defs" not in node and "const" not in node, path
    assert node.get("additionalProperties") is not False, f"{path}: additionalProperties: false is forbidden"
    assert not ("properties" in node and "additionalProperties" in node), path
    if node.get("x-kubernetes-int-or-string"):
        assert "type" not in node, path
        assert node["anyOf"] == [{"type": "integer"}, {"type": "string"}], path
    elif not node.get("x-kubernetes-preserve-unknown-fields"):
        assert node.get("type") in ("object", "array", "string", "integer", "number", "boolean"), path
        assert "anyOf" not in node and "oneOf" not in node and "allOf" not in node, path
    if node.get("type") == "array":
        assert isinstance(node.get("items"), dict), f"{path}: arrays need an items schema"
    for key in ("exclusiveMinimum", "exclusiveMaximum"):
        assert isinstance(node.get(key, True), bool), f"{path}: OpenAPI 3.0 wants a boolean {key}"


@pytest.mark.parametrize(
    ("path", "node"),
    [(p, n) for p, n in _nodes(SCHEMA) if "default" in n],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_defaults_are_valid_for_their_field(path: str, node: dict[str, Any]) -> None:
    # The API server refuses a CRD whose defaults do not validate against their own schema.
    default = crd_schema.apply_defaults(node, crd_schema.prune(node, node["default"], root=False))
    assert not list(OAS30Validator(node, format_checker=crd_schema.FORMATS).iter_errors(default)), path


def test_every_spec_field_has_a_description_for_kubectl_explain() -> None:
    missing = [
        p
        for p, n in _nodes(SCHEMA["properties"]["spec"], "spec")
        if "[]" not in p and "{}" not in p and not n.get("description")
    ]
    assert missing == []


def test_spec_carries_the_model_constraints_users_hit_first() -> None:
    spec = SCHEMA["properties"]["spec"]["properties"]
    num_topics = spec["topics"]["properties"]["numTopics"]
    assert (num_topics["minimum"], num_topics["maximum"], num_topics["default"]) == (1, 100, "auto")
    assert spec["topics"]["properties"]["algorithm"]["enum"] == ["lda", "nmf", "gensim-lda"]
    assert spec["sentiment"]["properties"]["method"]["enum"] == ["ratings", "lexicon", "supervised"]
    assert spec["source"]["properties"]["type"]["enum"] == ["trustpilot", "file", "demo"]
    assert spec["concurrencyPolicy"]["default"] == "Forbid"
    assert spec["deletionPolicy"]["default"] == "Retain"
    assert "nullable" not in spec["schedule"] and "pattern" in spec["schedule"]  # null = pruned = unset
    assert spec["source"]["properties"]["since"]["format"] == "date"
    assert SCHEMA["properties"]["spec"]["required"] == ["company"]


def test_status_schema_holds_the_contract() -> None:
    status = SCHEMA["properties"]["status"]["properties"]
    for field in (
        "observedGeneration",
        "phase",
        "conditions",
        "lastScheduleTime",
        "nextScheduleTime",
        "lastSuccessfulTime",
        "activeRun",
        "history",
        "succeededRuns",
        "failedRuns",
        "mlflow",
        "dashboard",
        "results",
    ):
        assert field in status, field
    assert set(status["phase"]["enum"]) == {
        "Pending",
        "Scheduled",
        "Running",
        "Succeeded",
        "Failed",
        "Suspended",
        "Invalid",
        "Error",
    }
    condition = status["conditions"]["items"]["properties"]
    assert set(condition) == {
        "type",
        "status",
        "reason",
        "message",
        "lastTransitionTime",
        "observedGeneration",
    }
    assert status["conditions"]["x-kubernetes-list-map-keys"] == ["type"]
    assert set(status["history"]["items"]["properties"]) == {
        "runId",
        "slot",
        "state",
        "startedAt",
        "finishedAt",
    }
    results = status["results"]["properties"]
    assert {
        "reviews",
        "meanRating",
        "sentiment",
        "topTopics",
        "negativeDrivers",
        "negativePercent",
        "macroF1",
        "coherence",
    } <= set(results)


def test_printer_columns_read_fields_the_schema_declares() -> None:
    columns = crd_schema.storage_version(CRD)["additionalPrinterColumns"]
    names = [c["name"] for c in columns if not c.get("priority")]
    assert names == ["Company", "Schedule", "Suspend", "Phase", "Last Run", "Reviews", "Negative %", "Age"]
    sample = {
        "metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {
            "company": {"name": "Back Market", "domain": "www.example.com"},
            "schedule": "0 6 * * *",
            "suspend": False,
        },
        "status": {
            "phase": "Succeeded",
            "lastScheduleTime": "2026-01-01T05:00:00Z",
            "results": {"reviews": 10, "negativePercent": 12.5},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }
    assert crd_schema.validate(SCHEMA, sample) == []
    for column in columns:
        assert evaluate(column["jsonPath"], sample), f"{column['name']}: {column['jsonPath']} selects nothing"
