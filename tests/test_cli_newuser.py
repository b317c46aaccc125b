"""The command line as a new user meets it (issue 13): every case runs the real entry point and
checks the exit code and what the user reads.

The fast cases analyse small generated files (`--no-mlflow --store ''`, two topics); the
processes started with `.venv/bin/reviewops` check what only a real process shows (imports at
start-up, output through a pipe).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewops.cli import app

ROOT = Path(__file__).resolve().parent.parent
REVIEWOPS = Path(sys.executable).with_name("reviewops")
runner = CliRunner()

POSITIVE = [
    "Fast delivery and the phone works perfectly, great price",
    "Excellent service, the laptop arrived quickly and looks new",
    "Very happy with the refurbished tablet, battery lasts all day",
    "Great value, the screen is flawless and shipping was quick",
]
NEGATIVE = [
    "The battery died after two weeks and support never answered",
    "Terrible refund process, still waiting for my money after a month",
    "Phone arrived broken and the seller ignored my emails",
    "Awful experience, the screen was scratched and delivery was late",
]


def write_reviews(path: Path, n: int = 24, *, rating_column: str = "rating", stars: bool = True) -> Path:
    """A small CSV of English reviews, half 5 stars and half 1 star (no three-star review)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "published", *([rating_column] if stars else [])])
        for i in range(n):
            good = i % 2 == 0
            text = (POSITIVE if good else NEGATIVE)[i // 2 % 4] + f" (order {i})"
            row = [f"r{i}", text, f"2025-{1 + i % 12:02d}-{1 + i % 27:02d}"]
            writer.writerow([*row, *(["5" if good else "1"] if stars else [])])
    return path


def analyze(*args: str) -> list[str]:
    return ["analyze", *args, "--no-mlflow", "--store", "", "--num-topics", "2", "--quiet"]


def summary(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


# --- start-up, help, version ---------------------------------------------------------------------


def test_help_and_version_through_the_installed_command() -> None:
    helped = subprocess.run([REVIEWOPS, "analyze", "--help"], capture_output=True, text=True, check=False)
    assert helped.returncode == 0, helped.stderr
    assert "<bool>" not in helped.stdout and "--rating-column NAME" in helped.stdout
    version = subprocess.run([REVIEWOPS, "--version"], capture_output=True, text=True, check=False)
    assert version.returncode == 0 and version.stdout.startswith("reviewops 0."), version


def test_validate_and_help_do_not_import_the_nlp_stack_or_mlflow() -> None:
    manifests = sorted(str(p) for p in (ROOT / "examples").glob("*.yaml"))
    probe = (
        "import sys\n"
        "from reviewops.cli import app\n"
        "for argv in (['--help'], ['--version'], ['validate', *sys.argv[1:]]):\n"
        "    try:\n"
        "        app(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('spacy', 'sklearn', 'gensim', 'mlflow', 'matplotlib', 'numpy', 'sqlalchemy')\n"
        "print('IMPORTED', sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *manifests], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert "IMPORTED []" in done.stdout, done.stdout + done.stderr


LEAVING = (
    "import atexit, sys, threading, time\n"
    "from concurrent.futures import ThreadPoolExecutor\n"
    "from reviewops.cli import leave\n"
    "atexit.register(lambda: print('exit handler ran'))\n"
    "threading.Thread(target=lambda: (time.sleep(0.3), print('thread finished'))).start()\n"
    "pool = ThreadPoolExecutor(1)\n"  # an idle pool thread, as MLflow's artifact transfers leave
    "pool.submit(print, 'pool task ran').result()\n"
    "sys.stdout.write('buffered output')\n"  # a pipe is block-buffered: lost unless flushed
    "leave(eval(sys.argv[1]))\n"
)


@pytest.mark.parametrize(("code", "status"), [("None", 0), ("3", 3), ("'no such file'", 1)])
def test_the_quick_exit_does_what_the_interpreter_would(code: str, status: int) -> None:
    """`leave` skips the interpreter's teardown but still waits for threads, runs the exit
    handlers, flushes the output and returns the status a SystemExit of `code` gives."""
    done = subprocess.run(
        [sys.executable, "-c", LEAVING, code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == status, done
    assert "pool task ran\nbuffered output" in done.stdout, done.stdout
    assert "thread finished" in done.stdout and "exit handler ran" in done.stdout
    assert done.stderr == ("no such file\n" if status == 1 else ""), done.stderr


def test_only_an_analysis_ends_the_process_through_the_quick_exit(tmp_path: Path) -> None:
    """`main()` after --help or validate raises SystemExit as usual (a caller may go on);
    after an analysis the process ends there, with the run's status and output."""
    probe = (
        "import sys\n"
        "from reviewops.cli import main\n"
        "sys.argv = ['reviewops', *sys.argv[1:]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    print('main returned', exc.code)\n"
    )
    helped = subprocess.run(
        [sys.executable, "-c", probe, "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert helped.returncode == 0 and "main returned 0" in helped.stdout, helped
    csv_path = write_reviews(tmp_path / "mine.csv")
    argv = analyze("--input", str(csv_path), "--out", str(tmp_path / "out"))
    ran = subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=False, timeout=300
    )
    assert ran.returncode == 0 and "main returned" not in ran.stdout, ran
    assert summary(tmp_path / "out")["reviews"] == 24


def test_the_quick_exit_with_standard_output_closed() -> None:
    done = subprocess.run(
        f"{sys.executable} -c 'from reviewops.cli import leave; leave(0)' >&-",
        shell=True,
        capture_output=False,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0 and not done.stderr, done


def test_the_installed_command_reports_a_failure_status() -> None:
    done = subprocess.run(
        [REVIEWOPS, "validate", "/nonexistent/manifest.yaml"], capture_output=True, text=True, check=False
    )
    assert done.returncode not in (0, None) and "manifest.yaml" in done.stdout + done.stderr, done


# --- bad options end in a message, never a traceback ------------------------------------------------


@pytest.mark.parametrize(
    ("option", "named"),
    [(["--size", "5"], "--size"), (["--seed", "-1"], "--seed"), (["--topics", "foo"], "--topics")],
)
def test_demo_refuses_bad_options_with_a_message(option: list[str], named: str) -> None:
    result = runner.invoke(app, ["demo", *option, "--no-mlflow"])
    assert result.exit_code == 2, result.output
    assert named in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_input_and_domain_together_are_refused(tmp_path: Path) -> None:
    csv_path = write_reviews(tmp_path / "mine.csv")
    result = runner.invoke(app, analyze("--input", str(csv_path), "--domain", "www.other.com"))
    assert result.exit_code == 2
    assert "--company" in result.stderr and "give one" in result.stderr


# --- validate ---------------------------------------------------------------------------------------

MANIFEST = (
    "apiVersion: reviewops.io/v1alpha1\nkind: ReviewAnalysis\nmetadata: {{name: {name}}}\nspec:\n{spec}"
)


def test_validate_checks_every_file_and_the_cross_field_rules(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(MANIFEST.format(name="good", spec="  company: {name: X, domain: www.x.com}\n"))
    no_domain = tmp_path / "no-domain.yaml"
    no_domain.write_text(
        MANIFEST.format(name="nd", spec="  company: {name: X}\n  source: {type: trustpilot}\n")
    )
    no_path = tmp_path / "no-path.yaml"
    no_path.write_text(MANIFEST.format(name="np", spec="  company: {name: X}\n  source: {type: file}\n"))
    result = runner.invoke(
        app, ["validate", str(good), str(no_domain), str(no_path), str(tmp_path / "none.yaml")]
    )
    assert result.exit_code == 2
    assert "valid: " + str(good) in result.stdout
    assert "no-domain.yaml" in result.stderr and "company.domain" in result.stderr
    assert "no-path.yaml" in result.stderr and "source.path" in result.stderr
    assert "none.yaml: no such file" in result.stderr
    assert "1 of 4 manifest(s) valid" in result.stdout
    examples = sorted(str(p) for p in (ROOT / "examples").glob("*.yaml"))
    assert runner.invoke(app, ["validate", *examples]).exit_code == 0


# --- defaults that work on small and uneven input ----------------------------------------------------


def test_too_few_stars_to_train_falls_back_and_exits_0(tmp_path: Path) -> None:
    csv_path = write_reviews(tmp_path / "small.csv")  # 24 reviews, no three-star one
    out = tmp_path / "out"
    result = runner.invoke(app, analyze("--input", str(csv_path), "--out", str(out)))
    assert result.exit_code == 0, result.output
    data = summary(out)
    assert data["sentiment"]["method"] == "ratings"
    fallback = [w for w in data["warnings"] if "could not be trained" in w]
    assert len(fallback) == 1 and "--sentiment ratings|lexicon" in fallback[0]
    assert "could not be trained" in result.stderr  # one line on the terminal too


@pytest.mark.shared_data
def test_the_saved_trustpilot_page_is_analysed_with_the_defaults(shared_data: Path, tmp_path: Path) -> None:
    page = shared_data / "trustpilot" / "fr_showroomprive_page5.html"  # 20 reviews, no 3-star one
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", "--input", str(page), "--out", str(out), "--no-mlflow", "-q"])
    assert result.exit_code == 0, result.output
    data = summary(out)
    assert data["reviews"] == 20 and data["sentiment"]["method"] == "ratings"
    assert "supervised sentiment could not be trained: 20 reviews have stars" in result.stderr


def test_demo_has_a_sentiment_flag_and_small_demos_run(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(
        app,
        ["demo", "--size", "30", "--out", str(out), "--no-mlflow", "--store", "", "--quiet"],
    )
    assert result.exit_code == 0, result.output
    assert summary(out)["sentiment"]["method"] in {"ratings", "lexicon"}
    lexicon = runner.invoke(
        app,
        [
            "demo",
            "--size",
            "30",
            "--sentiment",
            "lexicon",
            "--out",
            str(out),
            "--no-mlflow",
            "--store",
            "",
            "-q",
        ],
    )
    assert lexicon.exit_code == 0 and summary(out)["sentiment"]["method"] == "lexicon"


def test_ratings_method_says_when_reviews_without_stars_use_the_lexicon(tmp_path: Path) -> None:
    csv_path = write_reviews(tmp_path / "nostars.csv", stars=False)
    out = tmp_path / "out"
    result = runner.invoke(
        app, analyze("--input", str(csv_path), "--sentiment", "ratings", "--out", str(out))
    )
    assert result.exit_code == 0, result.output
    assert any("24 of 24 reviews have no stars" in w and "lexicon" in w for w in summary(out)["warnings"])
    assert "have no stars" in result.stderr


def test_unreadable_ratings_reach_the_terminal_and_warnings(tmp_path: Path) -> None:
    csv_path = write_reviews(tmp_path / "bad.csv")
    lines = csv_path.read_text().splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ",lots"  # an unreadable rating: kept without stars
    csv_path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    result = runner.invoke(app, analyze("--input", str(csv_path), "--out", str(out)))
    assert result.exit_code == 0, result.output
    warning = next(w for w in summary(out)["warnings"] if "could not be read" in w)
    assert "1 value(s)" in warning and "bad.csv:4" in warning and "kept" in warning
    assert "bad.csv:4" in result.stderr
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "were skipped" not in report and "review kept" in report


def test_an_unknown_star_column_is_named_with_the_flag_that_maps_it(tmp_path: Path) -> None:
    csv_path = write_reviews(tmp_path / "graded.csv", rating_column="Grade")
    out = tmp_path / "out"
    result = runner.invoke(app, analyze("--input", str(csv_path), "--out", str(out)))
    assert result.exit_code == 0, result.output
    assert "--rating-column 'Grade'" in result.stderr
    assert summary(out)["rated_reviews"] == 0
    mapped = runner.invoke(
        app, analyze("--input", str(csv_path), "--rating-column", "Grade", "--out", str(out))
    )
    assert mapped.exit_code == 0, mapped.output
    assert summary(out)["rated_reviews"] == 24 and "--rating-column" not in mapped.stderr


def test_text_and_date_columns_map_from_flags(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Opinion", "When", "rating"])
        for i in range(24):
            good = i % 2 == 0
            writer.writerow(
                [(POSITIVE if good else NEGATIVE)[i // 2 % 4], f"2025-03-{1 + i:02d}", 5 if good else 1]
            )
    out = tmp_path / "out"
    refused = runner.invoke(app, analyze("--input", str(path), "--out", str(out)))
    assert refused.exit_code == 2 and "'Opinion'" in refused.stderr
    result = runner.invoke(
        app,
        analyze("--input", str(path), "--text-column", "Opinion", "--date-column", "When", "--out", str(out)),
    )
    assert result.exit_code == 0, result.output
    assert summary(out)["first_date"] == "2025-03-01"


# --- failures that are fast and name their cause --------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "cause"),
    [("http://127.0.0.1:1", "connection refused"), ("http://no-such-host.invalid", "name resolution failed")],
)
def test_a_dead_network_fails_fast_naming_the_cause(tmp_path: Path, base_url: str, cause: str) -> None:
    started = time.monotonic()
    result = runner.invoke(
        app,
        analyze("--domain", "www.example.com", "--trustpilot-url", base_url, "--out", str(tmp_path)),
    )
    assert result.exit_code == 2, result.output
    assert cause in result.stderr
    assert time.monotonic() - started < 15


def test_a_dead_mlflow_server_costs_seconds_and_a_named_warning(tmp_path: Path) -> None:
    csv_path = write_reviews(tmp_path / "small.csv")
    started = time.monotonic()
    result = runner.invoke(
        app,
        [
            "analyze",
            "--input",
            str(csv_path),
            "--tracking-uri",
            "http://127.0.0.1:1",
            "--store",
            "",
            "--num-topics",
            "2",
            "--out",
            str(tmp_path / "out"),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output  # the analysis is there; MLflow is a warning
    assert "MLflow at http://127.0.0.1:1 is not reachable: connection refused" in result.stderr
    assert time.monotonic() - started < 60


def test_a_missing_mlflow_model_leaves_no_mlflow_db_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("REVIEWOPS_MLFLOW_TRACKING_URI", raising=False)
    csv_path = write_reviews(tmp_path / "small.csv")
    result = runner.invoke(
        app, analyze("--input", str(csv_path), "--model", "models:/missing/1", "--out", str(tmp_path / "out"))
    )
    assert result.exit_code == 2
    assert "models:/missing/1" in result.stderr and "--tracking-uri" in result.stderr
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlruns").exists()


# --- what the terminal shows -------------------------------------------------------------------------


def test_file_content_is_never_read_as_markup_or_emoji(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(":x: [bold]name[/bold],other\n1,2\n", encoding="utf-8")
    result = runner.invoke(app, analyze("--input", str(path), "--out", str(tmp_path / "out")))
    assert result.exit_code == 2
    assert ":x: [bold]name[/bold]" in result.stderr and "❌" not in result.stderr


@pytest.mark.slow
def test_piped_output_keeps_long_paths_whole_and_shows_trend_and_companies(tmp_path: Path) -> None:
    out = tmp_path / ("a-long-folder-name-that-would-wrap-" * 3) / "out"
    csv_path = tmp_path / "two.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "company", "text", "published", "rating"])
        for i in range(160):
            good = i % 3 != 0
            day = f"2025-{1 + i * 6 // 160:02d}-{1 + i % 27:02d}"
            text = (POSITIVE if good else NEGATIVE)[i % 4] + f" ({i})"
            writer.writerow([f"r{i}", "Alpha" if i % 2 else "Beta", text, day, 5 if good else 1])
    env = {**os.environ, "COLUMNS": "60"}
    done = subprocess.run(
        [REVIEWOPS, *analyze("--input", str(csv_path), "--out", str(out))],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert f"summary: {out / 'summary.json'}" in done.stdout.splitlines()
    assert "net sentiment trend:" in done.stdout
    assert "companies" in done.stdout and "Alpha" in done.stdout and "Beta" in done.stdout


# --- runs, compare, open ----------------------------------------------------------------------------


def test_runs_compare_and_open(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = write_reviews(tmp_path / "a.csv")
    second = write_reviews(tmp_path / "b.csv", n=30)
    for path, company in ((first, "Shop"), (second, "Shop")):
        result = runner.invoke(
            app,
            [
                "analyze",
                "--input",
                str(path),
                "--company",
                company,
                "--out",
                str(out),
                "--no-mlflow",
                "--num-topics",
                "2",
                "-q",
            ],
        )
        assert result.exit_code == 0, result.output
        time.sleep(1.1)  # run ids are stamped to the second
    listed = runner.invoke(app, ["runs", "--out", str(tmp_path)])
    assert listed.exit_code == 0, listed.output
    run_ids = [line.split()[0] for line in listed.stdout.splitlines() if line.strip().startswith("local__")]
    assert len(run_ids) == 2 and "Shop" in listed.stdout and "30" in listed.stdout
    compared = runner.invoke(app, ["compare", run_ids[1], run_ids[0], "--out", str(tmp_path)])
    assert compared.exit_code == 0, compared.output
    assert (
        "net sentiment" in compared.stdout
        and "themes" in compared.stdout
        and "negative drivers" in compared.stdout
    )
    missing = runner.invoke(app, ["compare", "nope", run_ids[0], "--out", str(tmp_path)])
    assert missing.exit_code == 2 and "no run 'nope'" in missing.stderr
    opened = runner.invoke(app, ["open", "--out", str(tmp_path), "--no-browser"])
    assert opened.exit_code == 0 and opened.stdout.strip().endswith("report.html")
    nothing = runner.invoke(app, ["runs", "--out", str(tmp_path / "empty")])
    assert nothing.exit_code == 2 and "reviewops demo" in nothing.stderr


def test_tiny_topics_are_not_shown_as_zero_percent() -> None:
    from reviewops.cli_output import _topics_table, share

    assert share(0.001) == "<1%" and share(0.0) == "0%" and share(0.25) == "25%"

    def topic(i: int, size: int) -> dict:  # type: ignore[type-arg]
        return {
            "label": f"t{i}",
            "size": size,
            "share": size / 1000,
            "mean_rating": None,
            "impact": None,
            "sentiment": {"negative": 0.0},
        }

    table, hidden = _topics_table([topic(0, 900), topic(1, 3), *(topic(i, 0) for i in range(2, 13))])
    assert table.row_count == 2 and hidden == 11


# --- the README, as a new user follows it ---------------------------------------------------------


def test_readme_commands_use_real_commands_and_flags_and_say_where_uv_is() -> None:
    import re
    import shlex

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'export PATH="$HOME/.local/bin:$PATH"' in readme and ".venv/bin/reviewops" in readme
    commands = [
        line.split("#", 1)[0].strip()
        for line in readme.splitlines()
        if line.startswith("uv run reviewops ") and " stage " not in line
    ]
    assert len(commands) >= 10
    for command in commands:
        words = shlex.split(command)[3:]
        sub = [w for w in words[:1] if not w.startswith("-")]
        helped = runner.invoke(app, [*sub, "--help"])
        assert helped.exit_code == 0, (command, helped.output)
        for flag in re.findall(r"(?<!\S)(--[a-z][a-z-]*)", command):
            assert flag in helped.stdout, (command, flag)
