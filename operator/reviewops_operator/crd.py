"""Generate the ReviewAnalysis CRD: `python -m reviewops_operator.crd > crds/reviewanalysis.yaml`.

The spec schema is derived from the pydantic model `reviewops.spec.ReviewAnalysisSpec` (its JSON
schema rewritten as a Kubernetes *structural* schema: `$ref`s inlined, `Optional` as omittable
(a null is pruned), the models' cross-field `cel_rules` as x-kubernetes-validations,
`int | "auto"` as `x-kubernetes-int-or-string`, defaults taken from the model, descriptions kept
so `kubectl explain` teaches the fields). The status schema is the operator's status contract and is
written here. tests/test_crd.py proves the committed YAML is what this module prints, and that the
schema and the model accept and reject the same documents.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python

from reviewops.spec import API_GROUP, API_VERSION, KIND, PLURAL, CelRule, ReviewAnalysisSpec

CRD_NAME = f"{PLURAL}.{API_GROUP}"
SHORT_NAMES = ["ra"]
CATEGORIES = ["reviewops"]
PHASES = ["Pending", "Scheduled", "Running", "Succeeded", "Failed", "Suspended", "Invalid", "Error"]

# Keys are written in this order (then alphabetically), so the YAML reads top-down like a form.
_KEY_ORDER = [
    "description",
    "type",
    "format",
    "nullable",
    "x-kubernetes-int-or-string",
    "anyOf",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "enum",
    "pattern",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "default",
    "required",
    "properties",
    "items",
    "additionalProperties",
    "x-kubernetes-validations",
]
# JSON-schema keywords a structural schema either forbids or does not need.
_DROPPED = {"title", "$defs"}


class SchemaShapeError(ValueError):
    """The model uses a shape a structural schema cannot express; the message names the field."""


def _ordered(node: dict[str, Any]) -> dict[str, Any]:
    rank = {key: i for i, key in enumerate(_KEY_ORDER)}
    return dict(sorted(node.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])))


def _nested_model(field: FieldInfo) -> type[BaseModel] | None:
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _convert(node: dict[str, Any], defs: dict[str, Any], where: str) -> dict[str, Any]:
    """Rewrite one JSON-schema node (pydantic output) as a structural OpenAPI v3 node."""
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED or (key == "additionalProperties" and value is False):
            # Structural schemas forbid `additionalProperties: false`: unknown fields are pruned,
            # or rejected by the server's strict field validation (kubectl's default).
            continue
        if key == "anyOf":
            out.update(_convert_any_of(value, defs, where))
        elif key == "const":
            out["enum"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            # JSON Schema 2020-12 gives the bound; OpenAPI 3.0 wants the bound plus a flag.
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        elif key == "items":
            out["items"] = _convert(value, defs, f"{where}[]")
        elif key == "additionalProperties":
            out["additionalProperties"] = _convert(value, defs, f"{where}{{}}")
        elif key == "default" and value is None:
            continue
        else:
            out[key] = value
    if "type" not in out and not out.get("x-kubernetes-int-or-string"):
        raise SchemaShapeError(f"{where}: no type after conversion: {node}")
    return _ordered(out)


def _convert_any_of(branches: list[dict[str, Any]], defs: dict[str, Any], where: str) -> dict[str, Any]:
    # `Optional` is not `nullable`: the API server then prunes a null before defaulting, so null
    # means unset on the server as in the model (and CEL's has() sees it as unset).
    non_null = [b for b in branches if b.get("type") != "null"]
    out: dict[str, Any] = {}
    if len(non_null) == 1:
        out.update(_convert(non_null[0], defs, where))
        return out
    types_ = sorted(b.get("type", "?") for b in non_null)
    if types_ != ["integer", "string"]:
        raise SchemaShapeError(f"{where}: a union of {types_} has no structural form")
    # int-or-string: the anyOf must be exactly [integer, string]; value rules go on the node
    # itself, where minimum/maximum only bind integers and pattern only binds strings.
    out["x-kubernetes-int-or-string"] = True
    out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    for branch in non_null:
        if branch["type"] == "integer":
            out.update({k: v for k, v in branch.items() if k in ("minimum", "maximum")})
        else:
            allowed = branch.get("enum") or [branch["const"]]
            out["pattern"] = "^(" + "|".join(re.escape(str(v)) for v in allowed) + ")$"
    return out


def _default(field: FieldInfo) -> Any:
    if field.is_required():
        return None
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        # `{}` lets the API server fill the nested defaults, exactly as pydantic does.
        return {}
    return to_jsonable_python(value)


def _formatted_string_rules(properties: dict[str, Any], where: str) -> list[dict[str, str]]:
    """CEL rules that make a `format: date(-time)` string field refuse non-strings.

    kube-apiserver (1.37 measured) checks such a field only through its format, and the format
    check skips arrays: `since: ["x"]` would be stored. A rule that reads the field fails to
    convert an array, so the server refuses it (a valid value compares equal to itself).
    """
    rules = []
    for alias, node in properties.items():
        if node.get("type") == "string" and node.get("format") in ("date", "date-time"):
            rules.append({
                "rule": f"!has(self.{alias}) || self.{alias} == self.{alias}",
                "message": f"{where}.{alias} must be a {node['format']} string",
                "fieldPath": f".{alias}",
                "reason": "FieldValueInvalid",
            })  # fmt: skip
    return rules


def _cross_field_rules(model: type[BaseModel]) -> list[dict[str, str]]:
    """The model's `cel_rules` (reviewops.spec.CelRule) as x-kubernetes-validations."""
    rules: tuple[CelRule, ...] = getattr(model, "cel_rules", ())
    return [
        {"rule": r.rule, "message": f"{r.field} {r.message}", "fieldPath": f".{r.field}", "reason": r.reason}
        for r in rules
    ]


def model_schema(model: type[BaseModel], where: str = "spec") -> dict[str, Any]:
    """The structural schema of a pydantic model (camelCase properties, defaults, descriptions)."""
    raw = model.model_json_schema(by_alias=True)
    defs = raw.get("$defs", {})
    properties: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        alias = field.alias or name
        path = f"{where}.{alias}"
        nested = _nested_model(field)
        node = model_schema(nested, path) if nested else _convert(raw["properties"][alias], defs, path)
        if field.description:
            node["description"] = field.description
        default = _default(field)
        if default is not None:
            node["default"] = default
        properties[alias] = _ordered(node)
    out: dict[str, Any] = {"type": "object", "properties": properties}
    rules = _formatted_string_rules(properties, where) + _cross_field_rules(model)
    if rules:
        out["x-kubernetes-validations"] = rules
    if model.__doc__:
        out["description"] = model.__doc__.strip().splitlines()[0]
    required = [f.alias or n for n, f in model.model_fields.items() if f.is_required()]
    if required:
        out["required"] = required
    return _ordered(out)


def _obj(description: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return _ordered({"type": "object", "description": description, "properties": properties, **extra})


def _str(description: str, **extra: Any) -> dict[str, Any]:
    return _ordered({"type": "string", "description": description, **extra})


def _time(description: str) -> dict[str, Any]:
    return _str(description, format="date-time")


def _int(description: str) -> dict[str, Any]:
    return {"description": description, "type": "integer", "format": "int64"}


def _num(description: str) -> dict[str, Any]:
    return {"description": description, "type": "number"}


def _run_item(description: str) -> dict[str, Any]:
    return _obj(
        description,
        {
            "runId": _str("Airflow dag_run_id (deterministic: namespace, name and slot)."),
            "slot": _str("The schedule slot (RFC 3339), gen-N for one-shot runs, manual-... for run-now."),
            "state": _str("Airflow run state: queued, running, success or failed."),
            "startedAt": _time("When the run was triggered."),
            "finishedAt": _time("When the run ended."),
        },
        required=["runId"],
    )


def status_schema() -> dict[str, Any]:
    """The status the operator writes (the contract in DESIGN.md)."""
    condition = _obj(
        "One aspect of the analysis' state (Kubernetes condition conventions).",
        {
            "type": _str("Ready, Scheduled, ExperimentReady, DashboardReady or RunSucceeded."),
            "status": _str("True, False or Unknown.", enum=["True", "False", "Unknown"]),
            "reason": _str("CamelCase reason, e.g. RunSucceeded, AirflowUnavailable, InvalidSpec."),
            "message": _str("Human-readable details, naming the field or service at fault."),
            "lastTransitionTime": _time("When status last changed."),
            "observedGeneration": _int("metadata.generation this condition was computed from."),
        },
        required=["type", "status"],
    )
    share = _num("Share of reviews, 0-1.")
    results = _obj(
        "Summary of the latest successful run (read back from the DAG's publish task).",
        {
            "reviews": _int("Reviews analysed."),
            "meanRating": _num("Mean star rating (1-5)."),
            "sentiment": _obj("Sentiment shares.", {"positive": share, "neutral": share, "negative": share}),
            "negativePercent": _num("Negative reviews, in percent (printed by kubectl get)."),
            "topTopics": {
                "description": "Largest topics, by label.",
                "type": "array",
                "items": {"type": "string"},
            },
            "negativeDrivers": {
                "description": "Topics that drive negative reviews, by label.",
                "type": "array",
                "items": {"type": "string"},
            },
            "macroF1": _num("Sentiment macro-F1 against star labels."),
            "coherence": _num("Topic coherence of the chosen model."),
            "model": _obj(
                "The sentiment model: its registered version and the champion decision "
                "(spec.mlflow.registerModel), or the model that scored the run (sentiment.modelUri).",
                {
                    "name": _str("Registered model name (reviewops.<namespace>.<name>)."),
                    "version": _str("The version this run registered."),
                    "registered": {
                        "description": "Whether this run registered a version.",
                        "type": "boolean",
                    },
                    "macroF1": _num("Held-out macro-F1 of this run's model."),
                    "championBefore": _str("The version the champion alias named before this run."),
                    "championMacroF1": _num("Held-out macro-F1 of that champion (its own run's data)."),
                    "promoted": {
                        "description": "Whether the champion alias moved to this version.",
                        "type": "boolean",
                    },
                    "champion": _str("The version the champion alias names now."),
                    "reason": _str("Why the alias moved, stayed, or no version was registered."),
                    "uri": _str("models:/<name>@champion"),
                    "scoredWith": _str("The model URI (a version) that scored this run, when reused."),
                },
            ),
        },
    )
    return _obj(
        "Observed state, written by the reviewops operator.",
        {
            "observedGeneration": _int("The metadata.generation the operator last handled."),
            "phase": _str("Summary of the state.", enum=PHASES),
            "conditions": {
                "description": "Ready, Scheduled, ExperimentReady, DashboardReady, RunSucceeded.",
                "type": "array",
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"],
                "items": condition,
            },
            "lastScheduleTime": _time("The slot of the latest triggered run."),
            "nextScheduleTime": _time("The next slot, when scheduled and not suspended."),
            "lastSuccessfulTime": _time("When the latest successful run finished."),
            "activeRun": _run_item("The run in progress, if any."),
            "history": {
                "description": "Latest finished runs, bounded by the history limits.",
                "type": "array",
                "items": _run_item("A finished run."),
            },
            "succeededRuns": _int("Successful runs so far."),
            "failedRuns": _int("Failed runs so far."),
            "mlflow": _obj(
                "MLflow tracking of this analysis.",
                {
                    "experimentId": _str("MLflow experiment id."),
                    "experimentName": _str("MLflow experiment name."),
                    "lastRunId": _str("MLflow run of the latest successful analysis run."),
                    "url": _str("Link to the experiment in the MLflow UI."),
                },
            ),
            "dashboard": _obj(
                "Grafana dashboard of this analysis.",
                {
                    "uid": _str("Grafana dashboard uid (at most 40 characters, stable)."),
                    "url": _str("Link to the dashboard."),
                    "configMap": _str("ConfigMap holding the dashboard (configmap mode)."),
                },
            ),
            "results": results,
            # kopf may keep bookkeeping here; a real API server would prune it without this.
            "kopf": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    )


def _column(name: str, type_: str, path: str, description: str, priority: int = 0) -> dict[str, Any]:
    column = {"name": name, "type": type_, "jsonPath": path, "description": description}
    return {**column, "priority": priority} if priority else column


PRINTER_COLUMNS = [
    _column("Company", "string", ".spec.company.name", "Company whose reviews are analysed."),
    _column("Schedule", "string", ".spec.schedule", "Cron schedule (empty: one-shot)."),
    _column("Suspend", "boolean", ".spec.suspend", "Scheduling paused."),
    _column("Phase", "string", ".status.phase", "Summary of the state."),
    _column("Last Run", "date", ".status.lastScheduleTime", "Slot of the latest run."),
    _column("Reviews", "integer", ".status.results.reviews", "Reviews in the latest results."),
    _column("Negative %", "number", ".status.results.negativePercent", "Negative reviews, percent."),
    _column("Age", "date", ".metadata.creationTimestamp", "Time since creation."),
    _column("Ready", "string", '.status.conditions[?(@.type=="Ready")].status', "Ready condition.", 1),
]


def build_crd() -> dict[str, Any]:
    """The CustomResourceDefinition as a dict."""
    spec = model_schema(ReviewAnalysisSpec)
    spec["description"] = "What to analyse, how, and when (see examples/)."
    root = _obj(
        "A Trustpilot review analysis, run on a schedule through Airflow and tracked in MLflow.",
        {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status_schema(),
        },
        required=["spec"],
    )
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME, "labels": {"app.kubernetes.io/part-of": "reviewops"}},
        "spec": {
            "group": API_GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": KIND.lower(),
                "shortNames": SHORT_NAMES,
                "categories": CATEGORIES,
            },
            "versions": [
                {
                    "name": API_VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": PRINTER_COLUMNS,
                    "schema": {"openAPIV3Schema": root},
                }
            ],
        },
    }


HEADER = (
    "# Generated by `python -m reviewops_operator.crd` from reviewops.spec: do not edit by hand.\n"
    "# Regenerate after changing the spec model; tests/test_crd.py fails while they differ.\n"
)


def render_crd() -> str:
    """The CRD as the YAML text committed in crds/reviewanalysis.yaml."""
    return HEADER + yaml.safe_dump(build_crd(), sort_keys=False, width=10_000, allow_unicode=True)


def main() -> None:
    """Print the CRD to stdout."""
    sys.stdout.write(render_crd())


if __name__ == "__main__":
    main()
