"""Hover: a model card on the model name, and what a message, include or template variable costs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ..analysis import Analysis, IncludeCount, MessageCount, catalog_for
from ..catalog import ModelCard
from ..formats import Variable
from ..text import Span
from ..tokens import tokenizer_for
from . import code_actions, labels, section_hints
from .lifecycle import survives
from .positions import offset_of, range_of

if TYPE_CHECKING:
    from ..config import LoadedConfig
    from .documents import Snapshot
    from .server import PromptwiseServer

# Well-known models to compare a message's cost against, cheapest families first.
ALTERNATIVES = ("gpt-4.1-nano", "gpt-4o-mini", "gpt-4.1-mini", "claude-haiku-4-5", "gemini/gemini-2.5-flash", "gpt-4.1", "gpt-4o")


def register(server: PromptwiseServer) -> None:
    server.feature(types.TEXT_DOCUMENT_HOVER)(hover)


@survives(None)
async def hover(ls: PromptwiseServer, params: types.HoverParams) -> types.Hover | None:
    snap = await ls.analysis(params.text_document.uri)
    if not ls.state.settings.hover:
        return None
    if snap is None:
        return None
    if snap.analysis is None:
        if not snap.problems:
            return None
        return _markdown("\n\n".join(f"**promptwise**: {p.message}" for p in snap.problems), None)
    from .review import head_line  # the change against HEAD, when it is ready (never waited for)

    return hover_at(snap, offset_of(snap.lines, params.position), head_line(ls, snap))


def hover_at(snap: Snapshot, offset: int, vs_head: str | None = None) -> types.Hover | None:
    a = snap.analysis
    assert a is not None
    doc = a.document
    lines = snap.lines
    if doc.model_span is not None and _inside(doc.model_span, offset):
        return _markdown(model_card(a, snap.config, vs_head) + model_comparison(snap), range_of(lines, doc.model_span))
    for count in a.messages:
        span = count.message.span
        last = count is a.messages[-1]
        if not (span.start <= offset < span.end or (last and offset == span.end)):
            continue
        for ic in count.includes:
            if _inside(ic.include.span, offset):
                return _markdown(include_card(ic, a), range_of(lines, ic.include.span))
        for var in count.message.variables:
            if _inside(var.span, offset):
                return _markdown(variable_card(var, a), range_of(lines, var.span))
        on_heading = section_hints.heading_hover(a, lines, offset, snap.config.settings.section_min_tokens)
        if on_heading is not None:
            return on_heading
        return _markdown(message_card(count, a, snap.config), range_of(lines, count.message.header) if _inside(count.message.header, offset) else None)
    return None


def _inside(span: Span, offset: int) -> bool:
    return span.start <= offset <= span.end and span.end > span.start


def _markdown(value: str, where: types.Range | None) -> types.Hover:
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=value), range=where)


# ---- cards ----


def model_card(a: Analysis, config: LoadedConfig, vs_head: str | None = None) -> str:
    card = a.card
    if card is None:
        suggestion = next((f.data["suggestion"] for f in a.findings if f.code == "unknown-model" and f.data.get("suggestion")), None)
        return (
            f"**{a.model}** is not in the model catalog" + (f": did you mean `{suggestion}`?" if suggestion else "") + "\n\n"
            f"Tokens are an estimate with {a.tokenizer.encoding} and there is no price. "
            f"Add it under `[models.\"{a.model}\"]` in promptwise.toml with its prices and context window."
        )
    out = [f"**{card.name}** · {card.provider or 'unknown provider'} · {card.mode}", ""]
    out += ["| per million tokens | price | price map field |", "|---|---:|---|"]
    # Config overrides keep their list prices on the card itself, not among the map's fields.
    on_card = {
        "input_cost_per_token": card.input_cost_per_token,
        "output_cost_per_token": card.output_cost_per_token,
        "cache_read_input_token_cost": card.cache_read_cost_per_token,
    }
    for name, field in _LIST_PRICES:
        value = card.prices.get(field, on_card.get(field))
        if value is not None or name in ("input", "output"):
            out.append(f"| {name} | {labels.unit_per_million(value)} | `{field}` |")
    out.append("")
    facts = []
    if card.context_window:
        facts.append(f"context window {card.context_window:,} tokens")
    if card.max_output_tokens:
        facts.append(f"max output {card.max_output_tokens:,}")
    if facts:
        out.append(("; ".join(facts)).capitalize())
    out.append(f"\nCapabilities: {', '.join(sorted(card.supports)) or 'none listed'}")
    deprecation = labels.deprecation_line(card)
    if deprecation:
        out.append(f"\n{deprecation}")
    out.append(f"\nTokenizer: {labels.accuracy(a)}")
    section = labels.cost_section(a)
    if a.estimate is not None and a.estimate.per_call is not None:
        reasoning = f" + {a.reasoning.tokens:,} reasoning" if a.reasoning.tokens else ""
        section[0] = f"This file: {a.prompt_tokens:,} input + {a.estimate.output_tokens:,} output tokens{reasoning} = {section[0]}"
    if vs_head:  # right below the file's cost, which it qualifies
        section[1:1] = ["", vs_head]
    out += ["", *section]
    context = labels.context_line(a)
    if context:
        out.append(f"\n{context}")
    if a.on_use_tokens:
        out.append(f"\n{_on_use_line(a)}")
    out.append(f"\n*Price from {card.source}*")
    return "\n".join(out)


# The list prices a model card shows, as the price map names them.
_LIST_PRICES = (
    ("input", "input_cost_per_token"),
    ("cached input", "cache_read_input_token_cost"),
    ("cache write", "cache_creation_input_token_cost"),
    ("output", "output_cost_per_token"),
    ("reasoning", "output_cost_per_reasoning_token"),
)


def model_comparison(snap: Snapshot) -> str:
    """The cheaper models the code actions offer, as a table with the last eval pass rates, or why there are none."""
    try:
        s = code_actions.suggestions_for(snap)
    except Exception:  # the card is still worth showing
        return ""
    if s is None:
        return ""
    if not s.candidates:
        return f"\n\n**Cheaper models**: {_cell(s.reason)}" if s.reason else ""
    from ..fixes.edits import money  # the wording of the "Switch to ..." titles

    out = ["", "", "**Cheaper models**", "", "| model | per call | priced | context | capabilities | last evals |", "|---|---:|---|---:|---|---:|"]
    for row, candidate in zip(s.comparison(), [None, *s.candidates] if s.card is not None else s.candidates):
        cost = row["cost_per_call"]
        price = "n/a" if cost is None else money(cost)
        if candidate is not None:
            price += f" (-{round(candidate.saving_share * 100)}%)"
        name = f"`{_cell(row['model'])}`" + (" (current)" if row["current"] else "")
        window = labels.compact(row["context_window"]) if row["context_window"] else "n/a"
        supports = ", ".join(_CAPABILITY_WORDS.get(c, c) for c in row["supports"]) or "none"
        rate = row["pass_rate"]
        evals = "not run" if rate is None else f"{rate[0]}/{rate[1]}" + (", fewer" if candidate is not None and candidate.fewer_passes else "")
        basis = _cell(row.get("basis") or "")  # what the figure rests on: warm or cold, the reasoning and its source
        out.append(f"| {name} | {price} | {basis} | {window} | {supports} | {evals} |")
    out += ["", _cell(s.reason)]
    return "\n".join(out)


_CAPABILITY_WORDS = {"tools": "tools", "vision": "vision", "json": "JSON schema", "reasoning": "reasoning"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def message_card(count: MessageCount, a: Analysis, config: LoadedConfig) -> str:
    message = count.message
    included = sum(ic.tokens for ic in count.includes)
    title = f"**{message.role} message**" + (f" ({message.name})" if message.name else "")
    share = f" ({labels.share(count.tokens / a.prompt_tokens)} of this file's {a.prompt_tokens:,})" if a.prompt_tokens and not message.on_use else ""
    if message.on_use:
        share = " (sent only when it is used, not on every call)"
    out = [f"{title} · {labels.tokens(count.tokens, a.exact)}{share}", "", "| part | tokens |", "|---|---:|"]
    out.append(f"| text | {max(0, count.content_tokens - included):,} |")
    for ic in count.includes:
        out.append(f"| include `{ic.include.target}` | {ic.tokens:,} |")
    out.append(f"| message framing | {count.framing_tokens:,} |")
    if count.image_tokens:
        out.append(f"| images | {count.image_tokens:,} |")
    if not a.tokenizer.framing.published:
        out += ["", f"Message framing: {a.tokenizer.framing.rule}"]
    if message.variables:
        out.append("")
        out.append("Variables, rendered with:")
        seen = set()
        for var in message.variables:
            if var.name in seen:
                continue
            seen.add(var.name)
            out.append(f"- {_variable_line(var, a)}")
    costs = _costs(count.tokens, a, config)
    if costs:
        out.append("")
        out.append(("Input cost of this message each time it is used: " if message.on_use else "Input cost of this message per call: ") + " · ".join(costs))
        out.append("\nAt each model's uncached list input price (`input_cost_per_token`); `≈`: counted with another tokenizer")
    if a.on_use_tokens:
        out.append(f"\n{_on_use_line(a)}")
    if not a.exact:
        out.append(f"\n{labels.estimate_note(a)}")
    return "\n".join(out)


def _on_use_line(a: Analysis) -> str:
    return f"On use: {labels.tokens(a.on_use_tokens, a.exact)} more when the agent uses it (not in the {a.prompt_tokens:,} per call)"


def include_card(ic: IncludeCount, a: Analysis) -> str:
    inc = ic.include
    if inc.error:
        return f"**{inc.target}**: {inc.error}; nothing is counted for it"
    out = [f"**{inc.target}** brings in {labels.tokens(ic.tokens, a.exact)}"]
    if inc.path:
        out.append(f"\nfrom `{inc.path}`")
    cost = a.cost_of(ic.tokens)
    if cost is not None:
        out.append(f"\n{labels.money(cost)} of input per call on `{labels.model_name(a)}` {labels.input_price_words(a)}")
    return "\n".join(out)


def variable_card(var: Variable, a: Analysis) -> str:
    return f"**`{{{{{var.name}}}}}`**\n\n{_variable_line(var, a)}"


def _variable_line(var: Variable, a: Analysis) -> str:
    if not var.defined:
        return f"`{var.name}` has no sample value: it renders empty, as at run time, so what the caller passes is not counted"
    value = _render_value(var.value)
    shown = value if len(value) <= 80 else value[:77] + "..."
    shown = shown.replace("`", "'").replace("\n", " ")
    return f"`{var.name}` = `{shown}` ({var.source}, {labels.tokens(a.tokenizer.count(value), a.exact)})"


def _render_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    import json

    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _costs(tokens: int, a: Analysis, config: LoadedConfig) -> list[str]:
    """The message's input cost on the file's model, then on a few others at the same count."""
    out = []
    if a.card is not None and a.card.priced:
        out.append(f"{labels.money(a.cost_of(tokens))} on `{a.card.name}`")
    catalog = catalog_for(config)
    allowed = config.settings.allowed_providers
    current = a.card.name if a.card else a.model
    for name in ALTERNATIVES:
        card: ModelCard | None = catalog.resolve(name)
        if card is None or not card.priced or card.name == current:
            continue
        if allowed is not None and card.provider not in allowed:
            continue
        same = tokenizer_for(card.name, card.provider).encoding == a.tokenizer.encoding
        out.append(f"{'' if same else '≈'}{labels.money(card.cost(tokens, 0))} on `{card.name}`")
        if len(out) >= 4:
            break
    return out
