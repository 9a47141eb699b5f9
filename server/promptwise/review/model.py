"""The shape of a comparison: what `promptwise diff` reports per file and in total (its `--format json` too).

One set of pydantic models is the report the engine returns, the JSON the CLI prints and the schema in
`schemas/promptwise.diff.schema.json`. Paths are repository-relative and POSIX; money is US dollars.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["added", "modified", "deleted", "renamed", "affected"]


class FindingRef(BaseModel):
    """A finding on one side, identified by its code and message (line numbers move with any edit)."""

    code: str
    severity: str
    message: str
    line: int = Field(1, description="one-based line in that side's file")


class MessageFigures(BaseModel):
    """One message (a part of the prompt) and its tokens."""

    role: str
    name: str | None = None
    tokens: int
    line: int = Field(description="one-based line where the message starts")
    end_line: int


class SideFigures(BaseModel):
    """A prompt file as it is on one side of the comparison."""

    format: str | None = None
    model: str | None = None
    tokens: int | None = Field(None, description="input tokens per call; None when the file could not be analyzed")
    exact: bool = False
    cost_per_call: float | None = Field(None, description="warm when the provider caches the stable prefix, else cold")
    basis: Literal["warm", "cold"] | None = None
    cold_cost_per_call: float | None = None
    cached_tokens: int = Field(0, description="tokens read from the prompt cache on a warm call")
    per_1000_calls: float | None = Field(None, description="one cold call, then warm")
    per_month: float | None = Field(None, description="at the file's [volumes] calls a day, 30 days; None without a volume")
    calls_per_day: float | None = None
    budget: int | None = None
    budget_share: float | None = Field(None, description="tokens / budget")
    messages: list[MessageFigures] = Field(default_factory=list)
    findings: list[FindingRef] = Field(default_factory=list)

    @property
    def over_budget(self) -> bool:
        return self.budget_share is not None and self.budget_share > 1


class LineChange(BaseModel):
    """Changed lines of the head side's file and what they did to the cost."""

    line: int = Field(description="one-based first line (on a deletion: the line the text was removed before)")
    end_line: int
    tokens: int = Field(description="tokens per call these lines added (negative: removed), attributed per message")
    note: str | None = Field(None, description="why the cost changed when the tokens do not say it (caching, model)")


class FileChange(BaseModel):
    """One prompt file the change touches, directly or through what it includes or its config."""

    path: str = Field(description="the head side's path (for a deletion, the deleted path)")
    old_path: str | None = Field(None, description="the base side's path when it differs (a rename)")
    status: Status
    via: list[str] = Field(default_factory=list, description="changed files that affect it: includes, partials, its config")
    via_line: int | None = Field(None, description="for an affected file, the first changed line of via[0]")
    base: SideFigures | None = Field(None, description="None when the file is absent at the base")
    head: SideFigures | None = Field(None, description="None when the file is absent at the head")
    delta_tokens: int = 0
    delta_cost_per_call: float | None = None
    delta_per_1000_calls: float | None = None
    delta_per_month: float | None = None
    findings_gained: list[FindingRef] = Field(default_factory=list)
    findings_lost: list[FindingRef] = Field(default_factory=list)
    pushed_over_budget: bool = Field(False, description="over its budget at the head, and the change made it so or made it bigger")
    lines: list[LineChange] = Field(default_factory=list, description="changed line ranges of the head side, biggest increase first")


class Totals(BaseModel):
    """Sums over the files listed (a file absent on one side counts as zero there)."""

    prompts: int
    delta_tokens: int
    delta_cost_per_call: float
    base_per_1000_calls: float
    delta_per_1000_calls: float
    base_per_month: float | None = Field(None, description="None when no file has a volume")
    delta_per_month: float | None = None
    over_budget: list[str] = Field(default_factory=list, description="files the change pushed over their budget")


class Stats(BaseModel):
    """How much work the comparison did (`diff --stats`)."""

    blobs_read: int = Field(description="file contents read from git's object store")
    files_listed: int = Field(0, description="files of the head side considered when finding dependents")
    files_parsed: int = Field(0, description="files analyzed, both sides counted")
    seconds: float = 0.0


class Comparison(BaseModel):
    """What a change does to the prompt files of a repository, from a base commit to a head."""

    base: str = Field(description="the base commit id")
    base_label: str = Field(description="the base as named, or how it was chosen")
    base_reason: str = Field(description='how the base was chosen: "given", "merge base with origin/main", "HEAD"')
    head: str | None = Field(None, description="the head commit id; None for the working tree")
    head_label: str
    model: str | None = Field(None, description="the model every file was priced with (--model), else each file's own")
    files: list[FileChange] = Field(default_factory=list)
    totals: Totals
    stats: Stats
