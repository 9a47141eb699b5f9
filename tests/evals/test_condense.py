"""Condense a section with a model (the fake server on loopback), measured, and checked by the prompt's suite."""

from __future__ import annotations

from pathlib import Path

from promptwise.config import load_config
from promptwise.evals.condense import INSTRUCTIONS, condense
from promptwise.evals.runner import RunOptions
from promptwise.text import Span
from tests.evals.conftest import run

VERBOSE = (
    "## Tone\n\n"
    "Please always make sure that you are being polite and courteous to the customer at all times, "
    "and please do remember that politeness really matters a great deal to us here at Northwind. "
    "When the ticket is about a late parcel, always mention the word shipping in your reply.\n"
)
PROMPT = (
    "---\nname: Triage\nmodel:\n  id: fake-gpt\n---\nsystem:\n# Triage\n\nYou triage tickets for Northwind.\n\n"
    + VERBOSE
    + "\nuser:\n{{ticket}}\n"
)
SUITE = """\
models: [fake-gpt]
cases:
  - name: late
    vars: {ticket: My parcel is late}
    assert: [{type: icontains, value: shipping}]
  - name: polite
    vars: {ticket: Hello}
    assert: [{type: icontains, value: thanks}]
"""


def _answer(body: dict) -> str:
    system = body["messages"][0]["content"]
    return "Thanks for writing." + (" It is a shipping delay." if "shipping" in system else "")


def _setup(project, condensed: str) -> Path:
    path = project.write("triage.prompty", PROMPT)
    project.suite(SUITE)
    project.server.reply(INSTRUCTIONS[:40], condensed)
    project.server.reply("You triage tickets", _answer)
    return path


def test_a_condensed_section_is_measured_and_evaluated_beside_the_original(project) -> None:
    path = _setup(project, "## Tone\n\nBe polite.")
    start = PROMPT.index("## Tone")
    span = Span(start, start + len(VERBOSE))
    result = run(condense(path, PROMPT, span, "Tone", load_config(path), options=RunOptions(use_cache=False)))
    assert result.usable, result.problems
    assert result.condensed == "## Tone\n\nBe polite.\n"  # the original's trailing line break kept
    assert result.new_text == PROMPT.replace(VERBOSE, "## Tone\n\nBe polite.\n")
    assert result.tokens_after < result.tokens_before and result.cost_saved and result.cost_saved > 0
    assert result.model == "fake-gpt" and result.call_cost is not None and result.call_cost > 0
    # The suite ran on both: the condensed prompt lost the shipping rule, and its pass rate says so.
    assert result.suite.endswith("triage.evals.yaml")
    assert (result.original_rate.passed, result.original_rate.total) == (2, 2)
    assert (result.condensed_rate.passed, result.condensed_rate.total) == (1, 2)
    summary = result.summary()
    assert 'Condensed "Tone" with fake-gpt' in summary and "condensed 1/2 cases pass, original 2/2 cases pass" in summary
    # Nothing was written: the file is as it was, and no run was saved as the file's results.
    assert path.read_text(encoding="utf-8") == PROMPT
    assert not (project.root / ".promptwise" / "runs").exists()
    condensing = [c for c in project.server.calls() if INSTRUCTIONS[:40] in str(c.body["messages"][0]["content"])]
    assert len(condensing) == 1 and condensing[0].body["messages"][1]["content"] == VERBOSE


def test_a_version_that_drops_a_placeholder_is_not_usable(project) -> None:
    text = PROMPT.replace("mention the word shipping", "mention {{carrier}} and the word shipping")
    path = _setup(project, "## Tone\n\nBe polite; mention shipping.")
    path.write_text(text, encoding="utf-8")
    start = text.index("## Tone")
    end = text.index("\nuser:")
    result = run(condense(path, text, Span(start, end), "Tone", load_config(path), options=RunOptions(use_cache=False)))
    assert not result.usable and result.problems == ["the model dropped {{carrier}}"]
    assert result.original_rate is None  # no eval run for a version that cannot be used


def test_a_version_that_is_not_shorter_is_not_usable(project) -> None:
    path = _setup(project, VERBOSE + "And more words on top of it all, to be sure.")
    start = PROMPT.index("## Tone")
    result = run(condense(path, PROMPT, Span(start, start + len(VERBOSE)), "Tone", load_config(path)))
    assert not result.usable and "not shorter" in result.problems[0]
