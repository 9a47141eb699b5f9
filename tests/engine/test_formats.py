"""Each format parsed from realistic files: messages, ranges, includes, variables and problems."""

from pathlib import Path

from promptwise.formats import Format, detect_format, parse_document, read_prompt_file


def parse(path: Path, fmt: Format | None = None):
    text = path.read_text(encoding="utf-8")
    return parse_document(path, text, fmt or detect_format(path, ["prompts/**/*.txt"], path.parent))


def test_detects_every_format(tmp_path, examples):
    assert detect_format(examples / "support/triage.prompty") is Format.PROMPTY
    assert detect_format(examples / "dotprompt/review.prompt") is Format.DOTPROMPT
    for name in ("AGENTS.md", "CLAUDE.md", ".cursorrules", ".github/copilot-instructions.md",
                 ".github/instructions/python.instructions.md", ".github/prompts/release-notes.prompt.md"):
        assert detect_format(examples / name) is Format.INSTRUCTIONS, name
    assert detect_format(tmp_path / "docs/copilot-instructions.md") is None
    assert detect_format(examples / "prompts/classify.txt", ["prompts/**/*.txt"], examples) is Format.PLAIN
    assert detect_format(examples / "docs/testing.md", ["prompts/**/*.md"], examples) is None


def test_prompty_v2_model_inputs_tools_and_roles(examples):
    doc = parse(examples / "support/triage.prompty")
    assert doc.model == "gpt-4o" and doc.provider == "openai"
    assert doc.text[doc.model_span.start : doc.model_span.end] == "gpt-4o"
    assert doc.max_output_tokens == 800
    assert [m.role for m in doc.messages] == ["system", "user"]
    assert doc.text[doc.messages[1].header.start : doc.messages[1].header.end].strip() == "user:"
    user = doc.messages[1]
    sample = doc.frontmatter["inputs"]["customer_name"]["sample"]
    assert sample in user.content and "{{" not in user.content
    assert {v.name for v in user.variables} >= {"customer_name", "ticket_body"}
    assert all(v.defined for v in user.variables)
    assert len(doc.tools) == 2 and doc.tools[0]["function"]["parameters"]["properties"]
    assert not doc.problems


def test_prompty_v1_configuration_parameters_and_sample(examples):
    doc = parse(examples / "support/summarize.prompty")
    assert doc.model == "gpt-5.4-mini" and doc.provider == "azure"
    assert doc.text[doc.model_span.start : doc.model_span.end] == "gpt-5.4-mini"
    assert doc.max_output_tokens == 400
    roles = [m.role for m in doc.messages]
    assert roles[0] == "system" and "assistant" in roles and roles[-1] == "user"
    transcript = doc.frontmatter["sample"]["transcript"]
    assert any(transcript.strip()[:40] in m.content for m in doc.messages)


def test_prompty_undefined_variable_renders_empty_as_at_run_time(tmp_path):
    path = tmp_path / "greet.prompty"
    path.write_text("---\nmodel: gpt-4o\ninputs:\n  name:\n    default: Ada\n---\nsystem:\nBe kind.\n\nuser:\nHi {{name}}, about {{ topic }}!\n"
                    "{% for x in [1, 2] %}{{ x }}{% endfor %}\n")
    doc = parse(path)
    assert doc.messages[1].content == "Hi Ada, about !\n12"
    codes = [(p.code, doc.text[p.span.start : p.span.end]) for p in doc.problems]
    assert codes == [("undefined-variable", "topic")]


def test_prompty_role_name_attribute_and_template_error(tmp_path):
    path = tmp_path / "x.prompty"
    path.write_text("---\nmodel: gpt-4o\n---\nsystem:\nRules.\nuser[name=alice]:\nHello {% if %}\n")
    doc = parse(path)
    assert doc.messages[1].name == "alice"
    [problem] = doc.problems
    assert problem.code == "template-error" and doc.lines.position(problem.span.start).line == 6


def test_dotprompt_partials_roles_defaults_and_json_output(examples):
    doc = parse(examples / "dotprompt/review.prompt")
    assert doc.model == "openai/gpt-4.1-mini" and doc.provider == "openai"
    assert doc.max_output_tokens == 1200 and doc.uses_json_output
    assert [m.role for m in doc.messages] == ["system", "user"]
    system = doc.messages[0]
    assert [i.target for i in system.includes] == ["persona", "style_rules"]
    persona = (examples / "dotprompt/_persona.prompt").read_text().strip()
    assert persona.splitlines()[0] in system.content
    assert all(i.error is None and i.text for i in system.includes)
    assert doc.text[system.includes[0].span.start : system.includes[0].span.end] == "{{> persona}}"
    # the style rules partial renders {{language}} from input.default
    assert "{{language}}" not in system.content
    user = doc.messages[1]
    assert doc.frontmatter["input"]["default"]["diff"].splitlines()[0] in user.content
    assert not doc.problems


def test_dotprompt_missing_partial_cycle_and_optional_inputs(tmp_path):
    (tmp_path / "_a.prompt").write_text("A then {{> b}}")
    (tmp_path / "_b.prompt").write_text("B then {{> a}}")
    path = tmp_path / "main.prompt"
    path.write_text(
        "---\nmodel: googleai/gemini-2.5-flash\ninput:\n  schema:\n    topic: string\n    tone?: string\n"
        "  default:\n    topic: tides\n---\n{{role \"system\"}}\nStart {{> a}} and {{> nowhere}}.\n"
        "{{role \"user\"}}\nTell me about {{topic}} {{tone}} for {{audience}}.\n"
    )
    doc = parse(path)
    problems = {p.code: p for p in doc.problems}
    assert problems["include-cycle"].message == "include cycle: _a.prompt -> _b.prompt -> _a.prompt"
    assert "nowhere" in problems["missing-include"].message and "_nowhere.prompt" in problems["missing-include"].message
    assert doc.text[problems["missing-include"].span.start : problems["missing-include"].span.end] == "{{> nowhere}}"
    assert doc.text[problems["undefined-variable"].span.start : problems["undefined-variable"].span.end] == "{{audience}}"
    # as Dotprompt renders it: the text after a role tag keeps its newline, a value nobody gave renders empty
    assert doc.messages[1].content == "\nTell me about tides  for ."
    assert doc.messages[0].content == "\nStart A then B then  and .\n"


def test_dotprompt_handlebars_blocks_and_whitespace(tmp_path):
    path = tmp_path / "list.prompt"
    path.write_text(
        "---\ninput:\n  default:\n    items: [red, green]\n    show: true\n    word: x\n---\n"
        "{{#if show}}\nColours:\n{{#each items}}\n- {{this}}\n{{/each}}\n{{else}}\nnone\n{{/if}}\n{{!-- a comment --}}\nEnd {{~ word ~}} .\n"
    )
    doc = parse(path)
    assert doc.messages[0].role == "user"
    assert doc.messages[0].content == "Colours:\n- red\n- green\nEndx."  # ~ strips both sides


def test_dotprompt_template_error_has_a_position(tmp_path):
    path = tmp_path / "bad.prompt"
    path.write_text("---\nmodel: openai/gpt-4o\n---\n{{#if x}}\nnever closed\n")
    doc = parse(path)
    [problem] = doc.problems
    assert problem.code == "template-error" and "never closed" in problem.message
    assert doc.lines.position(problem.span.start).line == 3


def test_claude_md_imports_expand_recursively_and_report_cycles(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/a.md").write_text("Alpha rules. See @b.md\n")
    (tmp_path / "docs/b.md").write_text("Beta rules.\n")
    (tmp_path / "loop.md").write_text("Loop @CLAUDE.md\n")
    path = tmp_path / "CLAUDE.md"
    path.write_text("# Memory\nRead @docs/a.md and @missing/file.md, mail me@example.com, `@not/an/import.md`.\nAlso @loop.md\n")
    doc = parse(path)
    message = doc.messages[0]
    assert "Alpha rules. See Beta rules." in message.content
    assert [i.target for i in message.includes] == ["docs/a.md", "missing/file.md", "loop.md"]
    codes = sorted(p.code for p in doc.problems)
    assert codes == ["include-cycle", "missing-include"]
    assert "@not/an/import.md" in message.content


def test_prompt_md_links_attach_files_but_agents_md_links_do_not(examples, tmp_path):
    doc = parse(examples / ".github/prompts/release-notes.prompt.md")
    [link] = doc.messages[0].includes
    assert link.error is None and link.text.splitlines()[0] in doc.messages[0].content
    assert doc.model == "GPT-5.2"
    agents = tmp_path / "AGENTS.md"
    agents.write_text("See [the guide](guide.md).\n")
    (tmp_path / "guide.md").write_text("SECRET GUIDE TEXT")
    doc = parse(agents)
    assert doc.messages[0].includes == [] and "SECRET" not in doc.messages[0].content


def test_invalid_frontmatter_is_reported_at_the_yaml_error(tmp_path):
    path = tmp_path / "broken.prompty"
    path.write_text("---\nname: x\nmodel: [gpt-4o\n---\nsystem:\nHi\n")
    doc = parse(path)
    [problem] = doc.problems
    assert problem.code == "invalid-frontmatter" and "invalid YAML" in problem.message
    assert doc.lines.position(problem.span.start).line in (2, 3)
    assert doc.messages and doc.messages[0].content == "Hi"


def test_frontmatter_type_errors_name_the_key(tmp_path):
    path = tmp_path / "t.prompty"
    path.write_text("---\nmodel: gpt-4o\npromptwise:\n  budget: lots\n  colour: red\n---\nsystem:\nHi\n")
    doc = parse(path)
    messages = sorted(p.message for p in doc.problems)
    assert any("promptwise.budget" in m and "integer" in m for m in messages)
    assert any("promptwise.colour" in m for m in messages)
    spans = {doc.text[p.span.start : p.span.end] for p in doc.problems}
    assert spans == {"budget", "colour"}


def test_unclosed_frontmatter(tmp_path):
    path = tmp_path / "AGENTS.md"
    path.write_text("---\nmodel: gpt-4o\nno end\n")
    doc = parse(path)
    assert doc.problems[0].code == "invalid-frontmatter" and "never closed" in doc.problems[0].message


def test_read_prompt_file_handles_binary_invalid_utf8_and_huge(tmp_path):
    binary = tmp_path / "x.prompt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    assert read_prompt_file(binary).problems[0].code == "binary-file"
    bad = tmp_path / "y.prompt"
    bad.write_bytes("line one\nsecond é line \xff here\n".encode("latin-1"))
    result = read_prompt_file(bad)
    assert result.text is not None and result.problems[0].code == "invalid-utf8"
    assert "line 2" in result.problems[0].message
    huge = tmp_path / "z.prompt"
    with huge.open("wb") as f:
        f.truncate(20 * 1024 * 1024)
    result = read_prompt_file(huge)
    assert result.text is None and result.problems[0].code == "file-too-large"
    assert "20.0 MiB" in result.problems[0].message


def test_prompty_mustache_template(tmp_path):
    path = tmp_path / "m.prompty"
    path.write_text("---\nmodel: gpt-4o\ntemplate: mustache\ninputs:\n  city: {sample: Lisbon}\n---\n"
                    "system:\nYou plan trips.\nuser:\nThree days in {{city}} for {{people}}{{#kids}} with kids{{/kids}}.\n")
    doc = parse(path)
    assert doc.messages[1].content == "Three days in Lisbon for ."
    assert [(p.code, doc.text[p.span.start:p.span.end]) for p in doc.problems] == [("undefined-variable", "people")]
