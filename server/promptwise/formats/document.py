"""PromptDocument: one parsed prompt file, whatever its format, with the source span of every part."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from ..text import LineIndex, Span


class Format(str, Enum):
    PROMPTY = "prompty"
    DOTPROMPT = "dotprompt"
    INSTRUCTIONS = "instructions"
    PLAIN = "plain"


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    HINT = "hint"


@dataclass
class Related:
    """Another place that explains a finding, possibly in another file."""

    path: Path
    span: Span | None
    message: str
    line: int = 0
    character: int = 0


@dataclass
class Finding:
    code: str
    severity: Severity
    message: str
    span: Span
    related: list[Related] = field(default_factory=list)
    unnecessary: bool = False
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Include:
    """Text pulled in from another file: a Dotprompt partial, a CLAUDE.md import, a linked file."""

    target: str
    span: Span  # where the reference is written in this file
    path: Path | None
    text: str = ""
    error: str | None = None
    tokens: int = 0  # filled in by analysis
    error_code: str | None = None  # the finding's code when it is not missing-include or include-cycle


@dataclass
class Variable:
    """A template placeholder and the sample value it was rendered with, if any."""

    name: str
    span: Span
    value: Any = None
    source: str | None = None  # "sample", "default", "example" or None when undefined

    @property
    def defined(self) -> bool:
        return self.source is not None


@dataclass
class ImagePart:
    """A non-text part of a message as the file writes it: an image (counted by the model's rule) or another
    media kind (not counted)."""

    span: Span  # where the part is written; empty for a request body, which has no text positions
    url: str | None = None  # a data: URL, a remote URL or a path; None when the file gives none
    detail: str | None = None  # OpenAI's detail: low, high or auto
    kind: str = "image"  # "image", "audio", "file" or "other"
    where: str = ""  # how a finding names the part when the span says nothing: "messages[1].content[0]"
    data: str | None = None  # a base64 payload given apart from any URL (Anthropic's base64 source)


@dataclass
class Message:
    role: str
    span: Span  # header plus body in the source
    header: Span  # the role line or role tag; empty for implicit messages
    body: Span
    content: str = ""  # rendered text, as sent
    name: str | None = None
    includes: list[Include] = field(default_factory=list)
    variables: list[Variable] = field(default_factory=list)
    images: int = 0  # non-text parts: images, audio, files
    image_parts: list[ImagePart] = field(default_factory=list)  # those parts as written, when the parser records them
    problems: list[Finding] = field(default_factory=list)  # found while rendering it; also in the document's
    render_cost: tuple[int, int] = (0, 0)  # output and iterations its rendering used of the document's budget
    on_use: bool = False  # sent only when the agent decides to use it (a skill's body), not on every call

    def shifted(self, delta: int) -> "Message":
        """This message moved by `delta` characters, as when text before it was edited."""
        return replace(
            self,
            span=self.span.shift(delta),
            header=self.header.shift(delta),
            body=self.body.shift(delta),
            includes=[replace(inc, span=inc.span.shift(delta)) for inc in self.includes],
            variables=[replace(var, span=var.span.shift(delta)) for var in self.variables],
            problems=[replace(p, span=p.span.shift(delta)) for p in self.problems],
            image_parts=[replace(part, span=part.span.shift(delta)) for part in self.image_parts],
        )


@dataclass
class FrontmatterKey:
    key: str  # dotted path, e.g. "model.id"
    span: Span  # the key
    value_span: Span
    value: Any = None


@dataclass
class PromptDocument:
    path: Path
    format: Format
    text: str
    frontmatter: dict[str, Any] = field(default_factory=dict)
    frontmatter_span: Span | None = None
    keys: dict[str, FrontmatterKey] = field(default_factory=dict)
    model: str | None = None  # as the file names it
    model_span: Span | None = None  # the model's value, for hints and edits
    provider: str | None = None
    max_output_tokens: int | None = None
    budget: int | None = None
    budget_usd: float | None = None  # promptwise.budget_usd: dollars per call
    budget_usd_per_month: float | None = None  # promptwise.budget_usd_per_month
    expected_output_tokens: int | None = None
    messages: list[Message] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_names: list[str] = field(default_factory=list)  # tools referenced by name only
    # Tools whose definitions the file does not hold (an MCP server's, an OpenAPI spec's, a custom kind's),
    # each as "name (kind)": their tokens cannot be counted from the file.
    uncounted_tools: list[str] = field(default_factory=list)
    uses_json_output: bool = False
    uses_reasoning: bool = False
    # How hard a reasoning model thinks, as the file sets it: an effort ("none", "minimal", "low",
    # "medium", "high", "xhigh") and/or a thinking budget in tokens; where it is written, for findings.
    reasoning_effort: str | None = None
    reasoning_budget: int | None = None
    reasoning_span: Span | None = None
    service_tier: str | None = None  # "standard", "batch", "flex" or "priority" (promptwise.service_tier)
    calls_per_day: float | None = None  # promptwise.calls_per_day
    # Indexes of messages that end at an explicit cache breakpoint (Anthropic cache_control, litellm's
    # cache_control_injection_points); empty when the file sets none.
    cache_breakpoints: list[int] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    samples: dict[str, tuple[Any, str]] = field(default_factory=dict)  # template values and where each came from
    max_bytes: int | None = None  # max_file_size, from which every rendering and include limit is derived
    _lines: LineIndex | None = field(default=None, repr=False)

    @property
    def lines(self) -> LineIndex:
        if self._lines is None:
            self._lines = LineIndex(self.text)
        return self._lines

    @property
    def includes(self) -> list[Include]:
        return [inc for m in self.messages for inc in m.includes]

    @property
    def variables(self) -> list[Variable]:
        return [v for m in self.messages for v in m.variables]

    def key_span(self, key: str) -> Span:
        found = self.keys.get(key)
        if found is not None:
            return found.span
        return self.frontmatter_span or Span(0, 0)

    def problem(self, code: str, severity: Severity, message: str, span: Span, **kw: Any) -> Finding:
        finding = Finding(code, severity, message, span, **kw)
        self.problems.append(finding)
        return finding
