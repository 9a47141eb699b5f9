"""Rendering a suite's prompt for one case: the call parameters the prompt sets, and the messages a case sends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..catalog import ModelCard
from ..formats import Format, PromptDocument, Severity, render_document
from .secrets import Secrets
from .suite import LoadedCase

if TYPE_CHECKING:
    from .runner import PreparedSuite


@dataclass
class Rendered:
    messages: list[dict[str, Any]]
    warnings: list[str]
    error: str | None = None


# Frontmatter parameter spellings (Prompty parameters/options, Dotprompt config) -> OpenAI chat parameters.
_PARAMS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "topP": "top_p",
    "max_tokens": "max_tokens",
    "max_completion_tokens": "max_completion_tokens",
    "maxOutputTokens": "max_tokens",
    "maxTokens": "max_tokens",
    "seed": "seed",
    "stop": "stop",
    "stopSequences": "stop",
    "frequency_penalty": "frequency_penalty",
    "frequencyPenalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "presencePenalty": "presence_penalty",
    "response_format": "response_format",
    "responseFormat": "response_format",
    "reasoning_effort": "reasoning_effort",
    "reasoningEffort": "reasoning_effort",
}


def prompt_params(doc: PromptDocument) -> dict[str, Any]:
    """The call parameters a prompt file sets for itself."""
    fm = doc.frontmatter
    sources: list[Any] = []
    if doc.format is Format.PROMPTY and isinstance(fm.get("model"), dict):
        sources = [fm["model"].get("parameters"), fm["model"].get("options")]
    elif doc.format is Format.DOTPROMPT:
        sources = [fm.get("config")]
    params: dict[str, Any] = {}
    for source in sources:
        if isinstance(source, dict):
            for key, value in source.items():
                name = _PARAMS.get(str(key))
                if name is not None and value is not None:
                    params[name] = value
    if doc.format is Format.DOTPROMPT and doc.uses_json_output and "response_format" not in params:
        params["response_format"] = {"type": "json_object"}
    return params


def render_case(prepared: "PreparedSuite", case: LoadedCase, secrets: Secrets) -> Rendered:
    assert prepared.doc is not None
    try:
        doc = render_document(prepared.doc, case.vars)
    except Exception as exc:  # a template can raise anything while rendering a case's values
        return Rendered([], [], secrets.scrub(f"the prompt could not be rendered with this case's vars: {exc}"))
    errors = [f for f in doc.problems if f.severity is Severity.ERROR]
    if errors:
        return Rendered([], [], secrets.scrub("the prompt could not be rendered: " + "; ".join(f.message for f in errors)))
    messages: list[dict[str, Any]] = []
    for m in doc.messages:
        if not m.content and not m.name:
            continue
        message: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.name:
            message["name"] = m.name
        messages.append(message)
    warnings = []
    for finding in doc.problems:
        # Reported only for names a rendered branch read, so each is a value this case sent empty.
        if finding.code == "undefined-variable":
            name = doc.text[finding.span.start : finding.span.end].strip("{}# ")
            if f"'{name}'" not in " ".join(warnings):
                warnings.append(f"variable '{name}' has no value in this case: it was sent empty, as the runtime renders it")
    if not messages:
        return Rendered([], warnings, "the prompt rendered to no messages")
    return Rendered(messages, warnings)


def reasoning_effort(params: dict[str, Any], doc: PromptDocument, card: ModelCard | None) -> str | None:
    """The reasoning effort a call on `card` runs at, named as the analysis names it (so its measured usage is
    found again): the effort sent (the prompt's or the suite's `reasoning_effort`), else the one the file
    declares for pricing, else the thinking budget's or the model's default; None when the model does not reason."""
    from ..pricing.reasoning import effort_for

    declared = declared_effort(params, doc)
    try:
        return effort_for(card, declared, doc.reasoning_budget, doc.uses_reasoning)[0]
    except Exception:  # the cost model's rules failing cost the label, not the run
        return declared


def declared_effort(params: dict[str, Any], doc: PromptDocument) -> str | None:
    """The effort the call sends (the prompt's or the suite's `reasoning_effort`), else the one the file declares."""
    for value in (params.get("reasoning_effort"), doc.reasoning_effort):
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    return None
