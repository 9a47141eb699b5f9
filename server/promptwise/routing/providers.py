"""Which providers suggestions may use: `allowed_providers` in config, else the current model's plus those with an API key."""

from __future__ import annotations

import os
from typing import Mapping

from ..config import LoadedConfig

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


def source_for(family: str, source: str) -> str:
    """Why `family` is allowed, out of the `allowed_providers` source line."""
    for part in source.split("; "):
        if part.startswith(family + ": "):
            return part[len(family) + 2 :]
    return source
