"""`promptwise diff`: its outputs, its exit codes, and its one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

from promptwise.review.model import Comparison


def _two_prompts(g, volumes: bool = False):
    config = '[volumes]\n"prompts/**" = 1000\n' if volumes else ""
    g.write("promptwise.toml", config + '[budgets]\n"prompts/**" = 400\n')
    g.write("prompts/_tone.prompt", "Be kind.\n")
    g.write("prompts/a.prompt", g.prompt("{{> tone}}\nSummarize.\n"))
    g.write("prompts/b.prompt", g.prompt("{{> tone}}\nTranslate.\n"))
    g.commit("base")
    g.write("prompts/_tone.prompt", "Be kind. " + "Explain each step in plain words. " * 6 + "\n")


def test_markdown_starts_with_the_marker_and_the_summary_line(gitrepo, cli):
    g = gitrepo
    _two_prompts(g)
    c = g.compare()
    r = cli("diff", "--format", "markdown", cwd=g.root)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "<!-- promptwise-diff -->"
    per_1000 = c.totals.delta_per_1000_calls
    assert re.fullmatch(r"\*\*promptwise: \+\d+ tokens/call, \+\$[0-9.]+ per 1,000 calls across 2 prompts\*\*", lines[1]), lines[1]
    assert f"+{c.totals.delta_tokens:,} tokens/call" in lines[1]
    assert f"{per_1000:.4f}".rstrip("0")[:5] in lines[1]
    assert "| `prompts/a.prompt` | affected |" in r.out and "| `prompts/b.prompt` | affected |" in r.out
    assert "<details><summary>" in r.out and "(affected via prompts/\\_tone.prompt)" in r.out


def test_markdown_summary_is_per_month_with_volumes(gitrepo, cli):
    g = gitrepo
    _two_prompts(g, volumes=True)
    c = g.compare()
    assert c.totals.delta_per_month is not None and c.totals.delta_per_month > 0
    r = cli("diff", "--format", "markdown", cwd=g.root)
    assert re.fullmatch(r"\*\*promptwise: \+\d+ tokens/call, \+\$[0-9.,]+/month across 2 prompts\*\*", r.out.splitlines()[1])


def test_table_and_json_and_github(gitrepo, cli):
    g = gitrepo
    g.write("prompts/a.prompt", g.prompt("One.\n"))
    g.commit("base")
    g.write("prompts/a.prompt", g.prompt("One.\n" + "Two more sentences to read, each one longer than the last.\n" * 3))
    table = cli("diff", cwd=g.root)
    assert table.code == 0
    assert table.out.startswith("base HEAD (")
    assert re.search(r"prompts/a\.prompt\s+modified\s+\d+ -> \d+\s+\+\d+", table.out)
    data = json.loads(cli("diff", "--format", "json", cwd=g.root).out)
    Comparison.model_validate(data)  # the documented shape
    assert data["files"][0]["path"] == "prompts/a.prompt" and data["files"][0]["delta_tokens"] > 0
    github = cli("diff", "--format", "github", cwd=g.root).out.splitlines()
    assert github[0].startswith("::warning file=prompts/a.prompt,line=5,endLine=7,title=promptwise diff::+")
    assert github[-1].startswith("::notice title=promptwise diff::+")


def test_exit_1_when_a_change_pushes_a_file_over_its_budget(gitrepo, cli):
    g = gitrepo
    g.write("promptwise.toml", '[budgets]\n"prompts/**" = 30\n')
    g.write("prompts/a.prompt", g.prompt("Short.\n"))
    g.commit("base")
    g.write("prompts/a.prompt", g.prompt("Much longer now: " + "words " * 40 + "\n"))
    r = cli("diff", "--format", "github", cwd=g.root)
    assert r.code == 1
    assert "prompts/a.prompt is over its budget after this change" in r.err
    assert "::error file=prompts/a.prompt,line=1,title=over budget::" in r.out


def test_a_file_already_over_its_budget_that_shrinks_passes(gitrepo, cli):
    g = gitrepo
    g.write("promptwise.toml", '[budgets]\n"prompts/**" = 10\n')
    g.write("prompts/a.prompt", g.prompt("Much longer than ten tokens: " + "words " * 40 + "\n"))
    g.commit("base")
    g.write("prompts/a.prompt", g.prompt("Still longer than ten tokens: " + "words " * 20 + "\n"))
    assert cli("diff", cwd=g.root).code == 0


def test_fail_above_a_percentage_and_dollars(gitrepo, cli):
    g = gitrepo
    g.write("promptwise.toml", '[volumes]\n"prompts/**" = 10000\n')
    g.write("prompts/a.prompt", g.prompt("Answer.\n", model="openai/gpt-4o"))
    g.commit("base")
    g.write("prompts/a.prompt", g.prompt("Answer.\n" + "Think about every edge case and explain it. " * 30 + "\n", model="openai/gpt-4o"))
    c = g.compare()
    rise, base = c.totals.delta_per_month, c.totals.base_per_month
    assert rise > 0 and base > 0
    share = rise / base * 100
    assert cli("diff", "--fail-above", f"{share * 0.9:.2f}%", cwd=g.root).code == 1
    assert cli("diff", "--fail-above", f"{share * 1.1:.2f}%", cwd=g.root).code == 0
    below = cli("diff", "--fail-above", f"${rise * 0.9:.2f}", cwd=g.root)
    assert below.code == 1 and "per month, above --fail-above $" in below.err
    assert cli("diff", "--fail-above", f"{rise * 1.1:.2f}", cwd=g.root).code == 0  # dollars without the sign
    bad = cli("diff", "--fail-above", "lots", cwd=g.root)
    assert bad.code == 2 and "neither a percentage" in bad.err


def test_head_ref_and_base_given(gitrepo, cli):
    g = gitrepo
    g.write("prompts/a.prompt", g.prompt("One.\n"))
    first = g.commit("one")
    g.write("prompts/a.prompt", g.prompt("One. Two.\n"))
    g.commit("two")
    g.git("tag", "v1", first)
    r = cli("diff", "v1", "--head", "HEAD", "--format", "json", cwd=g.root)
    data = json.loads(r.out)
    assert data["base"] == first and data["base_reason"] == "given" and data["head_label"] == "HEAD"
    assert [f["path"] for f in data["files"]] == ["prompts/a.prompt"]


def test_a_path_in_place_of_base(gitrepo, cli):
    g = gitrepo
    g.write("prompts/a.prompt", g.prompt("A.\n"))
    g.write("other/b.prompt", g.prompt("B.\n"))
    g.commit("base")
    g.write("prompts/a.prompt", g.prompt("A, longer.\n"))
    g.write("other/b.prompt", g.prompt("B, longer.\n"))
    data = json.loads(cli("diff", "other", "--format", "json", cwd=g.root).out)
    assert [f["path"] for f in data["files"]] == ["other/b.prompt"]


def test_the_default_base_is_the_merge_base_with_the_upstream(gitrepo, cli, tmp_path: Path):
    g = gitrepo
    g.write("prompts/a.prompt", g.prompt("One.\n"))
    first = g.commit("one")
    origin = tmp_path / "origin.git"
    g.git("init", "-q", "--bare", str(origin))
    g.git("remote", "add", "origin", str(origin))
    g.git("push", "-q", "origin", "HEAD:main")
    g.git("fetch", "-q", "origin")
    g.git("checkout", "-q", "-b", "feature", "--track", "origin/main")
    g.write("prompts/a.prompt", g.prompt("One. Two. Three.\n"))
    g.commit("feature work")
    data = json.loads(cli("diff", "--format", "json", cwd=g.root).out)
    assert data["base"] == first and data["base_reason"] == "merge base with origin/main"
    assert data["files"][0]["status"] == "modified"


def test_errors_are_one_line_with_exit_2(gitrepo, cli, tmp_path: Path, monkeypatch):
    g = gitrepo
    g.write("prompts/a.prompt", g.prompt("A.\n"))
    g.commit("base")
    unknown = cli("diff", "no-such-branch", cwd=g.root)
    assert unknown.code == 2 and unknown.out == ""
    assert unknown.err.count("\n") == 1 and "unknown BASE 'no-such-branch'" in unknown.err and "git rev-parse" in unknown.err
    head = cli("diff", "--head", "nope", cwd=g.root)
    assert head.code == 2 and "unknown --head 'nope'" in head.err
    outside = tmp_path / "plain"
    outside.mkdir()
    r = cli("diff", cwd=outside)
    assert r.code == 2 and "is not in a git repository" in r.err and "Traceback" not in r.err
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    r = cli("diff", cwd=g.root)
    assert r.code == 2 and "git is not installed" in r.err


def test_no_output_names_the_temporary_folder(gitrepo, cli):
    g = gitrepo
    g.write("prompts/_p.prompt", "Partial.\n")
    g.write("prompts/a.prompt", g.prompt("{{> p}}\n{{> gone}}\nHi {{name}}.\n"))
    g.commit("base")
    g.write("prompts/_p.prompt", "Partial, changed.\n")
    g.write("prompts/a.prompt", g.prompt("{{> p}}\n{{> gone}}\nHi {{name}}, again.\n"))
    for fmt in ("table", "markdown", "json", "github"):
        r = cli("diff", "--format", fmt, "--stats", cwd=g.root)
        assert "promptwise-rev-" not in r.out + r.err, fmt
        assert str(g.root) not in r.out, fmt  # repository paths are relative
    data = json.loads(cli("diff", "--format", "json", cwd=g.root).out)
    messages = [f["message"] for side in ("base", "head") for f in data["files"][0][side]["findings"]]
    assert any("gone" in m for m in messages)


def test_stats_go_to_stderr(gitrepo, cli):
    g = gitrepo
    g.write("prompts/a.prompt", g.prompt("A.\n"))
    g.commit("base")
    g.write("prompts/a.prompt", g.prompt("A, longer.\n"))
    r = cli("diff", "--format", "json", "--stats", cwd=g.root)
    json.loads(r.out)
    assert re.search(r"stats: 1 blob read from git, \d+ files listed, 2 analyses, [0-9.]+ s", r.err)


def test_model_prices_both_sides_with_one_model(gitrepo, cli):
    g = gitrepo
    g.write("prompts/a.prompt", g.prompt("One.\n", model="openai/gpt-4o-mini"))
    g.commit("base")
    g.write("prompts/a.prompt", g.prompt("One. Two.\n", model="openai/gpt-4o"))
    data = json.loads(cli("diff", "--model", "openai/gpt-4.1", "--format", "json", cwd=g.root).out)
    f = data["files"][0]
    assert data["model"] == "openai/gpt-4.1"
    assert f["base"]["model"] == f["head"]["model"] == "openai/gpt-4.1"


def test_github_names_the_cache_busting_line(gitrepo, cli):
    g = gitrepo
    base = '{{role "system"}}\n' + g.long_rules + '\nThe user is {{name}}.\n{{role "user"}}\n{{question}}\n'
    head = '{{role "system"}}\nThe user is {{name}}.\n' + g.long_rules + '\n{{role "user"}}\n{{question}}\n'
    g.write("prompts/support.prompt", g.prompt(base, model="openai/gpt-4o"))
    g.commit("base")
    g.write("prompts/support.prompt", g.prompt(head, model="openai/gpt-4o"))
    out = cli("diff", "--format", "github", cwd=g.root).out.splitlines()
    warning = [line for line in out if line.startswith("::warning")]
    assert warning and "cached prefix went from" in warning[0]
    assert ",line=5," in warning[0]  # where the variable now is
