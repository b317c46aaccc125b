"""The command line end to end: the demo, real shared files, and bad input."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewops.cli import app
from reviewops.pipeline import source_company
from reviewops.records import Review

runner = CliRunner()


def _summary(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "summary.json").read_text())


@pytest.mark.slow
def test_demo_writes_report_summary_store_and_mlflow_run(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--size", "600", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = _summary(out)
    assert summary["reviews"] == 600
    assert set(summary["languages"]) == {"en", "fr"}
    assert summary["sentiment"]["evaluation"]["macro_f1"] > 0.5
    assert summary["topics"]["k"] >= 2 and summary["negative_drivers"]
    assert (out / "report.html").stat().st_size > 20_000
    with sqlite3.connect(out / "reviewops.db") as db:
        assert db.execute("select count(*) from reviews").fetchone()[0] == 600
        assert (
            db.execute("select mlflow_run_id from runs").fetchone()[0] == summary["outputs"]["mlflow_run_id"]
        )
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    run = client.get_run(summary["outputs"]["mlflow_run_id"])
    assert run.data.metrics["reviews"] == 600
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"summary.json", "report.html", "topics.json", "wordclouds"} <= artifacts
    assert "demo" in result.output or "reviews" in result.output


@pytest.mark.slow
def test_english_csv_from_trustpilot(shared_data: Path, tmp_path: Path) -> None:
    csv_path = shared_data / "reviews" / "en_pet_insurance_trustpilot.csv"
    result = runner.invoke(
        app,
        [
            "analyze",
            "--input",
            str(csv_path),
            "--out",
            str(tmp_path),
            "--no-mlflow",
            "--quiet",
            "--max-reviews",
            "3000",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = _summary(tmp_path)
    assert summary["reviews"] == 3000 and summary["languages"].get("en", 0) > 2900
    assert any("kept the newest 3000 of " in w and "--max-reviews" in w for w in summary["warnings"])
    assert "kept the newest 3000 of " in " ".join(result.output.split())  # on the terminal too
    # the run is named after the companies of the file's `company` column, not the file; the
    # 3,000 newest reviews cover all four insurers
    with csv_path.open(encoding="utf-8", newline="") as f:
        companies = sorted({row["company"] for row in csv.DictReader(f)})
    assert len(companies) == 4
    assert summary["company"] == source_company([Review(id="x", text="", company=c) for c in companies])
    assert summary["sentiment"]["evaluation"]["macro_f1"] > 0.6


@pytest.mark.slow
def test_french_raw_json(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "reviews" / "fr_showroomprive_trustpilot_raw.json"
    result = runner.invoke(
        app,
        [
            "analyze",
            "--input",
            str(path),
            "--sentiment",
            "ratings",
            "--out",
            str(tmp_path),
            "--no-mlflow",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = _summary(tmp_path)
    assert summary["reviews"] == 200 and list(summary["languages"]) == ["fr"]
    assert "showroom" in summary["company"].lower()  # the business unit's name, not the file's
    # no --languages: the file is read whole, and nobody is told French was unexpected
    assert not any("expected languages" in w for w in summary["warnings"]), summary["warnings"]
    assert summary["topics"]["items"]


def test_source_company_names_one_a_few_or_counts_many() -> None:
    def named(*companies: str | None) -> str | None:
        return source_company([Review(id=str(i), text="", company=c) for i, c in enumerate(companies)])

    assert named(None, " ") is None
    assert named("Embrace", "Embrace", None) == "Embrace"
    assert named("spot", "figo", "embrace") == "embrace, figo and spot"
    assert named(*"abcdef") == "a, b, c and 3 more"


def test_empty_file_is_a_clear_error_and_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = runner.invoke(app, ["analyze", "--input", str(empty), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 2
    assert "empty.csv" in result.output


def test_invalid_manifest_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: reviewops.io/v1alpha1\nkind: ReviewAnalysis\nmetadata: {name: x}\n"
        "spec:\n  company: {name: X, domain: www.example.com}\n  topics: {numTopics: 500}\n"
    )
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "topics.numTopics" in result.output


@pytest.mark.slow
def test_oneshot_example_runs_locally_and_finds_the_planted_battery_problem(tmp_path: Path) -> None:
    manifest = Path(__file__).resolve().parent.parent / "examples" / "oneshot-demo.yaml"
    result = runner.invoke(app, ["analyze", str(manifest), "--out", str(tmp_path), "--no-mlflow", "--quiet"])
    assert result.exit_code == 0, result.output
    summary = _summary(tmp_path)
    assert summary["analysis"] == "insights/oneshot-demo"
    assert summary["topics"]["k"] == 8
    # The demo plants a battery complaint that grows in the last months.
    assert "battery" in summary["rising_topics"][0]["label"]
    assert (
        "battery" in summary["negative_drivers"][0]["label"]
        or "battery" in summary["negative_drivers"][1]["label"]
    )
