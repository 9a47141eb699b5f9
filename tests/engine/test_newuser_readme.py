"""The README's findings table and CLI usage block cannot drift from the rule table and `--help`."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from promptwise.analysis.rules import RULES
from promptwise.cli.main import COMMANDS, build_parser

README = Path(__file__).resolve().parents[2] / "README.md"
# Described once in the prose under the usage block, for every command.
EVERY_COMMAND = {"-h", "--help", "--debug", "--debug-log"}


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def _usage_lines() -> dict[str, str]:
    usage = _section(README.read_text(encoding="utf-8"), "Usage")
    block = re.search(r"```sh\n(.*?)```", usage, re.DOTALL)
    assert block, "the Usage section starts with a ```sh block"
    lines = {}
    for line in block.group(1).splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "promptwise":
            lines[words[1]] = line
    return lines


def _options(command: str) -> tuple[set[str], list[str]]:
    """The subcommand's option strings, and its positional arguments' names."""
    parser = build_parser([command])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    options: set[str] = set()
    positionals: list[str] = []
    for action in sub.choices[command]._actions:
        if action.option_strings:
            options.update(s for s in action.option_strings if s.startswith("--") or len(action.option_strings) == 1)
        else:
            positionals.append(action.dest)
    return options - EVERY_COMMAND, positionals


def test_the_findings_table_lists_every_finding_code():
    table = _section(README.read_text(encoding="utf-8"), "Findings")
    listed = set(re.findall(r"^\|([^|]+)\|", table, re.MULTILINE))
    codes = {code for cell in listed for code in re.findall(r"`([a-z0-9-]+)`", cell)}
    assert sorted(set(RULES) - codes) == [], "finding codes missing from the README's Findings table"
    assert sorted(codes - set(RULES)) == [], "the README's Findings table names codes the rule table does not have"


def test_the_usage_block_has_every_command_and_every_option_of_its_help():
    lines = _usage_lines()
    assert sorted(lines) == sorted(COMMANDS), "one usage line per command"
    for command, line in lines.items():
        options, _ = _options(command)
        written = set(re.findall(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", line)) - EVERY_COMMAND
        assert sorted(options - written) == [], f"`promptwise {command}` in the README lacks options its --help shows"
        assert sorted(written - options) == [], f"`promptwise {command}` in the README shows options its --help does not have"

