"""Shared fixtures. Helpers for one area live in tests/support/<area>.py."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.cluster.fixtures"]  # the session-wide real control plane

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real Trustpilot pages and reviews); skips when a fresh clone lacks it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real third-party data not found at {SHARED_DATA} (only CI and dev machines have it)")
    return SHARED_DATA


@pytest.fixture(autouse=True, scope="module")
def _mlflow_tracking_uri_stays_in_its_module() -> Iterator[None]:
    """`mlflow.set_tracking_uri` sets a process global and MLFLOW_TRACKING_URI; a test module that
    left them pointing at its (stopped) server made later modules' runs log there, or time out."""
    before = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    if "mlflow" in sys.modules:
        import mlflow

        mlflow.set_tracking_uri(before)  # None unsets the variable too
    if before is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = before
