"""`promptwise eval` end to end: exit codes, summary, progress, run folder, JUnit/JSON/Markdown/HTML, --cheapest."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from fake_server import last_user_text

from promptwise.analysis import analyze_file
from promptwise.config import load_config
from promptwise.routing import suggest_models

SUITE = """
models: [fake-gpt]
cases:
  - name: dented leg
    vars: {customer: Ana, ticket: The desk leg arrived dented}
    assert:
      - type: icontains
        value: damage
      - type: max-tokens
        value: 50
  - name: late order
    vars: {ticket: My order is two weeks late}
    assert:
      - type: contains
        value: shipping
"""


def answer(body):
    return "TRIAGE: damage" if "dented" in last_user_text(body) else "TRIAGE: shipping"


def test_all_pass_exits_0_with_a_summary_and_a_run_folder(project, cli):
    project.server.reply(None, answer)
    project.suite(SUITE)
    result = cli("eval", cwd=project.root)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == [
        "model", "passed", "failed", "errored", "prompt", "tokens", "cached", "completion", "tokens", "reasoning", "cost", "mean", "latency",
    ]  # fmt: skip
    assert lines[2].split()[:4] == ["fake-gpt", "2", "0", "0"]
    assert "ran 2 case runs in" in result.out and "2 passed, 0 failed, 0 errored; 0 from cache" in result.out
    runs = list((project.root / ".promptwise" / "runs").glob("*/results.json"))
    assert len(runs) == 1
    saved = json.loads(runs[0].read_text())
    assert [r["status"] for r in saved["results"]] == ["passed", "passed"]
    assert saved["results"][0]["location"] == {"path": "triage.evals.yaml", "line": 2, "column": 4}
    # Not a terminal: plain progress lines on stderr.
    assert "eval: 2 case runs" in result.err and "eval: 2/2 (2 passed, 0 failed, 0 errored)" in result.err


def test_a_failure_exits_1_and_says_why(project, cli):
    project.server.reply(None, "TRIAGE: other")
    project.suite(SUITE)
    result = cli("eval", "triage.prompty", cwd=project.root)  # a prompt file finds its suite
    assert result.code == 1
    assert "FAILED triage.evals.yaml:3 dented leg [fake-gpt]: icontains: output does not contain 'damage' (ignoring case)" in result.out


def test_errors_exit_2(project, cli):
    project.server.fail("dented", status=500)
    project.server.reply(None, answer)
    project.suite(SUITE)
    result = cli("eval", "triage.evals.yaml", cwd=project.root)
    assert result.code == 2
    assert "ERRORED triage.evals.yaml:3 dented leg [fake-gpt]: InternalServerError (HTTP 500): fake server error 500" in result.out


def test_a_bad_suite_exits_2_with_positions(project, cli):
    project.suite("cases:\n  - vars: {ticket: x}\n    assertions: []\n")
    result = cli("eval", cwd=project.root)
    assert result.code == 2
    assert "triage.evals.yaml:2:5: error case 'case 1' has no assertions" in result.err
    assert "triage.evals.yaml:3:5: error unknown key 'assertions' in cases[0]; did you mean 'assert'?" in result.err
    assert project.server.calls() == []


def test_paths_that_have_no_suite_exit_2(project, cli):
    result = cli("eval", "triage.prompty", cwd=project.root)
    assert result.code == 2 and "triage.prompty: no suite beside it (expected triage.evals.yaml)" in result.err
    result = cli("eval", "missing-folder", cwd=project.root)
    assert result.code == 2 and "missing-folder: no such file or folder" in result.err
    (project.root / "triage.prompty").unlink()
    result = cli("eval", cwd=project.root)
    assert result.code == 2 and "no *.evals.yaml suites under" in result.err


def test_options_reach_the_run(project, cli):
    project.server.reply(None, answer)
    project.suite(SUITE)
    result = cli("eval", "--model", "fake-gpt", "--model", "fake-judge", "--repeat", "2", "--concurrency", "1", cwd=project.root)
    assert result.code == 0, result.out + result.err
    assert len(project.server.calls()) == 8 and project.server.max_in_flight == 1
    assert "fake-judge" in result.out
    cached = cli("eval", "--model", "fake-gpt", "--model", "fake-judge", "--repeat", "2", cwd=project.root)
    assert "8 from cache; spent $0" in cached.out and len(project.server.calls()) == 8
    fresh = cli("eval", "--no-cache", cwd=project.root)
    assert "0 from cache" in fresh.out and len(project.server.calls()) == 10
    bad = cli("eval", "--concurrency", "0", cwd=project.root)
    assert bad.code == 2 and "--concurrency must be at least 1" in bad.err


def test_junit_json_and_reports(project, cli):
    project.server.fail("dented", status=500)
    project.server.reply(None, "TRIAGE: other")
    project.suite(SUITE)
    out = project.root / "out"
    result = cli(
        "eval",
        "--junit", str(out / "junit.xml"),
        "--json", str(out / "results.json"),
        "--report", str(out / "report.md"),
        cwd=project.root,
    )
    assert result.code == 2
    suite = ET.parse(out / "junit.xml").getroot()
    assert suite.tag == "testsuites" and (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "1")
    (group,) = suite
    assert group.get("name") == "triage.evals.yaml [fake-gpt]"
    dented, late = group
    assert dented.get("name") == "dented leg" and dented.find("error").get("message").startswith("InternalServerError (HTTP 500)")
    assert late.find("failure").get("message") == "contains: output does not contain 'shipping'"
    assert late.get("file") == "triage.evals.yaml" and late.get("line") == "10"
    data = json.loads((out / "results.json").read_text())
    assert data["results"][1]["assertions"][0] == {
        "type": "contains",
        "passed": False,
        "reason": "output does not contain 'shipping'",
        "score": None,
    }
    report = (out / "report.md").read_text()
    assert report.startswith("# promptwise eval report\n\n2 case runs: 0 passed, 1 failed, 1 errored")
    assert "| fake-gpt | 0 | 1 | 1 |" in report
    assert "### late order on fake-gpt: failed" in report and "- FAIL `contains`: output does not contain 'shipping'" in report
    html = cli("eval", "--report", str(out / "report.html"), cwd=project.root)
    assert html.code == 2
    page = (out / "report.html").read_text()
    assert page.startswith("<!doctype html>") and "output does not contain &#x27;shipping&#x27;" in page


def test_json_to_stdout(project, cli):
    project.server.reply(None, answer)
    project.suite(SUITE)
    result = cli("eval", "--json", "-", cwd=project.root)
    data = json.loads(result.out)
    assert data["models"][0]["passed"] == 2 and "ran 2 case runs" in result.err


CHEAPEST_PROMPT = """---
model:
  id: gpt-4o
  parameters:
    max_tokens: 100
---
system:
Classify the ticket as damage, billing or shipping. Reply with the category only.

user:
{{ticket}}
"""

CHEAPEST_SUITE = """
cases:
  - vars: {ticket: The leg arrived dented}
    assert: [{type: equals, value: damage}]
  - vars: {ticket: I was charged twice}
    assert: [{type: equals, value: billing}]
  - vars: {ticket: Where is my parcel}
    assert: [{type: equals, value: shipping}]
"""


def classify(good_models, partly: str | None = None):
    """Right answers from `good_models`; `partly` only gets the damaged-leg case right."""

    def reply(body):
        text = last_user_text(body)
        right = "damage" if "dented" in text else "billing" if "charged" in text else "shipping"
        if body["model"] in good_models or (body["model"] == partly and right == "damage"):
            return right
        return "I am not sure"

    return reply


def test_cheapest_stops_at_the_first_candidate_that_passes_as_many(project, cli):
    config = project.root / "promptwise.toml"
    config.write_text('allowed_providers = ["openai"]\n' + config.read_text())
    project.write("classify.prompty", CHEAPEST_PROMPT)
    project.suite(CHEAPEST_SUITE, name="classify.evals.yaml")
    prompt = project.root / "classify.prompty"
    # The models the editor would offer to switch to, called by their catalog names.
    candidates = [c.card for c in suggest_models(analyze_file(prompt, load_config(prompt)), load_config(prompt), limit=5).candidates]
    assert len(candidates) >= 3
    # The cheapest candidate gets one case wrong; the second gets them all right.
    project.server.reply(None, classify({"gpt-4o", candidates[1].name, candidates[2].name}, partly=candidates[0].name))
    result = cli("eval", "classify.evals.yaml", "--cheapest", "--json", "out.json", cwd=project.root)
    assert result.code == 0, result.out + result.err
    data = json.loads((project.root / "out.json").read_text())
    (cheapest,) = data["cheapest"]
    assert cheapest["current"] == "gpt-4o" and cheapest["current_passed"] == 3
    assert [t["model"] for t in cheapest["tried"]] == [candidates[0].name, candidates[1].name]
    assert cheapest["tried"][0]["verdict"] == "passes 1/3, fewer than gpt-4o's 3"
    assert cheapest["chosen"] == candidates[1].name
    assert cheapest["saving_per_call"] > 0
    assert cheapest["saving_per_1000_calls"] == pytest.approx(cheapest["saving_per_call"] * 1000)
    # The chosen candidate reasons: it was tried at the cheapest effort it takes (reasoning off), and the result names it.
    assert cheapest["chosen_effort"] == cheapest["tried"][1]["reasoning_effort"] == "none"
    assert f"cheapest passing model for classify.evals.yaml: {candidates[1].name} at none effort (3/3 like gpt-4o), saving $" in result.out
    # The candidates' own failures do not fail the run: only the suite's models count.
    assert [r["model"] for r in data["results"]] == ["gpt-4o"] * 3
    models_called = {c.body["model"] for c in project.server.calls()}
    assert models_called == {"gpt-4o", candidates[0].name, candidates[1].name}


def test_cheapest_when_nothing_cheaper_passes(project, cli):
    config = project.root / "promptwise.toml"
    config.write_text('allowed_providers = ["openai"]\n' + config.read_text())
    project.write("classify.prompty", CHEAPEST_PROMPT)
    project.suite(CHEAPEST_SUITE, name="classify.evals.yaml")
    project.server.reply(None, classify({"gpt-4o"}))
    result = cli("eval", "classify.evals.yaml", "--cheapest", "--max-candidates", "2", "--report", "r.md", cwd=project.root)
    assert result.code == 0
    assert "cheapest passing model for classify.evals.yaml: none of the 2 cheaper configuration(s) (model x effort) tried passes as many cases as gpt-4o" in result.out
    assert "## Cheapest passing model for `classify.evals.yaml`" in (project.root / "r.md").read_text()


def test_results_json_matches_its_schema_and_reloads(project, cli):
    import jsonschema

    from promptwise.evals import RunResult

    project.server.fail("dented", status=500)
    project.server.reply(None, "TRIAGE: shipping")
    project.suite(SUITE)
    assert cli("eval", cwd=project.root).code == 2
    (saved,) = (project.root / ".promptwise" / "runs").glob("*/results.json")
    data = json.loads(saved.read_text())
    from promptwise.cli.schema import render

    schema = json.loads(render()["evals.results.schema.json"])
    jsonschema.validate(data, schema)
    reloaded = RunResult.model_validate_json(saved.read_text())
    assert [r.status for r in reloaded.results] == ["errored", "passed"]
    assert reloaded.exit_code == 2 and reloaded.run_dir == str(saved.parent)
