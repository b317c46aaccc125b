"""A real Airflow 3 (and a real MLflow server) on 127.0.0.1 for the DAG's integration test.

Airflow runs as it does in production, minus the cluster: `airflow db migrate`, then the
api-server, scheduler (LocalExecutor), dag-processor and triggerer as separate processes on
SQLite, with SimpleAuthManager and the real JWT token flow (see ../shared/TESTING.md for why each
setting is there). `airflow standalone` is not used: it binds log servers on 0.0.0.0. All
components share one process group, which `stop` signals as a whole, so no worker or task
subprocess outlives the test.

`AirflowServer` holds the few REST calls the test makes, raw JSON over requests: the operator's
own client (reviewops_operator.clients.airflow) is what reads the results, this is the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.support.servers import free_port, missing

VENV_BIN = Path(sys.executable).parent
USER, PASSWORD = "admin", "admin"
_JWT_SECRET = "reviewops-integration-test-jwt-secret-" + "0123456789abcdef" * 4  # >= 64 bytes
TERMINAL = {"success", "failed"}


def wait_http(url: str, timeout: float, what: str, process: subprocess.Popen[bytes] | None = None) -> float:
    """Poll `url` until it answers 200; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before answering {url}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what} did not answer {url} within {timeout:.0f} s")


def stop_group(process: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    """SIGTERM the process group led by `process`, SIGKILL what is left after `grace` seconds."""
    if process.poll() is not None and not _group_alive(process.pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _group_alive(process.pid):
        process.poll()
        time.sleep(0.2)
    if _group_alive(process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class MlflowServer:
    """`mlflow server` on SQLite with proxied artifacts (the job runner off: ~9 s to healthy)."""

    root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.root / "mlflow.log").open("wb")
        self.process = subprocess.Popen(
            [
                str(VENV_BIN / "mlflow"),
                "server",
                "--backend-store-uri",
                f"sqlite:///{self.root / 'mlflow.db'}",
                "--artifacts-destination",
                str(self.root / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
            ],
            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait(self, timeout: float = 90) -> float:
        return wait_http(f"{self.url}/health", timeout, "mlflow server", self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)


@dataclass
class AirflowServer:
    """Airflow 3.3 components on 127.0.0.1 with `dags_folder`; `env` reaches every task."""

    dags_folder: Path
    env: dict[str, str]
    home: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="reviewops-airflow-")))
    port: int = field(default_factory=free_port)
    parallelism: int = 2
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # what the operator needs to log in (tests/support/operator_harness.py duck-types these)
    @property
    def username(self) -> str:
        return USER

    @property
    def password(self) -> str:
        return PASSWORD

    def environment(self) -> dict[str, str]:
        passwords = self.home / "passwords.json"
        passwords.write_text(json.dumps({USER: PASSWORD}))
        return {
            **os.environ,
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": _JWT_SECRET,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": _JWT_SECRET,
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            **self.env,
        }

    def start(self) -> None:
        """Migrate the database, then start the four components (not waiting for health)."""
        airflow = VENV_BIN / "airflow"
        if not airflow.exists():
            missing("apache-airflow is not installed in the virtualenv (uv sync --all-extras)")
        env = self.environment()
        subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True, timeout=180)
        commands = [
            ["api-server", "--host", "127.0.0.1", "--port", str(self.port)],
            ["scheduler", "--skip-serve-logs"],
            ["dag-processor"],
            ["triggerer", "--skip-serve-logs"],
        ]
        for args in commands:
            log = (self.home / f"{args[0]}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    [str(airflow), *args],
                    env=env,
                    cwd=self.home,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # the first component leads a new process group, the others join it
                    process_group=self.processes[0].pid if self.processes else 0,
                )
            )

    def wait(self, timeout: float = 120) -> float:
        """Wait until the API answers and scheduler and dag-processor report healthy."""
        started = time.monotonic()
        wait_http(f"{self.url}/api/v2/monitor/health", timeout, "airflow api-server", self.processes[0])
        while time.monotonic() - started < timeout:
            health = requests.get(f"{self.url}/api/v2/monitor/health", timeout=5).json()
            parts = ("metadatabase", "scheduler", "dag_processor", "triggerer")
            if all(health.get(part, {}).get("status") == "healthy" for part in parts):
                return time.monotonic() - started
            time.sleep(0.5)
        raise TimeoutError(f"airflow components not healthy within {timeout:.0f} s: {health}")

    def stop(self) -> None:
        if self.processes:
            stop_group(self.processes[0], grace=30)
            for process in self.processes[1:]:
                process.wait(timeout=10)

    def logs(self, lines: int = 40) -> str:
        """The tail of each component's log, for a failing test's message."""
        parts = []
        for path in sorted(self.home.glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    def cleanup(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    # --- REST ----------------------------------------------------------------------------------
    def token(self) -> str:
        if self._token is None:
            answer = requests.post(
                f"{self.url}/auth/token", json={"username": USER, "password": PASSWORD}, timeout=10
            )
            answer.raise_for_status()
            self._token = str(answer.json()["access_token"])
        return self._token

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token()}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.url}/api/v2{path}", headers=headers, timeout=15, **kwargs)

    def wait_for_dag(self, dag_id: str, timeout: float = 60) -> float:
        """Seconds until the dag-processor has parsed `dag_id` (import errors fail fast)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.call("GET", f"/dags/{dag_id}").status_code == 200:
                return time.monotonic() - started
            errors = self.call("GET", "/importErrors").json().get("import_errors", [])
            if errors:
                raise RuntimeError(f"DAG import errors: {errors}")
            time.sleep(0.5)
        raise TimeoutError(f"DAG {dag_id} not parsed within {timeout:.0f} s\n{self.logs()}")

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.dag_run(dag_id, run_id)["state"])

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """The dagRun as the REST API describes it (state, conf, queued_at, start/end dates)."""
        answer = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        answer.raise_for_status()
        run: dict[str, Any] = answer.json()
        return run

    def dag_runs(self, dag_id: str, prefix: str = "") -> list[dict[str, Any]]:
        """Every run of `dag_id` whose dag_run_id starts with `prefix`, oldest first."""
        found: list[dict[str, Any]] = []
        for offset in range(0, 10_000, 100):  # bounded: 100 pages of 100 runs
            answer = self.call(
                "GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100, "offset": offset, "order_by": "id"}
            )
            answer.raise_for_status()
            page = answer.json()["dag_runs"]
            found += [r for r in page if str(r["dag_run_id"]).startswith(prefix)]
            if len(page) < 100:
                break
        return found

    def wait_for_state(self, dag_id: str, run_id: str, states: set[str], timeout: float) -> float:
        """Seconds until the run exists and is in one of `states` (polled every 0.25 s)."""
        started = time.monotonic()
        state = "absent"
        while time.monotonic() - started < timeout:
            answer = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
            if answer.status_code == 200:
                state = str(answer.json()["state"])
                if state in states:
                    return time.monotonic() - started
            time.sleep(0.25)
        raise TimeoutError(f"run {run_id} still {state} after {timeout:.0f} s, not in {sorted(states)}")

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        state = "unknown"
        while time.monotonic() < deadline:
            state = self.run_state(dag_id, run_id)
            if state in TERMINAL:
                return state
            time.sleep(0.5)
        raise TimeoutError(f"run {run_id} still {state} after {timeout:.0f} s\n{self.logs()}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        answer = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        answer.raise_for_status()
        instances: list[dict[str, Any]] = answer.json()["task_instances"]
        return instances

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        return {ti["task_id"]: ti["state"] for ti in self.task_instances(dag_id, run_id)}

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        answer = self.call(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"full_content": "true"},
            headers={"Accept": "application/json"},
        )
        answer.raise_for_status()
        content = answer.json().get("content", [])
        if isinstance(content, str):
            return content
        return "\n".join(
            str(item.get("event", item)) if isinstance(item, dict) else str(item) for item in content
        )

    def clear_task(self, dag_id: str, run_id: str, task_ids: list[str]) -> None:
        """Clear task instances of a finished run (Airflow runs them again: a retry by hand)."""
        answer = self.call(
            "POST",
            f"/dags/{dag_id}/clearTaskInstances",
            json={
                "dry_run": False,
                "dag_run_id": run_id,
                "task_ids": task_ids,
                "only_failed": False,
                "reset_dag_runs": True,
            },
        )
        answer.raise_for_status()
