"""`check` and `count` on repositories with files that cannot be read or analyzed: one finding per file
naming it, the other files still served, no traceback unless asked for, nothing read from outside."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import pytest

from promptwise import access
from promptwise.cli import check as check_module
from promptwise.cli import failures
from tests.conftest import run_subprocess

TRACEBACK = "Traceback (most recent call last)"
AGENTS = "Run the unit tests before every commit, and keep each change small enough to review.\n"


@pytest.fixture(autouse=True)
def _reset_debug():
    yield
    failures.set_debug(False)
    access.set_workspace(None)
    access.set_allowed(None)


def _special_files(folder: Path) -> dict[str, str]:
    """Prompt-named files that are not regular files, each with the words its finding must say."""
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "waits.prompt")
    os.symlink("loop.prompty", folder / "loop.prompty")
    os.symlink("/dev/zero", folder / "endless.prompty")
    os.symlink("gone.prompt", folder / "broken.prompt")
    expected = {
        "waits.prompt": "is a FIFO, not a regular file",
        "loop.prompty": "is a symlink loop",
        "endless.prompty": "is a character device, not a regular file",
        "broken.prompt": "is a symlink to a file that does not exist",
    }
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(folder / "CLAUDE.md"))
        expected["CLAUDE.md"] = "is a socket, not a regular file"
    except OSError:  # the path is too long for a Unix socket here
        pass
    finally:
        sock.close()
    return expected


def test_check_reports_fifos_devices_loops_and_sockets_and_checks_the_rest(tmp_path):
    repo = tmp_path / "repo"
    expected = _special_files(repo / "odd")
    (repo / "AGENTS.md").write_text(AGENTS)
    # A subprocess with a hang guard: before the fix, opening the FIFO blocked the run forever.
    result = run_subprocess("-m", "promptwise", "check", "repo", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert TRACEBACK not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for name, words in expected.items():
        finding = next(l for l in lines if l.startswith(f"repo/odd/{name}:1:1: error unreadable-file "))
        assert words in finding, finding
    row = next(l for l in lines if l.startswith("repo/AGENTS.md "))
    assert " ok" in row and "gpt-4o-mini" in row
    assert f"{len(expected) + 1} files" in lines[-1]


def test_count_of_a_fifo_or_device_is_a_finding_not_a_hang(tmp_path):
    expected = _special_files(tmp_path / "odd")
    for name, words in expected.items():
        result = run_subprocess("-m", "promptwise", "count", f"odd/{name}", cwd=tmp_path)
        assert result.returncode == 1, (name, result.stderr)
        assert result.stderr.startswith(f"odd/{name}:1:1: error unreadable-file ") and words in result.stderr
        assert TRACEBACK not in result.stderr and result.stdout == ""
    as_json = run_subprocess("-m", "promptwise", "count", "odd/waits.prompt", "--json", cwd=tmp_path)
    data = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and data["path"] == "odd/waits.prompt" and data["counted"] is False
    assert data["findings"][0]["code"] == "unreadable-file" and "prompt_tokens" not in data


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
        (MemoryError(), "ran out of memory"),
        (ValueError("bad\nthing \x1b[2J happened"), "ValueError: bad thing ?[2J happened"),
    ],
)
def test_a_file_whose_analysis_raises_is_one_finding_and_the_others_are_checked(cli, tmp_path, monkeypatch, error, reason):
    (tmp_path / "AGENTS.md").write_text(AGENTS)
    (tmp_path / "bad.prompt").write_text("Hello.\n")
    real = check_module.analyze_file

    def analyze_file(path, *args, **kwargs):
        if path.name == "bad.prompt":
            raise error
        return real(path, *args, **kwargs)

    monkeypatch.setattr(check_module, "analyze_file", analyze_file)
    result = cli("check", ".", cwd=tmp_path)
    assert result.code == 1
    assert TRACEBACK not in result.out + result.err and result.err == ""
    line = next(l for l in result.out.splitlines() if l.startswith("bad.prompt:"))
    assert line.startswith("bad.prompt:1:1: error analysis-failed could not analyze this file: ")
    assert reason in line and line.endswith("(run with --debug for the traceback)")
    assert any(l.startswith("AGENTS.md ") and l.endswith(" ok") for l in result.out.splitlines())
    data = json.loads(cli("check", ".", "--format", "json", cwd=tmp_path).out)
    assert {f["path"]: [x["code"] for x in f["findings"]] for f in data["files"]} == {"AGENTS.md": [], "bad.prompt": ["analysis-failed"]}


def test_debug_writes_the_traceback_to_stderr_or_a_log(cli, tmp_path, monkeypatch):
    (tmp_path / "bad.prompt").write_text("Hello.\n")

    def analyze_file(path, *args, **kwargs):
        raise KeyError("frontmatter")

    monkeypatch.setattr(check_module, "analyze_file", analyze_file)
    for args in (("--debug", "check", "."), ("check", "--debug", ".")):
        result = cli(*args, cwd=tmp_path)
        assert result.code == 1 and TRACEBACK in result.err and "KeyError" in result.err
        assert TRACEBACK not in result.out
    log = tmp_path / "debug.log"
    result = cli("check", ".", "--debug-log", str(log), cwd=tmp_path)
    assert result.code == 1 and result.err == ""
    assert f"(traceback in {log})" in result.out
    assert TRACEBACK in log.read_text() and "analyzing bad.prompt failed" in log.read_text()


def test_a_config_that_cannot_be_loaded_is_one_problem_and_defaults_apply(cli, tmp_path, monkeypatch):
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "promptwise.toml").write_text("x = " + "[" * 600 + "]" * 600 + "\n")
    (tmp_path / "deep" / "AGENTS.md").write_text(AGENTS)
    (tmp_path / "fine").mkdir()
    (tmp_path / "fine" / "AGENTS.md").write_text(AGENTS)
    real = check_module.load_config

    def load_config(start, *args, **kwargs):
        if "deep" in Path(start).parts:
            raise RecursionError("maximum recursion depth exceeded while decoding")
        return real(start, *args, **kwargs)

    monkeypatch.setattr(check_module, "load_config", load_config)
    result = cli("check", ".", cwd=tmp_path)
    assert result.code == 1 and TRACEBACK not in result.out + result.err
    assert "deep/promptwise.toml:1:1: error invalid-config promptwise.toml could not be loaded: it is nested too deeply" in result.out
    assert sum(l.startswith(("deep/AGENTS.md ", "fine/AGENTS.md ")) and l.endswith(" ok") for l in result.out.splitlines()) == 2


def test_an_unexpected_failure_of_the_run_is_one_line(cli, tmp_path, monkeypatch):
    (tmp_path / "AGENTS.md").write_text(AGENTS)

    def print_text(*args):
        raise RuntimeError("the table broke")

    monkeypatch.setattr(check_module, "print_text", print_text)
    result = cli("check", ".", cwd=tmp_path)
    assert result.code == 2 and TRACEBACK not in result.err
    assert result.err == "promptwise check: internal error: RuntimeError: the table broke (run with --debug for the traceback)\n"


def test_count_bounds_what_it_reads_and_reports_bad_request_bodies(cli, tmp_path):
    (tmp_path / "promptwise.toml").write_text("max_file_size = 2000\n")
    result = cli("count", "-", stdin="word " * 100_000, cwd=tmp_path)
    assert result.code == 1 and "<stdin>:1:1: warning file-too-large" in result.err
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "promptwise.toml").write_text("max_file_size = 1000000\n")
    result = cli("count", str(deep), cwd=tmp_path)
    assert result.code == 1 and TRACEBACK not in result.err
    assert result.err.startswith("deep.json:1:1: error invalid-request not valid JSON: it is nested too deeply")
    shape = tmp_path / "shape.json"
    shape.write_text('{"messages": [3]}')
    result = cli("count", str(shape), "--json", cwd=tmp_path)
    assert result.code == 1 and json.loads(result.out)["findings"][0]["message"] == "messages[0] must be an object with a 'role'"


def test_count_prints_the_findings_of_a_file_it_counted(cli, tmp_path):
    (tmp_path / "hello.prompt").write_text("Hello {{who}}.\n")
    result = cli("count", "hello.prompt", cwd=tmp_path)
    assert result.code == 0 and "prompt tokens" in result.out
    assert result.err.startswith("hello.prompt:1:7: warning undefined-variable ")
    data = json.loads(cli("count", "hello.prompt", "--json", cwd=tmp_path).out)
    assert data["findings"][0]["code"] == "undefined-variable" and data["findings"][0]["column"] == 7
    (tmp_path / "promptwise.toml").write_text("warn_at = 7\n")
    result = cli("count", "hello.prompt", cwd=tmp_path)
    # A setting that is an error fails the run, as in check; it is placed at its value.
    assert result.code == 1 and "promptwise.toml:1:11: error invalid-config 'warn_at'" in result.err


def test_the_cli_tells_access_which_folders_the_user_chose(cli, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(access, "set_workspace", lambda roots: calls.append(None if roots is None else list(roots)))
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "docs").mkdir()
    (tmp_path / "repo" / "docs" / "AGENTS.md").write_text(AGENTS)
    (tmp_path / "other").mkdir()
    cli("check", str(tmp_path / "repo" / "docs"), str(tmp_path / "other"))
    assert calls == [[tmp_path / "repo", tmp_path / "other"], None]
    calls.clear()
    cli("count", str(tmp_path / "repo" / "docs" / "AGENTS.md"))
    assert calls == [[tmp_path / "repo"], None]
    calls.clear()
    cli("count", "-", stdin="Hi.", cwd=tmp_path / "other")
    assert calls == [[tmp_path / "other"], None]


def test_an_import_from_outside_the_chosen_folders_is_refused(cli, tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.md").write_text("SECRET-NOTES-81c3\n")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "CLAUDE.md").write_text("Use the notes.\n@../outside/secret.md\n")
    result = cli("check", str(workspace), "--format", "json")
    assert result.code == 1 and "SECRET-NOTES" not in result.out + result.err
    findings = json.loads(result.out)["files"][0]["findings"]
    assert any("outside/secret.md" in f["message"] and "outside the workspace" in f["message"] for f in findings), findings


def test_a_symlinked_prompt_pointing_outside_is_not_read_unless_allowed(cli, tmp_path):
    (tmp_path / "outside").mkdir()
    secret = tmp_path / "outside" / "keys.prompty"
    secret.write_text("---\nmodel: gpt-4o\n---\nsystem:\nSECRET-KEY-93f1 " + "key " * 50 + "\n")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    os.symlink(secret, workspace / "linked.prompty")
    (workspace / "AGENTS.md").write_text(AGENTS)
    result = cli("check", ".", "--format", "json", cwd=workspace)
    files = {f["path"]: f for f in json.loads(result.out)["files"]}
    assert result.code == 1 and "prompt_tokens" not in files["linked.prompty"]
    message = files["linked.prompty"]["findings"][0]["message"]
    assert message.startswith(f"linked.prompty links to {secret}, outside the workspace; it was not read")
    assert files["AGENTS.md"]["prompt_tokens"] > 0
    counted = cli("count", "linked.prompty", cwd=workspace)
    assert counted.code == 1 and "outside the workspace" in counted.err
    access.set_allowed([tmp_path / "outside"])  # the user's own configuration allows that folder
    allowed = json.loads(cli("check", ".", "--format", "json", cwd=workspace).out)
    assert {f["path"]: f.get("prompt_tokens", 0) > 50 for f in allowed["files"]}["linked.prompty"]


def test_walking_does_not_follow_a_folder_that_links_back(cli, tmp_path):
    (tmp_path / "AGENTS.md").write_text(AGENTS)
    os.symlink(".", tmp_path / "again")
    os.symlink(tmp_path, tmp_path / "up")
    result = cli("check", ".", "--format", "json", cwd=tmp_path)
    assert [f["path"] for f in json.loads(result.out)["files"]] == ["AGENTS.md"]


def test_terminal_escapes_in_names_and_messages_are_shown_escaped(cli, tmp_path):
    name = "x\x1b[2J\x1b]0;owned\x07.prompt"
    (tmp_path / name).write_text("Hello {{who}}.\n")
    result = cli("check", ".", cwd=tmp_path)
    assert "\x1b" not in result.out and "\x07" not in result.out
    assert "x\\x1b[2J\\x1b]0;owned\\x07.prompt:1:7: warning undefined-variable" in result.out
    data = json.loads(cli("check", ".", "--format", "json", cwd=tmp_path).out)
    assert data["files"][0]["path"] == name  # JSON keeps the real name, escaped by JSON itself


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and Unix sockets")
def test_failures_module_names_every_kind_of_file(tmp_path):
    expected = _special_files(tmp_path)
    for name, words in expected.items():
        assert words in failures.not_a_regular_file(tmp_path / name)
    (tmp_path / "plain.prompt").write_text("x")
    assert failures.not_a_regular_file(tmp_path / "plain.prompt") is None
    assert failures.not_a_regular_file(tmp_path) == f"{tmp_path.name} is a folder, not a regular file; it was not read"


def test_paragraphs_are_found_in_one_pass(tmp_path):
    from promptwise.analysis import paragraphs

    text = "one\ntwo\n\n \t\nthree \r\n\nfour"
    assert [text[a:b] for a, b in paragraphs(text)] == ["one\ntwo", "three \r", "four"]
    assert [text[a:b] for a, b in paragraphs(text, 5)] == ["wo", "three \r", "four"]
    # A megabyte of spaces took hours with the old paragraph pattern (quadratic backtracking).
    (tmp_path / "AGENTS.md").write_text(" " * (1 << 20) + "\n" + ("\t" * 1000 + "\n") * 500)
    result = run_subprocess("-m", "promptwise", "check", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "\n1 file, " in result.stdout  # one file, in the singular


def test_an_atomic_write_never_writes_through_a_planted_temporary_name(tmp_path, monkeypatch):
    import itertools
    import threading

    from promptwise import files

    outside = tmp_path / "outside.txt"
    outside.write_text("untouched\n")
    target = tmp_path / "repo" / "AGENTS.md"
    target.parent.mkdir()
    target.write_text("old\n")
    monkeypatch.setattr(files, "_counter", itertools.count(7))
    planted = f"{target}.{os.getpid()}-{threading.get_ident()}-7.promptwise-tmp"
    os.symlink(outside, planted)  # where the next temporary file would go
    files.write_atomic(target, b"new\n")
    assert target.read_text() == "new\n" and outside.read_text() == "untouched\n"
    assert os.path.islink(planted)


def test_a_folder_that_cannot_be_listed_is_reported_and_the_rest_checked(cli, tmp_path, monkeypatch):
    (tmp_path / "locked").mkdir()
    (tmp_path / "AGENTS.md").write_text(AGENTS)
    scandir = os.scandir

    def guarded(path="."):
        if Path(path).name == "locked":  # what a folder without read permission gives a non-root user
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", guarded)
    result = cli("check", ".", cwd=tmp_path)
    assert result.code == 1 and TRACEBACK not in result.out + result.err
    assert "locked:1:1: error unreadable-file cannot list the folder locked: Permission denied" in result.out
    assert any(l.startswith("AGENTS.md ") and l.endswith(" ok") for l in result.out.splitlines())
