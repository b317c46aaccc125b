"""The chart rendered by the real helm (built from Go modules by tests/cluster/build.sh).

Without the built binaries the chart tests skip, or fail when REVIEWOPS_REQUIRE_CONTROL_PLANE=1
(CI), like the cluster tests.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "reviewops"
FULL_VALUES = CHART / "ci" / "full-values.yaml"
RELEASE, NAMESPACE = "reviewops", "reviewops-system"
Manifest = dict[str, Any]


@functools.cache
def _helm() -> Path | str:
    from tests.cluster.controlplane import Binaries, Unavailable

    try:
        return Binaries.locate()["helm"]
    except (Unavailable, KeyError) as exc:
        return str(exc)


def helm_binary() -> Path:
    """The built helm, or skip (fail under REVIEWOPS_REQUIRE_CONTROL_PLANE=1)."""
    found = _helm()
    if isinstance(found, Path):
        return found
    if os.environ.get("REVIEWOPS_REQUIRE_CONTROL_PLANE") == "1":
        pytest.fail(f"REVIEWOPS_REQUIRE_CONTROL_PLANE=1 but helm is not built: {found}")
    pytest.skip(f"helm is not built (bash tests/cluster/build.sh): {found}")


def helm(
    *args: str, values: dict[str, Any] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run helm; `values` go in as `--values -` (YAML on stdin)."""
    command = [str(helm_binary()), *args]
    if values is not None:
        command += ["--values", "-"]
    done = subprocess.run(
        command,
        input=yaml.safe_dump(values) if values is not None else None,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            **os.environ,
            "HELM_CACHE_HOME": "/tmp/reviewops-helm-cache",
            "HELM_CONFIG_HOME": "/tmp/reviewops-helm-config",
        },
    )
    if check and done.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


def full_values() -> dict[str, Any]:
    """charts/reviewops/ci/full-values.yaml: every optional part switched on."""
    loaded: dict[str, Any] = yaml.safe_load(FULL_VALUES.read_text(encoding="utf-8"))
    return loaded


def render(
    values: dict[str, Any] | None = None,
    *,
    release: str = RELEASE,
    namespace: str = NAMESPACE,
    show_only: Sequence[str] = (),
    include_crds: bool = False,
) -> list[Manifest]:
    """`helm template` → the manifests, as dicts."""
    args = ["template", release, str(CHART), "--namespace", namespace]
    for template in show_only:
        args += ["--show-only", template]
    if include_crds:
        args.append("--include-crds")
    done = helm(*args, values=values or {})
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def refused(values: dict[str, Any]) -> str:
    """helm's error for values the chart must refuse (fails the test if helm accepts them)."""
    done = helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, values=values, check=False)
    assert done.returncode != 0, f"helm accepted {values}"
    return done.stderr


def one(manifests: list[Manifest], kind: str, name_suffix: str = "") -> Manifest:
    """The single manifest of a kind (whose name ends with `name_suffix`)."""
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"].endswith(name_suffix)]
    assert len(found) == 1, f"{len(found)} {kind} manifests ending with {name_suffix!r}"
    return found[0]
