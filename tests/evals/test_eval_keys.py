"""Before the first call of `promptwise eval`: a missing key for a provider the run needs, and a model name
litellm cannot route (with the catalog's closest name), are one message each, and no call is made.
A suite's own errors are printed once."""

from __future__ import annotations

import pytest

SUITE = """
models: [gpt-4o-mini]
cases:
  - vars: {ticket: The desk leg arrived dented}
    assert: [{type: contains, value: TRIAGE}]
  - vars: {ticket: My order is two weeks late}
    assert: [{type: contains, value: TRIAGE}]
"""

KEY = "sk-test-" + "k" * 40


@pytest.fixture
def direct(project, monkeypatch):
    """Calls to the providers' own endpoints (no gateway in the user config), each provider's base URL
    pointed at the fake server, so a check that let a call through would be seen there, not on the network."""
    project.user.write("")
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", project.server.url)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", project.server.url.removesuffix("/v1"))
    project.server.reply(None, "TRIAGE: damage")
    return project


def test_a_missing_provider_key_is_one_message_before_any_call(direct, cli):
    direct.suite(SUITE)
    result = cli("eval", cwd=direct.root)
    assert result.code == 2
    message = (
        "promptwise eval: error: gpt-4o-mini needs OPENAI_API_KEY (openai), which is not set: set it before the run, "
        "or send the calls to a gateway (--api-base, or [evals] api_base in the user config)"
    )
    assert result.err.count(message) == 1 and "promptwise eval: no call was made" in result.err
    assert direct.server.calls() == [] and not (direct.root / ".promptwise" / "runs").exists()


def test_each_provider_is_checked(direct, cli):
    direct.suite(SUITE.replace("[gpt-4o-mini]", "[gpt-4o-mini, claude-haiku-4-5]"))
    result = cli("eval", cwd=direct.root)
    assert result.code == 2 and direct.server.calls() == []
    assert "claude-haiku-4-5 needs ANTHROPIC_API_KEY (anthropic), which is not set" in result.err
    assert "gpt-4o-mini needs OPENAI_API_KEY (openai)" in result.err


def test_with_the_key_set_the_run_goes_ahead_and_the_key_is_never_printed(direct, cli, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    direct.suite(SUITE)
    result = cli("eval", cwd=direct.root)
    assert result.code == 0, result.err
    assert len(direct.server.calls()) == 2
    assert {c.headers.get("Authorization") for c in direct.server.calls()} == {f"Bearer {KEY}"}
    assert KEY not in result.out + result.err and "key from $OPENAI_API_KEY" in result.err


def test_a_named_key_variable_that_is_not_set_is_reported_once(project, cli, monkeypatch):
    monkeypatch.delenv("PROMPTWISE_TEST_MISSING_KEY", raising=False)
    project.user.route(project.server.url, key_env="PROMPTWISE_TEST_MISSING_KEY")
    project.suite(SUITE.replace("gpt-4o-mini", "fake-gpt"))
    result = cli("eval", cwd=project.root)
    assert result.code == 2 and project.server.calls() == []
    assert result.err.count("environment variable PROMPTWISE_TEST_MISSING_KEY (api_key_env for fake-gpt) is not set") == 1


def test_a_local_server_needs_no_key(project, cli):
    # A model the user sends to a local OpenAI-compatible server: no OPENAI_API_KEY needed.
    project.user.write(f'[models."local-llama"]\napi_base = "{project.server.url}"\nlitellm_model = "openai/llama3"\n')
    project.server.reply(None, "TRIAGE: damage")
    project.suite(SUITE.replace("gpt-4o-mini", "local-llama"))
    result = cli("eval", cwd=project.root)
    assert result.code == 0, result.err
    assert len(project.server.calls()) == 2 and "needs" not in result.err


def test_a_model_typo_gets_a_did_you_mean_before_any_call(direct, cli, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    direct.suite(SUITE.replace("gpt-4o-mini", "gpt-4o-mnii"))
    result = cli("eval", cwd=direct.root)
    assert result.code == 2 and direct.server.calls() == []
    assert (
        "promptwise eval: error: unknown model 'gpt-4o-mnii': not in the model catalog, and litellm cannot tell which "
        "provider serves it; did you mean gpt-4o-mini?"
    ) in result.err
    assert "LLM Provider NOT provided" not in result.out + result.err and result.err.count("gpt-4o-mnii'") == 1


def test_a_typo_behind_a_gateway_is_a_warning_and_the_gateway_decides(project, cli):
    project.server.reply(None, "TRIAGE: damage")
    project.suite(SUITE.replace("gpt-4o-mini", "gpt-4o-mnii"))
    result = cli("eval", cwd=project.root)
    assert result.code == 0, result.err
    assert f"promptwise eval: warning: gpt-4o-mnii is not in the model catalog (no price); did you mean gpt-4o-mini? Calls go to {project.server.url}" in result.err
    assert len(project.server.calls()) == 2


def test_a_typo_in_the_judge_model_is_caught_too(direct, cli, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    direct.suite(
        "models: [gpt-4o-mini]\njudge_model: gpt-4o-mnii\ncases:\n"
        "  - vars: {ticket: late}\n    assert: [{type: llm-rubric, value: says sorry}]\n"
    )
    result = cli("eval", cwd=direct.root)
    assert result.code == 2 and direct.server.calls() == []
    assert "unknown model 'gpt-4o-mnii'" in result.err and "did you mean gpt-4o-mini?" in result.err


def test_an_unusable_suite_is_reported_once(project, cli):
    project.suite("cases:\n  - vars: {ticket: x}\n    assertions: []\n")
    result = cli("eval", cwd=project.root)
    assert result.code == 2 and project.server.calls() == []
    both = result.out + result.err
    for message in ("case 'case 1' has no assertions", "unknown key 'assertions' in cases[0]; did you mean 'assert'?"):
        assert both.count(message) == 1, both


def test_a_suite_without_its_prompt_is_reported_once(project, cli):
    project.suite("prompt: missing.prompty\ncases:\n  - vars: {ticket: x}\n    assert: [{type: contains, value: x}]\n")
    result = cli("eval", cwd=project.root)
    assert result.code == 2
    both = result.out + result.err
    assert both.count("missing.prompty") == 1, both
