"""How a call is billed: cost parts, prompt caching, reasoning and long-context tiers (prices stay in catalog/)."""

from .cost import PART_NAMES, CallCost, CostPart, Usage, price_usage
from .prices import SERVICE_TIERS, UnitPrice, long_context_thresholds, long_context_tier, unit_price

__all__ = [
    "PART_NAMES",
    "SERVICE_TIERS",
    "CallCost",
    "CostPart",
    "UnitPrice",
    "Usage",
    "long_context_thresholds",
    "long_context_tier",
    "price_usage",
    "unit_price",
]
