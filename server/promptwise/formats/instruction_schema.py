"""Frontmatter of the instruction files each agent defines its own keys for: Cursor rules, VS Code custom
agents and chat modes, Agent Skills. Unknown keys pass (every tool adds some); a known key of the wrong
type is a finding at that key."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from .schema import PromptwiseSettings


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


def _text_or_texts(value: Any) -> Any:
    # One finding that says what is allowed, instead of one per branch of the union.
    if value is None or isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return value
    raise ValueError("must be a string or a list of strings")


TextOrTexts = Annotated[Optional[Union[str, list[str]]], BeforeValidator(_text_or_texts)]


class CursorRuleFrontmatter(_Open):
    """A Cursor project rule (`.cursor/rules/*.mdc`)."""

    description: Optional[str] = Field(
        None, description="What the rule is for; the agent reads it to decide whether to fetch the rule."
    )
    # Cursor writes globs as one comma-separated string; a YAML list works too.
    globs: TextOrTexts = Field(
        None, description="Files whose presence in the context attaches the rule, e.g. `src/**/*.ts, *.tsx`."
    )
    # Strict: Cursor treats the string "true" as not always applied, so it must be a real boolean.
    alwaysApply: Optional[StrictBool] = Field(None, description="`true`: the rule is sent with every request.")
    promptwise: Optional[PromptwiseSettings] = None


class Handoff(_Open):
    label: str
    agent: str
    prompt: str
    send: Optional[StrictBool] = None
    showContinueOn: Optional[StrictBool] = None
    model: Optional[str] = None


class VSCodeAgentFrontmatter(_Open):
    """A VS Code custom agent (`*.agent.md`) or its older name, a chat mode (`*.chatmode.md`); the types are
    the ones VS Code's own prompt-file validator requires."""

    name: Optional[str] = None
    description: Optional[str] = Field(None, description="Shown in the agent picker and as placeholder text.")
    argument_hint: Optional[str] = Field(None, alias="argument-hint")
    tools: TextOrTexts = Field(None, description="Tools (and tool sets, MCP servers) the agent may use: a list or a comma-separated string.")
    model: TextOrTexts = Field(None, description="The model, or a list tried in order; counted and priced with the first.")
    handoffs: Optional[list[Handoff]] = Field(None, description="Buttons that hand the chat to another agent.")
    target: Optional[Literal["vscode", "github-copilot"]] = None
    user_invokable: Optional[StrictBool] = Field(None, alias="user-invokable")
    disable_model_invocation: Optional[StrictBool] = Field(None, alias="disable-model-invocation")
    agents: Optional[list[Any]] = None
    promptwise: Optional[PromptwiseSettings] = None


class SkillFrontmatter(_Open):
    """An Agent Skill (`SKILL.md`): its name and description are always in the agent's context; the body
    only once the agent uses the skill."""

    name: str = Field(
        ...,
        max_length=64,
        pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
        description="Lowercase letters, digits and single hyphens, at most 64 characters.",
    )
    description: str = Field(
        ..., min_length=1, max_length=1024, description="What the skill does and when to use it (at most 1024 characters)."
    )
    license: Optional[str] = None
    compatibility: Optional[str] = Field(None, max_length=500)
    metadata: Optional[dict[str, Any]] = None
    allowed_tools: TextOrTexts = Field(None, alias="allowed-tools")
    user_invokable: Optional[StrictBool] = Field(None, alias="user-invokable")
    disable_model_invocation: Optional[StrictBool] = Field(None, alias="disable-model-invocation")
    promptwise: Optional[PromptwiseSettings] = None


# The frontmatter models of the instruction kinds that have their own keys, by the name of their JSON Schema.
INSTRUCTION_FRONTMATTER_MODELS: dict[str, type[BaseModel]] = {
    "cursor-rule": CursorRuleFrontmatter,
    "vscode-agent": VSCodeAgentFrontmatter,
    "skill": SkillFrontmatter,
}
