"""A real Prometheus (Debian's `prometheus`) on 127.0.0.1, scraping the way a ServiceMonitor does.

`service_monitor_job` turns a ServiceMonitor endpoint into the scrape job the Prometheus Operator
generates for it (pkg/prometheus/promcfg.go, generateServiceMonitorConfig: keep the Service by
its selector labels and the endpoint by port name, then set namespace/service/pod/container/job/
endpoint from the discovery labels, with the endpoint's honorLabels and relabelings). Kubernetes
service discovery is replaced by a static target carrying the `__meta_kubernetes_*` labels the
endpoints role would give the chart's Service and pod, so the relabelling is Prometheus' own.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.support.servers import free_port, missing


def _label(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def service_monitor_job(
    monitor: Mapping[str, Any],
    service: Mapping[str, Any],
    *,
    target: str,
    pod: str,
    container: str = "operator",
    scrape_interval: str = "1s",
) -> dict[str, Any]:
    """The scrape job of the ServiceMonitor's first endpoint, for one pod behind `service`."""
    endpoint = monitor["spec"]["endpoints"][0]
    namespace = service["metadata"]["namespace"]
    port = next(p for p in service["spec"]["ports"] if p.get("name") == endpoint["port"])
    discovered = {
        "__meta_kubernetes_namespace": namespace,
        "__meta_kubernetes_service_name": service["metadata"]["name"],
        "__meta_kubernetes_endpoint_port_name": port["name"],
        "__meta_kubernetes_endpoint_address_target_kind": "Pod",
        "__meta_kubernetes_endpoint_address_target_name": pod,
        "__meta_kubernetes_pod_name": pod,
        "__meta_kubernetes_pod_container_name": container,
        "__meta_kubernetes_pod_phase": "Running",
    }
    for key, value in service["metadata"].get("labels", {}).items():
        discovered[f"__meta_kubernetes_service_label_{_label(key)}"] = value
        discovered[f"__meta_kubernetes_service_labelpresent_{_label(key)}"] = "true"
    relabel: list[dict[str, Any]] = [
        {"source_labels": ["job"], "target_label": "__tmp_prometheus_job_name"},
    ]
    for key, value in sorted(monitor["spec"]["selector"].get("matchLabels", {}).items()):
        relabel.append(
            {
                "action": "keep",
                "source_labels": [
                    f"__meta_kubernetes_service_label_{_label(key)}",
                    f"__meta_kubernetes_service_labelpresent_{_label(key)}",
                ],
                "regex": f"({value});true",
            }
        )
    kinds = [
        "__meta_kubernetes_endpoint_address_target_kind",
        "__meta_kubernetes_endpoint_address_target_name",
    ]
    relabel += [
        {
            "action": "keep",
            "source_labels": ["__meta_kubernetes_endpoint_port_name"],
            "regex": endpoint["port"],
        },
        {
            "source_labels": kinds,
            "separator": ";",
            "regex": "Node;(.*)",
            "replacement": "${1}",
            "target_label": "node",
        },
        {
            "source_labels": kinds,
            "separator": ";",
            "regex": "Pod;(.*)",
            "replacement": "${1}",
            "target_label": "pod",
        },
        {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "service"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
        {"action": "drop", "source_labels": ["__meta_kubernetes_pod_phase"], "regex": "(Failed|Succeeded)"},
        {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "job", "replacement": "${1}"},
        {"target_label": "endpoint", "replacement": endpoint["port"]},
        *[_relabel(r) for r in endpoint.get("relabelings", [])],
    ]
    return {
        "job_name": f"serviceMonitor/{monitor['metadata']['namespace']}/{monitor['metadata']['name']}/0",
        "honor_labels": bool(endpoint.get("honorLabels", False)),
        "scrape_interval": scrape_interval,
        "metrics_path": endpoint.get("path", "/metrics"),
        "static_configs": [{"targets": [target], "labels": discovered}],
        "relabel_configs": relabel,
        "metric_relabel_configs": [_relabel(r) for r in endpoint.get("metricRelabelings", [])],
    }


def _relabel(rule: Mapping[str, Any]) -> dict[str, Any]:
    # monitoring.coreos.com RelabelConfig (camelCase) → Prometheus relabel_config (snake_case).
    names = {"sourceLabels": "source_labels", "targetLabel": "target_label"}
    return {names.get(k, k): v for k, v in rule.items()}


class Prometheus:
    """A Prometheus process; `with Prometheus(folder, jobs, rules) as prom: prom.query(...)`."""

    def __init__(
        self, folder: Path, jobs: list[dict[str, Any]], rule_files: list[Path] | None = None
    ) -> None:
        self.folder = folder
        self.jobs = jobs
        self.rule_files = rule_files or []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Prometheus:
        binary = shutil.which("prometheus")
        if binary is None:
            missing("prometheus not installed (apt-get install prometheus)")
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in self.rule_files],
            "scrape_configs": self.jobs,
        }
        path = self.folder / "prometheus.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        log = (self.folder / "prometheus.log").open("wb")
        self._process = subprocess.Popen(
            [
                str(binary),
                f"--config.file={path}",
                f"--storage.tsdb.path={self.folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self.log()[-2000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/-/ready", timeout=2).ok:
                    return self
            time.sleep(0.2)
        self.__exit__()
        raise TimeoutError("prometheus did not become ready within 60 s")

    def __exit__(self, *_: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
            self._process = None

    def log(self) -> str:
        return (self.folder / "prometheus.log").read_text(encoding="utf-8", errors="replace")

    def api(self, path: str, **params: Any) -> Any:
        """GET /api/v1/<path>; returns `data`, raises with Prometheus' error otherwise."""
        answer = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=10).json()
        if answer.get("status") != "success":
            raise AssertionError(f"{path} {params}: {answer.get('errorType')}: {answer.get('error')}")
        return answer["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result vector."""
        data = self.api("query", query=expr)
        result: list[dict[str, Any]] = data["result"] if data["resultType"] in ("vector", "matrix") else []
        return result

    def query_range(self, expr: str, seconds: float, step: float = 1.0) -> list[dict[str, Any]]:
        """A range query over the last `seconds` (what a time-series panel runs)."""
        end = time.time()
        data = self.api("query_range", query=expr, start=end - seconds, end=end, step=step)
        result: list[dict[str, Any]] = data["result"]
        return result

    def wait_for(self, expr: str, timeout: float = 60) -> list[dict[str, Any]]:
        """Poll an instant query until it returns something."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.query(expr)
            if found:
                return found
            time.sleep(0.5)
        raise TimeoutError(f"prometheus never answered {expr!r}; log tail: {self.log()[-1500:]}")


@contextlib.contextmanager
def running(
    folder: Path, jobs: list[dict[str, Any]], rule_files: list[Path] | None = None
) -> Iterator[Prometheus]:
    """Shorthand for `with Prometheus(...)`."""
    with Prometheus(folder, jobs, rule_files) as prometheus:
        yield prometheus
