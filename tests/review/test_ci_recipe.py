"""docs/ci.md's workflow, run: its promptwise commands against a temporary repository with a base branch
and a pull request's change, and its comment script against a stand-in for GitHub's API."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DOC = Path(__file__).resolve().parents[2] / "docs" / "ci.md"
BIN = Path(sys.executable).parent


def workflow() -> dict:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "docs/ci.md holds one workflow"
    return yaml.safe_load(blocks[0])


def steps() -> list[dict]:
    return workflow()["jobs"]["prompts"]["steps"]


def test_the_workflow_has_the_parts_the_recipe_promises():
    flow = workflow()
    found = steps()
    checkout = next(s for s in found if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    assert any(s.get("uses", "").startswith("actions/setup-python@") for s in found)
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif@") for s in found)
    assert any(s.get("uses", "").startswith("actions/github-script@") for s in found)
    assert flow["permissions"] == {"contents": "read", "pull-requests": "write", "security-events": "write"}
    assert True in flow or "on" in flow  # YAML 1.1 reads `on:` as True
    assert "pull_request_target" not in json.dumps(flow, default=str)


@pytest.fixture
def pull_request(gitrepo, tmp_path: Path):
    """A repository whose main branch is pushed to origin, checked out on a branch that changes a partial."""
    g = gitrepo
    g.write("promptwise.toml", '[budgets]\n"prompts/**" = 200\n[volumes]\n"prompts/**" = 500\n')
    g.write("prompts/_tone.prompt", "Be kind.\n")
    g.write("prompts/a.prompt", g.prompt("{{> tone}}\nSummarize the text.\n"))
    g.write("prompts/b.prompt", g.prompt("{{> tone}}\nTranslate the text.\n"))
    g.commit("base")
    origin = tmp_path / "origin.git"
    g.git("init", "-q", "--bare", str(origin))
    g.git("remote", "add", "origin", str(origin))
    g.git("push", "-q", "origin", "HEAD:main")
    g.git("fetch", "-q", "origin")
    g.git("checkout", "-q", "-b", "feature")
    g.write("prompts/_tone.prompt", "Be kind. Explain each step in plain words for a newcomer.\n")
    g.commit("longer tone")
    return g


def _run_step(step: dict, cwd: Path, base_ref: str, output: Path) -> subprocess.CompletedProcess:
    script = step["run"].replace("${{ github.base_ref }}", base_ref)
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "GITHUB_OUTPUT": str(output),
        **{k: str(v).replace("${{ github.base_ref }}", base_ref) for k, v in (step.get("env") or {}).items()},
    }
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _promptwise_steps() -> list[dict]:
    return [s for s in steps() if "promptwise " in s.get("run", "") and "pip install" not in s["run"]]


def test_the_workflow_commands_against_a_pull_request(pull_request, tmp_path: Path):
    g = pull_request
    output = tmp_path / "github_output"
    output.write_text("", encoding="utf-8")
    check, diff = _promptwise_steps()
    assert "promptwise check --format sarif > promptwise.sarif" in check["run"]
    assert check.get("continue-on-error") is True

    done = _run_step(check, g.root, "main", output)
    assert done.returncode == 0, done.stderr
    sarif = json.loads((g.root / "promptwise.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["tool"]["driver"]["name"] == "promptwise"

    done = _run_step(diff, g.root, "main", output)
    assert done.returncode == 0, done.stderr
    comment = (g.root / "comment.md").read_text(encoding="utf-8")
    assert comment.startswith("<!-- promptwise-diff -->\n**promptwise: +")
    assert "/month across 2 prompts" in comment.splitlines()[1]
    assert "status=0" in output.read_text(encoding="utf-8")

    # Pushed over budget: the step still succeeds (the comment is posted), the last step fails the job.
    g.write("prompts/_tone.prompt", "Be kind. " + "Explain each step in plain words for a newcomer. " * 30 + "\n")
    g.commit("much longer tone")
    output.write_text("", encoding="utf-8")
    done = _run_step(diff, g.root, "main", output)
    assert done.returncode == 0, done.stderr
    assert "status=1" in output.read_text(encoding="utf-8")
    assert "over its budget" in done.stderr
    last = steps()[-1]
    assert last["if"] == "steps.diff.outputs.status != '0'" and last["run"].strip() == "exit 1"


def test_a_missing_base_branch_fails_with_one_line(pull_request, tmp_path: Path):
    g = pull_request
    output = tmp_path / "github_output"
    output.write_text("", encoding="utf-8")
    _, diff = _promptwise_steps()
    done = _run_step(diff, g.root, "no-such-branch", output)
    assert "status=2" in output.read_text(encoding="utf-8")
    assert done.stderr.strip().count("\n") == 0 and "unknown BASE 'origin/no-such-branch'" in done.stderr
    assert (g.root / "comment.md").read_text(encoding="utf-8") == ""


STAND_IN = r"""
const fs = require('fs');
const calls = [];
const existing = JSON.parse(process.env.EXISTING);
const github = {
  paginate: async (fn, args) => { calls.push(['list', args.issue_number]); return existing; },
  rest: { issues: {
    listComments: 'listComments',
    updateComment: async (args) => { calls.push(['update', args.comment_id, args.body.slice(0, 24)]); },
    createComment: async (args) => { calls.push(['create', args.issue_number, args.body.slice(0, 24)]); },
  } },
};
const context = { repo: { owner: 'o', repo: 'r' }, issue: { number: 7 } };
const core = { setFailed: (m) => calls.push(['failed', m]) };
(async () => {
  await (async () => { SCRIPT })();
  console.log(JSON.stringify(calls));
})();
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node runs the comment script")
@pytest.mark.parametrize(
    "existing, body, expected",
    [
        ([], "<!-- promptwise-diff -->\n**x**", [["list", 7], ["create", 7, "<!-- promptwise-diff -->"]]),
        (
            [{"id": 3, "user": {"type": "User"}, "body": "<!-- promptwise-diff --> quoted by a person"},
             {"id": 5, "user": {"type": "Bot"}, "body": "<!-- promptwise-diff -->\nold"}],
            "<!-- promptwise-diff -->\n**x**",
            [["list", 7], ["update", 5, "<!-- promptwise-diff -->"]],
        ),
        ([], "", [["failed", "promptwise diff wrote no comment; its error is in the step above"]]),
    ],
)
def test_the_comment_script_posts_once_then_updates(tmp_path: Path, existing, body, expected):
    script = next(s for s in steps() if s.get("uses", "").startswith("actions/github-script@"))["with"]["script"]
    (tmp_path / "comment.md").write_text(body, encoding="utf-8")
    (tmp_path / "run.js").write_text(STAND_IN.replace("SCRIPT", script), encoding="utf-8")
    done = subprocess.run(
        ["node", "run.js"], cwd=tmp_path, env={**os.environ, "EXISTING": json.dumps(existing)}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected
