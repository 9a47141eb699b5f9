"""Cheaper models to try a suite on, cheapest first (a small stand-in for the shared suggestion engine)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date

from ..analysis import Analysis, catalog_for
from ..catalog import ModelCard
from ..config import LoadedConfig

# Provider -> environment variables that hold its key, as litellm reads them.
_KEY_ENV = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "mistral": ("MISTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "xai": ("XAI_API_KEY",),
}
# Special-purpose variants and fine-tunes are not drop-in replacements for a chat prompt.
_NOT_A_CANDIDATE = re.compile(r"(^ft:|audio|realtime|search|transcribe|tts|image|embed|moderation|computer-use|codex|container)", re.I)


@dataclass
class Candidate:
    model: str
    card: ModelCard
    cost_per_call: float
    saving_per_call: float


def needed_capabilities(analysis: Analysis) -> set[str]:
    doc = analysis.document
    needs = set()
    if doc.tools or doc.tool_names:
        needs.add("tools")
    if doc.uses_json_output:
        needs.add("json")
    if any(m.images for m in doc.messages):
        needs.add("vision")
    if doc.uses_reasoning:
        needs.add("reasoning")
    return needs


def allowed_providers(analysis: Analysis, config: LoadedConfig) -> set[str]:
    if config.settings.allowed_providers is not None:
        return set(config.settings.allowed_providers)
    allowed = {analysis.card.provider} if analysis.card is not None else set()
    allowed |= {p for p, names in _KEY_ENV.items() if any(os.environ.get(n) for n in names)}
    return allowed


def candidate_models(analysis: Analysis, config: LoadedConfig, limit: int = 5) -> list[Candidate]:
    """Chat models cheaper per call than the analysed one that fit the prompt plus its reserved output, support
    the capabilities it uses, and come from an allowed provider; cheapest first, one per price point."""
    current = analysis.cost_per_call
    if current is None or analysis.card is None:
        return []
    needs = needed_capabilities(analysis)
    providers = allowed_providers(analysis, config)
    needed_window = analysis.prompt_tokens + analysis.expected_output_tokens
    today = date.today().isoformat()
    best: dict[tuple[str, float, float], Candidate] = {}
    for card in catalog_for(config).chat_models():
        if card.name == analysis.card.name or not card.priced or card.provider not in providers:
            continue
        if _NOT_A_CANDIDATE.search(card.name) or (card.deprecation_date and card.deprecation_date < today):
            continue
        if card.context_window is None or card.context_window < needed_window or not needs <= card.supports:
            continue
        cost = card.cost(analysis.prompt_tokens, analysis.expected_output_tokens)
        if cost is None or cost >= current:
            continue
        key = (card.provider, card.input_cost_per_token or 0.0, card.output_cost_per_token or 0.0)
        found = best.get(key)
        # Dated snapshots share their model's price: keep the shortest name.
        if found is None or len(card.name) < len(found.model):
            best[key] = Candidate(card.name, card, cost, current - cost)
    ordered = sorted(best.values(), key=lambda c: (c.cost_per_call, c.model))
    return ordered[: max(0, limit)]
