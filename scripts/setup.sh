#!/usr/bin/env bash
# Create .venv and install promptwise with its pinned, hash-checked dependencies (requirements/lock.txt, for Python 3.11).
# Other Python versions (3.11+) install the ranges in pyproject.toml instead, without hashes.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
stamp=.venv/.promptwise-lock
want="$(cat requirements/lock.txt pyproject.toml | sha1sum | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
  if .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    # Every file is checked against the lock's sha256 hashes: a tampered or replaced release fails here.
    "${pip[@]}" --require-hashes -r requirements/lock.txt
    # The project itself is a separate step: an editable install has no hash to check.
    "${pip[@]}" --no-deps -e .
  else
    echo "requirements/lock.txt is for Python 3.11; installing the ranges in pyproject.toml (not hash-checked)" >&2
    "${pip[@]}" -e '.[dev,proxy]'
  fi
  echo "$want" > "$stamp"
fi
# Bytecode for the editable sources, as an installed package has it: where PYTHONDONTWRITEBYTECODE is set,
# each start of the language server would otherwise compile every module again (~0.1 s).
.venv/bin/python -m compileall -q server/promptwise >/dev/null
