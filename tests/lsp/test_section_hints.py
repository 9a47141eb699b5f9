"""Where the tokens go, in the editor: hints on the headings of a long message and the hover listing its parts."""

from __future__ import annotations

import pytest
from lsprotocol import types as t

from promptwise.tokens import tokenizer_for
from tests.lsp.conftest import position_of

pytestmark = pytest.mark.asyncio(loop_scope="session")

RULES = "\n".join(f"- Parcels to depot {i} 📦 need a signed manifest and a photo of the seal." for i in range(60))
TEXT = f"# Depot rules\n\n## Manifests\n\n{RULES}\n\n## Photos 日本語\n\nTake one photo.\n\n```\n# not a heading\n```\n"


async def test_each_heading_gets_its_sections_tokens_and_share(session):
    path = session.root / "sections" / "AGENTS.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(TEXT, encoding="utf-8")
    uri = session.open(path)
    hints = await session.hints(uri)
    by_line = {h.position.line: h for h in hints}
    lines = TEXT.split("\n")
    manifests, photos = lines.index("## Manifests"), lines.index("## Photos 日本語")
    assert set(by_line) == {0, manifests, photos}  # not the `#` line inside the code block
    count = tokenizer_for("gpt-4o-mini").count
    section = TEXT[TEXT.index("## Manifests") : TEXT.index("## Photos")]
    label = by_line[manifests].label
    assert label.startswith(f"{count(section):,} tokens · ") and label.endswith("%") and len(label) <= 43
    # UTF-16: the hint sits after the heading's last character, counted in code units.
    assert by_line[photos].position == position_of(TEXT, "## Photos 日本語", after=True)
    assert "per 1,000 calls" in by_line[manifests].tooltip.value
    # A range that starts below a heading gives no hint for it.
    later = await session.hints(uri, t.Position(manifests + 1, 0), t.Position(photos + 3, 0))
    assert [h.position.line for h in later] == [photos]
    session.close(uri)


async def test_the_hover_on_a_heading_lists_the_largest_parts(session):
    path = session.root / "sections" / "CLAUDE.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(TEXT, encoding="utf-8")
    uri = session.open(path)
    await session.hints(uri)
    shown = await session.hover(uri, position_of(TEXT, "## Manifests"))
    assert shown is not None and "Where this message's" in shown
    assert "| section: Manifests |" in shown and "| code block: code block |" in shown
    assert shown.index("section: Manifests") < shown.index("section: Photos")  # largest first
    assert "warm" in shown and "cold" in shown
    session.close(uri)
