"""Where each eval call goes, and who decided: the user (user config, flags, editor user settings), never the repository.

A repository's `promptwise.toml`, suite `params` or prompt frontmatter may name models, prices and call
parameters, but not a host or the variable whose value is sent as the key: a repository that could
would receive the user's credentials. Calls go to each provider's own endpoint unless the user's own
configuration says otherwise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import urlsplit

from ..catalog import Catalog, ModelCard
from ..config import LoadedConfig
from ..config.user import UserConfig, load_user_config, user_config_path


@dataclass(frozen=True)
class Routing:
    """Destinations the user chose for this run outside any file: `eval --api-base/--api-key-env`, or the
    editor's user-scope settings. They apply to every model, like `[evals] api_base` in the user config."""

    api_base: str | None = None
    api_key_env: str | None = None
    source: str = "the command line"


@dataclass(frozen=True)
class Target:
    """Where a model named in a suite is called, and how it is priced."""

    label: str  # as the suite or CLI names it
    model: str  # as litellm calls it
    api_base: str | None = None
    api_key_env: str | None = None
    card: ModelCard | None = None
    source: str = "the provider's own endpoint"

    def api_key(self) -> str | None:
        if self.api_key_env:
            return os.environ.get(self.api_key_env)
        if self.api_base and self.model.startswith(("openai/", "litellm_proxy/")):
            env = "OPENAI_API_KEY" if self.model.startswith("openai/") else "LITELLM_PROXY_API_KEY"
            return os.environ.get(env) or "no-key"  # local servers often take any key, but the client needs one
        return None

    def missing_key(self) -> str | None:
        if self.api_key_env and not os.environ.get(self.api_key_env):
            return f"environment variable {self.api_key_env} (api_key_env for {self.label}) is not set"
        return None


def resolve_target(
    label: str,
    config: LoadedConfig,
    catalog: Catalog,
    routing: Routing | None = None,
    user: UserConfig | None = None,
) -> Target:
    """The destination of `label`: flags or editor settings, else the user config, else the provider's own
    endpoint. The repository's config only prices the model and names its provider."""
    user = user if user is not None else load_user_config().settings
    where = _user_config_name()
    card = catalog.resolve(label)
    spec = config.settings.models.get(label)
    own = user.models.get(label)
    if routing is not None and routing.api_base:
        # An OpenAI-compatible gateway such as a LiteLLM Proxy, for every model.
        return Target(label, f"litellm_proxy/{label}", routing.api_base, routing.api_key_env, card, routing.source)
    if own is not None and (own.api_base or own.litellm_model or own.api_key_env):
        key_env = own.api_key_env or (routing.api_key_env if routing else None)
        if own.litellm_model:
            model = own.litellm_model
        elif own.api_base:
            model = label if "/" in label else f"{(spec.provider if spec else None) or 'openai'}/{label}"
        else:
            model = _provider_model(label, card)
        return Target(label, model, own.api_base, key_env, card, f'{where} [models."{label}"]')
    if user.evals.api_base:
        key_env = (routing.api_key_env if routing else None) or user.evals.api_key_env
        return Target(label, f"litellm_proxy/{label}", user.evals.api_base, key_env, card, f"{where} [evals]")
    key_env = (routing.api_key_env if routing else None) or user.evals.api_key_env
    source = "the provider's own endpoint"
    if routing is not None and routing.api_key_env:
        source += f" (key variable from {routing.source})"
    elif user.evals.api_key_env:
        source += f" (key variable from {where} [evals])"
    return Target(label, _provider_model(label, card), None, key_env, card, source)


def _provider_model(label: str, card: ModelCard | None) -> str:
    if card is not None and card.source.startswith("litellm"):
        return card.name
    return label


def _user_config_name() -> str:
    path = str(user_config_path())
    home = os.path.expanduser("~")
    return "~" + path[len(home) :] if home and path.startswith(home + os.sep) else path


# ---- what the repository tried to decide ----

_ROUTING_KEYS = ("api_base", "api_key_env", "litellm_model")


def repository_routing(config: LoadedConfig) -> list[str]:
    """Warnings for routing a repository's config sets, which is ignored: one line each, naming the file."""
    if config.path is None:
        return []
    where = _user_config_name()
    found: list[str] = []
    settings = config.settings
    for key in ("api_base", "api_key_env"):
        value = getattr(settings.evals, key)
        if value:
            flag = "--api-base" if key == "api_base" else "--api-key-env"
            found.append(
                f"{config.path}: evals.{key} = {value!r} is ignored: a repository's config cannot choose where eval calls go "
                f"or which variable's key they carry; set it under [evals] in {where}, or pass {flag}"
            )
    for name, spec in settings.models.items():
        for key in _ROUTING_KEYS:
            value = getattr(spec, key)
            if value:
                found.append(
                    f'{config.path}: models."{name}".{key} = {value!r} is ignored: a repository\'s config cannot choose '
                    f'where eval calls go; set it under [models."{name}"] in {where}'
                )
    return found


# Call parameters a suite may set: they shape the answer, never where it comes from or which key is sent.
CALL_PARAMS = frozenset(
    {
        "temperature", "top_p", "top_k", "max_tokens", "max_completion_tokens", "seed", "stop",
        "frequency_penalty", "presence_penalty", "response_format", "reasoning_effort", "logit_bias",
        "logprobs", "top_logprobs", "tools", "tool_choice", "parallel_tool_calls", "user", "modalities",
        "prediction", "thinking", "verbosity", "service_tier", "web_search_options",
    }
)  # fmt: skip
_ROUTING_PARAM_WORDS = ("api", "base", "url", "key", "token", "header", "endpoint", "host", "secret", "credential",
                        "provider", "aws_", "azure", "vertex", "organization", "project", "region", "proxy")  # fmt: skip


def param_problem(name: str) -> str | None:
    """Why a suite's `params.NAME` is not sent, or None when it is."""
    if name in CALL_PARAMS:
        return None
    lowered = name.lower()
    if any(word in lowered for word in _ROUTING_PARAM_WORDS):
        return (
            f"params.{name} is ignored: a suite cannot choose where calls go or what credentials they carry; "
            f"set api_base/api_key_env in {_user_config_name()} or pass --api-base"
        )
    return f"params.{name} is not a call parameter promptwise sends; it is ignored (allowed: {', '.join(sorted(CALL_PARAMS))})"


def call_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k in CALL_PARAMS}


# ---- destinations, shown before a run ----

# Each provider's own endpoint, and the variables litellm reads to move it (the user's own environment).
_PROVIDER_HOSTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "openai": ("api.openai.com", ("OPENAI_BASE_URL", "OPENAI_API_BASE")),
    "text-completion-openai": ("api.openai.com", ("OPENAI_BASE_URL", "OPENAI_API_BASE")),
    "anthropic": ("api.anthropic.com", ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_BASE")),
    "gemini": ("generativelanguage.googleapis.com", ("GEMINI_API_BASE",)),
    "vertex_ai": ("REGION-aiplatform.googleapis.com", ()),
    "bedrock": ("bedrock-runtime.REGION.amazonaws.com", ("AWS_BEDROCK_RUNTIME_ENDPOINT",)),
    "azure": ("your Azure OpenAI resource", ("AZURE_API_BASE", "AZURE_OPENAI_ENDPOINT")),
    "mistral": ("api.mistral.ai", ("MISTRAL_API_BASE",)),
    "deepseek": ("api.deepseek.com", ("DEEPSEEK_API_BASE",)),
    "groq": ("api.groq.com", ("GROQ_API_BASE",)),
    "xai": ("api.x.ai", ("XAI_API_BASE",)),
    "cohere": ("api.cohere.com", ()),
    "cohere_chat": ("api.cohere.com", ()),
    "together_ai": ("api.together.xyz", ()),
    "fireworks_ai": ("api.fireworks.ai", ()),
    "openrouter": ("openrouter.ai", ("OPENROUTER_API_BASE",)),
    "perplexity": ("api.perplexity.ai", ()),
    "ollama": ("localhost:11434", ("OLLAMA_API_BASE",)),
    "ollama_chat": ("localhost:11434", ("OLLAMA_API_BASE",)),
}


@dataclass(frozen=True)
class Destination:
    """One model of a run and where its calls go; `key_env` names the variable sent, never its value."""

    model: str  # as the suite names it
    litellm_model: str
    host: str
    source: str  # who decided the host
    key_env: str | None = None
    role: str = "model"  # "model", "judge" or "embedding"

    def describe(self) -> str:
        key = f", key from ${self.key_env}" if self.key_env else ""
        role = "" if self.role == "model" else f" ({self.role})"
        return f"{self.model}{role} -> {self.host} [{self.source}{key}]"


def destination(target: Target, role: str = "model") -> Destination:
    if target.api_base:
        return Destination(target.label, target.model, _host(target.api_base), target.source, _sent_key(target), role)
    provider = _provider_of(target)
    if provider is None:
        return Destination(target.label, target.model, "the endpoint litellm picks for this name", target.source, target.api_key_env, role)
    host, variables = _PROVIDER_HOSTS.get(provider, (f"{provider}'s own endpoint", ()))
    source = target.source
    for name in variables:
        if os.environ.get(name):
            host, source = _host(os.environ[name]), f"${name} in your environment"
            break
    key_env = target.api_key_env or (f"{provider.upper()}_API_KEY" if provider in _PROVIDER_HOSTS else None)
    return Destination(target.label, target.model, host, source, key_env, role)


def destinations_of(targets: Iterable[tuple[Target, str]]) -> list[Destination]:
    seen: dict[tuple[str, str], Destination] = {}
    for target, role in targets:
        found = destination(target, role)
        seen.setdefault((found.model, found.role), found)
    return list(seen.values())


def _provider_of(target: Target) -> str | None:
    if "/" in target.model:
        return target.model.split("/", 1)[0]
    if target.card is not None and target.card.provider:
        return target.card.provider
    return None


def _sent_key(target: Target) -> str | None:
    if target.api_key_env:
        return target.api_key_env
    if target.model.startswith("openai/"):
        return "OPENAI_API_KEY" if os.environ.get("OPENAI_API_KEY") else None
    if target.model.startswith("litellm_proxy/"):
        return "LITELLM_PROXY_API_KEY" if os.environ.get("LITELLM_PROXY_API_KEY") else None
    return None


def _host(url: str) -> str:
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        host = parts.hostname or url
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return url
