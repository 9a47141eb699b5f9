"""The frontmatter keys promptwise reads, per format; the JSON Schemas in schemas/ come from these."""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..text import Span
from .document import PromptDocument, Severity


class _Open(BaseModel):
    # Prompt formats carry many keys promptwise does not read; those pass through untouched.
    # Each format's validator is built when a file of that format is first validated, not at import.
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


class PromptwiseSettings(BaseModel):
    """The `promptwise:` block a prompt file may carry to override its project settings."""

    model_config = ConfigDict(extra="forbid")

    model: Optional[str] = Field(None, description="Model to count and price this file with.")
    budget: Optional[int] = Field(None, ge=1, description="Maximum input tokens per call for this file.")
    expected_output_tokens: Optional[int] = Field(
        None, ge=0, description="Output tokens to reserve and price per call."
    )
    reasoning_effort: Optional[Literal["none", "minimal", "low", "medium", "high", "xhigh"]] = Field(
        None, description="Reasoning effort to price this file with; wins over the effort in the model's own settings."
    )
    reasoning_budget: Optional[int] = Field(None, ge=0, description="Thinking budget in tokens to price this file with.")
    service_tier: Optional[Literal["standard", "batch", "flex", "priority"]] = Field(
        None, description="Service tier whose prices apply (the price map's `_batches`, `_flex`, `_priority` fields)."
    )
    calls_per_day: Optional[float] = Field(None, ge=0, description="Calls per day, to project spend per month.")
    budget_usd: Optional[float] = Field(None, gt=0, description="Maximum cost per call in USD (warm when the prefix is cached).")
    budget_usd_per_month: Optional[float] = Field(
        None, gt=0, description="Maximum projected spend per month in USD (needs calls_per_day or [volumes])."
    )


class Tool(_Open):
    name: str
    description: Optional[str] = None
    kind: Optional[str] = None
    type: Optional[str] = None
    parameters: Optional[Union[dict[str, Any], list[Any]]] = None
    function: Optional[dict[str, Any]] = None


class PromptyModel(_Open):
    id: Optional[str] = Field(None, description="Model name (Prompty v2).")
    provider: Optional[str] = None
    api: Optional[str] = Field(None, description="`chat` or `completion` (Prompty v1).")
    apiType: Optional[str] = None
    configuration: Optional[dict[str, Any]] = Field(
        None, description="Connection (Prompty v1): `type`, `name`/`model`/`azure_deployment`."
    )
    connection: Optional[dict[str, Any]] = None
    parameters: Optional[dict[str, Any]] = Field(
        None,
        description="Request parameters (Prompty v1), e.g. max_tokens, reasoning_effort, thinking.budget_tokens, service_tier.",
    )
    options: Optional[dict[str, Any]] = Field(
        None,
        description="Request options (Prompty v2), e.g. maxOutputTokens, reasoningEffort; others under additionalProperties.",
    )


class PromptyFrontmatter(_Open):
    name: Optional[str] = None
    description: Optional[str] = None
    model: Optional[Union[str, PromptyModel]] = None
    inputs: Optional[Union[dict[str, Any], list[Any]]] = Field(
        None, description="Inputs with `default`, `sample` or `example` values used to render the template."
    )
    sample: Optional[Union[dict[str, Any], str]] = Field(None, description="Sample values (Prompty v1).")
    tools: Optional[list[Tool]] = None
    template: Optional[Union[str, dict[str, Any]]] = None
    promptwise: Optional[PromptwiseSettings] = None


class DotpromptInput(_Open):
    schema_: Optional[Any] = Field(None, alias="schema")
    default: Optional[dict[str, Any]] = None


class DotpromptOutput(_Open):
    format: Optional[str] = None
    schema_: Optional[Any] = Field(None, alias="schema")


class DotpromptFrontmatter(_Open):
    model: Optional[str] = Field(None, description="`provider/model`, e.g. `googleai/gemini-2.5-flash`.")
    config: Optional[dict[str, Any]] = Field(
        None, description="Generation config, e.g. maxOutputTokens, thinkingConfig.thinkingBudget, reasoningEffort."
    )
    input: Optional[DotpromptInput] = None
    output: Optional[DotpromptOutput] = None
    tools: Optional[list[str]] = Field(None, description="Names of tools defined in code.")
    promptwise: Optional[PromptwiseSettings] = None


class InstructionsFrontmatter(_Open):
    description: Optional[str] = None
    applyTo: Optional[str] = None
    model: Optional[str] = None
    mode: Optional[str] = None
    agent: Optional[str] = None
    tools: Optional[list[str]] = None
    promptwise: Optional[PromptwiseSettings] = None


FRONTMATTER_MODELS: dict[str, type[BaseModel]] = {
    "prompty": PromptyFrontmatter,
    "dotprompt": DotpromptFrontmatter,
    "instructions": InstructionsFrontmatter,
}


def validate_frontmatter(doc: PromptDocument, model: type[BaseModel]) -> Any:
    """Validate frontmatter; each error becomes a finding at its key. Returns the model or None."""
    try:
        return model.model_validate(doc.frontmatter)
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(p) for p in error["loc"] if not isinstance(p, int)]
            path = ".".join(loc)
            span = _closest_key(doc, loc)
            allowed = _allowed(error)
            if not allowed and error["type"] == "extra_forbidden":
                from .frontmatter import unknown_key_hint  # a misspelt key: the closest one its table takes

                allowed = unknown_key_hint(model, loc)
            doc.problem(
                "invalid-frontmatter",
                Severity.ERROR,
                f"frontmatter key '{path}': {error['msg']}{allowed}",
                span,
            )
        return None


def _closest_key(doc: PromptDocument, loc: list[str]) -> Span:
    for n in range(len(loc), 0, -1):
        key = doc.keys.get(".".join(loc[:n]))
        if key is not None:
            return key.span
    return doc.frontmatter_span or Span(0, 0)


def _allowed(error: dict[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return ""
    ctx = error.get("ctx") or {}
    if "expected" in ctx:
        return f" (allowed: {ctx['expected']})"
    return ""

