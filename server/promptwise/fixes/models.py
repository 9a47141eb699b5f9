"""Cheaper-model suggestions: candidates that fit the prompt and support what it uses, written in the file's syntax.

A candidate must
- be a chat model (litellm mode "chat") with a price, from an allowed provider: `allowed_providers`
  in config, or by default the current model's provider plus providers whose API key is set;
- not be deprecated (deprecation date before today), a fine-tune, a regional deployment, a
  special-purpose variant (audio, search, realtime, ...) or a duplicate of another entry: dated
  snapshots and `-latest` aliases of one model collapse to its canonical name;
- cost less per call, counting the prompt with the candidate's own tokenizer;
- hold the prompt plus the reserved output in its context window, and allow the file's max output;
- support what the prompt uses: tools -> function calling, images -> vision, an output schema or
  JSON mode -> response schema, reasoning settings -> reasoning;
- be writable in the file's own syntax (see `model_edits`), and resolve back to the same catalog
  entry once written: the price shown is the price promptwise computes after the switch.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

from ..analysis import Analysis, analyze, catalog_for
from ..catalog import Catalog, ModelCard
from ..catalog import today as catalog_today
from ..config import LoadedConfig
from ..formats import Format, PromptDocument, parse_document
from ..formats.instructions import instruction_kind
from ..text import Span
from ..tokens import tokenizer_for
from .edits import TextEdit, apply_edits, money

DEFAULT_LIMIT = 3
MIN_SAVING = 0.01  # below 1% a switch is not worth suggesting

CAPABILITY_NAMES = {
    "tools": "tools (function calling)",
    "vision": "vision (images)",
    "json": "response schema (JSON output)",
    "reasoning": "reasoning",
}

# Environment variables that hold a provider's API key, as litellm reads them.
KEY_ENV: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "mistral": ("MISTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "xai": ("XAI_API_KEY",),
    "azure": ("AZURE_API_KEY", "AZURE_OPENAI_API_KEY"),
    "openrouter": ("OPENROUTER_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"),
    "fireworks_ai": ("FIREWORKS_API_KEY", "FIREWORKS_AI_API_KEY"),
    "cohere": ("COHERE_API_KEY",),
    "perplexity": ("PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"),
    "cerebras": ("CEREBRAS_API_KEY",),
}
PROVIDER_ALIASES = {
    "google": "gemini",
    "googleai": "gemini",
    "google-genai": "gemini",
    "azure_openai": "azure",
    "vertexai": "vertex_ai",
    "together": "together_ai",
    "fireworks": "fireworks_ai",
    "bedrock_converse": "bedrock",
    "text-completion-openai": "openai",
}
# Genkit plugin prefixes for a Dotprompt `model:` when the file has none of its own for that provider.
DOTPROMPT_PREFIXES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "googleai",
    "vertex_ai": "vertexai",
    "mistral": "mistral",
    "groq": "groq",
    "deepseek": "deepseek",
    "xai": "xai",
    "ollama": "ollama",
}

_SPECIAL_PURPOSE = re.compile(
    r"audio|realtime|tts|transcri|speech|whisper|search|computer-use|deep-research|image|embed|guard|moderation|"
    r"lyria|robotics|codex|container|customtools|dall-e|sora|veo|imagen",
    re.IGNORECASE,
)
_REGION_SEGMENT = re.compile(r"^(?:us|eu|apac|global|global-standard|data-zone|jp|au|in|ca|uk|[a-z]{2}(?:-gov)?-[a-z]+-\d)$")
_REGION_DOTTED = re.compile(r"^(?:us|eu|apac|global|jp|au|in|ca|uk)\.")
_SNAPSHOT = re.compile(r"(?:-|@)(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|latest|preview-\d{2}-\d{2,4})$")


@dataclass
class Suggestion:
    """One cheaper model, priced for this prompt, with the edit that switches the file to it."""

    model: str  # as it would be written in the file
    card: ModelCard
    prompt_tokens: int
    exact: bool  # counted with the model's own exact tokenizer
    tokenizer: str
    cost_per_call: float
    current_cost: float
    title: str
    edits: list[TextEdit] = field(default_factory=list)
    edit_note: str | None = None  # why there is no edit, or what the edit assumes
    reasons: list[str] = field(default_factory=list)  # why it qualifies
    caveats: list[str] = field(default_factory=list)  # what to check before switching
    pass_rate: tuple[int, int] | None = None
    current_pass_rate: tuple[int, int] | None = None

    @property
    def saving(self) -> float:
        return self.current_cost - self.cost_per_call

    @property
    def saving_share(self) -> float:
        return self.saving / self.current_cost if self.current_cost else 0.0

    @property
    def fewer_passes(self) -> bool:
        """True when eval results show this model passing a smaller share of cases than the current one."""
        if self.pass_rate is None or self.current_pass_rate is None:
            return False
        return _rate(self.pass_rate) < _rate(self.current_pass_rate)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "catalog_model": self.card.name,
            "provider": self.card.provider,
            "title": self.title,
            "prompt_tokens": self.prompt_tokens,
            "exact": self.exact,
            "tokenizer": self.tokenizer,
            "cost_per_call": self.cost_per_call,
            "current_cost_per_call": self.current_cost,
            "saving_per_call": self.saving,
            "saving_per_1000_calls": self.saving * 1000,
            "saving_percent": round(self.saving_share * 100, 1),
            "context_window": self.card.context_window,
            "max_output_tokens": self.card.max_output_tokens,
            "supports": sorted(self.card.supports),
            "reasons": self.reasons,
            "caveats": self.caveats,
            "pass_rate": list(self.pass_rate) if self.pass_rate else None,
            "current_pass_rate": list(self.current_pass_rate) if self.current_pass_rate else None,
            "passes_fewer_eval_cases": self.fewer_passes,
            "edits": [{"start": e.span.start, "end": e.span.end, "new_text": e.new_text} for e in self.edits],
            "edit_note": self.edit_note,
        }


@dataclass
class Exclusion:
    model: str
    reason: str
    cost_per_call: float | None = None


@dataclass
class Suggestions:
    """The answer for one file: candidates, cheapest first, and why there are not more."""

    current: str
    card: ModelCard | None
    current_cost: float | None
    prompt_tokens: int
    reserved_output: int
    span: Span | None  # the model line, where the code actions and the hover belong
    candidates: list[Suggestion] = field(default_factory=list)
    reason: str = ""  # one paragraph for the hover: how these were chosen, or why there are none
    requirements: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    providers_source: str = ""
    excluded: list[Exclusion] = field(default_factory=list)  # cheaper models ruled out, and why
    skipped: dict[str, int] = field(default_factory=dict)  # catalog entries not considered, by reason
    current_pass_rate: tuple[int, int] | None = None

    def comparison(self) -> list[dict[str, Any]]:
        """Rows for the hover's table: the current model, then each candidate."""
        rows = []
        if self.card is not None:
            rows.append(
                {
                    "model": self.current,
                    "current": True,
                    "cost_per_call": self.current_cost,
                    "context_window": self.card.context_window,
                    "supports": sorted(s for s in self.card.supports if s in CAPABILITY_NAMES),
                    "pass_rate": self.current_pass_rate,
                }
            )
        for c in self.candidates:
            rows.append(
                {
                    "model": c.model,
                    "current": False,
                    "cost_per_call": c.cost_per_call,
                    "context_window": c.card.context_window,
                    "supports": sorted(s for s in c.card.supports if s in CAPABILITY_NAMES),
                    "pass_rate": c.pass_rate,
                }
            )
        return rows

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.current,
            "catalog_model": self.card.name if self.card else None,
            "cost_per_call": self.current_cost,
            "prompt_tokens": self.prompt_tokens,
            "reserved_output_tokens": self.reserved_output,
            "requirements": self.requirements,
            "providers": self.providers,
            "providers_source": self.providers_source,
            "current_pass_rate": list(self.current_pass_rate) if self.current_pass_rate else None,
            "reason": self.reason,
            "candidates": [c.to_json() for c in self.candidates],
            "excluded": [{"model": e.model, "reason": e.reason, "cost_per_call": e.cost_per_call} for e in self.excluded],
            "skipped": self.skipped,
        }


def _rate(result: tuple[int, int]) -> float:
    passed, total = result
    return passed / total if total else 0.0


# ---- providers ----


def provider_family(provider: str) -> str:
    """litellm splits some providers by API ("vertex_ai-anthropic_models"); suggestions treat them as one."""
    name = provider.lower()
    name = PROVIDER_ALIASES.get(name, name)
    return PROVIDER_ALIASES.get(name.split("-", 1)[0], name.split("-", 1)[0])


def allowed_providers(
    config: LoadedConfig, current_provider: str | None, environ: Mapping[str, str] | None = None
) -> tuple[list[str], str]:
    """Providers suggestions may use, and where that list came from."""
    if config.settings.allowed_providers is not None:
        where = f"allowed_providers in {config.path.name}" if config.path else "allowed_providers in settings"
        return sorted({provider_family(p) for p in config.settings.allowed_providers}), where
    environ = os.environ if environ is None else environ
    found: dict[str, str] = {}
    if current_provider:
        found[provider_family(current_provider)] = "the current model's provider"
    for provider, names in KEY_ENV.items():
        for name in names:
            if environ.get(name, "").strip() and provider not in found:
                found[provider] = f"{name} is set"
                break
    where = "; ".join(f"{p}: {why}" for p, why in found.items())
    return sorted(found), where


# ---- which catalog entries are distinct, current models ----


def _bare(card: ModelCard) -> str:
    """The model id without litellm's provider prefix: `gemini/gemini-2.5-flash` -> `gemini-2.5-flash`."""
    name = card.name
    if "/" in name:
        head, rest = name.split("/", 1)
        if provider_family(head) == provider_family(card.provider) or head.lower() == card.provider.lower():
            return rest
    return name


def _canonical_key(card: ModelCard) -> str:
    key = _bare(card).lower().replace(".", "-")
    for _ in range(2):
        key = _SNAPSHOT.sub("", key)
    return key


def _skip_reason(card: ModelCard, today: date) -> str | None:
    name = card.name
    if name.lower().startswith("ft:") or "/ft:" in name.lower():
        return "fine-tunes"
    parts = name.split("/")
    if any(_REGION_SEGMENT.match(p.lower()) for p in parts[1:-1]) or _REGION_DOTTED.match(parts[-1].lower()):
        return "regional deployments"
    if _SPECIAL_PURPOSE.search(name):
        return "special-purpose models"
    if card.deprecation_date:
        try:
            if date.fromisoformat(card.deprecation_date[:10]) < today:
                return "deprecated"
        except ValueError:
            pass
    return None


def _preference(card: ModelCard, key: str, current_family: str) -> tuple:
    bare = _bare(card).lower().replace(".", "-")
    return (
        provider_family(card.provider) != current_family,
        bare != key,  # the undated name first
        "latest" in bare,
        "/" in card.name,
        len(card.name),
        card.name,
    )


# ---- writing the model back ----


class Unwritable(Exception):
    """The file's syntax cannot name this model (e.g. a Prompty connection for another provider)."""


def _model_key(doc: PromptDocument) -> str | None:
    if doc.model_span is None:
        return None
    for key, found in doc.keys.items():
        if found.value_span == doc.model_span:
            return key
    return None


def _yaml_value(doc: PromptDocument, span: Span, value: str) -> str:
    raw = doc.text[span.start : span.end]
    if raw[:1] in ("'", '"') and raw[-1:] == raw[:1]:
        return raw[0] + value + raw[0]
    if re.search(r"[:#{}\[\],&*!|>'\"%@`]", value) or value != value.strip():
        return '"' + value.replace('"', '\\"') + '"'
    return value


def _styled(bare: str, current: str) -> str:
    """Follow the file's spelling: `GPT-4.1` -> `GPT-4.1-mini`, keep a `(copilot)` suffix."""
    value = bare
    if current[:4] == "GPT-" and value.lower().startswith("gpt-"):
        value = "GPT-" + value[4:]
    suffix = re.search(r"\s*\([^)]*\)\s*$", current)
    return value + (suffix.group().rstrip() if suffix else "")


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def model_edits(doc: PromptDocument, current: ModelCard, card: ModelCard) -> list[tuple[list[TextEdit], str, str | None]]:
    """Ways to write `card` into the file, most natural first: (edits, value written, note).

    - `promptwise.model` in the frontmatter: the catalog name.
    - Prompty: `model: NAME`, `model.id`, or v1 `model.configuration.azure_deployment` / `name` / `model`;
      only within the file's provider, since another provider needs another connection.
    - Dotprompt: `model: provider/model`, keeping the file's prefix for its provider (googleai/,
      vertexai/, openai/ ...) and using Genkit's plugin prefix for another.
    - Instruction files: frontmatter `model:` in the file's spelling; *.prompt.md and *.instructions.md
      get a `model:` line (or a frontmatter block) when they have none. Other files have no model setting.
    Raises Unwritable with the reason when the file cannot name the model.
    """
    key = _model_key(doc)
    bare = _bare(card)
    same_provider = provider_family(card.provider) == provider_family(current.provider)
    if key is not None:
        span = doc.model_span
        assert span is not None
        written = doc.text[span.start : span.end].strip("'\"")
        if key == "promptwise.model":
            values = [card.name, bare]
        elif doc.format is Format.PROMPTY:
            if not same_provider:
                raise Unwritable(f"another provider ({card.provider}) needs a new connection in the Prompty model section")
            values = [bare, card.name]
        elif doc.format is Format.DOTPROMPT:
            prefix = written.split("/", 1)[0] if "/" in written else None
            if same_provider and prefix:
                values = [f"{prefix}/{bare}"]
            elif same_provider:
                values = [bare, f"{DOTPROMPT_PREFIXES.get(provider_family(card.provider), '')}/{bare}".lstrip("/")]
            else:
                plugin = DOTPROMPT_PREFIXES.get(provider_family(card.provider))
                if plugin is None:
                    raise Unwritable(f"no Genkit plugin prefix is known for {card.provider}")
                values = [f"{plugin}/{bare}"]
        else:
            values = [_styled(bare, written), bare, card.name]
        note = None
        if key.endswith(("azure_deployment", "deployment")):
            note = f"assumes an Azure deployment named {bare}"
        out = []
        for value in dict.fromkeys(values):
            out.append(([TextEdit(span, _yaml_value(doc, span, value))], value, note))
        return out
    if doc.model is not None:
        raise Unwritable("the model is set in a way promptwise cannot rewrite")
    if doc.format is not Format.INSTRUCTIONS or instruction_kind(doc.path) != "vscode":
        raise Unwritable(
            f"{doc.path.name} has no model setting; it is priced with default_model from config, so change that "
            "or the model in your agent's settings"
        )
    if doc.frontmatter_span is not None and any(p.code == "invalid-frontmatter" for p in doc.problems):
        raise Unwritable("the frontmatter is not valid YAML")
    nl = _newline(doc.text)
    out = []
    for value in dict.fromkeys([bare, card.name]):
        line = f"model: {_yaml_value(doc, Span(0, 0), value)}"
        if doc.frontmatter_span is not None:
            end = doc.frontmatter_span.end
            closing_end = end - (2 if doc.text[:end].endswith("\r\n") else 1 if doc.text[:end].endswith("\n") else 0)
            closing_start = doc.text.rfind("\n", 0, closing_end) + 1
            edit = TextEdit.insert(closing_start, line + nl)
        else:
            edit = TextEdit.insert(0, f"---{nl}{line}{nl}---{nl}")
        out.append(([edit], value, None))
    return out


# ---- pricing a prompt on another model ----


class _Pricer:
    """Prompt tokens per tokenizer: candidates that share a tokenizer share a count."""

    def __init__(self, analysis: Analysis, config: LoadedConfig, catalog: Catalog) -> None:
        self.analysis = analysis
        self.config = config
        self.catalog = catalog
        self._counts: dict[Any, Analysis] = {}

    def analysis_for(self, card: ModelCard) -> Analysis:
        key = (card.tokenizer, None) if card.tokenizer else (None, tokenizer_for(card.name, card.provider))
        cached = self._counts.get(key)
        if cached is not None:
            return cached
        result = analyze(self.analysis.document, self.config, self.catalog, model=card.name)
        if result.card is not None and result.card.name == card.name:
            self._counts[key] = result
        return result


def _requirements(doc: PromptDocument) -> list[str]:
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

    `eval_results` maps a model (any spelling the catalog resolves) to (cases passed, cases run);
    candidates that pass a smaller share of cases than the current model are labelled so in their title.
    """
    catalog = catalog or catalog_for(config)
    today = today or catalog_today()
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
        requirements=_requirements(doc),
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

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    for card in catalog.cards.values():
        if card.mode != "chat":
            continue
        if provider_family(card.provider) not in providers:
            skip("other providers")
            continue
        if not card.priced or (card.input_cost_per_token == 0 and card.output_cost_per_token == 0):
            skip("no price (or listed as free)")  # a $0 entry is a free tier or an unknown price, not a saving
            continue
        why = _skip_reason(card, today)
        if why:
            skip(why)
            continue
        groups.setdefault(_canonical_key(card), []).append(card)
    current_key = _canonical_key(current)
    pool = []
    for key, members in groups.items():
        members.sort(key=lambda c: _preference(c, key, current_family))
        if len(members) > 1:
            skipped["snapshots and aliases"] = skipped.get("snapshots and aliases", 0) + len(members) - 1
        if key != current_key and members[0].name != current.name:
            pool.append(members[0])

    pricer = _Pricer(analysis, config, catalog)
    priced: list[tuple[float, ModelCard, Analysis]] = []
    for card in pool:
        result = pricer.analysis_for(card)
        cost = card.cost(result.prompt_tokens, result.expected_output_tokens)
        if cost is None or cost > current_cost * (1 - MIN_SAVING):
            skip("not cheaper")
            continue
        priced.append((cost, card, result))
    priced.sort(key=lambda item: (item[0], item[1].name))

    qualified: list[Suggestion] = []
    for cost, card, result in priced:
        problem = _unsuitable(card, result, out.requirements, doc)
        if problem:
            out.excluded.append(Exclusion(card.name, problem, cost))
            continue
        suggestion = _build(analysis, config, catalog, card, result, cost, source, current_family)
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
    out.reason = _explain(out, analysis)
    return out


def _unsuitable(card: ModelCard, result: Analysis, requirements: list[str], doc: PromptDocument) -> str | None:
    missing = [CAPABILITY_NAMES[r] for r in requirements if r not in card.supports]
    if missing:
        return "no " + " or ".join(missing)
    needed = result.prompt_tokens + result.expected_output_tokens
    if not card.context_window:
        return "context window unknown"
    if needed > card.context_window:
        return f"context window {card.context_window:,} < {needed:,} needed ({result.prompt_tokens:,} prompt + {result.expected_output_tokens:,} output)"
    if doc.max_output_tokens and card.max_output_tokens and card.max_output_tokens < doc.max_output_tokens:
        return f"max output {card.max_output_tokens:,} < the file's {doc.max_output_tokens:,}"
    return None


def _build(
    analysis: Analysis,
    config: LoadedConfig,
    catalog: Catalog,
    card: ModelCard,
    result: Analysis,
    cost: float,
    source: str,
    current_family: str,
) -> Suggestion | str:
    """The suggestion with an edit that round-trips to `card`, or why there is none."""
    doc = analysis.document
    assert analysis.card is not None and analysis.cost_per_call is not None
    edits: list[TextEdit] = []
    note = None
    written = card.name
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
    family = provider_family(card.provider)
    why_provider = "the current provider" if family == current_family else _source_for(family, source)
    window = card.context_window or 0
    needed = result.prompt_tokens + result.expected_output_tokens
    reasons = [
        f"{money(analysis.cost_per_call - cost)} less per call ({(analysis.cost_per_call - cost) / analysis.cost_per_call:.0%})",
        f"needs {needed:,} of its {window:,}-token context window",
    ]
    needs = _requirements(doc)
    if needs:
        reasons.append("supports " + ", ".join(CAPABILITY_NAMES[n] for n in needs))
    reasons.append(f"{card.provider}: {why_provider}")
    caveats = []
    if not result.exact:
        caveats.append(f"token count is an estimate ({result.tokenizer.encoding} tokenizer)")
    if "reasoning" in card.supports and (analysis.card is None or "reasoning" not in analysis.card.supports):
        caveats.append("reasoning model: hidden reasoning tokens are billed as output and are not in this price")
    if card.deprecation_date:
        caveats.append(f"to be deprecated on {card.deprecation_date}")
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
        edits=edits,
        edit_note=None if edits else note,
        reasons=reasons,
        caveats=caveats,
    )


def _source_for(family: str, source: str) -> str:
    for part in source.split("; "):
        if part.startswith(family + ": "):
            return part[len(family) + 2 :]
    return source


def _finish_title(s: Suggestion) -> None:
    percent = round(s.saving_share * 100)
    title = f"Switch to {s.model} (-{percent}% per call: {money(s.current_cost)} -> {money(s.cost_per_call)})"
    if s.pass_rate is not None:
        ours = f"{s.pass_rate[0]}/{s.pass_rate[1]}"
        theirs = f" vs {s.current_pass_rate[0]}/{s.current_pass_rate[1]}" if s.current_pass_rate else ""
        title += f"; evals {ours}{theirs}"
        if s.fewer_passes:
            title += ", passes fewer eval cases"
            s.caveats.insert(0, "passes fewer eval cases than the current model")
    s.title = title


def _category(reason: str) -> str:
    if reason.startswith("no "):
        return "lack " + reason[3:]
    if reason.startswith("context window"):
        return "have too small a context window"
    if reason.startswith("max output"):
        return "allow less output than the file asks for"
    if reason.startswith("cannot be written") or reason.startswith("no spelling"):
        return "cannot be written in this file"
    return reason


def _explain(out: Suggestions, analysis: Analysis) -> str:
    providers = ", ".join(out.providers) or "none"
    needs = ", ".join(CAPABILITY_NAMES[r] for r in out.requirements)
    fits = f"{out.prompt_tokens:,} prompt tokens + {out.reserved_output:,} reserved for output"
    if out.candidates:
        n = len(out.candidates)
        text = f"{n} cheaper model{'s' if n != 1 else ''} from {providers} fit{'s' if n == 1 else ''} this prompt ({fits})"
        if needs:
            text += f" and support{'s' if n == 1 else ''} {needs}"
        text += "; cheapest first. A lower price says nothing about quality"
        text += ": run the prompt's evals before switching." if out.current_pass_rate is None else "."
        return text
    if not out.excluded:
        return (
            f"no cheaper model from {providers} ({out.providers_source}): {analysis.model} is already the cheapest "
            "current chat model there; allow more providers with allowed_providers in config or an API key"
        )
    counts: dict[str, int] = {}
    for e in out.excluded:
        category = _category(e.reason)
        counts[category] = counts.get(category, 0) + 1
    detail = ", ".join(f"{n} {category}" for category, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    text = f"no cheaper model from {providers} fits this prompt ({fits}"
    text += f"; it needs {needs})" if needs else ")"
    n = len(out.excluded)
    return text + f": of {n} cheaper model{'s' if n != 1 else ''}, {detail}"
