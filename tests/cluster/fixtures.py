"""The session-wide control plane fixture: `pytest_plugins = ["tests.cluster.fixtures"]`.

Skips with the reason when the binaries are not built (tests/cluster/build.sh); CI sets
REVIEWOPS_REQUIRE_CONTROL_PLANE=1 so that a missing build fails instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.cluster.controlplane import Binaries, ControlPlane, Unavailable

REQUIRE = "REVIEWOPS_REQUIRE_CONTROL_PLANE"


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    """A real kube-apiserver + etcd + controller-manager + scheduler + kwok, for the session."""
    try:
        binaries = Binaries.locate()
    except Unavailable as exc:
        if os.environ.get(REQUIRE) == "1":
            pytest.fail(f"{REQUIRE}=1 but {exc}")
        pytest.skip(str(exc))
    with ControlPlane(binaries=binaries) as plane:
        yield plane
