#!/usr/bin/env bash
# Builds the envtest binaries (kube-apiserver, kubectl, etcd) from Go modules,
# caches them per version in the user cache dir and prints that folder:
#
#   export KUBEBUILDER_ASSETS=$(hack/envtest-assets.sh)
#
# Only the folder goes to stdout; progress goes to stderr. A cached folder is
# printed immediately. Needs only the Go module proxy (no binary downloads).
#
# Environment overrides: K8S_VERSION (default v1.37.2), ETCD_VERSION (default
# v3.6.16, the latest v3.6 patch when this was written; list them with
# `go list -m -versions go.etcd.io/etcd/server/v3`).
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
# Staging modules k8s.io/foo are published as v0.X.Y for Kubernetes v1.X.Y.
STAGING_VERSION="v0.${K8S_VERSION#v1.}"

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/ingressguard/envtest"
DIR="$CACHE_ROOT/k8s-${K8S_VERSION#v}-etcd-${ETCD_VERSION#v}"

log() { echo "envtest-assets: $*" >&2; }

complete() { [[ -x "$DIR/kube-apiserver" && -x "$DIR/kubectl" && -x "$DIR/etcd" ]]; }

if complete; then
	echo "$DIR"
	exit 0
fi

mkdir -p "$CACHE_ROOT"
# Serialize concurrent callers (e.g. several test packages at once).
exec 9>"$CACHE_ROOT/.lock"
if command -v flock >/dev/null 2>&1; then
	flock 9
fi
if complete; then
	echo "$DIR"
	exit 0
fi

WORK="$(mktemp -d)"
OUT="$(mktemp -d "$CACHE_ROOT/.build-XXXXXX")"
trap 'rm -rf "$WORK" "$OUT"' EXIT

export GOWORK=off CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -mod=mod"
start=$SECONDS

# --- kube-apiserver and kubectl -------------------------------------------
log "resolving k8s.io/kubernetes@$K8S_VERSION"
gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
	sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
[[ -f "$gomod" ]] || { log "cannot find go.mod of k8s.io/kubernetes@$K8S_VERSION"; exit 1; }

# Every module that kubernetes replaces by ./staging/src/... is replaced here by
# its published version (replace directives of dependencies are ignored by Go).
staging="$(awk '$2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }' "$gomod")"
[[ -n "$staging" ]] || { log "no staging replaces found in $gomod"; exit 1; }

mkdir -p "$WORK/k8s"
{
	echo "module envtest.local/k8s"
	echo
	echo "go $(awk '$1 == "go" { print $2; exit }' "$gomod")"
	echo
	echo "require k8s.io/kubernetes $K8S_VERSION"
	echo
	echo "replace ("
	for m in $staging; do echo "	$m => $m $STAGING_VERSION"; done
	echo ")"
} >"$WORK/k8s/go.mod"
cat >"$WORK/k8s/tools.go" <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF

ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	minor="${K8S_VERSION#v1.}"
	ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*}"
	ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

log "building kube-apiserver and kubectl $K8S_VERSION (several minutes the first time)"
(
	cd "$WORK/k8s"
	go mod tidy >&2
	go build -trimpath -ldflags="$ldflags" -o "$OUT/" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl >&2
)

# --- etcd -----------------------------------------------------------------
log "building etcd $ETCD_VERSION"
mkdir -p "$WORK/etcd"
cat >"$WORK/etcd/go.mod" <<EOF
module envtest.local/etcd

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
EOF
cat >"$WORK/etcd/main.go" <<'EOF'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
(
	cd "$WORK/etcd"
	go mod tidy >&2
	go build -trimpath -ldflags="-s -w" -o "$OUT/etcd" . >&2
)

# --- install atomically ---------------------------------------------------
rm -rf "$DIR"
mv "$OUT" "$DIR"
chmod 755 "$DIR"
log "done in $((SECONDS - start))s: $DIR"
echo "$DIR"
