"""What `check` and `count` show of the cost model: parts, basis, cold and warm, sources, per month, SARIF data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptwise.catalog import Catalog

MINI = Catalog.bundled().resolve("gpt-4o-mini")


def rules(count: int) -> str:
    """Distinct lines of stable instructions (no paragraph repeats another)."""
    return "".join(f"Rule {i}: when a customer asks about order class {i}, cite section {i} of the refund policy.\n" for i in range(count))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "promptwise.toml").write_text('default_model = "gpt-4o-mini"\nexpected_output_tokens = 200\n', encoding="utf-8")
    (tmp_path / "AGENTS.md").write_text("# Agent rules\n\n" + rules(120), encoding="utf-8")
    return tmp_path


def by_part(cost: dict) -> dict[str, dict]:
    return {p["part"]: p for p in cost["parts"]}


def test_check_json_gives_the_parts_and_says_the_cost_per_call_is_warm(cli, project):
    data = json.loads(cli("check", str(project), "--format", "json").out)
    [entry] = data["files"]
    est = entry["estimate"]
    tokens = entry["prompt_tokens"]
    assert tokens > 1024 + 128  # long enough for OpenAI to cache it
    assert entry["basis"] == "warm" and est["basis"] == "warm"
    cold, warm = by_part(est["cold"]), by_part(est["warm"])
    # OpenAI: from 1,024 tokens, in steps of 128, of the stable prefix (here the whole instruction file).
    cached = warm["cache_read"]["tokens"]
    assert cached >= 1024 and (cached - 1024) % 128 == 0 and tokens - cached < 128 + 3
    assert warm["cache_read"]["price_field"] == "cache_read_input_token_cost"
    assert warm["cache_read"]["unit_price"] == MINI.prices["cache_read_input_token_cost"]
    assert warm["input"]["tokens"] == tokens - cached and cold["input"]["tokens"] == tokens
    assert "cache_read" not in cold and cold["output"]["tokens"] == 200
    by_hand = (tokens - cached) * MINI.input_cost_per_token + cached * MINI.prices["cache_read_input_token_cost"] + 200 * MINI.output_cost_per_token
    assert entry["cost_per_call"] == pytest.approx(by_hand) == pytest.approx(est["warm"]["total"])
    assert entry["cold_cost_per_call"] == pytest.approx(tokens * MINI.input_cost_per_token + 200 * MINI.output_cost_per_token)
    assert entry["cold_cost_per_call"] > entry["cost_per_call"]
    assert cold["output"]["source"].startswith("expected_output_tokens default (200)")
    assert entry["per_month"] is None and data["summary"]["per_month"] is None
    assert data["summary"]["cost_per_call"] == pytest.approx(entry["cost_per_call"])
    assert entry["reasoning"]["kind"] == "none"


def test_count_json_has_the_estimate(cli, project):
    data = json.loads(cli("count", str(project / "AGENTS.md"), "--json").out)
    assert data["basis"] == "warm" and data["estimate"]["per_call"] == pytest.approx(data["cost_per_call"])
    assert data["estimate"]["per_1000_calls"] == pytest.approx(data["estimate"]["cold"]["total"] + 999 * data["estimate"]["warm"]["total"])
    assert data["estimate"]["caching"]["rule"].startswith("OpenAI prompt caching guide")


def test_count_text_shows_cold_and_warm_with_the_source_of_every_figure(cli, project):
    out = cli("count", str(project / "AGENTS.md")).out
    assert "cold: the first call" in out and "warm: every later call" in out
    assert "counted; cache_read_input_token_cost" in out and "counted; input_cost_per_token" in out
    assert "expected_output_tokens default (200), assumed; output_cost_per_token" in out
    assert "per call: $" in out and "(warm)" in out and "(one cold call, then warm)" in out
    assert "per month" not in out
    assert "reasoning: none (the model does not reason)" in out


def test_count_text_says_reasoning_is_assumed_and_prices_it_as_output(cli, tmp_path):
    path = tmp_path / "plan.prompty"
    path.write_text(
        "---\nmodel:\n  api: chat\n  configuration:\n    type: openai\n    name: gpt-5.2\n  parameters:\n"
        "    reasoning_effort: high\n    max_completion_tokens: 16000\npromptwise:\n  expected_output_tokens: 1000\n---\n"
        "system:\nPlan the migration step by step.\n\nuser:\nSplit the status column into its own table.\n",
        encoding="utf-8",
    )
    out = cli("count", str(path)).out
    assert "reasoning: 10,000 tokens at high effort (assumed: promptwise's default for high effort)" in out
    line = next(l for l in out.splitlines() if l.strip().startswith("reasoning "))
    assert "10,000" in line and "$14.00/M" in line and "output_cost_per_token" in line  # billed as output
    data = json.loads(cli("count", str(path), "--json").out)
    card = Catalog.bundled().resolve("gpt-5.2")
    assert data["cost_per_call"] == pytest.approx(data["prompt_tokens"] * card.input_cost_per_token + 11_000 * card.output_cost_per_token)
    table = cli("check", str(path)).out
    assert "cost/call includes reasoning tokens for 1 file (1 assumed)" in table


def test_the_table_marks_warm_figures_and_has_a_per_month_column_only_with_volumes(cli, project):
    (project / "note.txt").write_text("Summarize the ticket.\n", encoding="utf-8")
    (project / "promptwise.toml").write_text(
        'default_model = "gpt-4o-mini"\nexpected_output_tokens = 200\nplain_prompts = ["*.txt"]\n', encoding="utf-8"
    )
    plain = cli("check", str(project)).out
    header = plain.splitlines()[0]
    assert "cost/call" in header and "per month" not in header
    agents = next(l for l in plain.splitlines() if "AGENTS.md" in l)
    note = next(l for l in plain.splitlines() if "note.txt" in l)
    assert " w " in agents and " w " not in note  # warm: the instruction file is cached, the short note is not
    assert any(l.startswith("w = warm: ") for l in plain.splitlines())
    (project / "promptwise.toml").write_text(
        'default_model = "gpt-4o-mini"\nexpected_output_tokens = 200\nplain_prompts = ["*.txt"]\n[volumes]\n"AGENTS.md" = 500\n',
        encoding="utf-8",
    )
    monthly = cli("check", str(project)).out
    assert "per month" in monthly.splitlines()[0]
    data = json.loads(cli("check", str(project), "--format", "json").out)
    files = {Path(f["path"]).name: f for f in data["files"]}
    agents_json = files["AGENTS.md"]
    assert agents_json["estimate"]["calls_per_day"] == 500 and files["note.txt"]["per_month"] is None
    # 30 days of 500 calls, each cold or warm (how many find the cache expired is the cost model's business).
    cold, warm = agents_json["cold_cost_per_call"], agents_json["cost_per_call"]
    assert 30 * 500 * warm < agents_json["per_month"] < 30 * 500 * cold
    assert data["summary"]["per_month"] == pytest.approx(agents_json["per_month"])
    row = next(l for l in monthly.splitlines() if "AGENTS.md" in l)
    assert f"${agents_json['per_month']:,.2f}" in row
    count = cli("count", str(project / "AGENTS.md")).out
    assert f"per month: ${agents_json['per_month']:,.2f} at 500 calls a day for 30 days, volumes[\"AGENTS.md\"] in promptwise.toml" in count


def test_sarif_carries_the_data_of_the_cost_findings(cli, tmp_path):
    (tmp_path / "promptwise.toml").write_text("expected_output_tokens = 200\n", encoding="utf-8")
    busting = tmp_path / "greet.prompty"
    busting.write_text(
        "---\nmodel: gpt-4o-mini\nsample:\n  customer: Dana\n---\nsystem:\nYou help {{customer}}.\n" + rules(120) + "\nuser:\nHi\n",
        encoding="utf-8",
    )
    sarif = json.loads(cli("check", str(tmp_path), "--format", "sarif").out)
    results = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}
    busted = results["cache-busting"]
    props = busted["properties"]
    assert props["tokens"] > 1024 and props["per_1000"] > 0
    assert f"{props['tokens']:,} stable tokens" in busted["message"]["text"] and f"+${props['per_1000']:,.2f} per 1,000 calls" in busted["message"]["text"]
    assert busted["relatedLocations"] and busted["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] >= 6
    deprecated = results["deprecated-model"]  # gpt-4o-mini retires on 2027-01-14, 44 days after the pinned date
    assert deprecated["properties"] == {"date": "2027-01-14", "days_left": 44} and deprecated["level"] == "warning"
    rules_listed = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {"cache-busting", "cache-breakpoint", "deprecated-model", "long-context-tier", "reasoning-over-max-output"} <= rules_listed
    data = json.loads(cli("check", str(tmp_path), "--format", "json").out)
    [finding] = [f for f in data["files"][0]["findings"] if f["code"] == "cache-busting"]
    assert finding["data"] == props
    github = cli("check", str(tmp_path), "--format", "github").out
    assert any(l.startswith("::warning ") and "title=cache-busting::" in l for l in github.splitlines())


def test_a_batch_tier_prices_every_part_at_the_batch_fields(cli, project):
    (project / "promptwise.toml").write_text('default_model = "gpt-4o-mini"\nexpected_output_tokens = 200\nservice_tier = "batch"\n', encoding="utf-8")
    data = json.loads(cli("count", str(project / "AGENTS.md"), "--json").out)
    cold = data["estimate"]["cold"]
    assert cold["service_tier"] == "batch"
    fields = {p["part"]: p["price_field"] for p in cold["parts"]}
    assert fields == {"input": "input_cost_per_token_batches", "output": "output_cost_per_token_batches"}
    assert by_part(cold)["input"]["unit_price"] == MINI.prices["input_cost_per_token_batches"] < MINI.input_cost_per_token
    assert "service tier: batch" in cli("count", str(project / "AGENTS.md")).out


def test_sources_from_config_cannot_write_terminal_escapes(cli, project):
    (project / "promptwise.toml").write_text(
        'default_model = "gpt-4o-mini"\n[volumes]\n"AGENTS[.\\u001b]md" = 10\n', encoding="utf-8"
    )
    out = cli("count", str(project / "AGENTS.md")).out
    line = next(l for l in out.splitlines() if l.startswith("per month: $"))
    assert "\x1b" not in out and line.endswith('volumes["AGENTS[.\\x1b]md"] in promptwise.toml')
