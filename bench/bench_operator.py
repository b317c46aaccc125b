"""Operator figures: apply -> DAG-run POST latency, reconcile throughput, RSS with many analyses.

    uv run python bench/bench_operator.py                  # 100 timed, 1,000 in total
    uv run python bench/bench_operator.py --objects 300    # quicker

The operator runs as `python -m reviewops_operator` in its own process (so its RSS is its own),
against the Kubernetes API emulator and the fake Airflow of tests/support (in this process) and
a real MLflow tracking server (sqlite backend), as in a cluster; `--mlflow embedded` points the
operator at the sqlite file instead (it then imports the whole mlflow package). Figures:

- latency: one-shot analyses created one at a time (every `--pace` s); the time from the create
  request to the fake Airflow receiving the DAG-run POST, p50 / p95 / max;
- first reconcile: all remaining analyses created at once; analyses/s until every one has a
  status (each first reconcile creates an MLflow experiment and a dashboard ConfigMap);
- steady state: reconciles/s from the operator's own `reviewops_reconcile_total` counter while
  timers tick every `--interval` s, with the operator's CPU share;
- memory: the operator's RSS (and peak) with every analysis loaded;
- duplicate trigger POSTs under load (must be 0: one POST per run).
The machine is shared (2 cores): expect noise of tens of percent between runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import requests

from reviewops_operator.identity import AnalysisRef, oneshot_run_id

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support holds the emulator and the fake Airflow

from tests.support import crd_schema  # noqa: E402
from tests.support.fake_airflow import FakeAirflow  # noqa: E402
from tests.support.kube import EmulatorServer  # noqa: E402
from tests.support.kube_client import KubeClient, wait_for  # noqa: E402
from tests.support.operator_harness import emulator_login, mlflow_store, operator_env  # noqa: E402

API, KIND, NS = "reviewops.io/v1alpha1", "ReviewAnalysis", "bench"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def analysis(name: str, scheduled: bool) -> dict[str, Any]:
    """A demo-source analysis: one-shot (runs at once) or daily (waits for 06:00)."""
    spec: dict[str, Any] = {"company": {"name": f"Company {name}"}, "source": {"type": "demo"}}
    if scheduled:
        spec.update(schedule="0 6 * * *", timeZone="Europe/Paris")
    return {"apiVersion": API, "kind": KIND, "metadata": {"name": name, "namespace": NS}, "spec": spec}


def memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in KiB."""
    fields = dict(re.findall(r"^(Vm\w+):\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M))
    return int(fields["VmRSS"]), int(fields["VmHWM"])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process."""
    parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def reconciles(metrics_url: str) -> float:
    """The operator's reconcile counter, all handlers summed."""
    text = requests.get(metrics_url, timeout=5).text
    return sum(float(v) for v in re.findall(r"^reviewops_reconcile_total\{[^}]*\} (\S+)$", text, re.M))


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _up(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False


@contextmanager
def mlflow_server(folder: Path) -> Iterator[str]:
    """A real MLflow tracking server on 127.0.0.1 (sqlite backend); yields its URL."""
    port = free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    command = [
        sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
        "--artifacts-destination", str(folder / "artifacts"),
    ]  # fmt: skip
    with (folder / "mlflow.log").open("w") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=out, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(f"{url}/health"), 120, "the MLflow server", every=0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # its web workers are in its process group
        server.wait(30)


@contextmanager
def operator_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m reviewops_operator` with `env`; stopped with SIGTERM, as Kubernetes would."""
    with log.open("w") as out:
        operator = subprocess.Popen(
            [sys.executable, "-m", "reviewops_operator"], env=env, stdout=out, stderr=out
        )
    try:
        yield operator
    finally:
        operator.send_signal(signal.SIGTERM)
        try:
            operator.wait(30)
        except subprocess.TimeoutExpired:
            operator.kill()
        if operator.returncode not in (0, -signal.SIGTERM):
            print(f"operator exited with {operator.returncode}; last log lines:")
            print("\n".join(log.read_text().splitlines()[-20:]))


def measure_latency(client: KubeClient, airflow: FakeAirflow, count: int, pace: float) -> list[float]:
    """Seconds from each one-shot's create request to its DAG-run POST, applied one at a time."""
    latencies = []
    for i in range(count):
        name = f"oneshot-{i:04d}"
        run_id = oneshot_run_id(AnalysisRef(NS, name), 1)
        applied = dt.datetime.now(dt.UTC)
        client.create(analysis(name, scheduled=False))
        lookup = partial(airflow.runs.get, ("review_analysis", run_id))
        triggered = wait_for(lookup, 30, f"the run of {name}", every=0.002)
        latencies.append((triggered.queued_at - applied).total_seconds())
        time.sleep(max(pace - latencies[-1], 0))
    return latencies


def measure_first_reconcile(client: KubeClient, burst: int, total: int) -> tuple[float, float]:
    """(seconds to create, seconds until every analysis has a status) for `burst` new analyses."""
    before = time.perf_counter()
    for i in range(burst):
        client.create(analysis(f"daily-{i:04d}", scheduled=True))
    created = time.perf_counter() - before

    def all_reconciled() -> bool:
        items = client.objects(API, KIND, NS)
        return len(items) == total and all(i.get("status", {}).get("observedGeneration") for i in items)

    # Listing 1,000 objects costs the emulator ~0.1 s: poll gently, or the bench measures itself.
    wait_for(all_reconciled, 1800, f"{total} analyses with a status", every=2.0)
    return created, time.perf_counter() - before


def measure_steady(metrics_url: str, pid: int, seconds: float) -> tuple[float, float]:
    """(reconciles/s, CPU share of one core) of the operator over `seconds`."""
    count0, cpu0, t0 = reconciles(metrics_url), cpu_seconds(pid), time.perf_counter()
    time.sleep(seconds)
    count1, cpu1, t1 = reconciles(metrics_url), cpu_seconds(pid), time.perf_counter()
    return (count1 - count0) / (t1 - t0), (cpu1 - cpu0) / (t1 - t0)


def run(objects: int, latency_objects: int, pace: float, interval: float, steady: float, mlflow: str) -> None:
    """Start everything, measure, print."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        EmulatorServer() as kube,
        FakeAirflow() as airflow,
        ExitStack() as stack,
    ):
        folder = Path(tmp)
        kube.call(lambda e: e.install_crd(crd_schema.load_crd()))
        client = KubeClient(kube)
        tracking = stack.enter_context(mlflow_server(folder)) if mlflow == "server" else mlflow_store(folder)
        port = free_port()
        env = {**os.environ, **operator_env(emulator_login(kube.url), airflow, tracking, interval)}
        env["REVIEWOPS_METRICS_PORT"] = str(port)
        metrics_url = f"http://127.0.0.1:{port}/metrics"
        operator = stack.enter_context(operator_process(env, folder / "operator.log"))
        wait_for(lambda: _up(metrics_url), 60, "the operator's /metrics", every=0.5)
        started = time.perf_counter()
        print(f"MLflow {mlflow} ({tracking}); operator pid {operator.pid} up")
        print(f"operator RSS idle: {memory_kib(operator.pid)[0] / 1024:.0f} MiB")

        latencies = measure_latency(client, airflow, latency_objects, pace)
        p50, p95 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.95) * 1000
        print(
            f"apply -> DAG-run POST over {len(latencies)} analyses: p50 {p50:.0f} ms,"
            f" p95 {p95:.0f} ms, max {max(latencies) * 1000:.0f} ms"
        )
        burst = objects - latency_objects
        created, first = measure_first_reconcile(client, burst, objects)
        print(
            f"first reconcile of {burst} analyses created at once ({created:.1f} s to create): "
            f"{first:.1f} s, {burst / first:.1f} analyses/s"
        )
        rate, cpu = measure_steady(metrics_url, operator.pid, steady)
        print(
            f"steady state with {objects} analyses, timer every {interval:g} s: {rate:.1f} reconciles/s "
            f"(ideal {objects / interval:.0f}/s), operator CPU {cpu * 100:.0f}% of one core"
        )
        rss, peak = memory_kib(operator.pid)
        print(f"operator RSS with {objects} analyses: {rss / 1024:.0f} MiB (peak {peak / 1024:.0f} MiB)")
        print(f"duplicate trigger POSTs: {airflow.trigger_count() - len(airflow.all_runs())}")
        print(f"total {time.perf_counter() - started:.0f} s; 2 shared cores, figures are noisy")


def main() -> None:
    """Parse options and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=1000, help="analyses in total (default 1000)")
    parser.add_argument("--latency-objects", type=int, default=100, help="one-shots timed one by one")
    parser.add_argument("--pace", type=float, default=0.25, help="seconds between two timed applies")
    parser.add_argument("--interval", type=float, default=10.0, help="timer interval of the operator (s)")
    parser.add_argument("--steady", type=float, default=30.0, help="seconds of steady-state measurement")
    parser.add_argument("--mlflow", choices=["server", "embedded"], default="server", help="MLflow mode")
    args = parser.parse_args()
    if args.latency_objects > args.objects:
        parser.error("--latency-objects cannot exceed --objects")
    run(args.objects, args.latency_objects, args.pace, args.interval, args.steady, args.mlflow)


if __name__ == "__main__":
    main()
