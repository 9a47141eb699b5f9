"""Where the tokens go: sections, code blocks, tables and examples of a long message."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptwise.analysis import analyze_text
from promptwise.analysis.sections import breakdowns, outline, per_1000
from promptwise.config import Config, LoadedConfig


def kinds(text: str) -> list[tuple[str, str, str]]:
    return [(p.kind, p.title, text[p.span.start : p.span.end]) for p in outline(text, 0, len(text))]


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_sections_nest_and_end_at_the_next_heading_of_their_level(eol: str) -> None:
    text = eol.join(["# Top", "intro", "## A 🚀", "a text", "### A.1", "deep", "## B", "b text", ""])
    found = kinds(text)
    titles = [(k, t) for k, t, _ in found]
    assert titles == [("section", "Top"), ("section", "A 🚀"), ("section", "A.1"), ("section", "B")]
    by_title = {t: body for _, t, body in found}
    assert by_title["A 🚀"] == eol.join(["## A 🚀", "a text", "### A.1", "deep", ""])
    assert by_title["A.1"] == eol.join(["### A.1", "deep", ""])
    assert by_title["Top"] == text


def test_a_heading_inside_a_code_block_is_not_a_section() -> None:
    text = "## Setup\n```bash\n# not a heading\nmake\n```\n## Next\nx\n"
    found = kinds(text)
    assert [(k, t) for k, t, _ in found] == [("section", "Setup"), ("code block", "bash code block"), ("section", "Next")]
    assert found[1][2] == "```bash\n# not a heading\nmake\n```"


def test_tables_examples_and_an_unclosed_fence() -> None:
    text = "| a | b |\n|---|---|\n| 1 | 2 |\n\n<examples>\nshown\n</examples>\n~~~\nopen to the end"
    found = kinds(text)
    assert [(k, t) for k, t, _ in found] == [("table", "table"), ("examples", "<examples>"), ("code block", "code block")]
    assert found[0][2] == "| a | b |\n|---|---|\n| 1 | 2 |"
    assert found[1][2] == "<examples>\nshown\n</examples>"
    assert found[2][2].endswith("open to the end")


def test_breakdown_counts_and_prices_each_part(tmp_path: Path) -> None:
    body = "# Rules\n\n" + "Always cite the clause. " * 60 + "\n\n## Style\n\n" + "Be brief. " * 20 + "\n"
    path = tmp_path / "AGENTS.md"
    analysis = analyze_text(path, body, LoadedConfig(Config(), None, []))
    (found,) = breakdowns(analysis)
    rules, style = found.sections
    assert rules.tokens == analysis.tokenizer.count(body) and style.tokens == analysis.tokenizer.count(body[body.index("## Style") :])
    assert 0 < found.share(style) < 1
    cold, warm = per_1000(analysis, found.message, style)
    price = analysis.estimate.cold.parts[0].unit_price
    assert cold == pytest.approx(style.tokens * price * 1000)
    assert warm is not None and warm <= cold


def test_short_messages_of_other_formats_get_no_breakdown(tmp_path: Path) -> None:
    text = "---\nmodel: openai/gpt-4o-mini\n---\n# Title\nshort\n"
    analysis = analyze_text(tmp_path / "a.prompt", text, LoadedConfig(Config(), None, []))
    assert breakdowns(analysis) == []
    assert len(breakdowns(analysis, min_tokens=1)) == 1


from hypothesis import given, settings, strategies as st

from promptwise.analysis.sections import sections_starting_between
from promptwise.text import LineIndex

_LINES = st.sampled_from(["# A", "## B", "### C", "text", "```", "~~~~", "```py", "| t |", "", "#nohead", "  # indented", "<examples>", "</examples>"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINES, max_size=30), st.sampled_from(["\n", "\r\n", "\r"]), st.integers(0, 400), st.integers(0, 400))
def test_a_window_finds_the_sections_a_whole_outline_finds(lines: list[str], eol: str, a: int, b: int) -> None:
    text = "intro" + eol + eol.join(lines)
    first, last = sorted((min(a, len(text)), min(b, len(text))))
    whole = [p for p in outline(text, 0, len(text)) if p.kind == "section" and first <= p.span.start <= last]
    assert sections_starting_between(text, 0, len(text), first, last) == whole
    fences = LineIndex(text).fence_lines()
    assert sections_starting_between(text, 0, len(text), first, last, fences) == whole
    for start in range(0, len(text), 5):  # a message body that starts and ends anywhere, in a fence's marker too
        for end in range(len(text), max(start, len(text) - 9), -1):
            lo, hi = max(first, start), min(last, end)
            assert sections_starting_between(text, start, end, lo, hi, fences) == sections_starting_between(text, start, end, lo, hi)


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_a_window_finds_where_its_sections_end_far_below_it(eol: str) -> None:
    lines = ["# A", *["filler text"] * 50, "```", "# not a heading", "```", "## B", *["more"] * 50, "# C", "z", ""]
    text = eol.join(lines)
    whole = [p for p in outline(text, 0, len(text)) if p.kind == "section" and p.span.start <= 5]
    assert sections_starting_between(text, 0, len(text), 0, 5) == whole
    (a,) = whole
    assert text[a.span.end :].startswith("# C")
