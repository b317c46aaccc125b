"""Settings of the analysis process that the cluster admin controls, not the analysis spec.

A `ReviewAnalysis` spec says *what* to analyse; where results go (the results store, MLflow,
the intermediate artifacts of a DAG run) and how to reach the outside world (the scraper's
contact address, a Trustpilot mirror for tests) belong to whoever runs the engine. They come
from `REVIEWOPS_*` environment variables (an Airflow worker's environment, or a pod's env from
Secrets), read once through this one object so every stage agrees on them.

`reviewops analyze` keeps its own command-line options (with the same variables as fallbacks);
`reviewops stage ...` reads these settings only.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from reviewops.policy import DEFAULT_MODEL_URIS, AccessPolicy, check_entries, split_list


class SettingsError(ValueError):
    """A bad REVIEWOPS_* variable; the message names each variable and what is wrong."""


class AnalysisSettings(BaseSettings):
    """The REVIEWOPS_* variables the analysis stages read (see the README's table)."""

    model_config = SettingsConfigDict(env_prefix="REVIEWOPS_", extra="ignore", frozen=True)

    store_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the results store; '' writes no store. Required by publish.",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None,
        validation_alias=AliasChoices("REVIEWOPS_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"),
        description="MLflow tracking URI (http(s)://server or sqlite:///path). Required by publish "
        "unless the spec disables MLflow.",
    )
    artifacts_url: str | None = Field(
        default=None,
        min_length=1,
        description="fsspec URL (absolute folder, file://, s3://, memory://...) under which each "
        "DAG run keeps its stage outputs, in <url>/<run id>/. Required by the stages.",
    )
    contact: str | None = Field(
        default=None, description="E-mail or URL appended to the scraper's User-Agent."
    )
    trustpilot_base_url: str | None = Field(
        default=None,
        description="Replaces https://<lang>.trustpilot.com (a mirror, or a local test server).",
    )
    cache_dir: str | None = Field(
        default=None,
        description="Folder of the scrape cache (resumable scraping); default: a temporary folder.",
    )
    workers: int | None = Field(
        default=None, ge=1, le=64, description="Preprocessing processes (default: usable CPUs)."
    )

    allowed_model_uris: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_MODEL_URIS),
        description="Comma-separated: where spec.sentiment.modelUri may point (URI prefixes, "
        "absolute folders, {namespace} = the analysis' namespace, * = anything). A DAG run "
        "refuses any other model before loading it.",
    )
    allowed_file_roots: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated absolute folders a file source (spec.source.path) may read "
        "on the workers; empty: DAG runs refuse file sources.",
    )

    @field_validator("allowed_model_uris", "allowed_file_roots", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    @field_validator("allowed_model_uris")
    @classmethod
    def _model_entries(cls, value: list[str]) -> list[str]:
        if bad := check_entries(value, paths_only=False):
            raise ValueError("; ".join(bad))
        return value

    @field_validator("allowed_file_roots")
    @classmethod
    def _root_entries(cls, value: list[str]) -> list[str]:
        if bad := check_entries(value, paths_only=True):
            raise ValueError("; ".join(bad))
        return value

    def policy(self) -> AccessPolicy:
        """The allow-lists, resolving symbolic links: the stages run where the files are."""
        return AccessPolicy.of(self.allowed_model_uris, self.allowed_file_roots, resolve_links=True)

    @field_validator("trustpilot_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    def publish_problems(self, mlflow_enabled: bool) -> list[str]:
        """What publish would miss: a DAG run must write its results somewhere on purpose."""
        problems = []
        if self.store_url is None:
            problems.append(
                "REVIEWOPS_STORE_URL is not set: give the results store's SQLAlchemy URL "
                "(e.g. postgresql+psycopg://user:pw@host/db), or '' to write no store"
            )
        if mlflow_enabled and not self.mlflow_tracking_uri:
            problems.append(
                "REVIEWOPS_MLFLOW_TRACKING_URI is not set: give the MLflow tracking URI "
                "(e.g. http://mlflow:5000), or set spec.mlflow.enabled: false"
            )
        return problems


def load_settings() -> AnalysisSettings:
    """Read the environment now (not cached: a test or a retried task may change it)."""
    try:
        return AnalysisSettings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper()
            name = name if name.startswith(("REVIEWOPS_", "MLFLOW_")) else f"REVIEWOPS_{name}"
            lines.append(f"{name}: {error['msg']}")
        raise SettingsError("; ".join(lines)) from exc


__all__ = ["AnalysisSettings", "SettingsError", "load_settings"]
