"""The `ReviewAnalysis` spec: one pydantic model shared by the CRD, the operator, the DAG and the CLI.

Field names in YAML are camelCase (Kubernetes style); in Python they are snake_case.
This module must stay light (pydantic, croniter, zoneinfo only): the operator image imports it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

API_GROUP = "reviewops.io"
API_VERSION = "v1alpha1"
KIND = "ReviewAnalysis"
PLURAL = "reviewanalyses"

# Five cron fields (minute hour day-of-month month day-of-week) or a nickname. croniter does
# the full validation; this pattern is what the CRD can check without code. Patterns use explicit
# ASCII classes, not \s or \S: those mean different sets in Go (the API server), Rust (pydantic)
# and ECMA regexes, and the CRD test requires the three to agree.
# A field is printable ASCII without spaces ([!-~]): a newline or another Unicode space would let
# croniter read more than five fields.
CRON_PATTERN = r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|([!-~]+[ \t]+){4}[!-~]+)$"
# croniter's R (random) and H (hashed) draw a value each time the expression is read: every
# reconcile would compute other slots (and run ids).
_DRAWN_CRON_FIELD = re.compile(r"(?<![A-Za-z])[RrHh](?![A-Za-z])")
MAX_NESTING = 32  # a spec is 3 levels deep; a conf nested deeper is refused, not recursed into
LANGUAGE_PATTERN = r"^[a-z]{2}$"
DOMAIN_PATTERN = (
    r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
TIMEZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$"
# A Grafana folder path the dashboard sidecar can only create under its own root: segments
# separated by "/", each with at least one character that is not a dot (no "." or ".."), no
# backslash, no leading or trailing "/".
FOLDER_PATTERN = r"^[^/\\]*[^/\\.][^/\\]*(/[^/\\]*[^/\\.][^/\\]*)*$"
# A name or location written by hand: no control characters (a newline would forge a log line or
# split a header), no space at either end (an invisible difference between two names).
PLAIN_TEXT_PATTERN = r"^[^\x00-\x20\x7f]([^\x00-\x1f\x7f]*[^\x00-\x20\x7f])?$"
_DOMAIN_REQUIRED = "is required when source.type is trustpilot (its page is trustpilot.com/review/<domain>)"
MAX_SEED = 2**32 - 1  # numpy's and scikit-learn's seeds are 32-bit


class CelRule(NamedTuple):
    """A cross-field rule, written twice on purpose: as CEL for the CRD (the API server refuses
    the object at apply time) and as a model validator (the CLI, the DAG and the operator refuse
    it too). tests/test_crd_agreement.py and tests/test_cluster_crd.py prove the two agree."""

    # CEL over `self` (this object, camelCase, defaults applied). Guard every key with has():
    # the API server also checks the rule against the CRD's own `default: {}`, not defaulted.
    rule: str
    field: str  # the field to blame, relative to this object (camelCase, dotted)
    message: str
    reason: str = "FieldValueInvalid"  # or FieldValueRequired


def _blame(field: str, message: str) -> ValueError:
    """A model-validator error that `describe_errors` reports at `field` (see CelRule)."""
    return ValueError(f"@{field}: {message}")


class _Model(BaseModel):
    """Base: camelCase aliases, unknown fields rejected (kubectl's strict field validation)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_enum_values=True,
    )


class SourceType(StrEnum):
    TRUSTPILOT = "trustpilot"
    FILE = "file"
    DEMO = "demo"


class FileFormat(StrEnum):
    AUTO = "auto"
    CSV = "csv"
    JSONL = "jsonl"
    JSON = "json"
    HTML = "html"


class SentimentMethod(StrEnum):
    RATINGS = "ratings"
    LEXICON = "lexicon"
    SUPERVISED = "supervised"


class TopicAlgorithm(StrEnum):
    LDA = "lda"
    NMF = "nmf"
    GENSIM_LDA = "gensim-lda"


class ConcurrencyPolicy(StrEnum):
    FORBID = "Forbid"
    ALLOW = "Allow"
    REPLACE = "Replace"


class DeletionPolicy(StrEnum):
    RETAIN = "Retain"
    DELETE = "Delete"


class GrafanaMode(StrEnum):
    CONFIGMAP = "configmap"
    API = "api"


class Company(_Model):
    """The company whose reviews are analysed."""

    name: Annotated[str, Field(min_length=1, max_length=200, description="Display name.")]
    domain: Annotated[
        str | None,
        Field(
            default=None,
            max_length=253,
            pattern=DOMAIN_PATTERN,
            description="Trustpilot domain, e.g. www.backmarket.com (required for trustpilot).",
        ),
    ] = None


class Source(_Model):
    """Where reviews come from and how many to read."""

    type: SourceType = Field(default=SourceType.TRUSTPILOT, description="trustpilot (scrape), file, or demo.")
    languages: list[Annotated[str, Field(pattern=LANGUAGE_PATTERN)]] = Field(
        default_factory=lambda: ["en"],
        min_length=1,
        max_length=10,
        description="ISO 639-1 review languages to read, e.g. [en, fr].",
    )
    max_reviews: int = Field(default=1000, ge=1, le=1_000_000, description="Stop after this many reviews.")
    since: dt.date | None = Field(
        default=None, description="Only reviews published on or after this date (YYYY-MM-DD)."
    )
    path: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        pattern=PLAIN_TEXT_PATTERN,
        description="File or folder to read (type: file).",
    )
    format: FileFormat = Field(default=FileFormat.AUTO, description="File format (type: file).")
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Column mapping for CSV/JSONL: review field -> column name, e.g. {text: body}.",
    )
    request_delay_seconds: float = Field(
        default=1.0, ge=0, le=60, description="Pause between two page requests (trustpilot)."
    )
    demo_size: int = Field(
        default=3000, ge=10, le=1_000_000, description="Number of reviews to generate (demo)."
    )
    seed: int = Field(default=42, ge=0, le=MAX_SEED, description="Random seed (demo).")

    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule("!has(self.type) || self.type != 'file' || has(self.path)", "path",
                "is required when type is file", "FieldValueRequired"),
    )  # fmt: skip

    @model_validator(mode="after")
    def _file_needs_path(self) -> Source:
        if self.type == SourceType.FILE and self.path is None:
            raise _blame("path", "is required when type is file")
        return self

    def requested_languages(self) -> list[str] | None:
        """The languages asked for, or None when every language is wanted.

        A file read without a `languages` choice is analysed whole: the default ("en") is for
        scraping, where a language must be picked.
        """
        if self.type == SourceType.FILE and "languages" not in self.model_fields_set:
            return None
        return list(self.languages)


class Preprocessing(_Model):
    """Text cleaning and normalisation."""

    lemmatize: bool = Field(default=True, description="Reduce words to their lemma (spaCy).")
    extra_stopwords: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=500, description="Words to ignore besides the defaults."
    )
    bigrams: bool = Field(default=True, description="Join frequent word pairs (e.g. customer_service).")
    min_tokens: int = Field(
        default=2, ge=0, le=100, description="Reviews with fewer tokens are left out of topics."
    )


class Sentiment(_Model):
    """How each review gets a positive / neutral / negative label."""

    method: SentimentMethod = Field(
        default=SentimentMethod.SUPERVISED,
        description="ratings (stars), lexicon (VADER / French lexicon) or supervised (trained on stars).",
    )
    model_uri: str | None = Field(
        default=None,
        max_length=2048,
        pattern=PLAIN_TEXT_PATTERN,
        description="Reuse a trained model: a local path or an MLflow model URI (supervised).",
    )
    test_size: float = Field(
        default=0.2, gt=0, lt=1, description="Held-out share used to evaluate (supervised)."
    )


class Topics(_Model):
    """Topic modelling."""

    algorithm: TopicAlgorithm = Field(default=TopicAlgorithm.NMF, description="lda, nmf or gensim-lda.")
    num_topics: int | Literal["auto"] = Field(
        default="auto",
        description="Number of topics (1-100), or auto to pick k by coherence x diversity.",
        # The range below is enforced by _num_topics_range; stated here so the CRD carries it.
        json_schema_extra={"minimum": 1, "maximum": 100},
    )
    min_topics: int = Field(default=4, ge=2, le=100, description="Smallest k tried by auto.")
    max_topics: int = Field(default=12, ge=2, le=100, description="Largest k tried by auto.")
    top_terms: int = Field(default=10, ge=3, le=50, description="Terms kept per topic.")
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="Random seed.")

    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(
            "!has(self.minTopics) || !has(self.maxTopics) || self.minTopics <= self.maxTopics",
            "minTopics",
            "must not exceed maxTopics",
        ),
    )

    @model_validator(mode="after")
    def _k_range(self) -> Topics:
        if self.min_topics > self.max_topics:
            raise _blame("minTopics", f"({self.min_topics}) is greater than maxTopics ({self.max_topics})")
        return self

    @field_validator("num_topics")
    @classmethod
    def _num_topics_range(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= 100:
            raise ValueError("numTopics must be between 1 and 100, or 'auto'")
        return value


class MlflowOptions(_Model):
    """MLflow tracking."""

    enabled: bool = Field(default=True, description="Log runs to MLflow.")
    experiment_name: str | None = Field(
        default=None,
        max_length=256,
        pattern=PLAIN_TEXT_PATTERN,
        description=(
            "Experiment name (default: reviewops/<namespace>/<name>); in a cluster it is always "
            "under reviewops/<namespace>/, so one namespace cannot write into another's."
        ),
    )
    register_model: bool = Field(
        default=False, description="Register the trained sentiment model in the model registry."
    )


class DashboardOptions(_Model):
    """Grafana dashboard provisioning."""

    enabled: bool = Field(default=True, description="Provision a Grafana dashboard.")
    folder: str = Field(
        default="ReviewOps",
        min_length=1,
        max_length=128,
        pattern=FOLDER_PATTERN,
        description="Grafana folder: names joined by '/', none of them '.' or '..', no leading '/' or '\\'.",
    )


class ReviewAnalysisSpec(_Model):
    """What to analyse, how, and when."""

    company: Company
    source: Source = Field(default_factory=Source)
    preprocessing: Preprocessing = Field(default_factory=Preprocessing)
    sentiment: Sentiment = Field(default_factory=Sentiment)
    topics: Topics = Field(default_factory=Topics)
    schedule: str | None = Field(
        default=None,
        max_length=128,
        pattern=CRON_PATTERN,
        description="Cron schedule (5 fields or @daily...). Empty: run once per spec generation.",
    )
    time_zone: str = Field(
        default="UTC",
        max_length=64,
        pattern=TIMEZONE_PATTERN,
        description="IANA time zone of the schedule.",
    )
    suspend: bool = Field(default=False, description="Pause scheduling (running runs finish).")
    concurrency_policy: ConcurrencyPolicy = Field(
        default=ConcurrencyPolicy.FORBID, description="Forbid, Allow or Replace overlapping runs."
    )
    starting_deadline_seconds: int | None = Field(
        default=None, ge=0, description="Skip a slot missed by more than this many seconds."
    )
    successful_runs_history_limit: int = Field(
        default=3, ge=0, le=100, description="Successful runs kept in status.history."
    )
    failed_runs_history_limit: int = Field(
        default=1, ge=0, le=100, description="Failed runs kept in status.history."
    )
    mlflow: MlflowOptions = Field(default_factory=MlflowOptions)
    dashboard: DashboardOptions = Field(default_factory=DashboardOptions)
    deletion_policy: DeletionPolicy = Field(
        default=DeletionPolicy.RETAIN,
        description="Retain or Delete the MLflow experiment when the analysis is deleted.",
    )

    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(
            "(has(self.source) && has(self.source.type) && self.source.type != 'trustpilot')"
            " || has(self.company.domain)",
            "company.domain",
            _DOMAIN_REQUIRED,
            "FieldValueRequired",
        ),
    )

    @model_validator(mode="after")
    def _trustpilot_needs_domain(self) -> ReviewAnalysisSpec:
        if self.source.type == SourceType.TRUSTPILOT and not self.company.domain:
            raise _blame("company.domain", _DOMAIN_REQUIRED)
        return self

    @field_validator("schedule")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from croniter import croniter

        if _DRAWN_CRON_FIELD.search(value):
            raise ValueError(f"{value!r} uses R or H (a random or hashed value): give the minute and hour")
        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a valid cron expression")
        return value

    @field_validator("time_zone")
    @classmethod
    def _valid_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a tzdata folder ("Europe")
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Paris)") from exc
        return value


class Metadata(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1, max_length=253)
    namespace: str = "default"


class ReviewAnalysis(BaseModel):
    """A whole `ReviewAnalysis` document (apiVersion, kind, metadata, spec)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")
    api_version: str = Field(default=f"{API_GROUP}/{API_VERSION}", alias="apiVersion")
    kind: Literal["ReviewAnalysis"] = "ReviewAnalysis"
    metadata: Metadata
    spec: ReviewAnalysisSpec


class SpecError(ValueError):
    """A spec that cannot be used; the message names each bad field by its YAML path."""


def describe_errors(exc: ValidationError, prefix: str = "spec") -> str:
    """Turn pydantic errors into one line per field with the camelCase YAML path."""
    lines = []
    for err in exc.errors():
        path = ".".join([prefix, *(str(p) for p in err["loc"])]) if err["loc"] else prefix
        message = err["msg"]
        if message.startswith("Value error, @"):  # a cross-field rule blaming one field
            field, _, message = message.removeprefix("Value error, @").partition(": ")
            path = f"{path}.{field}" if path else field
        lines.append(f"{path}: {message}")
    return "; ".join(lines)


def _child(path: str, key: str, depth: int) -> str:
    """A field path that stops growing below the spec's own depth (errors stay readable)."""
    if depth >= 3:
        return path
    return path + key if key.startswith("[") else (f"{path}.{key}" if path else key)


def _as_json(data: Any, prefix: str = "spec") -> str:
    """The document as the API server validates it, so the CRD and the model agree on it.

    YAML turns an unquoted 2024-01-01 into a date: kubectl sends it as a string, and so do we.
    The API server drops null fields and null map values (then applies defaults): null = unset.
    It decodes a whole-number float (5.0) as the integer 5, so an integer field accepts it.
    """

    def drop_nulls(value: Any, path: str, depth: int = 0) -> Any:
        if isinstance(value, dict | list) and depth > MAX_NESTING:
            raise SpecError(f"{path or '<document>'}: nested more than {MAX_NESTING} levels deep")
        if isinstance(value, dict):
            return {
                k: drop_nulls(v, _child(path, str(k), depth), depth + 1)
                for k, v in value.items()
                if v is not None
            }
        if isinstance(value, list):
            return [drop_nulls(v, _child(path, f"[{i}]", depth), depth + 1) for i, v in enumerate(value)]
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    def default(value: object) -> str:
        if isinstance(value, dt.date):
            return value.isoformat()
        raise TypeError(f"{type(value).__name__} is not a JSON value")

    return json.dumps(drop_nulls(data, prefix), default=default)


def parse_spec(data: dict[str, Any]) -> ReviewAnalysisSpec:
    """Validate a spec mapping (camelCase), raising SpecError with field paths.

    Validation is strict JSON, as the API server's: "5" is not an integer, "true" not a boolean,
    and a null field means unset.
    """
    try:
        return ReviewAnalysisSpec.model_validate_json(_as_json(data), strict=True)
    except ValidationError as exc:
        raise SpecError(describe_errors(exc)) from exc


def load_manifest(path: Path) -> ReviewAnalysis:
    """Read a `ReviewAnalysis` YAML file (the first document of that kind)."""
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from exc
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == KIND:
            try:
                return ReviewAnalysis.model_validate_json(_as_json(doc, prefix=""), strict=True)
            except SpecError as exc:
                raise SpecError(f"{path}: {exc}") from exc
            except ValidationError as exc:
                raise SpecError(f"{path}: {describe_errors(exc, prefix='')}".replace(": .", ": ")) from exc
    raise SpecError(f"{path}: no document with kind: {KIND}")


def experiment_name_for(analysis: str, spec: ReviewAnalysisSpec) -> str:
    """The MLflow experiment of an analysis (`namespace/name` in a cluster, a slug locally).

    In a cluster the name always starts with `reviewops/<namespace>/`: an override is put under
    it, so an object of one namespace can never name another namespace's experiment (or MLflow's
    `Default`). The operator (which creates it) and the DAG's publish (which logs to it) both
    call this function. A local run's override is used as given: the user owns that store.
    """
    override = spec.mlflow.experiment_name
    if not override:
        return f"reviewops/{analysis}"
    if "/" not in analysis:
        return override
    prefix = f"reviewops/{analysis.split('/', 1)[0]}/"
    return override if override.startswith(prefix) else prefix + override


def spec_to_dict(spec: ReviewAnalysisSpec) -> dict[str, Any]:
    """The spec as plain JSON-able data with camelCase keys (for Airflow conf, MLflow params)."""
    return spec.model_dump(mode="json", by_alias=True, exclude_none=True)


def safe_name(text: str) -> str:
    """A lowercase slug usable in ids and file names."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "analysis"
