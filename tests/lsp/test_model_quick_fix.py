"""The quick fix on a misspelt model name: "Change to gpt-4o-mini", written in the file's own syntax, applied
as a client applies it; afterwards the model is known and its count exact."""

from __future__ import annotations

import pytest
from lsprotocol import types as t

from tests.lsp.test_code_actions import at, code_actions, edits_of, send

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _fix(session, name: str, text: str, needle: str) -> tuple[str, t.CodeAction, str]:
    path = session.root / name
    path.write_text(text, encoding="utf-8")
    uri = session.open(path)
    (unknown,) = [d for d in await session.diagnostics(uri) if d.code == "unknown-model"]
    actions = await code_actions(session, uri, at(text, needle), [unknown], only=[t.CodeActionKind.QuickFix])
    changes = [a for a in actions if a.title.startswith("Change to ")]
    assert len(changes) == 1, [a.title for a in actions]
    (action,) = changes
    assert action.kind == t.CodeActionKind.QuickFix and action.is_preferred
    assert action.diagnostics and action.diagnostics[0].code == "unknown-model"
    assert action.edit is not None  # one value: sent with the action, no resolve round trip
    new = send(session, uri, edits_of(session, action.edit, uri))
    return uri, action, new


async def test_a_misspelt_prompty_model_is_corrected_in_place(session):
    text = "---\nname: typo\nmodel:\n  id: gpt-4o-mnii\n---\nsystem:\nBe terse.\n\nuser:\nhi\n"
    uri, action, new = await _fix(session, "mq-typo.prompty", text, "gpt-4o-mnii")
    assert action.title == "Change to gpt-4o-mini"
    assert new == text.replace("gpt-4o-mnii", "gpt-4o-mini")
    after = await session.command("promptwise.showBreakdown", uri)
    assert after["catalogModel"] == "gpt-4o-mini" and after["exact"] is True
    assert not [d for d in await session.diagnostics(uri) if d.code == "unknown-model"]
    session.close(uri)


async def test_a_dotprompt_model_keeps_its_plugin_prefix_and_quotes(session):
    text = "---\nmodel: 'openai/gpt-4o-mnii'\n---\nHello.\n"
    uri, action, new = await _fix(session, "mq-typo.prompt", text, "gpt-4o-mnii")
    assert action.title == "Change to openai/gpt-4o-mini"
    assert new == "---\nmodel: 'openai/gpt-4o-mini'\n---\nHello.\n"
    session.close(uri)


async def test_a_deployment_named_after_its_model_says_what_the_change_assumes(session):
    text = (
        "---\nname: deployed\nmodel:\n  api: chat\n  configuration:\n    type: azure_openai\n"
        "    azure_deployment: gpt4o-mini-prod\n---\nsystem:\nBe terse.\n"
    )
    uri, action, new = await _fix(session, "mq-deploy.prompty", text, "gpt4o-mini-prod")
    assert action.title == "Change to gpt-4o-mini (assumes an Azure deployment named gpt-4o-mini)"
    assert "    azure_deployment: gpt-4o-mini\n" in new
    session.close(uri)


async def test_no_change_is_offered_without_a_suggestion(session):
    text = "---\nmodel: northwind-llm-2\n---\nHello.\n"
    path = session.root / "mq-none.prompt"
    path.write_text(text, encoding="utf-8")
    uri = session.open(path)
    (unknown,) = [d for d in await session.diagnostics(uri) if d.code == "unknown-model"]
    assert "did you mean" not in unknown.message
    actions = await code_actions(session, uri, at(text, "northwind"), [unknown], only=[t.CodeActionKind.QuickFix])
    assert not [a for a in actions if a.title.startswith("Change to ")]
    # The count of a model the catalog does not know is an estimate in the editor too, and says why.
    breakdown = await session.command("promptwise.showBreakdown", uri)
    assert breakdown["exact"] is False and "northwind-llm-2 is not a known model" in breakdown["estimate"]
    session.close(uri)
