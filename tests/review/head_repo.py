"""The repository both tests of the change against HEAD use (the engine's `review/head.py` and the editor's):
one Prompty file, a config with a monthly volume, and git run with no user or system config."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

PROMPT = """---
name: Summarize
model:
  api: chat
  configuration:
    type: openai
    name: gpt-4o-mini
  parameters:
    max_tokens: 200
---
system:
You summarize support tickets in three short bullet points.

user:
Summarize this ticket for the on-call engineer.
"""

MORE = "Always name the customer's product and the version they run, and quote the error message exactly.\n"

CONFIG = """default_model = "gpt-4o-mini"
[volumes]
"**/*.prompty" = 1000
"""


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=root, capture_output=True, text=True, check=True,
        env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull},
    )
    return done.stdout
