"""Shared fixtures. Helpers for one area live in tests/support/<area>.py."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.cluster.fixtures"]  # the session-wide real control plane

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real Trustpilot pages and reviews); skips when a fresh clone lacks it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"real third-party data not found at {SHARED_DATA} (only CI and dev machines have it)"
        )
    return SHARED_DATA
