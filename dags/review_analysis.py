"""Airflow DAG `review_analysis`: one ReviewOps analysis run, triggered by the operator with conf.

validate -> load -> preprocess -> sentiment -> topics -> insights -> publish. Every task runs
`reviewops stage <name> --run-id <run id>` (see `reviewops.stages`), either as a process on
the worker (`local`) or as a pod of the analysis image (`kubernetes`). Stages exchange data
through the run's folder in the artifact store (REVIEWOPS_ARTIFACTS_URL), never through XCom;
the only XCom is the `publish` task's `return_value`, the small results block the operator
copies into the ReviewAnalysis status (`reviewops_operator.status.results_from_summary`).

The run's conf (`{"spec": ..., "analysis": {...}}`, see `reviewops_operator.identity.run_conf`)
is passed to `validate` only, which checks it with the shared spec model and keeps it for the
other stages; a bad conf fails there, naming the field, without retries (it cannot improve).

This file is parsed by the dag-processor every few seconds and by each task's worker: it
imports Airflow, pydantic-settings and, in kubernetes mode, the cncf.kubernetes provider,
never the analysis engine, and does no I/O. Settings are REVIEWOPS_* variables of the Airflow
components (the table below); a bad value is a DAG import error naming the variable.

| Variable | Default | Meaning |
|---|---|---|
| REVIEWOPS_DAG_MODE | local | `local` (subprocess on the worker) or `kubernetes` (a pod per task) |
| REVIEWOPS_DAG_COMMAND | reviewops | local: the CLI on the worker (a name on PATH or a path) |
| REVIEWOPS_DAG_RETRIES | 2 | retries of every task but validate |
| REVIEWOPS_DAG_RETRY_DELAY_SECONDS | 30 | first retry delay; doubles each retry (exponential backoff) |
| REVIEWOPS_DAG_MAX_RETRY_DELAY_SECONDS | 600 | longest retry delay |
| REVIEWOPS_DAG_TASK_TIMEOUT_MINUTES | 120 | a task running longer fails (and is retried) |
| REVIEWOPS_DAG_MAX_ACTIVE_RUNS | 16 | concurrent runs (the operator enforces each analysis' own policy) |
| REVIEWOPS_POD_IMAGE | | kubernetes: the analysis image (required) |
| REVIEWOPS_POD_IMAGE_PULL_POLICY | IfNotPresent | Always, IfNotPresent or Never |
| REVIEWOPS_POD_IMAGE_PULL_SECRETS | | comma-separated Secret names |
| REVIEWOPS_POD_NAMESPACE | default | where the pods run |
| REVIEWOPS_POD_SERVICE_ACCOUNT | | the pods' service account |
| REVIEWOPS_POD_NODE_SELECTOR | {} | JSON object, e.g. {"pool": "analysis"} |
| REVIEWOPS_POD_RESOURCES | 500m/1Gi requested, 4Gi limit | JSON {"requests": {...}, "limits": {...}} |
| REVIEWOPS_POD_STAGE_RESOURCES | {} | JSON {"<stage>": {"requests": ..., "limits": ...}}, per stage |
| REVIEWOPS_POD_ENV_FROM_SECRETS | | comma-separated Secrets whose keys become the pods' env |
| REVIEWOPS_POD_ENV_FROM_CONFIGMAPS | | comma-separated ConfigMaps, likewise |
| REVIEWOPS_POD_ARTIFACTS_CLAIM | | a ReadWriteMany PVC mounted at REVIEWOPS_POD_ARTIFACTS_MOUNT_PATH |
| REVIEWOPS_POD_ARTIFACTS_MOUNT_PATH | /artifacts | where that claim is mounted |
| REVIEWOPS_POD_KUBERNETES_CONN_ID | | Airflow connection of the cluster (default: in-cluster) |
| REVIEWOPS_POD_KUBECONFIG | | kubeconfig file, for an Airflow outside the cluster |
| REVIEWOPS_POD_STARTUP_TIMEOUT_SECONDS | 600 | image pull + scheduling allowance |
| REVIEWOPS_POD_GET_LOGS | true | follow the pod's log in the task log; false: poll its phase only |

The analysis settings (REVIEWOPS_STORE_URL, REVIEWOPS_MLFLOW_TRACKING_URI, REVIEWOPS_ARTIFACTS_URL,
REVIEWOPS_CONTACT, REVIEWOPS_TRUSTPILOT_BASE_URL, and the allow-lists REVIEWOPS_ALLOWED_MODEL_URIS
and REVIEWOPS_ALLOWED_FILE_ROOTS that every stage enforces on the conf) are read by the stages
themselves: from the worker's environment in local mode, from the env Secrets/ConfigMaps in
kubernetes mode.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
from typing import Annotated, Any, Literal

from airflow.sdk import chain, dag
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DAG_ID = "review_analysis"
STAGES = ("validate", "load", "preprocess", "sentiment", "topics", "insights", "publish")
XCOM_FILE = "/airflow/xcom/return.json"  # where KubernetesPodOperator's sidecar reads XCom
RUN_ID = "{{ run_id }}"
RUN_CONF = "{{ (dag_run.conf or {}) | tojson }}"
CommaList = Annotated[list[str], NoDecode]


class Resources(BaseModel):
    """A container's resource requests and limits (Kubernetes quantities)."""

    model_config = ConfigDict(extra="forbid")
    requests: dict[str, str] = Field(default_factory=dict)
    limits: dict[str, str] = Field(default_factory=dict)


class DagSettings(BaseSettings):
    """How the tasks of `review_analysis` run (the Airflow side; see the module docstring)."""

    model_config = SettingsConfigDict(env_prefix="REVIEWOPS_", extra="ignore", frozen=True)

    dag_mode: Literal["local", "kubernetes"] = "local"
    dag_command: str = Field(default="reviewops", min_length=1)
    dag_retries: int = Field(default=2, ge=0, le=20)
    dag_retry_delay_seconds: float = Field(default=30, gt=0)
    dag_max_retry_delay_seconds: float = Field(default=600, gt=0)
    dag_task_timeout_minutes: float = Field(default=120, gt=0)
    dag_max_active_runs: int = Field(default=16, ge=1)
    pod_image: str | None = None
    pod_image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    pod_image_pull_secrets: CommaList = Field(default_factory=list)
    pod_namespace: str | None = None
    pod_service_account: str | None = None
    pod_node_selector: dict[str, str] = Field(default_factory=dict)
    pod_resources: Resources = Field(
        default_factory=lambda: Resources(requests={"cpu": "500m", "memory": "1Gi"}, limits={"memory": "4Gi"})
    )
    pod_stage_resources: dict[str, Resources] = Field(default_factory=dict)
    pod_env_from_secrets: CommaList = Field(default_factory=list)
    pod_env_from_configmaps: CommaList = Field(default_factory=list)
    pod_artifacts_claim: str | None = None
    pod_artifacts_mount_path: str = "/artifacts"
    pod_kubernetes_conn_id: str | None = None
    pod_kubeconfig: str | None = None
    pod_startup_timeout_seconds: int = Field(default=600, ge=10)
    pod_get_logs: bool = True

    @field_validator(
        "pod_image_pull_secrets", "pod_env_from_secrets", "pod_env_from_configmaps", mode="before"
    )
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("pod_stage_resources")
    @classmethod
    def _known_stages(cls, value: dict[str, Resources]) -> dict[str, Resources]:
        unknown = sorted(set(value) - set(STAGES))
        if unknown:
            raise ValueError(f"unknown stage(s) {', '.join(unknown)}; stages: {', '.join(STAGES)}")
        return value

    @model_validator(mode="after")
    def _image_for_pods(self) -> DagSettings:
        if self.dag_mode == "kubernetes" and not self.pod_image:
            raise ValueError("REVIEWOPS_POD_IMAGE is required when REVIEWOPS_DAG_MODE=kubernetes")
        return self

    def resources(self, stage: str) -> Resources:
        return self.pod_stage_resources.get(stage, self.pod_resources)


def stage_arguments(stage: str) -> list[str]:
    """`reviewops` arguments of a stage (templated by Airflow: run id, conf)."""
    args = ["stage", stage, "--run-id", RUN_ID]
    if stage == "validate":
        args += ["--conf", RUN_CONF]
    return args


def _retry_args(settings: DagSettings, stage: str) -> dict[str, Any]:
    return {
        # a conf that fails validation fails again: no retry; every other stage may meet a
        # transient failure (store, MLflow, scraping, a node going away) and is retried
        "retries": 0 if stage == "validate" else settings.dag_retries,
        "retry_delay": dt.timedelta(seconds=settings.dag_retry_delay_seconds),
        "retry_exponential_backoff": True,
        "max_retry_delay": dt.timedelta(seconds=settings.dag_max_retry_delay_seconds),
        "execution_timeout": dt.timedelta(minutes=settings.dag_task_timeout_minutes),
    }


def local_task(settings: DagSettings, stage: str) -> Any:
    """A BashOperator running the stage as a subprocess; publish's XCom is its JSON last line."""
    from airflow.providers.standard.operators.bash import BashOperator

    # Values Airflow renders (run id, conf) reach bash through the environment, never spliced
    # into the command line, so no conf content can be interpreted by the shell.
    command = f'{shlex.quote(settings.dag_command)} stage {stage} --run-id "$REVIEWOPS_RUN_ID"'
    env = {"REVIEWOPS_RUN_ID": RUN_ID}
    if stage == "validate":
        command += ' --conf "$REVIEWOPS_RUN_CONF"'
        env["REVIEWOPS_RUN_CONF"] = RUN_CONF
    if stage == "publish":
        # The results line is printed from a file after the stage has exited, so nothing the
        # stage's libraries log at exit can come after it (the operator reads that line).
        command = (
            'results="$(mktemp)"; trap \'rm -f "$results"\' EXIT; '
            f'{command} --xcom-file "$results" && tail -n 1 "$results"'
        )
    return BashOperator(
        task_id=stage,
        bash_command=command,
        env=env,
        append_env=True,  # the worker's REVIEWOPS_* analysis settings reach the stage
        do_xcom_push=stage == "publish",
        output_processor=json.loads if stage == "publish" else (lambda output: output),
        skip_on_exit_code=None,  # every failure is a failure (exit 99 included)
        **_retry_args(settings, stage),
    )


def kubernetes_task(settings: DagSettings, stage: str) -> Any:
    """A KubernetesPodOperator running the stage in the analysis image."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from kubernetes.client import models as k8s

    resources = settings.resources(stage)
    env_from = [
        k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name=name))
        for name in settings.pod_env_from_secrets
    ] + [
        k8s.V1EnvFromSource(config_map_ref=k8s.V1ConfigMapEnvSource(name=name))
        for name in settings.pod_env_from_configmaps
    ]
    volumes, mounts = [], []
    if settings.pod_artifacts_claim:
        volumes.append(
            k8s.V1Volume(
                name="artifacts",
                persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(
                    claim_name=settings.pod_artifacts_claim
                ),
            )
        )
        mounts.append(k8s.V1VolumeMount(name="artifacts", mount_path=settings.pod_artifacts_mount_path))
    arguments = stage_arguments(stage)
    if stage == "publish":
        arguments += ["--xcom-file", XCOM_FILE]
    return KubernetesPodOperator(
        task_id=stage,
        name=f"reviewops-{stage}",
        namespace=settings.pod_namespace,
        image=settings.pod_image,
        image_pull_policy=settings.pod_image_pull_policy,
        image_pull_secrets=[k8s.V1LocalObjectReference(name=n) for n in settings.pod_image_pull_secrets],
        cmds=["reviewops"],
        arguments=arguments,
        env_from=env_from,
        container_resources=k8s.V1ResourceRequirements(
            requests=resources.requests or None, limits=resources.limits or None
        ),
        service_account_name=settings.pod_service_account,
        node_selector=settings.pod_node_selector or None,
        labels={"app.kubernetes.io/name": "reviewops-analysis", "reviewops.io/stage": stage},
        volumes=volumes,
        volume_mounts=mounts,
        do_xcom_push=stage == "publish",
        get_logs=settings.pod_get_logs,  # false: where no kubelet serves logs (kwok, some sandboxes)
        on_finish_action="delete_succeeded_pod",  # a failed pod stays for `kubectl logs`
        # `durable` (Airflow 3.3+; reattach_on_restart before) defaults to True: a restarted
        # worker follows the running pod instead of starting a second one
        startup_timeout_seconds=settings.pod_startup_timeout_seconds,
        kubernetes_conn_id=settings.pod_kubernetes_conn_id,
        config_file=settings.pod_kubeconfig,
        **_retry_args(settings, stage),
    )


def build_tasks(settings: DagSettings) -> list[Any]:
    """One task per stage, in order, for the configured mode (call inside a DAG context)."""
    make = kubernetes_task if settings.dag_mode == "kubernetes" else local_task
    return [make(settings, stage) for stage in STAGES]


_SETTINGS = DagSettings()  # read once per parse: the tasks and the DAG agree on them


@dag(
    dag_id=DAG_ID,
    schedule=None,  # the operator triggers every run, with the analysis in conf
    catchup=False,
    max_active_runs=_SETTINGS.dag_max_active_runs,
    tags=["reviewops"],
    doc_md=__doc__,
)
def review_analysis() -> None:
    chain(*build_tasks(_SETTINGS))


DAG = review_analysis()
