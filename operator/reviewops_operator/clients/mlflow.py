"""MLflow experiments: created with tags, restored when soft-deleted, deleted by policy.

Two implementations of one contract. A tracking *server* (http/https, the in-cluster case) is
spoken to over MLflow's REST API with `requests`: importing the `mlflow` package costs ~150 MB of
RSS (pandas, fastapi, ...), which alone would break the operator's memory budget. Any other URI
(`sqlite:///...`, a folder) has no server to talk to, so `MlflowClient` is used, imported lazily.
The operator image installs no `mlflow` package (the `operator` extra does not list it): an embedded
store needs full mlflow (the `analysis` extra), and settings validation says so at startup
(`embedded_store_problem`).
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import requests

from reviewops_operator.clients.base import Experiment, ExperimentStore, ownership_conflict
from reviewops_operator.errors import ExternalError, classify_http, unreachable

SYSTEM = "MLflow"
_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
_DELETED = "deleted"


# Database stores run through SQLAlchemy + Alembic (dependencies of full mlflow, not of mlflow-skinny).
_DATABASE_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")
INSTALL_HINT = "install reviewops[analysis] (or mlflow>=3.17,<3.18)"


def is_server_uri(tracking_uri: str) -> bool:
    """True for an MLflow tracking server (REST); anything else is an embedded store."""
    return tracking_uri.startswith(("http://", "https://"))


def embedded_store_problem(tracking_uri: str) -> str | None:
    """Why `tracking_uri` cannot be used in this environment, or None when it can.

    A server URI only needs `requests`. An embedded store needs the `mlflow` package (and
    SQLAlchemy + Alembic for a database), which the operator image leaves out on purpose.
    Checked without importing anything, so settings validation stays cheap.
    """
    if is_server_uri(tracking_uri):
        return None
    needed = ["mlflow"]
    if tracking_uri.split(":", 1)[0].split("+", 1)[0] in _DATABASE_SCHEMES:
        needed += ["sqlalchemy", "alembic"]
    missing = [module for module in needed if importlib.util.find_spec(module) is None]
    if not missing:
        return None
    return (
        f"{tracking_uri!r} is an embedded MLflow store, which needs the mlflow package "
        f"(missing here: {', '.join(missing)}): {INSTALL_HINT}, or use an MLflow server (http(s)://...)"
    )


class MlflowRestExperiments:
    """`ExperimentStore` over MLflow's REST API (`/api/2.0/mlflow/experiments/*`)."""

    def __init__(self, tracking_uri: str, *, timeout: float = 10.0) -> None:
        self._root = tracking_uri.rstrip("/")
        self._timeout = timeout
        self._session = requests.Session()
        # The same variables MlflowClient honours, so one Secret serves both the operator and DAG.
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        user = os.environ.get("MLFLOW_TRACKING_USERNAME")
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"
        elif user:
            self._session.auth = (user, os.environ.get("MLFLOW_TRACKING_PASSWORD", ""))

    def _request(self, what: str, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        url = f"{self._root}/api/2.0/mlflow/experiments/{endpoint}"
        try:
            answer = self._session.request(method, url, timeout=self._timeout, **kwargs)
        except requests.RequestException as exc:
            raise unreachable(SYSTEM, what, url, exc) from exc
        try:
            payload = answer.json()
        except ValueError:
            payload = {}
        if answer.status_code == 200:
            return payload if isinstance(payload, dict) else {}
        code = payload.get("error_code") if isinstance(payload, dict) else None
        if code in (_ALREADY_EXISTS, _DOES_NOT_EXIST):
            return {"error_code": code}
        raise classify_http(SYSTEM, what, url, answer.status_code, answer.text)

    def _by_name(self, name: str) -> dict[str, Any] | None:
        found = self._request(
            f"looking up experiment {name!r}", "GET", "get-by-name", params={"experiment_name": name}
        )
        experiment = found.get("experiment")
        return experiment if isinstance(experiment, dict) else None

    def ensure(self, name: str, tags: dict[str, str]) -> Experiment:
        """Create (tags included), or restore a soft-deleted one and refresh its tags."""
        current = self._by_name(name)
        if current is None:
            created = self._request(
                f"creating experiment {name!r}",
                "POST",
                "create",
                json={"name": name, "tags": [{"key": k, "value": v} for k, v in tags.items()]},
            )
            if "experiment_id" in created:
                return Experiment(experiment_id=str(created["experiment_id"]), created=True)
            current = self._by_name(name)  # lost a race with another creator: theirs is ours
            if current is None:
                raise ExternalError(
                    SYSTEM,
                    "MLflowRejected",
                    f"experiment {name!r} neither exists nor can be created at {self._root}",
                    transient=True,
                )
        experiment_id = str(current["experiment_id"])
        known = _tags(current)
        conflict = ownership_conflict(name, known, tags)
        if conflict is not None:
            raise conflict
        restored = current.get("lifecycle_stage") == _DELETED
        if restored:
            self._request(
                f"restoring experiment {name!r}", "POST", "restore", json={"experiment_id": experiment_id}
            )
        for key, value in tags.items():
            if known.get(key) != value:
                self._request(
                    f"tagging experiment {name!r}",
                    "POST",
                    "set-experiment-tag",
                    json={"experiment_id": experiment_id, "key": key, "value": value},
                )
        return Experiment(experiment_id=experiment_id, restored=restored)

    def delete(self, name: str, owner: dict[str, str]) -> bool:
        """Soft-delete (MLflow never frees the name) if `owner`'s; False when absent or deleted."""
        current = self._by_name(name)
        if current is None or current.get("lifecycle_stage") == _DELETED:
            return False
        conflict = ownership_conflict(name, _tags(current), owner, same_uid=True)
        if conflict is not None:
            raise conflict
        self._request(
            f"deleting experiment {name!r}",
            "POST",
            "delete",
            json={"experiment_id": str(current["experiment_id"])},
        )
        return True


class MlflowLocalExperiments:
    """`ExperimentStore` with `MlflowClient` for server-less stores (sqlite:///..., folders)."""

    def __init__(self, tracking_uri: str) -> None:
        problem = embedded_store_problem(tracking_uri)
        if problem is not None:
            from reviewops_operator.settings import ConfigError

            raise ConfigError(f"REVIEWOPS_MLFLOW_TRACKING_URI: {problem}")
        from mlflow import MlflowClient

        self._uri = tracking_uri
        self._client = MlflowClient(tracking_uri=tracking_uri)

    def _fail(self, what: str, exc: Exception) -> ExternalError:
        # A local store fails on disk or database problems: worth retrying, never a crash.
        return ExternalError(
            SYSTEM, "MLflowUnavailable", f"{what} in MLflow store {self._uri}: {exc}", transient=True
        )

    def ensure(self, name: str, tags: dict[str, str]) -> Experiment:
        """Create (tags included), or restore a soft-deleted one and refresh its tags."""
        from mlflow.exceptions import MlflowException

        try:
            current = self._client.get_experiment_by_name(name)
            if current is None:
                try:
                    new_id = self._client.create_experiment(name, tags=tags)
                    return Experiment(experiment_id=str(new_id), created=True)
                except MlflowException as exc:
                    if exc.error_code != _ALREADY_EXISTS:
                        raise
                    current = self._client.get_experiment_by_name(name)
                    if current is None:
                        raise
            conflict = ownership_conflict(name, dict(current.tags), tags)
            if conflict is not None:
                raise conflict
            restored = current.lifecycle_stage == _DELETED
            if restored:
                self._client.restore_experiment(current.experiment_id)
            for key, value in tags.items():
                if current.tags.get(key) != value:
                    self._client.set_experiment_tag(current.experiment_id, key, value)
            return Experiment(experiment_id=str(current.experiment_id), restored=restored)
        except MlflowException as exc:
            raise self._fail(f"ensuring experiment {name!r}", exc) from exc

    def delete(self, name: str, owner: dict[str, str]) -> bool:
        """Soft-delete if `owner`'s; False when absent or already deleted."""
        from mlflow.exceptions import MlflowException

        try:
            current = self._client.get_experiment_by_name(name)
            if current is None or current.lifecycle_stage == _DELETED:
                return False
            conflict = ownership_conflict(name, dict(current.tags), owner, same_uid=True)
            if conflict is not None:
                raise conflict
            self._client.delete_experiment(current.experiment_id)
            return True
        except MlflowException as exc:
            raise self._fail(f"deleting experiment {name!r}", exc) from exc


def _tags(experiment: dict[str, Any]) -> dict[str, str]:
    return {
        str(t.get("key")): str(t.get("value"))
        for t in experiment.get("tags", [])
        if isinstance(t, dict) and t.get("key") is not None
    }


def experiment_store(tracking_uri: str, *, timeout: float = 10.0) -> ExperimentStore:
    """The right implementation for a tracking URI (REST for servers, MlflowClient otherwise)."""
    if is_server_uri(tracking_uri):
        return MlflowRestExperiments(tracking_uri, timeout=timeout)
    return MlflowLocalExperiments(tracking_uri)


def experiment_url(link_root: str | None, experiment_id: str) -> str | None:
    """Link to the experiment in MLflow's UI, when the UI's address is known."""
    return f"{link_root}/#/experiments/{experiment_id}" if link_root else None
