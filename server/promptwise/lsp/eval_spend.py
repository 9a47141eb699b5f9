"""Before an eval run starts in the editor: its estimate, the checks that refuse it, and the user's go-ahead.

The estimate (calls, tokens, dollars; cached responses left out) is made as `promptwise eval` makes it.
A model litellm cannot route, a key that is not set or an estimate above `evals.max_spend` refuses the
run with one clear message and no call. Above `evals.confirm_above_usd` the user is asked
(window/showMessageRequest: Run / Cancel); anything but Run leaves the run unstarted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException

if TYPE_CHECKING:
    from pathlib import Path

    from ..evals import LoadedSuite, RunOptions
    from ..evals.spend import RunEstimate
    from .server import PromptwiseServer

log = logging.getLogger(__name__)

REQUEST_FAILED = -32803  # LSP RequestFailed
RUN, CANCEL = "Run", "Cancel"


async def before_the_run(
    ls: PromptwiseServer, suite: Path, target: LoadedSuite, options: RunOptions, cheapest: bool = False, limit: int = 5, cascade: bool = False
) -> dict[str, Any]:
    """The run's estimate (as the command answers it), once the checks pass and the user agreed; raises
    JsonRpcException, with no call made, when the run must not start."""
    estimate, checks, config = await asyncio.to_thread(_estimate, target, options, cheapest, limit, cascade)
    ls.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message=f"promptwise: evals of {suite.name}: estimate {estimate.describe()}"))
    for c in checks:
        if not c.fatal:
            ls.window_log_message(types.LogMessageParams(type=types.MessageType.Warning, message=f"promptwise: {c.message}"))
    fatal = [c for c in checks if c.fatal]
    if fatal:
        more = f" (and {len(fatal) - 1} more)" if len(fatal) > 1 else ""
        raise JsonRpcException(f"evals of {suite.name} not run: {fatal[0].message}{more}", code=REQUEST_FAILED)
    from ..evals.preflight import over_limit
    from ..evals.spend import about

    name = f"evals.max_spend in {config.path.name}" if config is not None and config.path else "evals.max_spend"
    refused = over_limit(estimate, config.settings.evals.max_spend if config is not None else None, name)
    if refused:
        raise JsonRpcException(f"evals of {suite.name} not run: {refused}", code=REQUEST_FAILED)
    threshold = confirm_threshold(config)
    if estimate.calls and estimate.cost > threshold:
        cost = f"about {about(estimate.cost)}"
        question = f"Run evals for {cost}? {suite.name}: {estimate.describe()}"
        if not await _confirmed(ls, question):
            raise JsonRpcException(f"evals of {suite.name} not run: the estimate ({cost}) was not confirmed; no call was made", code=REQUEST_FAILED)
    return estimate.to_json()


def _estimate(target: LoadedSuite, options: RunOptions, cheapest: bool, limit: int, cascade: bool = False) -> tuple[RunEstimate, list[Any], Any]:
    from ..evals.cascade import cascade_suites
    from ..evals.cheapest import trial_suites
    from ..evals.preflight import check_models
    from ..evals.runner import prepare
    from ..evals.spend import estimate_run

    prepared = prepare(target, options)
    trials = trial_suites(target, options, limit) if cheapest else []
    if cascade:
        trials += cascade_suites(target, options, limit)
    estimate = estimate_run([prepared])
    estimate_run(trials, estimate)
    estimate.trials = len(trials)
    return estimate, check_models([prepared, *trials], estimate), prepared.config


def confirm_threshold(config: Any) -> float:
    """Above what estimate the user is asked: the user's own threshold (default $0.50), or the repository's
    when that is lower. A repository nobody vetted may ask more often, never less."""
    from ..config.user import load_user_config

    mine = load_user_config().settings.evals.confirm_above_usd
    mine = 0.50 if mine is None else mine
    theirs = config.settings.evals.confirm_above_usd if config is not None else mine
    return min(mine, theirs)


async def _confirmed(ls: PromptwiseServer, question: str) -> bool:
    params = types.ShowMessageRequestParams(
        type=types.MessageType.Warning, message=question, actions=[types.MessageActionItem(title=RUN), types.MessageActionItem(title=CANCEL)]
    )
    try:
        answer = await ls.window_show_message_request_async(params)
    except asyncio.CancelledError:
        raise
    except Exception:  # a client that cannot ask: the run does not start unasked
        log.info("window/showMessageRequest failed", exc_info=True)
        return False
    return answer is not None and getattr(answer, "title", None) == RUN
