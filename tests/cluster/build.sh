#!/usr/bin/env bash
# Build the test control plane from Go modules (no release downloads), once per version.
#   tests/cluster/build.sh            build what is missing, print the bin folders
#   tests/cluster/build.sh --print    print the bin folders only (exit 1 if any is missing)
# Each component is built in a throwaway local module (their own go.mod files carry replace
# directives, so `go install mod@v` is refused) and moved into place only when complete.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${REVIEWOPS_CLUSTER_CACHE:-$HOME/.cache/reviewops/control-plane}"
command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "build.sh: Go is not installed (need Go >= 1.26)" >&2; exit 1; }
export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" GOTOOLCHAIN=local
mode="${1:-build}"

k8s_dir="$cache/kubernetes-$KUBERNETES_VERSION"
etcd_dir="$cache/etcd-$ETCD_VERSION"
kwok_dir="$cache/kwok-$KWOK_VERSION"
helm_dir="$cache/helm-$HELM_VERSION"

log() { printf '[cluster-build %s] %s\n' "$(date +%T)" "$*" >&2; }

# Record how long a build took and how big it came out (read by the harness README / notes).
stamp() {  # dir seconds
  local dir=$1 secs=$2
  { echo "built_at=$(date -u +%FT%TZ)"; echo "build_seconds=$secs"; echo "go=$(go env GOVERSION)"
    for f in "$dir"/bin/*; do echo "size_$(basename "$f")=$(stat -c %s "$f")"; done; } >"$dir/BUILD_INFO"
}

build_kubernetes() {
  local v=$KUBERNETES_VERSION minor work t0 mod staging
  minor=$(echo "$v" | cut -d. -f2)
  work=$(mktemp -d); t0=$(date +%s)
  log "kubernetes $v: resolving modules"
  (cd "$work" && go mod init local/k8s-build >/dev/null 2>&1)
  mod=$(cd "$work" && go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  # The staging modules are replaced by ./staging/... in Kubernetes' own go.mod; here each one
  # is replaced by its published twin v0.<minor>.<patch>.
  staging=$(grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$mod" | awk '{print $1}')
  local patch=${v##*.} args=()
  for m in $staging; do args+=("-replace=$m=$m@v0.$minor.$patch"); done
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl) pkgs=()
  for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  (cd "$work" && go mod edit "${args[@]}" && go get "${pkgs[@]/%/@$v}")
  local pkg=k8s.io/component-base/version cgo=k8s.io/client-go/pkg/version ld="-s -w"
  for p in $pkg $cgo; do
    ld+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ld+=" -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  log "kubernetes $v: building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl"
  mkdir -p "$work/bin"
  (cd "$work" && go build -ldflags "$ld" -o bin/ "${pkgs[@]}")
  publish "$work" "$k8s_dir" $(( $(date +%s) - t0 ))
}

# A local module whose main package is a dependency: etcd's server module root, kwok, helm.
build_main_of() {  # name module version package dest
  local name=$1 module=$2 version=$3 package=$4 dest=$5 work t0
  work=$(mktemp -d); t0=$(date +%s)
  log "$name $version: building $package"
  (cd "$work" && go mod init "local/$name-build" >/dev/null 2>&1 \
     && go get "$package@$version" && mkdir -p bin && go build -ldflags "-s -w $6" -o "bin/$name" "$package")
  publish "$work" "$dest" $(( $(date +%s) - t0 ))
}

publish() {  # work dest seconds
  local work=$1 dest=$2 secs=$3 tmp
  tmp="$dest.partial.$$"; rm -rf "$tmp"; mkdir -p "$tmp/bin"
  cp "$work"/bin/* "$tmp/bin/"
  stamp "$tmp" "$secs"; rm -rf "$dest"; mv "$tmp" "$dest"; rm -rf "$work"
  log "$(basename "$dest"): done in ${secs}s"
}

ready() { [ -f "$1/BUILD_INFO" ]; }

if [ "$mode" = "--print" ]; then
  for d in "$k8s_dir" "$etcd_dir" "$kwok_dir" "$helm_dir"; do ready "$d" || exit 1; done
else
  mkdir -p "$cache"
  ready "$k8s_dir" || build_kubernetes
  ready "$etcd_dir" || build_main_of etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3 "$etcd_dir" \
    "-X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION"
  ready "$kwok_dir" || build_main_of kwok sigs.k8s.io/kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok "$kwok_dir" \
    "-X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION"
  ready "$helm_dir" || build_main_of helm helm.sh/helm/v4 "$HELM_VERSION" helm.sh/helm/v4/cmd/helm "$helm_dir" \
    "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
fi
printf '%s\n' "$k8s_dir/bin" "$etcd_dir/bin" "$kwok_dir/bin" "$helm_dir/bin"
