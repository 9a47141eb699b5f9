"""What instruction files pull in, by each tool's rule: Claude Code and Gemini CLI `@path` imports, VS Code links."""

# Every file here is named as an instruction file, so parsing it by its detected format is the same.
from tests.engine.test_instructions_kinds import parse, repo  # noqa: F401 (repo is a fixture)


def codes(doc) -> list[str]:
    return sorted(p.code for p in doc.problems)


# ---- Claude Code ----


def test_npm_scopes_handles_and_emails_in_claude_md_are_not_imports(repo):
    text = (
        "Use the @anthropic-ai/sdk package, @types/node for typings and @scope/pkg@1.2 pinned.\n"
        "Ping @octocat or write to dev@example.com; docs live at @example.com.\n"
        "See @docs/setup.md for setup.\n"
    )
    doc = parse(repo / "CLAUDE.md", text)
    assert codes(doc) == ["missing-include"]
    [include] = doc.messages[0].includes
    assert include.target == "docs/setup.md" and doc.text[include.span.start : include.span.end] == "@docs/setup.md"
    assert "@anthropic-ai/sdk" in doc.messages[0].content and "@types/node" in doc.messages[0].content


def test_explicit_relative_import_is_reported_even_without_a_file_ending(repo):
    doc = parse(repo / "CLAUDE.md", "Read @./docs/notes and @../outside/x too.\n")
    assert [i.target for i in doc.messages[0].includes] == ["./docs/notes", "../outside/x"]
    assert len(doc.problems) == 2


def test_a_bare_name_is_imported_when_the_file_exists(repo):
    (repo / "README").write_text("Readme body.\n")
    (repo / "types").mkdir()
    (repo / "types" / "node").mkdir()  # a folder of that name is no file to import
    doc = parse(repo / "CLAUDE.md", "See @README for the overview and @types/node for typings.\n")
    assert doc.problems == []
    assert [i.target for i in doc.messages[0].includes] == ["README"]
    assert "Readme body." in doc.messages[0].content and "@types/node" in doc.messages[0].content


def test_imports_in_code_spans_and_fenced_blocks_are_text(repo):
    text = "Run `npm i @types/missing.md` first.\n\n```\n@docs/inside-fence.md\n```\n\n~~~\n@also/inside.md\n~~~\n"
    doc = parse(repo / "CLAUDE.md", text)
    assert doc.problems == [] and doc.messages[0].includes == []
    assert "@docs/inside-fence.md" in doc.messages[0].content


def test_imported_file_follows_the_same_rule(repo):
    (repo / "docs").mkdir()
    (repo / "docs" / "a.md").write_text("Install @vitejs/plugin-react. Then @b.md\n")
    (repo / "docs" / "b.md").write_text("Beta.\n")
    doc = parse(repo / "CLAUDE.md", "Start @docs/a.md\n")
    assert doc.problems == []
    assert doc.messages[0].content == "Start Install @vitejs/plugin-react. Then Beta."


# ---- Gemini CLI ----


def test_gemini_md_imports_are_wrapped_in_comments_as_gemini_cli_sends_them(repo):
    (repo / "parts").mkdir()
    (repo / "parts" / "style.md").write_text("Use tabs.\n")
    doc = parse(repo / "GEMINI.md", "# Project\n@./parts/style.md\nEnd.\n")
    assert doc.problems == []
    assert doc.messages[0].content == (
        "# Project\n<!-- Imported from: ./parts/style.md -->\nUse tabs.\n\n<!-- End of import from: ./parts/style.md -->\nEnd."
    )


def test_gemini_cli_tries_every_at_word_outside_code(repo):
    text = "Mail dev@example.com. Use `@types/node`. See https://x.dev/@y and @https://example.com/a.md\nAsk @octocat.\n"
    doc = parse(repo / "GEMINI.md", text)
    [include] = doc.messages[0].includes
    assert include.target == "octocat."
    [problem] = doc.problems
    assert problem.code == "missing-include" and "Gemini CLI reads every @word as an import" in problem.message


# ---- VS Code links ----


def test_a_prompt_file_linking_to_its_own_heading_adds_nothing(repo):
    text = "---\nmode: agent\n---\nFollow [the step](./self.prompt.md#step) and [again](#step).\n\n## Step\n\nRun the command.\n"
    doc = parse(repo / "self.prompt.md", text)
    assert doc.problems == [] and doc.messages[0].includes == []
    assert doc.messages[0].content.count("Run the command.") == 1
    assert "mode: agent" not in doc.messages[0].content


def test_a_file_linked_twice_is_attached_once(repo):
    (repo / "guide.md").write_text("GUIDE TEXT\n")
    text = "Read [the guide](guide.md), then [the guide again](./guide.md#usage).\n"
    doc = parse(repo / "task.prompt.md", text)
    first, second = doc.messages[0].includes
    assert first.text == "GUIDE TEXT" and second.text == "" and second.error is None
    assert doc.messages[0].content.count("GUIDE TEXT") == 1


def test_a_missing_file_linked_twice_is_one_finding(repo):
    doc = parse(repo / "task.prompt.md", "See [a](gone.md) and [b](gone.md).\n")
    assert codes(doc) == ["missing-include"]
