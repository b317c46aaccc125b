"""Airflow 3 REST client (apache-airflow-client) with JWT auth, for the analysis DAG.

The generated client is used for transport, auth headers and request bodies; responses are read
as plain JSON so that a field added or missing in another Airflow 3.x release cannot break the
operator (the generated models validate every field strictly).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import requests
import urllib3

from reviewops_operator.clients.base import FAILED, TERMINAL_STATES, FailedTask, RunInfo
from reviewops_operator.errors import ExternalError, classify_http, unreachable

SYSTEM = "Airflow"
log = logging.getLogger(__name__)
PUBLISH_TASK = "publish"
RESULT_KEY = "return_value"


def _parse_date(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def unwrap_xcom(value: object) -> object:
    """An XCom value as plain data: JSON strings parsed, serializer envelopes removed."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    # Airflow's serializers wrap values as {"__classname__", "__data__"} (serde) or
    # {"__type", "__var"} (older BaseSerialization); the payload is inside.
    while isinstance(value, dict) and ("__data__" in value or "__var" in value):
        value = value.get("__data__", value.get("__var"))
    return value


class AirflowRestClient:
    """`AirflowApi` over Airflow 3's public REST API (host = the API server root)."""

    def __init__(
        self,
        url: str,
        username: str | Callable[[], str],
        password: str | Callable[[], str],
        dag_id: str,
        *,
        timeout: float = 10.0,
        verify_tls: bool = True,
    ) -> None:
        from airflow_client import client

        self._url = url.rstrip("/")
        # Callables are read at every token fetch, so a rotated Secret file is picked up.
        self._credentials = (username, password)
        self._dag_id = dag_id
        self._timeout = timeout
        self._verify = verify_tls
        config = client.Configuration(host=self._url)
        config.verify_ssl = verify_tls
        config.retries = 1  # one quick retry on a dropped connection; backoff is reconcile's job
        api = client.ApiClient(config)
        self._config = config
        self._runs = client.DagRunApi(api)
        self._dags = client.DAGApi(api)
        self._xcoms = client.XComApi(api)
        self._tasks = client.TaskInstanceApi(api)
        self._models = client
        self._lock = threading.Lock()
        self._unpaused = False
        self._session = requests.Session()

    # --- auth ----------------------------------------------------------------------------------
    @property
    def _username(self) -> str:
        value = self._credentials[0]
        return value() if callable(value) else value

    def _fetch_token(self) -> None:
        url = f"{self._url}/auth/token"
        secret = self._credentials[1]
        try:
            answer = self._session.post(
                url,
                json={"username": self._username, "password": secret() if callable(secret) else secret},
                timeout=self._timeout,
                verify=self._verify,
            )
        except requests.RequestException as exc:
            raise unreachable(SYSTEM, "getting an API token", url, exc) from exc
        if answer.status_code not in (200, 201):
            raise classify_http(
                SYSTEM, f"getting an API token as {self._username!r}", url, answer.status_code, answer.text
            )
        token = answer.json().get("access_token")
        if not isinstance(token, str) or not token:
            raise ExternalError(
                SYSTEM, "AirflowAuthFailed", f"{url} answered without an access_token", transient=False
            )
        self._config.access_token = token

    def _call(self, what: str, path: str, send: Callable[[], Any]) -> tuple[int, Any]:
        """Send a request with a valid token (refreshed once on 401); returns (status, JSON)."""
        url = f"{self._url}{path}"
        for attempt in range(2):
            with self._lock:
                if self._config.access_token is None or attempt == 1:
                    self._fetch_token()
            try:
                answer = send()
                status, raw = answer.status, answer.data
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise unreachable(SYSTEM, what, url, exc) from exc
            except self._models.ApiException as exc:  # TLS failures come wrapped with status 0
                raise unreachable(SYSTEM, what, url, exc) from exc
            if status != 401:
                break
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
        try:
            payload = json.loads(text) if text else None
        except ValueError:
            payload = text
        return status, payload

    def _fail(
        self, what: str, path: str, status: int, payload: object, *, dag_level: bool = False
    ) -> ExternalError:
        # On DAG-level endpoints a 404 means the DAG itself is missing (not deployed or not parsed).
        if status == 404 and dag_level:
            return ExternalError(
                SYSTEM,
                "DagNotFound",
                f"{what}: DAG {self._dag_id!r} is not known to Airflow at {self._url}; deploy "
                "dags/ to Airflow or set REVIEWOPS_AIRFLOW_DAG_ID",
                transient=False,
            )
        return classify_http(SYSTEM, what, f"{self._url}{path}", status, json.dumps(payload))

    # --- AirflowApi ------------------------------------------------------------------------------
    def _unpause_once(self) -> None:
        if self._unpaused:
            return
        path = f"/api/v2/dags/{self._dag_id}"
        body = self._models.DAGPatchBody(is_paused=False)
        status, payload = self._call(
            "unpausing the DAG",
            path,
            lambda: self._dags.patch_dag_without_preload_content(
                self._dag_id, body, update_mask=["is_paused"], _request_timeout=self._timeout
            ),
        )
        if status != 200:
            raise self._fail("unpausing the DAG", path, status, payload, dag_level=True)
        self._unpaused = True

    def trigger(self, run_id: str, conf: dict[str, Any]) -> bool:
        """POST a dagRun with our deterministic id; 409 means it exists already (success)."""
        self._unpause_once()
        path = f"/api/v2/dags/{self._dag_id}/dagRuns"
        body = self._models.TriggerDAGRunPostBody(dag_run_id=run_id, logical_date=None, conf=conf)
        status, payload = self._call(
            f"triggering run {run_id}",
            path,
            lambda: self._runs.trigger_dag_run_without_preload_content(
                self._dag_id, body, _request_timeout=self._timeout
            ),
        )
        if status == 409:
            # Same id: ours (a retried trigger), unless it was started for another object,
            # e.g. a deleted one of the same namespace and name: never follow someone else's run.
            existing = self.get_run(run_id)
            wanted = _owner_uid(conf)
            if existing is not None and existing.owner_uid and wanted and existing.owner_uid != wanted:
                raise ExternalError(
                    SYSTEM,
                    "RunConflict",
                    f"DAG run {run_id} already exists in Airflow for another ReviewAnalysis (uid "
                    f"{existing.owner_uid}, this one is {wanted}); it is left alone. Delete that run "
                    "in Airflow or give this analysis another name",
                    transient=False,
                )
            return False
        if status not in (200, 201):
            raise self._fail(f"triggering run {run_id}", path, status, payload, dag_level=True)
        return True

    def get_run(self, run_id: str) -> RunInfo | None:
        """GET one dagRun; None when Airflow does not know it (deleted, or never created)."""
        path = f"/api/v2/dags/{self._dag_id}/dagRuns/{run_id}"
        status, payload = self._call(
            f"reading run {run_id}",
            path,
            lambda: self._runs.get_dag_run_without_preload_content(
                self._dag_id, run_id, _request_timeout=self._timeout
            ),
        )
        if status == 404:
            return None
        if status != 200 or not isinstance(payload, dict):
            raise self._fail(f"reading run {run_id}", path, status, payload)
        return RunInfo(
            run_id=run_id,
            state=str(payload.get("state") or "queued"),
            start_date=_parse_date(payload.get("start_date")),
            end_date=_parse_date(payload.get("end_date")),
            owner_uid=_owner_uid(payload.get("conf")),
        )

    def cancel(self, run_id: str, owner_uid: str | None = None) -> None:
        """PATCH the run's state to failed, unless it already finished, does not exist, or was
        started for another object than `owner_uid`."""
        current = self.get_run(run_id)
        if current is None or current.state in TERMINAL_STATES:
            return
        if owner_uid and current.owner_uid and current.owner_uid != owner_uid:
            log.warning("run %s belongs to uid %s, not %s: left alone", run_id, current.owner_uid, owner_uid)
            return
        path = f"/api/v2/dags/{self._dag_id}/dagRuns/{run_id}"
        body = self._models.DAGRunPatchBody(state=self._models.DagRunMutableStates(FAILED))
        status, payload = self._call(
            f"cancelling run {run_id}",
            path,
            lambda: self._runs.patch_dag_run_without_preload_content(
                self._dag_id, run_id, body, update_mask=["state"], _request_timeout=self._timeout
            ),
        )
        if status not in (200, 404):
            raise self._fail(f"cancelling run {run_id}", path, status, payload)

    def failed_tasks(self, run_id: str) -> list[FailedTask]:
        """The run's failed task instances (task id, try number, retries allowed)."""
        path = f"/api/v2/dags/{self._dag_id}/dagRuns/{run_id}/taskInstances"
        status, payload = self._call(
            f"reading the failed tasks of run {run_id}",
            path,
            lambda: self._tasks.get_task_instances_without_preload_content(
                self._dag_id, run_id, state=["failed"], _request_timeout=self._timeout
            ),
        )
        if status == 404:
            return []
        if status != 200 or not isinstance(payload, dict):
            raise self._fail(f"reading the failed tasks of run {run_id}", path, status, payload)
        items = payload.get("task_instances")
        return [
            FailedTask(str(t.get("task_id")), int(t.get("try_number") or 0), int(t.get("max_tries") or 0))
            for t in (items if isinstance(items, list) else [])
            if isinstance(t, dict) and t.get("task_id")
        ]

    def results(self, run_id: str) -> dict[str, Any] | None:
        """The `publish` task's return value (the analysis summary), or None when absent."""
        path = (
            f"/api/v2/dags/{self._dag_id}/dagRuns/{run_id}/taskInstances/{PUBLISH_TASK}"
            f"/xcomEntries/{RESULT_KEY}"
        )
        status, payload = self._call(
            f"reading the results of run {run_id}",
            path,
            lambda: self._xcoms.get_xcom_entry_without_preload_content(
                self._dag_id,
                PUBLISH_TASK,
                run_id,
                RESULT_KEY,
                map_index=-1,
                _request_timeout=self._timeout,
            ),
        )
        if status == 404:
            return None
        if status != 200 or not isinstance(payload, dict):
            raise self._fail(f"reading the results of run {run_id}", path, status, payload)
        value = unwrap_xcom(payload.get("value"))
        return value if isinstance(value, dict) else None


def _owner_uid(conf: object) -> str | None:
    """conf.analysis.uid of a run's conf, when it has one."""
    analysis = conf.get("analysis") if isinstance(conf, dict) else None
    uid = analysis.get("uid") if isinstance(analysis, dict) else None
    return uid if isinstance(uid, str) and uid else None
