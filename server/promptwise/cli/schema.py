"""`promptwise schema`: write the JSON Schemas in schemas/ from the pydantic models."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..config import Config
from ..config.user import UserConfig
from ..evals.results import RunResult
from ..evals.suite import Suite
from ..formats.instruction_schema import CursorRuleFrontmatter, SkillFrontmatter, VSCodeAgentFrontmatter
from ..formats.schema import DotpromptFrontmatter, InstructionsFrontmatter, PromptyFrontmatter
from ..review.model import Comparison
from . import failures

SCHEMAS: dict[str, tuple[type, str]] = {
    "promptwise.config.schema.json": (Config, "promptwise settings (promptwise.toml, or [tool.promptwise] in pyproject.toml)"),
    "promptwise.user-config.schema.json": (UserConfig, "promptwise user settings (~/.config/promptwise/config.toml): hosts and readable folders"),
    "prompty.frontmatter.schema.json": (PromptyFrontmatter, "Prompty frontmatter keys promptwise reads"),
    "dotprompt.frontmatter.schema.json": (DotpromptFrontmatter, "Dotprompt frontmatter keys promptwise reads"),
    "instructions.frontmatter.schema.json": (InstructionsFrontmatter, "Instruction file frontmatter keys promptwise reads"),
    "cursor-rule.frontmatter.schema.json": (CursorRuleFrontmatter, "Cursor rule (.mdc) frontmatter keys promptwise reads"),
    "vscode-agent.frontmatter.schema.json": (VSCodeAgentFrontmatter, "VS Code custom agent (*.agent.md, *.chatmode.md) frontmatter keys promptwise reads"),
    "skill.frontmatter.schema.json": (SkillFrontmatter, "Agent Skill (SKILL.md) frontmatter keys promptwise reads"),
    "evals.suite.schema.json": (Suite, "promptwise evaluation suite (NAME.evals.yaml)"),
    "evals.results.schema.json": (RunResult, "promptwise eval results (results.json in a run folder, or --json)"),
    "promptwise.diff.schema.json": (Comparison, "promptwise diff --format json: a change's effect on each prompt file's tokens and cost"),
}


def render() -> dict[str, str]:
    rendered = {}
    for name, (model, title) in SCHEMAS.items():
        schema: dict[str, Any] = model.model_json_schema(by_alias=True)
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": name, "title": title, **{k: v for k, v in schema.items() if k != "title"}}
        rendered[name] = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    return rendered


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schema", help="write JSON Schemas for the config and frontmatter to schemas/",
                       description="Generate the JSON Schemas in schemas/ from promptwise's pydantic models.")
    p.add_argument("--out", type=Path, default=Path("schemas"), help="folder to write (default: schemas)")
    p.add_argument("--check", action="store_true", help="exit 1 if the files differ from the models instead of writing")
    failures.add_debug_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    stale, missing = [], []
    for name, text in render().items():
        target = args.out / name
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current == text:
            continue
        (missing if current is None else stale).append(name)
        if not args.check:
            args.out.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
            print(f"wrote {target}")
    if args.check and (stale or missing):
        if missing and not args.out.is_dir():
            print(
                f"schemas missing: there is no {args.out}/ folder here, so all {len(missing)} schema files are missing; "
                "run 'promptwise schema' to write them, or pass --out FOLDER",
                file=sys.stderr,
            )
            return 1
        if missing:
            print(f"schemas missing from {args.out}/: {', '.join(missing)}; run 'promptwise schema'", file=sys.stderr)
        if stale:
            print(f"schemas out of date: {', '.join(stale)}; run 'promptwise schema'", file=sys.stderr)
        return 1
    if not stale and not missing:
        print(f"{args.out}/ is up to date")
    return 0
