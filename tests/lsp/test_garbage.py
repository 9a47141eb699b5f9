"""Garbage never takes the server down: each bad input gets a clear diagnostic or message, and the next request works."""

from __future__ import annotations

import pytest
from lsprotocol import types as t

from tests.lsp.conftest import TRIAGE, position_of

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def still_serving(session) -> None:
    path = session.root / "support" / "still-serving.prompty"
    path.write_text(TRIAGE, encoding="utf-8")
    uri = session.open(path)
    assert (await session.command("promptwise.countTokens", uri))["tokens"] > 0
    session.close(uri)


async def test_invalid_yaml_frontmatter(session):
    text = "---\nmodel: gpt-4o\nsample: [unclosed\n---\nsystem:\nHello 👋 日本語\n"
    uri = session.open(session.root / "support" / "broken-yaml.prompty", text)
    found = await session.diagnostics(uri)
    bad = next(d for d in found if d.code == "invalid-frontmatter")
    assert bad.severity == t.DiagnosticSeverity.Error and bad.message.startswith("invalid YAML in frontmatter")
    assert bad.range.start.line in (2, 3)
    hints = await session.hints(uri)  # the body is still counted
    assert any("tokens" in h.label for h in hints)
    session.close(uri)
    await still_serving(session)


async def test_binary_content(session):
    text = "PK\x03\x04\x00\x00\x08\x00" + "".join(chr(i) for i in range(1, 32)) * 50 + "\x00\x00ÿþ"
    uri = session.open(session.root / "support" / "archive.prompty", text)
    found = await session.diagnostics(uri)
    assert [(d.code, d.severity) for d in found] == [("binary-file", t.DiagnosticSeverity.Error)]
    assert "binary content, not a prompt" in found[0].message
    assert await session.hints(uri) == []
    assert "binary content" in await session.hover(uri, t.Position(0, 1))
    session.close(uri)
    await still_serving(session)


async def test_a_20_mb_document_degrades_with_a_clear_message(session):
    paragraph = "Follow the escalation policy for every order issue, and cite the section you used. 🎉\n\n"
    text = "system:\n" + paragraph * (20 * 1024 * 1024 // len(paragraph.encode()) + 1)
    uri = session.open(session.root / "support" / "huge.prompty", text)
    found = await session.diagnostics(uri, timeout=60)
    assert [d.code for d in found] == ["file-too-large"]
    assert "MiB, over the 8 MiB limit (max_file_size); it was not analyzed" in found[0].message
    assert await session.hints(uri) == []
    session.edit(uri, t.Position(1, 0), t.Position(1, 6), "Always")  # edits still apply
    with pytest.raises(Exception, match="not analyzed"):
        await session.command("promptwise.countTokens", uri)
    session.close(uri)
    await still_serving(session)


async def test_unknown_model(session):
    text = TRIAGE.replace("name: gpt-4o", "name: acme-llm-9000")
    uri = session.open(session.root / "support" / "unknown-model.prompty", text)
    found = await session.diagnostics(uri)
    unknown = next(d for d in found if d.code == "unknown-model")
    assert unknown.range.start == position_of(text, "acme-llm-9000")
    assert "unknown model 'acme-llm-9000'" in unknown.message
    hints = await session.hints(uri)
    assert hints[0].label.startswith("~") and "no price" in hints[0].label
    assert "is not in the model catalog" in await session.hover(uri, position_of(text, "acme-llm"))
    session.close(uri)


async def test_a_config_file_with_errors(session):
    folder = session.root / f"bad-config-{session.profile}"
    folder.mkdir()
    (folder / "promptwise.toml").write_text('default_model = "gpt-4o"\nwarn_at = 5\n[budgets\n', encoding="utf-8")
    (folder / "AGENTS.md").write_text("# Rules\n\nBe kind.\n", encoding="utf-8")
    uri = session.open(folder / "AGENTS.md")
    hints = await session.hints(uri)  # analyzed with the defaults
    assert " tokens on gpt-4o-mini · $" in hints[0].label
    message = await session.message("promptwise.toml is not valid TOML")
    assert message.type == t.MessageType.Warning
    config_uri = (folder / "promptwise.toml").as_uri()
    published = await session.until(lambda: (session.published.get(config_uri) or [None])[-1], what="config diagnostics")
    (problem,) = published.diagnostics
    assert problem.range.start.line == 2 and problem.source == "promptwise"
    # Fix the syntax but keep a bad value: the message names the key and its line.
    (folder / "promptwise.toml").write_text('default_model = "gpt-4o"\nwarn_at = 5\n', encoding="utf-8")
    session.client.workspace_did_change_watched_files(
        t.DidChangeWatchedFilesParams(changes=[t.FileEvent(uri=config_uri, type=t.FileChangeType.Changed)])
    )
    message = await session.message("'warn_at': Input should be less than or equal to 1")

    def fixed():
        last = session.published[config_uri][-1]
        return last if last.diagnostics and last.diagnostics[0].message.startswith("'warn_at'") else None

    published = await session.until(fixed, what="the config file's new diagnostics")
    assert published.diagnostics[0].range.start.line == 1
    assert " tokens on gpt-4o · $" in (await session.hints(uri))[0].label
    session.close(uri)


@pytest.mark.parametrize(
    "text",
    [
        "---\n---\n",
        "---\n- a list\n- not a mapping\n---\nuser:\nhi\n",
        "---\nmodel: {id: 3}\n---\n",
        "system:\n{% for x in %}\n",
        "system:\n{{ unclosed\n",
        "\ufeff\r\n\r\nsystem:\r\n\u2028\u2029\x0b\x0c 🎉\r\n",
        "---\nmodel: gpt-4o\ninputs:\n  q: {default: [1, {a: 2}]}\n---\nuser:\n{{ q[5].b.c() }}\n",
        "",
    ],
)
async def test_odd_inputs_in_every_format(session, text):
    for name in ("odd.prompty", "odd.prompt", "odd.instructions.md", "CLAUDE.md"):
        uri = session.open(session.root / "support" / name, text)
        await session.diagnostics(uri)
        await session.hints(uri)
        await session.hover(uri, t.Position(1, 1))
        session.close(uri)
    await still_serving(session)


async def test_a_file_that_is_not_a_regular_workspace_file_is_one_diagnostic_naming_it(session, tmp_path_factory):
    """What an editor can open from a hostile repository: a FIFO, a link to /dev/zero, a symlink loop,
    a link to a secret outside the workspace. The server reads none of them: one diagnostic each."""
    import os

    folder = session.root / "support" / f"not-regular-{session.profile}"
    folder.mkdir()
    outside = tmp_path_factory.mktemp("outside") / "id_rsa"
    outside.write_text("PRIVATE KEY\n", encoding="utf-8")
    os.mkfifo(folder / "fifo.prompty")
    os.symlink("/dev/zero", folder / "zero.prompt")
    os.symlink("loop.prompty", folder / "loop.prompty")
    os.symlink(outside, folder / "key.prompty")
    expected = {
        "fifo.prompty": "is a FIFO, not a regular file; it was not analyzed",
        "zero.prompt": "is a device, not a regular file; it was not analyzed",
        "loop.prompty": "is a symlink loop; it was not analyzed",
        "key.prompty": f"is a link: {outside} is outside the workspace; it was not read",
    }
    for name, says in expected.items():
        uri = session.open(folder / name, "system:\nHello\n" if name == "key.prompty" else "")
        (found,) = await session.diagnostics(uri)
        assert found.severity == t.DiagnosticSeverity.Error and says in found.message, name
        assert name in found.message
        assert await session.hints(uri) == []  # not analyzed: nothing counted
        session.close(uri)
    await still_serving(session)
