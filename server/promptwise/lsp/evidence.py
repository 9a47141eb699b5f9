"""Eval evidence for model suggestions: pass rates per model from the latest `promptwise eval` runs of a prompt.

`promptwise eval` writes each run to `<config root>/.promptwise/runs/<timestamp>/results.json`
(schemas/evals.results.schema.json). For one prompt file this reads the newest runs, keeps the
cases of the suites whose `prompt` is that file, and counts per model (cases passed, cases that
ran). Errored cases (a provider error, a timeout) are left out: they say nothing about the model.
`--cheapest` trials count the same way. A model keeps the counts of the newest run that tried it.

Everything here is defensive: a missing folder, an unreadable, half-written or foreign file, or
a results.json of another shape means no evidence, never an error in the editor.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Mapping

log = logging.getLogger(__name__)

RUNS = (".promptwise", "runs")
MAX_RUNS = 10  # newest run folders looked at
MAX_BYTES = 64 * 1024 * 1024  # a results.json larger than this is skipped (never parsed on an editor request)

Counts = dict[str, tuple[int, int]]  # model -> (passed, ran)


@dataclass(frozen=True)
class _Parsed:
    """One results.json reduced to what suggestions need: per prompt path as written, per model counts."""

    by_prompt: dict[str, Counts]


# results.json files are written once, atomically; keyed by path, size and mtime they never go stale.
_cache: dict[tuple[str, int, int], _Parsed | None] = {}
_CACHE_LIMIT = 64


def eval_results(prompt: Path, root: Path) -> Counts | None:
    """`{model: (passed, total)}` for `prompt` from the newest runs under `root`, or None without evidence."""
    try:
        runs_dir = root.joinpath(*RUNS)
        with os.scandir(runs_dir) as entries:
            folders = sorted((e.name for e in entries if e.is_dir(follow_symlinks=False)), reverse=True)
    except (OSError, ValueError):
        return None
    target = _parts(prompt)
    merged: Counts = {}
    looked = 0
    for name in folders[: MAX_RUNS * 2]:  # the same folders fingerprint() watches
        if looked >= MAX_RUNS:
            break
        parsed = _load(runs_dir / name / "results.json")
        if parsed is None:
            continue
        looked += 1
        run: dict[str, list[int]] = {}
        for written, counts in parsed.by_prompt.items():
            if not _same_file(written, target, root):
                continue
            for model, (passed, ran) in counts.items():
                tally = run.setdefault(model, [0, 0])
                tally[0] += passed
                tally[1] += ran
        for model, (passed, ran) in run.items():
            if ran > 0:
                merged.setdefault(model, (passed, ran))  # newest run first: an older run never overrides
    return merged or None


def fingerprint(root: Path) -> tuple:
    """A cheap identity of the evidence under `root` (the newest run folders and their results.json
    sizes and times), to know when suggestions must be computed again."""
    runs_dir = root.joinpath(*RUNS)
    try:
        with os.scandir(runs_dir) as entries:
            names = sorted((e.name for e in entries if e.is_dir(follow_symlinks=False)), reverse=True)
    except (OSError, ValueError):
        return ()
    out = []
    for name in names[: MAX_RUNS * 2]:
        try:
            stat = (runs_dir / name / "results.json").stat()
            out.append((name, stat.st_size, stat.st_mtime_ns))
        except (OSError, ValueError):
            out.append((name, None, None))
    return tuple(out)


def _parts(path: Path) -> tuple[str, ...]:
    try:
        path = path.resolve()
    except (OSError, RuntimeError):
        path = path.absolute()
    return path.parts


def _same_file(written: str, target: tuple[str, ...], root: Path) -> bool:
    """`written` is the prompt path as the run displayed it: relative to where it ran (inside the
    project) or absolute. A relative path matches the file whose path ends with it."""
    if not written:
        return False
    pure = PureWindowsPath(written) if "\\" in written and "/" not in written else PurePosixPath(written)
    if pure.is_absolute():
        return _parts(Path(written)) == target
    parts = tuple(p for p in pure.parts if p not in (".", ""))
    if not parts or ".." in parts:
        try:
            return _parts(root / written) == target
        except (OSError, ValueError):
            return False
    return len(parts) <= len(target) and target[-len(parts) :] == parts


def _load(path: Path) -> _Parsed | None:
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return None
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key in _cache:
        return _cache[key]
    parsed = None
    if 0 < stat.st_size <= MAX_BYTES:
        try:
            with open(path, encoding="utf-8") as handle:
                parsed = _reduce(json.load(handle))
        except (OSError, ValueError, UnicodeDecodeError, RecursionError):
            log.debug("ignoring eval results %s", path, exc_info=True)
    if len(_cache) >= _CACHE_LIMIT:
        _cache.pop(next(iter(_cache)))
    _cache[key] = parsed
    return parsed


def _reduce(data: Any) -> _Parsed | None:
    if not isinstance(data, Mapping):
        return None
    suites = data.get("suites")
    if not isinstance(suites, list):
        return None
    prompt_of: dict[str, str] = {}
    for suite in suites:
        if isinstance(suite, Mapping) and isinstance(suite.get("path"), str) and isinstance(suite.get("prompt"), str):
            prompt_of[suite["path"]] = suite["prompt"]
    tallies: dict[str, dict[str, list[int]]] = {}
    results = data.get("results")
    for r in results if isinstance(results, list) else ():
        if not isinstance(r, Mapping):
            continue
        prompt = prompt_of.get(r.get("suite"))  # type: ignore[arg-type]
        model, status = r.get("model"), r.get("status")
        if prompt is None or not isinstance(model, str) or status not in ("passed", "failed"):
            continue
        tally = tallies.setdefault(prompt, {}).setdefault(model, [0, 0])
        tally[0] += status == "passed"
        tally[1] += 1
    cheapest = data.get("cheapest")
    for c in cheapest if isinstance(cheapest, list) else ():
        if not isinstance(c, Mapping) or not isinstance(c.get("tried"), list):
            continue
        prompt = prompt_of.get(c.get("suite"))  # type: ignore[arg-type]
        if prompt is None:
            continue
        models = tallies.setdefault(prompt, {})
        for trial in c["tried"]:
            if not isinstance(trial, Mapping) or not isinstance(trial.get("model"), str):
                continue
            passed, failed = trial.get("passed"), trial.get("failed")
            if not _count(passed) or not _count(failed) or trial["model"] in models:
                continue
            models[trial["model"]] = [passed, passed + failed]
    return _Parsed({p: {m: (v[0], v[1]) for m, v in models.items()} for p, models in tallies.items()})


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
