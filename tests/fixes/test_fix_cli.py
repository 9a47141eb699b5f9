"""`promptwise check --fix` and `promptwise suggest` end to end."""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_check_fix_on_the_examples_only_removes_exact_duplicates(cli, examples_copy):
    before = snapshot(examples_copy)
    os.chmod(examples_copy / ".github/instructions/onboarding.instructions.md", 0o640)
    result = cli("check", "--fix", ".", cwd=examples_copy)
    assert result.code == 1  # contract-review.prompty is still over its budget: trims cannot fix that
    assert (
        ".github/instructions/onboarding.instructions.md: Remove 3 duplicated paragraphs (-228 tokens, -$0.000034 per call); "
        "608 -> 380 tokens" in result.out
    )
    assert "fixed 1 file, 228 tokens saved per call" in result.out
    after = snapshot(examples_copy)
    changed = [name for name in before if before[name] != after[name]]
    assert changed == [".github/instructions/onboarding.instructions.md"]
    text = before[changed[0]].decode("utf-8")
    heading = "## Before you open a pull request"
    # The heading the duplicates were all of goes with them: no empty heading is left behind.
    assert after[changed[0]].decode("utf-8") == text[: text.index(heading)].rstrip("\n") + "\n"
    assert (examples_copy / changed[0]).stat().st_mode & 0o777 == 0o640
    # The re-check sees the fixed file.
    assert "duplicated-paragraph" not in result.out
    assert not list(examples_copy.rglob("*.promptwise-tmp"))
    again = cli("check", "--fix", ".", cwd=examples_copy)
    assert "fixed 0 files" in again.out and snapshot(examples_copy) == after


def test_check_fix_keeps_bom_and_crlf_and_skips_files_it_could_not_read(cli, tmp_path):
    (tmp_path / "promptwise.toml").write_text('default_model = "gpt-4o-mini"\n', encoding="utf-8")
    body = (
        "# Agent notes  \r\n"
        "\r\n"
        "\r\n"
        "\r\n"
        "Run `make check` before you ask for review, and fix what it reports first.\r\n"
        "\r\n"
        "Run `make check` before you ask for review, and fix what it reports first.\r\n"
    )
    agents = tmp_path / "AGENTS.md"
    agents.write_bytes(codecs.BOM_UTF8 + body.encode("utf-8"))
    broken = tmp_path / "CLAUDE.md"
    broken_bytes = b"# Notes   \n\n\n\nCaf\xe9 menu prompts live in prompts/.\n"
    broken.write_bytes(broken_bytes)

    result = cli("check", "--fix", ".", cwd=tmp_path)
    assert result.code == 1  # CLAUDE.md is not valid UTF-8
    assert agents.read_bytes() == codecs.BOM_UTF8 + (
        "# Agent notes\r\n\r\nRun `make check` before you ask for review, and fix what it reports first.\r\n"
    ).encode("utf-8")
    assert broken.read_bytes() == broken_bytes
    assert "CLAUDE.md: skipped: not fixed because of invalid-utf8" in result.out
    assert "AGENTS.md: Remove 1 duplicated paragraph (" in result.out
    assert "Collapse 1 run of blank lines (" in result.out
    assert "Remove trailing whitespace on 1 line (" in result.out


def test_check_fix_exits_zero_when_nothing_is_left(cli, tmp_path):
    (tmp_path / "promptwise.toml").write_text('default_model = "gpt-4o-mini"\n', encoding="utf-8")
    (tmp_path / "AGENTS.md").write_text("# Notes\n\n\n\nKeep pull requests small.   \n", encoding="utf-8")
    result = cli("check", "--fix", ".", cwd=tmp_path)
    assert result.code == 0
    assert (tmp_path / "AGENTS.md").read_text(encoding="utf-8") == "# Notes\n\nKeep pull requests small.\n"


def test_check_fix_with_json_output_reports_on_stderr(cli, examples_copy):
    result = cli("check", "--fix", "--format", "json", ".", cwd=examples_copy)
    data = json.loads(result.out)
    left = [f["code"] for f in data["files"] for f in f["findings"] if f["severity"] == "warning"]
    assert set(left) <= {"deprecated-model"}  # nothing a fix can remove is left
    assert "Remove 3 duplicated paragraphs" in result.err


def test_suggest_json(cli, examples):
    result = cli("suggest", str(examples / "support/triage.prompty"), "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["model"] == "gpt-4o" and data["requirements"] == ["tools"]
    assert data["providers"] == ["openai"]
    assert 1 <= len(data["candidates"]) <= 3
    for c in data["candidates"]:
        assert c["title"].startswith(f"Switch to {c['model']} (-")
        assert c["saving_per_1000_calls"] == c["saving_per_call"] * 1000
        assert "tools" in c["supports"]
        assert [e["new_text"] for e in c["edits"]] == [c["model"]]
    one = json.loads(cli("suggest", str(examples / "support/triage.prompty"), "--json", "--limit", "1").out)
    assert len(one["candidates"]) == 1


def test_suggest_text_shows_savings_reasons_and_exclusions(cli, make_project, acme_models):
    project = make_project('allowed_providers = ["acme"]\nexpected_output_tokens = 500\n' + acme_models)
    project.write(
        "triage.prompty",
        "---\nmodel: acme-pro\ntools:\n  - name: lookup_order\n    description: Fetch one order.\n"
        "    parameters:\n      type: object\n      properties:\n        order_id:\n          type: string\n"
        "---\nsystem:\nTriage the ticket and call lookup_order before you mention an order.\n\nuser:\nWhere is NW-204881?\n",
    )
    result = cli("suggest", "triage.prompty", cwd=project.root)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "triage.prompty"
    assert lines[2] == "  needs: tools (function calling)"
    assert lines[3] == "  providers: allowed_providers in promptwise.toml"
    assert lines[5].split() == ["model", "cost/call", "saving", "per", "1,000", "calls", "context", "supports", "evals"]
    assert [line.split()[0] for line in lines[7:10]] == ["acme-chat", "acme-flash", "acme-lite"]  # full cost: acme-chat spends no reasoning
    assert "ruled out, though cheaper:\n  acme-nano: no tools (function calling)" in result.out
    assert "not considered: " in result.out


def test_suggest_unknown_model_and_missing_file(cli, make_project, acme_models):
    project = make_project('allowed_providers = ["acme"]\n' + acme_models)
    project.write("notes.prompt.md", "---\nmodel: northwind-llm-2\n---\nSummarize the incident.\n")
    result = cli("suggest", "notes.prompt.md", cwd=project.root)
    assert result.code == 0
    assert "unknown model 'northwind-llm-2'" in result.out
    missing = cli("suggest", "nope.prompty", cwd=project.root)
    assert missing.code == 2 and "is not a file" in missing.err
