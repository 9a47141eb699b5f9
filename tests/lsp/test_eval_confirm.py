"""Before an eval run in the editor, against the fake server on loopback: the estimate in the answer, the
user asked (window/showMessageRequest, Run / Cancel) above evals.confirm_above_usd, a refusal above
evals.max_spend, and a key that is not set, each before any call."""

from __future__ import annotations

import os
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import SERVER

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evals"))  # the fake server the eval tests use

from fake_server import FakeLLMServer  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")

RUN = "promptwise.runEvals"
KEY_ENV = "PROMPTWISE_LSP_CONFIRM_KEY"
UNSET_KEY_ENV = "PROMPTWISE_LSP_CONFIRM_UNSET_KEY"
KEY = "sk-fake-lsp-confirm-51c0e"
CONFIG_HOME = Path(tempfile.mkdtemp(prefix="promptwise-confirm-config-"))  # the server's user config lives here

PROMPT = """\
---
model:
  id: MODEL
  parameters:
    max_tokens: 100
---
system:
Classify the ticket as damage, billing or shipping.

user:
{{ticket}}
"""

SUITE = """\
cases:
  - vars: {ticket: The leg arrived dented}
    assert: [{type: contains, value: damage}]
  - vars: {ticket: I was charged twice}
    assert: [{type: contains, value: damage}]  # the fake model answers damage to everything
"""

PRICES = """
[models."fake-gpt"]
provider = "openai"
input_cost_per_million = 1.0
output_cost_per_million = 2.0
context_window = 100000

[models."fake-locked"]
provider = "openai"
input_cost_per_million = 1.0
output_cost_per_million = 2.0
context_window = 100000
"""

# folder -> (its [evals] settings, the model its prompt names)
PROJECTS = {
    "ask": ("confirm_above_usd = 0.0000001", "fake-gpt"),
    "quiet": ("", "fake-gpt"),
    "limited": ("max_spend = 0.0000001\nconfirm_above_usd = 0", "fake-gpt"),
    "locked": ("", "fake-locked"),
}


def make_project(root: Path) -> Path:
    for folder, (evals, model) in PROJECTS.items():
        base = root / folder
        base.mkdir(parents=True)
        (base / "promptwise.toml").write_text(f"[evals]\nretries = 0\n{evals}\n" + textwrap.dedent(PRICES), encoding="utf-8")
        (base / "classify.prompty").write_text(PROMPT.replace("MODEL", model), encoding="utf-8")
        (base / "classify.evals.yaml").write_text(SUITE, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def fake():
    server = FakeLLMServer().start()
    yield server
    server.stop()


@pytest.fixture
def llm(fake):
    fake.reset()
    fake.reply(None, "damage")
    yield fake
    fake.reset()


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, server_env={**os.environ, KEY_ENV: KEY, "XDG_CONFIG_HOME": str(CONFIG_HOME)}),
    params=["visual_studio_code"],
    scope="module",
    name="confirm_client",
)
async def confirm_client(client: LanguageClient, request: pytest.FixtureRequest, tmp_path_factory, fake):
    # The user's own config: every model through the fake server, one model with a key variable that is not set.
    (CONFIG_HOME / "promptwise").mkdir(exist_ok=True)
    (CONFIG_HOME / "promptwise" / "config.toml").write_text(
        f'[evals]\napi_base = "{fake.url}"\napi_key_env = "{KEY_ENV}"\n\n'
        f'[models."fake-locked"]\napi_base = "{fake.url}"\napi_key_env = "{UNSET_KEY_ENV}"\n',
        encoding="utf-8",
    )
    client.root = make_project(tmp_path_factory.mktemp(f"confirm-{request.param}"))  # type: ignore[attr-defined]
    for method in (t.CLIENT_REGISTER_CAPABILITY, t.WORKSPACE_CODE_LENS_REFRESH, t.WORKSPACE_INLAY_HINT_REFRESH, t.WORKSPACE_DIAGNOSTIC_REFRESH):
        client.protocol.fm.features[method] = lambda params: None
    client.questions = []  # type: ignore[attr-defined]
    client.answer = "Run"  # type: ignore[attr-defined]

    def show_message_request(params: t.ShowMessageRequestParams):
        client.questions.append(params)  # type: ignore[attr-defined]
        chosen = [a for a in params.actions or [] if a.title == client.answer]  # type: ignore[attr-defined]
        return chosen[0] if chosen else None

    client.protocol.fm.features[t.WINDOW_SHOW_MESSAGE_REQUEST] = show_message_request
    await client.initialize_session(
        t.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=client.root.as_uri(),  # type: ignore[attr-defined]
            workspace_folders=[t.WorkspaceFolder(uri=client.root.as_uri(), name="confirm")],  # type: ignore[attr-defined]
        )
    )
    yield
    await client.shutdown_session()


async def run_evals(client: LanguageClient, folder: str, answer: str = "Run") -> dict:
    client.questions.clear()  # type: ignore[attr-defined]
    client.answer = answer  # type: ignore[attr-defined]
    uri = (client.root / folder / "classify.prompty").as_uri()  # type: ignore[attr-defined]
    return await client.workspace_execute_command_async(t.ExecuteCommandParams(command=RUN, arguments=[{"uri": uri, "noCache": True}]))


async def test_above_the_threshold_the_user_is_asked_and_run_starts_the_run(confirm_client, llm):
    result = await run_evals(confirm_client, "ask")
    (question,) = confirm_client.questions
    estimate = result["estimate"]
    assert estimate["calls"] == 2 and estimate["cached"] == 0 and estimate["cost"] > 0
    assert question.message.startswith("Run evals for about $") and question.message.endswith(f"? classify.evals.yaml: {estimate['text']}")
    assert estimate["text"].startswith("about 2 calls, ") and [a.title for a in question.actions] == ["Run", "Cancel"]
    assert question.type == t.MessageType.Warning
    assert (result["ran"], result["passed"], result["failed"]) == (2, 2, 0) and len(llm.calls()) == 2


async def test_cancel_leaves_the_run_unstarted_with_a_clear_message(confirm_client, llm):
    with pytest.raises(JsonRpcException) as refused:
        await run_evals(confirm_client, "ask", answer="Cancel")
    assert len(confirm_client.questions) == 1 and llm.calls() == []
    message = str(refused.value)
    assert "evals of classify.evals.yaml not run: the estimate (about $" in message and "was not confirmed; no call was made" in message
    # Dismissing the question is no go-ahead either.
    with pytest.raises(JsonRpcException):
        await run_evals(confirm_client, "ask", answer="nothing")
    assert llm.calls() == []


async def test_below_the_threshold_nothing_is_asked(confirm_client, llm):
    result = await run_evals(confirm_client, "quiet")
    assert confirm_client.questions == [] and result["ran"] == 2 and result["estimate"]["calls"] == 2


async def test_above_max_spend_the_run_is_refused_with_the_estimate(confirm_client, llm):
    with pytest.raises(JsonRpcException) as refused:
        await run_evals(confirm_client, "limited")
    message = str(refused.value)
    assert "evals of classify.evals.yaml not run: the run would cost ~$" in message
    assert "above evals.max_spend in promptwise.toml $0.00000010 (about 2 calls, " in message and message.endswith("no call was made")
    assert confirm_client.questions == [] and llm.calls() == []


async def test_a_key_that_is_not_set_is_reported_before_any_call(confirm_client, llm):
    with pytest.raises(JsonRpcException) as refused:
        await run_evals(confirm_client, "locked")
    assert str(refused.value).startswith(
        f"evals of classify.evals.yaml not run: fake-locked: environment variable {UNSET_KEY_ENV} (api_key_env for fake-locked) is not set"
    )
    assert confirm_client.questions == [] and llm.calls() == []
