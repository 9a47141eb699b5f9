"""What the editor decides, not the repository: the workspace folders limit what prompt files pull in,
the user's own allowRead extends them, and in a restricted (untrusted) workspace no command calls a model."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from promptwise.lsp.workspace import UserEvals, parse_user, split_options
from tests.lsp.conftest import SERVER, TRIAGE, Session, _profile

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evals"))  # the fake server the eval tests use

from fake_server import FakeLLMServer  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")

KEY_ENV = "PROMPTWISE_TRUST_TEST_KEY"
KEY = "sk-trust-test-0c41d9e2"
SUITE = "models: [fake-gpt]\ncases:\n  - vars: {question: where is my order}\n    assert: [{type: contains, value: order}]\n"
PROMPT = TRIAGE.replace("name: gpt-4o", "name: fake-gpt")


@pytest.fixture(scope="module")
def fake():
    """Where the user's own settings send eval calls."""
    server = FakeLLMServer(api_key=KEY).start()
    server.reply(None, lambda body: "Your order ships today.")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def repo_host():
    """Where the repository's promptwise.toml would send them: it must never be called."""
    server = FakeLLMServer().start()
    server.reply(None, lambda body: "Your order ships today.")
    yield server
    server.stop()


def make_tree(base: Path, url: str) -> dict[str, Path]:
    """A workspace, a folder the user allows, and one nobody allowed; a CLAUDE.md imports from all three."""
    ws, allowed, elsewhere = base / "ws", base / "allowed", base / "elsewhere"
    for folder in (ws / "team", allowed, elsewhere):
        folder.mkdir(parents=True)
    (ws / "shared.md").write_text("Shared rules for every team: cite the policy section.\n")
    (allowed / "notes.md").write_text("The user's own notes: keep replies short.\n")
    (elsewhere / "secret.md").write_text("AWS_SECRET=do-not-read-this\n")
    (ws / "team" / "CLAUDE.md").write_text(f"# Team\n\n@../shared.md\n@{allowed}/notes.md\n@{elsewhere}/secret.md\n")
    # The repository's own config names a host: in a restricted workspace it must never be called.
    (ws / "promptwise.toml").write_text(
        textwrap.dedent(f"""
        [evals]
        api_base = "{url}"
        api_key_env = "{KEY_ENV}"
        retries = 0

        [models."fake-gpt"]
        provider = "openai"
        api_base = "{url}"
        api_key_env = "{KEY_ENV}"
        """)
    )
    (ws / "triage.prompty").write_text(PROMPT)
    (ws / "triage.evals.yaml").write_text(SUITE)
    return {"ws": ws, "allowed": allowed, "elsewhere": elsewhere}


def fixture_for(trusted: bool | None):
    @pytest_lsp.fixture(
        config=ClientServerConfig(server_command=SERVER, server_env={**os.environ, KEY_ENV: KEY}), scope="module"
    )
    async def client_fixture(client: LanguageClient, tmp_path_factory: pytest.TempPathFactory, fake, repo_host):
        tree = make_tree(tmp_path_factory.mktemp("trust"), repo_host.url)
        client.tree = tree  # type: ignore[attr-defined]
        client.protocol.fm.features[t.CLIENT_REGISTER_CAPABILITY] = lambda params: None
        client.protocol.fm.features[t.WORKSPACE_CODE_LENS_REFRESH] = lambda params: None
        options: dict = {"user": {"allowRead": [str(tree["allowed"])], "evals": {"apiBase": fake.url, "apiKeyEnv": KEY_ENV}}}
        if trusted is not None:
            options["trusted"] = trusted
        ws = tree["ws"]
        await client.initialize_session(
            t.InitializeParams(
                capabilities=client_capabilities("visual_studio_code"),
                root_uri=ws.as_uri(),
                workspace_folders=[t.WorkspaceFolder(uri=ws.as_uri(), name="ws")],
                initialization_options=options,
            )
        )
        yield
        await client.shutdown_session()

    return client_fixture


restricted_client = fixture_for(False)
trusted_client = fixture_for(None)  # other editors send nothing: trusted


def session_of(client: LanguageClient) -> Session:
    return Session(client, _profile(client), client.tree["ws"])  # type: ignore[attr-defined]


async def test_a_restricted_workspace_counts_but_never_calls_a_model(restricted_client, fake, repo_host):
    session = session_of(restricted_client)
    ws = restricted_client.tree["ws"]  # type: ignore[attr-defined]
    uri = session.open(ws / "triage.prompty")
    assert any("tokens" in str(h.label) for h in await session.hints(uri))  # counts work
    suite = (ws / "triage.evals.yaml").as_uri()
    for command, args in (("promptwise.runEvals", [suite]), ("promptwise.runEvalCase", [suite, 0]), ("promptwise.findCheapestModel", [uri])):
        with pytest.raises(JsonRpcException) as refused:
            await session.command(command, *args)
        assert refused.value.message.startswith("evals are disabled in a restricted workspace: "), command
        assert "not trusted" in refused.value.message
    assert fake.calls() == [] and repo_host.calls() == []  # no model call went out
    assert not (ws / ".promptwise").exists()  # and no run was recorded
    assert any("tokens" in str(h.label) for h in await session.hints(uri))  # still serving
    session.close(uri)


async def test_eval_calls_go_where_the_user_said_and_the_run_says_where(trusted_client, fake, repo_host):
    session = session_of(trusted_client)
    ws = trusted_client.tree["ws"]  # type: ignore[attr-defined]
    before = len(fake.calls())
    result = await session.command("promptwise.runEvals", (ws / "triage.evals.yaml").as_uri())
    assert (result["ran"], result["passed"]) == (1, 1)
    host = fake.url.split("://", 1)[1].rstrip("/").split("/")[0]
    assert result["destinations"] == [f"fake-gpt -> {host} [the editor's user settings (promptwise.evals), key from ${KEY_ENV}]"]
    logged = [m.message for m in trusted_client.log_messages if "evals of triage.evals.yaml call" in m.message]
    assert logged and host in logged[-1]
    calls = fake.calls()[before:]
    assert calls and all(c.headers.get("Authorization") == f"Bearer {KEY}" for c in calls)
    assert repo_host.calls() == []  # the repository's api_base was not used


async def test_imports_come_from_the_workspace_folders_and_the_users_allowed_folders(trusted_client):
    session = session_of(trusted_client)
    tree = trusted_client.tree  # type: ignore[attr-defined]
    uri = session.open(tree["ws"] / "team" / "CLAUDE.md")
    found = await session.diagnostics(uri)
    refused = [d for d in found if d.code == "outside-workspace"]
    # The workspace folder is the editor's (not the file's own folder): ../shared.md is inside it;
    # the user allowed notes.md's folder; nothing allowed secret.md's.
    assert len(refused) == 1 and str(tree["elsewhere"] / "secret.md") in refused[0].message
    data = await session.command("promptwise.showBreakdown", uri)
    errors = {Path(i["target"]).name: i["error"] for i in data["includes"]}
    assert errors["shared.md"] is None and errors["notes.md"] is None and errors["secret.md"]

    # The editor now has only the team folder open: ../shared.md is outside it.
    team = tree["ws"] / "team"
    trusted_client.protocol.notify(
        t.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS,
        t.DidChangeWorkspaceFoldersParams(
            t.WorkspaceFoldersChangeEvent(
                added=[t.WorkspaceFolder(uri=team.as_uri(), name="team")],
                removed=[t.WorkspaceFolder(uri=tree["ws"].as_uri(), name="ws")],
            )
        ),
    )

    async def shared_refused():
        while True:
            data = await session.command("promptwise.showBreakdown", uri)
            errors = {Path(i["target"]).name: i["error"] for i in data["includes"]}
            if errors["shared.md"]:
                return errors
            await asyncio.sleep(0.05)

    errors = await asyncio.wait_for(shared_refused(), 30)
    assert "outside the workspace" in errors["shared.md"] and errors["notes.md"] is None
    session.close(uri)


async def test_user_settings_are_read_and_bad_ones_named():
    folders, evals, problems = parse_user({"allowRead": ["~/prompts", "/srv/shared"], "evals": {"apiBase": "http://127.0.0.1:4000", "apiKeyEnv": "PROXY_KEY"}})
    assert folders == [os.path.expanduser("~/prompts"), "/srv/shared"] and problems == []
    assert evals == UserEvals(api_base="http://127.0.0.1:4000", api_key_env="PROXY_KEY")
    folders, evals, problems = parse_user({"allowRead": ["relative/dir"], "evals": {"apiBase": 4}})
    assert folders == [] and evals == UserEvals()
    assert any("'relative/dir' is not an absolute folder" in p for p in problems)
    assert any("promptwise.evals.apiBase must be a string" in p for p in problems)
    settings, user, trusted = split_options({"defaultModel": "gpt-4o", "user": {"allowRead": []}, "trusted": False})
    assert settings == {"defaultModel": "gpt-4o"} and user == {"allowRead": []} and trusted is False
    assert split_options(None) == (None, None, True)
