"""Helpers of the end-to-end tests (tests/test_e2e_operator.py, test_e2e_schedule.py).

Their fixtures are in tests/support/e2e_fixtures.py.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

from tests.support.fake_airflow_payloads import DagRun
from tests.support.kube_client import load_manifests, wait_for
from tests.support.operator_harness import Stack

ROOT = Path(__file__).resolve().parents[2]
API = "reviewops.io/v1alpha1"
KIND = "ReviewAnalysis"
RESULT = {
    "reviews": 4812,
    "meanRating": 4.1,
    "sentiment": {"positive": 0.71, "neutral": 0.08, "negative": 0.21},
    "topTopics": ["delivery", "battery", "customer service"],
    "negativeDrivers": ["battery", "refund"],
    "macroF1": 0.83,
    "coherence": 0.61,
    "mlflowRunId": "0123456789abcdef",
}


def example(file: str, ns: str, **spec: Any) -> dict[str, Any]:
    """An example manifest moved to namespace `ns`, with spec fields overridden."""
    obj = copy.deepcopy(load_manifests(ROOT / "examples" / file)[0])
    obj["metadata"]["namespace"] = ns
    obj["spec"].update(spec)
    return obj


def get(stack: Stack, ns: str, name: str) -> dict[str, Any]:
    obj = stack.client.get(API, KIND, ns, name)
    assert obj is not None, f"{ns}/{name} does not exist"
    return obj


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [c for c in obj.get("status", {}).get("conditions", []) if c["type"] == kind]
    return found[0] if found else {}


def wait_status(
    stack: Stack, ns: str, name: str, check: Any, what: str, timeout: float = 30
) -> dict[str, Any]:
    """Wait until check(object) is true (a missing field, e.g. no status yet, is false)."""

    def passes() -> dict[str, Any] | None:
        obj = get(stack, ns, name)
        try:
            return obj if check(obj) else None
        except (KeyError, TypeError):
            return None

    return wait_for(passes, timeout, f"{ns}/{name}: {what}")


def runs_of(stack: Stack, ns: str) -> list[DagRun]:
    return [r for r in stack.airflow.all_runs() if r.conf["analysis"]["namespace"] == ns]


def posts_of(stack: Stack, ns: str) -> int:
    return sum(
        1
        for b in stack.airflow.trigger_posts
        if (b.get("conf") or {}).get("analysis", {}).get("namespace") == ns
    )


def wait_runs(stack: Stack, ns: str, count: int, timeout: float = 30) -> list[DagRun]:
    def enough() -> list[DagRun] | None:
        runs = runs_of(stack, ns)
        return runs if len(runs) >= count else None

    return wait_for(enough, timeout, f"{count} run(s) in {ns}")


def wait_event(stack: Stack, ns: str, name: str, reason: str, timeout: float = 30) -> list[dict[str, Any]]:
    """The object's Events with `reason`, once there is one. kopf posts Events in the
    background: one may land just after the status patch or the DAG run it reports."""

    def found() -> list[dict[str, Any]] | None:
        return [e for e in stack.client.events(ns, name) if e["reason"] == reason] or None

    return wait_for(found, timeout, f"a {reason} Event on {ns}/{name}")


def settle(stack: Stack) -> None:
    """Let the timer reconcile a few times before checking that something did *not* happen."""
    time.sleep(4 * stack.operator.interval)
