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
