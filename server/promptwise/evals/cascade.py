"""A routing plan from the evals: "try A, escalate to B when these deterministic assertions fail", from recorded per-case results.

For every pair of models that ran the suite (A cheaper per call than B) and every case run (case x repeat),
the cascade calls A; when one of A's deterministic assertions fails (contains, equals, regex, is-json,
max-tokens, cost, latency ...) it calls B and serves B's answer. So the cascade
- passes a case when A passes it, or when A fails a deterministic assertion and B passes it;
- costs A's recorded cost on every call, plus B's recorded cost on the calls that escalate.
An LLM-judged assertion (llm-rubric, similar) cannot gate an escalation: it needs a judge call the
application does not make at run time, so a case A fails only on one is served as A answered it.
The plan chosen is the cheapest pair that passes as many case runs as the best single model, for less.
It is written as a LiteLLM Router configuration (`model_list` and `router_settings.fallbacks`, the form
of the LiteLLM Proxy's config.yaml); the assertions that gate the escalation are named in its comments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..analysis import analyze
from ..routing import suggest_models
from .results import CaseResult, RunResult
from .runner import CancelToken, PreparedSuite, ProgressCallback, RunOptions, prepare, run_prepared
from .suite import LoadedSuite

JUDGED = ("llm-rubric", "not-llm-rubric", "similar", "not-similar")


def deterministic(assertion_type: str) -> bool:
    return assertion_type not in JUDGED


@dataclass
class ModelRecord:
    """One model's recorded results on the suite: per case run, and its totals."""

    label: str
    results: dict[tuple[int, int], CaseResult]
    passed: int = 0
    calls: int = 0
    cost: float | None = 0.0
    errored: int = 0

    @property
    def cost_per_1000_calls(self) -> float | None:
        return None if self.cost is None or not self.calls else self.cost / self.calls * 1000


@dataclass
class CascadePlan:
    first: str
    then: str
    calls: int  # case runs the projection rests on
    passed: int
    escalations: int
    cost: float  # USD over those calls: A on each, B on each escalation
    gates: dict[str, int] = field(default_factory=dict)  # deterministic assertion -> escalations it triggers
    judged_misses: int = 0  # cases A fails only on LLM-judged assertions: not escalated

    @property
    def pass_rate(self) -> float:
        return self.passed / self.calls if self.calls else 0.0

    @property
    def cost_per_1000_calls(self) -> float:
        return self.cost / self.calls * 1000 if self.calls else 0.0

    @property
    def summary(self) -> str:
        gates = ", ".join(self.gates) or "a deterministic assertion"
        return f"try {self.first}, escalate to {self.then} when {gates} fail{'s' if len(self.gates) == 1 else ''}"


@dataclass
class CascadeResult:
    suite: str
    models: list[ModelRecord] = field(default_factory=list)
    plans: list[CascadePlan] = field(default_factory=list)  # every pair evaluated, cheapest first
    chosen: CascadePlan | None = None
    best_single: ModelRecord | None = None
    targets: dict[str, Any] = field(default_factory=dict)  # label -> evals.routing.Target, where each model is called
    spent: float = 0.0  # USD the runs made for the cascade paid
    note: str = ""

    @property
    def judged(self) -> bool:
        """Whether the suite has LLM-judged assertions (they are left out of the escalation rule)."""
        return any(not deterministic(a.type) for m in self.models for r in m.results.values() for a in r.assertions)

    @property
    def saving_per_1000_calls(self) -> float | None:
        single = self.best_single.cost_per_1000_calls if self.best_single else None
        return None if self.chosen is None or single is None else single - self.chosen.cost_per_1000_calls


def plan_pair(first: ModelRecord, then: ModelRecord) -> CascadePlan | None:
    """The cascade A -> B projected from the case runs both recorded; None without costs for both."""
    keys = sorted(set(first.results) & set(then.results))
    if not keys:
        return None
    plan = CascadePlan(first.label, then.label, len(keys), 0, 0, 0.0)
    for key in keys:
        a, b = first.results[key], then.results[key]
        if a.cost is None or b.cost is None:
            return None
        plan.cost += a.cost
        if a.status == "passed":
            plan.passed += 1
            continue
        gating = [x.type for x in a.assertions if not x.passed and deterministic(x.type)]
        if not gating:
            plan.judged_misses += 1  # served as A answered: nothing the application can check says otherwise
            continue
        plan.escalations += 1
        plan.cost += b.cost
        plan.passed += b.status == "passed"
        for kind in dict.fromkeys(gating):
            plan.gates[kind] = plan.gates.get(kind, 0) + 1
    return plan


def records(results: list[CaseResult], suite: str) -> list[ModelRecord]:
    by_model: dict[str, ModelRecord] = {}
    for r in results:
        if r.suite != suite:
            continue
        record = by_model.setdefault(r.model, ModelRecord(r.model, {}))
        if r.status == "errored":
            record.errored += 1
            continue
        record.results[(r.case_index, r.repeat)] = r
        record.calls += 1
        record.passed += r.status == "passed"
        record.cost = None if record.cost is None or r.cost is None else record.cost + r.cost
    return list(by_model.values())


def propose(suite: str, models: list[ModelRecord]) -> CascadeResult:
    """The cheapest cascade that passes as many case runs as the best single model, for less."""
    found = CascadeResult(suite=suite, models=models)
    usable = [m for m in models if not m.errored and m.calls and m.cost is not None]
    for m in models:
        if m.errored:
            found.note = f"{m.errored} case run(s) errored on {m.label}: it is left out; fix those first. "
    if len(usable) < 2:
        found.note += "a cascade needs results of two models or more on the suite"
        return found
    found.best_single = max(usable, key=lambda m: (m.passed, -(m.cost_per_1000_calls or 0.0)))
    for a in usable:
        for b in usable:
            if a is b or (a.cost_per_1000_calls or 0.0) >= (b.cost_per_1000_calls or 0.0):
                continue
            plan = plan_pair(a, b)
            if plan is not None:
                found.plans.append(plan)
    found.plans.sort(key=lambda p: (p.cost, -p.passed, p.first, p.then))
    best = found.best_single
    single_cost = best.cost_per_1000_calls or 0.0
    good = [p for p in found.plans if p.passed >= best.passed and p.escalations and p.cost_per_1000_calls < single_cost]
    if good:
        found.chosen = good[0]
    else:
        found.note += (
            f"no cascade of these models passes as many case runs as {best.label} ({best.passed}/{best.calls}) for less"
        )
    return found


# ---- running what is missing ----


def candidate_models(loaded: LoadedSuite, options: RunOptions, limit: int = 3) -> list[str]:
    """The models a cascade is built from: the suite's (or --models), and when that is one model, the cheaper
    models `promptwise suggest` offers for the prompt (up to `limit`)."""
    prepared = prepare(loaded, options)
    if not prepared.runnable or prepared.doc is None or not prepared.targets:
        return []
    names = [t.label for t in prepared.targets]
    if len(names) < 2:
        analysis = analyze(prepared.doc, prepared.config, model=names[0])
        names += [c.card.name for c in suggest_models(analysis, prepared.config, limit=max(1, limit)).candidates]
    return list(dict.fromkeys(names))


def cascade_suites(loaded: LoadedSuite, options: RunOptions, limit: int = 3) -> list[PreparedSuite]:
    """The suite prepared on each model the cascade runs beyond the suite's own, for the estimate before a run."""
    own = {t.label for t in prepare(loaded, options).targets}
    return [prepare(loaded, options, models=[m]) for m in candidate_models(loaded, options, limit) if m not in own]


async def find_cascade(
    loaded: LoadedSuite,
    baseline: RunResult,
    options: RunOptions,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    limit: int = 3,
) -> CascadeResult | None:
    """Run the suite on each candidate model it has no results for yet (through the normal runner and its
    cache), then propose the cascade from every model's per-case results."""
    prepared = prepare(loaded, options)
    if not prepared.runnable or prepared.doc is None:
        return None
    names = candidate_models(loaded, options, limit)
    results = [r for r in baseline.results if r.suite == prepared.display]
    have = {r.model for r in results}
    spent = 0.0
    targets = {t.label: t for t in prepared.targets}
    for name in names:
        if cancel is not None and cancel.cancelled:
            break
        trial = prepare(loaded, options, models=[name])
        targets.update({t.label: t for t in trial.targets})
        if name in have:
            continue
        run = await run_prepared([trial], options, progress, cancel, phase=f"cascade {name}")
        results += [r for r in run.results if r.suite == prepared.display]
        spent += run.spent
    found = propose(prepared.display, [m for m in records(results, prepared.display) if m.label in names])
    found.targets = {n: targets[n] for n in names if n in targets}
    found.spent = spent
    if cancel is not None and cancel.cancelled:
        found.note = "cancelled; " + found.note
    return found


# ---- the LiteLLM Router configuration ----


def router_config(found: CascadeResult) -> dict[str, Any]:
    """`model_list` with both models and `router_settings.fallbacks` from A to B, as LiteLLM's Router and its
    Proxy's config.yaml take them. No key is written: the Proxy reads each provider's usual variable."""
    plan = found.chosen
    if plan is None:
        raise ValueError("no cascade was chosen")
    model_list = []
    for label in (plan.first, plan.then):
        target = found.targets.get(label)
        params: dict[str, Any] = {"model": target.model if target is not None else label}
        if target is not None and target.api_base:
            params["api_base"] = target.api_base
        if target is not None and target.api_key_env:
            params["api_key"] = f"os.environ/{target.api_key_env}"  # the variable's name, never its value
        model_list.append({"model_name": label, "litellm_params": params})
    return {"model_list": model_list, "router_settings": {"fallbacks": [{plan.first: [plan.then]}]}}


def router_yaml(found: CascadeResult) -> str:
    import yaml

    plan = found.chosen
    assert plan is not None
    gates = "; ".join(f"{kind} ({n} of {plan.calls} case runs)" for kind, n in plan.gates.items())
    head = [
        f"# promptwise cascade for {found.suite}: {plan.summary}.",
        f"# Projected from the recorded eval results: {plan.passed}/{plan.calls} case runs pass, "
        f"{_money(plan.cost_per_1000_calls)} per 1,000 calls blended ({plan.escalations} of {plan.calls} escalate).",
        f"# Escalate when these deterministic assertions fail on {plan.first}'s answer: {gates}.",
        "# LiteLLM falls back on errors; to escalate on a failed check, run the check on the reply and",
        f"# call model '{plan.then}' (or raise, so the fallback below takes the call) when it fails.",
        "# LLM-judged assertions (llm-rubric, similar) cannot gate an escalation: they need a judge call.",
        "# Run it with: litellm --config THIS_FILE",
    ]
    return "\n".join(head) + "\n" + yaml.safe_dump(router_config(found), sort_keys=False, default_flow_style=False)


def write_router_config(found: CascadeResult, path: Path) -> None:
    path.write_text(router_yaml(found), encoding="utf-8")


def describe_cascade(found: CascadeResult, money: Callable[[float | None], str] | None = None) -> list[str]:
    """The proposal in lines, as `eval --cascade` prints it and the editor shows it."""
    money = money or _money
    lines = [f"cascade for {found.suite}:"]
    for m in found.models:
        cost = money(m.cost_per_1000_calls) if m.cost_per_1000_calls is not None else "no price"
        lines.append(f"  {m.label}: {m.passed}/{m.calls} case runs pass, {cost} per 1,000 calls")
    plan = found.chosen
    if plan is not None:
        lines.append(
            f"  proposed: {plan.summary}: {plan.passed}/{plan.calls} pass ({plan.pass_rate:.0%}), "
            f"{money(plan.cost_per_1000_calls)} per 1,000 calls blended, {plan.escalations} of {plan.calls} escalate"
        )
        if found.best_single is not None and found.saving_per_1000_calls is not None:
            lines.append(
                f"  against {found.best_single.label} alone ({found.best_single.passed}/{found.best_single.calls}): "
                f"saves {money(found.saving_per_1000_calls)} per 1,000 calls"
            )
        if plan.judged_misses:
            lines.append(
                f"  {plan.judged_misses} case run(s) fail on {plan.first} only on LLM-judged assertions (llm-rubric, similar): "
                "those cannot gate an escalation, so the cascade serves them as they are"
            )
        elif found.judged:
            lines.append("  LLM-judged assertions (llm-rubric, similar) cannot gate an escalation: only deterministic ones do")
    if found.note:
        lines.append(f"  {found.note.strip()}")
    return lines


def _money(value: float | None) -> str:
    from ..fixes.edits import money

    return money(value)
