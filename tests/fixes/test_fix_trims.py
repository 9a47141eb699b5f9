"""Trim fixes: the exact text each one leaves, and savings that equal the change in the counts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from promptwise.analysis import Analysis, analyze_file, analyze_text
from promptwise.config import load_config
from promptwise.fixes import Fix, apply_edits, apply_safe_trims, trim_fixes
from promptwise.fixes.edits import saving_text

REFUND = """---
name: Refund Answers
description: Answers support agents' questions about the refund policy.
model: gpt-4o-mini
inputs:
  question:
    type: string
    sample: Can I return a desk I already assembled?
---
system:
You answer questions about Northwind Home's refund policy for the support team.
Quote the policy section you rely on and never promise amounts the orders service has not confirmed.

Refunds go back to the original payment method and take 5-10 business days to appear.

Assembled furniture can be returned within 30 days of delivery for a 15% restocking fee.

Refunds go back to the original payment method and take 5-10 business days to appear.

user:
{{question}}
"""

REFUND_DEDUPED = REFUND.replace(
    "restocking fee.\n\nRefunds go back to the original payment method and take 5-10 business days to appear.\n\nuser:",
    "restocking fee.\n\nuser:",
)


EXTRA_BLANKS = ("has not confirmed.\n\nRefunds", "has not confirmed.\n\n\n\nRefunds")


def by_kind(fixes: list[Fix], kind: str) -> list[Fix]:
    return [f for f in fixes if f.kind == kind]


def fixes_for(path: Path) -> tuple[Analysis, list[Fix]]:
    config = load_config(path)
    analysis = analyze_file(path, config)
    assert isinstance(analysis, Analysis)
    return analysis, trim_fixes(analysis, config)


def assert_savings_exact(path: Path, analysis: Analysis, fix: Fix) -> None:
    """The saving in the title is the difference between analyzing the text before and after the edit."""
    after = analyze_text(path, fix.apply(analysis.document.text), load_config(path))
    assert isinstance(after, Analysis)
    assert fix.tokens_saved == analysis.prompt_tokens - after.prompt_tokens
    assert fix.tokens_after == after.prompt_tokens
    cost = analysis.cost_per_call - after.cost_per_call
    assert fix.cost_saved == pytest.approx(cost, rel=0, abs=1e-15)
    assert f"({saving_text(fix.tokens_saved, cost)})" in fix.title


# ---- duplicated paragraphs ----


def test_duplicates_in_the_example_instructions_are_removed_keeping_the_first(examples):
    path = examples / ".github/instructions/onboarding.instructions.md"
    analysis, fixes = fixes_for(path)
    text = analysis.document.text
    [all_three] = by_kind(fixes, "remove-duplicates")
    assert all_three.title.startswith("Remove 3 duplicated paragraphs (-228 tokens, -$0.000034 per call)")
    heading = "## Before you open a pull request"
    # The heading whose whole section was the duplicates goes with them: no empty heading is left behind.
    assert all_three.apply(text) == text[: text.index(heading)].rstrip("\n") + "\n"
    assert all_three.safe and not all_three.needs_confirmation
    assert [f.code for f in all_three.findings] == ["duplicated-paragraph"] * 3
    singles = by_kind(fixes, "remove-duplicate")
    assert len(singles) == 3
    # Removing only the middle one joins its neighbours with one blank line.
    middle = singles[1]
    assert middle.title.startswith("Remove this duplicated paragraph, kept on line 25 (-72 tokens")
    repeated = (
        "We use Conventional Commits with the service or package as the scope, for example\n"
        "`fix(orders): round partial refunds to the minor unit`. Keep the subject under 72\n"
        "characters and write it in the imperative mood. Put the why in the body, and reference\n"
        "the ticket as `Refs: NW-1234` on the last line.\n\n"
    )
    at = text.rindex(repeated)
    assert middle.apply(text) == text[:at] + text[at + len(repeated) :]
    for fix in fixes:
        assert_savings_exact(path, analysis, fix)


def test_duplicate_paragraph_inside_a_message_is_removed_with_its_blank_line(project):
    path = project.write("refund.prompty", REFUND)
    analysis, fixes = fixes_for(path)
    [fix] = by_kind(fixes, "remove-duplicate")
    assert fix.apply(REFUND) == REFUND_DEDUPED
    assert fix.safe
    assert fix.span == next(f for f in analysis.findings if f.code == "duplicated-paragraph").span
    assert_savings_exact(path, analysis, fix)


def test_crlf_file_keeps_its_line_breaks(project):
    path = project.write("refund.prompty", REFUND, newline="\r\n")
    analysis, fixes = fixes_for(path)
    [fix] = by_kind(fixes, "remove-duplicate")
    assert fix.apply(analysis.document.text) == REFUND_DEDUPED.replace("\n", "\r\n")
    assert_savings_exact(path, analysis, fix)


def test_duplicate_at_the_end_is_removed_with_the_blank_lines_before_it(project):
    text = (
        "# Review checklist\n\n"
        "Check that every new endpoint has an authorization test and a rate limit entry.\n\n"
        "Check that migrations can run twice without failing and never lock a large table.\n\n"
        "Check that every new endpoint has an authorization test and a rate limit entry.\n"
    )
    path = project.write("AGENTS.md", text)
    analysis, fixes = fixes_for(path)
    [fix] = by_kind(fixes, "remove-duplicate")
    assert fix.apply(text) == (
        "# Review checklist\n\n"
        "Check that every new endpoint has an authorization test and a rate limit entry.\n\n"
        "Check that migrations can run twice without failing and never lock a large table.\n"
    )
    assert_savings_exact(path, analysis, fix)


def test_duplicate_from_another_message_is_offered_but_not_safe(project):
    text = REFUND.replace(
        "user:\n{{question}}\n",
        "user:\n\nRefunds go back to the original payment method and take 5-10 business days to appear.\n\n{{question}}\n",
    )
    text = text.replace(
        "restocking fee.\n\nRefunds go back to the original payment method and take 5-10 business days to appear.\n\nuser:",
        "restocking fee.\n\nuser:",
    )
    path = project.write("refund.prompty", text)
    analysis, fixes = fixes_for(path)
    [fix] = by_kind(fixes, "remove-duplicate")
    assert not fix.safe and fix.needs_confirmation
    assert fix.apply(text).endswith("restocking fee.\n\nuser:\n\n{{question}}\n")
    assert_savings_exact(path, analysis, fix)
    new_text, _after, applied = apply_safe_trims(analysis, load_config(path))
    assert new_text == text and applied == []


def test_duplicated_code_block_is_never_removed(project):
    block = "```bash\nmake services-up && make db-migrate && make seed && uv run pytest services/orders -q\n```\n"
    text = f"# Local setup\n\nStart the stack:\n\n{block}\nBefore you push, run the same again:\n\n{block}"
    path = project.write("CLAUDE.md", text)
    analysis, fixes = fixes_for(path)
    assert any(f.code == "duplicated-paragraph" for f in analysis.findings)
    assert by_kind(fixes, "remove-duplicate") == []


def test_a_removal_that_would_break_the_template_is_not_offered(project):
    paragraph = "Mention the 30-day return window and the 15% restocking fee for assembled items."
    text = REFUND.replace(
        "user:\n{{question}}\n",
        "user:\n{% if question %}\n\n" + paragraph + " {% endif %}\n\n{% if question %}\n\n" + paragraph + " {% endif %}\n\n{{question}}\n",
    )
    path = project.write("refund.prompty", text)
    analysis, fixes = fixes_for(path)
    dup = [f for f in analysis.findings if f.code == "duplicated-paragraph"]
    assert len(dup) == 2  # the refund line and the templated paragraph
    removals = by_kind(fixes, "remove-duplicate")
    assert len(removals) == 1
    assert "{% endif %}" not in text[removals[0].span.start : removals[0].span.end]


# ---- whitespace ----

INSTRUCTIONS_WS = (
    "---\n"
    'applyTo: "**/*.py"   \n'
    "---\n"
    "# Python style  \n"
    "\n"
    "Use type hints everywhere and `structlog` for logging.\t\n"
    "Ship address lines exactly as the customer typed them:  \n"
    "one line per field, no abbreviations.\n"
    "\n"
    "```python\n"
    "total = Money(cents=1999, currency='EUR')   \n"
    "```\n"
)


def test_trailing_whitespace_keeps_markdown_line_breaks_code_and_frontmatter(project):
    path = project.write(".github/instructions/python.instructions.md", INSTRUCTIONS_WS)
    analysis, fixes = fixes_for(path)
    [fix] = by_kind(fixes, "trailing-whitespace")
    assert fix.apply(INSTRUCTIONS_WS) == INSTRUCTIONS_WS.replace("# Python style  \n", "# Python style\n").replace(
        "for logging.\t\n", "for logging.\n"
    )
    assert fix.title.startswith("Remove trailing whitespace on 2 lines (")
    assert "1 Markdown line break kept" in fix.description
    assert fix.safe
    assert_savings_exact(path, analysis, fix)


def test_trailing_whitespace_in_a_prompty_body_is_all_removed(project):
    text = REFUND.replace("refund policy for the support team.\n", "refund policy for the support team.  \n").replace(
        "user:\n", "user:   \n"
    )
    path = project.write("refund.prompty", text)
    analysis, fixes = fixes_for(path)
    [fix] = by_kind(fixes, "trailing-whitespace")
    assert fix.apply(text) == REFUND
    assert_savings_exact(path, analysis, fix)


PLAIN_BLANKS = (
    "Classify the support ticket below into exactly one category.\n"
    "\n"
    "\n"
    "\n"
    "Categories: damage, return, billing, shipping, product_question, account, other.\n"
    "  \n"
    "\t\n"
    "\n"
    "Answer in this format:\n"
    "```\n"
    "category: <one word>\n"
    "\n"
    "\n"
    "\n"
    "reason: <one sentence>\n"
    "```\n"
    "\n"
    "\n"
)


def test_blank_line_runs_collapse_outside_code_blocks(project):
    path = project.write("prompts/classify.txt", PLAIN_BLANKS)
    analysis, fixes = fixes_for(path)
    [fix] = by_kind(fixes, "collapse-blank-lines")
    assert fix.apply(PLAIN_BLANKS) == (
        "Classify the support ticket below into exactly one category.\n"
        "\n"
        "Categories: damage, return, billing, shipping, product_question, account, other.\n"
        "\n"
        "Answer in this format:\n"
        "```\n"
        "category: <one word>\n"
        "\n"
        "\n"
        "\n"
        "reason: <one sentence>\n"
        "```\n"
        "\n"
    )
    assert fix.title.startswith("Collapse 3 runs of blank lines (")
    assert_savings_exact(path, analysis, fix)


def test_examples_have_nothing_unsafe_to_trim(examples):
    # The examples keep their whitespace tidy; the diff context lines in review.prompt's
    # frontmatter end in a space and must stay that way.
    analysis, fixes = fixes_for(examples / "dotprompt/review.prompt")
    assert by_kind(fixes, "trailing-whitespace") == []
    assert by_kind(fixes, "collapse-blank-lines") == []


# ---- includes ----


def test_claude_import_becomes_an_on_demand_reference(examples):
    path = examples / "CLAUDE.md"
    analysis, fixes = fixes_for(path)
    text = analysis.document.text
    shorten = by_kind(fixes, "shorten-include")
    assert [f.title.split(" (")[0] for f in shorten] == [
        "Read docs/architecture.md on demand instead of importing it",
        "Read docs/testing.md on demand instead of importing it",
    ]
    assert shorten[0].apply(text) == text.replace("\n@docs/architecture.md\n", "\n`docs/architecture.md`\n", 1)
    assert shorten[0].needs_confirmation and not shorten[0].safe
    assert "--- a/CLAUDE.md" in shorten[0].preview(text, "CLAUDE.md")
    for fix in fixes:
        assert_savings_exact(path, analysis, fix)


def test_linked_file_in_a_prompt_file_becomes_a_mention(examples):
    path = examples / ".github/prompts/release-notes.prompt.md"
    analysis, fixes = fixes_for(path)
    [fix] = by_kind(fixes, "shorten-include")
    text = analysis.document.text
    assert fix.apply(text) == text.replace(
        "[changelog conventions](../../docs/changelog.md)", "changelog conventions (`../../docs/changelog.md`)"
    )
    assert fix.title.startswith("Mention ../../docs/changelog.md instead of attaching it (-250 tokens")
    assert_savings_exact(path, analysis, fix)


def test_dotprompt_partial_is_inlined_as_an_excerpt(examples):
    path = examples / "dotprompt/review.prompt"
    analysis, fixes = fixes_for(path)
    [fix] = by_kind(fixes, "shorten-include")
    partial = (examples / "dotprompt/_style_rules.prompt").read_text(encoding="utf-8").splitlines()
    excerpt = "\n".join(partial[:8])
    assert excerpt.endswith("4. Quote identifiers in backticks, e.g. `build_invoice`, so they render as code.")
    text = analysis.document.text
    assert fix.apply(text) == text.replace(
        "{{> style_rules}}",
        "{{!-- promptwise: first 8 of 21 lines of _style_rules.prompt, inlined; the partial file is unchanged --}}\n" + excerpt,
    )
    assert fix.title.startswith("Inline the first 8 of 21 lines of partial style_rules (-")
    assert (examples / "dotprompt/_style_rules.prompt").read_text(encoding="utf-8").count("\n") == 21
    assert_savings_exact(path, analysis, fix)


def test_partial_is_commented_out_when_no_part_of_it_fits(project):
    policy = "\n".join(
        f"{i}. Escalate tickets about order NW-{200000 + i} to the billing queue with priority p2 when the refund is late."
        for i in range(1, 16)
    )
    project.write("support/_policy.prompt", policy + "\n")
    text = (
        "---\nmodel: openai/gpt-4o-mini\npromptwise:\n  budget: 10\n---\n"
        '{{role "system"}}\nYou triage refund tickets for Northwind Home.\n\n{{> policy}}\n\n'
        '{{role "user"}}\nWhere is my refund for order NW-204881?\n'
    )
    path = project.write("support/refunds.prompt", text)
    analysis, fixes = fixes_for(path)
    [fix] = by_kind(fixes, "shorten-include")
    assert fix.apply(text) == text.replace("{{> policy}}", "{{!-- {{> policy}} --}}")
    assert fix.title.startswith("Comment out partial policy (-")
    assert_savings_exact(path, analysis, fix)


# ---- trim to budget ----


def test_trim_to_budget_stops_once_the_prompt_fits(project):
    path = project.write("refund.prompty", REFUND.replace(*EXTRA_BLANKS))
    analysis, before = fixes_for(path)
    [dedupe] = by_kind(before, "remove-duplicate")
    deduped = analysis.prompt_tokens - dedupe.tokens_saved
    text = analysis.document.text.replace("model: gpt-4o-mini\n", f"model: gpt-4o-mini\npromptwise:\n  budget: {deduped}\n")
    path.write_text(text, encoding="utf-8")
    analysis, fixes = fixes_for(path)
    [fix] = by_kind(fixes, "trim-to-budget")
    saved = dedupe.title[dedupe.title.index("(") :]
    assert fix.title == f"Trim to budget: remove duplicated paragraphs {saved}; now {deduped} of {deduped}"
    assert fix.remaining == 0
    # The extra blank lines stay: the prompt already fits.
    assert fix.apply(text) == REFUND_DEDUPED.replace(*EXTRA_BLANKS).replace(
        "model: gpt-4o-mini\n", f"model: gpt-4o-mini\npromptwise:\n  budget: {deduped}\n"
    )
    assert [f.code for f in fix.findings] == ["over-budget"]
    assert_savings_exact(path, analysis, fix)


def test_trim_to_budget_says_how_much_remains(project):
    text = REFUND.replace("model: gpt-4o-mini\n", "model: gpt-4o-mini\npromptwise:\n  budget: 50\n").replace(*EXTRA_BLANKS)
    path = project.write("refund.prompty", text)
    analysis, fixes = fixes_for(path)
    [fix] = by_kind(fixes, "trim-to-budget")
    assert fix.apply(text) == REFUND_DEDUPED.replace("model: gpt-4o-mini\n", "model: gpt-4o-mini\npromptwise:\n  budget: 50\n")
    remaining = fix.tokens_after - 50
    assert remaining > 0 and fix.remaining == remaining
    assert re.fullmatch(
        r"Trim to budget: remove duplicated paragraphs, collapse blank lines \(-\d+ tokens, -\$\S+ per call\); "
        rf"still {remaining} over the budget of 50",
        fix.title,
    )
    assert_savings_exact(path, analysis, fix)


def test_no_trim_to_budget_without_a_budget_problem(examples):
    _analysis, fixes = fixes_for(examples / ".github/instructions/onboarding.instructions.md")
    assert by_kind(fixes, "trim-to-budget") == []


def test_the_over_budget_example_has_nothing_safe_to_trim_and_a_section_to_drop(examples):
    analysis, fixes = fixes_for(examples / "legal/contract-review.prompty")
    assert any(f.code == "over-budget" for f in analysis.findings)
    assert [f for f in fixes if f.safe] == []
    (drop,) = fixes
    assert drop.kind == "drop-section" and drop.needs_confirmation and drop.tokens_after <= analysis.budget
    assert_savings_exact(examples / "legal/contract-review.prompty", analysis, drop)


# ---- every fix, every example ----


@pytest.mark.parametrize(
    "name",
    [
        "AGENTS.md",
        "CLAUDE.md",
        ".cursorrules",
        ".github/copilot-instructions.md",
        ".github/instructions/onboarding.instructions.md",
        ".github/prompts/release-notes.prompt.md",
        "dotprompt/review.prompt",
        "i18n/greeter.prompt",
        "legal/contract-review.prompty",
        "prompts/extract-invoice.md",
        "support/summarize.prompty",
        "support/triage.prompty",
    ],
)
def test_every_fix_on_the_examples_saves_what_its_title_says(examples, name):
    path = examples / name
    analysis, fixes = fixes_for(path)
    for fix in fixes:
        assert fix.edits
        assert_savings_exact(path, analysis, fix)


def test_safe_trims_applied_in_order_add_up(project):
    text = REFUND.replace(*EXTRA_BLANKS).replace("refund policy for the support team.\n", "refund policy for the support team.   \n")
    path = project.write("refund.prompty", text)
    analysis, _ = fixes_for(path)
    new_text, after, applied = apply_safe_trims(analysis, load_config(path))
    assert [f.kind for f in applied] == ["remove-duplicates", "collapse-blank-lines", "trailing-whitespace"]
    assert new_text == REFUND_DEDUPED
    assert sum(f.tokens_saved for f in applied) == analysis.prompt_tokens - after.prompt_tokens


def test_edits_apply_against_the_original_text():
    from promptwise.fixes import TextEdit, diff_edits
    from promptwise.fixes.edits import OverlappingEdits
    from promptwise.text import Span

    text = "system:\nBe brief.  \n\n\n\nuser:\nHi\n"
    edits = [TextEdit(Span(17, 19), ""), TextEdit(Span(21, 23), "")]
    assert apply_edits(text, edits) == "system:\nBe brief.\n\nuser:\nHi\n"
    with pytest.raises(OverlappingEdits):
        apply_edits(text, [TextEdit(Span(0, 5), ""), TextEdit(Span(3, 8), "")])
    new = "system:\nBe brief and kind.\n\nuser:\nHello\n"
    assert apply_edits(text, diff_edits(text, new)) == new


def test_fixes_keep_pricing_with_the_model_given_on_the_command_line(examples):
    path = examples / ".github/instructions/onboarding.instructions.md"
    config = load_config(path)
    analysis = analyze_file(path, config, model="claude-haiku-4-5")
    assert isinstance(analysis, Analysis) and analysis.card.name == "claude-haiku-4-5"
    [fix] = by_kind(trim_fixes(analysis, config), "remove-duplicates")
    after = analyze_text(path, fix.apply(analysis.document.text), config, model="claude-haiku-4-5")
    assert fix.tokens_saved == analysis.prompt_tokens - after.prompt_tokens
    assert fix.cost_saved == analysis.cost_per_call - after.cost_per_call


_LINES = [
    "",
    "   ",
    "\t",
    "Refunds go back to the original payment method within 5-10 business days.",
    "Refunds go back to the original payment method within 5-10 business days.  ",
    "Never promise a delivery date; quote the carrier's estimate instead of guessing.",
    "```",
    "~~~",
    "    indented code line   ",
    "## Policies",
    "user:",
    "system:",
    "{{question}}",
    "café 🌸 さくら",
]


def test_any_mix_of_lines_gives_fixes_that_apply_and_save_what_they_say(tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    (tmp_path / "promptwise.toml").write_text("expected_output_tokens = 100\n", encoding="utf-8")
    frontmatter = "---\nmodel: gpt-4o-mini\ninputs:\n  question:\n    sample: Where is my desk?   \n---\n"

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        st.lists(st.sampled_from(_LINES), max_size=30),
        st.sampled_from(["\n", "\r\n"]),
        st.sampled_from(["x.prompty", "AGENTS.md"]),
        st.booleans(),
    )
    def check(lines, newline, name, final_newline):
        text = (frontmatter + newline.join(lines) + (newline if final_newline else "")).replace("\n", newline)
        text = text.replace("\r\r\n", "\r\n")
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8"))
        config = load_config(path)
        analysis = analyze_text(path, text, config)
        assert isinstance(analysis, Analysis)
        for fix in trim_fixes(analysis, config):
            new_text = fix.apply(text)
            assert new_text.startswith(text[: analysis.document.frontmatter_span.end])  # frontmatter untouched
            if fix.safe:
                assert ("\r\n" in new_text) == ("\r\n" in text) or not new_text.strip()
            after = analyze_text(path, new_text, config)
            assert fix.tokens_saved == analysis.prompt_tokens - after.prompt_tokens

    check()
