"""Config discovery, validation messages and defaults."""

from promptwise.config import find_config_file, load_config


def test_found_by_walking_up_promptwise_toml_first(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.promptwise]\ndefault_model = "gpt-4.1"\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config_file(deep) == tmp_path / "pyproject.toml"
    assert load_config(deep / "x.prompt").settings.default_model == "gpt-4.1"
    (tmp_path / "a" / "promptwise.toml").write_text('default_model = "gpt-4o"\n')
    assert load_config(deep).settings.default_model == "gpt-4o"


def test_pyproject_without_a_promptwise_table_is_ignored(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    loaded = load_config(tmp_path)
    assert loaded.path is None and loaded.settings.default_model == "gpt-4o-mini"


def test_bad_values_name_the_file_the_key_and_what_is_allowed(tmp_path):
    (tmp_path / "promptwise.toml").write_text(
        'default_model = "gpt-4o"\nwarn_at = 1.5\nexpected_output_tokens = "many"\ncolour = "red"\n'
        '[models."x"]\ntokenizer = "gpt2"\n'
    )
    loaded = load_config(tmp_path)
    by_key = {p.key: p for p in loaded.problems}
    assert set(by_key) == {"warn_at", "expected_output_tokens", "colour", "models.x.tokenizer"}
    assert "less than or equal to 1" in by_key["warn_at"].message and "le 1" in by_key["warn_at"].message
    assert by_key["warn_at"].line == 1 and by_key["warn_at"].path.name == "promptwise.toml"
    assert "unknown setting 'colour'" in by_key["colour"].message and "default_model" in by_key["colour"].message
    assert "'o200k_base'" in by_key["models.x.tokenizer"].message
    # the valid values survive; the bad ones fall back to defaults
    assert loaded.settings.default_model == "gpt-4o" and loaded.settings.warn_at == 0.8


def test_invalid_toml_is_a_problem_not_a_crash(tmp_path):
    (tmp_path / "promptwise.toml").write_text('default_model = "gpt-4o\n')
    loaded = load_config(tmp_path)
    assert loaded.problems and "not valid TOML" in loaded.problems[0].message
    assert loaded.settings.default_model == "gpt-4o-mini"


def test_overrides_merge_over_the_file(tmp_path):
    (tmp_path / "promptwise.toml").write_text('default_model = "gpt-4o"\nwarn_at = 0.5\n')
    loaded = load_config(tmp_path, overrides={"default_model": "gpt-4.1-mini"})
    assert loaded.settings.default_model == "gpt-4.1-mini" and loaded.settings.warn_at == 0.5


def test_an_invalid_budget_glob_is_a_problem_and_the_others_still_apply(tmp_path):
    (tmp_path / "promptwise.toml").write_text(
        'plain_prompts = ["prompts/[z-a].txt", "prompts/*.txt"]\n[budgets]\n"**/*" = 8000\n"[z-a]" = 10\n"AGENTS.md" = 6000\n'
    )
    loaded = load_config(tmp_path)
    by_key = {p.key: p for p in loaded.problems}
    assert set(by_key) == {"budgets.[z-a]", "plain_prompts"}
    assert by_key["budgets.[z-a]"].message.startswith("budget glob '[z-a]' is invalid (") and by_key["budgets.[z-a]"].line == 3
    assert "plain_prompts glob 'prompts/[z-a].txt' is invalid" in by_key["plain_prompts"].message
    assert loaded.settings.budgets == {"**/*": 8000, "AGENTS.md": 6000}
    assert loaded.settings.plain_prompts == ["prompts/*.txt"]
    assert loaded.budget_for(tmp_path / "AGENTS.md") == (6000, "AGENTS.md")


def test_a_config_nested_500_deep_is_one_problem(tmp_path):
    for text in ("x = " + "[" * 500 + "]" * 500 + "\n", "x = " + "{a = " * 40 + "1" + "}" * 40 + "\n"):
        (tmp_path / "promptwise.toml").write_text('default_model = "gpt-4o"\n' + text)
        (problem,) = load_config(tmp_path).problems
        assert problem.path.name == "promptwise.toml" and "nest" in problem.message and "its settings were not used" in problem.message


def test_a_config_that_is_not_a_regular_file_or_too_large_is_one_problem(tmp_path):
    import os

    os.mkfifo(tmp_path / "promptwise.toml")  # is_file() is false for a FIFO: it is not a config at all
    assert load_config(tmp_path).path is None
    os.unlink(tmp_path / "promptwise.toml")
    with open(tmp_path / "pyproject.toml", "wb") as handle:
        handle.truncate(3 * 1024 * 1024)
    loaded = load_config(tmp_path)
    (problem,) = loaded.problems
    assert problem.path.name == "pyproject.toml" and "over the 2,097,152-byte limit" in problem.message
    assert loaded.settings.default_model == "gpt-4o-mini"


def test_a_long_bad_value_is_shown_short(tmp_path):
    (tmp_path / "promptwise.toml").write_text(f'warn_at = "{"x" * 5000}"\n')
    (problem,) = load_config(tmp_path).problems
    assert len(problem.message) < 300 and "…" in problem.message


def test_a_config_above_the_repository_is_not_the_projects(tmp_path):
    from promptwise.config import find_config_file

    (tmp_path / "promptwise.toml").write_text('[budgets]\n"**" = 5\n', encoding="utf-8")  # a shared /tmp, a home folder
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "sub").mkdir()
    assert find_config_file(repo / "sub" / "AGENTS.md") is None
    (repo / "promptwise.toml").write_text("", encoding="utf-8")
    assert find_config_file(repo / "sub" / "AGENTS.md") == repo / "promptwise.toml"
    assert find_config_file(tmp_path / "loose" / "AGENTS.md") == tmp_path / "promptwise.toml"  # outside any repository
