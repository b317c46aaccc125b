"""Render the per-analysis Grafana dashboard from `dashboards/analysis.json`.

The template is plain Grafana JSON with placeholder tokens (`__RO_NAMESPACE__`, ...). Rendering
substitutes them inside string values of the parsed document, never in the raw text, so a
company name with quotes cannot break the JSON. Namespace and name are Kubernetes names
(checked here), which is what makes them safe inside the panels' SQL and PromQL strings.
See dashboards/README.md for what each panel shows and which data source it reads.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from reviewops_operator.errors import ExternalError
from reviewops_operator.identity import AnalysisRef

ANALYSIS_TEMPLATE = "analysis.json"
OPERATOR_TEMPLATE = "operator.json"
# Kubernetes object names: lowercase alphanumerics, '-' and '.', no quotes or backslashes.
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


def default_template_dir() -> Path:
    """The repository's dashboards/ folder (the package lives in operator/reviewops_operator/)."""
    return Path(__file__).resolve().parents[2] / "dashboards"


@functools.cache
def load_template(path: Path) -> dict[str, Any]:
    """Parse a dashboard template once per process."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExternalError(
            "Grafana",
            "DashboardTemplateMissing",
            f"cannot read dashboard template {path} ({exc}); mount dashboards/ and set "
            "REVIEWOPS_DASHBOARD_TEMPLATE_DIR",
            transient=False,
        ) from exc
    if not isinstance(loaded, dict):
        raise ExternalError(
            "Grafana",
            "DashboardTemplateMissing",
            f"{path} is not a Grafana dashboard object",
            transient=False,
        )
    return loaded


def _substitute(node: Any, tokens: dict[str, str]) -> Any:
    if isinstance(node, str):
        for token, value in tokens.items():
            node = node.replace(token, value)
        return node
    if isinstance(node, list):
        return [_substitute(item, tokens) for item in node]
    if isinstance(node, dict):
        return {key: _substitute(value, tokens) for key, value in node.items()}
    return node


def render_analysis_dashboard(
    ref: AnalysisRef,
    *,
    company: str,
    uid: str,
    results_datasource: str,
    prometheus_datasource: str,
    template_dir: Path | None = None,
) -> dict[str, Any]:
    """The Grafana dashboard JSON of one analysis (uid fixed, `id` null for import)."""
    for label, value in (("namespace", ref.namespace), ("name", ref.name)):
        if not _K8S_NAME.match(value):
            raise ValueError(f"{label} {value!r} is not a Kubernetes object name")
    template = load_template((template_dir or default_template_dir()) / ANALYSIS_TEMPLATE)
    tokens = {
        "__RO_TITLE__": f"ReviewOps · {company} ({ref.key})",
        "__RO_ANALYSIS__": ref.key,  # runs.analysis in the results store is "namespace/name"
        "__RO_NAMESPACE__": ref.namespace,
        "__RO_NAME__": ref.name,
        "__RO_UID__": uid,
        "__RO_RESULTS_DS__": results_datasource,
        "__RO_PROMETHEUS_DS__": prometheus_datasource,
    }
    # _substitute builds new containers, so the cached template is never modified.
    rendered: dict[str, Any] = _substitute(template, tokens)
    return rendered
