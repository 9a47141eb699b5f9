#!/usr/bin/env bash
# Set up, then run every test: Python (pytest) and, when present, the VS Code extension's.
# Ends with one line totalling every suite, "all-suites: N passed, N failed, N skipped", and exits
# non-zero when any suite fails (pytest's exit 5, "no tests ran", is a failure too).
set -uo pipefail

# "passed failed skipped" from the last summary line in one suite's output: pytest's
# ("== 2 failed, 120 passed, 3 skipped in 9.1s ==", or -q's bare form) or the extension's
# "vscode-extension: N passed, N failed, N skipped". Errors count as failed, xfailed as skipped,
# xpassed as passed. Nothing found prints "0 0 0".
suite_counts() {
  awk '
    { gsub(/\033\[[0-9;]*m/, "") }
    /^vscode-extension: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/ { ext = $0 }
    /(^|[ =])([0-9]+ (passed|failed|skipped|errors?|xfailed|xpassed|deselected|warnings?)(, )?)+ in [0-9.]+s/ { py = $0 }
    /(^|[ =])no tests ran in [0-9.]+s/ { py = $0 }
    END {
      line = ext != "" ? ext : py
      p = f = s = 0
      n = split(line, w, /[ ,=]+/)
      for (i = 2; i <= n; i++) {
        if (w[i-1] !~ /^[0-9]+$/) continue
        if (w[i] == "passed" || w[i] == "xpassed") p += w[i-1]
        else if (w[i] == "failed" || w[i] == "error" || w[i] == "errors") f += w[i-1]
        else if (w[i] == "skipped" || w[i] == "xfailed") s += w[i-1]
      }
      print p, f, s
    }' "$1"
}

# totals DIR: DIR holds NAME.log (a suite's output) and NAME.status (its exit status) per suite.
# Prints the all-suites line (a suite that exited non-zero without reporting a failure counts as one
# failed) and returns 1 when any suite failed.
totals() {
  local dir="$1" log name status p f s passed=0 failed=0 skipped=0 bad=0
  for log in "$dir"/*.log; do
    [ -e "$log" ] || continue
    name="$(basename "$log" .log)"
    status="$(cat "$dir/$name.status" 2>/dev/null || echo 1)"
    read -r p f s <<<"$(suite_counts "$log")"
    if [ "$status" != 0 ]; then
      bad=1
      if [ "$f" -eq 0 ]; then
        f=1
        if [ "$status" = 5 ]; then
          echo "$name: no tests ran (exit 5), counted as a failure"
        else
          echo "$name: exited $status without reporting a failed test, counted as a failure"
        fi
      fi
    fi
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  done
  echo "all-suites: $passed passed, $failed failed, $skipped skipped"
  [ "$bad" -eq 0 ] && [ "$failed" -eq 0 ]
}

main() {
  cd "$(dirname "$0")/.." || exit 1
  local logs
  logs="$(mktemp -d)"
  trap "rm -rf '$logs'" EXIT  # expanded now: the local is gone when the trap runs
  if ! bash scripts/setup.sh; then
    echo "setup failed" >"$logs/setup.log"
    echo 1 >"$logs/setup.status"
    totals "$logs"
    exit 1
  fi
  .venv/bin/python -m pytest "$@" 2>&1 | tee "$logs/pytest.log"
  echo "${PIPESTATUS[0]}" >"$logs/pytest.status"
  if [ -f vscode-extension/package.json ]; then
    bash vscode-extension/scripts/test.sh 2>&1 | tee "$logs/vscode-extension.log"
    echo "${PIPESTATUS[0]}" >"$logs/vscode-extension.status"
  fi
  totals "$logs"
}

# Sourced (by the tests of the totalling), it only defines the functions.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
