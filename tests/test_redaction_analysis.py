"""A password written in the MLflow tracking URI ("https://user:pw@mlflow.example") never
reaches what a run writes or prints: error messages (task logs, the operator's conditions),
the terminal, summary.json (also logged to MLflow as an artifact) or the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import reviewops.outputs
from reviewops.cli import app
from reviewops.tracking import TrackedRun, TrackingError, check_reachable, hide_password
from tests.test_cli_newuser import write_reviews

SECRET = "s3cret-Pa55"
runner = CliRunner()


def test_hide_password_covers_the_written_and_the_decoded_form() -> None:
    url = "https://alice:s3cret%40Pa55@mlflow.example/"
    text = f"GET {url}api/2.0/x failed; password s3cret@Pa55; user alice"
    shown = hide_password(text, url)
    assert "s3cret" not in shown
    assert "https://alice:***@mlflow.example/" in shown
    assert "user alice" in shown
    # a short password is hidden where it is written in a URL, not wherever the letters occur
    assert hide_password("http://bob:ab@host/ about", "http://bob:ab@host/") == "http://bob:***@host/ about"
    assert hide_password("no credentials", "http://host/") == "no credentials"


def test_an_unreachable_server_is_named_without_its_password() -> None:
    with pytest.raises(TrackingError) as failure:
        check_reachable(f"http://alice:{SECRET}@127.0.0.1:1", timeout=2)
    assert SECRET not in str(failure.value)
    assert "http://alice:***@127.0.0.1:1 is not reachable: connection refused" in str(failure.value)


def test_the_terminal_and_summary_show_no_password_when_mlflow_is_down(tmp_path: Path) -> None:
    source = write_reviews(tmp_path / "small.csv")
    out = tmp_path / "out"
    uri = f"http://alice:{SECRET}@127.0.0.1:1"
    arguments = ["analyze", "--input", str(source), "--tracking-uri", uri, "--store", ""]
    result = runner.invoke(app, [*arguments, "--num-topics", "2", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "alice:***@127.0.0.1:1 is not reachable" in result.stderr
    assert SECRET not in result.output + result.stderr
    for written in (out / "summary.json", out / "report.html"):
        assert SECRET not in written.read_text(encoding="utf-8"), written


def test_a_logged_run_names_its_server_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"https://alice:{SECRET}@mlflow.example"

    def logged(tracking_uri: str, *_args: object) -> TrackedRun:
        assert tracking_uri == uri  # the client itself gets the credentials
        return TrackedRun("1", "abc", tracking_uri, None)

    monkeypatch.setattr(reviewops.outputs, "_log_mlflow", logged)
    source = write_reviews(tmp_path / "small.csv")
    out = tmp_path / "out"
    arguments = ["analyze", "--input", str(source), "--tracking-uri", uri, "--store", ""]
    result = runner.invoke(app, [*arguments, "--num-topics", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["outputs"]["mlflow_tracking_uri"] == "https://alice:***@mlflow.example"
    assert SECRET not in result.output + result.stderr
