"""Other names for catalog models, and the did-you-mean for a name the catalog does not know.

Prompt files name models the way their tool shows them: Azure's model names (`gpt-35-turbo`), VS Code's
model picker (`Claude Sonnet 4`, `GPT-4.1`), an Azure deployment named after its model (`gpt4o-prod`).
A known alias resolves to the catalog's name; a deployment name only suggests one, since a deployment can
run any model.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING, Any, Iterable, get_args, get_origin

if TYPE_CHECKING:
    from . import Catalog

# Azure spells GPT-3.5 without its dot, in model names and most deployment names.
_AZURE_35 = re.compile(r"gpt-?35(?=-|$)", re.IGNORECASE)

# Claude models whose API name carries a date (the map lists no undated name for them).
_CLAUDE_DATED = {
    "claude-sonnet-4": ("claude-sonnet-4-20250514", "claude-sonnet-4-0"),
    "claude-opus-4": ("claude-opus-4-20250514", "claude-opus-4-0"),
    "claude-opus-4-1": ("claude-opus-4-1-20250805",),
    "claude-3-7-sonnet": ("claude-3-7-sonnet-latest", "claude-3-7-sonnet-20250219"),
    "claude-3-5-sonnet": ("claude-3-5-sonnet-latest", "claude-3-5-sonnet-20241022"),
    "claude-3-5-haiku": ("claude-3-5-haiku-latest", "claude-3-5-haiku-20241022"),
}
# VS Code's picker: "Claude Sonnet 4.5", "Claude Opus 4.1", "Claude Sonnet 3.7", also "Claude 3.5 Sonnet".
_CLAUDE_DISPLAY = re.compile(r"^claude[\s-]+(?:(sonnet|opus|haiku)[\s-]+(\d+)(?:[.-](\d+))?|(\d+)(?:[.-](\d+))?[\s-]+(sonnet|opus|haiku))$")
_DISPLAY_SUFFIX = re.compile(r"\s*\([^)]*\)\s*$")  # "GPT-4.1 (copilot)", "Gemini 3 Pro (Preview)"
# Names VS Code shows for models whose API name is not the display name with hyphens.
_PICKER = {
    "grok code fast 1": ("xai/grok-code-fast-1",),
}


def alias_targets(name: str) -> tuple[str, ...]:
    """The catalog names `name` stands for, most likely first; empty when it is no known alias."""
    raw = _DISPLAY_SUFFIX.sub("", name.strip()).lower()
    if raw in _PICKER:
        return _PICKER[raw]
    if _AZURE_35.search(raw):
        return (_AZURE_35.sub("gpt-3.5", raw),)
    m = _CLAUDE_DISPLAY.match(raw)
    if m is None:
        return ()
    family = m.group(1) or m.group(6)
    major = m.group(2) or m.group(4)
    minor = m.group(3) or m.group(5)
    if int(major) >= 4:  # claude-sonnet-4-5: the family first from Claude 4 on
        base = f"claude-{family}-{major}" + (f"-{minor}" if minor else "")
    else:  # claude-3-7-sonnet
        base = f"claude-{major}" + (f"-{minor}" if minor else "") + f"-{family}"
    return (base, *_CLAUDE_DATED.get(base, ()))


def canonical(name: str) -> str:
    """`name` with Azure's GPT-3.5 spelling made OpenAI's (`azure/gpt-35-turbo` -> `azure/gpt-3.5-turbo`):
    the tokenizer is chosen by the model's family, which the spelling must not hide."""
    return _AZURE_35.sub("gpt-3.5", name)


# Words a deployment name adds around the model's name: `gpt-4o-prod`, `my-gpt4o-deployment`.
_DEPLOYMENT_WORDS = re.compile(r"(?:^|[-_.])(?:deployment|deploy|prod|production|dev|test|staging|eastus\d*|westus\d*|swedencentral|default|my|\d{3,4})(?=$|[-_.])")
_GLUED = ((re.compile(r"gpt-?4o"), "gpt-4o"), (re.compile(r"gpt-?4\.?1(?=\b|-|_|$)"), "gpt-4.1"), (re.compile(r"gpt-?5"), "gpt-5"), (re.compile(r"gpt(?=\d)"), "gpt-"))


def deployment_guesses(name: str) -> list[str]:
    """Model names a deployment-style name is built around, longest first (`gpt4o-mini-prod` -> `gpt-4o-mini`)."""
    key = name.strip().lower().rsplit("/", 1)[-1]
    for pattern, spelled in _GLUED:
        key = pattern.sub(spelled, key, count=1)
    key = key.replace("_", "-")
    previous = None
    while previous != key:
        previous, key = key, _DEPLOYMENT_WORDS.sub("", key).strip("-.")
    return [key] if key and key != name.strip().lower() else []


def closest(word: str, choices: Iterable[str], cutoff: float = 0.8) -> str | None:
    """The choice closest to `word` by edit similarity, if one is close enough (a typo's correction)."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return found[0] if found else None


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """"; did you mean 'budgets'?" for a misspelt key, or "" when nothing is close."""
    found = closest(word, choices, cutoff)
    return f"; did you mean '{found}'?" if found else ""


def keys_at(model: Any, loc: list[str]) -> list[str]:
    """The keys the pydantic table at `loc` of `model` takes (`[]`: its own fields; `["evals"]`: those of
    its `evals` field's model; a dict of tables such as `models."name"` is stepped through), for did-you-mean."""
    skip_key = False
    for part in loc:
        if skip_key:  # a key of a dict of tables: its value's fields come next
            skip_key = False
            continue
        fields = getattr(model, "model_fields", None) if isinstance(model, type) else None
        field_info = fields.get(part) if isinstance(fields, dict) else None
        if field_info is None:
            return []
        annotation = field_info.annotation
        args = [a for a in get_args(annotation) if a is not type(None)]
        if get_origin(annotation) is dict:
            annotation, skip_key = args[-1], True
        elif len(args) == 1:
            annotation = args[0]  # Optional[X]
        model = annotation
    fields = getattr(model, "model_fields", None) if isinstance(model, type) else None
    return list(fields) if isinstance(fields, dict) else []


def suggest_model(model: str, catalog: "Catalog") -> str | None:
    """The catalog's name a user most likely meant by `model`, which the catalog does not know.

    A known alias whose model the map lacks is compared by its API name; a deployment-style name by the
    model name in it; then the name itself, a provider's own spelling first (gpt-4o-mini, not
    some-host/gpt-4o-mini), then any name.
    """
    key = model.strip().lower()
    names = catalog.names()
    bare_names = [n for n in names if "/" not in n]
    bare = _DISPLAY_SUFFIX.sub("", key).rsplit("/", 1)[-1].replace(" ", "-")
    tries: list[tuple[str, list[str]]] = []
    for guess in (*alias_targets(model), *deployment_guesses(model)):
        card = catalog.resolve(guess)
        if card is not None:
            return card.name
        tries.append((guess.rsplit("/", 1)[-1], bare_names))
    tries += [(bare, bare_names), (key, names)]
    for candidate, pool in tries:
        found = closest(candidate, pool)
        if found is not None:
            card = catalog.get(found)
            return card.name if card is not None else found
    return None
