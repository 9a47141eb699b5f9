"""Safe Markdown trims: HTML comments and repeated list items, each measured by analysing the result."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptwise.analysis import analyze_text
from promptwise.config import Config, LoadedConfig
from promptwise.fixes.markdown_trims import duplicate_items_fix, html_comments_fix
from promptwise.fixes.trims import _Session

CONFIG = LoadedConfig(Config(), None, [])


def session(tmp_path: Path, text: str, name: str = "AGENTS.md") -> _Session:
    analysis = analyze_text(tmp_path / name, text, CONFIG)
    return _Session(analysis, CONFIG, None)


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_comments_go_with_their_lines_and_inline_ones_alone(tmp_path: Path, eol: str) -> None:
    text = eol.join(["# Rules", "<!-- written for the old bot,", "   keep until May -->", "Be brief. <!-- why? --> Always.", "<!-- markdownlint-disable MD013 -->", "```", "<!-- in code -->", "```", ""])
    s = session(tmp_path, text)
    fix = html_comments_fix(s)
    assert fix is not None and fix.safe
    after = fix.apply(text)
    assert after == eol.join(["# Rules", "Be brief.  Always.", "<!-- markdownlint-disable MD013 -->", "```", "<!-- in code -->", "```", ""])
    # The saving in the title is the analysis of the text after the edit.
    assert fix.tokens_saved == s.analysis.prompt_tokens - analyze_text(s.doc.path, after, CONFIG).prompt_tokens > 0
    assert f"{fix.tokens_saved:,} token" in fix.title and "2 HTML comments" in fix.title
    assert "1 comment that tools read kept" in fix.description


def test_no_comment_no_fix(tmp_path: Path) -> None:
    assert html_comments_fix(session(tmp_path, "# Rules\n\nBe brief.\n")) is None


def test_an_unclosed_comment_is_left_alone(tmp_path: Path) -> None:
    assert html_comments_fix(session(tmp_path, "# Rules\n<!-- never closed\nBe brief.\n")) is None


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_repeated_list_items_of_the_same_list_go(tmp_path: Path, eol: str) -> None:
    text = eol.join([
        "# Style", "- Use type hints.", "- Prefer pathlib.", "  - Never os.path.", "- Use type hints.", "- Prefer pathlib.",
        "  - Never os.path.", "", "Another list:", "- Use type hints.", "1. Run the tests.", "2. Run the tests.", "",
    ])
    fix = duplicate_items_fix(session(tmp_path, text))
    assert fix is not None and fix.safe
    # The second "Prefer pathlib." keeps its sub-item, so it stays; the last item repeats the one before.
    assert fix.apply(text) == eol.join([
        "# Style", "- Use type hints.", "- Prefer pathlib.", "  - Never os.path.", "- Prefer pathlib.",
        "  - Never os.path.", "", "Another list:", "- Use type hints.", "1. Run the tests.", "",
    ])
    assert "2 repeated list items" in fix.title


def test_blank_runs_in_a_file_whose_lines_end_in_a_lone_cr_keep_its_line_ends(tmp_path: Path) -> None:
    from promptwise.fixes.trims import blank_lines_fix

    text = "# Rules\r\r\r\rBe brief.\r```\r\r\r\rcode\r```\r"
    fix = blank_lines_fix(session(tmp_path, text))
    assert fix is not None
    assert fix.apply(text) == "# Rules\r\rBe brief.\r```\r\r\r\rcode\r```\r"
