#!/usr/bin/env bash
# Builds the local control plane used by integration tests and the demo:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (k8s.io/kubernetes)
#   etcd (go.etcd.io/etcd/server/v3), kwok (sigs.k8s.io/kwok/cmd/kwok)
#   helm (helm.sh/helm/v4/cmd/helm), for the chart's integration tests
# from the Go module proxy, at the versions pinned in hack/cluster/versions.env,
# into a cache outside the repository:
#   ${NEURALLOG_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/neurallog-operator}/bin/<component>-<version>/
#
# Idempotent: components already present are skipped, so a warm run returns at once.
# A version can be overridden for one run from the environment, e.g.
#   KUBERNETES_VERSION=v1.34.4 hack/cluster/build.sh
#
# Why a wrapper module: k8s.io/kubernetes (and etcd's server module) require their
# sibling modules at v0.0.0 with `replace` to local directories, so
# `go install k8s.io/kubernetes/cmd/...@vX` is refused. A throw-away module that
# requires k8s.io/kubernetes and replaces every k8s.io/* v0.0.0 requirement with
# the matching published v0.<minor>.<patch> tag builds the same sources. The list
# of replacements is generated from that release's own go.mod.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
versions_file="$here/versions.env"

# Read versions.env; a variable already set in the environment wins.
while IFS='=' read -r key value; do
  [[ $key =~ ^[A-Z][A-Z0-9_]*$ ]] || continue
  if [[ -z "${!key:-}" ]]; then
    printf -v "$key" '%s' "$value"
  fi
done <"$versions_file"
: "${KUBERNETES_VERSION:?missing in $versions_file}"
: "${ETCD_VERSION:?missing in $versions_file}"
: "${KWOK_VERSION:?missing in $versions_file}"
: "${HELM_VERSION:?missing in $versions_file}"

cache_dir=${NEURALLOG_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/neurallog-operator}
bin_root="$cache_dir/bin"
build_root="$cache_dir/build"
mkdir -p "$bin_root" "$build_root"

# Two cores and bounded memory: at most two compile/link jobs at a time.
jobs=${NEURALLOG_BUILD_JOBS:-2}
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
export GOFLAGS="-p=$jobs -trimpath -buildvcs=false"
export CGO_ENABLED=0

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Go's own output (hundreds of `go: downloading` lines, then package paths) goes to a log file per
# component and phase; the terminal gets one progress line every $NEURALLOG_PROGRESS_SECONDS.
progress_every=${NEURALLOG_PROGRESS_SECONDS:-15}
log_dir="$build_root/logs"

count_lines() { # regex file -> count (0 when none or no file)
  grep -cE "$1" "$2" 2>/dev/null || true
}

progress_line() { # component phase total log seconds
  local downloads compiled
  downloads=$(count_lines '^go: downloading ' "$4")
  compiled=$(count_lines '^[A-Za-z0-9._~/+-]+$' "$4")
  if [[ $2 == resolve ]]; then
    log "$1: resolving and downloading modules: $downloads downloaded (${5}s)"
  elif [[ $3 -gt 0 ]]; then
    # Packages already in Go's build cache are not compiled again (nor counted), then linking.
    log "$1: compiling and linking: $compiled of $3 packages compiled ($((compiled * 100 / $3))%; ${5}s)"
  else
    log "$1: compiling and linking: $compiled packages compiled (${5}s)"
  fi
}

# Runs a go command with its output in "$log_dir/<component>-<phase>.log" and progress lines on the
# terminal. `total` is the package count when known (0 otherwise); stdout goes to `out` if given.
with_progress() { # component phase total out -- command...
  local component=$1 phase=$2 total=$3 out=$4
  shift 5
  mkdir -p "$log_dir"
  local logf="$log_dir/$component-$phase.log"
  : >"$logf"
  if [[ -n $out ]]; then "$@" >"$out" 2>>"$logf" & else "$@" >>"$logf" 2>&1 & fi
  local pid=$! t0=$SECONDS reported=$SECONDS rc=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if ((SECONDS - reported >= progress_every)); then
      progress_line "$component" "$phase" "$total" "$logf" $((SECONDS - t0))
      reported=$SECONDS
    fi
  done
  wait "$pid" || rc=$?
  if [[ $rc -ne 0 ]]; then
    log "$component: $phase failed (exit $rc); the last lines of $logf:"
    tail -n 30 "$logf" >&2
    exit "$rc"
  fi
  progress_line "$component" "$phase" "$total" "$logf" $((SECONDS - t0))
}

# Resolves (downloading every module needed) and counts the packages `go build` will compile.
# In a module's own directory (`go install pkg@version`), its go.mod and go.sum are used as they
# are (-mod=readonly), as `go install` does.
count_packages() { # component work-dir mod-mode out-dir packages...
  local component=$1 dir=$2 mode=$3 out=$4
  shift 4
  with_progress "$component" resolve 0 "$out/deps.txt" -- \
    bash -c 'cd "$0" && go list -mod="$1" -deps "${@:2}"' "$dir" "$mode" "$@"
  wc -l <"$out/deps.txt" | tr -d ' '
}

if ! command -v go >/dev/null 2>&1; then
  log "go is not on PATH; install Go >= 1.26 (e.g. from Debian's packages or the Go module proxy toolchain)"
  exit 1
fi

# Serialise concurrent builds (two test runs starting at once).
exec 9>"$cache_dir/.build.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

k8s_components=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

need_build() { # component version binary
  [[ ! -x "$bin_root/$1-$2/$3" ]]
}

missing_k8s=()
for c in "${k8s_components[@]}"; do
  if need_build "$c" "$KUBERNETES_VERSION" "$c"; then missing_k8s+=("$c"); fi
done
need_etcd=false
need_build etcd "$ETCD_VERSION" etcd && need_etcd=true
need_kwok=false
if need_build kwok "$KWOK_VERSION" kwok || [[ ! -f "$bin_root/kwok-$KWOK_VERSION/stages/.complete-2" ]]; then
  need_kwok=true
fi

need_helm=false
need_build helm "$HELM_VERSION" helm && need_helm=true

if [[ ${#missing_k8s[@]} -eq 0 && $need_etcd == false && $need_kwok == false && $need_helm == false ]]; then
  log "up to date: kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION, helm $HELM_VERSION in $bin_root"
  exit 0
fi

started_all=$SECONDS
log "go: $(go version)"
log "cache: $cache_dir (jobs=$jobs)"

work_dirs=()
cleanup() {
  local d
  for d in "${work_dirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

new_work_dir() { # name -> prints path
  local d
  d=$(mktemp -d "$build_root/$1.XXXXXX")
  work_dirs+=("$d")
  printf '%s\n' "$d"
}

# Prints one field ("Dir", "GoMod", "Info") of `go mod download -json module@version`.
mod_field() { # module@version field
  local json
  json=$(cd "$build_root" && GOFLAGS= go mod download -json "$1")
  printf '%s\n' "$json" | sed -n "s/^[[:space:]]*\"$2\": \"\(.*\)\",\{0,1\}$/\1/p" | head -n1
}

# Every "k8s.io/<m> v0.0.0" requirement (single-line or inside a require block)
# of a go.mod file, one module path per line.
k8s_v0_requirements() { # go.mod path
  awk '
    /^require[[:space:]]*\(/ { inblock = 1; next }
    inblock && /^\)/ { inblock = 0; next }
    {
      line = $0
      sub(/\/\/.*/, "", line)
      n = split(line, f, /[[:space:]]+/)
      # fields: ["", path, version] inside a block, ["require", path, version] on one line
      path = ""; ver = ""
      if (inblock) { for (i = 1; i <= n; i++) if (f[i] != "") { path = f[i]; ver = f[i + 1]; break } }
      else if (f[1] == "require") { path = f[2]; ver = f[3] }
      if (path ~ /^k8s\.io\// && ver == "v0.0.0") print path
    }
  ' "$1" | sort -u
}

build_kubernetes() {
  local v=$KUBERNETES_VERSION
  local minor_patch=${v#v1.}            # 36.3
  local minor=${minor_patch%%.*}         # 36
  local staging_version="v0.$minor_patch" # v0.36.3
  local t0=$SECONDS
  log "kubernetes $v: ${missing_k8s[*]} (staging modules at $staging_version)"

  local gomod info
  gomod=$(mod_field "k8s.io/kubernetes@$v" GoMod)
  info=$(mod_field "k8s.io/kubernetes@$v" Info)
  [[ -f $gomod ]] || { log "could not download k8s.io/kubernetes@$v"; exit 1; }

  local work
  work=$(new_work_dir "kubernetes-$v")
  local replaces
  replaces=$(k8s_v0_requirements "$gomod")
  local count
  count=$(printf '%s\n' "$replaces" | grep -c .)
  [[ $count -gt 0 ]] || { log "no k8s.io/* v0.0.0 requirements found in $gomod"; exit 1; }
  log "generated $count replace lines from k8s.io/kubernetes@$v go.mod"

  {
    printf 'module neurallog.local/cluster-build/kubernetes\n\n'
    printf 'go %s\n\n' "$(awk '$1 == "go" { print $2; exit }' "$gomod")"
    printf 'require k8s.io/kubernetes %s\n\n' "$v"
    printf 'replace (\n'
    local m
    while IFS= read -r m; do
      printf '\t%s => %s %s\n' "$m" "$m" "$staging_version"
    done <<<"$replaces"
    printf ')\n'
  } >"$work/go.mod"

  local commit build_date
  commit=$(sed -n 's/.*"Hash":"\([0-9a-f]\{40\}\)".*/\1/p' "$info" | head -n1)
  commit=${commit:-0000000000000000000000000000000000000000}
  build_date=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$info" | head -n1)
  build_date=${build_date:-1970-01-01T00:00:00Z}
  build_date=${build_date%%.*}
  [[ $build_date == *Z ]] || build_date="${build_date}Z"

  local ld="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitCommit=$commit -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
  done

  local out="$work/out"
  mkdir -p "$out"
  local pkgs=() c
  for c in "${missing_k8s[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  local total
  total=$(count_packages kubernetes "$work" mod "$work" "${pkgs[@]}")
  with_progress kubernetes compile "$total" '' -- \
    bash -c 'cd "$0" && go build -v -mod=mod -ldflags "$1" -o "$2/" "${@:3}"' "$work" "$ld" "$out" "${pkgs[@]}"
  for c in "${missing_k8s[@]}"; do
    local dest="$bin_root/$c-$v"
    mkdir -p "$dest"
    mv -f "$out/$c" "$dest/$c.tmp"
    mv -f "$dest/$c.tmp" "$dest/$c"
    cp "$work/go.mod" "$dest/build.go.mod"
  done
  log "kubernetes $v built in $((SECONDS - t0))s"
}

build_etcd() {
  local v=$ETCD_VERSION t0=$SECONDS
  log "etcd $v (go.etcd.io/etcd/server/v3)"
  local gomod
  gomod=$(mod_field "go.etcd.io/etcd/server/v3@$v" GoMod)
  [[ -f $gomod ]] || { log "could not download go.etcd.io/etcd/server/v3@$v"; exit 1; }
  local work
  work=$(new_work_dir "etcd-$v")
  # etcd's server module replaces its sibling modules with ../ paths; replace
  # directives of a dependency are ignored, and its requirements already name
  # the published versions, so requiring it is enough. Pin the siblings to the
  # same tag anyway (generated from its go.mod) so nothing newer is selected.
  local siblings
  siblings=$(awk '$2 == "=>" && $1 ~ /^go\.etcd\.io\/etcd\// && $3 ~ /^\.\./ { print $1 }' "$gomod" | sort -u)
  {
    printf 'module neurallog.local/cluster-build/etcd\n\n'
    printf 'go %s\n\n' "$(awk '$1 == "go" { print $2; exit }' "$gomod")"
    printf 'require go.etcd.io/etcd/server/v3 %s\n\n' "$v"
    if [[ -n $siblings ]]; then
      printf 'replace (\n'
      local m
      while IFS= read -r m; do printf '\t%s => %s %s\n' "$m" "$m" "$v"; done <<<"$siblings"
      printf ')\n'
    fi
  } >"$work/go.mod"
  local dest="$bin_root/etcd-$v"
  mkdir -p "$dest"
  local total
  total=$(count_packages etcd "$work" mod "$work" go.etcd.io/etcd/server/v3)
  with_progress etcd compile "$total" '' -- \
    bash -c 'cd "$0" && go build -v -mod=mod -ldflags "-s -w" -o "$1" go.etcd.io/etcd/server/v3' "$work" "$dest/etcd.tmp"
  mv -f "$dest/etcd.tmp" "$dest/etcd"
  cp "$work/go.mod" "$dest/build.go.mod"
  log "etcd $v built in $((SECONDS - t0))s"
}

build_kwok() {
  local v=$KWOK_VERSION t0=$SECONDS
  log "kwok $v (sigs.k8s.io/kwok/cmd/kwok)"
  local dest="$bin_root/kwok-$v"
  mkdir -p "$dest/stages" "$dest/manifests"
  if [[ ! -x "$dest/kwok" ]]; then
    local work
    work=$(new_work_dir "kwok-$v")
    local kwok_src total
    kwok_src=$(mod_field "sigs.k8s.io/kwok@$v" Dir)
    total=$(count_packages kwok "$kwok_src" readonly "$work" ./cmd/kwok)
    with_progress kwok install "$total" '' -- bash -c 'cd "$0" && GOBIN="$0" go install -v -ldflags "$1" "$2"' \
      "$work" "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${v#v}" "sigs.k8s.io/kwok/cmd/kwok@$v"
    mv -f "$work/kwok" "$dest/kwok.tmp"
    mv -f "$dest/kwok.tmp" "$dest/kwok"
  fi
  # kwok >= 0.8 embeds no default stages: copy the ones the cluster uses.
  local src
  src=$(mod_field "sigs.k8s.io/kwok@$v" Dir)
  [[ -d $src/kustomize/stage ]] || { log "no kustomize/stage in sigs.k8s.io/kwok@$v"; exit 1; }
  local s="$src/kustomize/stage"
  install -m 0644 "$s/node/fast/node-initialize.yaml" "$dest/stages/node-initialize.yaml"
  # Heartbeat through Leases (kwok --node-lease-duration-seconds): the node
  # lifecycle controller then never sees a stale node, whatever the status delay.
  install -m 0644 "$s/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" "$dest/stages/node-heartbeat-with-lease.yaml"
  install -m 0644 "$s/pod/fast/pod-complete.yaml" "$dest/stages/pod-complete.yaml"
  install -m 0644 "$s/pod/fast/pod-delete.yaml" "$dest/stages/pod-delete.yaml"
  # Volumes: kwok acts as the provisioner of StorageClass "kwok-volume"
  # (PVC -> PV -> Bound; PV deleted when its claim goes).
  install -m 0644 "$s/volume/fast/pvc-provision.yaml" "$dest/stages/pvc-provision.yaml"
  install -m 0644 "$s/volume/fast/pvc-delete.yaml" "$dest/stages/pvc-delete.yaml"
  install -m 0644 "$s/volume/fast/pv-bind.yaml" "$dest/stages/pv-bind.yaml"
  install -m 0644 "$s/volume/fast/pv-delete.yaml" "$dest/stages/pv-delete.yaml"
  install -m 0644 "$s/volume/fast/storage-class.yaml" "$dest/manifests/storage-class.yaml"
  install -m 0644 "$s/pod/fast/pod-ready.yaml" "$dest/stages/pod-ready.yaml"
  # kwok's volume stages only serve class "kwok-volume"; in this cluster kwok provisions every
  # class (the samples ask for e.g. fast-ssd), so match any claim or volume that names a class.
  sed -i "s/self.spec.storageClassName == 'kwok-volume'/has(self.spec.storageClassName)/" \
    "$dest"/stages/pvc-provision.yaml "$dest"/stages/pvc-delete.yaml "$dest"/stages/pv-bind.yaml "$dest"/stages/pv-delete.yaml
  # Written last: its presence marks the stage set as complete.
  touch "$dest/stages/.complete-2"
  log "kwok $v ready in $((SECONDS - t0))s"
}

build_helm() {
  local v=$HELM_VERSION t0=$SECONDS
  log "helm $v (helm.sh/helm/v4/cmd/helm)"
  local dest="$bin_root/helm-$v" work
  work=$(new_work_dir "helm-$v")
  mkdir -p "$dest"
  local helm_src total
  helm_src=$(mod_field "helm.sh/helm/v4@$v" Dir)
  total=$(count_packages helm "$helm_src" readonly "$work" ./cmd/helm)
  with_progress helm install "$total" '' -- bash -c 'cd "$0" && GOBIN="$0" go install -v -ldflags "$1" "$2"' \
    "$work" "-s -w -X helm.sh/helm/v4/internal/version.version=$v" "helm.sh/helm/v4/cmd/helm@$v"
  mv -f "$work/helm" "$dest/helm.tmp"
  mv -f "$dest/helm.tmp" "$dest/helm"
  log "helm $v built in $((SECONDS - t0))s"
}

[[ $need_kwok == true ]] && build_kwok
[[ $need_etcd == true ]] && build_etcd
[[ ${#missing_k8s[@]} -gt 0 ]] && build_kubernetes
[[ $need_helm == true ]] && build_helm

log "done in $((SECONDS - started_all))s; cache size: $(du -sh "$cache_dir" | cut -f1)"
