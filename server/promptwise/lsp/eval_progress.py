"""$/progress for an eval run in the editor: begun with where calls go, reported per case, ended with the outcome."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:
    from ..evals import Progress
    from .eval_runs import ActiveRun
    from .server import PromptwiseServer

log = logging.getLogger(__name__)

REPORT_EVERY = 0.2  # seconds between progress reports that change no percentage
_tokens = itertools.count(1)


def supports(ls: PromptwiseServer, *path: str) -> bool:
    obj: Any = ls.client_capabilities
    for name in path:
        obj = getattr(obj, name, None)
        if obj is None:
            return False
    return bool(obj)



class Reporter:
    """$/progress for one run, fed by the runner's progress callback (the percentage is per phase:
    the suite, then each cheaper model tried)."""

    def __init__(self, ls: PromptwiseServer, token: types.ProgressToken | None) -> None:
        self.ls = ls
        self.token = token
        self.total = 0
        self.done = 0
        self.phase = "eval"
        self._sent: tuple[str, int] | None = None
        self._at = 0.0
        self._ended = False

    @classmethod
    async def start(
        cls, ls: PromptwiseServer, client_token: types.ProgressToken | None, title: str, run: ActiveRun, plan: list[str] | None = None
    ) -> "Reporter":
        token = client_token
        if token is None and supports(ls, "window", "work_done_progress"):
            token = f"promptwise/evals/{next(_tokens)}"
            try:
                await asyncio.wait_for(ls.work_done_progress.create_async(token), 10)
            except Exception:  # the client refused or did not answer: no progress, the run goes on
                log.info("window/workDoneProgress/create failed", exc_info=True)
                token = None
        reporter = cls(ls, token)
        run.token = token
        if token is not None:
            ls.work_done_progress.begin(
                token,
                types.WorkDoneProgressBegin(
                    title=title, cancellable=True, message="calls go to " + "; ".join(plan) if plan else "starting…", percentage=0
                ),
            )
        return reporter

    def __call__(self, p: "Progress") -> None:
        self.total, self.done, self.phase = p.total, p.done, p.phase
        if self.token is None or self._ended:
            return
        percentage = int(100 * p.done / p.total) if p.total else 100
        message = f"{p.done}/{p.total} cases"
        if p.phase != "eval":
            message = f"{p.phase}: {message}"
        if p.failed or p.errored:
            message += f" ({p.failed} failed" + (f", {p.errored} errored)" if p.errored else ")")
        now = time.monotonic()
        if self._sent is not None:
            if message == self._sent[0] or (percentage == self._sent[1] and now - self._at < REPORT_EVERY and p.done < p.total):
                return
        self._sent, self._at = (message, percentage), now
        self.ls.work_done_progress.report(
            self.token, types.WorkDoneProgressReport(message=message, percentage=percentage, cancellable=True)
        )

    def end(self, message: str) -> None:
        if self.token is None or self._ended or self.ls.stopping:
            return
        self._ended = True
        self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
