"""Writing a model name into a prompt file in the file's own syntax (which model to choose is `routing`'s)."""

from __future__ import annotations

import re

from ..catalog import ModelCard
from ..formats import Format, PromptDocument
from ..formats.instructions import instruction_kind
from ..text import Span
from .edits import TextEdit

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
    from ..routing.candidates import bare_name  # imported here: routing imports this module
    from ..routing.providers import provider_family

    key = _model_key(doc)
    bare = bare_name(card)
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


def correction_edit(doc: PromptDocument, suggestion: str) -> tuple[TextEdit, str, str | None]:
    """The edit that replaces a model name the catalog does not know with `suggestion` (its did-you-mean),
    in the file's own syntax: its quoting, its provider prefix (`openai/gpt-4o-mnii` -> `openai/gpt-4o-mini`)
    and its spelling (`GPT-4.1`, a `(copilot)` suffix). Returns (edit, value written, note).
    Raises Unwritable when the model is not written in the file as one value."""
    key = _model_key(doc)
    if key is None or doc.model_span is None:
        raise Unwritable("the model is not written in the file as one value")
    span = doc.model_span
    written = doc.text[span.start : span.end].strip("'\"")
    bare = suggestion.rsplit("/", 1)[-1]
    if key == "promptwise.model":
        value = suggestion  # promptwise's own key takes the catalog's name
    elif "/" in written:
        value = f"{written.rsplit('/', 1)[0]}/{bare}"  # the file's provider prefix stays
    elif doc.format is Format.INSTRUCTIONS:
        value = _styled(bare, written)
    else:
        value = bare
    note = f"assumes an Azure deployment named {value}" if key.endswith(("azure_deployment", "deployment")) else None
    return TextEdit(span, _yaml_value(doc, span, value)), value, note
