"""Commands: count the tokens of a selection, and the whole file's breakdown as data for the client to show."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

import attrs
from lsprotocol import types
from lsprotocol.converters import get_converter
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from ..formats import Severity
from ..text import Span
from . import labels
from .positions import offset_of

COUNT_TOKENS = "promptwise.countTokens"
SHOW_BREAKDOWN = "promptwise.showBreakdown"
COMMANDS = (COUNT_TOKENS, SHOW_BREAKDOWN)



@lru_cache(maxsize=1)
def _converter():  # built on first use: it costs ~50 ms, which server start-up should not pay
    return get_converter()


@attrs.define
class CountTokensArgs:
    """`{uri, range?}` or `[uri, range?]`; without a range, the whole file as sent to the model."""

    uri: str
    range: types.Range | None = None


@attrs.define
class BreakdownArgs:
    uri: str


def register(server: LanguageServer) -> None:
    server.command(COUNT_TOKENS)(count_tokens)
    server.command(SHOW_BREAKDOWN)(show_breakdown)


def parse_args(cls: type, args: tuple[Any, ...]) -> Any:
    """Command arguments as one object, or positionally in the class's field order."""
    try:
        if len(args) == 1 and isinstance(args[0], dict):
            return _converter().structure(args[0], cls)
        names = [f.name for f in attrs.fields(cls)]
        if not args or len(args) > len(names):
            raise ValueError(f"expected {', '.join(names)}")
        return _converter().structure(dict(zip(names, args)), cls)
    except Exception as exc:
        raise JsonRpcInvalidParams(f"{cls.__name__}: {exc}") from None


async def _snapshot(ls: LanguageServer, uri: str):
    snap = await ls.analysis(uri)  # type: ignore[attr-defined]
    if snap is None:
        raise JsonRpcInvalidParams(f"{uri} is not open in the editor")
    if snap.analysis is None:
        reason = "; ".join(p.message for p in snap.problems) or "it could not be analyzed"
        raise JsonRpcInvalidParams(f"{uri}: {reason}")
    return snap


async def count_tokens(ls: LanguageServer, *args: Any) -> dict[str, Any]:
    request: CountTokensArgs = parse_args(CountTokensArgs, args)
    snap = await _snapshot(ls, request.uri)
    a = snap.analysis
    if request.range is None:
        tokens = a.prompt_tokens
        characters = len(snap.text)
    else:
        start = offset_of(snap.lines, request.range.start)
        end = offset_of(snap.lines, request.range.end)
        span = Span(min(start, end), max(start, end))
        text = snap.text[span.start : span.end]
        tokens = a.tokenizer.count(text)
        characters = len(text)
    return {
        "tokens": tokens,
        "characters": characters,
        "model": labels.model_name(a),
        "tokenizer": a.tokenizer.encoding,
        "exact": a.tokenizer.exact if request.range is not None else a.exact,
        "cost": a.cost_of(tokens),
    }


async def show_breakdown(ls: LanguageServer, *args: Any) -> dict[str, Any]:
    request: BreakdownArgs = parse_args(BreakdownArgs, args)
    snap = await _snapshot(ls, request.uri)
    await ls.analyzer.run(snap.findings)  # type: ignore[attr-defined]
    from .review import head_change  # imports this module

    data = breakdown(snap)
    data["vsHead"] = await head_change(ls, snap)  # type: ignore[arg-type]
    return data


def breakdown(snap) -> dict[str, Any]:
    """Everything the file costs, part by part; lines are zero-based like LSP positions."""
    a = snap.analysis
    doc = a.document
    lines = snap.lines
    card = a.card
    total = a.prompt_tokens
    messages = []
    includes = []
    for count in a.messages:
        m = count.message
        anchor = m.header if len(m.header) else m.body
        incs = [
            {
                "target": ic.include.target,
                "path": str(ic.include.path) if ic.include.path else None,
                "tokens": ic.tokens,
                "line": lines.line_of(ic.include.span.start),
                "error": ic.include.error,
            }
            for ic in count.includes
        ]
        includes.extend(incs)
        messages.append(
            {
                "role": m.role,
                "name": m.name,
                "tokens": count.tokens,
                "contentTokens": count.content_tokens,
                "framingTokens": count.framing_tokens,
                "share": count.tokens / total if total else None,
                "line": lines.line_of(anchor.start),
                "includes": incs,
                "variables": [
                    {"name": v.name, "source": v.source, "line": lines.line_of(v.span.start)} for v in m.variables
                ],
            }
        )
    findings = snap.findings()
    return {
        "uri": snap.uri,
        "version": snap.version,
        "format": doc.format.value,
        "model": a.model,
        "catalogModel": card.name if card else None,
        "provider": card.provider if card else doc.provider,
        "tokenizer": a.tokenizer.encoding,
        "exact": a.exact,
        "estimate": None if a.exact else labels.estimate_note(a),
        "totals": {
            "promptTokens": total,
            "messageTokens": sum(c.tokens for c in a.messages),
            "toolsTokens": a.tools_tokens,
            "replyPriming": a.reply_priming,
            "expectedOutputTokens": a.expected_output_tokens,
        },
        "cost": _cost(a),
        "reasoning": _reasoning(a),
        "context": {
            "window": a.context_window,
            "needed": a.context_needed,  # input + output reserved + reasoning expected
            "share": a.context_share,
        },
        "budget": {"tokens": a.budget, "share": a.budget_share, "source": a.budget_source} if a.budget else None,
        "messages": messages,
        "includes": includes,
        "tools": {"tokens": a.tools_tokens, "count": len(doc.tools), "definedInCode": list(doc.tool_names)},
        "findings": {
            "errors": sum(1 for f in findings if f.severity is Severity.ERROR),
            "warnings": sum(1 for f in findings if f.severity is Severity.WARNING),
            "codes": sorted({f.code for f in findings}),
        },
        "document": {
            "characters": len(snap.text),
            "lines": lines.line_count,
            "sha256": hashlib.sha256(snap.text.encode("utf-8", "surrogatepass")).hexdigest(),
        },
    }


def _cost(a) -> dict[str, Any]:
    """Per call (warm when the provider caches the stable prefix), cold and warm, per 1,000 calls and per month."""
    card, est = a.card, a.estimate
    per_call = est.per_call if est else None
    return {
        "input": a.input_cost,
        "output": a.output_cost,
        "perCall": a.cost_per_call,
        "basis": ("warm" if est.cached else "cold") if est else None,
        "cold": est.cold.total if est and est.cold else None,
        "warm": est.warm.total if est and est.warm else None,
        "per1000": est.per_1000 if est else None,
        "perMonth": est.per_month if est else None,
        "callsPerDay": est.calls_per_day if est else None,
        "callsPerDaySource": est.volume_source if est else None,
        "outputTokens": est.output_tokens if est else a.expected_output_tokens,
        "outputSource": est.output_source if est else None,
        "caching": est.caching if est else None,
        "cachedTokens": est.cached_tokens if est else 0,
        "serviceTier": per_call.service_tier if per_call else None,
        "longContextAbove": per_call.long_context if per_call else None,
        "rough": labels.rough_note(a),
        "parts": per_call.to_json()["parts"] if per_call else [],
        "inputPerMillion": card.input_per_million if card else None,
        "outputPerMillion": card.output_per_million if card else None,
        "source": card.source if card else None,
    }


def _reasoning(a) -> dict[str, Any] | None:
    r = a.reasoning
    if r.effort is None:
        return None
    return {"effort": r.effort, "tokens": r.tokens, "kind": r.kind, "source": r.source, "effortSource": r.effort_source, "p95": r.p95}
