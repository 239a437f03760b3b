#!/usr/bin/env bash
# The chart's checks (`make chart-check`, and tests/test_helm_chart.py through `tools`):
#   bash deploy/helm/chart-check.sh          helm lint --strict, helm template, and the
#                                             schema check of every rendered manifest
#   bash deploy/helm/chart-check.sh tools    only get the tools; prints HELM=… and CHECK=…
#
# helm is built from its Go module (`go install helm.sh/helm/v3/cmd/helm@HELM_VERSION`
# through the Go module proxy, about 2-3 minutes the first time) with the version
# stamps a release build has, and cached in $INDGANG_CACHE/helm/<version>/helm. The
# schema check (deploy/helm/check: strict decoding into k8s.io/api's types, plus the
# cross-references between objects) is built once per source into $INDGANG_CACHE/bin.
# Exit status 3 when a tool cannot be built here (no Go, no module proxy): the tests
# skip with that reason; anything else non-zero is a failed check.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${INDGANG_CACHE:-$HOME/.cache/indgang}"
HELM_VERSION="${HELM_VERSION:-v3.19.0}"
# The Kubernetes version helm assumes when no cluster is asked (its k8s.io modules').
KUBE_VERSION="${KUBE_VERSION:-1.34.0}"
CHART="$ROOT/deploy/helm/indgang"
VALUES="$CHART/ci/test-values.yaml"
[[ -d /usr/local/go/bin ]] && PATH="$PATH:/usr/local/go/bin"

log() { printf '[chart] %s\n' "$*" >&2; }
cannot() {
    printf '[chart] cannot build the tools: %s\n' "$*" >&2
    exit 3
}

helm_binary() {
    local dir="$CACHE/helm/$HELM_VERSION" pkg=helm.sh/helm/v3 start
    if [[ -x "$dir/helm" ]] && "$dir/helm" version --short 2>/dev/null | grep -qF "$HELM_VERSION"; then
        echo "$dir/helm"
        return
    fi
    command -v go >/dev/null 2>&1 || cannot "no Go toolchain to build helm $HELM_VERSION"
    mkdir -p "$dir"
    log "building helm $HELM_VERSION from its Go module into $dir (once; 2-3 minutes)"
    start=$(date +%s)
    local major="${KUBE_VERSION%%.*}" minor
    minor="${KUBE_VERSION#*.}"
    minor="${minor%%.*}"
    GOBIN="$dir" GOFLAGS=-mod=mod go install -ldflags "-s -w \
        -X $pkg/internal/version.version=$HELM_VERSION \
        -X $pkg/pkg/lint/rules.k8sVersionMajor=$major -X $pkg/pkg/lint/rules.k8sVersionMinor=$minor \
        -X $pkg/pkg/chartutil.k8sVersionMajor=$major -X $pkg/pkg/chartutil.k8sVersionMinor=$minor" \
        "$pkg/cmd/helm@$HELM_VERSION" >&2 || cannot "go install $pkg/cmd/helm@$HELM_VERSION failed"
    log "helm built in $(($(date +%s) - start))s"
    echo "$dir/helm"
}

check_binary() {
    local src="$ROOT/deploy/helm/check" sum bin
    sum="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)"
    bin="$CACHE/bin/indgang-chart-check-$sum"
    if [[ ! -x "$bin" ]]; then
        command -v go >/dev/null 2>&1 || cannot "no Go toolchain to build the schema check"
        mkdir -p "$CACHE/bin"
        log "building the schema check (deploy/helm/check) into $bin"
        (cd "$src" && go build -o "$bin" .) >&2 || cannot "go build deploy/helm/check failed"
    fi
    echo "$bin"
}

HELM="$(helm_binary)"
CHECK="$(check_binary)"
if [[ "${1:-}" == tools ]]; then
    printf 'HELM=%s\nCHECK=%s\nKUBE_VERSION=%s\n' "$HELM" "$CHECK" "$KUBE_VERSION"
    exit 0
fi

log "helm lint --strict (values: ${VALUES#"$ROOT"/})"
"$HELM" lint --strict "$CHART" -f "$VALUES"
log "helm template | schema check"
"$HELM" template indgang "$CHART" -f "$VALUES" --namespace indgang | "$CHECK"
log "without the Secrets' names the chart must not render"
if out="$("$HELM" template indgang "$CHART" 2>&1)"; then
    log "FAIL: the chart rendered without any values"
    exit 1
fi
grep -q "is required" <<<"$out" || { log "FAIL: unexpected error: $out"; exit 1; }
log "ok"
