"""review.lines: changed line ranges from two texts, and each message's token change shared among them."""

from __future__ import annotations

from promptwise.review.lines import changed_ranges, line_changes, split_lines
from promptwise.review.model import MessageFigures


def message(role: str, tokens: int, line: int, end_line: int) -> MessageFigures:
    return MessageFigures(role=role, tokens=tokens, line=line, end_line=end_line)


def test_lines_end_only_at_newline_carriage_return_or_both():
    assert split_lines("a\r\nb\rc\nd\u2028e\x0cf") == ["a\r\n", "b\r", "c\n", "d\u2028e\x0cf"]


def test_ranges_of_an_insertion_a_replacement_and_a_deletion():
    old = "one\ntwo\nthree\nfour\n"
    assert changed_ranges(old, old) == []
    assert changed_ranges(old, "one\ntwo\nnew\nthree\nfour\n") == [(2, 2, 2, 3)]
    assert changed_ranges(old, "one\nTWO\nthree\nfour\n") == [(1, 2, 1, 2)]
    assert changed_ranges(old, "one\nfour\n") == [(1, 3, 1, 1)]


def test_a_messages_change_goes_to_the_ranges_inside_it():
    old = "system:\nBe kind.\nuser:\nHi\n"
    new = "system:\nBe kind.\nBe brief, always, in every answer.\nuser:\nHi there\n"
    changes = line_changes(
        old,
        new,
        [message("system", 10, 1, 2), message("user", 5, 3, 4)],
        [message("system", 18, 1, 3), message("user", 7, 4, 5)],
        total_delta=10,
    )
    assert [(c.line, c.end_line, c.tokens) for c in changes] == [(3, 3, 8), (5, 5, 2)]


def test_tokens_no_message_explains_go_to_the_frontmatter():
    old = "---\nmodel: a\n---\nHello\n"
    new = "---\nmodel: a\ntools: [x]\n---\nHello\n"
    changes = line_changes(old, new, [message("user", 5, 4, 4)], [message("user", 5, 5, 5)], total_delta=40, note="a note")
    assert [(c.line, c.tokens, c.note) for c in changes] == [(3, 40, "a note")]


def test_a_deleted_message_is_a_negative_change_where_it_was():
    old = "system:\nA.\nuser:\nHi\n"
    new = "user:\nHi\n"
    changes = line_changes(old, new, [message("system", 6, 1, 2), message("user", 4, 3, 4)], [message("user", 4, 1, 2)], total_delta=-6)
    assert [(c.line, c.tokens) for c in changes] == [(1, -6)]
