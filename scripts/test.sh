#!/usr/bin/env bash
# Set up, then run every test: Python (pytest) and, when present, the VS Code extension's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest "$@"
if [ -f vscode-extension/package.json ]; then
  bash vscode-extension/scripts/test.sh
fi
