"""Evals in the editor, end to end against the fake OpenAI-compatible server on loopback: code lenses
before and after a run, $/progress, cancelling (from the progress and with $/cancelRequest),
diagnostics and inlay hints on case lines, one case, the cheapest passing model, and the report."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import PROFILES, SERVER, Session, _profile, position_of, read_code_actions_like_editors as _read_code_actions_like_editors

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evals"))  # the fake server the eval tests use

from fake_server import FakeLLMServer, last_user_text  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")

KEY_ENV = "PROMPTWISE_LSP_EVALS_KEY"
KEY = "sk-fake-lsp-evals-7f3a9"
RUN, CASE, CHEAPEST = "promptwise.runEvals", "promptwise.runEvalCase", "promptwise.findCheapestModel"

TRIAGE_PROMPT = """\
---
name: Ticket triage
model:
  id: fake-gpt
  parameters:
    max_tokens: 200
---
system:
You triage support tickets for Northwind. Reply with a category line.

user:
Ticket: {{ticket}}
"""

TRIAGE_SUITE = """\
models: [fake-gpt]
cases:
  - name: dented leg
    vars: {ticket: The desk leg arrived dented}
    assert:
      - type: icontains
        value: damage
  - name: late order
    vars: {ticket: My order is two weeks late}
    assert:
      - type: contains
        value: shipping
  - name: double charge
    vars: {ticket: I was charged twice}
    assert:
      - type: contains
        value: billing
"""

SLOW_PROMPT = TRIAGE_PROMPT.replace("Ticket triage", "Slow triage").replace("Ticket: {{ticket}}", "Slow ticket: {{ticket}}")
SLOW_SUITE = "models: [fake-gpt]\nconcurrency: 1\ncases:\n" + "".join(
    f"  - name: slow {i}\n    vars: {{ticket: ticket number {i}}}\n    assert: [{{type: contains, value: TRIAGE}}]\n" for i in range(8)
)

CLASSIFY_PROMPT = """\
---
model:
  id: gpt-4o
  parameters:
    max_tokens: 100
---
system:
Classify the ticket as damage, billing or shipping. Reply with the category only.

user:
{{ticket}}
"""

CLASSIFY_SUITE = """\
cases:
  - vars: {ticket: The leg arrived dented}
    assert: [{type: equals, value: damage}]
  - vars: {ticket: I was charged twice}
    assert: [{type: equals, value: billing}]
  - vars: {ticket: Where is my parcel}
    assert: [{type: equals, value: shipping}]
"""


PLAN_PROMPT = """\
---
name: Plan
model:
  id: fake-reasoner
  parameters:
    max_tokens: 4000
    reasoning_effort: high
---
system:
Plan the work in three steps.

user:
{{task}}
"""

PLAN_SUITE = """\
models: [fake-reasoner]
cases:
  - vars: {task: Move the desk}
    assert: [{type: contains, value: step}]
  - vars: {task: Paint the wall}
    assert: [{type: contains, value: step}]
  - vars: {task: Fix the door}
    assert: [{type: contains, value: step}]
"""


def triage_reply(body) -> str:
    text = last_user_text(body)
    if "dented" in text:
        return "TRIAGE: damage"
    if "late" in text:
        return "TRIAGE: shipping"
    if "charged" in text:
        return "TRIAGE: refund"  # the suite expects billing: this case fails
    return "TRIAGE: other"


def classify_reply(body) -> str:
    text = last_user_text(body)
    return "damage" if "dented" in text else "billing" if "charged" in text else "shipping"


def reply(body) -> str:
    if body["messages"][0]["content"].startswith("Classify"):
        return classify_reply(body)
    return triage_reply(body)


def make_project(root: Path, url: str) -> Path:
    """The project's config prices the fake model; where calls go is the user's (initializationOptions.user)."""
    models = f"""
        [models."fake-gpt"]
        provider = "openai"
        input_cost_per_million = 1.0
        output_cost_per_million = 2.0
        context_window = 100000

        [models."fake-reasoner"]
        provider = "openai"
        input_cost_per_million = 1.0
        output_cost_per_million = 4.0
        context_window = 100000
        supports = ["reasoning"]
    """
    evals = f"""
        [evals]
        retries = 0
        timeout = 10
        concurrency = 4
    """
    files = {
        "promptwise.toml": 'default_model = "fake-gpt"\n' + textwrap.dedent(evals) + textwrap.dedent(models),
        "triage.prompty": TRIAGE_PROMPT,
        "triage.evals.yaml": TRIAGE_SUITE,
        "slow.prompty": SLOW_PROMPT,
        "slow.evals.yaml": SLOW_SUITE,
        "lonely.prompty": TRIAGE_PROMPT,  # no suite beside it
        "plan.prompty": PLAN_PROMPT,
        "plan.evals.yaml": PLAN_SUITE,
        # Cheaper candidates come from the catalog (OpenAI's), all answered by the fake server.
        "cheap/promptwise.toml": 'allowed_providers = ["openai"]\n' + textwrap.dedent(evals),
        "cheap/classify.prompty": CLASSIFY_PROMPT,
        "cheap/classify.evals.yaml": CLASSIFY_SUITE,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def fake():
    server = FakeLLMServer().start()
    yield server
    server.stop()


@pytest.fixture
def llm(fake):
    """The fake server answering every case, and refusing calls without the key from api_key_env."""
    fake.reset()
    fake.api_key = KEY
    fake.reply(None, reply)
    yield fake
    fake.reset()


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, server_env={**os.environ, KEY_ENV: KEY}),
    params=PROFILES,
    scope="module",
    name="evals_client",
)
async def evals_client(client: LanguageClient, request: pytest.FixtureRequest, tmp_path_factory, fake):
    # A project per client profile, so each server starts with no results on disk.
    client.root = make_project(tmp_path_factory.mktemp(f"evals-{request.param}"), fake.url)  # type: ignore[attr-defined]
    client.protocol.fm.features[t.CLIENT_REGISTER_CAPABILITY] = lambda params: None
    _read_code_actions_like_editors(client)
    client.code_lens_refreshes = 0  # type: ignore[attr-defined]

    def code_lens_refresh(params) -> None:
        client.code_lens_refreshes += 1  # type: ignore[attr-defined]

    client.protocol.fm.features[t.WORKSPACE_CODE_LENS_REFRESH] = code_lens_refresh
    await client.initialize_session(
        t.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=client.root.as_uri(),  # type: ignore[attr-defined]
            workspace_folders=[t.WorkspaceFolder(uri=client.root.as_uri(), name="evals")],  # type: ignore[attr-defined]
            # As the extension sends them, from user-scope settings only.
            initialization_options={"user": {"evals": {"apiBase": fake.url, "apiKeyEnv": KEY_ENV}}},
        )
    )
    yield
    await client.shutdown_session()


@pytest.fixture(scope="module")
def ev(evals_client) -> Session:
    return Session(evals_client, _profile(evals_client), evals_client.root)


# ---- helpers ----


async def lenses(ev: Session, uri: str) -> list[t.CodeLens]:
    found = await ev.client.text_document_code_lens_async(t.CodeLensParams(t.TextDocumentIdentifier(uri)))
    return list(found or [])


async def eventually(predicate, timeout: float = 30.0, what: str = "a condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = predicate()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def new_progress(ev: Session, before: set, title: str):
    """The server-created progress token of a run that began after `before` was taken."""
    for token, values in ev.client.progress_reports.items():
        if token not in before and values and isinstance(values[0], t.WorkDoneProgressBegin) and title in values[0].title:
            return token
    return None


def ended(ev: Session, token) -> t.WorkDoneProgressEnd | None:
    values = ev.client.progress_reports.get(token) or []
    return values[-1] if values and isinstance(values[-1], t.WorkDoneProgressEnd) else None


async def eval_diagnostics(ev: Session, uri: str) -> list[t.Diagnostic]:
    """Eval diagnostics of a document: pulled, or the newest pushed set that has them."""
    if ev.pulls:
        found = await ev.diagnostics(uri)
    else:

        def pushed():
            for params in reversed(ev.published.get(uri, [])):
                if any(str(d.code).startswith("eval-") for d in params.diagnostics):
                    return params
            return None

        found = (await ev.until(pushed, what=f"eval diagnostics for {uri}")).diagnostics
    return [d for d in found if str(d.code).startswith("eval-")]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n")


# ---- tests ----


async def test_a_run_updates_lenses_diagnostics_hints_and_writes_the_report(ev: Session, llm):
    prompt = ev.open(ev.root / "triage.prompty")
    suite = ev.open(ev.root / "triage.evals.yaml")

    before = [lens.command.title for lens in await lenses(ev, prompt)]
    assert before == ["Run evals (3 cases)"]
    (top,) = await lenses(ev, prompt)
    assert top.range.start.line == 0 and top.command.command == RUN and list(top.command.arguments) == [prompt]
    on_suite = await lenses(ev, suite)
    assert [lens.command.title for lens in on_suite] == ["Run evals (3 cases)", "Run case", "Run case", "Run case"]
    assert [lens.range.start.line for lens in on_suite[1:]] == [2, 7, 12]
    assert on_suite[3].command.command == CASE and list(on_suite[3].command.arguments) == [suite, 2]

    # The code action, on any line of a prompt that has a suite; a command, so no edit.
    actions = await ev.client.text_document_code_action_async(
        t.CodeActionParams(t.TextDocumentIdentifier(prompt), t.Range(t.Position(9, 0), t.Position(9, 0)), t.CodeActionContext(diagnostics=[]))
    )
    (run,) = [a for a in actions or [] if isinstance(a, t.CodeAction) and a.title == "Run evals for this prompt"]
    assert run.kind == t.CodeActionKind.Empty and run.command.command == RUN and list(run.command.arguments) == [prompt] and run.edit is None
    lonely = ev.open(ev.root / "lonely.prompty")
    actions = await ev.client.text_document_code_action_async(
        t.CodeActionParams(t.TextDocumentIdentifier(lonely), t.Range(t.Position(0, 0), t.Position(0, 0)), t.CodeActionContext(diagnostics=[]))
    )
    assert not [a for a in actions or [] if "Run evals" in a.title]
    assert await lenses(ev, lonely) == []

    progress_before = set(ev.client.progress_reports)
    result = await ev.command(RUN, {"uri": prompt, "open": True, "noCache": True})

    assert (result["ran"], result["passed"], result["failed"], result["errored"], result["cancelled"]) == (3, 2, 1, 0, False)
    (model,) = result["models"]
    assert (model["model"], model["passed"], model["failed"]) == ("fake-gpt", 2, 1)
    assert result["cost"] > 0 and result["seconds"] > 0
    (failure,) = result["failures"]
    assert failure["case"] == "double charge" and failure["line"] == 12 and failure["uri"] == suite
    report = Path(result["reportPath"])
    assert report.is_file() and Path(result["resultsPath"]).is_file()
    assert report.parent.parent == ev.root / ".promptwise" / "runs"
    assert result["reportUri"] == report.as_uri() and "# promptwise eval report" in report.read_text()
    assert [d.uri for d in ev.client.shown_documents] == [result["reportUri"]]
    # Every call carried the key named by api_key_env (the fake server refuses others).
    assert len(llm.calls()) == 3 and {c.headers["Authorization"] for c in llm.calls()} == {f"Bearer {KEY}"}

    # Progress on a token the server created: begin (cancellable), reports with "N/3 cases", end.
    token = new_progress(ev, progress_before, "triage.evals.yaml")
    assert token is not None
    values = ev.client.progress_reports[token]
    begin, reports, end = values[0], values[1:-1], values[-1]
    assert begin.cancellable is True and begin.percentage == 0
    assert reports and all(isinstance(r, t.WorkDoneProgressReport) for r in reports)
    assert reports[-1].message.startswith("3/3 cases") and reports[-1].percentage == 100
    assert all("/3 cases" in r.message for r in reports if r.message)
    assert isinstance(end, t.WorkDoneProgressEnd) and end.message.startswith("2/3 passed")

    # Clients that can be asked to refresh lenses are (VS Code); the others ask again on their own.
    assert ev.client.code_lens_refreshes == (1 if ev.profile == "visual_studio_code" else 0)
    titles = [lens.command.title for lens in await lenses(ev, prompt)]
    assert titles[0] == "Run evals (3 cases)"
    assert titles[1].startswith("2/3 passed, $") and titles[1].endswith(" s")

    # The failed case: a diagnostic on its line in the suite, saying what was expected and what came back.
    (diagnostic,) = await eval_diagnostics(ev, suite)
    assert diagnostic.code == "eval-failed" and diagnostic.source == "promptwise"
    assert diagnostic.severity == t.DiagnosticSeverity.Error
    assert diagnostic.range.start.line == line_of(TRIAGE_SUITE, "- name: double charge")
    assert "'double charge' failed on fake-gpt" in diagnostic.message
    assert "contains: output does not contain 'billing'" in diagnostic.message
    assert "expected: contains 'billing'" in diagnostic.message and "got: 'TRIAGE: refund'" in diagnostic.message

    hints = [h for h in await ev.hints(suite) if "passed" in h.label or "failed" in h.label]
    # Every hint fits VS Code's 43 characters; the failure's full reason is in the tooltip.
    assert [(h.position.line, h.label) for h in hints] == [
        (2, "✓ passed"),
        (7, "✓ passed"),
        (12, "✗ failed: contains: output does not…"),
    ]
    assert "contains: output does not contain 'billing'" in hints[2].tooltip.value
    assert hints[0].position.character == len("  - name: dented leg")


async def test_after_a_run_the_hover_prices_reasoning_as_measured(ev: Session, llm):
    llm.reset()
    llm.api_key = KEY
    llm.reply(None, "step one, step two, step three", reasoning_tokens=420, cached_tokens=0)
    prompt = ev.open(ev.root / "plan.prompty")
    where = position_of(ev.texts[prompt], "fake-reasoner")
    before = await ev.hover(prompt, where)
    assert "assumed" in before and "measured" not in before
    result = await ev.command(RUN, {"uri": prompt, "noCache": True})
    assert (result["ran"], result["passed"]) == (3, 3)
    # The usage the fake server reported (420 reasoning tokens a call) prices the file, with no edit.
    after = await ev.hover(prompt, where)
    assert "measured" in after and "420" in after and "median over 3 eval calls" in after


async def test_one_case_on_the_clients_progress_token(ev: Session, llm):
    suite = ev.open(ev.root / "triage.evals.yaml")
    token = "client-token-1"
    ev.client.progress_reports[token] = []
    before = set(ev.client.progress_reports)
    result = await ev.client.workspace_execute_command_async(
        t.ExecuteCommandParams(command=CASE, arguments=[{"uri": suite, "case": "late order", "noCache": True}], work_done_token=token)
    )
    assert (result["ran"], result["passed"], result["failed"]) == (1, 1, 0)
    assert [c.body["messages"][1]["content"] for c in llm.calls()] == ["Ticket: My order is two weeks late"]
    values = ev.client.progress_reports[token]
    assert isinstance(values[0], t.WorkDoneProgressBegin) and "late order" in values[0].title
    assert any(isinstance(v, t.WorkDoneProgressReport) and v.message == "1/1 cases" for v in values)
    assert isinstance(values[-1], t.WorkDoneProgressEnd)
    assert set(ev.client.progress_reports) == before  # no token was created: the client's was used

    listed = await ev.command("promptwise.listEvalCases", {"uri": suite})
    assert [(c["name"], c["index"], c["line"]) for c in listed["cases"]] == [("dented leg", 0, 2), ("late order", 1, 7), ("double charge", 2, 12)]

    # On a case's lines in the suite, the code action runs that case.
    actions = await ev.client.text_document_code_action_async(
        t.CodeActionParams(t.TextDocumentIdentifier(suite), t.Range(t.Position(9, 6), t.Position(9, 6)), t.CodeActionContext(diagnostics=[]))
    )
    titles = {a.title: a for a in actions or [] if isinstance(a, t.CodeAction) and a.command is not None}
    assert "Run evals for this suite" in titles
    assert list(titles["Run eval case 'late order'"].command.arguments) == [suite, 1]

    # By index, on the prompt's URI; results merge with the suite's earlier run.
    result = await ev.command(CASE, ev.root.joinpath("triage.prompty").as_uri(), 2)
    assert (result["ran"], result["failed"]) == (1, 1) and result["failures"][0]["case"] == "double charge"
    titles = [lens.command.title for lens in await lenses(ev, suite)]
    assert titles[1].startswith("2/3 passed, $")

    with pytest.raises(JsonRpcException, match="no case named 'nope'"):
        await ev.command(CASE, suite, "nope")
    with pytest.raises(JsonRpcException, match="no eval suite for it"):
        await ev.command(RUN, ev.root.joinpath("lonely.prompty").as_uri())


async def test_cancelling_from_the_progress_stops_the_run(ev: Session, llm):
    llm.reply("Slow ticket", "TRIAGE: slow", latency=0.4)
    llm.rules.insert(0, llm.rules.pop())  # before the catch-all rule
    uri = ev.root.joinpath("slow.prompty").as_uri()
    before = set(ev.client.progress_reports)
    task = asyncio.ensure_future(ev.command(RUN, {"uri": uri, "noCache": True}))
    token = await eventually(lambda: new_progress(ev, before, "slow.evals.yaml"), what="the run's progress")
    await eventually(lambda: any(isinstance(v, t.WorkDoneProgressReport) and v.message.startswith("1/8") for v in ev.client.progress_reports[token]), what="a case done")
    ev.client.window_work_done_progress_cancel(t.WorkDoneProgressCancelParams(token=token))
    result = await asyncio.wait_for(task, 20)
    assert result["cancelled"] is True and result["stoppedBy"] == "cancelled from its progress"
    assert 1 <= result["ran"] < 8 and len(llm.calls()) < 8
    assert ended(ev, token).message.startswith("cancelled: ")
    assert Path(result["reportPath"]).is_file()  # what finished is kept
    titles = [lens.command.title for lens in await lenses(ev, uri)]
    assert titles[1].endswith("(cancelled)")


async def test_cancel_request_stops_the_run(ev: Session, llm):
    llm.reply("Slow ticket", "TRIAGE: slow", latency=0.4)
    llm.rules.insert(0, llm.rules.pop())
    uri = ev.root.joinpath("slow.prompty").as_uri()
    before = set(ev.client.progress_reports)
    params = t.ExecuteCommandParams(command=RUN, arguments=[{"uri": uri, "noCache": True}])
    msg_id = "evals-cancel-request-1"
    future = ev.client.protocol.send_request(t.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id)
    token = await eventually(lambda: new_progress(ev, before, "slow.evals.yaml"), what="the run's progress")
    await eventually(lambda: len(llm.calls()) >= 1, what="a model call")
    ev.client.protocol.notify(t.CANCEL_REQUEST, t.CancelParams(id=msg_id))
    with pytest.raises(JsonRpcException) as raised:
        await asyncio.wait_for(asyncio.wrap_future(future), 20)
    assert raised.value.code == -32800  # RequestCancelled
    end = await eventually(lambda: ended(ev, token), what="the end of the progress")
    assert end.message.startswith("cancelled: ")
    calls = len(llm.calls())
    assert calls < 8
    await asyncio.sleep(0.6)  # a run that went on would call the model again meanwhile (0.4 s a call)
    assert len(llm.calls()) == calls


async def test_find_cheapest_model(ev: Session, llm):
    uri = ev.open(ev.root / "cheap" / "classify.prompty")
    result = await ev.command(CHEAPEST, {"uri": uri, "maxCandidates": 2, "noCache": True})
    assert (result["ran"], result["passed"]) == (3, 3)
    cheapest = result["cheapest"]
    assert cheapest["current"] == "gpt-4o" and cheapest["currentPassed"] == 3 and cheapest["total"] == 3
    assert isinstance(cheapest["model"], str) and cheapest["model"] != "gpt-4o"
    assert [trial["model"] for trial in cheapest["tried"]] == [cheapest["model"]]
    assert cheapest["savingPerCall"] > 0
    assert cheapest["savingPer1000Calls"] == pytest.approx(cheapest["savingPerCall"] * 1000)
    assert 0 < cheapest["costPerCall"] < cheapest["currentCostPerCall"]
    # With the prompt open, the edit that switches it to that model, and to the effort the search
    # chose (as the model-switch and effort code actions would).
    edit = json.dumps(cheapest["edit"])
    assert f'"newText": "{cheapest["model"]}"' in edit
    if cheapest["effort"] is not None:
        assert cheapest["tried"][0]["effort"] == cheapest["effort"] and f"reasoning_effort: {cheapest['effort']}" in edit
    assert {c.body["model"].split("/")[-1] for c in llm.calls()} == {"gpt-4o", cheapest["model"]}
    at = f" at {cheapest['effort']} effort" if cheapest["effort"] else ""
    message = await ev.message(f"promptwise: {cheapest['model']}{at} passes 3/3 like gpt-4o")
    assert "per 1,000 calls" in message.message
    report = Path(result["reportPath"]).read_text()
    assert "## Cheapest passing model" in report and f"**{cheapest['model']}**" in report
