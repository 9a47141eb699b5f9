#!/usr/bin/env bash
# Set up, then run `promptwise check` on the bundled examples (exit 1 is expected: one example is over budget).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/promptwise check examples/ "$@"
