"""A repository under review is not trusted: links out, huge blobs, odd names and git's own hooks."""

from __future__ import annotations

import json
import os
from pathlib import Path

from promptwise.formats.limits import DEFAULT_MAX_BYTES


def test_a_symlinked_prompt_pointing_outside_is_a_finding_not_a_read(gitrepo, cli, tmp_path: Path):
    g = gitrepo
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE\n", encoding="utf-8")
    g.write("prompts/a.prompt", g.prompt("A.\n"))
    g.commit("base")
    os.symlink(secret, g.root / "prompts" / "evil.prompt")
    os.symlink(secret, g.root / "prompts" / "_evil.prompt")
    g.write("prompts/a.prompt", g.prompt("{{> evil}}\nA.\n"))
    g.commit("links")  # both sides hold the links: the base as git objects, the head on disk
    base = g.git("rev-parse", "HEAD~1").strip()
    for head in ([], ["--head", "HEAD"]):
        r = cli("diff", base, *head, "--format", "json", cwd=g.root)
        assert r.code == 0, r.err
        assert "TOP-SECRET-VALUE" not in r.out
        data = json.loads(r.out)
        evil = [f for f in data["files"] if f["path"] == "prompts/evil.prompt"]
        assert evil and evil[0]["head"]["tokens"] is None and evil[0]["head"]["findings"]


def test_a_blob_over_the_size_limit_is_a_finding(gitrepo, cli):
    g = gitrepo
    g.write("prompts/big.prompt", g.prompt("x " * (DEFAULT_MAX_BYTES // 2 + 10)))
    g.commit("base")
    g.write("prompts/big.prompt", g.prompt("Now small.\n"))
    r = cli("diff", "--format", "json", cwd=g.root)
    assert r.code == 0, r.err
    f = json.loads(r.out)["files"][0]
    assert f["base"]["tokens"] is None
    assert [x["code"] for x in f["base"]["findings"]] == ["file-too-large"]
    assert "prompts/big.prompt is 8.0 MiB at HEAD" in f["base"]["findings"][0]["message"]
    assert f["head"]["tokens"] > 0


def test_the_configs_max_file_size_applies_on_the_base_side(gitrepo):
    g = gitrepo
    g.write("promptwise.toml", "max_file_size = 2048\n")
    g.write("prompts/a.prompt", g.prompt("word " * 1000))
    g.commit("base")
    g.write("prompts/a.prompt", g.prompt("short\n"))
    f = g.entry(g.compare(), "prompts/a.prompt")
    assert f.base.tokens is None and [x.code for x in f.base.findings] == ["file-too-large"]


def test_repository_hooks_and_external_diff_do_not_run(gitrepo, cli, tmp_path: Path):
    g = gitrepo
    marker = tmp_path / "ran"
    script = g.root / "hook.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n", encoding="utf-8")
    script.chmod(0o755)
    g.write("prompts/a.prompt", g.prompt("A.\n"))
    g.write(".gitattributes", "*.prompt diff=evil\n")
    g.commit("base")
    g.git("config", "core.fsmonitor", str(script))
    g.git("config", "diff.external", str(script))
    g.git("config", "diff.evil.textconv", str(script))
    g.write("prompts/a.prompt", g.prompt("A, changed.\n"))
    r = cli("diff", cwd=g.root)
    assert r.code == 0, r.err
    assert not marker.exists()


def test_names_with_spaces_quotes_and_unicode(gitrepo, cli):
    g = gitrepo
    name = 'prompts/ça "va" bien.prompt'
    g.write(name, g.prompt("Bonjour.\n"))
    g.commit("base")
    g.write(name, g.prompt("Bonjour, comment ça va ?\n"))
    data = json.loads(cli("diff", "--format", "json", cwd=g.root).out)
    assert [f["path"] for f in data["files"]] == [name]
    md = cli("diff", "--format", "markdown", cwd=g.root).out
    assert 'ça "va" bien.prompt' in md


def test_a_file_name_with_terminal_escapes_is_shown_escaped(gitrepo, cli):
    g = gitrepo
    name = "prompts/a\x1b[31mred.prompt"
    g.write(name, g.prompt("A.\n"))
    g.commit("base")
    g.write(name, g.prompt("A, changed.\n"))
    for fmt in ("table", "markdown", "github"):
        out = cli("diff", "--format", fmt, cwd=g.root).out
        assert "\x1b" not in out and "\\x1b" in out, fmt
