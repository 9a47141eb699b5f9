#!/usr/bin/env bash
# Build the VS Code extension as a platform-specific .vsix that carries promptwise and its pinned dependencies
# (vscode-extension/bundled/libs), so that it needs nothing but a Python 3.11+ on the user's machine.
#
#   bash scripts/package-extension.sh [--target linux-x64] [--pythons 3.11,3.12,3.13,3.14]
#
# Targets: linux-x64, linux-arm64, alpine-x64, alpine-arm64, darwin-x64, darwin-arm64, win32-x64, win32-arm64
# (whichever the pinned wheels exist for: scripts/bundle_libs.py stops with the missing ones named).
# Every wheel is checked against requirements/bundle.txt's sha256 hashes; the registry is the only network use.
# Prints the .vsix's path as its last line. Needs .venv (bash scripts/setup.sh), Node 20+ and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

target=linux-x64
pythons=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target="${2:?--target needs a value}"; shift 2 ;;
    --target=*) target="${1#*=}"; shift ;;
    --pythons) pythons="${2:?--pythons needs a value}"; shift 2 ;;
    --pythons=*) pythons="${1#*=}"; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package-extension.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

[ -x .venv/bin/python ] || bash scripts/setup.sh
command -v npm >/dev/null || { echo "package-extension.sh: npm not found (Node 20 or newer is needed)" >&2; exit 1; }

root="$(pwd)"
ext=vscode-extension
if [ ! -x "$ext/node_modules/.bin/vsce" ]; then
  (cd "$ext" && npm ci --no-audit --no-fund --loglevel=error 2>&1 | grep -v 'Unknown user config "nodedir"' || true)
fi

echo "[package] bundled libs for $target" >&2
.venv/bin/python scripts/bundle_libs.py --target "$target" --out "$ext/bundled/libs" ${pythons:+--pythons "$pythons"}

# On a machine of the target's kind, check that the bundled copy starts (-B: no bytecode left in the package).
host="$(uname -s)-$(uname -m)"
if [ "$target:$host" = "linux-x64:Linux-x86_64" ] && command -v python3 >/dev/null; then
  probe="$(cd / && python3 -I -B "$root/$ext/bundled/tool/run.py" --probe)"
  echo "[package] probe with $(command -v python3): $probe" >&2
  case "$probe" in
    *'"promptwise"'*) ;;
    *'"no_bundle"'*) echo "[package] (no bundled build for this python3; not checked)" >&2 ;;
    *) echo "package-extension.sh: the bundled promptwise does not import: $probe" >&2; exit 1 ;;
  esac
fi

cd "$ext"
version="$(node -p 'require("./package.json").version')"
vsix="promptwise-$target-$version.vsix"
rm -f "$vsix"
vsce() { node_modules/.bin/vsce "$@" 2>&1 | grep -v 'Unknown user config "nodedir"' >&2; }
# vsce's secret scan reads every file: on the bundled libs (registry files, each checked against its hash) it
# takes many minutes. So the extension's own files are packaged once with the scan, then everything without it.
scan="$(mktemp -d)"
trap 'rm -rf "$scan"' EXIT
grep -v '^!bundled/libs/' .vscodeignore >"$scan/own.vscodeignore"
echo "[package] secret scan of the extension's own files" >&2
vsce package --no-dependencies --allow-missing-repository --ignoreFile "$scan/own.vscodeignore" --out "$scan/own.vsix"
[ -f "$scan/own.vsix" ] || { echo "package-extension.sh: vsce package (own files, with the secret scan) failed" >&2; exit 1; }
echo "[package] $vsix with the bundled libs" >&2
vsce package --target "$target" --no-dependencies --allow-missing-repository --allow-package-all-secrets --out "$vsix"
[ -f "$vsix" ] || { echo "package-extension.sh: vsce package failed" >&2; exit 1; }
echo "$(pwd)/$vsix"
