"""dags/review_analysis.py: thin at parse time, and the tasks each mode builds from its settings.

The parse check runs in a fresh interpreter (this one has long imported the engine) through
Airflow's own DagBag, the way the dag-processor loads the file; it prints the parse time.
The kubernetes checks build the real pod a KubernetesPodOperator would create.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

DAG_FILE = Path(__file__).resolve().parent.parent / "dags" / "review_analysis.py"
HEAVY = ("spacy", "sklearn", "gensim", "mlflow", "reviewops", "numpy", "sqlalchemy_utils", "matplotlib")
STAGES = ["validate", "load", "preprocess", "sentiment", "topics", "insights", "publish"]
POD_ENV = {
    "REVIEWOPS_DAG_MODE": "kubernetes",
    "REVIEWOPS_POD_IMAGE": "registry.example/reviewops-analysis:1.2.3",
    "REVIEWOPS_POD_IMAGE_PULL_POLICY": "Always",
    "REVIEWOPS_POD_IMAGE_PULL_SECRETS": "registry-creds",
    "REVIEWOPS_POD_NAMESPACE": "reviewops-runs",
    "REVIEWOPS_POD_SERVICE_ACCOUNT": "reviewops-analysis",
    "REVIEWOPS_POD_NODE_SELECTOR": '{"pool": "analysis"}',
    "REVIEWOPS_POD_RESOURCES": '{"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "3Gi"}}',
    "REVIEWOPS_POD_STAGE_RESOURCES": '{"sentiment": {"requests": {"cpu": "2"}, "limits": {"memory": "6Gi"}}}',
    "REVIEWOPS_POD_ENV_FROM_SECRETS": "reviewops-store, reviewops-mlflow",
    "REVIEWOPS_POD_ENV_FROM_CONFIGMAPS": "reviewops-analysis",
    "REVIEWOPS_POD_ARTIFACTS_CLAIM": "reviewops-artifacts",
}

PARSE = textwrap.dedent(
    """
    import json, os, sys, time
    from airflow.dag_processing.dagbag import DagBag
    report = {}
    for mode in ("local", "kubernetes"):
        before = set(sys.modules)
        if mode == "kubernetes":
            os.environ.update(json.loads(sys.argv[2]))
        started = time.perf_counter()
        bag = DagBag(dag_folder=sys.argv[1])
        seconds = time.perf_counter() - started
        dag = bag.dags.get("review_analysis")
        report[mode] = {
            "seconds": seconds,
            "errors": {k: str(v) for k, v in bag.import_errors.items()},
            "tasks": [t.task_id for t in dag.tasks] if dag else [],
            "operators": sorted({type(t).__name__ for t in dag.tasks}) if dag else [],
            "new_modules": sorted({m.split(".")[0] for m in set(sys.modules) - before}),
        }
    print(json.dumps(report))
    """
)


def load_dag_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("review_analysis_under_test", DAG_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as Airflow's DagBag does: pydantic resolves annotations there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dag_module() -> ModuleType:
    return load_dag_module()


@pytest.mark.slow
def test_the_dag_file_parses_fast_without_heavy_imports(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWOPS_")}
    env.update(AIRFLOW_HOME=str(tmp_path), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    done = subprocess.run(
        [sys.executable, "-c", PARSE, str(DAG_FILE.parent), json.dumps(POD_ENV)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    for mode, found in report.items():
        print(f"\nDagBag parse of dags/ ({mode} mode): {found['seconds'] * 1000:.0f} ms")
        assert found["errors"] == {}
        assert found["tasks"] == STAGES
        assert not set(found["new_modules"]) & set(HEAVY), found["new_modules"]
    assert report["local"]["operators"] == ["BashOperator"]
    assert "kubernetes" not in report["local"]["new_modules"]  # the provider only when used
    assert report["kubernetes"]["operators"] == ["KubernetesPodOperator"]
    assert report["local"]["seconds"] < 2.0


def test_local_tasks_run_the_stage_command_with_retries(
    dag_module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk import DAG

    settings = dag_module.DagSettings(dag_command="/opt/venv/bin/reviewops", dag_retries=3)
    with DAG("t_local", schedule=None):
        tasks = {t.task_id: t for t in dag_module.build_tasks(settings)}
    assert list(tasks) == STAGES
    validate, publish, topics = tasks["validate"], tasks["publish"], tasks["topics"]
    assert validate.retries == 0  # a bad conf stays bad
    assert topics.retries == 3 and topics.retry_exponential_backoff
    assert topics.retry_delay.total_seconds() == 30 and topics.max_retry_delay.total_seconds() == 600
    assert topics.bash_command == '/opt/venv/bin/reviewops stage topics --run-id "$REVIEWOPS_RUN_ID"'
    assert validate.env == {"REVIEWOPS_RUN_ID": "{{ run_id }}", "REVIEWOPS_RUN_CONF": dag_module.RUN_CONF}
    assert '--conf "$REVIEWOPS_RUN_CONF"' in validate.bash_command
    assert all(t.append_env for t in tasks.values())
    assert [t.task_id for t in tasks.values() if t.do_xcom_push] == ["publish"]
    assert "--xcom-file" in publish.bash_command and publish.bash_command.endswith('tail -n 1 "$results"')
    assert publish.output_processor('{"reviews": 3}') == {"reviews": 3}
    dag = dag_module.DAG  # the DAG the file defines (local mode: nothing REVIEWOPS_* is set here)
    assert dag.dag_id == "review_analysis" and dag.schedule is None if hasattr(dag, "schedule") else True
    assert [dag.get_task(s).downstream_task_ids for s in STAGES] == [{s} for s in STAGES[1:]] + [set()]


def test_the_conf_template_renders_any_conf_as_json(dag_module: ModuleType) -> None:
    from jinja2.sandbox import SandboxedEnvironment  # what Airflow's template environment extends

    conf = {"spec": {"company": {"name": 'L\'Atelier "<Repair>" & Co'}}, "analysis": {"name": "x"}}
    template = SandboxedEnvironment().from_string(dag_module.RUN_CONF)
    assert json.loads(template.render(dag_run=SimpleNamespace(conf=conf))) == conf
    assert json.loads(template.render(dag_run=SimpleNamespace(conf=None))) == {}


def _kubeconfig(tmp_path: Path) -> str:
    # Building a pod asks the hook whether it runs in a cluster; a kubeconfig answers offline.
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    return str(path)


def test_kubernetes_pods_carry_the_settings(
    dag_module: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from airflow.sdk import DAG

    for name, value in {**POD_ENV, "REVIEWOPS_POD_KUBECONFIG": _kubeconfig(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    settings = dag_module.DagSettings()
    with DAG("t_pods", schedule=None):
        tasks = {t.task_id: t for t in dag_module.build_tasks(settings)}
    pods: dict[str, Any] = {name: task.build_pod_request_obj() for name, task in tasks.items()}
    for name, pod in pods.items():
        main = pod.spec.containers[0]
        assert main.image == "registry.example/reviewops-analysis:1.2.3"
        assert main.image_pull_policy == "Always"
        assert main.command == ["reviewops"] and main.args[:4] == ["stage", name, "--run-id", "{{ run_id }}"]
        assert pod.metadata.namespace == "reviewops-runs"
        assert pod.spec.service_account_name == "reviewops-analysis"
        assert pod.spec.node_selector == {"pool": "analysis"}
        assert [s.name for s in pod.spec.image_pull_secrets] == ["registry-creds"]
        assert [e.secret_ref.name for e in main.env_from if e.secret_ref] == [
            "reviewops-store",
            "reviewops-mlflow",
        ]
        assert [e.config_map_ref.name for e in main.env_from if e.config_map_ref] == ["reviewops-analysis"]
        assert "/artifacts" in [m.mount_path for m in main.volume_mounts]
        claims = [v.persistent_volume_claim.claim_name for v in pod.spec.volumes if v.persistent_volume_claim]
        assert claims == ["reviewops-artifacts"]
        assert pod.metadata.labels["reviewops.io/stage"] == name
        assert not any(e.name.startswith("REVIEWOPS_STORE") for e in main.env or [])  # by reference only
        sidecars = [c.name for c in pod.spec.containers[1:]]
        assert sidecars == (["airflow-xcom-sidecar"] if name == "publish" else [])
    default = pods["topics"].spec.containers[0].resources
    assert default.requests == {"cpu": "1", "memory": "2Gi"} and default.limits == {"memory": "3Gi"}
    heavy = pods["sentiment"].spec.containers[0].resources
    assert heavy.requests == {"cpu": "2"} and heavy.limits == {"memory": "6Gi"}
    assert pods["validate"].spec.containers[0].args[4:] == ["--conf", dag_module.RUN_CONF]
    assert pods["publish"].spec.containers[0].args[4:] == ["--xcom-file", "/airflow/xcom/return.json"]
    assert tasks["validate"].retries == 0 and tasks["load"].retries == 2


def test_bad_settings_name_the_variable(dag_module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("REVIEWOPS_DAG_MODE", "kubernetes")
    with pytest.raises(ValidationError, match="REVIEWOPS_POD_IMAGE is required"):
        dag_module.DagSettings()
    monkeypatch.setenv("REVIEWOPS_POD_IMAGE", "x")
    monkeypatch.setenv("REVIEWOPS_POD_STAGE_RESOURCES", '{"scrape": {}}')
    with pytest.raises(ValidationError, match="unknown stage"):
        dag_module.DagSettings()
    monkeypatch.setenv("REVIEWOPS_DAG_MODE", "celery")
    with pytest.raises(ValidationError, match="dag_mode"):
        dag_module.DagSettings()


def test_pod_logs_are_followed_unless_turned_off(
    dag_module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk import DAG

    for name, value in POD_ENV.items():
        monkeypatch.setenv(name, value)
    with DAG("t_logs_on", schedule=None):
        assert all(t.get_logs for t in dag_module.build_tasks(dag_module.DagSettings()))
    monkeypatch.setenv("REVIEWOPS_POD_GET_LOGS", "false")  # no kubelet serves logs (kwok)
    with DAG("t_logs_off", schedule=None):
        assert not any(t.get_logs for t in dag_module.build_tasks(dag_module.DagSettings()))
