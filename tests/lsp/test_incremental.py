"""The pieces that keep a keystroke cheap: LineIndex.replaced and the segment cache's reuse of a text's last version."""

from __future__ import annotations

from contextlib import contextmanager

from hypothesis import given, settings, strategies as st

from promptwise.text import LineIndex, Span
from promptwise.tokens import SegmentCache, get_encoder
from promptwise.tokens import counter

PIECES = ["a", "word ", "\n", "\n\n", "\r\n", "\r\n\r\n", "/", " ", "\t", "👩‍💻", "🇯🇵", "日本語", "x" * 300, "\n\n/", "\n\nA"]
texts = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)
edits = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 30), texts), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(text=texts, script=edits)
def test_replaced_line_index_equals_a_fresh_one(text, script):
    lines = LineIndex(text)
    for frac, length, insert in script:
        start = int(frac * len(lines.text))
        end = min(len(lines.text), start + length)
        lines = lines.replaced(Span(start, end), insert)
        text = text[:start] + insert + text[end:]
        assert lines.text == text
        fresh = LineIndex(text)
        assert lines.line_starts == fresh.line_starts
        for offset in range(0, len(text) + 1, max(1, len(text) // 25)):
            assert lines.line_of(offset) == fresh.line_of(offset)
            assert lines.position(offset) == fresh.position(offset)
            assert lines.offset(fresh.position(offset)) == fresh.offset(fresh.position(offset))


@settings(max_examples=60, deadline=None)
@given(text=texts, script=edits, block=st.sampled_from([64, 256, 1024]))
def test_counting_a_new_version_reuses_blocks_and_stays_exact(text, script, block):
    encoder = get_encoder("o200k_base")
    cache = SegmentCache()
    text = (text + "\n\n") * 20
    with small_blocks(block):  # so short texts take the block path too
        assert cache.count(encoder, text) == encoder.count(text)
        for frac, length, insert in script:
            start = int(frac * len(text))
            text = text[:start] + insert + text[min(len(text), start + length) :]
            assert cache.count(encoder, text) == encoder.count(text)


@contextmanager
def small_blocks(size: int):
    saved = counter._BLOCK, counter._LONG_PARAGRAPH
    counter._BLOCK, counter._LONG_PARAGRAPH = size, 64
    try:
        yield
    finally:
        counter._BLOCK, counter._LONG_PARAGRAPH = saved


def test_a_keystroke_in_a_long_text_encodes_one_chunk():
    encoder = get_encoder("o200k_base")
    cache = SegmentCache()
    text = "\n\n".join(f"Rule {i}: cite the policy section 日本語 🎉 and keep replies short." for i in range(3000))
    cache.count(encoder, text)
    misses = cache.misses
    middle = len(text) // 2
    edited = text[:middle] + "x" + text[middle:]
    assert cache.count(encoder, edited) == encoder.count(edited)
    assert cache.misses == misses + 1


def test_a_message_and_its_last_section_are_each_counted_again_from_their_own_last_version(monkeypatch):
    """The section under a heading typed in a long file runs to the file's end, as its message does: each
    keystroke counts both, and each must be counted from its own last version, not from the other's."""
    encoder = get_encoder("o200k_base")
    cache = SegmentCache()
    text = "\n\n".join(f"Rule {i}: cite the policy section 日本語 🎉 and keep replies short." for i in range(6000))
    heading = len(text) // 2
    split_lengths: list[int] = []
    blocks = counter._blocks
    monkeypatch.setattr(counter, "_blocks", lambda t: split_lengths.append(len(t)) or blocks(t))
    for key in "# Note":
        text = text[:heading] + key + text[heading:]
        heading += 1
        section = text[heading - 1 :]
        assert cache.count(encoder, text) == encoder.count(text)
        assert cache.count(encoder, section) == encoder.count(section)
    assert max(split_lengths[2:]) <= 4 * counter._BLOCK, split_lengths  # a block or two around the key, not half the text
