"""LineIndex: UTF-16 columns, and lines ended by "\\n", "\\r\\n" or a lone "\\r" as LSP defines them, also after edits."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from promptwise.text import LineIndex, Position, Span, split_lines, utf16_len


def test_utf16_columns_count_surrogate_pairs_and_cjk():
    text = "system:\n👩‍💻 日本語 🇯🇵 done\nlast"
    lines = LineIndex(text)
    line1 = text.index("👩")
    done = text.index("done")
    # 👩‍💻 is 3 code points (2 astral + ZWJ) = 5 UTF-16 units; 🇯🇵 is 2 astral = 4 units.
    assert lines.position(done) == Position(1, 5 + 1 + 3 + 1 + 4 + 1)
    assert lines.offset(Position(1, 5 + 1 + 3 + 1 + 4 + 1)) == done
    assert lines.position(line1) == Position(1, 0)
    assert utf16_len("👩‍💻") == 5


def test_round_trip_every_offset_on_mixed_text():
    text = "a😀b\n\nこんにちは🌸\r\nمرحبا 👋🏽 x\r\rend\n"
    lines = LineIndex(text)
    for offset in range(len(text) + 1):
        inside_crlf = 0 < offset < len(text) and text[offset - 1 : offset + 1] == "\r\n"
        # Between "\r" and "\n" is no position an editor can name: it clamps to the end of the line.
        expected = offset - 1 if inside_crlf else offset
        assert lines.offset(lines.position(offset)) == expected


def test_positions_past_line_end_clamp():
    lines = LineIndex("ab\ncd")
    assert lines.offset(Position(0, 99)) == 2
    assert lines.offset(Position(9, 0)) == 5
    assert lines.range(Span(0, 5)).end == Position(1, 2)


def reference_lines(text: str) -> list[str]:
    """The LSP spec's lines, character by character: a line ends at \\n, at \\r\\n, or at a \\r alone."""
    lines, current, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\n" or ch == "\r":
            lines.append("".join(current))
            current = []
            i += 2 if text[i : i + 2] == "\r\n" else 1
            continue
        current.append(ch)
        i += 1
    lines.append("".join(current))
    return lines


def reference_position(text: str, offset: int) -> Position:
    lines = reference_lines(text[:offset])
    return Position(len(lines) - 1, len(lines[-1].encode("utf-16-le")) // 2)


def assert_matches_reference(index: LineIndex) -> None:
    text = index.text
    expected = reference_lines(text)
    assert index.line_count == len(expected)
    assert [index.line_text(i) for i in range(index.line_count)] == expected
    for offset in range(len(text) + 1):
        if 0 < offset < len(text) and text[offset - 1 : offset + 1] == "\r\n":
            continue  # inside one line break
        where = reference_position(text, offset)
        assert index.position(offset) == where
        assert index.offset(where) == offset


# Line breaks of all three kinds, mixed with text that takes one or two UTF-16 units per character.
PIECES = st.sampled_from(["\n", "\r", "\r\n", "a", "b ", "é", "日本", "😀", "\t"])
TEXTS = st.lists(PIECES, max_size=30).map("".join)


@given(TEXTS)
@settings(max_examples=300, deadline=None)
def test_lines_and_positions_follow_the_lsp_line_breaks(text):
    assert_matches_reference(LineIndex(text))


@given(TEXTS, st.lists(st.tuples(st.integers(0, 60), st.integers(0, 8), TEXTS), min_size=1, max_size=8))
@settings(max_examples=300, deadline=None)
def test_edits_keep_the_index_equal_to_a_fresh_one(text, edits):
    """Typing next to a break ("\\r" then "\\n" joins into one break, text between them splits it) or
    over several lines: the incrementally updated index names the same lines as one built anew."""
    index = LineIndex(text)
    for start, length, new_text in edits:
        start = min(start, len(index.text))
        end = min(start + length, len(index.text))
        index = index.replaced(Span(start, end), new_text)
        assert index.text == LineIndex(index.text).text
        assert_matches_reference(index)


# Text where code fences start lines, and edits that make and break them (a fence is three marker
# characters after a line break, so a key typed next to one decides it).
FENCE_PIECES = st.sampled_from(["\n", "\r", "\r\n", "`", "``", "```", "~~~", "~", "a", "😀", "#"])
FENCE_TEXTS = st.lists(FENCE_PIECES, max_size=30).map("".join)


def reference_fences(text: str) -> list[int]:
    starts = [0] + [m.end() for m in re.finditer(r"\r\n?|\n", text)]
    return [s for s in starts if text.startswith(("```", "~~~"), s)]


@given(FENCE_TEXTS, st.lists(st.tuples(st.integers(0, 60), st.integers(0, 8), FENCE_TEXTS), min_size=1, max_size=8))
@settings(max_examples=400, deadline=None)
def test_fence_lines_carried_through_edits_are_the_ones_a_fresh_index_finds(text, edits):
    index = LineIndex(text)
    assert index.fence_lines() == reference_fences(text)
    for start, length, new_text in edits:
        start = min(start, len(index.text))
        end = min(start + length, len(index.text))
        index = index.replaced(Span(start, end), new_text)
        assert index.fence_lines() == reference_fences(index.text)


def test_a_long_paste_finds_the_fence_lines_again():
    index = LineIndex("```\nx\n```\n")
    index.fence_lines()
    pasted = index.replaced(Span(4, 5), "y\n~~~\n" * 1000)
    assert pasted.fence_lines() == reference_fences(pasted.text)
    assert len(pasted.fence_lines()) == 1002


def test_a_lone_cr_ends_a_line():
    lines = LineIndex("system:\rYou are terse.\ruser:\rHi")
    assert lines.line_count == 4
    assert lines.position(lines.text.index("user")) == Position(2, 0)
    assert lines.offset(Position(3, 1)) == lines.text.index("Hi") + 1
    assert lines.offset(Position(0, 99)) == len("system:")


def test_joining_a_cr_and_an_lf_makes_one_line_break():
    lines = LineIndex("ab\rcd").replaced(Span(3, 3), "\n")  # "ab\r\ncd": still two lines
    assert lines.line_count == 2 and lines.line_text(1) == "cd"
    split = lines.replaced(Span(3, 3), "x")  # "ab\rx\ncd": three
    assert [split.line_text(i) for i in range(split.line_count)] == ["ab", "x", "cd"]


def test_split_lines_splits_only_at_lsp_line_breaks():
    text = "a\rb\r\nc\x0cd\u2028e\nf"
    assert split_lines(text) == ["a\r", "b\r\n", "c\x0cd\u2028e\n", "f"]
    assert "".join(split_lines(text)) == text
