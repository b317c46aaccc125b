"""An HTTP fake of the part of Airflow 3's REST API the operator calls, on 127.0.0.1.

Routes, payloads, status codes and error details follow apache-airflow 3.3.2's FastAPI routes and
its generated OpenAPI document (tests/test_e2e_fake_airflow.py validates the fake's answers against
that document and drives the fake with apache-airflow-client 3.3.2):

    POST  /auth/token                                   201 {access_token} (HS512 JWT), 400, 401
    GET   /api/v2/dags/{dag_id}                         DAGResponse, 404
    PATCH /api/v2/dags/{dag_id}?update_mask=is_paused   DAGResponse, 400, 404
    POST  /api/v2/dags/{dag_id}/dagRuns                 DAGRunResponse, 404, 409 duplicate, 422
    GET   /api/v2/dags/{dag_id}/dagRuns/{run_id}        DAGRunResponse, 404
    PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}        DAGRunResponse (state, note), 404, 422
    GET   .../dagRuns/{run_id}/taskInstances/{task}/xcomEntries/{key}   XComResponseNative, 404
    GET   .../dagRuns/{run_id}/taskInstances?state=failed             TaskInstanceCollectionResponse

Every /api/v2 call needs `Authorization: Bearer <token>`: 401 "Not authenticated" without one,
401 "Token Expired", 403 "Invalid JWT token". Runs never move by themselves: a test starts,
completes (with the `publish` task's XCom `return_value`) or fails them. `outage` makes every
call answer 503 or hang (until the outage ends) to simulate Airflow being down.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.fake_airflow_payloads import (
    DagRun,
    Json,
    b64,
    dag_response,
    now,
    problem,
    task_instance,
    unique_violation,
    xcom_entry,
)

PUBLISH_TASK = "publish"
_HANG_SECONDS = 60.0


class HttpAnswer(Exception):
    """An HTTP error answer (FastAPI's HTTPException shape: {"detail": ...})."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail


_TRIGGER_FIELDS = {
    "dag_run_id",
    "data_interval_start",
    "data_interval_end",
    "logical_date",
    "run_after",
    "conf",
    "note",
    "partition_key",
}
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"^/auth/token$"), "token"),
    ("GET", re.compile(r"^/api/v2/dags/(?P<dag>[^/]+)$"), "get_dag"),
    ("PATCH", re.compile(r"^/api/v2/dags/(?P<dag>[^/]+)$"), "patch_dag"),
    ("POST", re.compile(r"^/api/v2/dags/(?P<dag>[^/]+)/dagRuns$"), "trigger"),
    ("GET", re.compile(r"^/api/v2/dags/(?P<dag>[^/]+)/dagRuns/(?P<run>[^/]+)$"), "get_run"),
    ("PATCH", re.compile(r"^/api/v2/dags/(?P<dag>[^/]+)/dagRuns/(?P<run>[^/]+)$"), "patch_run"),
    (
        "GET",
        re.compile(
            r"^/api/v2/dags/(?P<dag>[^/]+)/dagRuns/(?P<run>[^/]+)/taskInstances/(?P<task>[^/]+)"
            r"/xcomEntries/(?P<key>[^/]+)$"
        ),
        "get_xcom",
    ),
    (
        "GET",
        re.compile(r"^/api/v2/dags/(?P<dag>[^/]+)/dagRuns/(?P<run>[^/]+)/taskInstances$"),
        "task_instances",
    ),
]


class FakeAirflow:
    """The fake server and its state; use as a context manager (`with FakeAirflow() as airflow`)."""

    def __init__(
        self,
        username: str = "admin",
        password: str = "admin",
        dag_ids: tuple[str, ...] = ("review_analysis",),
        token_ttl_seconds: int = 3600,
    ) -> None:
        self.username, self.password = username, password
        self.token_ttl_seconds = token_ttl_seconds
        self.paused = dict.fromkeys(dag_ids, True)  # new DAGs start paused, as in Airflow
        self.runs: dict[tuple[str, str], DagRun] = {}
        self.trigger_posts: list[Json] = []  # every POST .../dagRuns body, accepted or not
        self.calls: list[tuple[str, str, int]] = []  # (method, path, status) of every request
        self.outage: str | None = None  # None, "503" or "hang"
        self._secret = secrets.token_bytes(64)
        self._lock = threading.Lock()
        self._outage_over = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> FakeAirflow:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._serve(self)

            def do_POST(self) -> None:
                fake._serve(self)

            def do_PATCH(self) -> None:
                fake._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the fake records calls in `calls` instead of printing them."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-airflow", daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def __exit__(self, *_: object) -> None:
        self.end_outage()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- test controls -----------------------------------------------------------------------

    def start_outage(self, mode: str = "503") -> None:
        """Make every call answer 503 ("503") or hang until end_outage() ("hang")."""
        if mode not in ("503", "hang"):
            raise ValueError(f"outage mode must be '503' or 'hang', not {mode!r}")
        self._outage_over.clear()
        self.outage = mode

    def end_outage(self) -> None:
        """Airflow is back."""
        self.outage = None
        self._outage_over.set()

    def run(self, run_id: str, dag_id: str = "review_analysis") -> DagRun:
        """A stored run (KeyError naming the known runs when absent)."""
        with self._lock:
            try:
                return self.runs[(dag_id, run_id)]
            except KeyError:
                raise KeyError(f"no run {run_id!r}; known: {sorted(r for _, r in self.runs)}") from None

    def start_run(self, run_id: str, dag_id: str = "review_analysis") -> None:
        """queued -> running."""
        run = self.run(run_id, dag_id)
        run.state, run.start_date = "running", now()

    def complete_run(self, run_id: str, result: Json, dag_id: str = "review_analysis") -> None:
        """-> success, with `result` as the publish task's XCom return_value."""
        run = self.run(run_id, dag_id)
        run.start_date = run.start_date or now()
        run.xcom[(PUBLISH_TASK, "return_value")] = result
        run.state, run.end_date = "success", now()

    def fail_run(
        self, run_id: str, dag_id: str = "review_analysis", task: str | None = None, tries: int = 1
    ) -> None:
        """-> failed (no XCom); `task` is the task instance that failed, after `tries` tries."""
        run = self.run(run_id, dag_id)
        run.start_date = run.start_date or now()
        run.state, run.end_date = "failed", now()
        if task is not None:
            run.failed_tasks.append((task, tries, tries - 1))

    def all_runs(self) -> list[DagRun]:
        """Every stored run, in trigger order (a snapshot: safe while the server adds runs)."""
        with self._lock:
            return sorted(self.runs.values(), key=lambda r: r.queued_at)

    def add_run(self, run: DagRun) -> None:
        """Store a run as if it had been triggered earlier (e.g. before an operator crash)."""
        with self._lock:
            self.runs[(run.dag_id, run.run_id)] = run

    def trigger_count(self, run_id: str | None = None) -> int:
        """How many trigger POSTs arrived (for one dag_run_id, or all)."""
        return sum(1 for b in self.trigger_posts if run_id is None or b.get("dag_run_id") == run_id)

    def wait_for_runs(self, count: int, timeout: float = 20.0) -> list[DagRun]:
        """Block until at least `count` runs exist; they come back in trigger order."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.all_runs()
            if len(runs) >= count:
                return runs
            time.sleep(0.05)
        raise TimeoutError(f"expected {count} DAG runs within {timeout}s, got {len(self.runs)}")

    # --- HTTP --------------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        path, query = unquote(url.path), parse_qs(url.query)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        status, body = 500, {"detail": "unhandled"}
        try:
            if self.outage == "hang":
                self._outage_over.wait(_HANG_SECONDS)
            if self.outage is not None:
                raise HttpAnswer(503, "Service Unavailable")
            for method, pattern, name in ROUTES:
                match = pattern.match(path)
                if match and method == handler.command:
                    if name != "token":
                        self._authenticate(handler.headers.get("Authorization", ""))
                    status, body = getattr(self, f"_{name}")(match.groupdict(), query, raw, handler)
                    break
            else:
                raise HttpAnswer(
                    404 if not any(p.match(path) for _, p, _ in ROUTES) else 405,
                    "Not Found" if not any(p.match(path) for _, p, _ in ROUTES) else "Method Not Allowed",
                )
        except HttpAnswer as answer:
            status, body = answer.status, {"detail": answer.detail}
        data = json.dumps(body).encode()
        self.calls.append((handler.command, path, status))
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to answer

    def _json(self, raw: bytes, handler: BaseHTTPRequestHandler) -> Json:
        try:
            if "form-urlencoded" in handler.headers.get("Content-Type", ""):
                return {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            body = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise HttpAnswer(
                422, [{"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error", "input": {}}]
            ) from None
        if not isinstance(body, dict):
            raise HttpAnswer(
                422,
                [
                    {
                        "type": "model_attributes_type",
                        "loc": ["body"],
                        "msg": "Input should be a valid dictionary or object",
                        "input": body,
                    }
                ],
            )
        return body

    def _token(
        self, _: dict[str, str], __: dict[str, list[str]], raw: bytes, handler: BaseHTTPRequestHandler
    ) -> tuple[int, Json]:
        body = self._json(raw, handler)
        if not body.get("username") or not body.get("password"):
            raise HttpAnswer(400, "Username and password must be provided")
        if body["username"] != self.username or not hmac.compare_digest(body["password"], self.password):
            raise HttpAnswer(401, "Invalid credentials")
        issued = int(time.time())
        header = b64(json.dumps({"alg": "HS512", "typ": "JWT"}).encode())
        claims = b64(
            json.dumps(
                {
                    "sub": self.username,
                    "role": "ADMIN",
                    "iat": issued,
                    "nbf": issued,
                    "exp": issued + self.token_ttl_seconds,
                    "aud": "apache-airflow",
                }
            ).encode()
        )
        signature = b64(hmac.new(self._secret, f"{header}.{claims}".encode(), hashlib.sha512).digest())
        return 201, {"access_token": f"{header}.{claims}.{signature}"}

    def _authenticate(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HttpAnswer(401, "Not authenticated")
        try:
            header, claims, signature = token.split(".")
            expected = b64(hmac.new(self._secret, f"{header}.{claims}".encode(), hashlib.sha512).digest())
            payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        except ValueError:
            raise HttpAnswer(403, "Invalid JWT token") from None
        if not hmac.compare_digest(signature, expected):
            raise HttpAnswer(403, "Invalid JWT token")
        if payload["exp"] <= time.time():
            raise HttpAnswer(401, "Token Expired")

    def _dag(self, dag_id: str) -> bool:
        if dag_id not in self.paused:
            raise HttpAnswer(404, f"Dag with id: {dag_id} was not found")
        return self.paused[dag_id]

    def _get_dag(self, groups: dict[str, str], *_: Any) -> tuple[int, Json]:
        return 200, dag_response(groups["dag"], self._dag(groups["dag"]))

    def _patch_dag(
        self, groups: dict[str, str], query: dict[str, list[str]], raw: bytes, handler: BaseHTTPRequestHandler
    ) -> tuple[int, Json]:
        self._dag(groups["dag"])
        if query.get("update_mask", ["is_paused"]) != ["is_paused"]:
            raise HttpAnswer(400, "Only `is_paused` field can be updated through the REST API")
        body = self._json(raw, handler)
        if not isinstance(body.get("is_paused"), bool):
            given = body.get("is_paused")
            raise HttpAnswer(
                422, [problem("bool_type", "is_paused", "Input should be a valid boolean", given)]
            )
        self.paused[groups["dag"]] = body["is_paused"]
        return 200, dag_response(groups["dag"], body["is_paused"])

    def _trigger(
        self, groups: dict[str, str], _: dict[str, list[str]], raw: bytes, handler: BaseHTTPRequestHandler
    ) -> tuple[int, Json]:
        body = self._json(raw, handler)
        self.trigger_posts.append(body)
        dag_id = groups["dag"]
        if dag_id not in self.paused:
            raise HttpAnswer(404, f"Dag with dag_id: '{dag_id}' not found")
        problems = [
            problem("extra_forbidden", k, "Extra inputs are not permitted", body[k])
            for k in body
            if k not in _TRIGGER_FIELDS
        ]
        if "logical_date" not in body:  # required, though it may be null (Airflow 3)
            problems.append(problem("missing", "logical_date", "Field required", body))
        if body.get("conf") is not None and not isinstance(body["conf"], dict):
            problems.append(problem("dict_type", "conf", "Input should be a valid dictionary", body["conf"]))
        if problems:
            raise HttpAnswer(422, problems)
        run_id = body.get("dag_run_id") or f"manual__{now().isoformat()}"
        with self._lock:
            if (dag_id, run_id) in self.runs:
                raise HttpAnswer(409, unique_violation())
            run = DagRun(
                dag_id, run_id, body.get("conf") or {}, body.get("logical_date"), note=body.get("note")
            )
            self.runs[(dag_id, run_id)] = run
        return 200, run.as_response(self.username)

    def _find_run(self, groups: dict[str, str]) -> DagRun:
        with self._lock:
            run = self.runs.get((groups["dag"], groups["run"]))
        if run is None:
            raise HttpAnswer(
                404, f"The DagRun with dag_id: `{groups['dag']}` and run_id: `{groups['run']}` was not found"
            )
        return run

    def _get_run(self, groups: dict[str, str], *_: Any) -> tuple[int, Json]:
        return 200, self._find_run(groups).as_response(self.username)

    def _patch_run(
        self, groups: dict[str, str], _: dict[str, list[str]], raw: bytes, handler: BaseHTTPRequestHandler
    ) -> tuple[int, Json]:
        run = self._find_run(groups)
        body = self._json(raw, handler)
        state = body.get("state")
        if state is not None and state not in ("queued", "success", "failed"):
            message = "Input should be 'queued', 'success' or 'failed'"
            raise HttpAnswer(422, [problem("enum", "state", message, state)])
        if state is not None:
            run.state = state
            run.end_date = now() if state in ("success", "failed") else None
        if "note" in body:
            run.note = body["note"]
        return 200, run.as_response(self.username)

    def _task_instances(
        self, groups: dict[str, str], query: dict[str, list[str]], *_: Any
    ) -> tuple[int, Json]:
        run = self._find_run(groups)
        wanted = set(query.get("state", [])) or {"failed"}
        items = [
            task_instance(run, task, tries, max_tries, "failed")
            for task, tries, max_tries in run.failed_tasks
            if "failed" in wanted
        ]
        return 200, {"task_instances": items, "total_entries": len(items)}

    def _get_xcom(self, groups: dict[str, str], query: dict[str, list[str]], *_: Any) -> tuple[int, Json]:
        run = self._find_run(groups)
        if (groups["task"], groups["key"]) not in run.xcom:
            raise HttpAnswer(404, f"XCom entry with key: `{groups['key']}` not found")
        value = run.xcom[(groups["task"], groups["key"])]
        if query.get("stringify", ["false"])[0].lower() == "true":
            value = str(value)
        return 200, xcom_entry(run, groups["task"], groups["key"], value)
