"""Reasoning effort as a lever: the efforts a model accepts, what a call costs at each, and how evals fared there.

Each option is priced by analysing the file as it would read after the edit (`fixes.reasoning_edits`),
so the figure a code action shows is the figure the editor shows once it is applied: the reasoning
measured in eval runs at that effort, else configured in `[reasoning]`, else assumed. Pass rates come
from the eval runs' per-case results, which record the effort each call was made with.
"""

from __future__ import annotations

import json
import marshal
import os
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Mapping

from .. import access
from ..analysis import Analysis, analyze, catalog_for
from ..catalog import Catalog, ModelCard
from ..config import LoadedConfig
from ..fixes.edits import TextEdit, apply_edits, money
from ..fixes.reasoning_edits import Unwritable, effort_edits
from ..formats import PromptDocument, parse_document
from ..pricing.reasoning import EFFORTS, Reasoning

DEFAULT_EFFORTS = ("low", "medium", "high")  # what every reasoning model takes (litellm maps them for Anthropic and Gemini)
# The price map's flags for the levels not every model takes.
_FLAGS = {"none": "supports_none_reasoning_effort", "minimal": "supports_minimal_reasoning_effort", "xhigh": "supports_xhigh_reasoning_effort"}
RUNS = (".promptwise", "runs")
MAX_RUNS = 10
MAX_RESULTS_BYTES = 64 * 1024 * 1024

PassRate = tuple[int, int]  # (cases passed, cases that ran)


def accepted_efforts(card: ModelCard | None) -> tuple[str, ...]:
    """The effort levels a reasoning model takes, lowest first; () for a model that does not reason.

    From the price map's `reasoning_effort_levels`, else its `supports_*_reasoning_effort` flags on top of
    low, medium and high; a model the map does not list (a config entry) takes low, medium and high."""
    if card is None or "reasoning" not in card.supports:
        return ()
    entry = _entry(card.name)
    levels = entry.get("reasoning_effort_levels")
    if isinstance(levels, list) and levels:
        named = {"xhigh" if str(v).lower() == "max" else str(v).lower() for v in levels}
        return tuple(e for e in EFFORTS if e in named)
    named = set(DEFAULT_EFFORTS)
    for effort, flag in _FLAGS.items():
        if entry.get(flag) is True:
            named.add(effort)
    if card.default_reasoning_effort in EFFORTS:
        named.add(card.default_reasoning_effort)  # the model runs at its default: it takes it
    return tuple(e for e in EFFORTS if e in named)


def _entry(name: str) -> dict[str, Any]:
    """The price map's own entry: model cards keep prices and capabilities, not the effort flags."""
    try:
        raw = Catalog.bundled()._raw.get(name)
        entry = marshal.loads(raw) if raw else {}
    except (ValueError, EOFError, TypeError):
        entry = {}
    return entry if isinstance(entry, dict) else {}


@dataclass
class EffortOption:
    """The file at another effort: its edit, what a call costs then and how its evals fared there."""

    effort: str
    edits: list[TextEdit]
    cost_per_call: float | None
    per_1000_calls: float | None
    current_per_1000_calls: float | None
    reasoning: Reasoning
    pass_rate: PassRate | None = None
    title: str = ""
    detail: str = ""

    @property
    def change_per_1000_calls(self) -> float | None:
        """Positive when the effort costs more."""
        if self.per_1000_calls is None or self.current_per_1000_calls is None:
            return None
        return self.per_1000_calls - self.current_per_1000_calls

    @property
    def lower(self) -> bool:
        return self.change_per_1000_calls is not None and self.change_per_1000_calls < 0


@dataclass
class EffortOptions:
    model: str
    current: str | None  # the effort a call runs at now (None: the model does not reason)
    current_source: str = ""
    current_pass_rate: PassRate | None = None
    options: list[EffortOption] = field(default_factory=list)
    reason: str = ""  # why there are none


def effort_options(
    analysis: Analysis,
    config: LoadedConfig,
    catalog: Catalog | None = None,
    pass_rates: Mapping[str | None, PassRate] | None = None,
) -> EffortOptions:
    """Every other effort the file's model accepts, lowest first, each priced by analysing the edited file."""
    catalog = catalog or catalog_for(config)
    doc, card = analysis.document, analysis.card
    current = analysis.reasoning.effort
    out = EffortOptions(model=analysis.model, current=current, current_source=analysis.reasoning.effort_source)
    efforts = accepted_efforts(card)
    if card is None or not efforts:
        out.reason = f"{analysis.model} does not reason" if card is not None else f"unknown model '{analysis.model}'"
        return out
    if current == "budget":
        out.reason = "the file sets a thinking budget, not an effort"
        return out
    rates = dict(pass_rates or {})
    out.current_pass_rate = rates.get(current)
    before = analysis.estimate.per_1000 if analysis.estimate else None
    for effort in efforts:
        if effort == current:
            continue
        try:
            edits = effort_edits(doc, effort)
        except Unwritable as exc:
            out.reason = str(exc)
            return out
        after = _analysis_after(doc, edits, config, catalog)
        if after is None or after.card is None or after.card.name != card.name or after.reasoning.effort != effort:
            continue  # the edit would not run the same model at that effort: offer nothing rather than a wrong figure
        if _broken(after.document) > _broken(doc):
            continue  # a syntax that does not take the block (a Cursor rule's key: value lines)
        option = EffortOption(
            effort=effort,
            edits=edits,
            cost_per_call=after.cost_per_call,
            per_1000_calls=after.estimate.per_1000 if after.estimate else None,
            current_per_1000_calls=before,
            reasoning=after.reasoning,
            pass_rate=rates.get(effort),
        )
        _describe(option, out)
        out.options.append(option)
    if not out.options and not out.reason:
        out.reason = f"{analysis.model} takes no other effort this file can be set to"
    return out


def _broken(doc: PromptDocument) -> int:
    return sum(1 for p in doc.problems if p.code == "invalid-frontmatter")


def _analysis_after(doc: PromptDocument, edits: list[TextEdit], config: LoadedConfig, catalog: Catalog) -> Analysis | None:
    new_doc = parse_document(doc.path, apply_edits(doc.text, edits), doc.format, doc.max_bytes)
    return analyze(new_doc, config, catalog, duplicates=False)


def _describe(option: EffortOption, out: EffortOptions) -> None:
    change = option.change_per_1000_calls
    figure = "cost unknown" if change is None else f"{'-' if change < 0 else '+'}{money(change)} per 1,000 calls"
    evals = ""
    if option.pass_rate is not None:
        evals = f"{option.pass_rate[0]}/{option.pass_rate[1]} cases pass, "
    option.title = f"Set reasoning effort to {option.effort} ({evals}{figure})"
    r = option.reasoning
    parts = [f"{r.tokens:,} reasoning tokens a call at {option.effort} ({r.kind}: {r.source})"]
    if out.current is not None:
        parts.append(f"now {out.current} ({out.current_source})")
    if option.pass_rate is None:
        parts.append(f"no eval run at {option.effort} yet: run the suite at that effort before relying on it")
    elif out.current_pass_rate is not None:
        mine = out.current_pass_rate
        parts.append(f"evals: {option.effort} {option.pass_rate[0]}/{option.pass_rate[1]}, {out.current} {mine[0]}/{mine[1]}")
    option.detail = "; ".join(parts)


# ---- pass rates per effort, from the eval runs ----


def effort_pass_rates(root: Path, prompt: Path, model: str, catalog: Catalog | None = None) -> dict[str | None, PassRate]:
    """`{effort: (passed, ran)}` for this prompt on `model` (any spelling the catalog resolves), from the
    newest runs under `root`; the newest run that ran an effort gives its counts. Errored cases are left out.
    Never raises: a run store in any state is no evidence."""
    try:
        return _pass_rates(Path(root), Path(prompt), model, catalog or Catalog.bundled())
    except Exception:
        return {}


def _pass_rates(root: Path, prompt: Path, model: str, catalog: Catalog) -> dict[str | None, PassRate]:
    runs = root.joinpath(*RUNS)
    try:
        with os.scandir(runs) as entries:
            folders = sorted((e.name for e in entries if e.is_dir(follow_symlinks=False)), reverse=True)[:MAX_RUNS]
    except (OSError, ValueError):
        return {}
    names = _spellings(model, catalog)
    target = _parts(prompt)
    found: dict[str | None, PassRate] = {}
    for folder in folders:
        raw, _ = access.read_bytes(runs / folder / "results.json", MAX_RESULTS_BYTES, origin=root)
        if raw is None:
            continue
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        for effort, rate in _tally(data, names, target, root, catalog).items():
            found.setdefault(effort, rate)  # newest first
    return found


def _tally(data: Any, names: frozenset[str], target: tuple[str, ...], root: Path, catalog: Catalog) -> dict[str | None, PassRate]:
    from ..evals.usage import effort_key

    if not isinstance(data, dict) or not isinstance(data.get("suites"), list):
        return {}
    spelled: dict[str, frozenset[str]] = {}

    def ours_model(name: str) -> bool:
        if name not in spelled:
            spelled[name] = _spellings(name, catalog)
        return not spelled[name].isdisjoint(names)

    ours = {s.get("path") for s in data["suites"] if isinstance(s, dict) and isinstance(s.get("prompt"), str) and _same_file(s["prompt"], target, root)}
    tallies: dict[str | None, list[int]] = {}
    for r in data.get("results") or ():
        if not isinstance(r, dict) or r.get("suite") not in ours or r.get("status") not in ("passed", "failed"):
            continue
        if not isinstance(r.get("model"), str) or not ours_model(r["model"]):
            continue
        tally = tallies.setdefault(effort_key(r.get("reasoning_effort")), [0, 0])
        tally[0] += r["status"] == "passed"
        tally[1] += 1
    for c in data.get("cheapest") or ():
        if not isinstance(c, dict) or c.get("suite") not in ours:
            continue
        for t in c.get("tried") or ():
            if not isinstance(t, dict) or not isinstance(t.get("model"), str) or not ours_model(t["model"]):
                continue
            passed, failed = t.get("passed"), t.get("failed")
            effort = effort_key(t.get("reasoning_effort"))
            if isinstance(passed, int) and isinstance(failed, int) and effort not in tallies and passed + failed > 0:
                tallies[effort] = [passed, passed + failed]
    return {e: (v[0], v[1]) for e, v in tallies.items() if v[1] > 0}


def _spellings(model: str, catalog: Catalog) -> frozenset[str]:
    card = catalog.resolve(model)
    return frozenset({model.lower(), *([card.name.lower()] if card is not None else [])})


def _parts(path: Path) -> tuple[str, ...]:
    try:
        return path.resolve().parts
    except (OSError, RuntimeError):
        return path.absolute().parts


def _same_file(written: str, target: tuple[str, ...], root: Path) -> bool:
    """`written` is the prompt as the run displayed it: relative to where it ran, or absolute."""
    pure = PurePosixPath(written.replace("\\", "/"))
    if pure.is_absolute():
        return _parts(Path(written)) == target
    parts = tuple(p for p in pure.parts if p not in (".", ""))
    if not parts or ".." in parts:
        return _parts(root / written) == target
    return len(parts) <= len(target) and target[-len(parts) :] == parts


# ---- configurations for the cheapest search: model x effort ----


@dataclass
class Configuration:
    """One model at one effort (None: the model does not reason), priced for this prompt."""

    card: ModelCard
    effort: str | None
    cost_per_call: float
    analysis: Analysis

    @property
    def label(self) -> str:
        return self.card.name if self.effort is None else f"{self.card.name} at {self.effort} effort"


def priced_at(analysis: Analysis, config: LoadedConfig, card: ModelCard, effort: str | None, catalog: Catalog | None = None) -> Analysis:
    """The prompt on `card` at `effort`, priced by the cost model (reasoning measured, configured or assumed there)."""
    doc = analysis.document if effort is None else replace(analysis.document, reasoning_effort=effort, reasoning_budget=None, uses_reasoning=True)
    return analyze(doc, config, catalog or catalog_for(config), model=card.name, duplicates=False)


def configurations(analysis: Analysis, config: LoadedConfig, models: list[ModelCard], catalog: Catalog | None = None) -> list[Configuration]:
    """The current model at each other effort it takes, and each of `models` at each effort it takes (a model
    that does not reason once), cheapest first, keeping only those that cost less than the call does now."""
    catalog = catalog or catalog_for(config)
    current = analysis.cost_per_call
    card = analysis.card
    found: list[Configuration] = []
    if current is None or card is None:
        return found
    if analysis.reasoning.effort != "budget":
        for effort in accepted_efforts(card):
            if effort != analysis.reasoning.effort:
                found.append(_config(analysis, config, card, effort, catalog))
    for other in models:
        efforts = accepted_efforts(other) if analysis.document.uses_reasoning or "reasoning" in other.supports else ()
        for effort in efforts or (None,):
            found.append(_config(analysis, config, other, effort, catalog))
    cheaper = [c for c in found if c.cost_per_call is not None and c.cost_per_call < current]
    cheaper.sort(key=lambda c: (c.cost_per_call, c.card.name, EFFORTS.index(c.effort) if c.effort in EFFORTS else -1))
    return cheaper


def _config(analysis: Analysis, config: LoadedConfig, card: ModelCard, effort: str | None, catalog: Catalog) -> Configuration:
    priced = priced_at(analysis, config, card, effort, catalog)
    cost = priced.cost_per_call
    return Configuration(card, effort, cost if cost is not None else float("inf"), priced)


# ---- for `promptwise suggest` ----


def effort_lines(found: EffortOptions) -> list[str]:
    """The effort options as `promptwise suggest` prints them; nothing for a model that does not reason."""
    if not found.options:
        return [] if found.current is None else [f"reasoning effort ({found.model}, now {found.current}): {found.reason}"]
    rate = f", evals {found.current_pass_rate[0]}/{found.current_pass_rate[1]}" if found.current_pass_rate else ""
    lines = [f"reasoning effort ({found.model}, now {found.current}: {found.current_source}{rate}):"]
    for o in found.options:
        lines.append(f"  {o.title}")
        lines.append(f"    {o.detail}")
    return lines


def effort_json(found: EffortOptions) -> dict[str, Any]:
    return {
        "model": found.model,
        "current": found.current,
        "current_source": found.current_source,
        "current_pass_rate": list(found.current_pass_rate) if found.current_pass_rate else None,
        "options": [
            {
                "effort": o.effort,
                "title": o.title,
                "cost_per_call": o.cost_per_call,
                "per_1000_calls": o.per_1000_calls,
                "change_per_1000_calls": o.change_per_1000_calls,
                "reasoning_tokens": o.reasoning.tokens,
                "reasoning_basis": o.reasoning.kind,
                "pass_rate": list(o.pass_rate) if o.pass_rate else None,
                "detail": o.detail,
            }
            for o in found.options
        ],
        "reason": found.reason,
    }


def options_for_file(analysis: Analysis, config: LoadedConfig) -> EffortOptions:
    """The effort options of an analysed file with the pass rates its eval runs recorded at each effort."""
    model = analysis.card.name if analysis.card else analysis.model
    return effort_options(analysis, config, pass_rates=effort_pass_rates(config.root, analysis.document.path, model))
