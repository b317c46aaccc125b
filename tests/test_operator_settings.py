"""Operator settings: read from REVIEWOPS_* variables, validated at startup, errors name the variable."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewops_operator.__main__ import run_options
from reviewops_operator.settings import ConfigError, GrafanaMode, Settings, get_settings, reset_settings

BASE = {
    "REVIEWOPS_AIRFLOW_URL": "http://airflow:8080/",
    "REVIEWOPS_AIRFLOW_USERNAME": "admin",
    "REVIEWOPS_AIRFLOW_PASSWORD": "secret",
    "REVIEWOPS_MLFLOW_TRACKING_URI": "http://mlflow:5000",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for key in list(os.environ):
        if key.startswith("REVIEWOPS_"):
            monkeypatch.delenv(key)
    for key, value in BASE.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    yield monkeypatch
    reset_settings()


def test_defaults_and_normalisation(env: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env()
    assert settings.airflow_url == "http://airflow:8080"
    assert settings.airflow_dag_id == "review_analysis"
    assert settings.grafana_mode is GrafanaMode.CONFIGMAP
    assert settings.namespaces == []
    assert settings.mlflow_link_root() == "http://mlflow:5000"
    assert run_options(settings) == {
        "standalone": True,
        "clusterwide": True,
        "namespaces": [],
        "liveness_endpoint": "http://0.0.0.0:8080/healthz",
    }


def test_namespaces_are_comma_separated(env: pytest.MonkeyPatch) -> None:
    env.setenv("REVIEWOPS_NAMESPACES", "insights, team-b ,")
    settings = Settings.from_env()
    assert settings.namespaces == ["insights", "team-b"]
    assert run_options(settings)["clusterwide"] is False


def test_secret_files_win_over_variables(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "user").write_text("robot\n")
    (tmp_path / "password").write_text("from-file\n")
    env.setenv("REVIEWOPS_AIRFLOW_USERNAME_FILE", str(tmp_path / "user"))
    env.setenv("REVIEWOPS_AIRFLOW_PASSWORD_FILE", str(tmp_path / "password"))
    settings = Settings.from_env()
    assert (settings.airflow_user(), settings.airflow_secret()) == ("robot", "from-file")
    assert "from-file" not in repr(settings)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"REVIEWOPS_AIRFLOW_URL": None}, "REVIEWOPS_AIRFLOW_URL: Field required"),
        (
            {"REVIEWOPS_AIRFLOW_URL": "airflow:8080"},
            "REVIEWOPS_AIRFLOW_URL: 'airflow:8080' must start with http",
        ),
        ({"REVIEWOPS_AIRFLOW_PASSWORD": None}, "REVIEWOPS_AIRFLOW_PASSWORD(_FILE)"),
        (
            {"REVIEWOPS_AIRFLOW_PASSWORD_FILE": "/nonexistent/pw"},
            "REVIEWOPS_AIRFLOW_PASSWORD_FILE: /nonexistent/pw",
        ),
        ({"REVIEWOPS_GRAFANA_MODE": "api"}, "REVIEWOPS_GRAFANA_URL is required when GRAFANA_MODE=api"),
        (
            {"REVIEWOPS_GRAFANA_MODE": "sidecar"},
            "REVIEWOPS_GRAFANA_MODE: Input should be 'configmap', 'api' or 'disabled'",
        ),
        (
            {"REVIEWOPS_RECONCILE_INTERVAL_SECONDS": "0"},
            "REVIEWOPS_RECONCILE_INTERVAL_SECONDS: Input should be greater than 0",
        ),
        ({"REVIEWOPS_STANDALONE": "false"}, "REVIEWOPS_PEERING_NAME is required"),
    ],
)
def test_bad_settings_name_the_variable(
    env: pytest.MonkeyPatch, change: dict[str, str | None], expected: str
) -> None:
    for key, value in change.items():
        if value is None:
            env.delenv(key)
        else:
            env.setenv(key, value)
    with pytest.raises(ConfigError) as caught:
        Settings.from_env()
    assert expected in str(caught.value)


def test_api_mode_needs_a_token_and_accepts_one_from_a_file(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("REVIEWOPS_GRAFANA_MODE", "api")
    env.setenv("REVIEWOPS_GRAFANA_URL", "https://grafana.example")
    with pytest.raises(ConfigError, match="GRAFANA_TOKEN"):
        Settings.from_env()
    (tmp_path / "token").write_text("glsa_x")
    env.setenv("REVIEWOPS_GRAFANA_TOKEN_FILE", str(tmp_path / "token"))
    assert Settings.from_env().grafana_secret() == "glsa_x"


def test_get_settings_is_cached_until_reset(env: pytest.MonkeyPatch) -> None:
    first = get_settings()
    env.setenv("REVIEWOPS_AIRFLOW_DAG_ID", "other")
    assert get_settings() is first
    reset_settings()
    assert get_settings().airflow_dag_id == "other"


def test_every_setting_is_documented_in_the_operator_readme() -> None:
    readme = (Path(__file__).resolve().parent.parent / "operator" / "README.md").read_text()
    missing = [
        name
        for name in Settings.model_fields
        if not name.endswith("_file") and f"`REVIEWOPS_{name.upper()}" not in readme
    ]
    assert missing == []


def test_credentials_in_url_settings_never_reach_status_events_or_links(env: pytest.MonkeyPatch) -> None:
    from reviewops_operator.clients.grafana import dashboard_link
    from reviewops_operator.errors import classify_http, unreachable

    env.setenv("REVIEWOPS_MLFLOW_TRACKING_URI", "https://bot:hunter2@mlflow.example:5000")
    settings = Settings.from_env()
    assert settings.mlflow_link_root() == "https://***@mlflow.example:5000"  # status.mlflow.url
    assert dashboard_link("https://admin:pw@grafana.example", "ro-1") == "https://***@grafana.example/d/ro-1"
    errors = [
        unreachable("Airflow", "triggering run r1", "http://admin:s3cret@airflow:8080", OSError("refused")),
        classify_http("MLflow", "creating the experiment", "https://bot:hunter2@mlflow:5000", 503, "busy"),
        classify_http("Grafana", "saving", "https://u:tok@g", 401, "bad token at https://u:tok@g/api"),
    ]
    for error in errors:  # their messages become conditions and Events
        assert not any(secret in error.message for secret in ("s3cret", "hunter2", "tok@"))
        assert "***@" in error.message
    assert "http://airflow:8080" in unreachable("Airflow", "x", "http://airflow:8080", OSError()).message
