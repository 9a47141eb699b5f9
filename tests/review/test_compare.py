"""compare(): each kind of change a pull request makes to prompt files, against temporary git repositories."""

from __future__ import annotations


def test_an_edit_adds_tokens_and_cost_and_points_at_the_lines(gitrepo):
    g = gitrepo
    g.write("prompts/a.prompt", g.prompt("You are helpful.\nAnswer briefly.\n"))
    g.commit("base")
    g.write("prompts/a.prompt", g.prompt("You are helpful.\nAnswer briefly.\n" + "Always list every assumption you make, one per line, before the answer.\n" * 5))
    c = g.compare()
    a = g.entry(c, "prompts/a.prompt")
    assert a.status == "modified"
    assert c.base_reason == "HEAD"
    assert a.delta_tokens > 50
    assert a.head.tokens - a.base.tokens == a.delta_tokens
    assert a.delta_cost_per_call > 0 and a.delta_per_1000_calls > 0
    assert a.delta_per_month is None  # no volumes set
    top = a.lines[0]
    assert (top.line, top.end_line) == (6, 10)  # the five lines added after the frontmatter and two lines
    assert top.tokens == a.delta_tokens
    assert c.totals.prompts == 1 and c.totals.delta_tokens == a.delta_tokens


def test_a_partial_change_affects_both_prompts_that_use_it(gitrepo):
    g = gitrepo
    g.write("prompts/_tone.prompt", "Be kind.\n")
    g.write("prompts/a.prompt", g.prompt("{{> tone}}\nSummarize the text.\n"))
    g.write("prompts/b.prompt", g.prompt("{{> tone}}\nTranslate the text.\n"))
    g.write("prompts/c.prompt", g.prompt("Say the tone of voice.\n"))  # mentions "tone" but uses no partial
    g.commit("base")
    g.write("prompts/_tone.prompt", "Be kind. Be patient. Explain every step in plain words for a beginner.\n")
    c = g.compare()
    assert sorted(f.path for f in c.files) == ["prompts/a.prompt", "prompts/b.prompt"]  # not the partial itself, not c
    for path in ("prompts/a.prompt", "prompts/b.prompt"):
        f = g.entry(c, path)
        assert f.status == "affected" and f.via == ["prompts/_tone.prompt"]
        assert f.delta_tokens > 5
        assert f.lines == []  # its own text did not change
    assert c.totals.delta_tokens == sum(f.delta_tokens for f in c.files)


def test_a_partial_of_a_partial_is_followed_on_both_sides(gitrepo):
    g = gitrepo
    g.write("prompts/_inner.prompt", "Inner rule.\n")
    g.write("prompts/_outer.prompt", "Outer rule.\n{{> inner}}\n")
    g.write("prompts/a.prompt", g.prompt("{{> outer}}\nDo the task.\n"))
    g.commit("base")
    g.write("prompts/_inner.prompt", "Inner rule, now with many more words to count in it than before.\n")
    c = g.compare()
    a = g.entry(c, "prompts/a.prompt")
    assert a.via == ["prompts/_inner.prompt"]
    assert a.delta_tokens > 5
    # The base side found the nested partial in git: no finding about a missing partial on either side.
    assert not [f for f in a.base.findings + a.head.findings if "not found" in f.message]


def test_a_rename_pairs_the_old_and_new_names(gitrepo):
    g = gitrepo
    text = g.prompt("You are a careful reviewer of pull requests.\nList the risks first.\n" * 4)
    g.write("prompts/old name.prompt", text)
    g.commit("base")
    g.remove("prompts/old name.prompt")
    g.write("prompts/new-näme.prompt", text + "Then the fixes.\n")
    g.git("add", "-A")
    c = g.compare()
    f = g.entry(c, "prompts/new-näme.prompt")
    assert f.status == "renamed" and f.old_path == "prompts/old name.prompt"
    assert f.base is not None and f.head is not None
    assert 0 < f.delta_tokens < 10


def test_a_deleted_prompt_removes_its_cost(gitrepo):
    g = gitrepo
    g.write("AGENTS.md", "# Rules\n\nRun the tests before every commit.\n")
    g.write("prompts/keep.prompt", g.prompt("Keep me.\n"))
    g.commit("base")
    g.remove("AGENTS.md")
    c = g.compare()
    f = g.entry(c, "AGENTS.md")
    assert f.status == "deleted" and f.head is None
    assert f.delta_tokens == -f.base.tokens < 0
    assert f.delta_cost_per_call < 0
    assert [x.path for x in c.files] == ["AGENTS.md"]


def test_a_config_budget_change_lists_the_prompts_under_it(gitrepo):
    g = gitrepo
    g.write("promptwise.toml", '[budgets]\n"prompts/**" = 1000\n')
    g.write("prompts/a.prompt", g.prompt("Summarize the text in three sentences.\n"))
    g.write("other/b.prompt", g.prompt("Unrelated.\n"))
    g.write("other/promptwise.toml", "")  # its own config: the top one does not reach it
    g.commit("base")
    g.write("promptwise.toml", '[budgets]\n"prompts/**" = 5\n')
    c = g.compare()
    assert [f.path for f in c.files] == ["prompts/a.prompt"]
    f = c.files[0]
    assert f.status == "affected" and f.via == ["promptwise.toml"]
    assert (f.base.budget, f.head.budget) == (1000, 5)
    assert f.delta_tokens == 0 and f.pushed_over_budget
    assert c.totals.over_budget == ["prompts/a.prompt"]


def test_a_config_edit_that_changes_no_setting_lists_nothing(gitrepo):
    g = gitrepo
    g.write("pyproject.toml", '[project]\nname = "x"\n\n[tool.promptwise]\ndefault_model = "gpt-4o-mini"\n')
    g.write("AGENTS.md", "Be brief.\n")
    g.commit("base")
    g.write("pyproject.toml", '[project]\nname = "x"\nversion = "2"\n\n[tool.promptwise]\ndefault_model = "gpt-4o-mini"\n')
    assert g.compare().files == []


def test_a_model_switch_changes_the_cost_with_the_tokens_flat(gitrepo):
    g = gitrepo
    body = "Classify the ticket as bug, feature or question.\n"
    g.write("prompts/t.prompt", g.prompt(body, model="openai/gpt-4o-mini"))
    g.commit("base")
    g.write("prompts/t.prompt", g.prompt(body, model="openai/gpt-4o"))
    c = g.compare()
    f = g.entry(c, "prompts/t.prompt")
    assert (f.base.model, f.head.model) == ("openai/gpt-4o-mini", "openai/gpt-4o")
    assert f.delta_tokens == 0
    assert f.delta_cost_per_call > 0
    assert f.lines[0].line == 2 and "model openai/gpt-4o-mini -> openai/gpt-4o" in (f.lines[0].note or "")


def test_moving_a_variable_to_the_top_busts_the_cache(gitrepo):
    g = gitrepo
    base = '{{role "system"}}\n' + g.long_rules + '\nThe user is {{name}}.\n{{role "user"}}\n{{question}}\n'
    head = '{{role "system"}}\nThe user is {{name}}.\n' + g.long_rules + '\n{{role "user"}}\n{{question}}\n'
    g.write("prompts/support.prompt", g.prompt(base, model="openai/gpt-4o"))
    g.commit("base")
    g.write("prompts/support.prompt", g.prompt(head, model="openai/gpt-4o"))
    f = g.entry(g.compare(), "prompts/support.prompt")
    assert abs(f.delta_tokens) <= 2  # the same words
    assert f.base.cached_tokens >= 1024 and f.head.cached_tokens < f.base.cached_tokens
    assert f.head.cost_per_call > f.base.cost_per_call  # warm: less read from the cache
    assert f.base.basis == "warm"
    assert any(x.note and "cached prefix" in x.note for x in f.lines)


def test_head_ref_compares_two_commits_and_ignores_the_working_tree(gitrepo):
    g = gitrepo
    g.write("prompts/a.prompt", g.prompt("One.\n"))
    first = g.commit("one")
    g.write("prompts/a.prompt", g.prompt("One. Two. Three. Four. Five.\n"))
    second = g.commit("two")
    g.write("prompts/a.prompt", g.prompt("Something else entirely, uncommitted, and much longer than the rest.\n"))
    g.write("prompts/new.prompt", g.prompt("Untracked.\n"))
    c = g.compare(first, second)
    assert c.head == second and c.head_label == second and c.base == first and c.base_reason == "given"
    assert [f.path for f in c.files] == ["prompts/a.prompt"]
    assert c.files[0].delta_tokens == 8


def test_an_untracked_prompt_is_added(gitrepo):
    g = gitrepo
    g.write(".gitignore", "scratch/\n")
    g.write("prompts/a.prompt", g.prompt("One.\n"))
    g.commit("base")
    g.write("prompts/new.prompt", g.prompt("A brand new prompt.\n"))
    g.write("scratch/ignored.prompt", g.prompt("Ignored.\n"))
    c = g.compare()
    assert [f.path for f in c.files] == ["prompts/new.prompt"]
    f = c.files[0]
    assert f.status == "added" and f.base is None and f.delta_tokens == f.head.tokens > 0


def test_plain_prompts_and_exclude_follow_the_config(gitrepo):
    g = gitrepo
    g.write("promptwise.toml", 'plain_prompts = ["templates/*.txt"]\nexclude = ["prompts/vendor/**"]\n')
    g.write("templates/hello.txt", "Hello.\n")
    g.write("notes/readme.txt", "Not a prompt.\n")
    g.write("prompts/vendor/x.prompt", g.prompt("Vendored.\n"))
    g.commit("base")
    g.write("templates/hello.txt", "Hello there, and welcome.\n")
    g.write("notes/readme.txt", "Still not a prompt, just longer.\n")
    g.write("prompts/vendor/x.prompt", g.prompt("Vendored, changed.\n"))
    c = g.compare()
    assert [f.path for f in c.files] == ["templates/hello.txt"]


def test_paths_limit_the_files_listed(gitrepo):
    g = gitrepo
    g.write("prompts/a.prompt", g.prompt("A.\n"))
    g.write("agents/b.prompt", g.prompt("B.\n"))
    g.commit("base")
    g.write("prompts/a.prompt", g.prompt("A, longer.\n"))
    g.write("agents/b.prompt", g.prompt("B, longer.\n"))
    assert [f.path for f in g.compare(paths=["agents"]).files] == ["agents/b.prompt"]


def test_an_instruction_import_is_followed(gitrepo):
    g = gitrepo
    g.write("CLAUDE.md", "# Rules\n\n@docs/style.md\n")
    g.write("docs/style.md", "Use short sentences.\n")
    g.commit("base")
    g.write("docs/style.md", "Use short sentences. Prefer active voice. Avoid jargon in every answer.\n")
    f = g.entry(g.compare(), "CLAUDE.md")
    assert f.status == "affected" and f.via == ["docs/style.md"] and f.delta_tokens > 5


def test_findings_gained_and_lost(gitrepo):
    g = gitrepo
    g.write("prompts/_p.prompt", "Partial.\n")
    g.write("prompts/a.prompt", g.prompt("{{> p}}\nHi.\n"))
    g.commit("base")
    g.write("prompts/a.prompt", g.prompt("{{> missing}}\nHi.\n"))
    f = g.entry(g.compare(), "prompts/a.prompt")
    assert any("missing" in x.message for x in f.findings_gained)
    assert not f.findings_lost


def test_a_config_naming_a_changed_file_does_not_make_it_an_include(gitrepo):
    g = gitrepo
    g.write("promptwise.toml", '[volumes]\n"AGENTS.md" = 100\n"prompts/**" = 100\n')
    g.write("AGENTS.md", "Rules.\n")
    g.write("prompts/_tone.prompt", "Be kind.\n")
    g.write("prompts/a.prompt", g.prompt("{{> tone}}\nHi.\n"))
    g.commit("base")
    g.write("AGENTS.md", "Rules, and more rules.\n")
    g.write("prompts/_tone.prompt", "Be kind.\nBe brief.\n")
    c = g.compare()
    assert g.entry(c, "prompts/a.prompt").via == ["prompts/_tone.prompt"]
    assert g.entry(c, "prompts/a.prompt").via_line == 2  # the partial's first changed line
    assert g.entry(c, "AGENTS.md").status == "modified"
    assert c.totals.delta_per_month is not None and c.totals.delta_per_month > 0


def test_a_partial_of_the_same_name_in_another_folder_is_not_a_dependency(gitrepo):
    g = gitrepo
    for folder in ("one", "two"):
        g.write(f"{folder}/_tone.prompt", "Be kind.\n")
        g.write(f"{folder}/a.prompt", g.prompt("{{> tone}}\nHi.\n"))
    g.commit("base")
    g.write("one/_tone.prompt", "Be kind, always.\n")
    c = g.compare()
    assert [f.path for f in c.files] == ["one/a.prompt"]
    assert c.stats.files_parsed == 2  # two/a.prompt mentions "tone" but cannot reach one/_tone.prompt: not analyzed
