"""Forked worker processes for the CPU-bound steps of the supervised model (fits, labelling).

Threads do not help there: labelling is Python code (the GIL), and liblinear's random
generator is one per process (see `model._LIBLINEAR`), so SVM fits in threads must take
turns. Forked processes inherit the model and the data at no copying cost; `gc.freeze()`
before the fork keeps the workers' garbage collector from touching (and so copying) every
object of the parent, which is what made an earlier forked labelling use twice the memory.
Each result is the same as in one process: a fit seeds liblinear itself, and a text's label
depends on that text alone.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.pool import Pool
from typing import Any

# At most this many processes (the reference machines have 2 cores).
MAX_WORKERS = 2

_STATE: Any = None


def worker_count(wanted: int = MAX_WORKERS) -> int:
    """Processes to use: 1 where fork is unavailable, in a daemonic process, or on one CPU."""
    if wanted < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if multiprocessing.current_process().daemon:  # a daemonic process may not have children
        return 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(wanted, usable or 1))


@contextmanager
def forked_pool(state: Any, workers: int) -> Iterator[Pool]:
    """A pool of `workers` forked processes that see `state` through `shared_state()`."""
    global _STATE
    _STATE = state
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield pool
    finally:
        _STATE = None
        gc.unfreeze()


def shared_state() -> Any:
    """What `forked_pool` gave its workers."""
    if _STATE is None:  # pragma: no cover - only reached in a worker of forked_pool
        raise RuntimeError("no forked_pool state in this process")
    return _STATE
