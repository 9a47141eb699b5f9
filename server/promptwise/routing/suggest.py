"""suggest_models: the cheaper models for one prompt, ranked by what a call to each would really cost."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any, Mapping

from ..analysis import Analysis, analyze, catalog_for
from ..analysis.costs import price
from ..catalog import Catalog, ModelCard
from ..catalog import today as catalog_today
from ..config import LoadedConfig
from ..fixes.edits import TextEdit, apply_edits, money
from ..fixes.model_edits import Unwritable, model_edits
from ..formats import PromptDocument, parse_document
from ..pricing.reasoning import NO_REASONING
from ..tokens import tokenizer_for
from .candidates import canonical_key, days_left, preference, retirement, retiring, skip_reason
from .providers import allowed_providers, provider_family, source_for
from .suggestions import CAPABILITY_NAMES, DEFAULT_LIMIT, Exclusion, Suggestion, Suggestions, basis

MIN_SAVING = 0.01  # below 1% a switch is not worth suggesting
TITLE_LENGTH = 80  # a code action title longer than this is cut in the editor's menu


class _Pricer:
    """Each candidate's full cost for this prompt; candidates that share a tokenizer share one count.

    The count (tokens per message, the stable prefix) depends on the tokenizer only; the price (caching
    rule, reasoning at the file's effort or the model's default, measured usage, tiers) on the model.
    """

    def __init__(self, analysis: Analysis, config: LoadedConfig, catalog: Catalog) -> None:
        self.analysis = analysis
        self.config = config
        self.catalog = catalog
        self._counts: dict[Any, Analysis] = {}

    def analysis_for(self, card: ModelCard) -> Analysis:
        key = (card.tokenizer, None) if card.tokenizer else (None, tokenizer_for(card.name, card.provider))
        counted = self._counts.get(key)
        if counted is not None and counted.estimate is not None:
            priced = dataclasses.replace(counted, model=card.name, card=card, findings=[], estimate=None, reasoning=NO_REASONING)
            price(priced, self.config, counted.estimate.prefix)
            return priced
        result = analyze(self.analysis.document, self.config, self.catalog, model=card.name, duplicates=False)
        if result.card is not None and result.card.name == card.name and result.estimate is not None:
            self._counts[key] = result
        return result


def requirements(doc: PromptDocument) -> list[str]:
    """What a candidate must support for this prompt, as keys of CAPABILITY_NAMES."""
    needs = []
    if doc.tools or doc.tool_names:
        needs.append("tools")
    if any(m.images for m in doc.messages):
        needs.append("vision")
    if doc.uses_json_output:
        needs.append("json")
    if doc.uses_reasoning:
        needs.append("reasoning")
    return needs


def _normalize_results(results: Mapping[str, tuple[int, int]] | None, catalog: Catalog) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for name, value in (results or {}).items():
        passed, total = int(value[0]), int(value[1])
        out[name.lower()] = (passed, total)
        card = catalog.resolve(name)
        if card is not None:
            out.setdefault(card.name.lower(), (passed, total))
    return out


def _lookup(results: dict[str, tuple[int, int]], *names: str | None) -> tuple[int, int] | None:
    for name in names:
        if name and name.lower() in results:
            return results[name.lower()]
    return None


def suggest_models(
    analysis: Analysis,
    config: LoadedConfig,
    catalog: Catalog | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    eval_results: Mapping[str, tuple[int, int]] | None = None,
    environ: Mapping[str, str] | None = None,
    today: date | None = None,
) -> Suggestions:
    """Up to `limit` cheaper models for this prompt, cheapest first, each with the edit that switches to it.

    Cheaper means the full cost per call of the cost model, for the current model and each candidate
    alike: warm when the provider caches the stable prefix, reasoning included (measured, configured or
    assumed at the file's effort, else the model's default). `eval_results` maps a model (any spelling
    the catalog resolves) to (cases passed, cases run); candidates that pass a smaller share of cases
    than the current model are labelled so in their title.
    """
    catalog = catalog or catalog_for(config)
    today = today or catalog_today()
    min_days = config.settings.suggest_min_days_left
    doc = analysis.document
    current = analysis.card
    results = _normalize_results(eval_results, catalog)
    out = Suggestions(
        current=analysis.model,
        card=current,
        current_cost=analysis.cost_per_call,
        prompt_tokens=analysis.prompt_tokens,
        reserved_output=analysis.expected_output_tokens,
        span=doc.model_span,
        current_basis=basis(analysis),
        requirements=requirements(doc),
    )
    if current is None:
        out.reason = f"unknown model '{analysis.model}': it is not in the catalog, so there is no price to compare against"
        return out
    out.current_pass_rate = _lookup(results, current.name, analysis.model)
    current_cost = analysis.cost_per_call
    if current_cost is None or not current.priced:
        out.reason = f"{analysis.model} has no price in the catalog, so cheaper models cannot be compared"
        return out
    current_family = provider_family(current.provider)
    providers, source = allowed_providers(config, current.provider, environ)
    out.providers, out.providers_source = providers, source

    # Distinct, current chat models from allowed providers.
    groups: dict[str, list[ModelCard]] = {}
    skipped: dict[str, int] = {}

    def skip(reason: str, n: int = 1) -> None:
        skipped[reason] = skipped.get(reason, 0) + n

    for card in catalog.cards.values():
        if card.mode != "chat":
            continue
        if provider_family(card.provider) not in providers:
            skip("other providers")
            continue
        if not card.priced or (card.input_cost_per_token == 0 and card.output_cost_per_token == 0):
            skip("no price (or listed as free)")  # a $0 entry is a free tier or an unknown price, not a saving
            continue
        why = skip_reason(card, today)
        if why:
            skip(why)
            continue
        groups.setdefault(canonical_key(card), []).append(card)
    current_key = canonical_key(current)
    pool = []
    for key, members in groups.items():
        members.sort(key=lambda c: preference(c, key, current_family, today, min_days))
        if len(members) > 1:
            skip("snapshots and aliases", len(members) - 1)
        if key != current_key and members[0].name != current.name:
            pool.append(members[0])

    pricer = _Pricer(analysis, config, catalog)
    priced: list[tuple[float, ModelCard, Analysis]] = []
    for card in pool:
        result = pricer.analysis_for(card)
        cost = result.cost_per_call
        if cost is None or cost > current_cost * (1 - MIN_SAVING):
            skip("not cheaper")
            continue
        priced.append((cost, card, result))
    priced.sort(key=lambda item: (item[0], item[1].name))

    qualified: list[Suggestion] = []
    for cost, card, result in priced:
        problem = _unsuitable(card, result, out.requirements, doc) or retiring(card, today, min_days)
        if problem:
            out.excluded.append(Exclusion(card.name, problem, cost))
            continue
        suggestion = _build(analysis, config, catalog, card, result, source, current_family, today)
        if isinstance(suggestion, str):
            out.excluded.append(Exclusion(card.name, suggestion, cost))
            continue
        suggestion.pass_rate = _lookup(results, card.name, suggestion.model)
        suggestion.current_pass_rate = out.current_pass_rate
        _finish_title(suggestion)
        qualified.append(suggestion)
        if len(qualified) >= limit:
            break
    out.candidates = qualified
    out.skipped = skipped
    out.reason = _explain(out, analysis, min_days)
    return out


def _unsuitable(card: ModelCard, result: Analysis, requirements: list[str], doc: PromptDocument) -> str | None:
    missing = [CAPABILITY_NAMES[r] for r in requirements if r not in card.supports]
    if missing:
        return "no " + " or ".join(missing)
    needed = result.context_needed
    reasoning = result.reasoning.tokens
    if not card.context_window:
        return "context window unknown"
    if needed > card.context_window:
        parts = f"{result.prompt_tokens:,} prompt + {result.expected_output_tokens:,} output"
        if reasoning:
            parts += f" + {reasoning:,} reasoning"
        return f"context window {card.context_window:,} < {needed:,} needed ({parts})"
    if doc.max_output_tokens and card.max_output_tokens and card.max_output_tokens < doc.max_output_tokens:
        return f"max output {card.max_output_tokens:,} < the file's {doc.max_output_tokens:,}"
    # Reasoning tokens count against the output limit: a model that cannot hold them cannot answer.
    thinking = max(reasoning, result.reasoning.budget or 0)
    if thinking and doc.max_output_tokens and thinking >= doc.max_output_tokens:
        return (
            f"its {thinking:,} reasoning tokens ({result.reasoning.kind}) leave no room for a reply in the file's max output "
            f"of {doc.max_output_tokens:,}"
        )
    output = result.expected_output_tokens + reasoning
    if reasoning and card.max_output_tokens and card.max_output_tokens < output:
        return (
            f"max output {card.max_output_tokens:,} < {output:,} needed ({result.expected_output_tokens:,} output + "
            f"{reasoning:,} reasoning, {result.reasoning.kind})"
        )
    return None


def _build(
    analysis: Analysis,
    config: LoadedConfig,
    catalog: Catalog,
    card: ModelCard,
    result: Analysis,
    source: str,
    current_family: str,
    today: date,
) -> Suggestion | str:
    """The suggestion with an edit that round-trips to `card`, or why there is none."""
    doc = analysis.document
    assert analysis.card is not None and analysis.cost_per_call is not None
    edits: list[TextEdit] = []
    note = None
    written = card.name
    cost = result.cost_per_call
    assert cost is not None
    try:
        options = model_edits(doc, analysis.card, card)
    except Unwritable as exc:
        options = []
        if doc.model is not None:
            return f"cannot be written in this file: {exc}"
        note = str(exc)
    if options:
        for option_edits, value, option_note in options:
            new_doc = parse_document(doc.path, apply_edits(doc.text, option_edits), doc.format, doc.max_bytes)
            after = analyze(new_doc, config, catalog)
            if after.card is not None and after.card.name == card.name and after.cost_per_call is not None:
                edits, written, note, result, cost = option_edits, value, option_note, after, after.cost_per_call
                break
        else:
            return "no spelling of it in this file resolves back to the same catalog entry"
    if cost > analysis.cost_per_call * (1 - MIN_SAVING):
        return "not cheaper once written in this file"  # the edit changed what the call costs (e.g. its effort)
    family = provider_family(card.provider)
    why_provider = "the current provider" if family == current_family else source_for(family, source)
    saving = analysis.cost_per_call - cost
    reasons = [
        f"{money(saving)} less per call ({saving / analysis.cost_per_call:.0%})",
        f"needs {result.context_needed:,} of its {card.context_window or 0:,}-token context window",
    ]
    needs = requirements(doc)
    if needs:
        reasons.append("supports " + ", ".join(CAPABILITY_NAMES[n] for n in needs))
    reasons.append(f"{card.provider}: {why_provider}")
    caveats = []
    if not result.exact:
        caveats.append(f"token count is an estimate ({result.tokenizer.encoding} tokenizer)")
    caveats += _reasoning_caveats(analysis, result)
    left = days_left(card, today)
    if left is not None:
        caveats.append(f"retires on {retirement(card).isoformat()} (in {left:,} days)")  # type: ignore[union-attr]
    if note and edits:
        caveats.append(note)
    return Suggestion(
        model=written,
        card=card,
        prompt_tokens=result.prompt_tokens,
        exact=result.exact,
        tokenizer=result.tokenizer.label,
        cost_per_call=cost,
        current_cost=analysis.cost_per_call,
        title="",
        basis=basis(result),
        reasoning_tokens=result.reasoning.tokens,
        edits=edits,
        edit_note=None if edits else note,
        reasons=reasons,
        caveats=caveats,
    )


def _reasoning_caveats(current: Analysis, candidate: Analysis) -> list[str]:
    mine, theirs = current.reasoning, candidate.reasoning
    if theirs.tokens and theirs.kind == "assumed":
        return [f"priced with {theirs.tokens:,} reasoning tokens a call, assumed ({theirs.source}): run the prompt's evals to measure them"]
    if mine.tokens and not theirs.tokens:
        return [f"does not reason, where {current.model} spends {mine.tokens:,} reasoning tokens a call ({mine.kind}): compare answers in evals"]
    return []


def _finish_title(s: Suggestion) -> None:
    percent = round(s.saving_share * 100)
    title = f"Switch to {s.model} (-{percent}% per call: {money(s.current_cost)} -> {money(s.cost_per_call)})"
    if len(title) > TITLE_LENGTH:
        title = f"Switch to {s.model} (-{percent}%: {money(s.current_cost)} -> {money(s.cost_per_call)})"
    if s.pass_rate is not None:
        ours = f"{s.pass_rate[0]}/{s.pass_rate[1]}"
        theirs = f" vs {s.current_pass_rate[0]}/{s.current_pass_rate[1]}" if s.current_pass_rate else ""
        title += f"; evals {ours}{theirs}"
        if s.fewer_passes:
            title += ", passes fewer eval cases"
            s.caveats.insert(0, "passes fewer eval cases than the current model")
    s.title = title


def _category(reason: str, min_days: int) -> str:
    if reason.startswith("no "):
        return "lack " + reason[3:]
    if reason.startswith("context window"):
        return "have too small a context window"
    if reason.startswith("max output"):
        return "allow less output than the file asks for" if "the file's" in reason else "cannot hold their reasoning in their max output"
    if reason.startswith("cannot be written") or reason.startswith("no spelling"):
        return "cannot be written in this file"
    if reason.startswith("its ") and "leave no room for a reply" in reason:
        return "would spend the file's max output on reasoning"
    if reason.startswith("retires on"):
        return f"retire within {min_days:,} days"
    return reason


def _explain(out: Suggestions, analysis: Analysis, min_days: int) -> str:
    providers = ", ".join(out.providers) or "none"
    needs = ", ".join(CAPABILITY_NAMES[r] for r in out.requirements)
    fits = f"{out.prompt_tokens:,} prompt tokens + {out.reserved_output:,} reserved for output"
    if out.candidates:
        n = len(out.candidates)
        text = f"{n} cheaper model{'s' if n != 1 else ''} from {providers} fit{'s' if n == 1 else ''} this prompt ({fits})"
        if needs:
            text += f" and support{'s' if n == 1 else ''} {needs}"
        text += "; cheapest first by the full cost per call (caching and reasoning included). A lower price says nothing about quality"
        text += ": run the prompt's evals before switching." if out.current_pass_rate is None else "."
        return text
    if not out.excluded:
        return (
            f"no cheaper model from {providers} ({out.providers_source}): {analysis.model} is already the cheapest "
            "current chat model there; allow more providers with allowed_providers in config or an API key"
        )
    counts: dict[str, int] = {}
    for e in out.excluded:
        category = _category(e.reason, min_days)
        counts[category] = counts.get(category, 0) + 1
    detail = ", ".join(f"{n} {category}" for category, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    text = f"no cheaper model from {providers} fits this prompt ({fits}"
    text += f"; it needs {needs})" if needs else ")"
    n = len(out.excluded)
    return text + f": of {n} cheaper model{'s' if n != 1 else ''}, {detail}"
