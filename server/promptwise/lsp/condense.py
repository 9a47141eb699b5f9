"""Condense a section or message with a model: an opt-in command and the code action that starts it.

The code action only names the command: nothing calls a model until the user picks it. The command
asks the model (evals/condense.py), runs the prompt's suite on both versions, and shows what it found
("-820 tokens per call; evals: condensed 11/12, original 12/12; the call cost $0.0012"), with Apply
and Discard. Apply sends the edit through workspace/applyEdit with a change annotation that needs
confirmation, so VS Code shows the diff before anything changes. Restricted Mode refuses it, as it
refuses every eval.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from ..analysis.sections import sections_starting_between
from ..fixes.edits import TextEdit
from ..text import Span
from .documents import uri_to_path
from .eval_progress import Reporter
from .positions import offset_of
from .workspace import require_trusted

if TYPE_CHECKING:
    from ..analysis import Analysis
    from .documents import Snapshot
    from .server import PromptwiseServer

log = logging.getLogger(__name__)

CONDENSE = "promptwise.condense"
APPLY, DISCARD = "Apply", "Discard"
REQUEST_FAILED = -32803
MIN_TOKENS = 150  # smaller parts are not worth a model call


def register(server: PromptwiseServer) -> None:
    server.command(CONDENSE)(condense_command)


def code_actions(snap: "Snapshot", offset: int) -> list[types.CodeAction]:
    """"Condense … with a model" on the heading of a section (or the role line of a message) of at least
    MIN_TOKENS tokens. A command, not an edit: kind "" so no auto-fix ever runs it."""
    found = _part_at(snap.analysis, offset)
    if found is None:
        return []
    span, title, tokens = found
    if tokens < MIN_TOKENS:
        return []
    name = f'Condense "{title}" with a model, checked by its evals…'
    line = snap.lines.line_of(offset)
    return [types.CodeAction(title=name, kind=types.CodeActionKind.Empty, command=types.Command(title=name, command=CONDENSE, arguments=[snap.uri, line]))]


def _part_at(a: "Analysis | None", offset: int) -> tuple[Span, str, int] | None:
    """The section whose heading is at `offset`, else the message whose role line is: (span, title, tokens)."""
    if a is None:
        return None
    doc = a.document
    for count in a.messages:
        message = count.message
        if message.header.start <= offset <= message.header.end and len(message.header):
            return message.body, f"{message.role} message", count.content_tokens
        if not (message.body.start <= offset <= message.body.end):
            continue
        line_start = max(message.body.start, doc.text.rfind("\n", message.body.start, offset) + 1, doc.text.rfind("\r", message.body.start, offset) + 1)
        for part in sections_starting_between(doc.text, message.body.start, message.body.end, line_start, offset):
            if part.heading is not None and part.heading.start <= offset <= part.heading.end:
                return part.span, part.title or "section", a.tokenizer.count(doc.text[part.span.start : part.span.end])
    return None


async def condense_command(ls: LanguageServer, *args: Any) -> dict[str, Any]:
    """Args: {uri, line} (the heading's or role line's 0-based line), optional model, and ask (default
    true: show the result with Apply / Discard; false: only return it)."""
    require_trusted(ls)
    params = args[0] if len(args) == 1 and isinstance(args[0], dict) else {"uri": args[0], "line": args[1]} if len(args) >= 2 else {}
    uri, line = params.get("uri"), params.get("line")
    if not isinstance(uri, str) or not isinstance(line, int):
        raise JsonRpcException("promptwise.condense takes {uri, line}", code=-32602)
    snap = await ls.analysis(uri)
    if snap is None or snap.analysis is None:
        raise JsonRpcException(f"{uri} is not an open prompt file", code=REQUEST_FAILED)
    if not 0 <= line < snap.lines.line_count:
        raise JsonRpcException(f"line {line + 1} is past the end of the file", code=-32602)
    offset = offset_of(snap.lines, types.Position(line, 0))
    found = _part_at(snap.analysis, offset)
    if found is None:
        raise JsonRpcException(f"line {line + 1} is not a section heading or a role line", code=REQUEST_FAILED)
    span, title, _ = found
    from ..evals import CancelToken, RunOptions
    from ..evals.condense import condense
    from .eval_runs import _load_litellm, routing

    cancel = CancelToken()
    progress = await Reporter.start(ls, None, f"Condense: {title}", _Cancellable(cancel), [])
    ending = "failed"
    try:
        await _load_litellm(cancel)
        result = await condense(
            uri_to_path(uri), snap.text, span, title, snap.config, params.get("model"), RunOptions(routing=routing(ls)), progress=progress, cancel=cancel
        )
        ending = result.summary()
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a provider error, a timeout: said in words, the server keeps serving
        log.info("condensing %s failed", uri, exc_info=True)
        raise JsonRpcException(f"condensing {title} failed: {exc}", code=REQUEST_FAILED) from None
    finally:
        progress.end(ending)
    from .code_actions import _Client, workspace_edit
    from .commands import _converter

    edit = workspace_edit(snap, [TextEdit(result.span, result.condensed)], _Client.of(ls), confirm=(f'Condense "{title}"', result.summary()))
    answer: dict[str, Any] = {
        "summary": result.summary(),
        "usable": result.usable,
        "problems": result.problems,
        "model": result.model,
        "callCost": result.call_cost,
        "tokensBefore": result.tokens_before,
        "tokensAfter": result.tokens_after,
        "costSavedPerCall": result.cost_saved,
        "suite": result.suite,
        "original": _rate(result.original_rate),
        "condensed": _rate(result.condensed_rate),
        "evalCost": result.eval_cost,
        "diff": result.diff(snap.path.name),
        "edit": _converter().unstructure(edit),
        "applied": False,
    }
    if result.usable and params.get("ask", True):
        answer["applied"] = await _offer(ls, result.summary(), edit)
    elif not result.usable:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=f"promptwise: {result.summary()}"))
    return answer


async def _offer(ls: PromptwiseServer, summary: str, edit: types.WorkspaceEdit) -> bool:
    """Apply only when the user says so; VS Code then shows the diff (the edit needs confirmation)."""
    request = types.ShowMessageRequestParams(
        type=types.MessageType.Info,
        message=f"promptwise: {summary}",
        actions=[types.MessageActionItem(title=APPLY), types.MessageActionItem(title=DISCARD)],
    )
    try:
        chosen = await ls.window_show_message_request_async(request)
    except asyncio.CancelledError:
        raise
    except Exception:  # a client that cannot ask: nothing is applied unasked
        log.info("window/showMessageRequest failed", exc_info=True)
        return False
    if chosen is None or getattr(chosen, "title", None) != APPLY:
        return False
    done = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label="Condense with a model"))
    return bool(getattr(done, "applied", False))


def _rate(rate: Any) -> dict[str, int] | None:
    return None if rate is None else {"passed": rate.passed, "total": rate.total, "errored": rate.errored}


class _Cancellable:
    """What the progress reporter cancels when the user presses Cancel on the notification."""

    def __init__(self, cancel: Any) -> None:
        self.cancel = cancel
        self.token = None  # the progress token, set by Reporter.start

    def stop(self, why: str) -> None:
        self.cancel.cancel()
