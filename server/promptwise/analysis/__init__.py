"""analyze(document, config) -> Analysis: token counts, cost per call, context share and findings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..catalog import Catalog, ModelCard
from ..pricing.estimate import Estimate, estimate_call
from ..pricing.reasoning import NO_REASONING, Reasoning, expected_reasoning
from ..config import LoadedConfig, load_config
from ..formats import (
    Finding,
    Format,
    Include,
    Message,
    PromptDocument,
    Related,
    Severity,
    detect_format,
    parse_document,
    read_prompt_file,
    too_large,
)
from ..text import Span
from ..tokens import Tokenizer, TokenizerUnavailable, tokenizer_for
from ..tokens.counter import O200K_FRAMING, framing_for

from .cost_budget import CostBudget, cost_budget_findings, cost_budget_for
from .costs import cost_findings, price
from .images import count_images
from .prefix import stable_prefix

SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2, Severity.HINT: 3}


@dataclass
class IncludeCount:
    include: Include
    tokens: int


@dataclass
class MessageCount:
    message: Message
    content_tokens: int
    framing_tokens: int
    includes: list[IncludeCount] = field(default_factory=list)
    stable_tokens: int | None = None  # tokens before its first variable, when it has one (the cacheable lead)
    image_tokens: int = 0  # its images, by the model's published rule (analysis.images)

    @property
    def tokens(self) -> int:
        return self.content_tokens + self.framing_tokens + self.image_tokens


@dataclass
class Analysis:
    document: PromptDocument
    model: str
    card: ModelCard | None
    tokenizer: Tokenizer
    messages: list[MessageCount]
    tools_tokens: int
    reply_priming: int
    prompt_tokens: int
    exact: bool
    expected_output_tokens: int
    budget: int | None
    budget_source: str | None
    findings: list[Finding]
    # Why the count is not exact (None when it is): the reasons, joined with "; ".
    exact_reason: str | None = None
    # Tokens of messages sent only when the agent uses them (a skill's body), not part of prompt_tokens.
    on_use_tokens: int = 0
    # How the call is billed: cold and warm cost parts, caching, reasoning, volumes (None without a price).
    estimate: Estimate | None = None
    reasoning: Reasoning = NO_REASONING
    cost_budget: CostBudget = CostBudget()  # dollars per call and per month, where a budget is set

    @property
    def cost_per_call(self) -> float | None:
        """Warm when the provider caches the prompt's stable prefix, else cold; reasoning included."""
        per_call = self.estimate.per_call if self.estimate else None
        return per_call.total if per_call else None

    @property
    def input_cost(self) -> float | None:
        per_call = self.estimate.per_call if self.estimate else None
        return per_call.input_cost if per_call else None

    @property
    def output_cost(self) -> float | None:
        per_call = self.estimate.per_call if self.estimate else None
        return per_call.output_cost if per_call else None

    @property
    def context_window(self) -> int | None:
        return self.card.context_window if self.card else None

    @property
    def context_needed(self) -> int:
        """Input, the output reserved and the reasoning expected: what must fit the context window."""
        return self.prompt_tokens + self.expected_output_tokens + self.reasoning.tokens

    @property
    def context_share(self) -> float | None:
        window = self.context_window
        return self.context_needed / window if window else None

    @property
    def budget_share(self) -> float | None:
        return self.prompt_tokens / self.budget if self.budget else None

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)

    def cost_of(self, tokens: int) -> float | None:
        """What `tokens` input tokens cost at this file's input price (service and long-context tier)."""
        per_call = self.estimate.cold if self.estimate else None
        if per_call is None:
            return None
        return tokens * per_call.parts[0].unit_price


def analyze(
    doc: PromptDocument,
    config: LoadedConfig,
    catalog: Catalog | None = None,
    model: str | None = None,
    *,
    duplicates: bool = True,
    previous: Analysis | None = None,
) -> Analysis:
    """Count and price a parsed document; `model` overrides the one the file names.

    `duplicates=False` skips the duplicated-paragraph scan (O(file) per call), for callers that
    need counts on every keystroke and run `duplicated_paragraphs` later (the language server).
    `previous`, the analysis of an earlier version, lends its counts to messages a re-parse kept.
    """
    catalog = catalog or catalog_for(config)
    findings = list(doc.problems)
    provider = None if model else doc.provider
    model = model or doc.model or config.settings.default_model
    card = catalog.resolve(model, provider)
    tokenizer = _tokenizer(card, model, provider)
    if card is None:
        findings.append(_unknown_model(model, catalog, tokenizer, doc.model_span or Span(0, 0)))
    try:
        tokenizer.available()
    except TokenizerUnavailable as exc:
        findings.append(Finding("tokenizer-unavailable", Severity.WARNING, f"{exc}; counting with o200k_base", Span(0, 0)))
        tokenizer = Tokenizer("o200k_base", False, O200K_FRAMING, f"{exc}; counted with o200k_base")

    counts: list[MessageCount] = []
    kept = _kept_counts(previous, tokenizer)
    for message in doc.messages:
        old = kept.get(id(message.content))
        if old is not None and old.message.content is message.content and (old.message.role, old.message.name) == (message.role, message.name):
            content, framing = old.content_tokens, old.framing_tokens
        else:
            content = tokenizer.count(message.content)
            framing = tokenizer.count_message(0, message.name, message.role)
        includes = [IncludeCount(inc, tokenizer.count(inc.text)) for inc in message.includes]
        for ic in includes:
            ic.include.tokens = ic.tokens
        counts.append(MessageCount(message, content, framing, includes))
    images = count_images(doc, card.name if card is not None else model, known=card is not None)
    if images is not None:
        for count, n in zip(counts, images.tokens):
            count.image_tokens = n
        findings.extend(images.findings)
    tools_tokens, tools_covered = tokenizer.count_tools(doc.tools)
    per_call = [c for c in counts if not c.message.on_use]
    on_use_tokens = sum(c.tokens for c in counts if c.message.on_use)
    priming = tokenizer.framing.reply_priming if per_call else 0
    prompt_tokens = sum(c.tokens for c in per_call) + tools_tokens + priming
    exact_reason = estimate_reasons(doc, tokenizer, tools_covered, on_use_tokens, images.reasons if images else None)
    exact = exact_reason is None
    expected = _expected_output(doc, config, card)
    prefix, leads = stable_prefix(
        doc.text, counts, tools_tokens, prompt_tokens, doc.cache_breakpoints, tokenizer, _kept_leads(previous, tokenizer)
    )
    for count in counts:
        count.stable_tokens = leads.get(id(count.message.content))
    budget, budget_source = (doc.budget, "frontmatter promptwise.budget") if doc.budget else config.budget_for(doc.path)
    if budget_source and budget_source != "frontmatter promptwise.budget":
        budget_source = f"budgets[\"{budget_source}\"] in {config.path.name if config.path else 'settings'}"

    analysis = Analysis(
        document=doc,
        model=model,
        card=card,
        tokenizer=tokenizer,
        messages=counts,
        tools_tokens=tools_tokens,
        reply_priming=priming,
        prompt_tokens=prompt_tokens,
        exact=exact,
        expected_output_tokens=expected,
        budget=budget,
        budget_source=budget_source,
        findings=findings,
        exact_reason=exact_reason,
        on_use_tokens=on_use_tokens,
    )
    price(analysis, config, prefix)
    analysis.cost_budget = cost_budget_for(analysis, config)
    findings.extend(_budget_findings(analysis, config))
    findings.extend(cost_budget_findings(analysis, config, _anchor(analysis)))
    findings.extend(_context_findings(analysis))
    findings.extend(cost_findings(analysis, config))
    if duplicates:
        findings.extend(duplicated_paragraphs(doc, tokenizer, config.settings.duplicate_min_chars))
    if doc.tool_names:
        findings.append(
            Finding(
                "tools-not-counted",
                Severity.INFO,
                f"tools {', '.join(doc.tool_names)} are defined in code; their definitions are not counted",
                doc.key_span("tools"),
            )
        )
    if doc.uncounted_tools:
        findings.append(
            Finding(
                "tools-not-counted",
                Severity.INFO,
                f"tools {', '.join(doc.uncounted_tools)} are defined outside the file; their definitions are not counted",
                doc.key_span("tools"),
            )
        )
    findings.sort(key=lambda f: (f.span.start, SEVERITY_ORDER[f.severity]))
    return analysis


def _kept_counts(previous: Analysis | None, tokenizer: Tokenizer) -> dict[int, MessageCount]:
    """The earlier analysis's counts by the identity of each message's text (alive while `previous` is)."""
    if previous is None or previous.tokenizer != tokenizer:
        return {}
    return {id(c.message.content): c for c in previous.messages}


def _kept_leads(previous: Analysis | None, tokenizer: Tokenizer) -> dict[int, int]:
    if previous is None or previous.tokenizer != tokenizer:
        return {}
    return {id(c.message.content): c.stable_tokens for c in previous.messages if c.stable_tokens is not None}


def catalog_for(config: LoadedConfig) -> Catalog:
    """The bundled catalog with this config's model overrides, built once per loaded config."""
    if config.catalog is None:
        source = f"config {config.path}" if config.path else "settings"
        config.catalog = Catalog.bundled().with_overrides(config.settings.models, source)
    return config.catalog


def _catalog_name(catalog: Catalog) -> str:
    from ..catalog import litellm_version

    return f"litellm {litellm_version()} price map"


def _tokenizer(card: ModelCard | None, model: str, provider: str | None) -> Tokenizer:
    """Exact only for a model the catalog knows with a published tokenizer, or one config declares an OpenAI encoding for."""
    if card is not None and card.tokenizer:
        if card.tokenizer in _OPENAI_ENCODINGS:
            return Tokenizer(card.tokenizer, True, framing_for(card.tokenizer), "tokenizer set in config")
        return Tokenizer(card.tokenizer, False, O200K_FRAMING, f"the tokenizer set in config for {card.name} ({card.tokenizer}) is an approximation")
    if card is not None:
        from ..catalog.aliases import canonical

        return tokenizer_for(canonical(card.name), card.provider)  # azure/gpt-35-turbo counts as gpt-3.5-turbo
    guess = tokenizer_for(model, provider)
    # The name only looks like a model's (a typo, a private deployment): its tokenizer is a guess.
    return guess.as_estimate(f"{model} is not a known model, counted with {guess.encoding}")


_OPENAI_ENCODINGS = ("o200k_base", "cl100k_base")


def estimate_reasons(
    doc: PromptDocument, tokenizer: Tokenizer, tools_covered: bool, on_use_tokens: int = 0, image_reasons: list[str] | None = None
) -> str | None:
    """Why a count is not the provider's, in the user's words; None when both text and rule are."""
    reasons: list[str] = []
    if not tokenizer.exact:
        reasons.append(tokenizer.note or f"{tokenizer.encoding} is not the provider's tokenizer")
    if image_reasons is not None:
        reasons.extend(image_reasons)  # how each image was counted, or that it was not
    elif images := sum(m.images for m in doc.messages):
        reasons.append(f"{images} image{'s are' if images != 1 else ' is'} not counted")
    if doc.tool_names:
        reasons.append(f"tools named in code are not counted ({', '.join(doc.tool_names)})")
    if doc.uncounted_tools:
        reasons.append(f"tools defined outside the file are not counted ({', '.join(doc.uncounted_tools)})")
    if not tools_covered:
        reasons.append("tool parameters outside OpenAI's published formula (nested objects, arrays, anyOf) are approximated")
    if on_use_tokens:
        reasons.append(
            f"the body of a skill or rule ({on_use_tokens:,} tokens) is counted apart: it is sent only when the agent uses it, "
            "and the listing the agent sees instead (name: description) is approximated"
        )
    return "; ".join(reasons) or None


def _unknown_model(model: str, catalog: Catalog, tokenizer: Tokenizer, span: Span) -> Finding:
    """The unknown-model warning, with the catalog's closest name when there is one (data["suggestion"])."""
    suggestion = suggest_model(model, catalog)
    hint = f"; did you mean {suggestion}?" if suggestion else ""
    return Finding(
        "unknown-model",
        Severity.WARNING,
        f"unknown model '{model}': not in the {_catalog_name(catalog)} or config [models]; "
        f"tokens are an estimate with {tokenizer.encoding} and there is no price{hint}",
        span,
        data={"suggestion": suggestion} if suggestion else {},
    )


def suggest_model(model: str, catalog: Catalog) -> str | None:
    """The catalog's name closest to `model` (a typo's correction, an alias, a deployment's model), if one is close enough."""
    key = model.strip().lower()
    cached = _SUGGESTIONS.get((id(catalog), key), False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    from ..catalog.aliases import suggest_model as closest_model

    found = closest_model(model, catalog)
    if len(_SUGGESTIONS) > 256:  # the language server asks again on every keystroke
        _SUGGESTIONS.clear()
    _SUGGESTIONS[(id(catalog), key)] = found
    return found


_SUGGESTIONS: dict[tuple[int, str], str | None] = {}


def _expected_output(doc: PromptDocument, config: LoadedConfig, card: ModelCard | None) -> int:
    if doc.expected_output_tokens is not None:
        return doc.expected_output_tokens
    if doc.max_output_tokens is not None:
        return doc.max_output_tokens
    return config.settings.expected_output_tokens


def _anchor(analysis: Analysis) -> Span:
    doc = analysis.document
    if doc.model_span is not None:
        return doc.model_span
    if "promptwise.budget" in doc.keys:
        return doc.keys["promptwise.budget"].value_span
    first = doc.messages[0].header if doc.messages else Span(0, 0)
    return first


def _largest_parts(analysis: Analysis, limit: int = 3) -> list[Related]:
    """The includes that bring in the most tokens first (they are what to trim), then the largest messages."""
    includes: list[tuple[int, Related]] = []
    messages: list[tuple[int, Related]] = []
    path = analysis.document.path
    for count in analysis.messages:
        for ic in count.includes:
            includes.append((ic.tokens, Related(path, ic.include.span, f"{ic.include.target} brings in {ic.tokens:,} tokens")))
        label = f"{count.message.role} message" + (f" ({count.message.name})" if count.message.name else "")
        where = count.message.header if len(count.message.header) else count.message.body
        messages.append((count.tokens, Related(path, where, f"{label}: {count.tokens:,} tokens")))
    includes.sort(key=lambda p: -p[0])
    messages.sort(key=lambda p: -p[0])
    return [r for _, r in (includes + messages)[:limit]]


def _budget_findings(analysis: Analysis, config: LoadedConfig) -> list[Finding]:
    budget = analysis.budget
    if not budget:
        return []
    used = analysis.prompt_tokens
    share = used / budget
    estimate = "" if analysis.exact else " (estimate)"
    if used > budget:
        return [
            Finding(
                "over-budget",
                Severity.ERROR,
                f"{used:,} tokens per call{estimate}, over the budget of {budget:,} by {used - budget:,} "
                f"({share:.0%}; budget from {analysis.budget_source})",
                _anchor(analysis),
                related=_largest_parts(analysis),
                data={"tokens": used, "budget": budget},
            )
        ]
    if share >= config.settings.warn_at:
        return [
            Finding(
                "near-budget",
                Severity.WARNING,
                f"{used:,} tokens per call{estimate} use {share:.0%} of the budget of {budget:,} "
                f"(warning at {config.settings.warn_at:.0%}; budget from {analysis.budget_source})",
                _anchor(analysis),
                data={"tokens": used, "budget": budget},
            )
        ]
    return []


def _context_findings(analysis: Analysis) -> list[Finding]:
    window = analysis.context_window
    if not window:
        return []
    needed = analysis.context_needed
    if needed <= window:
        return []
    reasoning = analysis.reasoning
    thinking = f" and {reasoning.tokens:,} of reasoning ({reasoning.kind}: {reasoning.source})" if reasoning.tokens else ""
    return [
        Finding(
            "context-overflow",
            Severity.ERROR,
            f"{analysis.prompt_tokens:,} input tokens plus {analysis.expected_output_tokens:,} reserved for output{thinking} "
            f"need {needed:,}, over {analysis.model}'s context window of {window:,} by {needed - window:,}",
            _anchor(analysis),
            related=_largest_parts(analysis),
            data={"needed": needed, "window": window},
        )
    ]


def paragraphs(text: str, start: int = 0) -> Iterator[tuple[int, int]]:
    """(start, end) of each paragraph (a run of lines that are not blank) from `start`, the end before
    its last newline. One pass over the text: a file of nothing but spaces costs no more than its length."""
    block_start = block_end = -1
    pos = start
    while True:
        newline = text.find("\n", pos)
        end = len(text) if newline < 0 else newline
        if pos == end or text[pos:end].isspace():
            if block_start >= 0:
                yield block_start, block_end
                block_start = -1
        else:
            if block_start < 0:
                block_start = pos
            block_end = end
        if newline < 0:
            break
        pos = newline + 1
    if block_start >= 0:
        yield block_start, block_end


_SPACES = re.compile(r"\s+")


def duplicated_paragraphs(doc: PromptDocument, tokenizer: Tokenizer, min_chars: int) -> list[Finding]:
    """Paragraphs (blocks between blank lines) that repeat an earlier one word for word."""
    start = doc.frontmatter_span.end if doc.frontmatter_span else 0
    first_seen: dict[str, Span] = {}
    findings: list[Finding] = []
    text = doc.text
    for begin, end in paragraphs(text, start):
        raw = text[begin:end]
        if len(raw) < min_chars:
            continue
        stripped = raw.strip()
        if _ROLE_ONLY.match(stripped):
            continue
        key = _SPACES.sub(" ", stripped)
        span = Span(begin, end)
        earlier = first_seen.get(key)
        if earlier is None:
            first_seen[key] = span
            continue
        tokens = tokenizer.count(stripped)
        line = doc.lines.line_of(earlier.start) + 1
        findings.append(
            Finding(
                "duplicated-paragraph",
                Severity.WARNING,
                f"this paragraph repeats the one on line {line} word for word ({tokens:,} tokens sent twice)",
                span,
                related=[Related(doc.path, earlier, "first occurrence")],
                unnecessary=True,
                data={"tokens": tokens, "first": [earlier.start, earlier.end]},
            )
        )
    return findings


_ROLE_ONLY = re.compile(r"^(system|user|assistant|developer)\s*:\s*$", re.IGNORECASE)


# ---- entry points the CLI and the language server share ----


def analyze_text(
    path: Path, text: str, config: LoadedConfig | None = None, fmt: Format | None = None, model: str | None = None
) -> Analysis | list[Finding]:
    """Analyze text for a path; returns the findings alone when the text cannot be analyzed."""
    config = config or load_config(path)
    fmt = fmt or detect_format(path, config.settings.plain_prompts, config.root) or Format.PLAIN
    big = too_large(text, config.settings.max_file_size)
    if big is not None:
        return [big]
    doc = parse_document(path, text, fmt, max_bytes=config.settings.max_file_size)
    return analyze(doc, config, model=model)


def analyze_file(
    path: Path, config: LoadedConfig | None = None, fmt: Format | None = None, model: str | None = None
) -> Analysis | list[Finding]:
    config = config or load_config(path)
    result = read_prompt_file(path, config.settings.max_file_size)
    if result.text is None:
        return result.problems
    analysis = analyze_text(path, result.text, config, fmt, model)
    if isinstance(analysis, Analysis):
        analysis.findings[:0] = result.problems
    return analysis
