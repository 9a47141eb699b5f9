"""Usage measured by eval runs, per prompt file x model x reasoning effort, for the editor's cost figures.

Each saved run writes `usage.json` beside its `results.json`: for every prompt file, model and effort, the
tokens of each call the run made (cached replies are left out: they repeat a call an earlier run measured)
and the sha256 of the prompt text the calls were made with. `measured_usage` reads those files (the
latest MAX_RUNS runs), merges the runs made on one text and gives medians and p95s. It is called on every
keystroke: the index is rebuilt only when a run's file changes (name, mtime, size), and it never raises.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import statistics
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .. import access
from ..files import write_atomic
if TYPE_CHECKING:  # the pydantic result models are for writing runs; the editor only reads the store
    from .results import CaseResult, MeasuredGroup, RunResult, UsageStat

USAGE_FILE = "usage.json"
USAGE_VERSION = 1
MAX_RUNS = 200  # the most recent runs read; older ones no longer describe how the prompt is used
MAX_USAGE_BYTES = 16 * 1024 * 1024  # a larger usage.json is not read (the editor reads the store on a keystroke)
_FIELDS = ("prompt", "cached", "output", "reasoning")


@dataclass(frozen=True)
class Stat:
    median: float
    p95: float


@dataclass(frozen=True)
class MeasuredUsage:
    calls: int
    output_tokens: Stat  # visible output (completion minus reasoning)
    reasoning_tokens: Stat
    cached_tokens: Stat
    prompt_tokens: Stat
    current: bool  # True when measured on the file's current text, False when on an earlier version
    when: str  # ISO time of the latest run it includes


@dataclass(frozen=True)
class SuiteCalls:
    """What a run knows about one suite's calls: where the prompt is and which text and effort it used."""

    suite: str  # the suite as results name it (CaseResult.suite)
    prompt: str  # prompt_key() of the prompt file
    prompt_sha256: str
    models: dict[str, tuple[str, str | None]]  # label -> (canonical catalog name, reasoning effort)


def text_sha256(text: str) -> str:
    """The identity of a prompt's text; line endings do not change it (an editor may send \\r\\n for \\n)."""
    normal = text.replace("\r\n", "\n").replace("\r", "\n")
    return hashlib.sha256(normal.encode("utf-8", "surrogatepass")).hexdigest()


def prompt_key(root: Path, prompt: Path) -> str:
    """The prompt file relative to the config root (posix), or its absolute path when outside it."""
    try:
        base, path = os.path.realpath(root), os.path.realpath(prompt)
        rel = os.path.relpath(path, base)
    except (OSError, ValueError):
        return Path(prompt).as_posix()
    return Path(path).as_posix() if rel.startswith("..") or os.path.isabs(rel) else Path(rel).as_posix()


def effort_key(effort: Any) -> str | None:
    if effort is None or isinstance(effort, (dict, list)):
        return None
    text = str(effort).strip().lower()
    return text or None


# ---- one run: measuring and writing ----


def _samples(results: Iterable[CaseResult], suite: str, label: str) -> list[tuple[int, int, int, int]]:
    out = []
    for r in results:
        if r.suite != suite or r.model != label or r.cached or r.status == "errored":
            continue
        if r.prompt_tokens is None or r.completion_tokens is None:
            continue
        reasoning = r.reasoning_tokens or 0
        out.append((r.prompt_tokens, r.cached_tokens or 0, max(0, r.completion_tokens - reasoning), reasoning))
    return out


def _stat(values: Sequence[float]) -> Stat:
    ordered = sorted(values)
    # p95 by nearest rank: a value some call really used, never an interpolation between two.
    return Stat(float(statistics.median(ordered)), float(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]))


def _usage_stat(values: Sequence[float]) -> "UsageStat":
    from .results import UsageStat

    s = _stat(values)
    return UsageStat(median=s.median, p95=s.p95)


def measure(suites: Iterable[SuiteCalls], results: list["CaseResult"]) -> list["MeasuredGroup"]:
    """Medians and p95s per suite's prompt x model x effort over the calls this run made."""
    from .results import MeasuredGroup

    groups = []
    for s in suites:
        for label, (model, effort) in s.models.items():
            samples = _samples(results, s.suite, label)
            if not samples:
                continue
            columns = list(zip(*samples))
            groups.append(
                MeasuredGroup(
                    suite=s.suite,
                    prompt=s.prompt,
                    prompt_sha256=s.prompt_sha256,
                    model=model,
                    label=label,
                    reasoning_effort=effort,
                    calls=len(samples),
                    prompt_tokens=_usage_stat(columns[0]),
                    cached_tokens=_usage_stat(columns[1]),
                    output_tokens=_usage_stat(columns[2]),
                    reasoning_tokens=_usage_stat(columns[3]),
                )
            )
    return groups


def write_usage(result: RunResult, folder: Path) -> Path | None:
    """`folder/usage.json`: the run's groups with each call's tokens, so later runs can be merged with it."""
    if not result.usage:
        return None
    groups = []
    for g in result.usage:
        samples = _samples(result.results, g.suite, g.label)
        columns = list(zip(*samples)) if samples else [(), (), (), ()]
        groups.append({**g.model_dump(mode="json"), "samples": {name: list(col) for name, col in zip(_FIELDS, columns)}})
    target = folder / USAGE_FILE
    data = json.dumps({"v": USAGE_VERSION, "started_at": result.started_at, "groups": groups}, ensure_ascii=False)
    write_atomic(target, data.encode("utf-8"))
    with _lock:
        _listed.clear()  # this process's own run is read on the next question, not after the pause below
    return target


# ---- reading the store ----


@dataclass
class _Version:
    """The calls made on one text of a prompt, one model and one effort, across runs."""

    model: str
    label: str
    samples: list[tuple[int, int, int, int]]
    when: str


# root -> (signature, index); index: (prompt, effort) -> [(model, label, sha, samples, when)]
_indexes: dict[str, tuple[tuple, dict[tuple[str, str | None], list[tuple[str, str, str, list, str]]]]] = {}
_answers: dict[tuple, MeasuredUsage | None] = {}
_lock = threading.Lock()
# runs folder -> (when it was listed, its signature). The editor asks on every keystroke; a run store of
# 200 runs is 200 stats, so it is listed again only after a pause (runs written here clear it at once).
_listed: dict[str, tuple[float, tuple]] = {}
RELIST_SECONDS = 2.0


def _signature(runs: str) -> tuple[tuple[str, int, int], ...]:
    try:
        with os.scandir(runs) as entries:
            names = sorted((e.name for e in entries if e.is_dir(follow_symlinks=False)), reverse=True)[:MAX_RUNS]
    except OSError:
        return ()
    found = []
    for name in names:
        try:
            st = os.stat(os.path.join(runs, name, USAGE_FILE), follow_symlinks=False)
        except OSError:
            continue
        found.append((name, st.st_mtime_ns, st.st_size))
    return tuple(found)


def _group_samples(group: dict[str, Any]) -> list[tuple[int, int, int, int]]:
    samples = group.get("samples")
    if not isinstance(samples, dict):
        return []
    columns = [samples.get(name) for name in _FIELDS]
    if not all(isinstance(c, list) for c in columns) or len({len(c) for c in columns}) != 1:  # type: ignore[arg-type]
        return []
    rows = []
    for row in zip(*columns):  # type: ignore[misc]
        if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in row):
            rows.append(row)
    return rows


def _build(runs: str, signature: tuple[tuple[str, int, int], ...]) -> dict:
    index: dict[tuple[str, str | None], list] = {}
    root = Path(runs).parent.parent
    for name, _, _ in signature:
        # A repository may carry its own .promptwise/runs: a usage.json that is a FIFO, a device, a link out
        # of the workspace or huge is left unread, like any file a prompt includes.
        raw, _why = access.read_bytes(Path(runs, name, USAGE_FILE), MAX_USAGE_BYTES, origin=root)
        if raw is None:
            continue
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            continue  # a run being written, or a broken file: the others still count
        if not isinstance(data, dict) or data.get("v") != USAGE_VERSION or not isinstance(data.get("groups"), list):
            continue
        when = str(data.get("started_at") or "")
        for g in data["groups"]:
            if not isinstance(g, dict):
                continue
            prompt, sha, model = g.get("prompt"), g.get("prompt_sha256"), g.get("model")
            if not (isinstance(prompt, str) and isinstance(sha, str) and isinstance(model, str)):
                continue
            samples = _group_samples(g)
            if samples:
                label = g.get("label") if isinstance(g.get("label"), str) else model
                index.setdefault((prompt, effort_key(g.get("reasoning_effort"))), []).append((model, label, sha, samples, when))
    return index


def _index(root: Path) -> tuple[tuple, dict]:
    runs = os.path.join(root, ".promptwise", "runs")
    now = time.monotonic()
    with _lock:
        listed = _listed.get(runs)
    if listed is not None and now - listed[0] < RELIST_SECONDS:
        signature = listed[1]
    else:
        signature = _signature(runs)
        with _lock:
            if len(_listed) > 256:
                _listed.clear()
            _listed[runs] = (now, signature)
    with _lock:
        found = _indexes.get(runs)
        if found is not None and found[0] == signature:
            return found
    built = (signature, _build(runs, signature))
    with _lock:
        _indexes[runs] = built
        if len(_answers) > 4096:
            _answers.clear()
    return built


@lru_cache(maxsize=1024)
def _names(model: str) -> frozenset[str]:
    """The spellings a model may be stored under: as given, and its canonical catalog name."""
    names = {model}
    try:
        from ..catalog import Catalog

        card = Catalog.bundled().resolve(model)
        if card is not None:
            names.add(card.name)
    except Exception:  # no catalog: the name as given still matches
        pass
    return frozenset(names)


def measured_usage(root: Path, prompt: Path, model: str, effort: str | None, text: str | None = None) -> MeasuredUsage | None:
    """Usage the eval runs under `root` (the config root, where .promptwise/ lives) measured for this prompt, model and effort.
    `text` is the prompt file's current text: runs on that text first (current=True), else the latest earlier version's (current=False)."""
    try:
        return _measured(Path(root), Path(prompt), model, effort_key(effort), text)
    except Exception:  # a store in any state is no reason to fail an analysis
        return None


def _measured(root: Path, prompt: Path, model: str, effort: str | None, text: str | None) -> MeasuredUsage | None:
    signature, index = _index(root)
    if not signature:
        return None
    key = prompt_key(root, prompt)
    if not index.get((key, effort)):
        return None  # no run measured this prompt at this effort: no need to hash its text
    sha = text_sha256(text) if text is not None else None
    memo = (str(root), signature, key, model, effort, sha)
    with _lock:
        if memo in _answers:
            return _answers[memo]
    names = _names(model)
    versions: dict[str, _Version] = {}
    for stored, label, digest, samples, when in index.get((key, effort), ()):
        if stored not in names and label not in names:
            continue
        v = versions.get(digest)
        if v is None:
            versions[digest] = _Version(stored, label, list(samples), when)
        else:
            v.samples.extend(samples)
            v.when = max(v.when, when)
    answer = None
    if versions:
        current = sha is not None and sha in versions
        chosen = versions[sha] if current else max(versions.values(), key=lambda v: v.when)  # type: ignore[index]
        columns = list(zip(*chosen.samples))
        answer = MeasuredUsage(
            calls=len(chosen.samples),
            output_tokens=_stat(columns[2]),
            reasoning_tokens=_stat(columns[3]),
            cached_tokens=_stat(columns[1]),
            prompt_tokens=_stat(columns[0]),
            current=current,
            when=chosen.when,
        )
    with _lock:
        _answers[memo] = answer
    return answer
