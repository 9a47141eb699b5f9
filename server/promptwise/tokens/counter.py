"""Token counting by segment with a shared cache, plus OpenAI's published chat and tool framing."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Iterable

from .encodings import TIKTOKEN_ENCODINGS, Encoder, get_encoder, tokenizer_available
from .store import CountStore

# A chunk boundary is the end of a newline run followed by a character that starts a fresh
# pre-token in both cl100k and o200k ("/" is excluded: o200k glues it to a preceding newline).
# Tokens never cross such a boundary, so the sum of chunk counts equals the count of the whole.
_PARAGRAPH_BREAK = re.compile(r"(?:\r?\n){2,}(?=[^\s/])")
_LINE_BREAK = re.compile(r"\r?\n(?=[^\s/])")
_LONG_PARAGRAPH = 4096
# Texts longer than a paragraph are also counted in blocks of about this size, each memoized
# whole, so a keystroke in a 1 MiB prompt re-splits one block instead of the whole text.
_BLOCK = 16 * 1024


def split_chunks(text: str, long: int = _LONG_PARAGRAPH) -> list[str]:
    """Split text at token-safe boundaries: paragraphs, and lines inside paragraphs over `long` chars."""
    if len(text) <= long:
        return [text] if text else []
    chunks: list[str] = []
    start = 0
    crlf = "\r" in text
    # str.find-based scan: the regex finditer costs ~60 ns a character, this a fraction of that.
    while (end := _next_paragraph_break(text, start, crlf)) >= 0:
        _append_paragraph(chunks, text[start:end], long)
        start = end
    if start < len(text):
        _append_paragraph(chunks, text[start:], long)
    return chunks


def _append_paragraph(chunks: list[str], paragraph: str, long: int) -> None:
    if len(paragraph) <= long:
        chunks.append(paragraph)
        return
    start = 0
    for match in _LINE_BREAK.finditer(paragraph):
        if match.end() - start >= long // 16:
            chunks.append(paragraph[start : match.end()])
            start = match.end()
    if start < len(paragraph):
        chunks.append(paragraph[start:])


def _blocks(text: str) -> list[str]:
    """Cut text at the first paragraph break after each multiple of _BLOCK characters.

    Cuts are anchored to offsets, not to each other, so an edit moves at most the cuts near it
    and every other block is the same string as before.
    """
    blocks: list[str] = []
    start = 0
    n = len(text)
    crlf = "\r" in text
    at = _BLOCK
    while at < n:
        end = _next_paragraph_break(text, at, crlf)
        if end < 0:
            break
        blocks.append(text[start:end])
        start = end
        at = (end // _BLOCK + 1) * _BLOCK
    blocks.append(text[start:])
    return blocks


def _next_paragraph_break(text: str, pos: int, crlf: bool) -> int:
    """The end of the first _PARAGRAPH_BREAK match that ends after `pos`, found with str.find; -1 if none."""
    n = len(text)
    find = text.find
    while True:
        i = find("\n\n", pos)
        if crlf:
            j = find("\n\r\n", pos)
            if j != -1 and (i == -1 or j < i):
                i = j
        if i == -1:
            return -1
        end = i + 1
        while end < n:  # to the end of the (\r?\n) run
            if text[end] == "\n":
                end += 1
            elif text.startswith("\r\n", end):
                end += 2
            else:
                break
        if end < n and text[end] != "/" and not text[end].isspace():
            return end
        pos = end


def _breaks_at(text: str, pos: int) -> bool:
    """Whether a _PARAGRAPH_BREAK match ends at `pos` (the ends of the text are always safe cuts)."""
    if pos <= 0 or pos >= len(text):
        return True
    ch = text[pos]
    if ch == "/" or ch.isspace():
        return False
    units = 0
    while pos > 0 and text[pos - 1] == "\n":
        pos -= 1
        if pos > 0 and text[pos - 1] == "\r":
            pos -= 1
        units += 1
        if units == 2:
            return True
    return False


_RECENT = 64  # long texts remembered per tokenizer, so their next version re-counts only what changed


@dataclass
class _Counted:
    blocks: list[str]
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


def _versions_of_one_text(new: _Counted, old: _Counted) -> bool:
    """Whether a text counted from a recent one is the next version of it (a keystroke, a paste), not
    another text that shares an end with it, such as a section of a message, which keeps its own."""
    a, b = sum(map(len, new.blocks)), sum(map(len, old.blocks))
    return abs(a - b) <= max(a, b) // 4


class SegmentCache:
    """Counts per (tokenizer, text); an edit re-encodes only the chunks it changed."""

    def __init__(self, max_chars: int = 64 * 1024 * 1024, store: CountStore | None = None) -> None:
        self.store = store
        self._counts: dict[str, dict[str, int]] = {}
        self._chars = 0
        self._blocks: dict[str, dict[str, int]] = {}
        self._block_chars = 0
        self._recent: dict[str, list[_Counted]] = {}
        self._max_chars = max_chars
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def count(self, encoder: Encoder, text: str) -> int:
        # Re-using a recent text's blocks cuts the new one where that text was cut; only tiktoken's BPE is
        # known to give the same total at those cuts, so other tokenizers always cut the same way.
        if len(text) <= _LONG_PARAGRAPH or encoder.name not in TIKTOKEN_ENCODINGS:
            return self._count_chunks(encoder, text)
        recent = self._recent.get(encoder.name)
        if recent is None:
            recent = self._recent.setdefault(encoder.name, [])
        # The version to re-count from is the one with the least in the middle: a message and a section
        # of it that both run to the end of the file share their ends, and re-counting a message from
        # its section's last version would re-split half a megabyte.
        best: tuple[int, _Counted, tuple[int, int, int, int]] | None = None
        for entry in reversed(recent[:]):
            common = self._common(text, entry)
            if common is None:
                continue
            i, pos, j, end = common
            if best is None or end - pos < best[0]:
                best = (end - pos, entry, common)
            if end - pos <= 2 * _BLOCK:
                break  # a block or two to count again: as good as any
        if best is None:
            entry = None
            blocks = _blocks(text)
            counted = _Counted(blocks, self._count_blocks(encoder, blocks))
        else:
            _, entry, (i, pos, j, end) = best
            if i == len(entry.blocks) and pos == len(text):
                self.hits += 1
                counted = entry
            else:
                middle = _blocks(text[pos:end]) if end > pos else []
                counted = _Counted(entry.blocks[:i] + middle + entry.blocks[j:], entry.counts[:i] + self._count_blocks(encoder, middle) + entry.counts[j:])
        with self._lock:
            if entry is not None and entry in recent and _versions_of_one_text(counted, entry):
                recent.remove(entry)  # the older version of this text is not needed again
            recent.append(counted)
            while len(recent) > _RECENT:
                del recent[0]
        return counted.total

    def _common(self, text: str, old: "_Counted") -> tuple[int, int, int, int] | None:
        """How `text` and a recently counted text agree: the first `i` blocks, up to offset `pos`, and the
        blocks from `j` on, from offset `end` (all of them for an equal text); None if neither end agrees."""
        blocks = old.blocks
        i = pos = 0
        while i < len(blocks) and text.startswith(blocks[i], pos):
            pos += len(blocks[i])
            i += 1
        if i == len(blocks) and pos == len(text):
            return i, pos, i, pos
        j, end = len(blocks), len(text)
        while j > i and text.endswith(blocks[j - 1], pos, end):
            end -= len(blocks[j - 1])
            j -= 1
        if i == 0 and j == len(blocks):
            return None  # nothing in common: not a version of this text
        # A kept block must still start and end at paragraph breaks of the new text.
        while i > 0 and not _breaks_at(text, pos):
            i -= 1
            pos -= len(blocks[i])
        while j < len(blocks) and not _breaks_at(text, end):
            end += len(blocks[j])
            j += 1
        return i, pos, j, end

    def _count_blocks(self, encoder: Encoder, blocks: list[str]) -> list[int]:
        memo = self._blocks.get(encoder.name)
        if memo is None:
            memo = self._blocks.setdefault(encoder.name, {})
        counts = []
        for block in blocks:
            n = memo.get(block)
            if n is None:
                n = self._count_chunks(encoder, block)
                with self._lock:
                    memo[block] = n
                    self._block_chars += len(block)
                    # Small: a text's next version reuses its blocks through _recent; this memo is a fallback.
                    if self._block_chars > self._max_chars // 32:
                        for stale in list(memo)[: len(memo) // 2]:  # the oldest half
                            del memo[stale]
                            self._block_chars -= len(stale)
            else:
                self.hits += 1
            counts.append(n)
        return counts

    def _count_chunks(self, encoder: Encoder, text: str) -> int:
        if not text:
            return 0
        table = self._counts.get(encoder.name)
        if table is None:
            table = self._counts.setdefault(encoder.name, {})
        total = 0
        missing: list[str] = []
        for chunk in split_chunks(text):
            n = table.get(chunk)
            if n is None:
                missing.append(chunk)
            else:
                total += n
                self.hits += 1
        if missing:
            self.misses += len(missing)
            counts = self._count_missing(encoder, missing)
            with self._lock:
                for chunk, n in zip(missing, counts):
                    table[chunk] = n
                    self._chars += len(chunk)
                    total += n
                if self._chars > self._max_chars:
                    self._counts.clear()
                    self._chars = 0
        return total

    def _count_missing(self, encoder: Encoder, chunks: list[str]) -> list[int]:
        """Counts from the on-disk store where it has them; the tokenizer is loaded only for the rest."""
        if self.store is None:
            return encoder.count_many(chunks)
        known = self.store.get_many(encoder.name, chunks)
        todo = [c for c, n in zip(chunks, known) if n is None]
        if not todo:
            return known  # type: ignore[return-value]
        fresh = encoder.count_many(todo)
        self.store.put_many(encoder.name, todo, fresh)
        counted = iter(fresh)
        return [next(counted) if n is None else n for n in known]

    def save(self) -> None:
        if self.store is not None:
            self.store.save()

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._chars = 0
            self._blocks.clear()
            self._block_chars = 0
            self._recent.clear()


class LazyEncoder:
    """A tokenizer by name that loads only when text has to be encoded (counts may come from the store)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def count(self, text: str) -> int:
        return get_encoder(self.name).count(text)

    def count_many(self, texts: list[str]) -> list[int]:
        return get_encoder(self.name).count_many(texts)


_LAZY: dict[str, LazyEncoder] = {}
CACHE = SegmentCache(store=CountStore())


@dataclass(frozen=True)
class Framing:
    """Tokens a chat API adds around messages: OpenAI's published counting rule, or what is assumed for a
    provider that publishes none (`published` False, `rule` says what)."""

    per_message: int = 3
    per_name: int = 1
    reply_priming: int = 3
    counts_role: bool = True
    published: bool = True
    rule: str = "OpenAI's published chat framing: 3 tokens a message plus its role, 1 for a name, 3 priming the reply"
    # Tool definition constants from OpenAI's cookbook, by tokenizer generation.
    func_init: int = 7
    prop_init: int = 3
    prop_key: int = 3
    enum_init: int = -3
    enum_item: int = 3
    func_end: int = 12


O200K_FRAMING = Framing()
CL100K_FRAMING = Framing(func_init=10)
# Anthropic's Messages API has no names and publishes no framing; its reply needs no priming tokens.
ANTHROPIC_FRAMING = Framing(
    per_name=0,
    reply_priming=0,
    published=False,
    rule="assumed as in OpenAI's rule, 3 tokens a message plus its role (Anthropic publishes no message framing); no reply priming",
)
GEMINI_FRAMING = Framing(
    per_message=0,
    per_name=0,
    reply_priming=0,
    counts_role=False,
    published=False,
    rule="none (Google publishes no message framing): only the text of each message is counted",
)
ASSUMED_FRAMING = Framing(
    published=False,
    rule="assumed as in OpenAI's rule, 3 tokens a message plus its role and 3 priming the reply (the provider publishes none)",
)


@dataclass(frozen=True)
class Tokenizer:
    """The tokenizer chosen for a model: its encoding, framing and whether counts are exact."""

    encoding: str
    exact: bool
    framing: Framing
    note: str = ""

    @property
    def label(self) -> str:
        return self.encoding if self.exact else f"{self.encoding} (estimate)"

    def encoder(self) -> Encoder:
        encoder = _LAZY.get(self.encoding)
        if encoder is None:
            encoder = _LAZY[self.encoding] = LazyEncoder(self.encoding)
        return encoder

    def available(self) -> None:
        """Raise TokenizerUnavailable if this tokenizer's files are missing (without loading them)."""
        tokenizer_available(self.encoding)

    def count(self, text: str) -> int:
        return CACHE.count(self.encoder(), text)

    def count_message(self, content_tokens: int, name: str | None = None, role: str = "") -> int:
        """Framing tokens plus content, for one chat message."""
        total = self.framing.per_message + content_tokens
        if role and self.framing.counts_role:
            total += self.count(role)
        if name and self.framing.per_name:
            total += self.count(name) + self.framing.per_name
        return total

    def as_estimate(self, note: str) -> "Tokenizer":
        """The same tokenizer, its counts marked an estimate for `note`'s reason."""
        return Tokenizer(self.encoding, False, self.framing, note)

    def count_tools(self, tools: Iterable[dict[str, Any]]) -> tuple[int, bool]:
        """Tokens for tool definitions and whether the published formula covers their shape.

        OpenAI's cookbook ("How to count tokens with tiktoken", num_tokens_for_tools) counts a function's
        name and description, then each top-level property's name, type, description and enum items.
        It says nothing of nested objects, array items, anyOf/$ref or non-function tools: those are
        counted as far as the formula goes and marked not covered.
        """
        tools = list(tools)
        if not tools:
            return 0, True
        f = self.framing
        total = 0
        covered = True
        for tool in tools:
            if tool.get("type") not in (None, "function"):
                covered = False  # a built-in tool (web_search, file_search...): its framing is not published
            function = tool.get("function", tool)
            if not isinstance(function, dict):
                covered = False
                continue
            total += f.func_init
            total += self.count(f"{function.get('name', '')}:{_without_period(function.get('description'))}")
            params = function.get("parameters") or {}
            properties = params.get("properties") if isinstance(params, dict) else None
            if not isinstance(properties, dict):
                covered = covered and properties is None
                continue
            if properties:
                total += f.prop_init
            for key, prop in properties.items():
                total += f.prop_key
                if not isinstance(prop, dict):
                    covered = False
                    continue
                kind = prop.get("type")
                if not isinstance(kind, str) or kind in ("object", "array") or "anyOf" in prop or "oneOf" in prop or "$ref" in prop:
                    covered = False
                enum = prop.get("enum")
                if isinstance(enum, list):
                    total += f.enum_init
                    for item in enum:
                        total += f.enum_item + self.count("null" if item is None else str(item))
                elif enum is not None:
                    covered = False
                # A list of types (strict mode's ["string", "null"]) is written as OpenAI's TypeScript-like union.
                shown = " | ".join(map(str, kind)) if isinstance(kind, list) else "" if kind is None else str(kind)
                total += self.count(f"{key}:{shown}:{_without_period(prop.get('description'))}")
        total += f.func_end
        return total, covered


def _without_period(text: Any) -> str:
    """The cookbook drops one trailing period from descriptions before counting them."""
    text = "" if text is None else str(text)
    return text[:-1] if text.endswith(".") else text


_O200K_EXACT = ("gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4")
_CL100K_EXACT = ("gpt-4", "gpt-3.5")


def _base_name(model: str) -> str:
    name = model.lower()
    if name.startswith("ft:"):
        name = name[3:]
    return name.rsplit("/", 1)[-1]


def framing_for(encoding: str) -> Framing:
    return CL100K_FRAMING if encoding == "cl100k_base" else O200K_FRAMING


def tokenizer_for(model: str, provider: str | None = None) -> Tokenizer:
    """The best offline tokenizer for a model the catalog knows, and whether its counts match what the API bills.

    The name decides only the encoding: a name the catalog does not know (a typo such as gpt-4o-mnii)
    is an estimate whatever it starts with; analysis marks it so (`analysis._tokenizer`).
    """
    base = _base_name(model)
    openai_like = provider in (None, "openai", "azure", "text-completion-openai") or model.lower().startswith(
        ("openai/", "azure/")
    )
    if openai_like:
        if base.startswith(_O200K_EXACT):
            return Tokenizer("o200k_base", True, O200K_FRAMING)
        if base.startswith(_CL100K_EXACT):
            return Tokenizer("cl100k_base", True, CL100K_FRAMING)
    if "claude" in base:
        return Tokenizer("claude", False, ANTHROPIC_FRAMING, f"the tokenizer for {model} is not published offline; Anthropic's legacy tokenizer shipped with litellm stands in")
    if "deepseek" in base:
        return Tokenizer("deepseek", False, ASSUMED_FRAMING, f"the chat framing for {model} is not published; counted with DeepSeek's tokenizer shipped with litellm")
    if base.startswith("gpt-"):
        return Tokenizer("o200k_base", False, O200K_FRAMING, f"{model} has no published tokenizer; counted with o200k_base")
    if "gemini" in base:
        return Tokenizer("o200k_base", False, GEMINI_FRAMING, f"no offline tokenizer for {model}; o200k_base stands in")
    return Tokenizer("o200k_base", False, ASSUMED_FRAMING, f"no offline tokenizer for {model}; o200k_base stands in")
