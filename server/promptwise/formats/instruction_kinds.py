"""Which agent reads an instruction file, by its name, and so which import, link and frontmatter rules apply."""

from __future__ import annotations

from pathlib import Path

# Files named exactly so (copilot-instructions.md only under .github/, checked by detect_format).
INSTRUCTION_NAMES = {
    "AGENTS.md",
    "CLAUDE.md",
    "CLAUDE.local.md",
    "GEMINI.md",
    "SKILL.md",
    ".cursorrules",
    "copilot-instructions.md",
}
# VS Code prompt files, instructions, custom agents and chat modes (the older name of custom agents).
VSCODE_SUFFIXES = (".prompt.md", ".instructions.md", ".agent.md", ".chatmode.md")
VSCODE_AGENT_SUFFIXES = (".agent.md", ".chatmode.md")
CURSOR_RULE_SUFFIX = ".mdc"


def is_instruction_file(name: str) -> bool:
    return name in INSTRUCTION_NAMES or name.endswith(VSCODE_SUFFIXES) or name.endswith(CURSOR_RULE_SUFFIX)


def instruction_kind(path: Path) -> str:
    """"claude" and "gemini" expand `@path` imports (each by its own rule), "vscode" attaches linked files,
    "cursor" is a Cursor rule, "skill" an Agent Skill, "plain" is sent as written (AGENTS.md, .cursorrules)."""
    name = path.name
    if name in ("CLAUDE.md", "CLAUDE.local.md"):
        return "claude"
    if name == "GEMINI.md":
        return "gemini"
    if name == "SKILL.md":
        return "skill"
    if name.endswith(VSCODE_SUFFIXES):
        return "vscode"
    if name.endswith(CURSOR_RULE_SUFFIX):
        return "cursor"
    return "plain"


def is_vscode_agent(path: Path) -> bool:
    return path.name.endswith(VSCODE_AGENT_SUFFIXES)
