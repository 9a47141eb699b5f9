"""Shared fixtures: a project folder with its own promptwise.toml and a catalog of made-up models."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptwise.analysis import Analysis, analyze_file
from promptwise.config import LoadedConfig, load_config
from promptwise.routing import KEY_ENV

# A provider of our own, so the candidates do not move when litellm's price map does.
ACME_MODELS = """
[models.acme-pro]
provider = "acme"
input_cost_per_million = 10.0
output_cost_per_million = 40.0
context_window = 200000
max_output_tokens = 16000
supports = ["tools", "vision", "json", "reasoning"]
tokenizer = "o200k_base"

[models.acme-mini]
provider = "acme"
input_cost_per_million = 0.5
output_cost_per_million = 2.0
context_window = 128000
max_output_tokens = 16000
supports = ["tools", "vision", "json", "reasoning"]
tokenizer = "o200k_base"

[models.acme-nano]
provider = "acme"
input_cost_per_million = 0.1
output_cost_per_million = 0.4
context_window = 128000
max_output_tokens = 16000
supports = ["vision", "json", "reasoning"]
tokenizer = "o200k_base"

[models.acme-flash]
provider = "acme"
input_cost_per_million = 0.2
output_cost_per_million = 0.8
context_window = 128000
max_output_tokens = 16000
supports = ["tools", "json", "reasoning"]
tokenizer = "o200k_base"

[models.acme-lite]
provider = "acme"
input_cost_per_million = 0.3
output_cost_per_million = 1.2
context_window = 128000
max_output_tokens = 16000
supports = ["tools", "vision", "reasoning"]
tokenizer = "o200k_base"

[models.acme-chat]
provider = "acme"
input_cost_per_million = 0.4
output_cost_per_million = 1.6
context_window = 128000
max_output_tokens = 16000
supports = ["tools", "vision", "json"]
tokenizer = "o200k_base"

[models.acme-short]
provider = "acme"
input_cost_per_million = 0.45
output_cost_per_million = 1.8
context_window = 128000
max_output_tokens = 1000
supports = ["tools", "vision", "json", "reasoning"]
tokenizer = "o200k_base"
"""

ACME_CONFIG = 'default_model = "acme-pro"\nexpected_output_tokens = 500\nallowed_providers = ["acme"]\n' + ACME_MODELS


@pytest.fixture(autouse=True)
def no_api_keys(monkeypatch):
    """Suggestions read API keys from the environment; tests start with none."""
    for names in KEY_ENV.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)


class Project:
    def __init__(self, root: Path, config: str) -> None:
        self.root = root
        (root / "promptwise.toml").write_text(config, encoding="utf-8")

    def write(self, name: str, text: str, newline: str = "\n") -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.replace("\n", newline).encode("utf-8"))
        return path

    def analyze(self, name: str) -> tuple[Analysis, LoadedConfig]:
        path = self.root / name
        config = load_config(path)
        analysis = analyze_file(path, config)
        assert isinstance(analysis, Analysis), analysis
        return analysis, config


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """An empty project with default settings (gpt-4o-mini, 500 output tokens)."""
    return Project(tmp_path, "expected_output_tokens = 500\n")


@pytest.fixture
def acme(tmp_path: Path) -> Project:
    """A project whose only allowed provider is the made-up 'acme', current model acme-pro."""
    return Project(tmp_path, ACME_CONFIG)


@pytest.fixture
def make_project(tmp_path: Path):
    """A project in tmp_path with the given promptwise.toml text."""
    return lambda config: Project(tmp_path, config)


@pytest.fixture
def acme_models() -> str:
    """The made-up acme models as promptwise.toml [models] tables, for projects with their own settings."""
    return ACME_MODELS
