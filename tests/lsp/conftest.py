"""pytest-lsp fixtures: the real server over stdio, driven by a client with VS Code's or Neovim's capabilities."""

from __future__ import annotations

import asyncio
import inspect
import shutil
import sys
from pathlib import Path
from typing import Any, Union

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SERVER = [sys.executable, "-m", "promptwise", "lsp"]
PROFILES = ["visual_studio_code", "neovim"]


TRIAGE = """---
name: Support triage
model:
  api: chat
  configuration:
    type: openai
    name: gpt-4o
  parameters:
    max_tokens: 300
sample:
  question: Where is my order NW-1234? 👩‍💻
---
system:
You answer customers of Northwind Home in English or 日本語 🇯🇵, politely and briefly 🎉.
Never promise refunds; hand those to a human agent.

user:
{{question}}
"""


@pytest.fixture(scope="session")
def o200k():
    """tiktoken itself, loaded from litellm's files: the independent reference for exact counts."""
    import os

    import tiktoken

    from promptwise.tokens.encodings import tokenizers_dir

    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(tokenizers_dir()))
    return tiktoken.get_encoding("o200k_base")


def expected_counts(enc) -> tuple[int, int, int]:
    """TRIAGE by OpenAI's published rule: 3 per message + role + content, then 3 to prime the reply."""
    system = "You answer customers of Northwind Home in English or 日本語 🇯🇵, politely and briefly 🎉.\nNever promise refunds; hand those to a human agent."
    user = "Where is my order NW-1234? 👩‍💻"
    sys_tokens = 3 + len(enc.encode("system")) + len(enc.encode(system))
    user_tokens = 3 + len(enc.encode("user")) + len(enc.encode(user))
    return sys_tokens, user_tokens, sys_tokens + user_tokens + 3


def utf16(text: str) -> int:
    """Columns as LSP counts them, computed independently of the server's own conversion."""
    return len(text.encode("utf-16-le")) // 2


def position_of(text: str, needle: str, after: bool = False, occurrence: int = 0) -> t.Position:
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(needle, index + 1)
    if after:
        index += len(needle)
    line = text.count("\n", 0, index)
    start = text.rfind("\n", 0, index) + 1
    return t.Position(line=line, character=utf16(text[start:index]))


def end_of_line(text: str, line: int) -> t.Position:
    return t.Position(line=line, character=utf16(text.split("\n")[line].rstrip("\r")))


class Session:
    """A connected client plus the small steps every test repeats."""

    def __init__(self, client: LanguageClient, profile: str, root: Path) -> None:
        self.client = client
        self.profile = profile
        self.root = root
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        self.published: dict[str, list[t.PublishDiagnosticsParams]] = {}
        self.inlay_hint_refreshes = 0
        self._arrived = asyncio.Event()
        self._record(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, self._on_publish)
        self._record(t.WINDOW_SHOW_MESSAGE, lambda params: None)
        client.protocol.fm.features[t.WORKSPACE_INLAY_HINT_REFRESH] = self._on_inlay_hint_refresh

    def _record(self, method: str, extra) -> None:
        """Wrap the client's own handler so nothing that arrives is missed, then wake waiters."""
        features = self.client.protocol.fm.features
        original = features[method]

        def handler(params):
            extra(params)
            result = original(params)
            self._arrived.set()
            return result

        features[method] = handler

    def _on_publish(self, params: t.PublishDiagnosticsParams) -> None:
        self.published.setdefault(params.uri, []).append(params)

    def _on_inlay_hint_refresh(self, params) -> None:
        self.inlay_hint_refreshes += 1
        self._arrived.set()

    async def until(self, predicate, timeout: float = 30.0, what: str = "a notification"):
        """Wait for notifications until `predicate()` returns something truthy (never sleeps)."""

        async def wait():
            while True:
                self._arrived.clear()
                found = predicate()
                if found:
                    return found
                await self._arrived.wait()

        try:
            return await asyncio.wait_for(wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"timed out waiting for {what}") from None

    @property
    def pulls(self) -> bool:
        caps = self.client.capabilities
        return caps is not None and caps.text_document is not None and caps.text_document.diagnostic is not None

    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.absolute().as_uri()
        text = path.read_text(encoding="utf-8") if text is None else text
        if uri in self.versions:
            self.close(uri)
        self.versions[uri] = 1
        self.texts[uri] = text
        self.client.text_document_did_open(
            t.DidOpenTextDocumentParams(t.TextDocumentItem(uri=uri, language_id="prompt", version=1, text=text))
        )
        return uri

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(t.DidCloseTextDocumentParams(t.TextDocumentIdentifier(uri)))
        self.versions.pop(uri, None)
        self.texts.pop(uri, None)

    def edit(self, uri: str, start: t.Position, end: t.Position, new_text: str, client_text: str | None = None) -> None:
        self.versions[uri] += 1
        if client_text is not None:
            self.texts[uri] = client_text
        self.client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[t.TextDocumentContentChangePartial(range=t.Range(start, end), text=new_text)],
            )
        )

    def replace_all(self, uri: str, text: str) -> None:
        self.versions[uri] += 1
        self.texts[uri] = text
        self.client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[t.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    async def hints(self, uri: str, start: t.Position | None = None, end: t.Position | None = None) -> list[t.InlayHint]:
        rng = t.Range(start or t.Position(0, 0), end or t.Position(100_000, 0))
        result = await self.client.text_document_inlay_hint_async(t.InlayHintParams(t.TextDocumentIdentifier(uri), rng))
        return list(result or [])

    async def hover(self, uri: str, at: t.Position) -> str | None:
        result = await self.client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(uri), at))
        if result is None:
            return None
        assert isinstance(result.contents, t.MarkupContent) and result.contents.kind == t.MarkupKind.Markdown
        return result.contents.value

    async def command(self, name: str, *arguments: Any) -> Any:
        return await self.client.workspace_execute_command_async(t.ExecuteCommandParams(command=name, arguments=list(arguments)))

    async def diagnostics(self, uri: str, timeout: float = 30.0) -> list[t.Diagnostic]:
        """Pulled when the client can pull, else the set pushed for the document's current version."""
        if self.pulls:
            report = await self.client.text_document_diagnostic_async(t.DocumentDiagnosticParams(t.TextDocumentIdentifier(uri)))
            assert report.kind == "full"
            return list(report.items)
        return await self.pushed(uri, timeout=timeout)

    async def pushed(self, uri: str, version: int | None = None, timeout: float = 30.0) -> list[t.Diagnostic]:
        version = self.versions.get(uri) if version is None else version

        def found():
            for params in reversed(self.published.get(uri, [])):
                if params.version == version:
                    return params
            return None

        params = await self.until(found, timeout, f"diagnostics for {uri} v{version}")
        return list(params.diagnostics)

    async def message(self, contains: str, timeout: float = 30.0) -> t.ShowMessageParams:
        def found():
            return next((m for m in self.client.messages if contains in m.message), None)

        return await self.until(found, timeout, f"a message containing {contains!r}")


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the examples (with their promptwise.toml), so tests may edit files."""
    root = tmp_path_factory.mktemp("ws") / "examples"
    shutil.copytree(EXAMPLES, root)
    return root


def session_fixture(
    name: str, configuration: dict[str, Any] | None = None, initialization_options: Any = None, scope: str = "module"
):
    """A `Session` fixture called `name`, one per client profile, with its own server underneath.

    `configuration` is what the client answers to workspace/configuration.
    """

    @pytest_lsp.fixture(
        config=ClientServerConfig(server_command=SERVER), params=PROFILES, scope=scope, name=f"{name}_client"
    )
    async def client_fixture(client: LanguageClient, request: pytest.FixtureRequest, workspace: Path):
        client.registrations = []  # type: ignore[attr-defined]

        def register_capability(params: t.RegistrationParams) -> None:
            client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

        client.protocol.fm.features[t.CLIENT_REGISTER_CAPABILITY] = register_capability
        read_code_actions_like_editors(client)
        if configuration is not None:
            client.set_configuration(configuration)
        client.init_result = await client.initialize_session(  # type: ignore[attr-defined]
            t.InitializeParams(
                capabilities=client_capabilities(request.param),
                root_uri=workspace.as_uri(),
                workspace_folders=[t.WorkspaceFolder(uri=workspace.as_uri(), name="examples")],
                initialization_options=initialization_options,
            )
        )
        yield
        await client.shutdown_session()

    def make_session(**fixtures: Any) -> Session:
        client = fixtures[f"{name}_client"]
        return Session(client, _profile(client), fixtures["workspace"])

    # Named parameters, so pytest parametrizes the session by the client fixture's profiles.
    make_session.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in (f"{name}_client", "workspace")]
    )
    return client_fixture, pytest.fixture(scope=scope, name=name)(make_session)


# One server per profile shared by every module that needs no settings of its own (each uses its own files).
session_client, session = session_fixture("session", scope="session")


def read_code_actions_like_editors(client: LanguageClient) -> None:
    """lsprotocol reads any code action that has a `command` as a Command; editors look at its type
    (a Command's `command` is a string, a CodeAction's an object)."""
    converter = client.protocol._converter

    def hook(obj, _):
        kind = t.Command if isinstance(obj.get("command"), str) else t.CodeAction
        return converter.structure(obj, kind)

    converter.register_structure_hook(Union[t.Command, t.CodeAction], hook)


def _profile(client: LanguageClient) -> str:
    caps = client.capabilities
    return "neovim" if caps is not None and caps.general is not None and caps.general.position_encodings else "visual_studio_code"
