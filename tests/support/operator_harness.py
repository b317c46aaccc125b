"""Run the real reviewops operator (kopf) in a thread against an API server and the fake Airflow.

The operator is configured only through its REVIEWOPS_* environment, as in a cluster. The
Kubernetes API is either the emulator (REVIEWOPS_KUBERNETES_API_URL, read by the operator's own
`@kopf.on.login`; no scanning, since the emulator cannot list namespaces) or the real control
plane of tests/cluster, where the operator logs in through KUBECONFIG with the token of its
ServiceAccount, bound to the chart's RBAC and nothing more (scanning on, as in a cluster).
Airflow is tests/support/fake_airflow.py, MLflow is a real embedded store (sqlite in a temporary
folder), Grafana dashboards are ConfigMaps. kopf runs with `kopf.operator(...)` in its own thread
and event loop with a stop flag, standalone unless `env` says otherwise.

`OperatorProcess` runs the operator as a real process instead (`python -m reviewops_operator`,
as the image does), for what a thread cannot show: several replicas, SIGKILL, SIGTERM.

`Clock` lets a test move the operator's "now" (the handlers read `dt.datetime.now(dt.UTC)`), to
cross a DST change or a missed window without waiting for real time to pass.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support import crd_schema
from tests.support.fake_airflow import FakeAirflow
from tests.support.kube import EmulatorServer
from tests.support.kube_client import ApiServer, KubeClient

if TYPE_CHECKING:
    from tests.cluster.controlplane import ControlPlane

INTERVAL_VARIABLE = "REVIEWOPS_RECONCILE_INTERVAL_SECONDS"


def emulator_login(url: str) -> dict[str, str]:
    """How the operator reaches the emulator: a plain URL, no namespace scanning."""
    return {"REVIEWOPS_KUBERNETES_API_URL": url, "REVIEWOPS_SCANNING": "false"}


def operator_env(
    kube_login: dict[str, str], airflow: FakeAirflow, mlflow_uri: str, interval: float
) -> dict[str, str]:
    """The REVIEWOPS_* environment of an operator wired to the test servers."""
    return {
        **kube_login,
        "REVIEWOPS_AIRFLOW_URL": airflow.url,
        "REVIEWOPS_AIRFLOW_USERNAME": airflow.username,
        "REVIEWOPS_AIRFLOW_PASSWORD": airflow.password,
        "REVIEWOPS_AIRFLOW_DAG_ID": "review_analysis",
        "REVIEWOPS_AIRFLOW_TIMEOUT_SECONDS": "1",
        "REVIEWOPS_MLFLOW_TRACKING_URI": mlflow_uri,
        "REVIEWOPS_MLFLOW_TIMEOUT_SECONDS": "5",
        "REVIEWOPS_GRAFANA_MODE": "configmap",
        "REVIEWOPS_GRAFANA_URL": "http://grafana.example:3000",
        INTERVAL_VARIABLE: str(interval),
        "REVIEWOPS_RETRY_BASE_SECONDS": "0.5",
        "REVIEWOPS_RETRY_MAX_SECONDS": "2",
        "REVIEWOPS_STANDALONE": "true",
        "REVIEWOPS_METRICS_PORT": "0",
        "REVIEWOPS_HEALTH_PORT": "0",
    }


_MLFLOW_TEMPLATE: list[Path] = []  # one migrated empty store per process


def mlflow_store(folder: Path) -> str:
    """An empty embedded MLflow store (sqlite) in `folder`; returns its tracking URI.

    Creating MLflow's tables takes ~10 s (schema migrations); the first store is migrated once
    and later ones are copies of it.
    """
    if not _MLFLOW_TEMPLATE:
        from mlflow import MlflowClient

        template = Path(tempfile.mkdtemp(prefix="reviewops-mlflow-")) / "mlflow.db"
        MlflowClient(tracking_uri=f"sqlite:///{template}").search_experiments()
        _MLFLOW_TEMPLATE.append(template)
    target = folder / "mlflow.db"
    shutil.copyfile(_MLFLOW_TEMPLATE[0], target)
    return f"sqlite:///{target}"


class Clock:
    """A settable clock for the operator's handlers; install() before the operator starts."""

    def __init__(self, start: dt.datetime) -> None:
        self.moment = start
        self._saved: Any = None

    def set(self, moment: dt.datetime) -> None:
        """Jump to `moment` (timezone-aware)."""
        self.moment = moment

    def install(self) -> None:
        """Make `reviewops_operator.handlers` read this clock."""
        from reviewops_operator import handlers

        clock = self

        class ClockDatetime(dt.datetime):
            @classmethod
            def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
                return clock.moment.astimezone(tz) if tz else clock.moment.replace(tzinfo=None)

        namespace = vars(handlers)
        if namespace.get("dt") is not dt:
            raise RuntimeError("reviewops_operator.handlers no longer reads time as `dt.datetime.now`")
        shim = types.SimpleNamespace(**{k: getattr(dt, k) for k in dir(dt) if not k.startswith("__")})
        shim.datetime = ClockDatetime
        self._saved = namespace["dt"]
        namespace["dt"] = shim

    def uninstall(self) -> None:
        """Give the handlers the real clock back."""
        from reviewops_operator import handlers

        if self._saved is not None:
            vars(handlers)["dt"] = self._saved
            self._saved = None


def _register_handlers(interval: float) -> Any:
    """Import the operator's handlers; make their timers tick every `interval` seconds.

    The operator reads its timer interval from the environment at import time. When another
    test module imported the handlers first, the timers keep that interval; re-time them here
    so the end-to-end tests do not depend on import order.
    """
    import kopf

    import reviewops_operator.handlers  # noqa: F401  (registers the handlers)

    registry = kopf.get_default_registry()
    timers: list[Any] = registry._spawning._handlers  # kopf has no public way to re-time a timer
    for i, handler in enumerate(timers):
        if getattr(handler, "interval", None) not in (None, interval):
            timers[i] = dataclasses.replace(handler, interval=interval, initial_delay=interval)
    return registry


class OperatorHarness:
    """The operator running in a background thread; `with OperatorHarness(...) as op:`."""

    def __init__(
        self,
        kube_login: dict[str, str],
        airflow: FakeAirflow,
        mlflow_uri: str,
        interval: float = 1.0,
        env: dict[str, str] | None = None,
        error_backoffs: tuple[float, ...] | None = None,
    ) -> None:
        self.env = {**operator_env(kube_login, airflow, mlflow_uri, interval), **(env or {})}
        # kopf retries a failed API call (403 included) after each of these delays; its default
        # (1, 1, 2, 3, 5, 8, 13, 21) makes a refused peering goodbye hold the stop for 54 s.
        self.error_backoffs = error_backoffs
        self.interval = interval
        self._saved_env: dict[str, str | None] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self.starts = 0

    def __enter__(self) -> OperatorHarness:
        for key, value in self.env.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        from reviewops_operator.settings import reset_settings

        reset_settings()

    def start(self) -> None:
        """Start kopf and wait until it is ready (its startup handlers ran)."""
        import kopf

        from reviewops_operator.settings import reset_settings

        reset_settings()
        registry = _register_handlers(self.interval)
        settings = kopf.OperatorSettings()
        settings.background.instant_exit_timeout = 0.5
        settings.watching.reconnect_backoff = 0.1
        if self.error_backoffs is not None:
            settings.networking.error_backoffs = self.error_backoffs
        self._stop = threading.Event()
        ready = threading.Event()
        self._failure = None

        def run() -> None:
            try:
                asyncio.run(
                    kopf.operator(
                        registry=registry,
                        settings=settings,
                        clusterwide=True,
                        standalone=True,
                        stop_flag=self._stop,
                        ready_flag=ready,
                    )
                )
            except BaseException as exc:  # reported by start() or stop(), not lost in the thread
                self._failure = exc
                ready.set()

        self._thread = threading.Thread(target=run, name="reviewops-operator", daemon=True)
        self._thread.start()
        if not ready.wait(60) or self._failure is not None:
            raise RuntimeError(f"the operator did not start: {self._failure!r}")
        self.starts += 1

    def stop(self) -> None:
        """Stop kopf (as a pod being terminated would) and wait for its thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
            if self._thread.is_alive():
                raise RuntimeError("the operator did not stop within 30 s")
        if self._failure is not None:
            raise RuntimeError(f"the operator crashed: {self._failure!r}") from self._failure

    def alive(self) -> bool:
        """Whether kopf is still running (a crash ends its thread)."""
        return self._thread is not None and self._thread.is_alive()

    def restart(self) -> None:
        """Stop and start again: in-memory state is lost, as after a pod restart."""
        self.stop()
        self.start()


class OperatorProcess:
    """`python -m reviewops_operator` in its own process, logging to `log_path`.

    The environment is the test process' own minus every REVIEWOPS_* variable, plus
    `operator_env(...)` and `env`; `POD_ID` (kopf's identity in peering objects) is `name`.
    """

    def __init__(
        self,
        name: str,
        folder: Path,
        kube_login: dict[str, str],
        airflow: FakeAirflow,
        mlflow_uri: str,
        interval: float = 1.0,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.log_path = folder / f"operator-{name}.log"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWOPS_")}
        self.env = {
            **inherited,
            **operator_env(kube_login, airflow, mlflow_uri, interval),
            **(env or {}),
            "POD_ID": name,
            "PYTHONUNBUFFERED": "1",
        }
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        """Start the process (returns at once; see `wait_log`)."""
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "reviewops_operator"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def log(self) -> str:
        """Everything the process logged so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def wait_log(self, needle: str, timeout: float, count: int = 1) -> float:
        """Wait until `needle` occurs `count` times in the log; returns time.monotonic() then."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log().count(needle) >= count:
                return time.monotonic()
            if not self.alive():
                raise RuntimeError(f"operator {self.name} exited; log tail:\n{self.log()[-3000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"operator {self.name}: {needle!r} not logged within {timeout} s; "
                           f"log tail:\n{self.log()[-3000:]}")  # fmt: skip

    def signal(self, number: signal.Signals) -> None:
        """Send a signal (SIGKILL: no goodbye at all; SIGTERM: kopf's graceful exit)."""
        if self._process is not None:
            self._process.send_signal(number)

    def wait(self, timeout: float) -> int:
        """Wait for the exit; its return code."""
        assert self._process is not None
        return self._process.wait(timeout)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds; a no-op once it has exited."""
        if not self.alive():
            return
        assert self._process is not None
        self._process.terminate()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)


@dataclasses.dataclass
class Stack:
    """Everything an end-to-end test talks to."""

    kube: ApiServer
    client: KubeClient
    airflow: FakeAirflow
    operator: OperatorHarness
    mlflow_uri: str
    cluster: ControlPlane | None = None  # the real control plane, None on the emulator

    @property
    def backend(self) -> str:
        """Either "emulator" or "cluster"."""
        return "emulator" if self.cluster is None else "cluster"

    def create_namespace(self, name: str) -> None:
        """Namespaces exist on a real server only once created (the emulator takes any name)."""
        if self.cluster is not None:
            self.client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    def delete_namespace(self, name: str) -> None:
        """Delete a namespace created by `create_namespace` (the controller-manager empties it)."""
        if self.cluster is not None:
            self.client.delete("v1", "Namespace", None, name)


@contextmanager
def running_stack(
    folder: Path, interval: float = 0.5, cluster: ControlPlane | None = None
) -> Iterator[Stack]:
    """An API server with the CRD (the emulator, or `cluster`), the fake Airflow, an MLflow
    store in `folder`, and the operator."""
    with FakeAirflow() as airflow:
        uri = mlflow_store(folder)
        if cluster is None:
            with EmulatorServer() as kube:
                kube.call(lambda e: e.install_crd(crd_schema.load_crd()))
                with OperatorHarness(emulator_login(kube.url), airflow, uri, interval=interval) as operator:
                    yield Stack(kube, KubeClient(kube), airflow, operator, uri)
        else:
            from tests.cluster.operator_identity import install_crd, operator_login

            install_crd(cluster)
            login = operator_login(cluster, folder)
            with OperatorHarness(login, airflow, uri, interval=interval) as operator:
                yield Stack(cluster, KubeClient(cluster), airflow, operator, uri, cluster)
