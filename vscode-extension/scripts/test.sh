#!/usr/bin/env bash
# The extension's whole check: npm ci, type-check, unit tests, esbuild bundle, vsce package, then the
# end-to-end test in code-server + Chromium (set up and cached by scripts/e2e-setup.sh).
# Ends with one line "vscode-extension: N passed, N failed, N skipped"; exits non-zero on any failure.
# PROMPTWISE_SKIP_E2E=1 leaves the end-to-end test out (it is then counted as skipped, not passed).
# PROMPTWISE_BUNDLE_PYTHONS=3.12 bundles for those Pythons only (default: 3.11 to 3.14).
set -uo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unit_pass=0 unit_fail=0 unit_skip=0 e2e_pass=0 e2e_fail=0 e2e_skip=0 build_fail=0

stage() { echo "== vscode-extension: $* =="; }
summary() {
  local passed=$((unit_pass + e2e_pass)) failed=$((unit_fail + e2e_fail + build_fail)) skipped=$((unit_skip + e2e_skip))
  echo "unit: $unit_pass passed, $unit_fail failed, $unit_skip skipped; e2e: $e2e_pass passed, $e2e_fail failed, $e2e_skip skipped"
  echo "vscode-extension: $passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
}
fail_build() { echo "vscode-extension: $* failed" >&2; build_fail=$((build_fail + 1)); summary; exit 1; }

command -v node >/dev/null && command -v npm >/dev/null || fail_build "finding node and npm (Node 20 or newer is needed)"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || fail_build "checking Node (need 20 or newer, have $(node --version))"

stage "npm ci"
npm ci --no-audit --no-fund --loglevel=error 2>&1 | grep -v 'Unknown user config "nodedir"' || true
[ -x node_modules/.bin/tsc ] || fail_build "npm ci"

stage "type-check"
node_modules/.bin/tsc -p . --noEmit || fail_build "type-check"

stage "unit tests"
rm -rf out
node_modules/.bin/tsc -p tsconfig.test.json || fail_build "compiling the unit tests"
node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$work/unit.tap" out/test/
tap_count() { sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$work/unit.tap" | tail -1; }
unit_pass="$(tap_count pass)"; unit_fail="$(tap_count fail)"; unit_skip="$(tap_count skipped)"
unit_pass="${unit_pass:-0}"; unit_fail="${unit_fail:-1}"; unit_skip="${unit_skip:-0}"

stage "bundle (esbuild)"
node scripts/bundle.mjs || fail_build "bundle"

stage "package (bundled promptwise + vsce package --target linux-x64)"
# The .vsix users install: promptwise and its pinned dependencies inside (scripts/package-extension.sh).
vsix="$(bash ../scripts/package-extension.sh --target linux-x64 ${PROMPTWISE_BUNDLE_PYTHONS:+--pythons "$PROMPTWISE_BUNDLE_PYTHONS"} | tail -1)"
[ -n "$vsix" ] && [ -f "$vsix" ] || fail_build "packaging the .vsix (scripts/package-extension.sh)"
echo "built $vsix"

if [ "${PROMPTWISE_SKIP_E2E:-}" = 1 ]; then
  echo "SKIPPED end-to-end test (PROMPTWISE_SKIP_E2E=1)"
  e2e_skip=1
else
  stage "end-to-end setup (Node 24, code-server, Chromium; cached)"
  started=$SECONDS
  env_file="$(bash scripts/e2e-setup.sh | tail -1)" || fail_build "e2e setup"
  # shellcheck disable=SC1090
  . "$env_file"
  echo "setup took $((SECONDS - started)) s"

  stage "end-to-end test (code-server + Chromium)"
  node e2e/run.mjs --vsix "$vsix" 2>&1 | tee "$work/e2e.log"
  line="$(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$work/e2e.log" | tail -1)"
  if [ -n "$line" ]; then
    read -r e2e_pass e2e_fail e2e_skip <<<"$(echo "$line" | sed -E 's/^e2e: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/')"
  else
    e2e_fail=1
  fi
fi

summary
