"""Short, human wording for numbers shown in the editor: token counts, prices, shares and sizes."""

from __future__ import annotations

import math

from ..analysis import Analysis
from ..catalog import ModelCard


def tokens(n: int, exact: bool = True) -> str:
    return f"{'' if exact else '~'}{n:,} token{'' if n == 1 else 's'}"


def money(value: float | None) -> str:
    """Two significant digits below a dollar ($0.00083, $0.014, $0.25), cents above ($1,234.50)."""
    if value is None:
        return "n/a"
    if value <= 0:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    decimals = max(2, 1 - math.floor(math.log10(value)))
    return f"${value:.{decimals}f}"


def per_million(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def share(value: float | None) -> str:
    if value is None:
        return "n/a"
    if 0 < value < 0.005:
        return "<1%"
    return f"{value:.0%}"


def compact(n: int) -> str:
    """128000 -> 128K, 1048576 -> 1M, 8192 -> 8K."""
    for unit, size in (("M", 1_000_000), ("K", 1_000)):
        if n >= size:
            value = n / size
            text = f"{value:.0f}" if value >= 100 or abs(value - round(value)) < 0.05 else f"{value:.1f}"
            return f"{text}{unit}"
    return str(n)


def estimate_note(analysis: Analysis) -> str:
    """Why a count is not exact: the analysis's reasons (the tokenizer, images, tools not in the file...)."""
    return f"estimate ({analysis.exact_reason or 'approximate counting'})"


def accuracy(analysis: Analysis) -> str:
    return f"exact ({analysis.tokenizer.encoding})" if analysis.exact else estimate_note(analysis)


def model_name(analysis: Analysis) -> str:
    card: ModelCard | None = analysis.card
    return card.name if card is not None else analysis.model
