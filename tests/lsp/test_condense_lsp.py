"""Condense with a model, in the editor, against the fake server on loopback: the code action names the
command and calls nothing; the command condenses a section, runs the suite on both versions, and offers
the edit with both pass rates (Apply / Discard); Apply sends a workspace/applyEdit that needs confirmation."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import SERVER, read_code_actions_like_editors

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evals"))  # the fake server the eval tests use

from fake_server import FakeLLMServer  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")

KEY_ENV = "PROMPTWISE_LSP_CONDENSE_KEY"
CONFIG_HOME = Path(tempfile.mkdtemp(prefix="promptwise-condense-config-"))
INSTRUCTIONS_START = "You shorten text that is part of a prompt"

TONE = (
    "## Tone\n\n"
    + "Please always make sure that you are being very polite and courteous to every customer at all times. " * 12
    + "\nWhen the ticket is about a late parcel, always mention the word shipping in your reply.\n"
)
PROMPT = "---\nname: Triage\nmodel:\n  id: fake-gpt\n---\nsystem:\n# Triage\n\nYou triage tickets for Northwind.\n\n" + TONE + "\nuser:\n{{ticket}}\n"
SUITE = """\
cases:
  - vars: {ticket: My parcel is late}
    assert: [{type: icontains, value: shipping}]
  - vars: {ticket: Hello}
    assert: [{type: icontains, value: thanks}]
"""
CONFIG = """\
[evals]
retries = 0

[models."fake-gpt"]
provider = "openai"
input_cost_per_million = 1.0
output_cost_per_million = 2.0
context_window = 100000
"""


@pytest.fixture(scope="module")
def fake():
    server = FakeLLMServer().start()
    yield server
    server.stop()


@pytest.fixture
def llm(fake):
    fake.reset()
    fake.reply(INSTRUCTIONS_START, "## Tone\n\nBe polite.")
    fake.reply("You triage tickets", lambda body: "Thanks." + (" Shipping delay." if "shipping" in body["messages"][0]["content"] else ""))
    yield fake
    fake.reset()


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, server_env={**os.environ, KEY_ENV: "sk-fake-condense", "XDG_CONFIG_HOME": str(CONFIG_HOME)}),
    params=["visual_studio_code"],
    scope="module",
    name="condense_client",
)
async def condense_client(client: LanguageClient, tmp_path_factory, fake):
    (CONFIG_HOME / "promptwise").mkdir(exist_ok=True)
    (CONFIG_HOME / "promptwise" / "config.toml").write_text(f'[evals]\napi_base = "{fake.url}"\napi_key_env = "{KEY_ENV}"\n', encoding="utf-8")
    root = tmp_path_factory.mktemp("condense")
    (root / "promptwise.toml").write_text(CONFIG, encoding="utf-8")
    (root / "triage.prompty").write_text(PROMPT, encoding="utf-8")
    (root / "triage.evals.yaml").write_text(SUITE, encoding="utf-8")
    client.root = root  # type: ignore[attr-defined]
    for method in (t.CLIENT_REGISTER_CAPABILITY, t.WORKSPACE_CODE_LENS_REFRESH, t.WORKSPACE_INLAY_HINT_REFRESH, t.WORKSPACE_DIAGNOSTIC_REFRESH):
        client.protocol.fm.features[method] = lambda params: None
    client.questions, client.applied, client.answer = [], [], "Apply"  # type: ignore[attr-defined]

    def show_message_request(params: t.ShowMessageRequestParams):
        client.questions.append(params)  # type: ignore[attr-defined]
        return next((a for a in params.actions or [] if a.title == client.answer), None)  # type: ignore[attr-defined]

    def apply_edit(params: t.ApplyWorkspaceEditParams):
        client.applied.append(params)  # type: ignore[attr-defined]
        return t.ApplyWorkspaceEditResult(applied=True)

    read_code_actions_like_editors(client)
    client.protocol.fm.features[t.WINDOW_SHOW_MESSAGE_REQUEST] = show_message_request
    client.protocol.fm.features[t.WORKSPACE_APPLY_EDIT] = apply_edit
    await client.initialize_session(
        t.InitializeParams(
            capabilities=client_capabilities("visual_studio_code"),
            root_uri=root.as_uri(),
            workspace_folders=[t.WorkspaceFolder(uri=root.as_uri(), name="condense")],
        )
    )
    uri = (root / "triage.prompty").as_uri()
    client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(uri=uri, language_id="prompty", version=1, text=PROMPT)))
    client.uri = uri  # type: ignore[attr-defined]
    yield
    await client.shutdown_session()


def _line(needle: str) -> int:
    return PROMPT[: PROMPT.index(needle)].count("\n")


async def test_the_code_action_names_the_command_and_calls_nothing(condense_client, llm):
    line = _line("## Tone")
    actions = await condense_client.text_document_code_action_async(
        t.CodeActionParams(
            text_document=t.TextDocumentIdentifier(condense_client.uri),
            range=t.Range(t.Position(line, 3), t.Position(line, 3)),
            context=t.CodeActionContext(diagnostics=[]),
        )
    )
    (action,) = [a for a in actions if a.title.startswith('Condense "Tone" with a model')]
    # Kind "" (a command, never an auto-fix): no edit, only the command with its arguments.
    assert isinstance(action, t.CodeAction) and action.kind == t.CodeActionKind.Empty and action.edit is None
    assert action.command.command == "promptwise.condense" and list(action.command.arguments) == [condense_client.uri, line]
    assert llm.calls() == []


async def test_apply_offers_the_edit_with_both_pass_rates_and_it_needs_confirmation(condense_client, llm):
    condense_client.questions.clear(), condense_client.applied.clear()
    condense_client.answer = "Apply"
    answer = await condense_client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="promptwise.condense", arguments=[{"uri": condense_client.uri, "line": _line("## Tone")}])
    )
    assert answer["usable"] and answer["model"] == "fake-gpt" and answer["callCost"] > 0
    assert answer["original"] == {"passed": 2, "total": 2, "errored": 0}
    assert answer["condensed"] == {"passed": 1, "total": 2, "errored": 0}
    assert answer["tokensAfter"] < answer["tokensBefore"] and answer["costSavedPerCall"] > 0
    assert "-Please always make sure" in answer["diff"] and "+Be polite." in answer["diff"]
    (question,) = condense_client.questions
    assert "condensed 1/2 cases pass, original 2/2 cases pass" in question.message
    assert [a.title for a in question.actions] == ["Apply", "Discard"]
    (applied,) = condense_client.applied
    (change,) = applied.edit.document_changes
    (edit,) = change.edits
    assert edit.new_text == "## Tone\n\nBe polite.\n\n" and applied.edit.change_annotations[edit.annotation_id].needs_confirmation
    assert answer["applied"] is True
    # One condensing call, and the suite on both versions (two cases each).
    assert len(llm.calls()) == 5


async def test_discard_applies_nothing(condense_client, llm):
    condense_client.questions.clear(), condense_client.applied.clear()
    condense_client.answer = "Discard"
    answer = await condense_client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="promptwise.condense", arguments=[{"uri": condense_client.uri, "line": _line("## Tone")}])
    )
    assert answer["applied"] is False and condense_client.applied == [] and len(condense_client.questions) == 1
