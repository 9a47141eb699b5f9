"""The server serves the newer instruction files: a skill's body and a Cursor rule's body are hinted as on use."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")

SKILL = """---
name: release-notes
description: Writes release notes from merged pull requests 🎉.
---
# Release notes

Read the merged pull requests since the last tag and group them by area.
Write one line per change, in English or 日本語.
"""

RULE = """---
description: How to write FastAPI handlers
globs: app/**/*.py
alwaysApply: false
---
Use dependency injection for database sessions; return pydantic models.
"""


async def test_a_skill_body_is_on_use_and_its_listing_per_call(session):
    folder = session.root / "skills" / "release-notes"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "SKILL.md"
    path.write_text(SKILL, encoding="utf-8")
    uri = session.open(path)
    hints = await session.hints(uri)
    labels = [str(h.label) for h in hints]
    assert any(label.endswith("· on use") for label in labels), labels
    total = hints[0]
    assert "On use:" in total.tooltip.value and "not in the per-call count" in total.tooltip.value
    session.close(uri)


async def test_a_cursor_rule_that_is_not_always_applied_is_on_use(session):
    folder = session.root / ".cursor" / "rules"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fastapi.mdc"
    path.write_text(RULE, encoding="utf-8")
    uri = session.open(path)
    hints = await session.hints(uri)
    # One message, so the total is the only hint: nothing per call, the body on use.
    assert len(hints) == 1
    label = str(hints[0].label)
    assert label.startswith("~0 tokens") and " on use · " in label and len(label) <= 43, label
    session.close(uri)
