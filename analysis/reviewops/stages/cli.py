"""`reviewops stage ...`: one stage of a DAG run per process, as each Airflow task runs it.

    reviewops stage validate   --run-id ID --conf '{"spec": ..., "analysis": ...}'
    reviewops stage load       --run-id ID
    ...
    reviewops stage publish    --run-id ID [--xcom-file /airflow/xcom/return.json]

Where results go comes from REVIEWOPS_* variables (`reviewops.settings`); `--artifacts`
overrides REVIEWOPS_ARTIFACTS_URL. Each stage prints one line to stderr. `publish` prints the
run's small results as the last line of stdout (a BashOperator's XCom) and, with --xcom-file,
writes them where a KubernetesPodOperator's sidecar reads its XCom.

Exit codes: 0 done, 2 the conf or settings are invalid (a retry cannot help), 1 anything else.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

stage_app = typer.Typer(
    help="Run one stage of a DAG run (each task of the Airflow DAG review_analysis is one).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

RunIdOpt = Annotated[
    str,
    typer.Option("--run-id", help="The DAG run id: keys the run's artifacts, store rows and MLflow run."),
]
ArtifactsOpt = Annotated[
    str | None,
    typer.Option(
        "--artifacts",
        help="Artifact store URL (folder, file://, s3://, memory://); default REVIEWOPS_ARTIFACTS_URL.",
    ),
]


def _fail(stage: str, message: str, code: int) -> typer.Exit:
    typer.echo(f"stage {stage} failed: {message}", err=True)
    return typer.Exit(code)


def execute(
    stage: str,
    run_id: str,
    artifacts: str | None,
    conf: str | None = None,
    xcom_file: Path | None = None,
) -> None:
    """Run `stage` and report it the way Airflow reads it (exit code, stderr, last stdout line)."""
    from reviewops.pipeline import NothingToAnalyze
    from reviewops.policy import PolicyError
    from reviewops.settings import SettingsError
    from reviewops.spec import SpecError
    from reviewops.stages.artifacts import ArtifactError
    from reviewops.stages.conf import read_conf_argument
    from reviewops.stages.steps import StageError, results_line, run_stage

    started = time.perf_counter()
    try:
        data = read_conf_argument(conf) if conf is not None else None
        outcome = run_stage(stage, run_id=run_id, artifacts_url=artifacts, conf=data)
    except PolicyError as exc:
        raise _fail(stage, f"not allowed: {exc}", 2) from exc
    except SpecError as exc:
        raise _fail(stage, f"invalid conf: {exc}", 2) from exc
    except SettingsError as exc:
        raise _fail(stage, f"invalid settings: {exc}", 2) from exc
    except (StageError, ArtifactError, NothingToAnalyze, ValueError, OSError) as exc:
        raise _fail(stage, str(exc), 1) from exc
    typer.echo(f"stage {stage}: {outcome.message} [{time.perf_counter() - started:.1f} s]", err=True)
    if outcome.results is not None:
        line = results_line(outcome.results)
        if xcom_file is not None:
            xcom_file.parent.mkdir(parents=True, exist_ok=True)
            xcom_file.write_text(line + "\n", encoding="utf-8")
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


@stage_app.command("validate")
def validate_stage(
    run_id: RunIdOpt,
    conf: Annotated[
        str,
        typer.Option("--conf", help="The DAG run's conf: inline JSON, '-' for stdin, or a JSON/YAML file."),
    ],
    artifacts: ArtifactsOpt = None,
) -> None:
    """Check the conf (spec + analysis identity) and the settings; keep the conf for the stages."""
    execute("validate", run_id, artifacts, conf=conf)


@stage_app.command("load")
def load_stage(run_id: RunIdOpt, artifacts: ArtifactsOpt = None) -> None:
    """Read the reviews the spec asks for (Trustpilot, a file, or the demo generator)."""
    execute("load", run_id, artifacts)


@stage_app.command("preprocess")
def preprocess_stage(run_id: RunIdOpt, artifacts: ArtifactsOpt = None) -> None:
    """Clean the texts, detect languages, lemmatize, drop stop words, join bigrams."""
    execute("preprocess", run_id, artifacts)


@stage_app.command("sentiment")
def sentiment_stage(run_id: RunIdOpt, artifacts: ArtifactsOpt = None) -> None:
    """Label each review positive / neutral / negative (and train the model when supervised)."""
    execute("sentiment", run_id, artifacts)


@stage_app.command("topics")
def topics_stage(run_id: RunIdOpt, artifacts: ArtifactsOpt = None) -> None:
    """Fit the topic model and assign each review its dominant topic."""
    execute("topics", run_id, artifacts)


@stage_app.command("insights")
def insights_stage(run_id: RunIdOpt, artifacts: ArtifactsOpt = None) -> None:
    """Negative drivers, rising topics, timeline, companies side by side."""
    execute("insights", run_id, artifacts)


@stage_app.command("publish")
def publish_stage(
    run_id: RunIdOpt,
    artifacts: ArtifactsOpt = None,
    xcom_file: Annotated[
        Path | None,
        typer.Option("--xcom-file", help="Also write the results here (/airflow/xcom/return.json)."),
    ] = None,
) -> None:
    """Write the summary, report, results store and MLflow run; print the results as JSON."""
    execute("publish", run_id, artifacts, xcom_file=xcom_file)
