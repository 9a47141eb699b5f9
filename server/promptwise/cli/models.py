"""`promptwise models`: the catalog, filtered by what a prompt needs."""

from __future__ import annotations

import argparse
import json
import sys

from ..catalog import CAPABILITIES, Catalog, ModelCard, today
from ..config import load_config
from ..analysis import catalog_for
from pathlib import Path
from . import failures, output

SUPPORTS = ("tools", "vision", "json", "reasoning")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="list models with prices per million tokens and context windows",
        description="List chat models from litellm's bundled price map and your config, cheapest first. "
        "'Blended' weighs input and output prices 3:1.",
    )
    p.add_argument("--fits", type=int, metavar="TOKENS", help="context window of at least TOKENS")
    p.add_argument("--supports", action="append", choices=sorted(CAPABILITIES), default=[], help="required capability (repeatable)")
    p.add_argument("--provider", action="append", default=[], help="only this provider (repeatable)")
    p.add_argument("--cheaper-than", metavar="MODEL", help="blended price below this model's")
    p.add_argument("--limit", type=int, default=0, help="show at most N models")
    p.add_argument(
        "--all",
        action="store_true",
        help="also list entries the map prices at $0 (adapters, local models, entries without a real price) and retired models",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    failures.add_debug_arguments(p)
    p.set_defaults(run=run)


def blended(card: ModelCard) -> float | None:
    if not card.priced:
        return None
    return (3 * card.input_cost_per_token + card.output_cost_per_token) / 4 * 1e6  # type: ignore[operator]


def cached_per_million(card: ModelCard) -> float | None:
    """The price of an input token read from the prompt cache (the map's cache_read_input_token_cost), per million."""
    price = card.prices.get("cache_read_input_token_cost", card.cache_read_cost_per_token)
    return None if price is None else price * 1e6


def select(catalog: Catalog, fits: int | None = None, supports: list[str] = (), providers: list[str] = (), cheaper_than: ModelCard | None = None) -> list[ModelCard]:
    ceiling = blended(cheaper_than) if cheaper_than else None
    found = []
    for card in catalog.chat_models():
        price = blended(card)
        if price is None:
            continue
        if fits and (card.context_window or 0) < fits:
            continue
        if any(cap not in card.supports for cap in supports):
            continue
        if providers and card.provider not in providers:
            continue
        if ceiling is not None and price >= ceiling:
            continue
        found.append(card)
    found.sort(key=lambda c: (blended(c), c.name))
    return found


def hidden_reason(card: ModelCard, source: str) -> str | None:
    """Why a bundled entry is left out of the default listing: a $0 price, or a retirement date gone by."""
    if card.source != source:
        return None  # a model the user's config adds or changes is always listed
    if not card.input_cost_per_token and not card.output_cost_per_token:
        return "priced at $0"
    if card.deprecation_date and card.deprecation_date[:10] < today().isoformat():
        return "retired"
    return None


def run(args: argparse.Namespace) -> int:
    catalog = catalog_for(load_config(Path.cwd()))
    reference = None
    if args.cheaper_than:
        reference = catalog.resolve(args.cheaper_than)
        if reference is None or not reference.priced:
            print(f"promptwise models: unknown or unpriced model '{args.cheaper_than}'", file=sys.stderr)
            return 2
    cards = select(catalog, args.fits, args.supports, args.provider, reference)
    hidden: dict[str, int] = {}
    if not args.all:
        bundled = Catalog.bundled().get("gpt-4o")
        source = bundled.source if bundled is not None else ""
        kept = []
        for card in cards:
            why = hidden_reason(card, source)
            if why is None:
                kept.append(card)
            else:
                hidden[why] = hidden.get(why, 0) + 1
        cards = kept
    if args.limit:
        cards = cards[: args.limit]
    if args.json:
        print(json.dumps([_to_json(c) for c in cards], indent=2))
        return 0
    rows = [
        [
            c.name,
            c.provider,
            output.per_million(c.input_per_million),
            output.per_million(cached_per_million(c)),
            output.per_million(c.output_per_million),
            output.tokens(c.context_window),
            output.tokens(c.max_output_tokens),
            ",".join(s for s in SUPPORTS if s in c.supports),
            c.deprecation_date or "-",
        ]
        for c in cards
    ]
    headers = ["model", "provider", "input $/M", "cached $/M", "output $/M", "context", "max output", "supports", "retires"]
    print(output.table(headers, rows, right=(2, 3, 4, 5, 6)))
    print(f"\n{len(cards)} model{'s' if len(cards) != 1 else ''}; prices from {cards[0].source if cards else 'the catalog'}")
    if hidden:
        left_out = ", ".join(f"{n:,} {why}" for why, n in sorted(hidden.items()))
        print(f"not listed: {left_out} (--all lists them)")
    return 0


def _to_json(c: ModelCard) -> dict:
    return {
        "model": c.name,
        "provider": c.provider,
        "input_cost_per_million": c.input_per_million,
        "cached_input_cost_per_million": cached_per_million(c),
        "output_cost_per_million": c.output_per_million,
        "context_window": c.context_window,
        "max_output_tokens": c.max_output_tokens,
        "supports": sorted(c.supports),
        "deprecation_date": c.deprecation_date,
        "source": c.source,
    }
