"""The cheapest configuration that passes: run a suite on cheaper (model, reasoning effort) pairs, cheapest first,
and stop at the first that holds up."""

from __future__ import annotations

from typing import Any

from ..analysis import analyze
from ..routing import suggest_models
from ..routing.efforts import configurations
from .results import CandidateTrial, CheapestResult, RunResult, summarize
from .runner import CancelToken, PreparedSuite, ProgressCallback, RunOptions, prepare, run_prepared
from .suite import LoadedSuite


async def find_cheapest(
    loaded: LoadedSuite,
    baseline: RunResult,
    options: RunOptions,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    limit: int = 5,
) -> CheapestResult | None:
    """Try cheaper configurations cheapest first; stop at the first that passes as many cases as the current one.

    A configuration is a model at a reasoning effort: the current model at each other effort it takes, and
    the models `promptwise suggest` and the editor's "Switch to" actions offer (`suggest_models`) at each
    effort they take (once, for a model that does not reason), each priced by the cost model with the
    reasoning expected at that effort. "Find cheapest" never tries a model the editor would not suggest."""
    prepared = prepare(loaded, options)
    if not prepared.runnable or not prepared.targets or prepared.doc is None:
        return None
    current = prepared.targets[0].label
    mine = [r for r in baseline.results if r.suite == prepared.display and r.model == current]
    passed = sum(1 for r in mine if r.status == "passed")
    summary = next((m for m in summarize(mine)), None)
    analysis = analyze(prepared.doc, prepared.config, model=current)
    measured_current = summary.cost_per_call if summary else None
    found = CheapestResult(
        suite=prepared.display,
        current=current,
        current_passed=passed,
        total=len(mine),
        current_cost_per_call=measured_current if measured_current is not None else analysis.cost_per_call,
        current_effort=prepared.efforts.get(current),
    )
    if summary is not None and summary.errored:
        found.note = f"{summary.errored} case(s) errored on {current}; fix those first"
        return found
    candidates, reason = _candidates(analysis, prepared, limit)
    if not candidates:
        found.note = reason
        return found
    for candidate in candidates:
        if cancel is not None and cancel.cancelled:
            found.note = "cancelled"
            break
        # Called by its catalog name, which litellm and config [models] know; the file's spelling may differ.
        model, effort = candidate.card.name, candidate.effort
        trial_suite = _trial(loaded, options, model, effort)
        run = await run_prepared([trial_suite], options, progress, cancel, phase=f"candidate {candidate.label}")
        counts = run.counts
        model_summary = run.models[0] if run.models else None
        trial = CandidateTrial(
            model=model,
            reasoning_effort=effort,
            passed=counts["passed"],
            failed=counts["failed"],
            errored=counts["errored"],
            cost_per_call=model_summary.cost_per_call if model_summary else None,
            estimated_cost_per_call=candidate.cost_per_call,
            verdict="",
        )
        found.tried.append(trial)
        if run.cancelled:
            trial.verdict = "cancelled"
            found.note = "cancelled"
            break
        if counts["errored"]:
            trial.verdict = f"{counts['errored']} case(s) errored"
            continue
        if counts["passed"] >= passed:
            trial.verdict = f"passes {counts['passed']}/{len(run.results)}, as many as {current}"
            found.chosen, found.chosen_effort = model, effort
            mine_cost = found.current_cost_per_call
            theirs = trial.cost_per_call if (trial.cost_per_call is not None and measured_current is not None) else candidate.cost_per_call
            if mine_cost is not None and theirs is not None:
                found.saving_per_call = mine_cost - theirs
                found.saving_per_1000_calls = found.saving_per_call * 1000
            break
        trial.verdict = f"passes {counts['passed']}/{len(run.results)}, fewer than {current}'s {passed}"
    if found.chosen is None and not found.note:
        what = "model(s)" if all(t.reasoning_effort is None for t in found.tried) else "configuration(s) (model x effort)"
        found.note = f"none of the {len(found.tried)} cheaper {what} tried passes as many cases as {current}"
    return found


def _candidates(analysis: Any, prepared: PreparedSuite, limit: int) -> tuple[list[Any], str]:
    suggestions = suggest_models(analysis, prepared.config, limit=max(1, limit))
    found = configurations(analysis, prepared.config, [c.card for c in suggestions.candidates])
    return found[: max(0, limit)], suggestions.reason


def _trial(loaded: LoadedSuite, options: RunOptions, model: str, effort: str | None) -> PreparedSuite:
    """The suite prepared on one candidate, its calls sent at `effort` (and its usage recorded under it)."""
    trial = prepare(loaded, options, models=[model])
    if effort is not None and trial.runnable:
        trial.params = {**trial.params, "reasoning_effort": effort}
        trial.efforts = {label: effort for label in trial.efforts}
    return trial


def trial_suites(loaded: LoadedSuite, options: RunOptions, limit: int = 5) -> list[PreparedSuite]:
    """The suite prepared on each cheaper configuration (model x effort) `find_cheapest` may try, for the estimate before a run
    (all of them: the search may stop earlier, so the estimate is an upper bound)."""
    prepared = prepare(loaded, options)
    if not prepared.runnable or not prepared.targets or prepared.doc is None:
        return []
    analysis = analyze(prepared.doc, prepared.config, model=prepared.targets[0].label)
    candidates, _ = _candidates(analysis, prepared, limit)
    return [_trial(loaded, options, c.card.name, c.effort) for c in candidates]
