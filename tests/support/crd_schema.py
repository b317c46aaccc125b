"""What a Kubernetes API server does with a custom resource, given the CRD's openAPIV3Schema.

The order is the server's: strict field validation (unknown fields are an error when the client
asks for `fieldValidation=Strict`, kubectl's default), pruning of unknown fields, dropping of nulls
in non-nullable fields, defaulting, then validation. Validation is openapi-schema-validator's
OAS 3.0 validator with ECMA regexes (the `regress` package) and the `date` / `date-time` formats
the API server checks. The emulator (tests/support/kube.py) and the CRD tests both use this module.

Not checked here (a real API server would): CEL `x-kubernetes-validations` (the CRD has none),
`x-kubernetes-list-type` uniqueness, ratcheting of unchanged invalid fields, metadata rules.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import FormatChecker  # type: ignore[import-untyped]
from openapi_schema_validator import OAS30Validator
from openapi_schema_validator._format import oas30_format_checker

ROOT = Path(__file__).resolve().parents[2]
CRD_PATH = ROOT / "crds" / "reviewanalysis.yaml"

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


FORMATS = FormatChecker()
for _name, _check in oas30_format_checker.checkers.items():
    FORMATS.checks(_name, _check[1])(_check[0])
FORMATS.checks("date")(_is_date)
FORMATS.checks("date-time")(_is_date_time)


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One rejected field, in the API server's words."""

    path: str  # e.g. spec.topics.numTopics
    message: str
    # A wrong type, format or enum value: the server then skips the CRD's CEL rules.
    blocking: bool = False

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SchemaRejection(ValueError):
    """The object cannot be stored: `unknown` fields (strict validation) or `invalid` values."""

    def __init__(self, kind: str, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.kind = kind
        self.problems = problems


def load_crd(path: Path = CRD_PATH) -> dict[str, Any]:
    """Read the CRD YAML (the committed file by default)."""
    crd: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return crd


def storage_version(crd: dict[str, Any]) -> dict[str, Any]:
    """The served-and-stored version entry of a CRD."""
    version: dict[str, Any] = next(v for v in crd["spec"]["versions"] if v.get("storage"))
    return version


def object_schema(crd: dict[str, Any]) -> dict[str, Any]:
    """The openAPIV3Schema of the storage version."""
    schema: dict[str, Any] = storage_version(crd)["schema"]["openAPIV3Schema"]
    return schema


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _preserves(schema: dict[str, Any]) -> bool:
    return bool(schema.get("x-kubernetes-preserve-unknown-fields"))


def unknown_fields(schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    """Paths of fields the schema does not declare (what strict field validation rejects)."""
    found: list[str] = []
    if isinstance(value, dict) and not _preserves(schema):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if path == "" and key == "metadata":
                continue  # metadata follows ObjectMeta, never the CRD's schema
            if props is not None and key in props:
                found += unknown_fields(props[key], item, _join(path, key))
            elif isinstance(extra, dict):
                found += unknown_fields(extra, item, _join(path, key))
            elif props is not None or schema.get("type") == "object":
                found.append(_join(path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            found += unknown_fields(schema["items"], item, f"{path}[{i}]")
    return found


def prune(schema: dict[str, Any], value: Any, root: bool = True) -> Any:
    """Drop unknown fields and nulls of non-nullable fields without a default (returns a copy)."""
    if isinstance(value, dict) and not _preserves(schema):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        out: dict[str, Any] = {}
        for key, item in value.items():
            if root and key in ("metadata", "apiVersion", "kind"):
                out[key] = copy.deepcopy(item)
                continue
            sub = props.get(key) if props is not None else extra if isinstance(extra, dict) else None
            if sub is None and (props is not None or schema.get("type") == "object"):
                continue
            if sub is None:
                out[key] = copy.deepcopy(item)
            elif item is None and not sub.get("nullable") and "default" not in sub:
                continue
            else:
                out[key] = prune(sub, item, root=False)
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [prune(schema["items"], item, root=False) for item in value]
    return copy.deepcopy(value)


def apply_defaults(schema: dict[str, Any], value: Any) -> Any:
    """Fill absent fields (and nulls of non-nullable ones) with the schema's defaults, in place."""
    if isinstance(value, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if "default" in sub and (key not in value or (value[key] is None and not sub.get("nullable"))):
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                apply_defaults(sub, value[key])
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for item in value.values():
                apply_defaults(extra, item)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(schema["items"], item)
    return value


def validate(schema: dict[str, Any], value: Any) -> list[FieldProblem]:
    """Schema violations, one per field, with the field's dotted path."""
    validator = OAS30Validator(schema, format_checker=FORMATS)
    problems = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path))):
        path = ""
        for part in error.absolute_path:
            path = f"{path}[{part}]" if isinstance(part, int) else _join(path, str(part))
        shown = json.dumps(error.instance)[:80]
        blocking = error.validator in ("type", "format", "enum")
        problems.append(FieldProblem(path or "<root>", f"Invalid value: {shown}: {error.message}", blocking))
    return problems


def has_rules(schema: Any) -> bool:
    """Whether a schema carries CEL rules (x-kubernetes-validations) anywhere."""
    if isinstance(schema, dict):
        return "x-kubernetes-validations" in schema or any(has_rules(v) for v in schema.values())
    if isinstance(schema, list):
        return any(has_rules(v) for v in schema)
    return False


def whole_floats_as_ints(value: Any) -> Any:
    """As kube-apiserver decodes JSON: 5.0 becomes the integer 5 (a real server stores `5`)."""
    if isinstance(value, dict):
        return {k: whole_floats_as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_floats_as_ints(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def admit(schema: dict[str, Any], obj: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    """The object as the API server would store it, or SchemaRejection."""
    obj = whole_floats_as_ints(obj)
    if strict:
        unknown = unknown_fields(schema, obj)
        if unknown:
            raise SchemaRejection("unknown", [FieldProblem(p, "unknown field") for p in unknown])
    stored: dict[str, Any] = apply_defaults(schema, prune(schema, obj))
    problems = validate(schema, stored)
    if problems:
        raise SchemaRejection("invalid", problems)
    broken = rule_problems(schema, stored)
    if broken:
        raise SchemaRejection("invalid", broken)
    return stored


_PROGRAMS: dict[str, Any] = {}


def _program(rule: str) -> Any:
    if rule not in _PROGRAMS:
        import celpy

        env = celpy.Environment()
        _PROGRAMS[rule] = env.program(env.compile(rule))
    return _PROGRAMS[rule]


def rule_problems(schema: dict[str, Any], value: Any, path: str = "") -> list[FieldProblem]:
    """The CRD's CEL rules (x-kubernetes-validations) that `value` breaks, worded as a real
    server words them. Evaluated with cel-python, on objects that passed the schema."""
    import celpy

    problems: list[FieldProblem] = []
    if isinstance(value, dict):
        for rule in schema.get("x-kubernetes-validations", []):
            try:
                ok = bool(_program(rule["rule"]).evaluate({"self": celpy.json_to_cel(value)}))
            except celpy.CELEvalError as exc:
                problems.append(FieldProblem(path, f"Invalid value: \"object\": {exc} evaluating rule: "
                                                   f"{rule['message']}"))  # fmt: skip
                continue
            if not ok:
                where = path + rule.get("fieldPath", "")
                if rule.get("reason") == "FieldValueRequired":
                    problems.append(FieldProblem(where, f"Required value: {rule['message']}"))
                else:
                    problems.append(FieldProblem(where, f'Invalid value: "object": {rule["message"]}'))
        for key, child in value.items():
            node = schema.get("properties", {}).get(key) or schema.get("additionalProperties")
            if isinstance(node, dict):
                problems += rule_problems(node, child, _join(path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            problems += rule_problems(schema["items"], item, f"{path}[{i}]")
    return problems
