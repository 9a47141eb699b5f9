"""The safe trims applied one after another (what `check --fix` and "Apply all safe trims" do), "Trim to
budget" (the same, until the prompt fits), and every trim on offer for an analyzed document."""

from __future__ import annotations

from typing import Callable

from ..analysis import Analysis
from ..catalog import Catalog
from ..config import LoadedConfig
from ..text import Span
from .edits import diff_edits
from .markdown_trims import duplicate_items_fix, html_comments_fix
from .section_trims import drop_largest_section_fix, move_section_fixes, shorten_fixes
from .trims import Fix, _safe_duplicates_fix, _Session, blank_lines_fix, duplicate_fixes, include_fixes, trailing_whitespace_fix

_STEPS: tuple[Callable[[_Session], Fix | None], ...] = (
    _safe_duplicates_fix,
    html_comments_fix,
    duplicate_items_fix,
    blank_lines_fix,
    trailing_whitespace_fix,
)


def apply_safe_trims(
    analysis: Analysis,
    config: LoadedConfig,
    catalog: Catalog | None = None,
    stop_at: int | None = None,
) -> tuple[str, Analysis, list[Fix]]:
    """Apply the safe fixes one after another (duplicates, blank lines, trailing whitespace).

    Each returned fix is measured against the text the previous one left, so the savings add up.
    With `stop_at`, stop as soon as the prompt fits in that many tokens.
    """
    session = _Session(analysis, config, catalog)
    applied: list[Fix] = []
    for step in _STEPS:
        if stop_at is not None and session.analysis.prompt_tokens <= stop_at:
            break
        fix = step(session)
        if fix is None:
            continue
        applied.append(fix)
        session = _Session(fix.result or session.reanalyze(fix.apply(session.text)), config, session.catalog)
    return session.text, session.analysis, applied


_STEP_WORDS = {
    "remove-duplicates": "remove duplicated paragraphs",
    "remove-html-comments": "remove HTML comments",
    "remove-duplicate-items": "remove repeated list items",
    "collapse-blank-lines": "collapse blank lines",
    "trailing-whitespace": "remove trailing whitespace",
}


def trim_to_budget(s: _Session) -> Fix | None:
    analysis = s.analysis
    budget = analysis.budget
    if not budget or analysis.prompt_tokens <= budget:
        return None
    text, after, steps = apply_safe_trims(analysis, s.config, s.catalog, stop_at=budget)
    if not steps:
        return None
    remaining = max(0, after.prompt_tokens - budget)
    words = ", ".join(_STEP_WORDS[f.kind] for f in steps)
    if remaining:
        outcome = f"still {remaining:,} over the budget of {budget:,}"
    else:
        outcome = f"now {after.prompt_tokens:,} of {budget:,}"
    findings = [f for f in analysis.findings if f.code == "over-budget"]
    fix = s.measure(
        "trim-to-budget",
        diff_edits(s.text, text),
        lambda saved: f"Trim to budget: {words} ({saved}); {outcome}",
        Span(s.body_start, len(s.text)),
        findings,
        ("over-budget",),
        safe=True,
        description="Apply the safe trims in order until the prompt fits its budget"
        + (f"; {remaining:,} tokens remain over it: shorten includes or sections by hand." if remaining else "."),
    )
    if fix:
        fix.remaining = remaining
    return fix


def trim_fixes(analysis: Analysis, config: LoadedConfig, catalog: Catalog | None = None) -> list[Fix]:
    """Every trim fix for an analyzed document, for code actions: duplicates, whitespace, includes, trim to budget."""
    s = _Session(analysis, config, catalog)
    safe = (html_comments_fix(s), duplicate_items_fix(s), trailing_whitespace_fix(s), blank_lines_fix(s))
    fixes = duplicate_fixes(s) + [f for f in safe if f] + include_fixes(s)
    budget_fix = trim_to_budget(s)
    if budget_fix:
        fixes.append(budget_fix)
    # Changes to what the model reads, for confirmation.
    drop = drop_largest_section_fix(s)
    fixes += shorten_fixes(s) + move_section_fixes(s) + ([drop] if drop else [])
    return fixes
