"""Settings: `promptwise.*` merged over the config file, bad values fall back with a message, changes re-analyze."""

from __future__ import annotations

import pytest
from lsprotocol import types as t

from tests.lsp.conftest import session_fixture

pytestmark = pytest.mark.asyncio(loop_scope="module")

configured_client, configured = session_fixture(
    "configured", configuration={"promptwise": {"defaultModel": "gpt-4.1", "expectedOutputTokens": 1000, "budgets": {"**/*": 100}}}
)
started_client, started = session_fixture(
    "started", initialization_options={"promptwise": {"defaultModel": "gpt-4o", "warnAt": "high", "inlayHints": {"enabled": "yes"}}}
)


async def test_editor_settings_override_the_config_file(configured):
    uri = configured.open(configured.root / "AGENTS.md")
    total = (await configured.hints(uri))[0]  # the total on the first line; the others are its headings
    assert " tokens on gpt-4.1 · $" in total.label
    data = await configured.command("promptwise.showBreakdown", uri)
    assert data["totals"]["expectedOutputTokens"] == 1000 and data["budget"]["tokens"] == 100
    found = await configured.diagnostics(uri)
    assert [d.code for d in found] == ["over-budget"] and "over the budget of 100" in found[0].message
    configured.close(uri)


async def test_initialization_options_apply_and_bad_values_fall_back_with_a_message(started):
    message = await started.message("promptwise.warnAt = 'high'")
    assert message.type == t.MessageType.Warning and "using the default instead" in message.message
    assert (await started.message("promptwise.inlayHints.enabled = 'yes'")).message.endswith("using the default instead")
    uri = started.open(started.root / "AGENTS.md")
    total = (await started.hints(uri))[0]  # hints stay on: the bad value fell back to its default
    assert " tokens on gpt-4o · $" in total.label
    started.close(uri)


async def test_config_files_are_watched_where_the_client_lets_servers_register(configured):
    registrations = configured.client.registrations
    if configured.profile == "neovim":
        assert registrations == []  # Neovim cannot register watchers dynamically
        return
    (watch,) = [r for r in registrations if r.method == t.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    patterns = {w["globPattern"] for w in watch.register_options["watchers"]}
    assert {"**/promptwise.toml", "**/pyproject.toml"} <= patterns


async def test_changed_settings_switch_features_off_and_on(configured):
    uri = configured.open(configured.root / "support" / "summarize.prompty")
    assert await configured.hints(uri)
    await _reconfigure(
        configured, uri, {"promptwise": {"inlayHints": {"enabled": False}, "hover": {"enabled": False}, "diagnostics": {"enabled": False}}}
    )
    assert await configured.hints(uri) == []
    assert await configured.hover(uri, t.Position(line=30, character=3)) is None
    assert await configured.diagnostics(uri) == []
    await _reconfigure(configured, uri, {"promptwise": {"defaultModel": "gpt-4o"}})
    assert await configured.hints(uri)
    assert await configured.hover(uri, t.Position(line=30, character=3))
    await _reconfigure(configured, uri, {"promptwise": {}})  # back to the config files alone
    configured.close(uri)


async def test_a_changed_config_file_re_analyzes_open_documents(configured):
    folder = configured.root / f"watched-{configured.profile}"
    folder.mkdir()
    config = folder / "promptwise.toml"
    config.write_text('default_model = "gpt-4o-mini"\n', encoding="utf-8")
    prompt = folder / "AGENTS.md"
    prompt.write_text("# Rules\n\nAnswer in English. Keep replies under 100 words.\n", encoding="utf-8")
    uri = configured.open(prompt)
    assert "on gpt-4o-mini" in (await configured.hints(uri))[0].label
    refreshes = configured.inlay_hint_refreshes
    config.write_text('default_model = "gpt-4.1-mini"\n[budgets]\n"**/*" = 10\n', encoding="utf-8")
    configured.client.workspace_did_change_watched_files(
        t.DidChangeWatchedFilesParams(changes=[t.FileEvent(uri=config.as_uri(), type=t.FileChangeType.Changed)])
    )
    if configured.profile == "neovim":  # it supports workspace/inlayHint/refresh
        await configured.until(lambda: configured.inlay_hint_refreshes > refreshes, what="an inlay hint refresh")
    assert "on gpt-4.1-mini" in (await configured.hints(uri))[0].label
    if configured.pulls:
        assert [d.code for d in await configured.diagnostics(uri)] == ["over-budget"]
    else:  # pushed again for the same version; analyzed on a worker, it may come after the hints
        await configured.until(
            lambda: [d.code for d in configured.published.get(uri, [t.PublishDiagnosticsParams(uri, [])])[-1].diagnostics] == ["over-budget"],
            what="diagnostics pushed again with the new budget",
        )
    configured.close(uri)


async def _reconfigure(session, uri: str, settings: dict) -> None:
    """Change the client's settings and wait until the server has re-read them and said so."""
    if not session.pulls:
        await session.pushed(uri)  # the push for the current version, so the next one is the reaction
    session.client.set_configuration(settings)
    refreshes = session.inlay_hint_refreshes
    pushed = len(session.published.get(uri, []))
    session.client.workspace_did_change_configuration(t.DidChangeConfigurationParams(settings=None))
    if session.pulls:  # Neovim: it supports workspace/inlayHint/refresh
        await session.until(lambda: session.inlay_hint_refreshes > refreshes, what="an inlay hint refresh")
    else:  # VS Code 1.65: diagnostics are pushed again
        await session.until(lambda: len(session.published.get(uri, [])) > pushed, what="diagnostics pushed again")
