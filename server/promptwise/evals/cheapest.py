"""The cheapest model that passes: run a suite on cheaper candidates, cheapest first, and stop at the first that holds up."""

from __future__ import annotations

from ..analysis import analyze
from ..routing import suggest_models
from .results import CandidateTrial, CheapestResult, RunResult, summarize
from .runner import CancelToken, ProgressCallback, RunOptions, prepare, run_prepared
from .suite import LoadedSuite


async def find_cheapest(
    loaded: LoadedSuite,
    baseline: RunResult,
    options: RunOptions,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    limit: int = 5,
) -> CheapestResult | None:
    """Try cheaper models cheapest first; stop at the first that passes as many cases as the current model.

    The models tried are the ones `promptwise suggest` and the editor's "Switch to" actions offer
    (`suggest_models`), so "find cheapest" never tries a model the editor would not suggest."""
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
    )
    if summary is not None and summary.errored:
        found.note = f"{summary.errored} case(s) errored on {current}; fix those first"
        return found
    suggestions = suggest_models(analysis, prepared.config, limit=max(1, limit))
    candidates = suggestions.candidates[: max(0, limit)]
    if not candidates:
        found.note = suggestions.reason
        return found
    for candidate in candidates:
        if cancel is not None and cancel.cancelled:
            found.note = "cancelled"
            break
        # Called by its catalog name, which litellm and config [models] know; the file's spelling may differ.
        model = candidate.card.name
        trial_suite = prepare(loaded, options, models=[model])
        run = await run_prepared([trial_suite], options, progress, cancel, phase=f"candidate {model}")
        counts = run.counts
        model_summary = run.models[0] if run.models else None
        trial = CandidateTrial(
            model=model,
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
            found.chosen = model
            mine_cost = found.current_cost_per_call
            theirs = trial.cost_per_call if (trial.cost_per_call is not None and measured_current is not None) else candidate.cost_per_call
            if mine_cost is not None and theirs is not None:
                found.saving_per_call = mine_cost - theirs
                found.saving_per_1000_calls = found.saving_per_call * 1000
            break
        trial.verdict = f"passes {counts['passed']}/{len(run.results)}, fewer than {current}'s {passed}"
    if found.chosen is None and not found.note:
        found.note = f"none of the {len(found.tried)} cheaper model(s) tried passes as many cases as {current}"
    return found
