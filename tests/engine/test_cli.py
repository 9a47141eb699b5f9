"""The CLI as a user runs it: tables, exit codes and every output format."""

import json
import sys

import pytest

from promptwise.cli.schema import render
from tests.conftest import ROOT, run_subprocess


def test_check_examples_prints_a_table_and_linter_lines(cli, examples):
    result = cli("check", str(examples))
    assert result.code == 1  # contract-review.prompty is over its budget
    assert "file" in result.out and "cost/call" in result.out
    assert "examples/legal/contract-review.prompty" in result.out
    line = next(l for l in result.out.splitlines() if "over-budget" in l)
    path, lineno, col, rest = line.split(":", 3)
    assert path.endswith("legal/contract-review.prompty") and lineno == "7" and col == "8"
    assert rest.startswith(" error over-budget ")
    assert "15 files" in result.out


def test_check_exits_zero_without_errors(cli, examples):
    assert cli("check", str(examples / "support")).code == 0


def test_check_json(cli, examples):
    result = cli("check", str(examples), "--format", "json")
    data = json.loads(result.out)
    files = {f["path"].split("examples/")[-1]: f for f in data["files"]}
    triage = files["support/triage.prompty"]
    assert triage["model"] == "gpt-4o" and triage["exact"] is True and triage["tokenizer"] == "o200k_base"
    assert triage["prompt_tokens"] == sum(m["tokens"] for m in triage["messages"]) + triage["tools_tokens"] + 3
    assert data["summary"]["errors"] == 1
    over = files["legal/contract-review.prompty"]["findings"][0]
    assert over["code"] == "over-budget" and over["line"] == 7


def test_check_sarif_and_github(cli, examples):
    sarif = json.loads(cli("check", str(examples), "--format", "sarif").out)
    run = sarif["runs"][0]
    assert sarif["version"] == "2.1.0" and run["columnKind"] == "utf16CodeUnits"
    ids = {r["ruleId"] for r in run["results"]} - {"deprecated-model"}
    assert ids == {"over-budget", "duplicated-paragraph"}
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} >= ids
    github = cli("check", str(examples), "--format", "github").out.splitlines()
    assert any(l.startswith("::error file=") and "title=over-budget::" in l for l in github)
    assert sum(l.startswith("::warning ") and "deprecated-model" not in l for l in github) == 3


def test_check_model_flag_reprices_everything(cli, examples):
    data = json.loads(cli("check", str(examples / "support/triage.prompty"), "--format", "json", "--model", "gpt-4.1-nano").out)
    assert data["files"][0]["model"] == "gpt-4.1-nano"


def test_check_reports_config_problems_and_missing_paths(cli, tmp_path):
    (tmp_path / "promptwise.toml").write_text("warn_at = 7\n")
    (tmp_path / "AGENTS.md").write_text("Run the tests.\n")
    result = cli("check", str(tmp_path), str(tmp_path / "nope.prompt"))
    assert result.code == 1
    assert "promptwise.toml:1:11: error invalid-config 'warn_at'" in result.out  # at the value
    assert "nope.prompt does not exist" in result.out


def test_count_prompt_file_json(cli, examples):
    data = json.loads(cli("count", str(examples / "support/triage.prompty"), "--json").out)
    assert set(data) >= {"prompt_tokens", "model", "tokenizer", "exact", "cost"}
    assert data["exact"] is True and data["model"] == "gpt-4o" and data["cost"] > 0


def test_count_request_body_with_names_and_tools(cli, tmp_path, reference_encoding):
    from tests.conftest import openai_prompt_tokens

    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You answer questions about the weather. 🌦️"},
            {"role": "user", "name": "ada", "content": "Is it raining in 東京?"},
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city.",
                                                      "parameters": {"type": "object", "properties": {
                                                          "city": {"type": "string", "description": "City name"},
                                                          "unit": {"type": "string", "enum": ["c", "f"], "description": "Unit"}}}}}],
    }
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body))
    data = json.loads(cli("count", str(path), "--json").out)
    assert data["prompt_tokens"] == openai_prompt_tokens(reference_encoding["o200k_base"], body["messages"], body["tools"])
    assert data["exact"] is True
    stdin = json.loads(cli("count", "-", "--json", stdin=json.dumps(body)).out)
    assert stdin["prompt_tokens"] == data["prompt_tokens"]


def test_count_stdin_text_and_errors(cli, tmp_path, reference_encoding):
    from tests.conftest import openai_prompt_tokens

    data = json.loads(cli("count", "-", "--json", "--model", "gpt-4o", stdin="Summarize this text.").out)
    expected = openai_prompt_tokens(reference_encoding["o200k_base"], [{"role": "user", "content": "Summarize this text."}])
    assert data["prompt_tokens"] == expected and data["model"] == "gpt-4o"
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    result = cli("count", str(bad))
    # A file that cannot be counted is a finding naming it (exit 1); a path to nothing is a usage error (2).
    assert result.code == 1 and "bad.json:1:1: error invalid-request not valid JSON" in result.err
    assert cli("count", str(tmp_path / "missing.prompt")).code == 2


def test_models_filters(cli):
    data = json.loads(cli("models", "--fits", "500000", "--supports", "tools", "--supports", "vision", "--provider", "openai", "--json").out)
    assert data and all(m["context_window"] >= 500000 and {"tools", "vision"} <= set(m["supports"]) for m in data)
    assert all(m["provider"] == "openai" for m in data)
    cheaper = json.loads(cli("models", "--cheaper-than", "gpt-4o", "--provider", "openai", "--json").out)
    names = [m["model"] for m in cheaper]
    assert "gpt-4o-mini" in names and "gpt-4o" not in names
    table = cli("models", "--provider", "anthropic", "--limit", "3").out
    assert "input $/M" in table and "claude" in table
    assert cli("models", "--cheaper-than", "no-such-model").code == 2


def test_models_leaves_out_zero_priced_and_retired_entries_unless_asked(cli, tmp_path):
    (tmp_path / "promptwise.toml").write_text('[models."my-local"]\nprovider = "ollama"\ninput_cost_per_million = 0\noutput_cost_per_million = 0\n')
    listed = json.loads(cli("models", "--json", cwd=tmp_path).out)
    names = {m["model"] for m in listed}
    assert "my-local" in names  # the user's own model, free or not, is always listed
    bundled = [m for m in listed if m["model"] != "my-local"]
    assert all(m["input_cost_per_million"] or m["output_cost_per_million"] for m in bundled)
    assert all(not m["deprecation_date"] or m["deprecation_date"] >= "2026-12-01" for m in bundled)  # the pinned date
    everything = json.loads(cli("models", "--json", "--all", cwd=tmp_path).out)
    assert len(everything) > len(listed) and "computer-use-preview" in {m["model"] for m in everything} - names  # retired 2026-07-23
    assert "(--all lists them)" in cli("models", "--provider", "openai", cwd=tmp_path).out


def test_every_command_has_help(cli):
    for command in ("check", "count", "models", "schema", "lsp"):
        result = cli(command, "--help")
        assert result.code == 0 and "usage: promptwise " + command in result.out


def test_schemas_are_generated_from_the_models_and_have_not_drifted():
    for name, text in render().items():
        path = ROOT / "schemas" / name
        assert path.is_file(), f"{name} missing: run 'promptwise schema'"
        assert path.read_text(encoding="utf-8") == text, f"{name} drifted: run 'promptwise schema'"


def test_python_dash_m_is_the_same_command(examples):
    result = run_subprocess("-m", "promptwise", "count", str(examples / "AGENTS.md"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["prompt_tokens"] > 1000


def test_a_folder_without_prompt_files_points_at_plain_prompts(cli, tmp_path):
    (tmp_path / "notes.txt").write_text("Summarize the ticket.\n", encoding="utf-8")
    result = cli("check", str(tmp_path))
    assert result.code == 0 and "no prompt files found" in result.out and "plain_prompts" in result.out
    assert "\n0 files, 0 tokens" in result.out
