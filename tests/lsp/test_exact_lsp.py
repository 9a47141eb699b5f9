"""In the editor, an estimate says why: a mistyped model's hover suggests the catalog's name, and tooltips give the reason."""

from __future__ import annotations

import pytest

from tests.lsp.conftest import position_of

pytestmark = pytest.mark.asyncio(loop_scope="session")

TYPO = "---\nmodel:\n  id: gpt-4o-mnii\n---\nsystem:\nYou sort support tickets.\n\nuser:\nMy order is late.\n"


async def test_a_mistyped_model_is_an_estimate_with_its_reason_and_a_suggestion(session):
    path = session.root / "support" / "typo-model.prompty"
    path.write_text(TYPO, encoding="utf-8")
    uri = session.open(path)
    hover = await session.hover(uri, position_of(TYPO, "gpt-4o-mnii"))
    assert hover.startswith("**gpt-4o-mnii** is not in the model catalog: did you mean `gpt-4o-mini`?")
    hints = await session.hints(uri)
    assert hints and all(str(h.label).startswith("~") for h in hints)
    total = hints[0]
    assert "estimate (gpt-4o-mnii is not a known model, counted with o200k_base)" in total.tooltip.value
    message_hover = await session.hover(uri, position_of(TYPO, "My order"))
    assert "estimate (gpt-4o-mnii is not a known model, counted with o200k_base)" in message_hover
    session.close(uri)
