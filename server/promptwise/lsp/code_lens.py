"""Code lenses for evals: "Run evals (12 cases)" above a prompt with a suite beside it and at the top of
the suite; after a run, the latest result ("11/12 passed, $0.0042, 3.1 s"); "Run case" on each case.

Every lens runs a command (eval_runs.py); they are complete when listed, so there is no resolve step.
A file without a suite costs a few stat calls; a suite is parsed once per version (eval_results.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from . import eval_results, eval_runs
from .documents import uri_to_path

if TYPE_CHECKING:
    from .server import PromptwiseServer

log = logging.getLogger(__name__)

MAX_CASE_LENSES = 500


def register(server: PromptwiseServer) -> None:
    server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))(code_lens)


async def code_lens(ls: PromptwiseServer, params: types.CodeLensParams) -> list[types.CodeLens] | None:
    await ls.ready()
    uri = params.text_document.uri
    try:
        return await ls.analyzer.run(lenses_for, ls, uri) or None  # parses the suite: on a worker
    except Exception:
        log.exception("code lenses for %s failed", uri)
        return None


def lenses_for(ls: PromptwiseServer, uri: str) -> list[types.CodeLens]:
    path = uri_to_path(uri)
    suite = eval_results.suite_for(path)
    if suite is None:
        return []
    st = eval_results.store(ls)
    loaded = st.loaded(ls, suite)
    if loaded is None:
        return []
    top = types.Range(start=types.Position(0, 0), end=types.Position(0, 0))
    n = len(loaded.cases)
    title = f"Run evals ({n} case{'' if n == 1 else 's'})" if loaded.ok else "Run evals (the suite has errors)"
    lenses = [types.CodeLens(range=top, command=types.Command(title=title, command=eval_runs.RUN_EVALS, arguments=[uri]))]
    record = st.latest(ls, suite)
    if record is not None and record.results:
        lenses.append(
            types.CodeLens(range=top, command=types.Command(title=record.summary(), command=eval_runs.RUN_EVALS, arguments=[uri]))
        )
    if loaded.ok:
        here = [c for c in loaded.cases if eval_results.same_file(c.location.path, path)]
        for case in here[:MAX_CASE_LENSES]:
            at = types.Position(case.location.line, 0)
            lenses.append(
                types.CodeLens(
                    range=types.Range(start=at, end=at),
                    command=types.Command(title="Run case", command=eval_runs.RUN_EVAL_CASE, arguments=[uri, case.index]),
                )
            )
    return lenses
