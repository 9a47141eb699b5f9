"""Running evals from the editor: promptwise.runEvals, promptwise.runEvalCase and promptwise.findCheapestModel.

- Arguments: `{uri, open?, noCache?, models?}` or `[uri]` for runEvals (a prompt with NAME.evals.yaml
  beside it, or the suite itself); `{uri, case, ...}` or `[uri, case]` for runEvalCase (the case's
  name, or its zero-based index); `{uri, maxCandidates?, ...}` for findCheapestModel. A suite open
  in the editor runs as the editor has it; prompts are read from disk, as `promptwise eval` reads them.
- Progress: `$/progress` begin/report/end ("7/12 cases", a percentage), on the request's
  workDoneToken when the client sent one, else on a token created with window/workDoneProgress/create
  when the client supports it. The progress is cancellable: window/workDoneProgress/cancel stops the
  run through the evals CancelToken, as does `$/cancelRequest` of the executeCommand request. A
  stopped run keeps what finished: it is saved and shown like any other, marked cancelled.
- Each run is saved like `promptwise eval` saves it (`.promptwise/runs/<timestamp>/results.json`,
  so model suggestions see it), with a Markdown report beside it whose URI the command returns (and
  asks the client to show with window/showDocument when invoked with `open: true`).
- Afterwards the code lenses, the inlay hints on case lines and the diagnostics on failed cases
  (eval_results.py) are refreshed.

litellm is imported when the first run starts (on a worker thread, so the editor stays responsive
meanwhile), never before.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import logging
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from . import diagnostics, eval_answers, eval_results, eval_spend, labels
from .documents import uri_to_path
from .eval_progress import Reporter, supports as _supports
from .workspace import require_trusted

if TYPE_CHECKING:
    from ..evals import CancelToken, CheapestResult, LoadedSuite, Progress, Routing, RunResult
    from .server import PromptwiseServer

log = logging.getLogger(__name__)

RUN_EVALS = "promptwise.runEvals"
RUN_EVAL_CASE = "promptwise.runEvalCase"
FIND_CHEAPEST = "promptwise.findCheapestModel"
LIST_CASES = "promptwise.listEvalCases"
PROPOSE_CASCADE = "promptwise.proposeCascade"
COMMANDS = (RUN_EVALS, RUN_EVAL_CASE, FIND_CHEAPEST, LIST_CASES, PROPOSE_CASCADE)
REQUEST_FAILED = -32803  # LSP RequestFailed

# The executeCommand request a command handler is running for: its id and its params (for the
# workDoneToken). pygls hands command handlers only the arguments; each request is handled in its
# own context, which the handler's task inherits.
_request: contextvars.ContextVar[tuple[Any, types.ExecuteCommandParams] | None] = contextvars.ContextVar(
    "promptwise_execute_command", default=None
)


def register(server: PromptwiseServer) -> None:
    server.command(RUN_EVALS)(run_evals)
    server.command(RUN_EVAL_CASE)(run_eval_case)
    server.command(FIND_CHEAPEST)(find_cheapest_model)
    server.command(LIST_CASES)(list_eval_cases)
    server.command(PROPOSE_CASCADE)(propose_cascade)
    server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)(work_done_cancel)
    server.eval_runs = Runs()  # type: ignore[attr-defined]
    _watch_requests(server)


def _watch_requests(server: PromptwiseServer) -> None:
    """Note each executeCommand request's id and params, and stop its run on `$/cancelRequest`.

    pygls answers a cancelled executeCommand at once but leaves the command's task running: the run
    is stopped here, through its CancelToken, so what finished is still saved and shown.
    """
    protocol = server.protocol
    handle_request = getattr(protocol, "_handle_request", None)
    handle_cancel = getattr(protocol, "_handle_cancel_notification", None)
    if handle_request is None or handle_cancel is None:  # another pygls: runs stop from their progress only
        log.warning("this pygls has no request hooks: $/cancelRequest and workDoneToken are not used for eval runs")
        return

    def on_request(msg_id: Any, method_name: str, params: Any) -> Any:
        if method_name == types.WORKSPACE_EXECUTE_COMMAND:
            _request.set((msg_id, params))
        return handle_request(msg_id, method_name, params)

    def on_cancel(msg_id: Any) -> Any:
        runs = _runs(server)
        matched = [run for run in runs.active.values() if run.msg_id is not None and run.msg_id == msg_id]
        for run in matched:
            run.stop("the request was cancelled")
        if not matched:
            runs.cancelled_requests.append(msg_id)
        return handle_cancel(msg_id)

    protocol._handle_request = on_request  # type: ignore[method-assign]
    protocol._handle_cancel_notification = on_cancel  # type: ignore[method-assign]


# ---- runs in flight ----


@dataclass
class ActiveRun:
    suite: Path
    cancel: "CancelToken"
    msg_id: Any = None
    token: types.ProgressToken | None = None
    stopped_by: str | None = None

    def stop(self, why: str) -> None:
        if self.stopped_by is None:
            self.stopped_by = why
        self.cancel.cancel()


@dataclass
class Runs:
    active: dict[Path, ActiveRun] = field(default_factory=dict)
    # executeCommand requests cancelled before their run started (while it waited for settings).
    cancelled_requests: deque = field(default_factory=lambda: deque(maxlen=64))

    def by_token(self, token: types.ProgressToken) -> ActiveRun | None:
        return next((r for r in self.active.values() if r.token is not None and r.token == token), None)


def _runs(ls: PromptwiseServer) -> Runs:
    found = getattr(ls, "eval_runs", None)
    if found is None:
        found = ls.eval_runs = Runs()  # type: ignore[attr-defined]
    return found


def work_done_cancel(ls: PromptwiseServer, params: types.WorkDoneProgressCancelParams) -> None:
    run = _runs(ls).by_token(params.token)
    if run is not None:
        run.stop("cancelled from its progress")


# ---- arguments ----


@dataclass
class Request:
    uri: str
    case: str | int | None = None
    open: bool = False
    no_cache: bool = False
    models: list[str] | None = None
    max_candidates: int = 5


def parse(command: str, args: tuple[Any, ...], names: tuple[str, ...]) -> Request:
    """`{uri, ...}` or positional in the order of `names`."""
    if len(args) == 1 and isinstance(args[0], dict):
        given = dict(args[0])
    elif args and len(args) <= len(names):
        given = dict(zip(names, args))
    else:
        raise JsonRpcInvalidParams(f"{command}: expected {', '.join(names)}")
    uri = given.get("uri")
    if not isinstance(uri, str) or not uri:
        raise JsonRpcInvalidParams(f"{command}: 'uri' (a prompt or suite file) is required")
    request = Request(uri=uri)
    request.open = bool(given.get("open", False))
    request.no_cache = bool(given.get("noCache", given.get("no_cache", False)))
    models = given.get("models")
    if models is not None:
        if isinstance(models, str):
            models = [models]
        if not isinstance(models, list) or not models or not all(isinstance(m, str) and m for m in models):
            raise JsonRpcInvalidParams(f"{command}: 'models' is a list of model names")
        request.models = models
    limit = given.get("maxCandidates", given.get("max_candidates", 5))
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise JsonRpcInvalidParams(f"{command}: 'maxCandidates' is a number of at least 1")
    request.max_candidates = limit
    if "case" in names:
        case = given.get("case", given.get("index", given.get("name")))
        if isinstance(case, bool) or not isinstance(case, (str, int)):
            raise JsonRpcInvalidParams(f"{command}: 'case' (the case's name or zero-based index) is required")
        request.case = case
    return request


# ---- the commands ----
# (pygls evaluates command handlers' annotations at run time: they name only what is imported here)


async def run_evals(ls: LanguageServer, *args: Any) -> dict[str, Any]:
    require_trusted(ls)  # type: ignore[arg-type]
    await ls.ready()  # type: ignore[attr-defined]
    return await _run(ls, parse(RUN_EVALS, args, ("uri", "open")))


async def run_eval_case(ls: LanguageServer, *args: Any) -> dict[str, Any]:
    require_trusted(ls)  # type: ignore[arg-type]
    await ls.ready()  # type: ignore[attr-defined]
    return await _run(ls, parse(RUN_EVAL_CASE, args, ("uri", "case", "open")))


async def find_cheapest_model(ls: LanguageServer, *args: Any) -> dict[str, Any]:
    require_trusted(ls)  # type: ignore[arg-type]
    await ls.ready()  # type: ignore[attr-defined]
    return await _run(ls, parse(FIND_CHEAPEST, args, ("uri", "open")), cheapest=True)


async def propose_cascade(ls: LanguageServer, *args: Any) -> dict[str, Any]:
    """Run the suite (and, with one model, the cheaper models `suggest` offers), then propose "try A,
    escalate to B when these checks fail" from the per-case results, with its LiteLLM Router config."""
    require_trusted(ls)  # type: ignore[arg-type]
    await ls.ready()  # type: ignore[attr-defined]
    return await _run(ls, parse(PROPOSE_CASCADE, args, ("uri", "open")), cascade=True)


async def list_eval_cases(ls: LanguageServer, *args: Any) -> dict[str, Any]:
    """The suite's cases as written now (for a picker of promptwise.runEvalCase): name, index, where."""
    await ls.ready()  # type: ignore[attr-defined]
    request = parse(LIST_CASES, args, ("uri",))
    suite = _suite(request.uri)
    loaded = eval_results.store(ls).loaded(ls, suite)  # type: ignore[arg-type]
    if loaded is None:
        raise JsonRpcException(f"{suite.name} cannot be read", code=REQUEST_FAILED)
    return {
        "suite": str(suite),
        "suiteUri": suite.as_uri(),
        "problems": [p.display() for p in loaded.problems],
        "cases": [
            {"name": c.name, "index": c.index, "uri": c.location.path.absolute().as_uri(), "line": c.location.line}
            for c in loaded.cases
        ],
    }


def _suite(uri: str) -> Path:
    path = uri_to_path(uri)
    suite = eval_results.suite_for(path)
    if suite is None:
        stem = path.name.split(".", 1)[0] if not path.name.startswith(".") else path.name
        raise JsonRpcInvalidParams(f"{path.name}: no eval suite for it (expected {stem}.evals.yaml beside it)")
    return suite


def _pick_case(loaded: "LoadedSuite", wanted: str | int):
    if isinstance(wanted, str):
        named = [c for c in loaded.cases if c.name == wanted]
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise JsonRpcInvalidParams(f"{len(named)} cases are named {wanted!r}: give the case's index instead")
        if not wanted.strip().isdigit():
            raise JsonRpcInvalidParams(f"no case named {wanted!r} in {loaded.path.name}")
        wanted = int(wanted)
    if not 0 <= wanted < len(loaded.cases):
        raise JsonRpcInvalidParams(f"{loaded.path.name} has {len(loaded.cases)} cases; there is no case {wanted}")
    return loaded.cases[wanted]


async def _run(ls: PromptwiseServer, request: Request, cheapest: bool = False, cascade: bool = False) -> dict[str, Any]:
    from .. import evals  # the runner and its models; litellm waits for the first model call

    require_trusted(ls)
    suite = _suite(request.uri)
    runs = _runs(ls)
    if suite in runs.active:
        raise JsonRpcException(f"evals of {suite.name} are already running", code=REQUEST_FAILED)
    doc = eval_results.open_document(ls, suite)
    loaded = evals.load_suite(suite, doc.text if doc is not None else None)
    if not loaded.ok:
        errors = [p for p in loaded.problems if p.severity == "error"] or loaded.problems
        first = f"line {errors[0].line + 1}: {errors[0].message}" if errors else "it could not be read"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise JsonRpcException(f"{suite.name} has errors, so it cannot run: {first}{more}", code=REQUEST_FAILED)
    target = loaded
    if request.case is not None:
        target = dataclasses.replace(loaded, cases=[_pick_case(loaded, request.case)])
    options = evals.RunOptions(models=request.models, use_cache=not request.no_cache, routing=routing(ls))
    # The estimate, the checks and the user's go-ahead come before any call (this raises when the run must not start).
    limit = min(request.max_candidates, 3) if cascade else request.max_candidates
    estimate = await eval_spend.before_the_run(ls, suite, target, options, cheapest, limit, cascade)
    # Where calls go (and which variable's key they carry) is said before any call, every run.
    going = await asyncio.to_thread(evals.destinations, [target], options)
    plan = [describe(d) for d in going]
    if plan:
        ls.window_log_message(
            types.LogMessageParams(type=types.MessageType.Info, message=f"promptwise: evals of {suite.name} call " + "; ".join(plan))
        )

    call = _request.get()
    run = ActiveRun(suite, evals.CancelToken(), msg_id=call[0] if call else None)
    if run.msg_id is not None and run.msg_id in runs.cancelled_requests:
        run.stop("the request was cancelled")  # before the run was known
    runs.active[suite] = run
    what = f"{suite.name}" + (f": {target.cases[0].name}" if request.case is not None else "")
    progress: Reporter | None = None
    ending = "cancelled"
    found: CheapestResult | None = None
    try:
        progress = await Reporter.start(ls, call[1].work_done_token if call else None, f"Evals: {what}", run, plan)
        await _load_litellm(run.cancel)
        result = await evals.run_suite(target, options, progress, run.cancel)
        if cheapest and not run.cancel.cancelled:
            found = await evals.find_cheapest(loaded, result, options, progress, run.cancel, request.max_candidates)
            if found is not None:
                result.cheapest.append(found)
        proposal = None
        if cascade and not run.cancel.cancelled:
            from ..evals.cascade import find_cascade

            proposal = await find_cascade(loaded, result, options, progress, run.cancel, limit)
        cancelled = run.cancel.cancelled
        # Saved even when cancelled: what finished is kept, as `promptwise eval` keeps it.
        saved, report = None, None
        if result.results or not cancelled:
            saved, report = await asyncio.to_thread(_save, result, ls.state.config_for(suite).root)
        record = eval_results.store(ls).record(suite, result, report, whole=request.case is None)
        summary = eval_answers.summary(suite, loaded, result, saved, report, cancelled, run.stopped_by)
        summary["summary"] = record.summary()
        summary["destinations"] = plan
        summary["estimate"] = estimate
        if cascade:
            summary["cascade"] = eval_answers.cascade(proposal)
        if found is not None:
            summary["cheapest"] = eval_answers.cheapest(found)
            if found.chosen and loaded.prompt_path is not None:
                summary["cheapest"]["edit"] = await _switch_model(ls, loaded.prompt_path, found.chosen, found.chosen_effort)
        ending = ("cancelled: " if cancelled else "") + eval_answers.line(result)
    except (asyncio.CancelledError, JsonRpcException):
        raise
    except Exception as exc:
        log.exception("eval run of %s failed", suite)
        ending = f"failed: {exc}"
        raise JsonRpcException(f"the eval run of {suite.name} failed: {exc}", code=REQUEST_FAILED) from None
    finally:
        runs.active.pop(suite, None)
        if progress is not None:
            progress.end(ending)
            if progress.token is not None:
                ls.work_done_progress.tokens.pop(progress.token, None)

    refresh(ls, suite)
    if found is not None:
        _tell_cheapest(ls, found)
    if cascade:
        lines = summary["cascade"]["lines"]
        said = next((line.strip() for line in lines if line.strip().startswith("proposed:")), lines[-1].strip())
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=f"promptwise: cascade for {suite.name}: {said}"))
    if request.open and report is not None and _supports(ls, "window", "show_document", "support"):
        ls.window_show_document(types.ShowDocumentParams(uri=report.as_uri(), take_focus=True))
    return summary


def routing(ls: PromptwiseServer) -> "Routing | None":
    """The eval destination from the editor's user-scope settings (initializationOptions.user.evals);
    None leaves it to the user config file, then each provider's own endpoint."""
    from ..evals import Routing

    chosen = ls.state.user_evals
    if not chosen.api_base and not chosen.api_key_env:
        return None
    return Routing(api_base=chosen.api_base, api_key_env=chosen.api_key_env, source="the editor's user settings (promptwise.evals)")


def describe(d: Any) -> str:
    role = "" if d.role == "model" else f" ({d.role})"
    key = f", key from ${d.key_env}" if d.key_env else ""
    return f"{d.model}{role} -> {d.host} [{d.source}{key}]"


async def _load_litellm(cancel: "CancelToken") -> None:
    """Import litellm on a worker thread before the first call: it takes seconds, and the runner would
    import it on the event loop, where every editor request would wait for it. A run cancelled
    meanwhile does not wait for the import to finish."""
    from ..evals.calls import load_litellm

    loading = asyncio.ensure_future(asyncio.to_thread(load_litellm))
    loading.add_done_callback(lambda f: f.cancelled() or f.exception())  # a failure is seen by the run itself
    while not loading.done():
        if cancel.cancelled:
            return
        await asyncio.wait({loading}, timeout=0.1)
    loading.result()


def _save(result: "RunResult", root: Path) -> tuple[Path | None, Path | None]:
    from ..evals import reports

    try:
        saved = reports.save_run(result, root)
    except OSError:
        log.exception("saving the eval run under %s failed", root)
        return None, None
    report = saved.parent / "report.md"
    try:
        reports.write_file(report, reports.markdown(result))
    except OSError:
        log.exception("writing the eval report %s failed", report)
        return saved, None
    return saved, report


# ---- after a run ----


def refresh(ls: PromptwiseServer, suite: Path) -> None:
    """Ask the client for new code lenses and inlay hints, and publish the suite's diagnostics again."""
    if ls.stopping:
        return
    ls.generation += 1  # pulled diagnostics of an earlier run are not reused
    for doc in ls.state.documents.values():
        doc.stale()  # the run measured usage: open prompts are priced with it from the next request
    if _supports(ls, "workspace", "code_lens", "refresh_support"):
        ls.workspace_code_lens_refresh(None)
    if ls.supports_inlay_hint_refresh:
        ls.workspace_inlay_hint_refresh(None)
    if ls.pull_diagnostics:
        if ls.supports_diagnostic_refresh:
            ls.workspace_diagnostic_refresh(None)
        return
    st = eval_results.store(ls)
    for path in eval_results.files_with_results(ls, suite):
        doc = eval_results.open_document(ls, path)
        if doc is not None:
            diagnostics.schedule(ls, doc.uri, 0)
            continue
        # A file not open in the editor: its eval diagnostics alone (the engine's come when it opens).
        uri = path.absolute().as_uri()
        items = eval_results.diagnostics_in(ls, path) if ls.state.settings.diagnostics else []
        if items or uri in st.pushed:
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=items))
        if items:
            st.pushed.add(uri)
        else:
            st.pushed.discard(uri)


async def _switch_model(ls: PromptwiseServer, prompt: Path, model: str, effort: str | None = None) -> types.WorkspaceEdit | None:
    """The edit that writes `model` (and `effort`, when the search chose one) into the prompt, as the
    model-switch and effort code actions do, when the prompt is open in the editor; None when it is not
    or its settings cannot be rewritten."""
    from ..analysis import catalog_for
    from ..fixes.edits import OverlappingEdits, apply_edits
    from ..fixes.model_edits import Unwritable, model_edits
    from ..fixes.reasoning_edits import effort_edits
    from .code_actions import _Client, workspace_edit

    doc = eval_results.open_document(ls, prompt)
    try:
        snap = await ls.analyzer.snapshot(doc.uri) if doc is not None else None
    except asyncio.CancelledError:  # edited meanwhile: no edit to offer for text that is gone
        snap = None
    if snap is None or snap.analysis is None or snap.analysis.card is None:
        return None
    card = catalog_for(snap.config).resolve(model)
    if card is None:
        return None
    doc = snap.analysis.document
    edits = []
    try:
        if card.name != snap.analysis.card.name:
            options = model_edits(doc, snap.analysis.card, card)
            if not options:
                return None
            edits = list(options[0][0])
        if effort is not None and effort != doc.reasoning_effort:
            both = edits + effort_edits(doc, effort)
            apply_edits(doc.text, both)  # the two must not touch the same text
            edits = both
    except (Unwritable, OverlappingEdits):
        pass
    return workspace_edit(snap, edits, _Client.of(ls)) if edits else None


def _tell_cheapest(ls: PromptwiseServer, found: "CheapestResult") -> None:
    if found.chosen:
        at = f" at {found.chosen_effort} effort" if found.chosen_effort else ""
        message = (
            f"promptwise: {found.chosen}{at} passes {found.current_passed}/{found.total} like {found.current}, saving "
            f"{labels.money(found.saving_per_call)} per call ({labels.money(found.saving_per_1000_calls)} per 1,000 calls)"
        )
    else:
        message = f"promptwise: no cheaper model found for {found.suite}: {found.note}"
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=message))


# ---- code actions ----


def code_actions(ls: PromptwiseServer, uri: str, params: types.CodeActionParams) -> list[types.CodeAction]:
    """"Run evals for this prompt" on a prompt with a suite (and on the suite itself, plus the case
    under the cursor). Kind "" (a command, not a fix): auto-fix and on-save actions never pick it up,
    so a run that costs money only starts when asked for."""
    path = uri_to_path(uri)
    suite = eval_results.suite_for(path)
    if suite is None:
        return []
    is_the_suite = eval_results.same_file(path, suite)
    title = "Run evals for this suite" if is_the_suite else "Run evals for this prompt"
    actions = [types.CodeAction(title=title, kind=types.CodeActionKind.Empty, command=types.Command(title=title, command=RUN_EVALS, arguments=[uri]))]
    loaded = eval_results.store(ls).loaded(ls, suite) if is_the_suite else None
    if loaded is not None and loaded.ok:
        line = params.range.end.line
        starts = sorted((c.location.line, c.index, c.name) for c in loaded.cases if eval_results.same_file(c.location.path, path))
        # The case whose lines hold the cursor: the last one starting at or above it.
        here = [s for s in starts if s[0] <= line]
        if here:
            _, index, name = here[-1]
            case_title = f"Run eval case '{name}'"
            actions.append(
                types.CodeAction(
                    title=case_title, kind=types.CodeActionKind.Empty, command=types.Command(title=case_title, command=RUN_EVAL_CASE, arguments=[uri, index])
                )
            )
    return actions
