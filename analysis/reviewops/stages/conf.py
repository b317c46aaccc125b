"""The DAG run's `conf`, as the operator sends it, validated with the one shared spec model.

The operator (`reviewops_operator.identity.run_conf`) triggers each run with
`{"spec": <validated spec, camelCase>, "analysis": {namespace, name, uid, generation, slot,
runId}}`. The `validate` stage checks it again with `reviewops.spec.parse_spec`, because a run
can also be triggered by hand (the Airflow UI, the REST API) and because the operator and the
DAG may run different versions. Errors name each bad field by its path (`spec.source.maxReviews:
...`), like the operator's `InvalidSpec` condition and `reviewops validate`.

Unknown keys in the `analysis` block are ignored on purpose: a newer operator may send more
identity than this DAG knows, which must not fail every run. The spec itself stays strict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from reviewops.spec import ReviewAnalysisSpec, SpecError, describe_errors, parse_spec, safe_name, spec_to_dict


class AnalysisIdentity(BaseModel):
    """Who the run is for (the ReviewAnalysis object) and which slot of its schedule."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)

    namespace: str = Field(min_length=1, max_length=63)
    name: str = Field(min_length=1, max_length=253)
    uid: str = ""
    generation: int = Field(default=0, ge=0)
    slot: str = ""
    run_id: str = ""


@dataclass(frozen=True, slots=True)
class RunConf:
    """A validated conf: the spec and, when the operator sent it, the analysis identity."""

    spec: ReviewAnalysisSpec
    analysis: AnalysisIdentity | None = None

    @property
    def analysis_key(self) -> str:
        """`namespace/name`: names the MLflow experiment (reviewops/<key>) and the store rows.

        A hand-triggered run without an `analysis` block is named after its company.
        """
        if self.analysis is not None:
            return f"{self.analysis.namespace}/{self.analysis.name}"
        return f"manual/{safe_name(self.spec.company.name)}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"spec": spec_to_dict(self.spec)}
        if self.analysis is not None:
            data["analysis"] = self.analysis.model_dump(mode="json", by_alias=True)
        return data


def parse_conf(data: object) -> RunConf:
    """Validate a conf mapping; SpecError names every bad field (`spec.x.y`, `analysis.z`)."""
    if not isinstance(data, dict):
        raise SpecError(f"conf: expected a JSON object with 'spec' and 'analysis', got {type(data).__name__}")
    if "spec" not in data:
        raise SpecError("spec: required (the ReviewAnalysis spec, camelCase, as the operator sends it)")
    raw_spec = data["spec"]
    errors: list[str] = []
    spec: ReviewAnalysisSpec | None = None
    if not isinstance(raw_spec, dict):
        errors.append(f"spec: expected an object, got {type(raw_spec).__name__}")
    else:
        try:
            spec = parse_spec(raw_spec)
        except SpecError as exc:
            errors.append(str(exc))
    analysis: AnalysisIdentity | None = None
    raw_analysis = data.get("analysis")
    if raw_analysis is not None:
        try:
            analysis = AnalysisIdentity.model_validate(raw_analysis)
        except ValidationError as exc:
            errors.append(describe_errors(exc, prefix="analysis"))
    if errors or spec is None:
        raise SpecError("; ".join(errors))
    return RunConf(spec, analysis)


def read_conf_argument(value: str, stdin: str | None = None) -> object:
    """`--conf`: inline JSON (starts with '{'), '-' for standard input, or a JSON/YAML file."""
    text = value.strip()
    if text == "-":
        if stdin is None:
            import sys

            stdin = sys.stdin.read()
        text = stdin
    elif not text.startswith("{"):
        path = Path(value)
        if not path.is_file():
            raise SpecError(f"conf: {value!r} is neither inline JSON nor a readable file")
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in {".yaml", ".yml"}:
            import yaml

            try:
                loaded: object = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise SpecError(f"conf: {value} is not valid YAML: {exc}") from exc
            except RecursionError as exc:
                raise SpecError(f"conf: {value} is nested too deeply") from exc
            return loaded
    try:
        parsed: object = json.loads(text)
    except ValueError as exc:
        raise SpecError(f"conf: not valid JSON ({exc})") from exc
    except RecursionError as exc:  # a conf is a few levels deep; thousands are an attack or a bug
        raise SpecError("conf: nested too deeply to be a ReviewAnalysis conf") from exc
    return parsed
