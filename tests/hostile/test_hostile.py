"""A hostile repository, opened as a user would: check, count, a language-server session and eval.

Nothing runs (no marker file, no process started), nothing leaks (no secret in anything printed, written
or answered), nothing goes anywhere but the fake model server, every hostile file ends in a finding
that names it, and the work stays bounded (an address-space cap; generous hang guards, no timings).
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient
from pytest_lsp.client import make_test_lsp_client

from promptwise.formats import detect_format, is_partial

from tests.hostile.harness import HostileContext, build_workspace

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GUARD = HERE / "guard.py"
ADDRESS_SPACE = 3 * 1024**3  # the bombs reached 5.8 GB before they were bounded
HANG_GUARD = 600  # seconds; a hang, not a duration, fails the test
MAX_TOKENS = 8 * 1024 * 1024  # no file may count more than max_file_size could hold

sys.path.insert(0, str(ROOT / "tests" / "evals"))
from fake_server import FakeLLMServer  # noqa: E402


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> HostileContext:
    return build_workspace(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def fake_server():
    server = FakeLLMServer().start()
    yield server
    server.stop()


def _env(ctx: HostileContext, user_config: str | None = None) -> dict[str, str]:
    config_home = ctx.root / "user-config"
    if user_config is not None:
        (config_home / "promptwise").mkdir(parents=True, exist_ok=True)
        (config_home / "promptwise" / "config.toml").write_text(user_config)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(ctx.home),
        "XDG_CONFIG_HOME": str(config_home),
        "XDG_CACHE_HOME": str(ctx.root / "cache"),
        "PROMPTWISE_GUARD_AS": str(ADDRESS_SPACE),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "NO_PROXY": "*",
        **ctx.secrets,
    }
    return env


def _run(ctx: HostileContext, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    log = ctx.root / f"{name}.events"
    result = subprocess.run(
        [sys.executable, str(GUARD), str(log), "--", *args],
        cwd=ctx.workspace,
        env=env or _env(ctx),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        stdin=subprocess.DEVNULL,
    )
    result.events = _events(log)  # type: ignore[attr-defined]
    return result


def _events(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _prompt_files(ctx: HostileContext) -> list[Path]:
    """Every prompt file of the workspace (as `check` finds them), hostile or not, without following folders out."""
    found = []
    for folder, dirs, files in os.walk(ctx.workspace):
        dirs[:] = [d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(folder, d))]
        for name in files:
            path = Path(folder) / name
            if detect_format(path) is not None and not is_partial(path):
                found.append(path)
    return sorted(found)


def _is_control(path: Path, ctx: HostileContext) -> bool:
    return path.relative_to(ctx.workspace).parts[0].startswith("control-")


def _assert_nothing_ran(ctx: HostileContext, *runs) -> None:
    assert not ctx.marker.exists(), "a hostile file ran code"
    assert not list(ctx.marker.parent.iterdir()), "a hostile file wrote beside the marker"
    for run in runs:
        started = [e for e in run.events if e["event"] == "process"]
        assert not started, f"processes were started: {started}"


def _assert_no_secret(ctx: HostileContext, *texts: str) -> None:
    secrets = ctx.all_secrets()
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret ({len(secret)} characters) was printed"
    planted = (ctx.secret_file.parent, ctx.home / ".ssh")  # where the test itself put secrets
    for folder, _dirs, files in os.walk(ctx.root):
        for name in files:
            path = Path(folder) / name
            if path.parent in planted or not stat.S_ISREG(os.lstat(path).st_mode) or os.lstat(path).st_size > 64 * 1024**2:
                continue
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, f"a secret ({len(secret)} characters) was written to {path}"


def _assert_no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback (most recent call last)" not in text


def _connections(run) -> list[str]:
    return [e["detail"] for e in run.events if e["event"] in ("connect", "resolve")]


def test_check_reports_every_hostile_file_and_serves_the_others(hostile):
    run = _run(hostile, "check", "check", ".", "--format", "json")
    _assert_no_traceback(run.stdout, run.stderr)
    assert run.returncode == 1, run.stderr[-2000:]
    report = json.loads(run.stdout)
    by_path = {os.path.abspath(hostile.workspace / entry["path"]): entry for entry in report["files"]}
    prompts = _prompt_files(hostile)
    assert len(prompts) > 1
    for path in prompts:
        entry = by_path.get(os.path.abspath(path))
        assert entry is not None, f"{path.relative_to(hostile.workspace)} is missing from check's report"
        if _is_control(path, hostile):
            assert not [f for f in entry["findings"] if f["severity"] == "error"], entry["findings"]
            assert entry["prompt_tokens"] > 0
        else:
            assert entry["findings"], f"{path.relative_to(hostile.workspace)} got no finding"
        assert (entry.get("prompt_tokens") or 0) <= MAX_TOKENS
    _assert_nothing_ran(hostile, run)
    _assert_no_secret(hostile, run.stdout, run.stderr)
    assert _connections(run) == []


def test_count_each_file_is_bounded_and_leaks_nothing(hostile):
    runs = []
    for path in _prompt_files(hostile):
        run = _run(hostile, f"count-{path.name}", "count", str(path), "--json")
        runs.append(run)
        _assert_no_traceback(run.stdout, run.stderr)
        assert run.returncode in (0, 1), (path, run.returncode, run.stderr[-2000:])
        if run.stdout.strip().startswith("{"):
            assert json.loads(run.stdout).get("prompt_tokens", 0) <= MAX_TOKENS
        _assert_no_secret(hostile, run.stdout, run.stderr)
        assert _connections(run) == []
    _assert_nothing_ran(hostile, *runs)


def test_eval_sends_nothing_but_to_the_user_chosen_server(hostile, fake_server):
    fake_server.reset()
    env = _env(hostile, f'[evals]\napi_base = "{fake_server.url}"\napi_key_env = "LITELLM_MASTER_KEY"\n')
    run = _run(hostile, "eval", "eval", ".", "--no-cache", env=env)
    _assert_no_traceback(run.stdout, run.stderr)
    assert run.returncode in (0, 1, 2), run.stderr[-2000:]
    _assert_nothing_ran(hostile, run)
    _assert_no_secret(hostile, run.stdout, run.stderr)
    for address in _connections(run):
        assert f"{fake_server.port}" in address and ("127.0.0.1" in address or "localhost" in address), address
    for call in fake_server.calls(None):
        assert all(secret not in json.dumps(call.body) for secret in hostile.all_secrets())
    suites = sorted(p for p in hostile.workspace.rglob("*.evals.yaml") if not _is_control(p, hostile))
    output = run.stdout + run.stderr
    for suite in suites:
        assert suite.name in output, f"{suite.name} is not reported by eval"


def test_language_server_answers_for_every_file_and_other_files_meanwhile(hostile):
    asyncio.run(_lsp_session(hostile))


async def _lsp_session(ctx: HostileContext) -> None:
    log = ctx.root / "lsp.events"
    client = make_test_lsp_client()  # records diagnostics, log and shown messages
    answers: list[str] = []
    await client.start_io(sys.executable, str(GUARD), str(log), "--", "lsp", env=_env(ctx), cwd=str(ctx.workspace))
    try:
        await asyncio.wait_for(
            client.initialize_session(
                t.InitializeParams(
                    capabilities=t.ClientCapabilities(),
                    process_id=os.getpid(),
                    root_uri=ctx.workspace.as_uri(),
                    workspace_folders=[t.WorkspaceFolder(uri=ctx.workspace.as_uri(), name="hostile")],
                )
            ),
            HANG_GUARD,
        )
        control = next(p for p in _prompt_files(ctx) if _is_control(p, ctx))
        control_uri = control.as_uri()
        opened = []
        # What a user opens from the explorer: regular files. A link or a FIFO is opened only by choice,
        # and its text is then the user's own; check and count report those by their path on disk.
        for path in [p for p in _prompt_files(ctx) if not p.is_symlink() and _is_regular(p)]:
            text = path.read_bytes().decode("utf-8", errors="replace")
            client.text_document_did_open(
                t.DidOpenTextDocumentParams(t.TextDocumentItem(uri=path.as_uri(), language_id="prompt", version=1, text=text))
            )
            opened.append(path.as_uri())
            # Right after each hostile file arrives, the control file is still answered.
            hover = await asyncio.wait_for(
                client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(control_uri), t.Position(6, 10))),
                HANG_GUARD,
            )
            answers.append(json.dumps(hover.contents.value if hover else None))
        for uri in opened:
            hints = await asyncio.wait_for(
                client.text_document_inlay_hint_async(
                    t.InlayHintParams(t.TextDocumentIdentifier(uri), t.Range(t.Position(0, 0), t.Position(100_000, 0)))
                ),
                HANG_GUARD,
            )
            answers.extend(str(h.label) + str(h.tooltip) for h in hints or [])
            hover = await asyncio.wait_for(
                client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(uri), t.Position(0, 0))), HANG_GUARD
            )
            answers.append(json.dumps(hover.contents.value if hover else None))
        await asyncio.wait_for(_until_diagnosed(client, opened), HANG_GUARD)
        for uri in opened:
            diagnostics = client.diagnostics.get(uri, [])
            answers.extend(d.message for d in diagnostics)
            if not _is_control(Path(uri.removeprefix("file://")), ctx):
                assert diagnostics, f"{uri} got no diagnostic"
        answers.extend(m.message for m in client.log_messages)
        answers.extend(m.message for m in client.messages)
        await asyncio.wait_for(client.shutdown_session(), HANG_GUARD)
    finally:
        await client.stop()
    run = type("Run", (), {"events": _events(log)})()
    _assert_nothing_ran(ctx, run)
    _assert_no_secret(ctx, *answers)
    assert _connections(run) == []


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


async def _until_diagnosed(client: LanguageClient, uris: list[str]) -> None:
    while not all(uri in client.diagnostics for uri in uris):
        await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
