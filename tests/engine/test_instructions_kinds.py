"""The instruction files of each agent recognised and parsed: Cursor rules, VS Code custom agents and chat
modes, GEMINI.md and Agent Skills, with their frontmatter validated."""

import json
from pathlib import Path

import pytest

from promptwise import access
from promptwise.formats import Format, detect_format, parse_document
from promptwise.formats.instruction_kinds import instruction_kind


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    access.set_workspace(None)
    yield root
    access.set_workspace(None)


def parse(path: Path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return parse_document(path, text, detect_format(path))


def findings(doc) -> list[tuple[str, str]]:
    return [(p.code, doc.text[p.span.start : p.span.end]) for p in doc.problems]


def test_new_instruction_files_are_recognised(tmp_path):
    for name, kind in [
        (".cursor/rules/style.mdc", "cursor"),
        (".github/agents/reviewer.agent.md", "vscode"),
        (".github/chatmodes/plan.chatmode.md", "vscode"),
        ("GEMINI.md", "gemini"),
        (".claude/skills/pdf/SKILL.md", "skill"),
    ]:
        path = tmp_path / name
        assert detect_format(path) is Format.INSTRUCTIONS, name
        assert instruction_kind(path) == kind, name
    assert detect_format(tmp_path / "notes.md") is None and detect_format(tmp_path / "skill.md") is None


# ---- Cursor rules ----


def test_cursor_globs_written_the_cursor_way_are_not_a_yaml_error(repo):
    text = '---\ndescription: "TypeScript rules"\nglobs: **/*.ts, src/*.tsx\nalwaysApply: false\n---\nUse strict mode.\n'
    doc = parse(repo / ".cursor/rules/ts.mdc", text)
    assert doc.problems == []
    assert doc.frontmatter == {"description": "TypeScript rules", "globs": "**/*.ts, src/*.tsx", "alwaysApply": False}
    assert doc.text[doc.keys["globs"].value_span.start : doc.keys["globs"].value_span.end] == "**/*.ts, src/*.tsx"
    [body] = doc.messages
    assert body.on_use and body.content == "Use strict mode."


def test_an_always_applied_rule_is_sent_with_every_request(repo):
    doc = parse(repo / ".cursor/rules/core.mdc", "---\nalwaysApply: true\n---\nBe brief.\n")
    [body] = doc.messages
    assert not body.on_use and body.content == "Be brief." and body.role == "system"


def test_an_agent_requested_rule_costs_its_description_per_call_and_its_body_on_use(repo):
    doc = parse(repo / ".cursor/rules/db.mdc", "---\ndescription: Database migrations\nalwaysApply: false\n---\nUse alembic.\n")
    listing, body = doc.messages
    assert listing.content == "db: Database migrations" and not listing.on_use
    assert body.on_use and body.content == "Use alembic."


def test_cursor_rule_keys_of_the_wrong_type_are_findings_at_the_key(repo):
    doc = parse(repo / ".cursor/rules/bad.mdc", '---\ndescription: [1, 2]\nglobs: 3\nalwaysApply: "true"\n---\nBody\n')
    assert sorted(findings(doc)) == [
        ("invalid-frontmatter", "alwaysApply"),
        ("invalid-frontmatter", "description"),
        ("invalid-frontmatter", "globs"),
    ]


def test_a_cursor_rule_that_is_not_key_lines_still_reports_its_yaml_error(repo):
    doc = parse(repo / ".cursor/rules/broken.mdc", "---\nglobs: [a\n  nested: *x\n---\nBody\n")
    assert [p.code for p in doc.problems] == ["invalid-frontmatter"]


def test_cursor_rule_globs_may_be_a_list(repo):
    doc = parse(repo / "rules/py.mdc", "---\nglobs:\n  - '*.py'\n  - 'tests/**'\n---\nPython.\n")
    assert doc.problems == [] and doc.messages[-1].on_use


# ---- VS Code custom agents and chat modes ----


def test_custom_agent_frontmatter_is_validated_and_its_links_attach(repo):
    (repo / "docs").mkdir()
    (repo / "docs" / "style.md").write_text("STYLE GUIDE\n")
    text = (
        "---\ndescription: Reviews code\ntools: ['search', 'edit']\nmodel: ['GPT-5', 'Claude Sonnet 4.5']\n"
        "handoffs:\n  - label: Implement\n    agent: coder\n    prompt: Go\ncustom-key: kept\n---\n"
        "You review code. Follow [the style](../docs/style.md).\n"
    )
    doc = parse(repo / "agents/reviewer.agent.md", text)
    assert doc.problems == []
    assert doc.model == "GPT-5"
    [message] = doc.messages
    assert message.role == "system" and not message.on_use and "STYLE GUIDE" in message.content


def test_chat_mode_keys_of_the_wrong_type_are_findings_at_the_key(repo):
    doc = parse(repo / "plan.chatmode.md", "---\ntools: 3\nhandoffs:\n  - label: x\n---\nPlan.\n")
    assert sorted(set(findings(doc))) == [("invalid-frontmatter", "handoffs"), ("invalid-frontmatter", "tools")]
    assert any("handoffs" in p.message and "agent" in p.message for p in doc.problems)
    # VS Code also takes tools as one comma-separated string, and a handoff's send must be a boolean.
    doc = parse(repo / "ok.chatmode.md", "---\ntools: 'search, edit'\ntarget: vscode\n---\nPlan.\n")
    assert doc.problems == []
    doc = parse(repo / "bad.agent.md", "---\ntarget: cloud\nhandoffs:\n  - {label: a, agent: b, prompt: c, send: 'yes'}\n---\nX\n")
    assert sorted(findings(doc)) == [("invalid-frontmatter", "handoffs"), ("invalid-frontmatter", "target")]


# ---- Agent Skills ----


def test_a_skill_is_its_name_and_description_per_call_and_its_body_on_use(repo):
    text = "---\nname: pdf-tools\ndescription: Fill and merge PDF forms.\nlicense: MIT\n---\n# PDF\n\nRun scripts/fill.py.\n"
    doc = parse(repo / "skills/pdf-tools/SKILL.md", text)
    assert doc.problems == []
    listing, body = doc.messages
    assert listing.content == "pdf-tools: Fill and merge PDF forms." and not listing.on_use
    assert body.on_use and body.content == "# PDF\n\nRun scripts/fill.py."
    assert doc.text[listing.span.start : listing.span.end].startswith("---\nname: pdf-tools")


def test_a_skill_needs_a_valid_name_and_a_description(repo):
    doc = parse(repo / "skills/x/SKILL.md", "---\nname: PDF Tools\n---\nBody\n")
    messages = sorted(p.message for p in doc.problems)
    assert [p.code for p in doc.problems] == ["invalid-frontmatter"] * 2
    assert any("'description'" in m and "required" in m.lower() for m in messages)
    assert any("'name'" in m for m in messages)
    doc = parse(repo / "skills/y/SKILL.md", "No frontmatter at all.\n")
    assert [p.code for p in doc.problems] == ["invalid-frontmatter"] * 2
    [body] = doc.messages
    assert body.on_use


# ---- discovery ----


def test_check_on_a_folder_finds_the_new_files(repo, cli):
    (repo / ".cursor/rules").mkdir(parents=True)
    (repo / ".cursor/rules/a.mdc").write_text("---\nalwaysApply: true\n---\nRule A.\n")
    (repo / "x.agent.md").write_text("---\ndescription: d\n---\nAgent.\n")
    (repo / "GEMINI.md").write_text("Gemini context.\n")
    (repo / "skills/s").mkdir(parents=True)
    (repo / "skills/s/SKILL.md").write_text("---\nname: s\ndescription: d\n---\nBody.\n")
    result = cli("check", "--format", "json", str(repo))
    assert result.code == 0, result.out + result.err
    data = json.loads(result.out)
    entries = data["files"] if isinstance(data, dict) else data
    names = sorted(Path(e["path"]).name for e in entries)
    assert names == ["GEMINI.md", "SKILL.md", "a.mdc", "x.agent.md"]
