"""The kinds of edit the latency bench types, each a place in the 1 MiB file and the keys pressed there.

Typing in a sentence changes one message's text; the others change the file's structure as they are typed:
a role line that stops being one (`user:` -> `users:` and back), words typed at the start of a line, a
role line typed on a blank line, a frontmatter value (the sample question the template renders), and a
template tag typed a character at a time (each half-typed tag is a syntax error until it is closed).
"""

from __future__ import annotations

from dataclasses import dataclass

BACK = "\b"  # a backspace: deletes the character before the cursor


@dataclass(frozen=True)
class EditKind:
    name: str
    anchor: int  # where the cursor starts, an offset into the file's text
    keys: str  # typed in order, cycled; BACK deletes


def _middle(text: str, needle: str, after: bool = True) -> int:
    """The offset just after (or at) the occurrence of `needle` nearest the middle of the text."""
    at = text.find(needle, len(text) // 2)
    if at < 0:
        at = text.rfind(needle)
    if at < 0:
        raise ValueError(f"no {needle!r} in the bench file")
    return at + len(needle) if after else at


def _sentence_end(text: str) -> int:
    """The end of the first sentence line of the rule section nearest the middle."""
    rule = _middle(text, "\n## Rule ")
    line = text.index("\n", rule) + 1
    return text.index("\n", line)


def _typed_and_erased(word: str) -> str:
    return word + BACK * len(word)


def edit_kinds(kind: str, text: str) -> list[EditKind]:
    """The edits for one bench file kind ("prompty", "dotprompt" or "instructions")."""
    sentence = _sentence_end(text)
    line_start = text.rindex("\n", 0, sentence) + 1
    blank = _middle(text, ".\n\n## Rule ") - len("\n## Rule ")  # the empty line between two rules
    kinds = [
        EditKind("text", sentence, "and always cite the policy section you used 🎉 "),
        EditKind("line start", line_start, _typed_and_erased("Also ")),
    ]
    if kind == "prompty":
        kinds += [
            EditKind("role line", _middle(text, "\nuser"), "s" + BACK),
            EditKind("blank line", blank, _typed_and_erased("user:")),
            EditKind("frontmatter", text.index("NW-1234?") + 8, _typed_and_erased(" Thanks")),
            EditKind("template tag", sentence, _typed_and_erased(" {{ question }}")),
        ]
    elif kind == "dotprompt":
        kinds += [
            EditKind("role line", _middle(text, '{{role "user'), "s" + BACK),
            EditKind("blank line", blank, _typed_and_erased('{{role "user"}}')),
            EditKind("frontmatter", text.index("NW-1234?") + 8, _typed_and_erased(" Thanks")),
            EditKind("template tag", sentence, _typed_and_erased(" {{#if question}}yes{{/if}}")),
        ]
    else:
        kinds.append(EditKind("blank line", blank, _typed_and_erased("# Note")))
    return kinds


class Cursor:
    """The client's copy of the text and where the user types; turns each key into an LSP change."""

    def __init__(self, text: str, at: int) -> None:
        self.text = text
        self.at = at

    def position(self, offset: int) -> tuple[int, int]:
        """(line, UTF-16 column) of an offset (the bench's files end lines with \\n only)."""
        line = self.text.count("\n", 0, offset)
        start = self.text.rfind("\n", 0, offset) + 1
        return line, len(self.text[start:offset].encode("utf-16-le")) // 2

    def press(self, key: str) -> tuple[tuple[int, int], tuple[int, int], str]:
        """Apply one key; the (start, end, new text) of the change, in positions of the text before it."""
        if key == BACK:
            start, end, new = self.at - 1, self.at, ""
        else:
            start, end, new = self.at, self.at, key
        change = (self.position(start), self.position(end), new)
        self.text = self.text[:start] + new + self.text[end:]
        self.at = start + len(new)
        return change
