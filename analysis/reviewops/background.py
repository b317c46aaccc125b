"""Work that runs beside the rest of a run, on a forked child process.

A run is mostly one line of Python, so on a 2-core machine one core often waits. Some steps do
not need each other: the report and the SQL store both start from the summary; the phrases
that theme labels are chosen from depend on the texts and the term matrix, not on the fitted
model. The first of such a pair runs on a forked child while the run goes on with the second,
then takes the child's result. The child should touch little of the parent's data: each
object it reads is copied into it (reference counts are written), so at 1M reviews a child
that walks every review costs ~0.4 GB. (Sentiment beside topics was tried and dropped: the models'
sentiment keeps both cores busy itself, so both stages only slowed down.)

- The child inherits the data at no copying cost; `gc.freeze()` before the fork keeps its
  garbage collector from touching (and so copying) the parent's objects.
- Its progress reaches the caller's progress function, and its result or exception comes back
  pickled; an exception is raised again in the caller with the child's traceback as a note.
- It is not daemonic, so it may start worker processes of its own.
- Where fork is unavailable or unsafe (Windows, macOS' default), in a daemonic process (which
  may not have children), or when the run asks for one process, the work runs in the calling
  process at once: the results are the same either way.
"""

from __future__ import annotations

import gc
import multiprocessing
import pickle
import sys
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any, Generic, TypeVar

from reviewops.records import ProgressFn, no_progress

_T = TypeVar("_T")


class BackgroundError(RuntimeError):
    """The child ended without a result (killed, out of memory) or its result could not be sent."""


def can_fork() -> bool:
    """Whether work may go to a forked child here."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return False
    return not multiprocessing.current_process().daemon


class Background(Generic[_T]):
    """`function(progress)` computed on a forked child (or here, see the module docstring).

    Use it as a context manager: leaving the block early (an error in the caller's own work)
    stops the child. `result()` waits for the value, or raises the child's exception.
    """

    def __init__(
        self,
        name: str,
        function: Callable[[ProgressFn], _T],
        progress: ProgressFn = no_progress,
        *,
        fork: bool = True,
    ) -> None:
        self.name = name
        self.seconds = 0.0  # the work's own wall time
        self.forked = fork and can_fork()
        self._value: Any = None
        self._error: BaseException | None = None
        self._received = False
        self._process: BaseProcess | None = None
        self._listener: threading.Thread | None = None
        if not self.forked:
            start = time.perf_counter()
            try:
                self._value = function(progress)
            except Exception as exc:  # raised by result(), as from a child
                self._error = exc
            self.seconds = time.perf_counter() - start
            return
        reader, writer = multiprocessing.Pipe(duplex=False)
        gc.freeze()
        try:
            process = multiprocessing.get_context("fork").Process(
                target=_child, args=(function, writer), name=f"reviewops-{name}", daemon=False
            )
            process.start()
        finally:
            gc.unfreeze()
        writer.close()
        self._process = process
        self._listener = threading.Thread(target=self._listen, args=(reader, progress), daemon=True)
        self._listener.start()

    def _listen(self, reader: Connection, progress: ProgressFn) -> None:
        try:
            while True:
                kind, payload, seconds = reader.recv()
                if kind == "progress":
                    progress(payload)
                    continue
                self.seconds = seconds
                self._received = True
                if kind == "result":
                    self._value = payload
                else:
                    self._error = payload
                return
        except EOFError:
            pass  # no result: result() names the exit code
        except Exception as exc:  # an unpicklable message, a broken pipe
            self._error = BackgroundError(f"the {self.name} process' result could not be read: {exc}")
        finally:
            reader.close()

    def result(self) -> _T:
        """The value of the work; its exception, raised again here, if it failed."""
        if self._process is not None and self._listener is not None:
            self._listener.join()
            self._process.join()
            if not self._received and self._error is None:
                self._error = BackgroundError(
                    f"the {self.name} process ended without a result (exit code "
                    f"{self._process.exitcode}; a negative code is the signal that stopped it, "
                    "e.g. -9 when the system ran out of memory): run again, with fewer reviews "
                    "or --workers 1 to keep it in one process"
                )
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[no-any-return]

    def stop(self) -> None:
        """Stop the child if it still runs (the caller gave up on the result)."""
        process = self._process
        if process is not None and process.exitcode is None:
            process.terminate()
            process.join()

    def __enter__(self) -> Background[_T]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is not None:
            self.stop()
        elif self._process is not None:
            self._process.join()


def _child(function: Callable[[ProgressFn], Any], writer: Connection) -> None:
    """Run `function` and send its result or exception; progress goes out as it comes."""

    def progress(count: int) -> None:
        writer.send(("progress", count, 0.0))

    start = time.perf_counter()
    try:
        message: tuple[str, Any, float] = ("result", function(progress), 0.0)
    except BaseException as exc:  # every failure, KeyboardInterrupt too, must reach the parent
        message = ("error", _portable(exc), 0.0)
    message = (message[0], message[1], time.perf_counter() - start)
    try:
        writer.send(message)
    except Exception as exc:  # the result itself does not pickle
        writer.send(("error", BackgroundError(f"the result could not be sent back: {exc}"), message[2]))
    writer.close()


def _portable(exc: BaseException) -> BaseException:
    """`exc` as it can cross to the parent: itself when it pickles, with the child's traceback
    as a note; else a BackgroundError that names it."""
    where = "".join(traceback.format_exception(exc)).rstrip()
    try:
        copy = pickle.loads(pickle.dumps(exc))
    except Exception:
        return BackgroundError(f"{type(exc).__name__}: {exc}\n{where}")
    if isinstance(copy, BaseException):
        copy.add_note(f"(raised in a forked process)\n{where}")
        return copy
    return BackgroundError(f"{type(exc).__name__}: {exc}")  # pragma: no cover - a pickle oddity
