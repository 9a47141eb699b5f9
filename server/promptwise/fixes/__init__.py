"""Edits that trim context or switch models, each with the tokens and cost it saves per call."""

from .edits import TextEdit, apply_edits, diff_edits, unified_diff
from .safe_trims import apply_safe_trims, trim_fixes
from .trims import Fix

__all__ = ["Fix", "TextEdit", "apply_edits", "apply_safe_trims", "diff_edits", "trim_fixes", "unified_diff"]
