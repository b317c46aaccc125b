"""The Helm chart, rendered by the real helm: lint, defaults, every option, settings, schema.

The cluster side (server-side dry-run of every manifest, install and uninstall) is in
tests/test_chart_cluster.py; the ServiceMonitor's scrape and the alert rules run on a real
Prometheus in tests/test_dashboard_queries.py and tests/test_alert_rules.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from reviewops_operator.settings import Settings
from tests.support.helm import CHART, FULL_VALUES, NAMESPACE, ROOT, full_values, helm, one, refused, render

Manifest = dict[str, Any]

# Settings field → the value that sets it. Credentials have no plain value: only their *_FILE
# twin is set, from a mounted Secret (the pair is listed under the plain name too).
SETTINGS_VALUES: dict[str, str] = {
    "reconcile_interval_seconds": "operator.reconcileIntervalSeconds",
    "airflow_url": "airflow.url",
    "airflow_username": "airflow.credentialsSecret.usernameKey (file only)",
    "airflow_username_file": "airflow.credentialsSecret.usernameKey",
    "airflow_password": "airflow.credentialsSecret.passwordKey (file only)",
    "airflow_password_file": "airflow.credentialsSecret.passwordKey",
    "airflow_dag_id": "airflow.dagId",
    "airflow_timeout_seconds": "airflow.timeoutSeconds",
    "airflow_verify_tls": "airflow.verifyTls",
    "mlflow_tracking_uri": "mlflow.trackingUri",
    "mlflow_ui_url": "mlflow.uiUrl",
    "mlflow_timeout_seconds": "mlflow.timeoutSeconds",
    "grafana_mode": "grafana.mode",
    "grafana_url": "grafana.url",
    "grafana_token": "grafana.tokenSecret (file only)",
    "grafana_token_file": "grafana.tokenSecret",
    "grafana_timeout_seconds": "grafana.timeoutSeconds",
    "grafana_dashboard_namespace": "grafana.dashboardNamespace",
    "grafana_results_datasource_uid": "grafana.resultsDatasourceUid",
    "grafana_prometheus_datasource_uid": "grafana.prometheusDatasourceUid",
    "dashboard_template_dir": "grafana.dashboardTemplateDir",
    "namespaces": "operator.namespaces",
    "allowed_model_uris": "policy.allowedModelUris",
    "allowed_file_roots": "policy.allowedFileRoots",
    "kubernetes_api_url": "operator.kubernetesApiUrl",
    "standalone": "operator.standalone",
    "peering_name": "operator.peeringName",
    "peering_priority": "operator.peeringPriority",
    "peering_lifetime_seconds": "operator.peeringLifetimeSeconds",
    "scanning": "operator.scanning",
    "resync_seconds": "operator.resyncSeconds",
    "retry_base_seconds": "operator.retryBaseSeconds",
    "retry_max_seconds": "operator.retryMaxSeconds",
    "delete_max_retries": "operator.deleteMaxRetries",
    "metrics_port": "operator.metricsPort",
    "health_port": "operator.healthPort",
}
SECRET_FILES = {"airflow_username_file", "airflow_password_file", "grafana_token_file"}


def lookup(values: dict[str, Any], path: str) -> Any:
    node: Any = values
    for part in path.split(" ", maxsplit=1)[0].split("."):
        node = node[part]
    return node


def container(manifests: list[Manifest]) -> dict[str, Any]:
    deployment = one(manifests, "Deployment")
    (found,) = deployment["spec"]["template"]["spec"]["containers"]
    result: dict[str, Any] = found
    return result


def env_of(manifests: list[Manifest]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container(manifests)["env"]}


# --- lint and render ------------------------------------------------------------------------------


@pytest.mark.parametrize("values", ["default", "full"])
def test_helm_lint_is_clean(values: str) -> None:
    args = ["lint", "--strict", str(CHART)] + (["--values", str(FULL_VALUES)] if values == "full" else [])
    done = helm(*args)
    assert "0 chart(s) failed" in done.stdout
    assert "[WARNING]" not in done.stdout and "[ERROR]" not in done.stdout


def test_defaults_render_the_operator_and_nothing_optional() -> None:
    manifests = render()
    kinds = sorted(m["kind"] for m in manifests)
    assert kinds == sorted(
        [
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Deployment",
            "Service",
            "ConfigMap",
            "ConfigMap",
        ]
    )
    assert not [m for m in manifests if m["kind"] == "Secret"], "the chart never holds a credential"
    deployment = one(manifests, "Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
    box = container(manifests)
    security = box["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert {"cpu", "memory"} <= set(box["resources"]["requests"]) and "memory" in box["resources"]["limits"]
    mounts = {m["mountPath"] for m in box["volumeMounts"]}
    assert "/tmp" in mounts, "a read-only root filesystem needs a writable /tmp"


def test_probes_and_ports_follow_the_operators_ports() -> None:
    for metrics, health in ((9090, 8080), (9191, 0), (0, 8181), (0, 0)):
        manifests = render({"operator": {"metricsPort": metrics, "healthPort": health}})
        box = container(manifests)
        env = env_of(manifests)
        assert env["REVIEWOPS_METRICS_PORT"]["value"] == str(metrics)
        assert env["REVIEWOPS_HEALTH_PORT"]["value"] == str(health)
        ports = {p["name"]: p["containerPort"] for p in box.get("ports", [])}
        assert ports == {k: v for k, v in (("metrics", metrics), ("health", health)) if v}
        if health:
            for probe in ("startupProbe", "livenessProbe"):
                assert box[probe]["httpGet"] == {"path": "/healthz", "port": "health"}
        else:
            assert "livenessProbe" not in box and "startupProbe" not in box
        readiness = box.get("readinessProbe", {}).get("httpGet")
        expected = {"path": "/metrics", "port": "metrics"} if metrics else None
        if not metrics and health:
            expected = {"path": "/healthz", "port": "health"}
        assert readiness == expected
        services = [m for m in manifests if m["kind"] == "Service"]
        assert len(services) == (1 if metrics else 0)


def test_full_values_render_every_optional_part() -> None:
    manifests = render(full_values())
    kinds = sorted(m["kind"] for m in manifests)
    assert kinds == sorted(
        [
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Deployment",
            "Service",
            "ConfigMap",
            "ConfigMap",
            "ConfigMap",
            "ServiceMonitor",
            "PrometheusRule",
            "KopfPeering",  # peering, one per watched namespace
            "KopfPeering",
        ]
    )
    assert one(manifests, "Deployment")["spec"]["replicas"] == 2  # peering: not standalone


def test_service_monitor_selects_the_service_keeps_analysis_namespaces_and_has_the_release_label() -> None:
    values = full_values()
    manifests = render(values)
    monitor, service = one(manifests, "ServiceMonitor"), one(manifests, "Service")
    deployment = one(manifests, "Deployment")
    assert monitor["metadata"]["namespace"] == "monitoring"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["honorLabels"] is True  # the analysis' `namespace` label must survive the scrape
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == "metrics"
    assert endpoint["metricRelabelings"] == values["metrics"]["serviceMonitor"]["metricRelabelings"]


def test_dashboards_and_template_are_the_generated_files() -> None:
    manifests = render(full_values())
    sidecar = one(manifests, "ConfigMap", "-dashboards")
    assert sidecar["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert sidecar["metadata"]["annotations"]["grafana_folder"] == "Insights"
    assert sidecar["metadata"]["namespace"] == "monitoring"
    operator_json = (ROOT / "dashboards" / "operator.json").read_text(encoding="utf-8")
    assert json.loads(sidecar["data"]["reviewops-operator.json"]) == json.loads(operator_json)
    template = one(manifests, "ConfigMap", "-dashboard-template")
    assert "grafana_dashboard" not in template["metadata"]["labels"], "a template is not a dashboard"
    analysis_json = (ROOT / "dashboards" / "analysis.json").read_text(encoding="utf-8")
    assert json.loads(template["data"]["analysis.json"]) == json.loads(analysis_json)
    mounted = {m["name"]: m["mountPath"] for m in container(manifests)["volumeMounts"]}
    assert env_of(manifests)["REVIEWOPS_DASHBOARD_TEMPLATE_DIR"]["value"] == mounted["dashboard-template"]


def test_results_datasource_has_the_uid_the_operator_preselects_and_no_password() -> None:
    values = full_values()
    manifests = render(values)
    config = one(manifests, "ConfigMap", "-results-datasource")
    assert config["metadata"]["labels"]["grafana_datasource"] == "1"
    provisioning = yaml.safe_load(config["data"]["reviewops-results.yaml"])
    (source,) = provisioning["datasources"]
    assert source["uid"] == values["grafana"]["resultsDatasourceUid"]
    assert env_of(manifests)["REVIEWOPS_GRAFANA_RESULTS_DATASOURCE_UID"]["value"] == source["uid"]
    assert source["type"] == "grafana-postgresql-datasource"
    assert source["jsonData"]["database"] == "reviewops"
    assert source["secureJsonData"] == {"password": "$__file{/etc/secrets/reviewops-results/password}"}


def test_chart_crd_is_a_copy_of_the_repositorys_crd() -> None:
    copied = (CHART / "crds" / "reviewanalysis.yaml").read_text(encoding="utf-8")
    assert copied == (ROOT / "crds" / "reviewanalysis.yaml").read_text(encoding="utf-8"), (
        "cp crds/reviewanalysis.yaml charts/reviewops/crds/"
    )


def test_credentials_come_only_from_secret_references() -> None:
    for values in ({}, full_values()):
        manifests = render(values)
        env = env_of(manifests)
        for name, entry in env.items():
            if any(word in name for word in ("PASSWORD", "TOKEN", "USERNAME")):
                assert name.endswith("_FILE") or "secretKeyRef" in entry.get("valueFrom", {}), name
        volumes = {v["name"]: v for v in one(manifests, "Deployment")["spec"]["template"]["spec"]["volumes"]}
        mounts = {m["mountPath"]: m for m in container(manifests)["volumeMounts"]}
        for name, entry in env.items():
            if name.endswith("_FILE"):
                folder = str(Path(entry["value"]).parent)
                mount = mounts[folder]
                assert mount["readOnly"] is True and "secret" in volumes[mount["name"]], name
    env = env_of(render(full_values()))
    assert env["MLFLOW_TRACKING_TOKEN"]["valueFrom"] == {
        "secretKeyRef": {"name": "mlflow-credentials", "key": "token"}
    }
    assert "MLFLOW_TRACKING_PASSWORD" not in env  # an empty key sets nothing


# --- values ↔ REVIEWOPS_* settings ---------------------------------------------------------------


def test_every_setting_has_exactly_one_value() -> None:
    assert set(SETTINGS_VALUES) == set(Settings.model_fields), (
        "a setting was added or removed: map it to a value in charts/reviewops/values.yaml"
    )


def settings_from(manifests: list[Manifest], folder: Path, secrets: dict[str, dict[str, str]]) -> Settings:
    """The operator's Settings in the rendered pod: its env, with Secret volumes projected into
    `folder` as the kubelet would (each item's key → path, from `secrets[name][key]`)."""
    pod = one(manifests, "Deployment")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    rewrite: dict[str, str] = {}
    for mount in container(manifests)["volumeMounts"]:
        source = volumes[mount["name"]].get("secret")
        if source is None:
            continue
        target = folder / mount["name"]
        target.mkdir(parents=True)
        for item in source["items"]:
            (target / item["path"]).write_text(secrets[source["secretName"]][item["key"]] + "\n")
        rewrite[mount["mountPath"]] = str(target)
    environment: dict[str, str] = {}
    for entry in container(manifests)["env"]:
        if "value" not in entry:
            continue
        value = str(entry["value"])
        for mounted, local in rewrite.items():
            value = value.replace(mounted, local)
        environment[entry["name"]] = value
    assert all(isinstance(e.get("value"), str) for e in container(manifests)["env"] if "value" in e)
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in __import__("os").environ if k.startswith("REVIEWOPS_")]:
            patch.delenv(key)
        for key, value in environment.items():
            patch.setenv(key, value)
        return Settings()


def test_rendered_environment_gives_the_operator_exactly_the_values(tmp_path: Path) -> None:
    values = full_values()
    secrets = {
        "airflow-operator-user": {"user": "svc-reviewops", "pass": "s3cret"},
        "grafana-service-account": {"sa-token": "glsa_token"},
    }
    settings = settings_from(render(values), tmp_path, secrets)
    folder_of = {
        "airflow_username_file": "airflow-credentials",
        "airflow_password_file": "airflow-credentials",
    }
    for field, path in SETTINGS_VALUES.items():
        got = getattr(settings, field)
        if path.endswith("(file only)"):
            assert got is None, f"{field} must not be set from a plain value"
            continue
        if field in SECRET_FILES:
            folder = folder_of.get(field, "grafana-token")
            assert got is not None and got.parent == tmp_path / folder, field
            continue
        expected = lookup(values, path)
        if field == "dashboard_template_dir":
            expected = expected or "/etc/reviewops/dashboards"
        if isinstance(expected, str) and isinstance(got, Path | str):
            got = str(got)
        assert got == expected or (hasattr(got, "value") and got.value == expected), (field, got, expected)
    assert settings.airflow_user() == "svc-reviewops" and settings.airflow_secret() == "s3cret"
    assert settings.grafana_secret() == "glsa_token"


def test_defaults_give_the_operators_own_defaults(tmp_path: Path) -> None:
    settings = settings_from(render(), tmp_path, {"reviewops-airflow": {"username": "u", "password": "p"}})
    defaults = Settings(
        airflow_url="http://airflow-api-server:8080",
        mlflow_tracking_uri="http://mlflow:5000",
        airflow_username="u",
        airflow_password=SecretStr("p"),
    )
    for field in Settings.model_fields:
        if field in SECRET_FILES or field in (
            "airflow_username",
            "airflow_password",
            "dashboard_template_dir",
        ):
            continue
        assert getattr(settings, field) == getattr(defaults, field), field


# --- values.schema.json ---------------------------------------------------------------------------


def merged(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        out[key] = merged(out.get(key, {}), value) if isinstance(value, dict) and value else value
    return out


BAD_VALUES = [
    ({"grafana": {"mode": "sidecar"}}, "grafana.mode"),
    ({"operator": {"metricsPort": 70000}}, "metricsPort"),
    ({"operator": {"healthPort": -1}}, "healthPort"),
    ({"operator": {"reconcileIntervalSeconds": 0}}, "reconcileIntervalSeconds"),
    ({"operator": {"standalone": False}}, "peeringName"),
    ({"operator": {"peeringLifetimeSeconds": 2}}, "peeringLifetimeSeconds"),
    ({"operator": {"peeringPriority": "high"}}, "peeringPriority"),
    (
        {"replicas": 2, "operator": {"standalone": False, "peeringName": "p", "peeringPriority": 5}},
        "peeringPriority",
    ),
    ({"operator": {"namespaces": ["Not_A_Namespace"]}}, "namespaces"),
    ({"policy": {"allowedFileRoots": ["data/reviews"]}}, "allowedFileRoots"),  # relative to what?
    ({"policy": {"allowedModelUris": ["models/"]}}, "allowedModelUris"),
    ({"replicas": 2}, "replicas"),
    ({"airflow": {"url": "airflow:8080"}}, "airflow.url"),
    ({"airflow": {"timeoutSeconds": "10s"}}, "timeoutSeconds"),
    ({"airflow": {"password": "hunter2"}}, "password"),
    ({"airflow": {"credentialsSecret": {"name": ""}}}, "credentialsSecret"),
    ({"mlflow": {"trackingUri": "sqlite:///mlflow.db"}}, "trackingUri"),
    ({"grafana": {"mode": "api"}}, "tokenSecret"),
    ({"grafana": {"token": "glsa_x"}}, "token"),
    ({"resultsDatasource": {"passwordReference": "hunter2"}}, "passwordReference"),
    ({"extraEnv": [{"name": "REVIEWOPS_AIRFLOW_URL", "value": "http://x"}]}, "extraEnv"),
    ({"extraEnv": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}, "extraEnv"),
    ({"securityContext": {"readOnlyRootFilesystem": False}}, "readOnlyRootFilesystem"),
    ({"podSecurityContext": {"runAsNonRoot": False}}, "runAsNonRoot"),
    ({"metrics": {"serviceMonitor": {"interval": "often"}}}, "interval"),
    ({"metrics": {"prometheusRule": {"minMacroF1": 1.5}}}, "minMacroF1"),
    ({"unknownTopLevel": True}, "unknownTopLevel"),
]


@pytest.mark.parametrize(("patch", "named"), BAD_VALUES, ids=[n for _, n in BAD_VALUES])
def test_schema_rejects_bad_values(patch: dict[str, Any], named: str) -> None:
    message = refused(merged({}, patch))
    assert "values don't meet the specifications of the schema" in message or "schema" in message, message
    assert named.rsplit(".", maxsplit=1)[-1] in message, message


def test_schema_accepts_the_documented_examples() -> None:
    render(merged({}, {"operator": {"standalone": False, "peeringName": "p"}, "replicas": 2}))
    render(merged({}, {"operator": {"standalone": False, "peeringName": "p", "peeringPriority": 0}}))
    render(merged({}, {"grafana": {"mode": "api", "url": "https://g", "tokenSecret": {"name": "t"}}}))
    render(merged({}, {"resultsDatasource": {"enabled": True, "passwordReference": "$__env{PG_PASSWORD}"}}))


# --- more than one replica: kopf peering ---------------------------------------------------------

PEERING: dict[str, Any] = {"replicas": 3, "operator": {"standalone": False, "peeringName": "reviewops"}}


def test_peering_renders_the_peering_object_its_rbac_and_a_rolling_deployment() -> None:
    manifests = render(PEERING)
    (peering,) = [m for m in manifests if m["apiVersion"] == "kopf.dev/v1"]
    assert peering["kind"] == "ClusterKopfPeering" and peering["metadata"]["name"] == "reviewops"
    rules = [r for r in one(manifests, "ClusterRole")["rules"] if r["apiGroups"] == ["kopf.dev"]]
    assert rules == [
        {"apiGroups": ["kopf.dev"], "resources": ["clusterkopfpeerings"], "verbs": ["list", "watch"]},
        {"apiGroups": ["kopf.dev"], "resources": ["clusterkopfpeerings"], "resourceNames": ["reviewops"],
         "verbs": ["patch"]},
    ]  # fmt: skip
    spec = one(manifests, "Deployment")["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    env = env_of(manifests)
    assert env["POD_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}  # kopf's identity
    assert "REVIEWOPS_PEERING_PRIORITY" not in env  # each replica derives its own
    assert env["REVIEWOPS_PEERING_LIFETIME_SECONDS"]["value"] == "60"
    anti = spec["template"]["spec"]["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    assert anti[0]["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert anti[0]["podAffinityTerm"]["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]
    # A user's affinity replaces the default spreading.
    mine = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["ops"]}]}]}}}  # fmt: skip
    assert (
        one(render({**PEERING, "affinity": mine}), "Deployment")["spec"]["template"]["spec"]["affinity"]
        == mine
    )


def test_namespaced_peering_is_a_kopfpeering_in_each_watched_namespace() -> None:
    values = merged(PEERING, {"operator": {"namespaces": ["insights", "team-b"]}})
    manifests = render(values)
    peerings = [m for m in manifests if m["apiVersion"] == "kopf.dev/v1"]
    assert sorted((m["kind"], m["metadata"]["namespace"]) for m in peerings) == [
        ("KopfPeering", "insights"),
        ("KopfPeering", "team-b"),
    ]
    rules = [r for r in one(manifests, "ClusterRole")["rules"] if r["apiGroups"] == ["kopf.dev"]]
    assert {tuple(r["resources"]) for r in rules} == {("kopfpeerings",)}


def test_standalone_renders_no_peering() -> None:
    manifests = render()
    assert not [m for m in manifests if m["apiVersion"] == "kopf.dev/v1"]
    assert not [r for r in one(manifests, "ClusterRole")["rules"] if r["apiGroups"] == ["kopf.dev"]]
    assert "POD_ID" not in env_of(manifests)
    assert "affinity" not in one(manifests, "Deployment")["spec"]["template"]["spec"]


def test_a_fixed_priority_reaches_the_operator_exactly(tmp_path: Path) -> None:
    values = merged(PEERING, {"replicas": 1, "operator": {"peeringPriority": -1764700000123456}})
    settings = settings_from(
        render(values), tmp_path, {"reviewops-airflow": {"username": "u", "password": "p"}}
    )
    assert settings.peering_priority == -1764700000123456  # no float rounding on the way


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"replicas": 2}, "replicas > 1 needs kopf peering"),
        (
            {**PEERING, "operator": {**PEERING["operator"], "peeringPriority": 7}},
            "peeringPriority must be empty",
        ),
    ],
)
def test_unsafe_replicas_fail_even_without_the_schema(patch: dict[str, Any], message: str) -> None:
    done = helm("template", "reviewops", str(CHART), "--skip-schema-validation", values=patch, check=False)
    assert done.returncode != 0 and message in done.stderr, done.stderr


def test_chart_ships_kopfs_peering_crds() -> None:
    crds = {
        m["metadata"]["name"]: m for m in render(include_crds=True) if m["kind"] == "CustomResourceDefinition"
    }
    for plural, kind, scope in (
        ("clusterkopfpeerings", "ClusterKopfPeering", "Cluster"),
        ("kopfpeerings", "KopfPeering", "Namespaced"),
    ):
        spec = crds[f"{plural}.kopf.dev"]["spec"]
        assert (spec["names"]["kind"], spec["scope"]) == (kind, scope)
        (version,) = spec["versions"]
        assert version["name"] == "v1" and "subresources" not in version  # kopf patches status in place
        status = version["schema"]["openAPIV3Schema"]["properties"]["status"]
        assert status == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


# --- the Minikube quickstart (charts/reviewops/quickstart; it cannot run here) -----------------

QUICKSTART = CHART / "quickstart"


def test_quickstart_values_render_and_wire_the_parts_together() -> None:
    values = yaml.safe_load((QUICKSTART / "reviewops-values.yaml").read_text(encoding="utf-8"))
    helm("lint", "--strict", str(CHART), "--values", str(QUICKSTART / "reviewops-values.yaml"))
    manifests = render(values)
    assert one(manifests, "ServiceMonitor")["metadata"]["labels"]["release"] == "kps"
    assert one(manifests, "PrometheusRule")["metadata"]["labels"]["release"] == "kps"
    role = one(manifests, "Role")  # dashboards only in Grafana's namespace: no cluster-wide ConfigMaps
    assert role["metadata"]["namespace"] == "monitoring"
    cluster_rules = one(manifests, "ClusterRole")["rules"]
    assert not [r for r in cluster_rules if "configmaps" in r["resources"]]
    prometheus = yaml.safe_load(
        (QUICKSTART / "kube-prometheus-stack-values.yaml").read_text(encoding="utf-8")
    )
    sidecar = prometheus["grafana"]["sidecar"]
    assert sidecar["dashboards"]["label"] == values.get("dashboards", {}).get("label", "grafana_dashboard")
    assert sidecar["datasources"]["label"] == "grafana_datasource"
    (mount,) = prometheus["grafana"]["extraSecretMounts"]
    assert values["resultsDatasource"]["passwordReference"] == f"$__file{{{mount['mountPath']}/password}}"
    airflow = yaml.safe_load((QUICKSTART / "airflow-values.yaml").read_text(encoding="utf-8"))
    env = {e["name"]: e["value"] for e in airflow["env"]}
    assert env["REVIEWOPS_DAG_MODE"] == "kubernetes" and env["REVIEWOPS_POD_IMAGE"].startswith(
        "reviewops-analysis:"
    )
    assert values["airflow"]["url"] == "http://airflow-api-server.airflow:8080"
    script = (QUICKSTART / "minikube.sh").read_text(encoding="utf-8")
    for needed in (
        "backends.yaml",
        "airflow-values.yaml",
        "kube-prometheus-stack-values.yaml",
        "reviewops-values.yaml",
    ):
        assert needed in script


def test_quickstart_script_is_valid_bash() -> None:
    import shutil
    import subprocess

    script = str(QUICKSTART / "minikube.sh")
    assert subprocess.run(["bash", "-n", script], check=False).returncode == 0
    checker = shutil.which("shellcheck")
    if checker is None:
        pytest.skip("shellcheck not installed (apt-get install shellcheck)")
    done = subprocess.run([checker, script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
