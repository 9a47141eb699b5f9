"""Which catalog entries are distinct, current chat models worth pricing for a prompt.

Skipped before pricing: fine-tunes, regional deployments, special-purpose variants (audio, search,
realtime, ...), models past their deprecation date, and all but one of the dated snapshots and
`-latest` aliases of one model. Models retiring within `suggest_min_days_left` days are priced, and
ruled out with the date when they would have been cheaper (`retiring`).
"""

from __future__ import annotations

import re
from datetime import date

from ..catalog import ModelCard
from .providers import provider_family

_SPECIAL_PURPOSE = re.compile(
    r"audio|realtime|tts|transcri|speech|whisper|search|computer-use|deep-research|image|embed|guard|moderation|"
    r"lyria|robotics|codex|container|customtools|dall-e|sora|veo|imagen",
    re.IGNORECASE,
)
_REGION_SEGMENT = re.compile(r"^(?:us|eu|apac|global|global-standard|data-zone|jp|au|in|ca|uk|[a-z]{2}(?:-gov)?-[a-z]+-\d)$")
_REGION_DOTTED = re.compile(r"^(?:us|eu|apac|global|jp|au|in|ca|uk)\.")
_SNAPSHOT = re.compile(r"(?:-|@)(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|latest|preview-\d{2}-\d{2,4})$")


def bare_name(card: ModelCard) -> str:
    """The model id without litellm's provider prefix: `gemini/gemini-2.5-flash` -> `gemini-2.5-flash`."""
    name = card.name
    if "/" in name:
        head, rest = name.split("/", 1)
        if provider_family(head) == provider_family(card.provider) or head.lower() == card.provider.lower():
            return rest
    return name


def canonical_key(card: ModelCard) -> str:
    """One key for a model's snapshots and aliases: `gpt-4o-2024-08-06` and `gpt-4o-latest` -> `gpt-4o`."""
    key = bare_name(card).lower().replace(".", "-")
    for _ in range(2):
        key = _SNAPSHOT.sub("", key)
    return key


def retirement(card: ModelCard) -> date | None:
    if not card.deprecation_date:
        return None
    try:
        return date.fromisoformat(card.deprecation_date[:10])
    except ValueError:
        return None


def days_left(card: ModelCard, today: date) -> int | None:
    retires = retirement(card)
    return None if retires is None else (retires - today).days


def skip_reason(card: ModelCard, today: date) -> str | None:
    """Why a catalog entry is not a candidate at all, or None."""
    name = card.name
    if name.lower().startswith("ft:") or "/ft:" in name.lower():
        return "fine-tunes"
    parts = name.split("/")
    if any(_REGION_SEGMENT.match(p.lower()) for p in parts[1:-1]) or _REGION_DOTTED.match(parts[-1].lower()):
        return "regional deployments"
    if _SPECIAL_PURPOSE.search(name):
        return "special-purpose models"
    left = days_left(card, today)
    if left is not None and left < 0:
        return "deprecated"
    return None


def retiring(card: ModelCard, today: date, min_days: int) -> str | None:
    """`retires on 2026-12-11 (in 10 days)` when the model retires within `min_days` days: too soon to switch to."""
    left = days_left(card, today)
    if left is None or left < 0 or left >= min_days:
        return None
    when = "today" if left == 0 else f"in {left:,} day{'s' if left != 1 else ''}"
    return f"retires on {retirement(card).isoformat()} ({when})"  # type: ignore[union-attr]


def preference(card: ModelCard, key: str, current_family: str, today: date, min_days: int) -> tuple:
    """Which entry of one model to suggest: the current provider's, not retiring soon, the undated name."""
    bare = bare_name(card).lower().replace(".", "-")
    return (
        provider_family(card.provider) != current_family,
        retiring(card, today, min_days) is not None,  # a snapshot retiring soon must not hide its alias
        bare != key,  # the undated name first
        "latest" in bare,
        "/" in card.name,
        len(card.name),
        card.name,
    )
