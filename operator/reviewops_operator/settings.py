"""The operator's one settings object, read from `REVIEWOPS_*` environment variables.

Every field maps 1:1 to a Helm value. Secrets can be given inline (`REVIEWOPS_AIRFLOW_PASSWORD`) or,
preferably, as a path to a mounted Secret file (`REVIEWOPS_AIRFLOW_PASSWORD_FILE`). Validation runs
at startup so a misconfigured operator fails once, loudly, naming the variable, instead of failing
on every reconcile.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from reviewops.policy import DEFAULT_MODEL_URIS, AccessPolicy, check_entries, split_list

ENV_PREFIX = "REVIEWOPS_"


class GrafanaMode(StrEnum):
    """How per-analysis dashboards reach Grafana."""

    CONFIGMAP = "configmap"  # a labelled ConfigMap picked up by Grafana's dashboard sidecar
    API = "api"  # POST /api/dashboards/db on a Grafana server
    DISABLED = "disabled"  # no dashboards at all


class TimerSettings(BaseSettings):
    """The settings kopf needs when handlers are registered (at import time, before startup).

    Kept apart so importing `reviewops_operator.handlers` never fails on a missing Airflow URL.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    reconcile_interval_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How often each analysis is reconciled by the timer (polls runs, fires due slots).",
    )


class ConfigError(ValueError):
    """The operator's environment is wrong; the message names each `REVIEWOPS_*` variable."""


class Settings(TimerSettings):
    """Everything the operator reads from its environment (prefix `REVIEWOPS_`)."""

    # --- Airflow -----------------------------------------------------------------------------
    airflow_url: str = Field(
        description="Airflow API server root, e.g. http://airflow-api-server:8080 (no /api/v2).",
    )
    airflow_username: str | None = Field(default=None, description="Airflow user for POST /auth/token.")
    airflow_username_file: Path | None = Field(
        default=None, description="File holding the Airflow user (a mounted Secret); wins over the variable."
    )
    airflow_password: SecretStr | None = Field(default=None, description="Airflow password.")
    airflow_password_file: Path | None = Field(
        default=None, description="File holding the Airflow password (a mounted Secret)."
    )
    airflow_dag_id: str = Field(
        default="review_analysis", min_length=1, description="The DAG that runs one analysis."
    )
    airflow_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="Timeout of one Airflow API call."
    )
    airflow_verify_tls: bool = Field(default=True, description="Verify Airflow's TLS certificate.")

    # --- MLflow ------------------------------------------------------------------------------
    mlflow_tracking_uri: str = Field(
        description="MLflow tracking URI: http(s)://server (REST, light) or sqlite:///path (embedded).",
    )
    mlflow_ui_url: str | None = Field(
        default=None,
        description="MLflow UI root used for links in status (default: the tracking URI when http).",
    )
    mlflow_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="Timeout of one MLflow API call."
    )

    # --- Grafana -----------------------------------------------------------------------------
    grafana_mode: GrafanaMode = Field(
        default=GrafanaMode.CONFIGMAP, description="configmap (sidecar), api (HTTP API) or disabled."
    )
    grafana_url: str | None = Field(
        default=None, description="Grafana root URL: API endpoint in api mode, links in status always."
    )
    grafana_token: SecretStr | None = Field(
        default=None, description="Grafana service-account token (api mode)."
    )
    grafana_token_file: Path | None = Field(
        default=None, description="File holding the Grafana token (a mounted Secret)."
    )
    grafana_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="Timeout of one Grafana API call (api mode)."
    )
    grafana_dashboard_namespace: str | None = Field(
        default=None,
        description="Namespace of dashboard ConfigMaps (default: the analysis' own namespace).",
    )
    grafana_results_datasource_uid: str = Field(
        default="reviewops-results", description="Grafana uid of the SQL results-store datasource."
    )
    grafana_prometheus_datasource_uid: str = Field(
        default="prometheus", description="Grafana uid of the Prometheus datasource."
    )
    dashboard_template_dir: Path | None = Field(
        default=None,
        description="Folder with analysis.json (default: the repository's dashboards/ folder).",
    )

    # --- What analyses may point at (reviewops.policy; the DAG's workers enforce it again) -----
    allowed_model_uris: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_MODEL_URIS),
        description="Comma-separated: where spec.sentiment.modelUri may point (URI prefixes, absolute "
        "folders, {namespace} = the analysis' namespace, * = anything).",
    )
    allowed_file_roots: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated absolute worker folders spec.source.path may read; "
        "empty: no file sources.",
    )

    @field_validator("allowed_model_uris", "allowed_file_roots", mode="before")
    @classmethod
    def _split_lists(cls, value: object) -> object:
        return split_list(value)

    @field_validator("allowed_model_uris", "allowed_file_roots")
    @classmethod
    def _policy_entries(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if bad := check_entries(value, paths_only=info.field_name == "allowed_file_roots"):
            raise ValueError("; ".join(bad))
        return value

    def policy(self) -> AccessPolicy:
        """The allow-lists, checked on paths as written (the files are on the workers)."""
        return AccessPolicy.of(self.allowed_model_uris, self.allowed_file_roots)

    # --- Kubernetes & kopf -------------------------------------------------------------------
    namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated namespaces to watch; empty = the whole cluster.",
    )
    kubernetes_api_url: str | None = Field(
        default=None,
        description="Explicit API server URL (tests, proxies); otherwise in-cluster config, then kubeconfig.",
    )
    standalone: bool = Field(
        default=True, description="Run without kopf peering (the chart runs 1 replica, Recreate)."
    )
    peering_name: str | None = Field(
        default=None, description="kopf peering object name when not standalone."
    )
    peering_priority: int | None = Field(
        default=None,
        ge=-(2**53),
        le=2**53,
        description="kopf peering priority (the live peer with the highest is active). Unset: derived "
        "from the start time, so replicas differ and the one that has run longest is active.",
    )
    peering_lifetime_seconds: int = Field(
        default=60,
        ge=5,
        le=3600,
        description="A peer silent this long is taken for dead and a standby takes over (kopf's lifetime).",
    )
    scanning: bool = Field(
        default=True,
        description="Let kopf observe namespaces/CRDs at runtime; disable for API emulators that cannot.",
    )
    resync_seconds: float = Field(
        default=600.0,
        gt=0,
        description="Re-verify the MLflow experiment and dashboard at least this often (level-based).",
    )
    retry_base_seconds: float = Field(
        default=5.0, gt=0, description="First delay after a transient failure (doubles per retry)."
    )
    retry_max_seconds: float = Field(default=300.0, gt=0, description="Longest delay between retries.")
    delete_max_retries: int = Field(
        default=10,
        ge=0,
        description="Transient cleanup failures retried this often before deletion proceeds anyway.",
    )
    metrics_port: int = Field(
        default=9090, ge=0, le=65535, description="Port of /metrics (Prometheus); 0 disables it."
    )
    health_port: int = Field(
        default=8080, ge=0, le=65535, description="Port of kopf's liveness endpoint /healthz; 0 disables it."
    )

    @field_validator("namespaces", mode="before")
    @classmethod
    def _split_namespaces(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("airflow_url", "grafana_url", "mlflow_ui_url", "kubernetes_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _secrets_and_modes(self) -> Self:
        for name in ("airflow_username_file", "airflow_password_file", "grafana_token_file"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"{ENV_PREFIX}{name.upper()}: {path} is not a readable file")
        if self.airflow_user() is None or self.airflow_secret() is None:
            raise ValueError(
                f"Airflow credentials missing: set {ENV_PREFIX}AIRFLOW_USERNAME(_FILE) and "
                f"{ENV_PREFIX}AIRFLOW_PASSWORD(_FILE)"
            )
        if self.grafana_mode is GrafanaMode.API:
            if self.grafana_url is None:
                raise ValueError(f"{ENV_PREFIX}GRAFANA_URL is required when GRAFANA_MODE=api")
            if self.grafana_secret() is None:
                raise ValueError(f"{ENV_PREFIX}GRAFANA_TOKEN(_FILE) is required when GRAFANA_MODE=api")
        if not self.standalone and not self.peering_name:
            raise ValueError(f"{ENV_PREFIX}PEERING_NAME is required when {ENV_PREFIX}STANDALONE=false")
        from reviewops_operator.clients.mlflow import embedded_store_problem

        problem = embedded_store_problem(self.mlflow_tracking_uri)
        if problem is not None:  # e.g. sqlite:/// in the operator image, which has no mlflow package
            raise ValueError(f"{ENV_PREFIX}MLFLOW_TRACKING_URI: {problem}")
        return self

    # Files win over variables so a rotated Secret is picked up without a restart.
    def airflow_user(self) -> str | None:
        """The Airflow user name (file first, then variable)."""
        if self.airflow_username_file is not None:
            return self.airflow_username_file.read_text(encoding="utf-8").strip()
        return self.airflow_username

    def airflow_secret(self) -> str | None:
        """The Airflow password (file first, then variable)."""
        if self.airflow_password_file is not None:
            return self.airflow_password_file.read_text(encoding="utf-8").strip()
        return self.airflow_password.get_secret_value() if self.airflow_password else None

    def grafana_secret(self) -> str | None:
        """The Grafana API token (file first, then variable)."""
        if self.grafana_token_file is not None:
            return self.grafana_token_file.read_text(encoding="utf-8").strip()
        return self.grafana_token.get_secret_value() if self.grafana_token else None

    def mlflow_link_root(self) -> str | None:
        """Where users open MLflow: the UI URL, else an http tracking URI, else nothing."""
        from reviewops_operator.errors import redact  # status links are read by every tenant

        if self.mlflow_ui_url:
            return redact(self.mlflow_ui_url)
        if self.mlflow_tracking_uri.startswith(("http://", "https://")):
            return redact(self.mlflow_tracking_uri.rstrip("/"))
        return None

    @classmethod
    def from_env(cls) -> Settings:
        """Read and validate the environment, raising ConfigError that names each bad variable."""
        try:
            return cls()  # required fields come from the environment
        except ValidationError as exc:
            raise ConfigError(describe_settings_errors(exc)) from exc


def describe_settings_errors(exc: ValidationError) -> str:
    """One line per problem, naming the environment variable to fix."""
    lines = []
    for err in exc.errors():
        loc = "_".join(str(part) for part in err["loc"]).upper()
        where = f"{ENV_PREFIX}{loc}" if loc else "settings"
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if loc else message)
    return "invalid operator settings: " + "; ".join(lines)


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests call `reset_settings()` after changing env."""
    return Settings.from_env()


def reset_settings() -> None:
    """Forget the cached settings so the next `get_settings()` re-reads the environment."""
    get_settings.cache_clear()
