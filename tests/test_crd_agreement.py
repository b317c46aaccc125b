"""The CRD schema and the pydantic spec model accept and reject the same documents.

"The CRD accepts" means what a real API server does with `fieldValidation=Strict` (kubectl's
default): unknown fields rejected, nulls dropped, defaults applied, then the openAPIV3Schema
checked (tests/support/crd_schema.py). "The model accepts" means `reviewops.spec.parse_spec`.

Cases: the examples; every field of a full spec broken in every way that applies to it (wrong
type, null, out of range, bad enum, bad pattern, unknown field, missing required); random valid
specs drawn from the schema; random breakages of random valid specs (hypothesis).

KNOWN_DIFFERENCES lists what only the model checks; each is tested below so the list stays true.
The defaults the API server writes equal the ones the model fills in.
"""

from __future__ import annotations

import copy
import json
import re
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewops.spec import SpecError, parse_spec, spec_to_dict
from tests.support import crd_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = crd_schema.object_schema(crd_schema.load_crd())
SPEC = SCHEMA["properties"]["spec"]

# Field -> what the model checks that the schema cannot (the CRD's CEL rules cover the cross-field
# checks; these two need code): the schema accepts these, the model rejects them.
KNOWN_DIFFERENCES = {
    "schedule": "cron semantics: the CRD checks five fields or a @nickname; croniter checks ranges and names",
    "timeZone": "IANA zone existence: the CRD checks the name's shape; zoneinfo checks the zone database",
}
VALID_CRONS = ["0 6 * * *", "30 7 * * 1", "*/15 * * * *", "0 0 1 */3 *", "@daily", "@hourly", "5 4 * * sun"]
ZONES = [*sorted(z for z in zoneinfo.available_timezones() if "/" in z)[:80], "UTC"]

FULL_SPEC: dict[str, Any] = {
    "company": {"name": "Back Market", "domain": "www.backmarket.com"},
    "source": {
        "type": "file", "languages": ["en", "fr"], "maxReviews": 500, "since": "2024-01-31",
        "path": "/data/reviews.csv", "format": "csv", "columns": {"text": "body"},
        "requestDelaySeconds": 0.5, "demoSize": 100, "seed": 3,
    },
    "preprocessing": {"lemmatize": False, "extraStopwords": ["back"], "bigrams": False, "minTokens": 3},
    "sentiment": {"method": "lexicon", "modelUri": "models:/sentiment/1", "testSize": 0.25},
    "topics": {"algorithm": "lda", "numTopics": 8, "minTopics": 3, "maxTopics": 9, "topTerms": 12, "seed": 1},
    "schedule": "0 6 * * *", "timeZone": "Europe/Paris", "suspend": True, "concurrencyPolicy": "Replace",
    "startingDeadlineSeconds": 600, "successfulRunsHistoryLimit": 5, "failedRunsHistoryLimit": 2,
    "mlflow": {"enabled": True, "experimentName": "custom", "registerModel": True},
    "dashboard": {"enabled": False, "folder": "Insights"},
    "deletionPolicy": "Delete",
}  # fmt: skip


def crd_verdict(spec: Any) -> tuple[bool, dict[str, Any] | None]:
    """(accepted, stored spec) as the API server would decide."""
    obj = {
        "apiVersion": "reviewops.io/v1alpha1",
        "kind": "ReviewAnalysis",
        "metadata": {"name": "x"},
        "spec": spec,
    }
    try:
        return True, crd_schema.admit(SCHEMA, obj, strict=True)["spec"]
    except crd_schema.SchemaRejection:
        return False, None


def _admitted(spec: Any) -> dict[str, Any]:
    """The object after the server's pruning and defaulting, before its rules are checked."""
    obj = {
        "apiVersion": "reviewops.io/v1alpha1",
        "kind": "ReviewAnalysis",
        "metadata": {"name": "x"},
        "spec": spec,
    }
    admitted: dict[str, Any] = crd_schema.apply_defaults(SCHEMA, crd_schema.prune(SCHEMA, obj))
    return admitted


def model_verdict(spec: Any) -> tuple[bool, set[str]]:
    """(accepted, top-level spec fields the model complained about)."""
    try:
        parse_spec(spec)
    except SpecError as exc:
        cause = exc.__cause__
        locs = {str(e["loc"][0]) for e in cause.errors() if e["loc"]} if cause is not None else set()  # type: ignore[attr-defined]
        return False, locs or {"<root>"}
    return True, set()


def assert_agree(spec: Any, label: str) -> bool:
    """Both accept or both reject (known differences excepted); returns the CRD's verdict."""
    crd_ok, _ = crd_verdict(spec)
    model_ok, fields = model_verdict(spec)
    if crd_ok and not model_ok and fields <= set(KNOWN_DIFFERENCES):
        return crd_ok
    verdicts = f"CRD {'accepts' if crd_ok else 'rejects'}, model {'accepts' if model_ok else 'rejects'}"
    assert crd_ok == model_ok, f"{label}: {verdicts} ({fields}): {json.dumps(spec)[:400]}"
    return crd_ok


# --- breakages -------------------------------------------------------------------------------


def _wrong_types(node: dict[str, Any]) -> list[Any]:
    by_type = {
        "string": [5, True, ["x"], {"a": "b"}],
        "integer": ["5", 5.5, True, [1]],  # 5.0 is the integer 5 to kube-apiserver
        "number": ["0.5", True, [0.5], {"n": 1}],
        "boolean": ["true", 1, 0, "yes", []],
        "array": ["x", {"a": 1}, 3],
        "object": ["x", [], 7],
    }
    if node.get("x-kubernetes-int-or-string"):
        return ["5", 5.5, True, "AUTO", "", [5], {"n": 5}]
    return by_type.get(node.get("type", ""), [])


def _out_of_range(node: dict[str, Any]) -> list[Any]:
    values: list[Any] = []
    step = 1 if node.get("type") == "integer" or node.get("x-kubernetes-int-or-string") else 0.001
    if "minimum" in node:
        values += [node["minimum"] - step] + ([node["minimum"]] if node.get("exclusiveMinimum") else [])
    if "maximum" in node:
        values += [node["maximum"] + step] + ([node["maximum"]] if node.get("exclusiveMaximum") else [])
    if "minLength" in node:
        values.append("a" * (node["minLength"] - 1))
    if "maxLength" in node:
        values.append("a" * (node["maxLength"] + 1))
    if "minItems" in node:
        values.append([])
    if "maxItems" in node:
        item = _sample(node["items"])
        values.append([item] * (node["maxItems"] + 1))
    return values


def _bad_strings(node: dict[str, Any]) -> list[Any]:
    values: list[Any] = []
    if "enum" in node:
        values += ["not-an-option", str(node["enum"][0]).upper(), str(node["enum"][0]).lower() + " ", ""]
    if "pattern" in node:
        values += [
            "",
            " ",
            "has space",
            "UPPER/x y",
            "é",
            "a\n",
            "a" * 3 + "\n",
            "*",
            "-bad-",
            "x..y",
            "@often",
            "1 2 3 4",
            "1 2 3 4 5 6 7",
            "0 6 * * *\n",
            "Europe/Paris ",
        ]
    return values


def _sample(node: dict[str, Any]) -> Any:
    """A small valid value for a node."""
    if "enum" in node:
        return node["enum"][0]
    if "default" in node:
        return copy.deepcopy(node["default"])
    return {"string": "ab", "integer": node.get("minimum", 1), "number": 0.5, "boolean": True,
            "array": [], "object": {}}.get(node.get("type", ""), 5)  # fmt: skip


def _paths(
    node: dict[str, Any], path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    yield path, node
    for key, sub in (node.get("properties") or {}).items():
        yield from _paths(sub, (*path, key))


def _set(spec: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    target = out
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    return out


def _delete(spec: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    target = out
    for key in path[:-1]:
        target = target[key]
    target.pop(path[-1], None)
    return out


def breakages(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every way to break every field of `spec`, labelled."""
    for path, node in _paths(SPEC):
        where = ".".join(path) or "<spec>"
        if path:
            for value in [None, *_wrong_types(node), *_out_of_range(node), *_bad_strings(node)]:
                yield f"{where} = {json.dumps(value)[:40]}", _set(spec, path, value)
        if node.get("type") == "object" and "properties" in node:
            yield f"{where}: unknown field", _set(spec, (*path, "unknownField"), 1)
            for required in node.get("required", []):
                yield f"{where}: missing {required}", _delete(spec, (*path, required))
        if "items" in node and path:
            for bad in [
                None,
                *_wrong_types(node["items"]),
                *_out_of_range(node["items"]),
                *_bad_strings(node["items"]),
            ]:
                yield f"{where}[0] = {json.dumps(bad)[:40]}", _set(spec, path, [bad])
        if isinstance(node.get("additionalProperties"), dict):
            for bad in [None, 5, True, ["x"]]:
                yield f"{where}{{a}} = {json.dumps(bad)}", _set(spec, path, {"a": bad})


def _examples() -> list[tuple[str, dict[str, Any]]]:
    import yaml

    found = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc and doc.get("kind") == "ReviewAnalysis":
                found.append((path.name, doc["spec"]))
    return found


# --- deterministic cases ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "spec"), _examples(), ids=lambda v: v if isinstance(v, str) else "")
def test_examples_are_accepted_by_both(name: str, spec: dict[str, Any]) -> None:
    assert crd_verdict(spec)[0], name
    assert model_verdict(spec)[0], name


def test_examples_exist() -> None:
    assert len(_examples()) >= 3


@pytest.mark.parametrize("base", ["full", "minimal"])
def test_every_breakage_of_every_field_gets_the_same_verdict(base: str) -> None:
    spec = FULL_SPEC if base == "full" else {"company": {"name": "X", "domain": "www.example.com"}}
    assert assert_agree(spec, base)
    verdicts = {label: assert_agree(broken, label) for label, broken in breakages(spec)}
    rejected = [label for label, ok in verdicts.items() if not ok]
    # The generator must really break things: most variants are rejected, each field several ways.
    assert len(verdicts) > 300 and len(rejected) > 0.7 * len(verdicts), (len(verdicts), len(rejected))
    for field in ("topics.numTopics", "source.languages", "schedule", "timeZone", "concurrencyPolicy"):
        assert any(label.startswith(field) for label in rejected), field


@pytest.mark.parametrize(
    ("field", "value"),
    [("schedule", "61 * * * *"), ("schedule", "* * * * mon-xyz"), ("timeZone", "Mars/Olympus_Mons")],
)
def test_known_differences_are_real_and_the_only_ones(field: str, value: str) -> None:
    spec = {"company": {"name": "X", "domain": "www.example.com"}, field: value}
    assert crd_verdict(spec)[0], f"the CRD now rejects {field}={value!r}: update KNOWN_DIFFERENCES"
    ok, fields = model_verdict(spec)
    assert not ok and fields == {field}


def test_defaults_written_by_the_api_server_equal_the_models() -> None:
    for spec in (
        {"company": {"name": "X", "domain": "www.example.com"}},
        FULL_SPEC,
        *(s for _, s in _examples()),
    ):
        ok, stored = crd_verdict(spec)
        assert ok and stored is not None
        assert json.loads(json.dumps(spec_to_dict(parse_spec(spec)))) == _without_nulls(stored)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


# --- generated cases -------------------------------------------------------------------------


def strategy(node: dict[str, Any], path: tuple[str, ...] = ()) -> st.SearchStrategy[Any]:
    """Valid values for a schema node (known-difference fields drawn from valid values)."""
    if path == ("schedule",):
        return st.none() | st.sampled_from(VALID_CRONS)
    if path == ("timeZone",):
        return st.sampled_from(ZONES)
    if node.get("x-kubernetes-int-or-string"):
        return st.just("auto") | st.integers(node["minimum"], node["maximum"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    base: st.SearchStrategy[Any]
    kind = node.get("type")
    if kind == "object" and "properties" in node:
        required = set(node.get("required", []))
        fields = {k: strategy(v, (*path, k)) for k, v in node["properties"].items()}
        base = st.fixed_dictionaries(
            {k: s for k, s in fields.items() if k in required},
            optional={k: s for k, s in fields.items() if k not in required},
        )
    elif kind == "object":
        base = st.dictionaries(st.text(max_size=8), strategy(node["additionalProperties"], path), max_size=3)
    elif kind == "array":
        base = st.lists(
            strategy(node["items"], path),
            min_size=node.get("minItems", 0),
            max_size=min(node.get("maxItems", 5), 5),
        )
    elif kind == "string" and node.get("format") == "date":
        base = st.dates().map(lambda d: d.isoformat())
    elif kind == "string" and "pattern" in node:
        base = st.from_regex(node["pattern"], fullmatch=True).filter(
            lambda s: node.get("minLength", 0) <= len(s) <= node.get("maxLength", 10**6)
        )
    elif kind == "string":
        base = st.text(min_size=node.get("minLength", 0), max_size=min(node.get("maxLength", 30), 30))
    elif kind == "integer":
        base = st.integers(node.get("minimum", -(2**63)), node.get("maximum", 2**63 - 1))
    elif kind == "number":
        base = st.floats(
            node.get("minimum"),
            node.get("maximum"),
            allow_nan=False,
            allow_infinity=False,
            exclude_min=bool(node.get("exclusiveMinimum")),
            exclude_max=bool(node.get("exclusiveMaximum")),
        )
    else:
        base = st.booleans()
    return st.none() | base if node.get("nullable") else base


SPECS = strategy(SPEC)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SPECS)
def test_random_valid_specs_are_accepted_by_both_with_the_same_defaults(spec: dict[str, Any]) -> None:
    ok, stored = crd_verdict(spec)
    if not ok and crd_schema.rule_problems(SCHEMA, _admitted(spec)):
        # Valid field by field, but a cross-field rule (CEL) refuses it: so must the model.
        assert not model_verdict(spec)[0], json.dumps(spec)
        return
    assert ok, json.dumps(spec)
    assert model_verdict(spec)[0], json.dumps(spec)
    assert json.loads(json.dumps(spec_to_dict(parse_spec(spec)))) == _without_nulls(stored)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SPECS, st.data())
def test_random_breakages_of_random_specs_get_the_same_verdict(
    spec: dict[str, Any], data: st.DataObject
) -> None:
    label, broken = data.draw(st.sampled_from(list(breakages(spec))))
    assert_agree(broken, label)


PATTERN_FIELDS = [(p, False) for p, n in _paths(SPEC) if "pattern" in n] + [
    (p, True) for p, n in _paths(SPEC) if "pattern" in n.get("items", {})
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PATTERN_FIELDS), st.text(max_size=40))
def test_arbitrary_text_in_pattern_fields_gets_the_same_verdict(
    field: tuple[tuple[str, ...], bool], text: str
) -> None:
    path, in_list = field
    assert_agree(
        _set({"company": {"name": "X", "domain": "www.example.com"}}, path, [text] if in_list else text),
        f"{'.'.join(path)} = {text!r}",
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("mlflow", "experimentName"), "reviewops/ns/x\nINFO forged log line"),
        (("mlflow", "experimentName"), "reviewops/ns/x "),
        (("sentiment", "modelUri"), "models:/m/1\r\n"),
        (("sentiment", "modelUri"), "/models/m.joblib\x00.txt"),
        (("source", "path"), " /data/reviews.csv"),
    ],
)
def test_names_and_locations_with_control_characters_or_edge_spaces_are_refused(
    path: tuple[str, ...], value: str
) -> None:
    spec = _set({"company": {"name": "X"}, "source": {"type": "file", "path": "/data/x.csv"}}, path, value)
    assert crd_verdict(spec)[0] is False
    field = re.escape("spec." + ".".join(path))
    with pytest.raises(SpecError, match=rf"^{field}: "):
        parse_spec(spec)
    # the same text without the control character or the edge space is a valid name
    assert model_verdict(_set(spec, path, value.strip().split("\n")[0].split("\x00")[0]))[0] is True


@pytest.mark.parametrize(
    ("spec", "accepted"),
    [
        ({"company": {"name": "X"}}, False),  # source.type defaults to trustpilot
        ({"company": {"name": "X"}, "source": {"type": "trustpilot", "languages": ["fr"]}}, False),
        ({"company": {"name": "X", "domain": "www.example.com"}}, True),
        ({"company": {"name": "X"}, "source": {"type": "demo"}}, True),
        ({"company": {"name": "X"}, "source": {"type": "file", "path": "/data/x.csv"}}, True),
    ],
)
def test_a_trustpilot_source_needs_the_company_domain_in_the_crd_and_the_model(
    spec: dict[str, Any], accepted: bool
) -> None:
    assert crd_verdict(spec)[0] is accepted
    assert model_verdict(spec)[0] is accepted
    if not accepted:
        [problem] = crd_schema.rule_problems(SCHEMA, _admitted(spec))
        assert problem.path == "spec.company.domain"
        assert "company.domain is required when source.type is trustpilot" in problem.message
        with pytest.raises(
            SpecError, match=r"^spec\.company\.domain: is required when source\.type is trustpilot"
        ):
            parse_spec(spec)
