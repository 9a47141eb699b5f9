from promptwise.text import LineIndex, Position, Span, utf16_len


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
    text = "a😀b\n\nこんにちは🌸\r\nمرحبا 👋🏽 x\n"
    lines = LineIndex(text)
    for offset in range(len(text) + 1):
        assert lines.offset(lines.position(offset)) == offset


def test_positions_past_line_end_clamp():
    lines = LineIndex("ab\ncd")
    assert lines.offset(Position(0, 99)) == 2
    assert lines.offset(Position(9, 0)) == 5
    assert lines.range(Span(0, 5)).end == Position(1, 2)
