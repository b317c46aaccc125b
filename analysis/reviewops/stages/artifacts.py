"""The intermediate artifact store of a DAG run: `<artifacts url>/<run id>/<stage>/<file>`.

Stages of one run exchange data here, never through XCom: Airflow's metadata database is no
place for 100k reviews, and a file per stage makes every stage a process with a visible input
and output that can be inspected, retried or rerun alone. The store is any fsspec URL (a local
folder, a shared volume, s3://, memory:// in tests). Formats are safe to read back: JSON, gzip
JSON lines, and numpy .npz loaded with allow_pickle=False. (The trained sentiment model is the
one exception: the project's joblib bundle, written and read by reviewops itself.)

Idempotence: a stage clears its own folder before writing, and writes `_stage.json` last. A
retried stage therefore replaces its outputs instead of adding to them, and a reader can tell a
finished stage from one that died halfway.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

# Airflow 3 accepts run ids made of these characters; anything else could escape the run folder.
_RUN_ID = re.compile(r"^[A-Za-z0-9_.~:+-]{1,250}$")
STAGE_MARKER = "_stage.json"


class ArtifactError(RuntimeError):
    """A stage's input is missing or unreadable; the message says which file and what to run."""


def check_run_id(run_id: str) -> str:
    """The run id, if it is safe as one path segment (Airflow's own character set)."""
    if not _RUN_ID.match(run_id) or run_id in {".", ".."}:
        raise ValueError(
            f"run id {run_id!r}: use 1-250 characters among A-Z a-z 0-9 _ . ~ : + - (Airflow's set)"
        )
    return run_id


class RunArtifacts:
    """The folder of one run in the artifact store, with typed readers and writers."""

    def __init__(self, url: str, run_id: str) -> None:
        import fsspec  # type: ignore[import-untyped]

        self.fs, root = fsspec.core.url_to_fs(url)
        self.root = f"{root.rstrip('/')}/{check_run_id(run_id)}"
        self.run_id = run_id

    @property
    def is_local(self) -> bool:
        """True when the store is this machine's file system (files can be used in place)."""
        from fsspec.implementations.local import LocalFileSystem  # type: ignore[import-untyped]

        return isinstance(self.fs, LocalFileSystem)

    def path(self, stage: str, name: str = "") -> str:
        return f"{self.root}/{stage}/{name}".rstrip("/")

    def url(self, stage: str, name: str = "") -> str:
        """The full URL of a file, for messages and summary fields."""
        return str(self.fs.unstrip_protocol(self.path(stage, name)))

    # --- a stage's lifecycle ---------------------------------------------------------------
    def begin(self, stage: str) -> None:
        """Forget what an earlier attempt of `stage` wrote, so a retry replaces it."""
        folder = self.path(stage)
        if self.fs.exists(folder):
            self.fs.rm(folder, recursive=True)
        self.fs.makedirs(folder, exist_ok=True)

    def finish(self, stage: str, seconds: float, **extra: Any) -> None:
        """Mark `stage` finished (written last: its presence means every output is complete)."""
        folder = self.fs._strip_protocol(self.path(stage)).rstrip("/") + "/"
        files = sorted(p.removeprefix(folder) for p in self.fs.find(folder) if not p.endswith(STAGE_MARKER))
        marker = {
            "stage": stage,
            "run_id": self.run_id,
            "seconds": round(seconds, 3),
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "files": files,
            **extra,
        }
        self.write_json(stage, STAGE_MARKER, marker)

    def marker(self, stage: str) -> dict[str, Any]:
        """`_stage.json` of a finished stage; ArtifactError when the stage did not finish."""
        if not self.fs.exists(self.path(stage, STAGE_MARKER)):
            raise ArtifactError(
                f"stage {stage!r} has not finished for run {self.run_id} "
                f"(no {self.url(stage, STAGE_MARKER)}): run `reviewops stage {stage}` first"
            )
        marker: dict[str, Any] = self.read_json(stage, STAGE_MARKER)
        return marker

    # --- bytes, JSON, JSON lines, arrays -----------------------------------------------------
    def write_bytes(self, stage: str, name: str, data: bytes) -> None:
        with self.fs.open(self.path(stage, name), "wb") as f:
            f.write(data)

    def read_bytes(self, stage: str, name: str) -> bytes:
        try:
            with self.fs.open(self.path(stage, name), "rb") as f:
                data: bytes = f.read()
        except FileNotFoundError as exc:
            raise ArtifactError(
                f"{self.url(stage, name)} is missing: run `reviewops stage {stage}` for run {self.run_id}"
            ) from exc
        return data

    def write_json(self, stage: str, name: str, data: Any) -> None:
        text = json.dumps(data, ensure_ascii=False, indent=1, default=_json_default)
        self.write_bytes(stage, name, text.encode("utf-8"))

    def read_json(self, stage: str, name: str) -> Any:
        try:
            return json.loads(self.read_bytes(stage, name))
        except ValueError as exc:
            raise ArtifactError(f"{self.url(stage, name)} is not valid JSON: {exc}") from exc

    def write_lines(self, stage: str, name: str, lines: Iterable[bytes]) -> int:
        """Write gzip'd JSON lines (each item one serialized JSON value); returns the count."""
        count = 0
        with (
            self.fs.open(self.path(stage, name), "wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=5, mtime=0) as f,
        ):
            for line in lines:
                f.write(line)
                f.write(b"\n")
                count += 1
        return count

    def read_lines(self, stage: str, name: str) -> Iterator[bytes]:
        """The JSON lines of a gzip'd file, one serialized value each."""
        data = self.read_bytes(stage, name)
        try:
            text = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ArtifactError(f"{self.url(stage, name)} is not a complete gzip file: {exc}") from exc
        for line in text.splitlines():
            if line.strip():
                yield line

    def write_arrays(self, stage: str, name: str, **arrays: Any) -> None:
        """Numeric or fixed-width string arrays as a compressed .npz (no pickled objects)."""
        import numpy as np

        buffer = io.BytesIO()
        plain: dict[str, Any] = {k: np.asarray(v) for k, v in arrays.items()}
        np.savez_compressed(buffer, **plain)
        self.write_bytes(stage, name, buffer.getvalue())

    def read_arrays(self, stage: str, name: str) -> dict[str, Any]:
        import numpy as np

        data = self.read_bytes(stage, name)
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                return {key: npz[key] for key in npz.files}
        except ValueError as exc:  # object arrays are refused: never unpickle a stored file
            raise ArtifactError(f"{self.url(stage, name)}: not a plain .npz ({exc})") from exc

    # --- files ---------------------------------------------------------------------------------
    def put_file(self, local: Path, stage: str, name: str) -> None:
        self.fs.put_file(str(local), self.path(stage, name))

    def get_file(self, stage: str, name: str, local: Path) -> Path:
        if not self.fs.exists(self.path(stage, name)):
            raise ArtifactError(f"{self.url(stage, name)} is missing for run {self.run_id}")
        self.fs.get_file(self.path(stage, name), str(local))
        return local

    def put_tree(self, local: Path, stage: str) -> list[str]:
        """Copy every file under `local` into the stage folder (same relative paths)."""
        copied = []
        for path in sorted(p for p in local.rglob("*") if p.is_file()):
            relative = path.relative_to(local).as_posix()
            parent = self.path(stage, relative).rsplit("/", 1)[0]
            self.fs.makedirs(parent, exist_ok=True)
            self.fs.put_file(str(path), self.path(stage, relative))
            copied.append(relative)
        return copied

    def local_folder(self, stage: str) -> Path | None:
        """The stage folder as a local Path when the store is local (outputs written in place)."""
        return Path(self.path(stage)) if self.is_local else None


def _json_default(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):  # numpy arrays
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
