"""A real Kubernetes control plane on 127.0.0.1, from the binaries tests/cluster/build.sh makes.

    up:   etcd, kube-apiserver (RBAC, service-account signing), kube-controller-manager (garbage
          collection, namespace deletion, service accounts), kube-scheduler, and kwok with one
          fake Node that runs pods (tests/cluster/kwok.yaml) — all on free loopback ports, all
          state under one folder, an admin kubeconfig at <folder>/admin.kubeconfig.
    down: stops exactly the processes `up` started (by pid, checked against their command
          line) and removes the folder.

`python -m tests.cluster build|up|down|env` drives it from a shell; tests use the session
fixture in tests/cluster/fixtures.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.cluster.pki import Authority, KeyPair, write_kubeconfig

HERE = Path(__file__).resolve().parent
BUILD_SCRIPT = HERE / "build.sh"
NODE_NAME = "kwok-node-0"
STATE_FILE = "state.json"


class Unavailable(RuntimeError):
    """The binaries are not built (or cannot be): tests that need the control plane skip."""


@dataclass(frozen=True)
class Binaries:
    """Paths of every binary the control plane runs."""

    folder_of: dict[str, Path]

    def __getitem__(self, name: str) -> Path:
        return self.folder_of[name] / name

    @classmethod
    def locate(cls, build: bool = False) -> Binaries:
        """The cached binaries (`build=True` builds what is missing first, which can take long)."""
        command = ["bash", str(BUILD_SCRIPT)] + ([] if build else ["--print"])
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join((done.stderr or "").strip().splitlines()[-15:])
            hint = "" if build else " (build them with: bash tests/cluster/build.sh, ~20 min cold)"
            raise Unavailable(f"control-plane binaries are not built{hint}\n{tail}".rstrip())
        folders = [Path(line) for line in done.stdout.split() if line]
        found: dict[str, Path] = {}
        for folder in folders:
            for binary in folder.iterdir():
                found[binary.name] = folder
        needed = {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "etcd", "kwok"}
        missing = needed - set(found)
        if missing:
            raise Unavailable(f"missing binaries {sorted(missing)} in {[str(f) for f in folders]}")
        return cls(found)


def free_port() -> int:
    """A TCP port nobody listens on now (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class State:
    """What `down` needs, also written to <folder>/state.json for another process."""

    folder: str
    api_url: str = ""
    etcd_url: str = ""
    pids: dict[str, int] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)  # pid owner check on `down`
    timings: dict[str, float] = field(default_factory=dict)

    def save(self) -> None:
        (Path(self.folder) / STATE_FILE).write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> State:
        return cls(**json.loads((folder / STATE_FILE).read_text(encoding="utf-8")))


class ControlPlane:
    """`with ControlPlane() as cp:` — up on enter, down on exit."""

    def __init__(self, folder: Path | None = None, binaries: Binaries | None = None) -> None:
        self.binaries = binaries or Binaries.locate()
        self.folder = folder or Path(tempfile.mkdtemp(prefix="reviewops-cp-"))
        self.state = State(folder=str(self.folder))
        self.pki = self.folder / "pki"
        self.logs = self.folder / "logs"
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._args: dict[str, list[str]] = {}

    # --- public ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The API server, https://127.0.0.1:PORT."""
        return self.state.api_url

    @property
    def ca(self) -> Path:
        """The CA that signed the API server's certificate."""
        return self.pki / "ca.crt"

    @property
    def admin_kubeconfig(self) -> Path:
        """A kubeconfig for user `admin` in group system:masters."""
        return self.folder / "admin.kubeconfig"

    @property
    def admin(self) -> KeyPair:
        """The admin client certificate (for requests' `cert=`)."""
        return KeyPair(self.pki / "admin.crt", self.pki / "admin.key")

    def authenticate(self, session: requests.Session) -> None:
        """Trust the test CA and present the admin certificate (for tests/support/kube_client.py)."""
        session.trust_env = False  # else REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override `verify`
        session.verify = str(self.ca)
        session.cert = (str(self.admin.cert), str(self.admin.key))

    def __enter__(self) -> ControlPlane:
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.down()

    def up(self) -> None:
        """Start everything and wait until the API is ready and the fake node is Ready."""
        started = time.monotonic()
        self.logs.mkdir(parents=True, exist_ok=True)
        ca = Authority(self.pki)
        serving = ca.issue("apiserver", "kube-apiserver", server=True)
        sa = ca.service_account_keys()
        identities = {
            "admin": ("admin", ("system:masters",)),
            "controller-manager": ("system:kube-controller-manager", ()),
            "scheduler": ("system:kube-scheduler", ()),
            "kwok": ("kwok", ("system:masters",)),
        }
        pairs = {stem: ca.issue(stem, cn, groups) for stem, (cn, groups) in identities.items()}
        self._start_etcd()
        self._start_apiserver(serving, sa)
        for stem, pair in pairs.items():
            write_kubeconfig(self.folder / f"{stem}.kubeconfig", self.url, ca.cert, client=pair, user=stem)
        self._wait(lambda: self._get("/readyz").ok, 60, "kube-apiserver /readyz")
        self.state.timings["apiserver_ready_s"] = round(time.monotonic() - started, 2)
        self._start_controller_manager(sa)
        self._start_scheduler()
        self._start_kwok()
        self._create_node()
        self._wait(self._node_schedulable, 60, f"node {NODE_NAME} Ready and untainted")
        self._wait(self._default_service_account, 60, "the default ServiceAccount (controller-manager)")
        self.state.timings["ready_s"] = round(time.monotonic() - started, 2)
        self.state.save()

    def down(self) -> None:
        """Stop the processes this control plane started (newest first), remove its folder."""
        stop_processes(self.state)
        for process in self._processes.values():
            with contextlib.suppress(Exception):
                process.wait(5)
        self._processes.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    def kubectl(self, *args: str, check: bool = True, input: str | None = None) -> str:
        """Run the built kubectl as admin; returns stdout (raises with stderr on failure)."""
        env = {**os.environ, "KUBECONFIG": str(self.admin_kubeconfig)}
        deadline = time.monotonic() + 60
        while True:
            done = subprocess.run(
                [str(self.binaries["kubectl"]), *args],
                env=env,
                capture_output=True,
                text=True,
                input=input,
                timeout=120,
                check=False,
            )
            # `kubectl wait --for=condition=X` on an object whose status has no conditions yet
            # (a CRD just created) fails at once with an accessor error instead of waiting.
            racing = args[:1] == ("wait",) and "accessor error" in done.stderr
            if not racing or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if check and done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout if check else done.stdout + done.stderr

    @property
    def audit_log(self) -> Path:
        """JSON lines: one audit event per request made with a service-account token."""
        return self.folder / "audit.log"

    def audit_events(self, username: str) -> list[dict[str, Any]]:
        """The audit events of one user (e.g. system:serviceaccount:NS:NAME), oldest first."""
        if not self.audit_log.is_file():
            return []
        events = []
        for line in self.audit_log.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if event.get("user", {}).get("username") == username:
                events.append(event)
        return events

    def service_account_token(self, namespace: str, name: str, seconds: int = 3600) -> str:
        """A token for a ServiceAccount from the TokenRequest API (as a projected volume gets)."""
        request = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": seconds},
        }
        answer = requests.post(
            f"{self.url}/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            json=request,
            cert=(str(self.admin.cert), str(self.admin.key)),
            verify=str(self.ca),
            timeout=10,
        )
        answer.raise_for_status()
        token: str = answer.json()["status"]["token"]
        return token

    def log(self, component: str) -> str:
        """The log of one component (etcd, kube-apiserver, ...)."""
        return (self.logs / f"{component}.log").read_text(encoding="utf-8", errors="replace")

    # --- components --------------------------------------------------------------------------

    def restart_apiserver(self) -> None:
        """Kill kube-apiserver (as a crash would: a graceful stop waits for open watches) and start
        it again on the same port and etcd; its watch cache starts empty, so watches resumed from
        older versions get 410 Gone."""
        process = self._processes["kube-apiserver"]
        process.kill()
        process.wait(30)
        self._spawn("kube-apiserver", self._args["kube-apiserver"])
        self._wait(lambda: self._get("/readyz").ok, 60, "kube-apiserver /readyz after a restart")

    def _spawn(self, name: str, args: list[str]) -> None:
        self._args[name] = args
        binary = str(self.binaries[name])
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [binary, *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.folder
        )
        log.close()
        self._processes[name] = process
        self.state.pids[name] = process.pid
        self.state.commands[name] = binary
        self.state.save()
        time.sleep(0.05)
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited at once ({process.returncode}):\n{self.log(name)[-3000:]}")

    def _alive(self, name: str) -> None:
        process = self._processes[name]
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited ({process.returncode}):\n{self.log(name)[-3000:]}")

    def _start_etcd(self) -> None:
        client, peer = free_port(), free_port()
        self.state.etcd_url = f"http://127.0.0.1:{client}"
        self._spawn(
            "etcd",
            [
                f"--data-dir={self.folder / 'etcd'}",
                f"--listen-client-urls={self.state.etcd_url}",
                f"--advertise-client-urls={self.state.etcd_url}",
                f"--listen-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-cluster=default=http://127.0.0.1:{peer}",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )

        def healthy() -> bool:
            self._alive("etcd")
            with contextlib.suppress(requests.RequestException):
                return requests.get(f"{self.state.etcd_url}/health", timeout=2).json().get("health") == "true"
            return False

        self._wait(healthy, 30, "etcd /health")

    def _start_apiserver(self, serving: KeyPair, sa: KeyPair) -> None:
        port = free_port()
        self.state.api_url = f"https://127.0.0.1:{port}"
        self._spawn(
            "kube-apiserver",
            [
                f"--etcd-servers={self.state.etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={port}",
                f"--tls-cert-file={serving.cert}",
                f"--tls-private-key-file={serving.key}",
                f"--client-ca-file={self.ca}",
                "--authorization-mode=RBAC",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={sa.cert}",
                f"--service-account-signing-key-file={sa.key}",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--allow-privileged=true",
                # The `kubernetes` Service's endpoints would point at loopback, which is refused.
                "--endpoint-reconciler-type=none",
                f"--cert-dir={self.pki}",
                f"--audit-policy-file={self._audit_policy()}",
                f"--audit-log-path={self.audit_log}",
                "--profiling=false",
                "--v=1",
            ],
        )

    def _audit_policy(self) -> Path:
        # Every request made with a service-account token outside kube-system (the operator's,
        # in the RBAC tests) is recorded with its verb, resource and answer code.
        policy = {
            "apiVersion": "audit.k8s.io/v1",
            "kind": "Policy",
            "omitStages": ["RequestReceived", "ResponseStarted"],
            "rules": [
                {"level": "None", "userGroups": ["system:serviceaccounts:kube-system"]},
                {"level": "Metadata", "userGroups": ["system:serviceaccounts"]},
                {"level": "None"},
            ],
        }
        path = self.folder / "audit-policy.yaml"
        path.write_text(json.dumps(policy), encoding="utf-8")
        return path

    def _component_args(self, kubeconfig: Path) -> list[str]:
        return [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={free_port()}",
            f"--cert-dir={self.pki}",
            "--v=1",
        ]

    def _start_controller_manager(self, sa: KeyPair) -> None:
        self._spawn(
            "kube-controller-manager",
            [
                *self._component_args(self.folder / "controller-manager.kubeconfig"),
                f"--root-ca-file={self.ca}",
                f"--service-account-private-key-file={sa.key}",
                "--use-service-account-credentials=true",
            ],
        )

    def _start_scheduler(self) -> None:
        self._spawn("kube-scheduler", self._component_args(self.folder / "scheduler.kubeconfig"))

    def _start_kwok(self) -> None:
        self._spawn(
            "kwok",
            [
                f"--kubeconfig={self.folder / 'kwok.kubeconfig'}",
                f"--config={HERE / 'kwok.yaml'}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-label-selector=kwok.x-k8s.io/node=fake",
                f"--server-address=127.0.0.1:{free_port()}",
                "--node-ip=10.0.1.1",
                "--cidr=10.0.2.0/24",
            ],
        )

    def _create_node(self) -> None:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": NODE_NAME,
                "labels": {
                    "kwok.x-k8s.io/node": "fake",
                    "kubernetes.io/hostname": NODE_NAME,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                },
            },
        }
        self.kubectl("apply", "-f", "-", input=json.dumps(node))

    def _node_schedulable(self) -> bool:
        """Ready (kwok's stage) and without the not-ready taint (lifted by the controller-manager)."""
        self._alive("kwok")
        answer = self._get(f"/api/v1/nodes/{NODE_NAME}")
        if not answer.ok:
            return False
        node = answer.json()
        conditions = node.get("status", {}).get("conditions", [])
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
        return ready and not node.get("spec", {}).get("taints")

    def _default_service_account(self) -> bool:
        self._alive("kube-controller-manager")
        return self._get("/api/v1/namespaces/default/serviceaccounts/default").ok

    # --- helpers -----------------------------------------------------------------------------

    def _get(self, path: str) -> requests.Response:
        try:
            return requests.get(
                self.url + path,
                cert=(str(self.admin.cert), str(self.admin.key)),
                verify=str(self.ca),
                timeout=5,
            )
        except requests.RequestException:
            response = requests.Response()
            response.status_code = 599
            return response

    def _wait(self, check: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.2)
        logs = {name: self.log(name)[-1500:] for name in self.state.pids}
        raise TimeoutError(
            f"timed out after {timeout}s waiting for {what}; logs: {json.dumps(logs, indent=1)}"
        )


def stop_processes(state: State) -> None:
    """SIGTERM each started process group (newest first), SIGKILL what is left after 10 s."""
    owned = [
        (name, pid)
        for name, pid in reversed(state.pids.items())
        if _command_of(pid).startswith(state.commands.get(name, "\0"))
    ]
    for _, pid in owned:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_command_of(pid) for _, pid in owned):
        time.sleep(0.1)
    for _, pid in owned:
        if _command_of(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
    state.pids.clear()


def _command_of(pid: int) -> str:
    """The executable of a live, non-zombie process, or '' (so a reused pid is never killed)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if status == "Z":
            return ""
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0].decode()
    except (OSError, IndexError):
        return ""
