"""What a ReviewAnalysis may point at in a cluster (reviewops.policy): the admin's allow-lists for
`sentiment.modelUri` and `source.path`, enforced by the operator (reconcile) and by every DAG
stage (a conf can be triggered by hand). The operator end to end, on the emulator and the real
API server, is in tests/test_e2e_operator.py (test_a_spec_pointing_outside_...)."""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reviewops.policy import AccessPolicy, PolicyError, file_path_allowed, model_uri_allowed, policy_problems
from reviewops.settings import AnalysisSettings, SettingsError, load_settings
from reviewops.spec import parse_spec
from reviewops.stages import run_stage

DEFAULT = AccessPolicy()
ROOTED = AccessPolicy(
    model_uris=("models:/reviewops.{namespace}.", "/models", "s3://approved/"), file_roots=("/data",)
)


@pytest.mark.parametrize(
    ("uri", "namespace", "policy", "allowed"),
    [
        ("models:/reviewops.team-a.bm@champion", "team-a", DEFAULT, True),
        ("models:/reviewops.team-a.bm/3", "team-a", DEFAULT, True),
        ("models:/reviewops.team-a.bm@champion", "team-b", DEFAULT, False),  # another namespace's model
        ("models:/reviewops.team-a.bm@champion", None, DEFAULT, False),  # hand-triggered: no namespace
        ("models:/reviewops.team.bm", "team-a", DEFAULT, False),  # a prefix of the namespace is not it
        ("models:/reviewops.team-a.x/../../reviewops.team-b.y/1", "team-a", DEFAULT, False),
        ("models:/reviewops.team-a.x/%2e%2e/%2E%2E/reviewops.team-b.y/1", "team-a", DEFAULT, False),
        ("runs:/0123456789abcdef/model", "team-a", DEFAULT, False),
        ("/etc/passwd", "team-a", DEFAULT, False),
        ("model.joblib", "team-a", ROOTED, False),  # relative: depends on the worker's folder
        ("/models/bm.joblib", "team-a", ROOTED, True),
        ("file:///models/bm.joblib", "team-a", ROOTED, True),
        ("/models/../etc/passwd", "team-a", ROOTED, False),
        ("/models-old/bm.joblib", "team-a", ROOTED, False),  # a sibling sharing the prefix
        ("file://evil.example/models/bm.joblib", "team-a", ROOTED, False),
        ("s3://approved/bm", "team-a", ROOTED, True),
        ("s3://approved/../private/bm", "team-a", ROOTED, False),
        ("s3://approved-not/bm", "team-a", ROOTED, False),
        ("anything:/at/all", None, AccessPolicy(model_uris=("*",)), True),
    ],
)
def test_model_uris(uri: str, namespace: str | None, policy: AccessPolicy, allowed: bool) -> None:
    assert model_uri_allowed(uri, namespace, policy) is allowed


@pytest.mark.parametrize(
    ("path", "policy", "allowed"),
    [
        ("/etc/passwd", DEFAULT, False),  # no roots: file sources are off
        ("/data/reviews.csv", ROOTED, True),
        ("/data", ROOTED, True),
        ("/data/../etc/passwd", ROOTED, False),
        ("/database/x.csv", ROOTED, False),
        ("data/reviews.csv", ROOTED, False),
        ("~/reviews.csv", AccessPolicy(file_roots=(str(Path.home()),)), True),
        ("/anything", AccessPolicy(file_roots=("*",)), True),
    ],
)
def test_file_paths(path: str, policy: AccessPolicy, allowed: bool) -> None:
    assert file_path_allowed(path, policy) is allowed


def test_a_symbolic_link_out_of_a_root_is_refused_where_the_files_are(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir(), outside.mkdir()
    (outside / "secret.csv").write_text("text\nsecret\n")
    (root / "link").symlink_to(outside)
    on_worker = AccessPolicy(file_roots=(str(root),), resolve_links=True)
    assert not file_path_allowed(str(root / "link" / "secret.csv"), on_worker)
    assert file_path_allowed(str(root / "link" / "secret.csv"), AccessPolicy(file_roots=(str(root),)))


def test_every_refusal_names_its_field_and_the_setting_that_allows_it() -> None:
    spec = parse_spec(
        {
            "company": {"name": "X"},
            "source": {"type": "file", "path": "/etc/passwd"},
            "sentiment": {"modelUri": "models:/reviewops.team-b.x@champion"},
        }
    )
    problems = policy_problems(spec, "team-a", DEFAULT)
    assert [p.split(":", 1)[0] for p in problems] == ["spec.sentiment.modelUri", "spec.source.path"]
    assert "models:/reviewops.team-a." in problems[0] and "REVIEWOPS_ALLOWED_MODEL_URIS" in problems[0]
    assert "file sources are off" in problems[1] and "REVIEWOPS_ALLOWED_FILE_ROOTS" in problems[1]
    # a path that is not read (a demo source) is not a problem
    demo = parse_spec({"company": {"name": "X"}, "source": {"type": "demo", "path": "/etc/passwd"}})
    assert policy_problems(demo, "team-a", DEFAULT) == []


def test_settings_read_comma_lists_and_name_a_bad_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWOPS_ALLOWED_MODEL_URIS", "models:/reviewops.{namespace}., /models ,")
    monkeypatch.setenv("REVIEWOPS_ALLOWED_FILE_ROOTS", "/data")
    settings = load_settings()
    assert settings.allowed_model_uris == ["models:/reviewops.{namespace}.", "/models"]
    assert settings.policy().resolve_links and settings.policy().file_roots == ("/data",)
    monkeypatch.setenv("REVIEWOPS_ALLOWED_FILE_ROOTS", "data,/ok")
    with pytest.raises(
        SettingsError, match=r"REVIEWOPS_ALLOWED_FILE_ROOTS: .*'data' is not an absolute folder"
    ):
        load_settings()


# --- the DAG's stages ----------------------------------------------------------------------------


class _Tripwire:
    """Unpickling this creates a file: proof that a model file was (or was not) loaded."""

    def __init__(self, mark: Path) -> None:
        self.mark = mark

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.mark,))


def _conf(namespace: str, **spec: Any) -> dict[str, Any]:
    return {
        "spec": {"company": {"name": "ReMarket"}, "source": {"type": "demo", "demoSize": 60}, **spec},
        "analysis": {"namespace": namespace, "name": "remarket"},
    }


def _settings(tmp_path: Path, **fields: Any) -> AnalysisSettings:
    return AnalysisSettings(store_url="", artifacts_url=str(tmp_path / "artifacts"), **fields)


def test_validate_never_loads_a_model_from_outside_the_allow_list(tmp_path: Path) -> None:
    mark = tmp_path / "unpickled"
    model = tmp_path / "model.joblib"
    model.write_bytes(pickle.dumps(_Tripwire(mark)))
    conf = _conf("team-a", sentiment={"modelUri": str(model)}, mlflow={"enabled": False})
    with pytest.raises(PolicyError, match=r"^spec\.sentiment\.modelUri: .* is not allowed in this cluster"):
        run_stage("validate", run_id="r1", conf=conf, settings=_settings(tmp_path))
    assert not mark.exists()
    assert not (tmp_path / "artifacts" / "r1" / "validate" / "conf.json").exists()  # nothing for later stages
    # the admin allows the folder: accepted
    allowed = _settings(tmp_path, allowed_model_uris=[str(tmp_path)])
    assert run_stage("validate", run_id="r1", conf=conf, settings=allowed).message.startswith("valid")


def test_a_later_stage_checks_again_with_the_settings_it_runs_with(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "reviews.csv").write_text("text,rating\nGreat phone,5\nBroken screen,1\n")
    conf = _conf(
        "team-a", source={"type": "file", "path": str(data / "reviews.csv")}, mlflow={"enabled": False}
    )
    opened = _settings(tmp_path, allowed_file_roots=[str(data)])
    run_stage("validate", run_id="r2", conf=conf, settings=opened)
    # the admin closes the folder between two tasks: load refuses before reading
    with pytest.raises(PolicyError, match=r"^spec\.source\.path: .* outside the folders"):
        run_stage("load", run_id="r2", settings=_settings(tmp_path))
    assert run_stage("load", run_id="r2", settings=opened).marker["reviews"] == 2


def test_the_stage_command_exits_2_naming_the_field(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "REVIEWOPS_STORE_URL": "",
        "REVIEWOPS_ARTIFACTS_URL": str(tmp_path / "artifacts"),
        "REVIEWOPS_ALLOWED_FILE_ROOTS": "",
    }
    conf = _conf("team-a", source={"type": "file", "path": "/etc/passwd"}, mlflow={"enabled": False})
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "reviewops"),
            "stage",
            "validate",
            "--run-id",
            "r3",
            "--conf",
            json.dumps(conf),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "stage validate failed: not allowed: spec.source.path: '/etc/passwd' is outside" in done.stderr


# --- the operator --------------------------------------------------------------------------------

OPERATOR = {
    "airflow_url": "http://127.0.0.1:1",
    "airflow_username": "a",
    "airflow_password": "b",
    "mlflow_tracking_uri": "http://127.0.0.1:1",
}


def test_the_operator_settings_carry_the_same_allow_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewops_operator.settings import Settings

    monkeypatch.setenv("REVIEWOPS_ALLOWED_FILE_ROOTS", "/data,/srv/reviews")
    settings = Settings(**OPERATOR)  # type: ignore[arg-type]
    assert settings.policy() == AccessPolicy(("models:/reviewops.{namespace}.",), ("/data", "/srv/reviews"))
    monkeypatch.setenv("REVIEWOPS_ALLOWED_MODEL_URIS", "models/")
    with pytest.raises(ValueError, match="'models/' is not an absolute folder or a URI prefix"):
        Settings(**OPERATOR)  # type: ignore[arg-type]


def test_reconcile_refuses_before_creating_or_triggering_anything() -> None:
    from reviewops_operator.identity import AnalysisRef
    from reviewops_operator.passes import ObjectView
    from reviewops_operator.reconcile import Deps, reconcile
    from reviewops_operator.settings import Settings
    from reviewops_operator.status import AnalysisStatus

    class Untouchable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"reconcile called {name} for a refused spec")

    settings = Settings(**OPERATOR)  # type: ignore[arg-type]
    deps = Deps(settings, Untouchable(), Untouchable(), Untouchable())  # type: ignore[arg-type]
    spec = {
        "company": {"name": "X"},
        "source": {"type": "file", "path": "/etc/shadow"},
        "schedule": "@hourly",
    }
    now = dt.datetime(2024, 5, 2, tzinfo=dt.UTC)
    view = ObjectView(AnalysisRef("team-a", "x", "uid", 1), spec, AnalysisStatus(), "now", created=now)
    outcome = reconcile(view, deps, now)
    ready = outcome.status.condition("Ready")
    assert ready is not None and (ready.status, ready.reason) == ("False", "NotAllowed")
    assert ready.message.startswith("not allowed: spec.source.path: '/etc/shadow'")
    assert [(n.type, n.reason) for n in outcome.notes] == [("Warning", "NotAllowed")]
    assert outcome.spec is None and outcome.errors == []
