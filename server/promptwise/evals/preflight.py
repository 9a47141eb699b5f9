"""Checks before the first call of a run: model names litellm cannot route, keys that are not set, the spending limit.

Every model a run will call (judges and embedding models included) is checked once, so a typo or a
missing key is one message before any call instead of one error per case after retries. Messages
name environment variables, never their values.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable

from ..analysis import catalog_for, suggest_model
from .routing import Target
from .secrets import is_credential_name
from .spend import RunEstimate, about

# Providers whose credentials may come from outside the environment (a profile file, a cloud login, a
# role): a variable litellm does not find there is a warning, not a reason to refuse the run.
_OTHER_CREDENTIALS = frozenset(
    {"bedrock", "bedrock_converse", "sagemaker", "sagemaker_chat", "vertex_ai", "vertex_ai_beta", "azure", "azure_ai", "watsonx", "oci"}
)


@dataclass(frozen=True)
class Check:
    message: str
    fatal: bool  # the run is refused: no call is made


def check_models(prepared: Iterable[Any], estimate: RunEstimate) -> list[Check]:
    """Unknown model names (with the catalog's closest one) and missing keys, for the models with calls to make."""
    found: dict[str, Check] = {}
    for p in prepared:
        if not p.runnable:
            continue
        catalog = catalog_for(p.config)
        called = {(s.model, s.role) for s in estimate.parts if s.suite == p.display and s.calls}
        for model, role in called:
            target = p.target(model, catalog) if role != "model" else next((t for t in p.targets if t.label == model), None)
            if target is None or target.label in found:
                continue
            problem = _check(target, catalog, role)
            if problem is not None:
                found[target.label] = problem
    return sorted(found.values(), key=lambda c: (not c.fatal, c.message))


def _check(target: Target, catalog: Any, role: str) -> Check | None:
    what = f"{target.label}{'' if role == 'model' else f' ({role})'}"
    if target.api_key_env:
        problem = target.missing_key()
        if problem:
            return Check(f"{what}: {problem}; set it, or name another variable", True)
    if target.api_base:
        # A gateway or a local server: it decides which names exist, and may need no key.
        if target.card is None:
            hint = suggest_model(target.label, catalog)
            if hint:
                return Check(f"{what} is not in the model catalog (no price); did you mean {hint}? Calls go to {target.api_base}", False)
        return None
    litellm = _litellm()
    if litellm is None:
        return None
    try:
        _, provider, _, _ = litellm.get_llm_provider(target.model)
    except Exception:  # litellm raises for a name no provider serves
        hint = suggest_model(target.label, catalog)
        guess = f"did you mean {hint}? " if hint else ""
        return Check(
            f"unknown model '{target.label}': not in the model catalog, and litellm cannot tell which provider serves it; "
            f"{guess}(a model behind your own gateway needs an api_base in the user config, or --api-base)",
            True,
        )
    missing = _missing_key(litellm, target, what, provider)
    if missing is None and target.card is None:
        hint = suggest_model(target.label, catalog)
        if hint:
            return Check(f"{what} is not in the model catalog (no price); did you mean {hint}?", False)
    return missing


def _missing_key(litellm: Any, target: Target, what: str, provider: str) -> Check | None:
    if target.api_key_env:
        return None  # that variable is set (checked above) and is what is sent
    try:
        checked = litellm.validate_environment(model=target.model)
    except Exception:  # litellm cannot say: the call itself will
        return None
    if not isinstance(checked, dict) or checked.get("keys_in_environment", True):
        return None
    missing = [str(n) for n in checked.get("missing_keys") or [] if is_credential_name(str(n)) and not os.environ.get(str(n))]
    if not missing:
        return None  # a base URL or a region litellm would like: the provider's default may do
    names = " or ".join(missing) if provider == "gemini" else ", ".join(missing)
    if provider in _OTHER_CREDENTIALS:
        return Check(f"{what}: {names} {'is' if len(missing) == 1 else 'are'} not set; calls to {provider} fail unless its credentials come from elsewhere", False)
    return Check(
        f"{what} needs {names} ({provider}), which {'is' if len(missing) == 1 else 'are'} not set: set it before the run, "
        "or send the calls to a gateway (--api-base, or [evals] api_base in the user config)",
        True,
    )


def _litellm() -> Any:
    try:
        from .calls import load_litellm

        return load_litellm()
    except Exception:  # no litellm: the calls cannot be made either, and say so themselves
        return None


def over_limit(estimate: RunEstimate, limit: float | None, name: str) -> str | None:
    """Why a run is refused by the spending limit `limit` (named `name`), or None when it fits."""
    if limit is None:
        return None
    if estimate.unpriced and estimate.calls:
        return (
            f"{name} {about(limit)}: the run calls {', '.join(estimate.unpriced)}, which "
            f"{'has' if len(estimate.unpriced) == 1 else 'have'} no price, so its cost cannot be checked (estimate: {estimate.describe()}); "
            "price it in [models] of promptwise.toml, or raise the limit"
        )
    if estimate.cost > limit:
        return f"the run would cost ~{about(estimate.cost)}, above {name} {about(limit)} ({estimate.describe()}); no call was made"
    return None
