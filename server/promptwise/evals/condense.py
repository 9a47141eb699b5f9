"""Condense a section or message with a model, and check the shorter prompt with the prompt's own evals.

Run only when the user asks (a command, never on a keystroke): one call asks a model for a shorter
version of the text that keeps every instruction; the result is measured like any trim (the edited
file is analysed again); a placeholder or template tag the model dropped makes it unusable; and when
the prompt has a suite beside it, the suite runs on the original and on the condensed prompt, so the
edit is offered with both pass rates. Nothing is written: the caller shows the result and applies the
edit only when the user chooses it. The condensed runs are not saved in the run store, because they
are not the file's results.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis import Analysis, analyze, catalog_for
from ..config import LoadedConfig
from ..fixes.edits import TextEdit, apply_edits, saving_text, unified_diff
from ..formats import detect_format, parse_document, Format
from ..text import Span
from .calls import ModelClient, ProviderError
from .routing import resolve_target
from .runner import CancelToken, PreparedSuite, ProgressCallback, RunOptions, prepare, run_prepared
from .suite import load_suite, suite_beside

INSTRUCTIONS = (
    "You shorten text that is part of a prompt for a language model. Rewrite the text the user sends so "
    "that it takes as few tokens as possible while keeping every instruction, rule, constraint, example, "
    "name and number, and every template placeholder or tag ({{...}}, {%...%}, ${...}) exactly as written. "
    "Remove repetition, filler and politeness. Keep its Markdown headings and its language. Reply with the "
    "rewritten text only: no preamble, no explanation, no code fence around it."
)
# Template syntax the condensed text must keep, each one as often as the original has it.
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\$\{[^}]*\}")
_FENCED_REPLY = re.compile(r"\A```[\w-]*\n(?P<body>.*)\n```\s*\Z", re.DOTALL)
MAX_OUTPUT_TOKENS = 8192


@dataclass
class PassRate:
    passed: int
    total: int
    errored: int = 0

    def words(self) -> str:
        errored = f", {self.errored} errored" if self.errored else ""
        return f"{self.passed}/{self.total} cases pass{errored}"


@dataclass
class Condensed:
    """A condensed version of one part of a prompt file, measured and (with a suite) evaluated."""

    title: str
    span: Span  # the part of the file's text that was condensed
    original: str
    condensed: str
    model: str
    call_cost: float | None  # what the condensing call cost
    tokens_before: int
    tokens_after: int
    cost_saved: float | None  # per call of the prompt
    old_text: str = ""
    new_text: str = ""
    suite: str | None = None
    original_rate: PassRate | None = None
    condensed_rate: PassRate | None = None
    eval_cost: float | None = None  # what the two suite runs cost (cached responses are free)
    problems: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return not self.problems and self.tokens_after < self.tokens_before

    @property
    def edit(self) -> TextEdit:
        return TextEdit(self.span, self.condensed)

    @property
    def saving(self) -> str:
        return saving_text(self.tokens_before - self.tokens_after, self.cost_saved)

    def diff(self, name: str) -> str:
        return unified_diff(self.old_text, self.new_text, name)

    def summary(self) -> str:
        """One paragraph: what the model did, what it saves, what it cost and what the evals say."""
        cost = f" (the call cost ${self.call_cost:.4f})" if self.call_cost is not None else ""
        out = f'Condensed "{self.title}" with {self.model}{cost}: {self.saving}.'
        if self.problems:
            return out + " Not usable: " + "; ".join(self.problems) + "."
        if self.original_rate and self.condensed_rate:
            out += f" Evals ({self.suite}): condensed {self.condensed_rate.words()}, original {self.original_rate.words()}."
        elif self.suite is None:
            out += " No eval suite beside the prompt: check the wording before applying it."
        return out


async def condense(
    path: Path,
    text: str,
    span: Span,
    title: str,
    config: LoadedConfig,
    model: str | None = None,
    options: RunOptions | None = None,
    client: ModelClient | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Condensed:
    """Ask `model` (default: the file's own) for a shorter `text[span]`, measure it and run the file's suite
    on both versions. Provider errors raise ProviderError with a message fit to show."""
    options = options or RunOptions()
    client = client or ModelClient()
    fmt = detect_format(path, config.settings.plain_prompts, config.root) or Format.PLAIN
    before = analyze(parse_document(path, text, fmt, config.settings.max_file_size), config)
    name = model or before.model
    target = resolve_target(name, config, catalog_for(config), options.routing)
    original = text[span.start : span.end]
    reply = await client.complete(
        target,
        [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": original}],
        {"temperature": 0, "max_tokens": min(MAX_OUTPUT_TOKENS, max(256, before.tokenizer.count(original) * 2))},
        timeout=options.timeout,
    )
    condensed = _keep_line_ends(original, _unfenced(reply.text or ""))
    new_text = apply_edits(text, [TextEdit(span, condensed)])
    after = analyze(parse_document(path, new_text, fmt, config.settings.max_file_size), config, model=before.model)
    saved = None
    if before.cost_per_call is not None and after.cost_per_call is not None:
        saved = before.cost_per_call - after.cost_per_call
    result = Condensed(
        title=title,
        span=span,
        original=original,
        condensed=condensed,
        model=target.label,
        call_cost=reply.cost,
        tokens_before=before.prompt_tokens,
        tokens_after=after.prompt_tokens,
        cost_saved=saved,
        old_text=text,
        new_text=new_text,
        problems=_lost(original, condensed) + _broken(before, after),
    )
    if not condensed.strip():
        result.problems.append("the model returned no text")
    elif after.prompt_tokens >= before.prompt_tokens:
        result.problems.append("the model's version is not shorter")
    if result.problems:
        return result
    await _evaluate(result, path, text, new_text, fmt, config, options, client, progress, cancel)
    return result


async def _evaluate(
    result: Condensed,
    path: Path,
    text: str,
    new_text: str,
    fmt: Format,
    config: LoadedConfig,
    options: RunOptions,
    client: ModelClient,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> None:
    suite_path = suite_beside(path)
    if suite_path is None:
        return
    loaded = load_suite(suite_path)
    prepared = prepare(loaded, options)
    result.suite = prepared.display
    if not prepared.runnable or prepared.doc is None:
        result.problems.append(f"the suite {prepared.display} cannot run: {'; '.join(prepared.problems) or 'no prompt'}")
        return
    original = _with_text(prepared, path, text, fmt, config)
    shorter = _with_text(prepared, path, new_text, fmt, config)
    spent = 0.0
    rates = []
    for suite, phase in ((original, "original"), (shorter, "condensed")):
        run = await run_prepared([suite], options, progress, cancel, client=client, phase=phase)
        if run.cancelled:
            result.problems.append("the evals were cancelled")
            return
        counts = run.counts
        rates.append(PassRate(counts["passed"], len(run.results), counts["errored"]))
        spent += run.spent
    result.original_rate, result.condensed_rate = rates
    result.eval_cost = spent


def _with_text(prepared: PreparedSuite, path: Path, text: str, fmt: Format, config: LoadedConfig) -> PreparedSuite:
    """The suite prepared on `text` in place of the file on disk (the editor's unsaved text, or the condensed one)."""
    doc = parse_document(path, text, fmt, config.settings.max_file_size)
    return dataclasses.replace(prepared, doc=doc, prompt_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


def _unfenced(reply: str) -> str:
    """The reply without a code fence around all of it, which models add although asked not to."""
    m = _FENCED_REPLY.match(reply.strip())
    return m.group("body") if m else reply.strip()


def _keep_line_ends(original: str, condensed: str) -> str:
    """The condensed text with the original's line breaks, and its trailing break(s)."""
    eol = "\r\n" if "\r\n" in original else "\r" if "\r" in original and "\n" not in original else "\n"
    body = condensed.replace("\r\n", "\n").replace("\r", "\n")
    if eol != "\n":
        body = body.replace("\n", eol)
    tail = original[len(original.rstrip("\r\n")) :]
    return body.rstrip("\r\n") + tail


def _lost(original: str, condensed: str) -> list[str]:
    """Placeholders and template tags the original has more often than the condensed text."""
    def tally(text: str) -> dict[str, int]:
        found: dict[str, int] = {}
        for m in _PLACEHOLDER.finditer(text):
            key = re.sub(r"\s+", "", m.group())
            found[key] = found.get(key, 0) + 1
        return found

    mine, theirs = tally(original), tally(condensed)
    lost = [k for k, n in mine.items() if theirs.get(k, 0) < n]
    return [f"the model dropped {', '.join(lost[:5])}"] if lost else []


def _broken(before: Analysis, after: Analysis) -> list[str]:
    """Errors the condensed file has that the original did not (a broken template, a lost include)."""
    old = {f.code for f in before.findings if f.severity.value == "error"}
    new = sorted({f.code for f in after.findings if f.severity.value == "error"} - old - {"over-budget", "over-cost-budget"})
    return [f"the condensed file has {', '.join(new)}"] if new else []
