"""Propose a Model Cascade in the editor, against the fake server on loopback: the suite runs on its two
models, the proposal names the cheap model, the check that escalates and the blended cost, and comes
with a LiteLLM Router config that litellm's Router loads."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
import yaml
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import SERVER, read_code_actions_like_editors

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evals"))  # the fake server the eval tests use

from fake_server import FakeLLMServer, last_user_text  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")

KEY_ENV = "PROMPTWISE_LSP_CASCADE_KEY"
CONFIG_HOME = Path(tempfile.mkdtemp(prefix="promptwise-cascade-config-"))
PROMPT = "---\nname: Triage\nmodel:\n  id: fake-gpt\n---\nsystem:\nClassify the ticket as damage, billing or shipping.\n\nuser:\n{{ticket}}\n"
SUITE = """\
models: [fake-gpt, fake-lite]
cases:
  - vars: {ticket: The desk leg arrived dented}
    assert: [{type: contains, value: damage}]
  - vars: {ticket: I was charged twice}
    assert: [{type: contains, value: billing}]
"""
CONFIG = """\
[evals]
retries = 0
confirm_above_usd = 100

[models."fake-gpt"]
provider = "openai"
input_cost_per_million = 1.0
output_cost_per_million = 2.0
context_window = 100000

[models."fake-lite"]
provider = "openai"
input_cost_per_million = 0.1
output_cost_per_million = 0.4
context_window = 100000
"""


def _answer(body: dict) -> str:
    text = last_user_text(body)
    if body["model"].endswith("fake-lite") and "charged" in text:
        return "not sure"  # the cheap model misses one case
    return "damage" if "dented" in text else "billing"


@pytest.fixture(scope="module")
def fake():
    server = FakeLLMServer().start()
    server.reply(None, _answer, usage={"prompt_tokens": 1000, "completion_tokens": 10})
    yield server
    server.stop()


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, server_env={**os.environ, KEY_ENV: "sk-fake-cascade", "XDG_CONFIG_HOME": str(CONFIG_HOME)}),
    params=["visual_studio_code"],
    scope="module",
    name="cascade_client",
)
async def cascade_client(client: LanguageClient, tmp_path_factory, fake):
    (CONFIG_HOME / "promptwise").mkdir(exist_ok=True)
    (CONFIG_HOME / "promptwise" / "config.toml").write_text(f'[evals]\napi_base = "{fake.url}"\napi_key_env = "{KEY_ENV}"\n', encoding="utf-8")
    root = tmp_path_factory.mktemp("cascade")
    (root / "promptwise.toml").write_text(CONFIG, encoding="utf-8")
    (root / "triage.prompty").write_text(PROMPT, encoding="utf-8")
    (root / "triage.evals.yaml").write_text(SUITE, encoding="utf-8")
    client.root = root  # type: ignore[attr-defined]
    client.messages = []  # type: ignore[attr-defined]
    for method in (t.CLIENT_REGISTER_CAPABILITY, t.WORKSPACE_CODE_LENS_REFRESH, t.WORKSPACE_INLAY_HINT_REFRESH, t.WORKSPACE_DIAGNOSTIC_REFRESH):
        client.protocol.fm.features[method] = lambda params: None
    client.protocol.fm.features[t.WINDOW_SHOW_MESSAGE] = lambda params: client.messages.append(params.message)  # type: ignore[attr-defined]
    read_code_actions_like_editors(client)
    await client.initialize_session(
        t.InitializeParams(
            capabilities=client_capabilities("visual_studio_code"),
            root_uri=root.as_uri(),
            workspace_folders=[t.WorkspaceFolder(uri=root.as_uri(), name="cascade")],
        )
    )
    yield
    await client.shutdown_session()


async def test_the_proposal_and_its_router_config(cascade_client):
    uri = (cascade_client.root / "triage.prompty").as_uri()
    answer = await cascade_client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="promptwise.proposeCascade", arguments=[{"uri": uri, "noCache": True}])
    )
    assert answer["ran"] == 4 and answer["estimate"]["calls"] >= 4
    cascade = answer["cascade"]
    plan = cascade["plan"]
    assert (plan["first"], plan["then"]) == ("fake-lite", "fake-gpt")
    assert (plan["passed"], plan["calls"], plan["escalations"]) == (2, 2, 1)
    # fake-lite on both cases ($0.000104 each) and fake-gpt on the one it escalates ($0.00102): per 1,000 calls.
    assert plan["costPer1000Calls"] == pytest.approx((2 * 0.000104 + 0.00102) / 2 * 1000)
    assert any(line.strip().startswith("proposed: try fake-lite, escalate to fake-gpt when contains fails") for line in cascade["lines"])
    config = yaml.safe_load(cascade["routerConfig"])
    import litellm

    router = litellm.Router(model_list=config["model_list"], fallbacks=config["router_settings"]["fallbacks"])
    assert sorted(router.get_model_names()) == ["fake-gpt", "fake-lite"]
    assert any("cascade for triage.evals.yaml: proposed: try fake-lite" in m for m in cascade_client.messages)
