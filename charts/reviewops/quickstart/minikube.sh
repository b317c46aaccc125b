#!/usr/bin/env bash
# ReviewOps on Minikube: Prometheus + Grafana (kube-prometheus-stack), PostgreSQL + MLflow,
# Airflow with the review_analysis DAG, the operator (this chart), then one demo analysis.
#
#   bash charts/reviewops/quickstart/minikube.sh          # from the repository root
#
# Every step can be run again: it creates what is missing and upgrades the rest (helm upgrade
# --install, kubectl apply, Secrets created once with random passwords). Needs minikube, kubectl,
# helm, openssl and ~4 CPUs / 8 GiB for the profile. Tested only by rendering its values and
# manifests (tests/test_chart.py): no Minikube in CI.
set -euo pipefail

PROFILE=${REVIEWOPS_MINIKUBE_PROFILE:-reviewops}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
VERSION=0.1.0

step() { printf '\n== %s\n' "$*"; }
need() { command -v "$1" >/dev/null || { echo "missing: $1" >&2; exit 1; }; }
namespace() { kubectl create namespace "$1" --dry-run=client -o yaml | kubectl apply -f - >/dev/null; }
random() { openssl rand -hex 16; }
# secret NAMESPACE NAME KEY=VALUE...: created once, never overwritten (passwords stay stable).
secret() {
  local ns=$1 name=$2; shift 2
  if kubectl -n "$ns" get secret "$name" >/dev/null 2>&1; then return; fi
  local args=(); for pair in "$@"; do args+=("--from-literal=$pair"); done
  kubectl -n "$ns" create secret generic "$name" "${args[@]}" >/dev/null
}
secret_value() { kubectl -n "$1" get secret "$2" -o "jsonpath={.data.$3}" | base64 -d; }

for tool in minikube kubectl helm openssl; do need "$tool"; done
cd "$ROOT"

step "1. Minikube profile $PROFILE"
minikube -p "$PROFILE" status >/dev/null 2>&1 || minikube start -p "$PROFILE" --cpus=4 --memory=8g
kubectl config use-context "$PROFILE" >/dev/null

step "2. Images, built inside Minikube (imagePullPolicy: Never)"
minikube -p "$PROFILE" image build -t "reviewops-analysis:$VERSION" -f analysis/Dockerfile .
minikube -p "$PROFILE" image build -t "reviewops-operator:$VERSION" -f operator/Dockerfile .

step "3. Namespaces and Secrets"
for ns in monitoring reviewops-data airflow reviewops-system insights; do namespace "$ns"; done
secret reviewops-data postgresql \
  "postgres-password=$(random)" "reviewops-password=$(random)" "grafana-password=$(random)"
secret monitoring reviewops-results "password=$(secret_value reviewops-data postgresql grafana-password)"
store_password=$(secret_value reviewops-data postgresql reviewops-password)
secret airflow reviewops-analysis-env \
  "REVIEWOPS_STORE_URL=postgresql+psycopg://reviewops:${store_password}@postgresql.reviewops-data:5432/reviewops" \
  "REVIEWOPS_MLFLOW_TRACKING_URI=http://mlflow.reviewops-data:5000" \
  "REVIEWOPS_ARTIFACTS_URL=/artifacts"
secret reviewops-system reviewops-airflow username=admin password=admin  # airflow-values.yaml's user

step "4. PostgreSQL and MLflow"
kubectl apply -f "$HERE/backends.yaml"
kubectl -n reviewops-data rollout status statefulset/postgresql --timeout=5m
kubectl -n reviewops-data rollout status deployment/mlflow --timeout=5m

step "5. Prometheus, Alertmanager and Grafana (kube-prometheus-stack, release kps)"
helm repo add prometheus-community https://prometheus-community.github.io/helm-charts --force-update >/dev/null
helm upgrade --install kps prometheus-community/kube-prometheus-stack -n monitoring \
  -f "$HERE/kube-prometheus-stack-values.yaml" --wait --timeout 15m

step "6. Airflow with the review_analysis DAG"
kubectl -n airflow create configmap reviewops-dag --from-file=dags/review_analysis.py \
  --dry-run=client -o yaml | kubectl apply -f -
helm repo add apache-airflow https://airflow.apache.org --force-update >/dev/null
helm upgrade --install airflow apache-airflow/airflow -n airflow \
  -f "$HERE/airflow-values.yaml" --wait --timeout 20m

step "7. The ReviewOps operator (this chart)"
helm upgrade --install reviewops charts/reviewops -n reviewops-system \
  -f "$HERE/reviewops-values.yaml" --wait --timeout 5m
kubectl wait --for=condition=Established crd/reviewanalyses.reviewops.io --timeout=60s

step "8. A one-shot demo analysis (generated reviews, no network)"
kubectl apply -f examples/oneshot-demo.yaml
kubectl -n insights wait reviewanalysis/oneshot-demo --for=jsonpath='{.status.phase}'=Succeeded --timeout=30m

step "Done"
cat <<EOF
  kubectl -n insights get reviewanalyses
  kubectl -n monitoring port-forward svc/kps-grafana 3000:80      # http://localhost:3000
    user admin, password: kubectl -n monitoring get secret kps-grafana -o jsonpath='{.data.admin-password}' | base64 -d
    dashboards: folder ReviewOps (operator) and the analysis' own (status.dashboard.uid)
  kubectl -n monitoring port-forward svc/kps-kube-prometheus-stack-prometheus 9090   # alerts: /alerts
  kubectl -n airflow port-forward svc/airflow-api-server 8080                        # admin / admin
  kubectl -n reviewops-data port-forward svc/mlflow 5000
Remove everything: minikube delete -p $PROFILE
EOF
