"""Eval results in the editor: the latest outcome of each suite's cases, and where each case is written now.

The code lens, the inlay hints on case lines and the diagnostics on failed cases all read from here.
Results come from the runs made in this session (eval_runs.py); for a suite not run in this session,
from the newest `.promptwise/runs/*/results.json` that ran it (a `promptwise eval` in a terminal, an
earlier session). A run of one case, or a cancelled run, is merged over the suite's previous results.

Results are placed on the cases as the suite is written now (the editor's text when it is open):
a result goes to the case with its index and name, else to the one case with its name, so an edit
above a case moves its hint and diagnostic with it. Nothing here imports litellm, and nothing is
read unless a suite file is involved: a prompt without a suite beside it costs a few stat calls.
"""

from __future__ import annotations

import json
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from lsprotocol import types

from .. import access
from ..text import LineIndex
from . import evidence, labels
from .documents import is_config_file, uri_to_path
from .positions import line_end, position

if TYPE_CHECKING:
    from ..evals import CaseResult, LoadedCase, LoadedSuite, RunResult
    from .documents import Snapshot
    from .server import PromptwiseServer

log = logging.getLogger(__name__)
RELATED_FILE_BYTES = 8 * 1024 * 1024

SOURCE = "promptwise"  # as diagnostics.SOURCE (not imported: diagnostics imports this module)
FAILED = "eval-failed"
ERRORED = "eval-errored"
SUITE_SUFFIXES = (".evals.yaml", ".evals.yml")
MAX_RESULTS_BYTES = 16 * 1024 * 1024  # a larger results.json is not read on an editor request
MAX_DIAGNOSTICS = 500  # per file


def is_suite(path: Path) -> bool:
    return path.name.endswith(SUITE_SUFFIXES)


def same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False


# ---- the latest results of one suite ----

Key = tuple[int, str, int]  # case index, model, repeat


@dataclass
class SuiteRecord:
    suite: Path  # resolved
    results: dict[Key, "CaseResult"] = field(default_factory=dict)
    seconds: float = 0.0
    cancelled: bool = False
    started_at: str = ""
    report: Path | None = None
    from_disk: bool = False

    def counts(self) -> dict[str, int]:
        out = {"passed": 0, "failed": 0, "errored": 0}
        for r in self.results.values():
            out[r.status] = out.get(r.status, 0) + 1
        return out

    @property
    def cost(self) -> float | None:
        """What the cases cost to run (model calls and grading), cached calls included; None when unpriced."""
        total, priced = 0.0, False
        for r in self.results.values():
            for value in (r.cost, r.grading_cost):
                if value is not None:
                    total += value
                    priced = True
        return total if priced else None

    def summary(self) -> str:
        """`11/12 passed, $0.0042, 3.1 s`, plus what did not pass for another reason."""
        counts = self.counts()
        total = sum(counts.values())
        text = f"{counts['passed']}/{total} passed"
        if counts["errored"]:
            text += f" ({counts['errored']} errored)"
        text += f", {labels.money(self.cost)}, {self.seconds:.1f} s"
        if self.cancelled:
            text += " (cancelled)"
        return text

    def merged(self, result: "RunResult", replace: bool) -> "SuiteRecord":
        record = SuiteRecord(self.suite) if replace else SuiteRecord(self.suite, dict(self.results), report=self.report)
        for r in result.results:
            record.results[(r.case_index, r.model, r.repeat)] = r
        record.seconds = result.seconds
        record.cancelled = result.cancelled
        record.started_at = result.started_at
        return record


class EvalStore:
    """Per server: the latest results per suite, and caches of parsed suites and run files."""

    def __init__(self) -> None:
        self.records: dict[Path, SuiteRecord] = {}
        self.pushed: set[str] = set()  # closed files given eval diagnostics by a push
        self._suites: OrderedDict[Path, tuple[Any, "LoadedSuite", frozenset[Path]]] = OrderedDict()
        self._disk: OrderedDict[tuple[str, int, int], dict[str, SuiteRecord] | None] = OrderedDict()
        self._found: dict[Path, tuple[tuple, SuiteRecord | None]] = {}

    def record(self, suite: Path, result: "RunResult", report: Path | None, whole: bool) -> SuiteRecord:
        """A finished run: a whole run replaces the suite's results; one case or a cancelled run is merged."""
        previous = self.records.get(suite) or SuiteRecord(suite)
        record = previous.merged(result, replace=whole and not result.cancelled)
        record.report = report or previous.report
        self.records[suite] = record
        return record

    # ---- reading ----

    def latest(self, ls: PromptwiseServer, suite: Path) -> SuiteRecord | None:
        found = self.records.get(suite)
        if found is not None:
            return found
        try:
            root = ls.state.config_for(suite).root
            key = evidence.fingerprint(root)
            if not key:
                return None
            cached = self._found.get(suite)
            if cached is not None and cached[0] == key:
                return cached[1]
            record = self._from_disk(root, suite)
        except Exception:  # results we cannot read are no results, never a broken editor
            log.debug("reading eval results for %s failed", suite, exc_info=True)
            return None
        self._found[suite] = (key, record)
        return record

    def _from_disk(self, root: Path, suite: Path) -> SuiteRecord | None:
        runs = root.joinpath(*evidence.RUNS)
        try:
            with os.scandir(runs) as entries:
                names = sorted((e.name for e in entries if e.is_dir(follow_symlinks=False)), reverse=True)
        except (OSError, ValueError):
            return None
        target = evidence._parts(suite)
        for name in names[: evidence.MAX_RUNS]:
            parsed = self._load(runs / name / "results.json", suite)
            for written, record in (parsed or {}).items():
                if record.results and evidence._same_file(written, target, root):
                    return record
        return None

    def _load(self, path: Path, suite: Path) -> dict[str, SuiteRecord] | None:
        try:
            stat = path.stat()
        except (OSError, ValueError):
            return None
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key in self._disk:
            self._disk.move_to_end(key)
            return self._disk[key]
        parsed = None
        if 0 < stat.st_size <= MAX_RESULTS_BYTES:
            try:
                with open(path, encoding="utf-8") as handle:
                    parsed = _records(json.load(handle), suite, path.parent)
            except (OSError, ValueError, UnicodeDecodeError, RecursionError):
                log.debug("ignoring eval results %s", path, exc_info=True)
        self._disk[key] = parsed
        while len(self._disk) > 8:
            self._disk.popitem(last=False)
        return parsed

    def loaded(self, ls: PromptwiseServer, suite: Path) -> "LoadedSuite | None":
        """The suite as written now (the editor's text when open), parsed once per version."""
        from ..evals import load_suite

        text, key = None, None
        doc = open_document(ls, suite)
        if doc is not None:
            text, key = doc.text, ("open", doc.uri, doc.version)
        else:
            try:
                stat = suite.stat()
            except (OSError, ValueError):
                return None
            key = ("disk", stat.st_mtime_ns, stat.st_size)
        cached = self._suites.get(suite)
        if cached is not None and cached[0][0] == key and _unchanged(cached[0][1]):
            self._suites.move_to_end(suite)
            return cached[1]
        try:
            loaded = load_suite(suite, text)
        except Exception:
            log.exception("loading the suite %s failed", suite)
            return None
        files = frozenset({suite, *(c.location.path for c in loaded.cases)})
        self._suites[suite] = ((key, _stats(loaded, suite)), loaded, files)
        while len(self._suites) > 16:
            self._suites.popitem(last=False)
        return loaded

    def files(self, ls: PromptwiseServer, suite: Path) -> frozenset[Path]:
        """The suite and the files its cases are written in (a cases file)."""
        if self.loaded(ls, suite) is None:
            return frozenset({suite})
        return self._suites[suite][2]


def _stats(loaded: "LoadedSuite", suite: Path) -> list[tuple[Path, int, int]]:
    """Other files the parsed cases came from (a cases file), to notice when they change."""
    out = []
    for path in {c.location.path for c in loaded.cases}:
        if path != suite:
            try:
                stat = path.stat()
                out.append((path, stat.st_mtime_ns, stat.st_size))
            except (OSError, ValueError):
                out.append((path, 0, 0))
    return out


def _unchanged(stats: list[tuple[Path, int, int]]) -> bool:
    for path, mtime, size in stats:
        try:
            stat = path.stat()
        except (OSError, ValueError):
            return False
        if (stat.st_mtime_ns, stat.st_size) != (mtime, size):
            return False
    return True


def _records(data: Any, suite: Path, folder: Path) -> dict[str, SuiteRecord] | None:
    """A results.json reduced to a record per suite it ran."""
    from ..evals import CaseResult

    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return None
    out: dict[str, SuiteRecord] = {}
    seconds = data.get("seconds") if isinstance(data.get("seconds"), (int, float)) else 0.0
    report = folder / "report.md"
    for item in data["results"]:
        if not isinstance(item, dict) or not isinstance(item.get("suite"), str):
            continue
        try:
            r = CaseResult.model_validate(item)
        except ValueError:
            continue
        record = out.get(r.suite)
        if record is None:
            record = out[r.suite] = SuiteRecord(
                suite,
                seconds=float(seconds),
                cancelled=bool(data.get("cancelled")),
                started_at=str(data.get("started_at") or ""),
                report=report if report.is_file() else None,
                from_disk=True,
            )
        record.results[(r.case_index, r.model, r.repeat)] = r
    return out


def store(ls: PromptwiseServer) -> EvalStore:
    found = getattr(ls, "eval_store", None)
    if found is None:
        found = ls.eval_store = EvalStore()  # type: ignore[attr-defined]
    return found


def open_document(ls: PromptwiseServer, path: Path):
    for doc in ls.state.documents.values():
        if same_file(doc.path, path):
            return doc
    return None


# ---- which suite a file belongs to ----


def suite_for(path: Path) -> Path | None:
    """The suite of a prompt (NAME.evals.yaml beside it) or the suite itself; None when there is none."""
    if is_config_file(path) or not path.is_file():
        return None
    from ..evals import find_suites

    try:
        found, _ = find_suites([path])
    except (OSError, ValueError):
        return None
    return found[0] if found else None


def suite_of_uri(uri: str) -> Path | None:
    return suite_for(uri_to_path(uri))


# ---- cases and their outcomes, placed on the file they are written in ----


@dataclass
class Placed:
    case: "LoadedCase"
    results: list["CaseResult"]
    line: int
    column: int  # code points

    @property
    def status(self) -> str:
        statuses = {r.status for r in self.results}
        for status in ("failed", "errored"):
            if status in statuses:
                return status
        return "passed"


def outcomes_in(ls: PromptwiseServer, path: Path) -> Iterator[Placed]:
    """The cases written in `path` (a suite or its cases file) that have results."""
    st = store(ls)
    suites: list[Path] = []
    if is_suite(path):
        try:
            suites.append(path.resolve())
        except (OSError, RuntimeError):
            suites.append(path)
    suites += [s for s in st.records if s not in suites]
    for suite in suites:
        record = st.latest(ls, suite)
        if record is None or not record.results:
            continue
        loaded = st.loaded(ls, suite)
        if loaded is None or not any(same_file(f, path) for f in st.files(ls, suite)):
            continue
        by_index: dict[int, list[CaseResult]] = {}
        by_name: dict[str, list[CaseResult]] = {}
        for (index, _, _), r in sorted(record.results.items(), key=lambda kv: (kv[0][0], kv[0][2])):
            by_index.setdefault(index, []).append(r)
            by_name.setdefault(r.case, []).append(r)
        names = [c.name for c in loaded.cases]
        here: dict[Path, bool] = {}
        for case in loaded.cases:
            where = case.location.path
            if where not in here:
                here[where] = same_file(where, path)
            if not here[where]:
                continue
            results = [r for r in by_index.get(case.index, []) if r.case == case.name]
            if not results and names.count(case.name) == 1:
                # The case moved (one added or removed above it): its name, when it names one case only.
                named = by_name.get(case.name, [])
                if len({r.case_index for r in named}) == 1:
                    results = named
            if results:
                yield Placed(case, results, case.location.line, case.location.column)


def lines_of(ls: PromptwiseServer, path: Path) -> LineIndex | None:
    doc = open_document(ls, path)
    if doc is not None:
        return doc.lines
    # Only a regular file, read within a bound: a cases file a suite names can be anything.
    text, _ = access.read_text(path, RELATED_FILE_BYTES)
    return LineIndex(text) if text is not None else None


def _offset(lines: LineIndex, line: int, column: int) -> int:
    if line >= lines.line_count:
        return len(lines.text)
    return lines.line_start(line) + min(column, len(lines.line_text(line)))


def _short(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    words = cut.rsplit(" ", 1)[0]  # end on a whole word when that keeps most of the room
    return (words if len(words) > limit // 2 else cut).rstrip() + "…"


def _why(r: "CaseResult") -> str:
    if r.status == "errored":
        return r.error or "the case could not run"
    failures = r.failures
    return "; ".join(f"{a.type}: {a.reason}" for a in failures) if failures else (r.error or "")


def hint_label(placed: Placed) -> str:
    status = placed.status
    if status == "passed":
        return "✓ passed"
    bad = next(r for r in placed.results if r.status == status)
    models = {r.model for r in placed.results}
    on = f" on {bad.model}" if len(models) > 1 else ""
    head = f"✗ failed{on}: " if status == "failed" else f"! errored{on}: "
    # The whole reason is in the tooltip; the label keeps to VS Code's hint length.
    return head + _short(_why(bad), max(12, labels.MAX_HINT - len(head)))


def hint_tooltip(placed: Placed) -> str:
    out = [f"**{placed.case.name}**: last eval result", ""]
    for r in placed.results:
        mark = {"passed": "✓", "failed": "✗"}.get(r.status, "!")
        repeat = f" (repeat {r.repeat + 1})" if r.repeat else ""
        cost = f", {labels.money(r.cost)}" if r.cost is not None else ""
        latency = f", {r.latency_ms:,.0f} ms" if r.latency_ms is not None else ""
        cached = ", cached" if r.cached else ""
        out.append(f"- {mark} `{r.model}`{repeat}: {r.status}{cost}{latency}{cached}")
        if r.status != "passed":
            out.append(f"  - {_why(r)}")
    return "\n".join(out)


def inlay_hints(ls: PromptwiseServer, uri: str, rng: types.Range) -> list[types.InlayHint]:
    """The last result at the end of each case's first line."""
    path = uri_to_path(uri)
    if not (is_suite(path) or store(ls).records):
        return []
    try:
        placed = list(outcomes_in(ls, path))
        if not placed:
            return []
        lines = lines_of(ls, path)
        if lines is None:
            return []
        hints = []
        for p in placed:
            if not rng.start.line <= p.line <= rng.end.line or p.line >= lines.line_count:
                continue
            at = line_end(lines, lines.line_start(p.line))
            hints.append(
                types.InlayHint(
                    position=position(lines, at),
                    label=hint_label(p),
                    padding_left=True,
                    tooltip=types.MarkupContent(kind=types.MarkupKind.Markdown, value=hint_tooltip(p)),
                )
            )
        return hints
    except Exception:
        log.exception("eval hints for %s failed", uri)
        return []


# ---- diagnostics ----


def _expected(case: "LoadedCase", r: "CaseResult", i: int) -> str | None:
    """The failing assertion as written in the suite (results come in the order of the case's assertions)."""
    if i >= len(case.assertions):
        return None
    written = case.assertions[i]
    if getattr(written, "type", None) != r.assertions[i].type:
        return None
    if getattr(written, "json_schema", None) is not None:
        return f"{written.type} matching the schema"
    value = getattr(written, "value", None)
    if value is None:
        return written.type
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return f"{written.type} {_short(repr(text) if isinstance(value, str) else text, 200)}"


def diagnostic_message(placed: Placed, r: "CaseResult") -> str:
    repeat = f" (repeat {r.repeat + 1})" if r.repeat else ""
    if r.status == "errored":
        return f"eval case '{placed.case.name}' errored on {r.model}{repeat}: {r.error or 'the case could not run'}"
    out = [f"eval case '{placed.case.name}' failed on {r.model}{repeat}"]
    for i, a in enumerate(r.assertions):
        if a.passed:
            continue
        out.append(f"{a.type}: {a.reason}")  # an llm-rubric reason is the judge's
        expected = _expected(placed.case, r, i)
        if expected:
            out.append(f"  expected: {expected}")
    if r.error:
        out.append(r.error)
    out.append(f"  got: {_short(repr(r.output or ''), 300)}")
    return "\n".join(out)


def diagnostics_in(ls: PromptwiseServer, path: Path, lines: LineIndex | None = None) -> list[types.Diagnostic]:
    """A diagnostic per failed or errored case result written in `path`."""
    if not (is_suite(path) or store(ls).records):
        return []
    try:
        placed = [p for p in outcomes_in(ls, path) if p.status != "passed"]
        if not placed:
            return []
        lines = lines or lines_of(ls, path)
        if lines is None:
            return []
        out: list[types.Diagnostic] = []
        for p in placed:
            if p.line >= lines.line_count:
                continue
            start = _offset(lines, p.line, p.column)
            end = line_end(lines, start)
            where = types.Range(start=position(lines, start), end=position(lines, end))
            for r in p.results:
                if r.status == "passed":
                    continue
                failed = r.status == "failed"
                out.append(
                    types.Diagnostic(
                        range=where,
                        message=diagnostic_message(p, r),
                        severity=types.DiagnosticSeverity.Error if failed else types.DiagnosticSeverity.Warning,
                        code=FAILED if failed else ERRORED,
                        source=SOURCE,
                        data={"case": p.case.name, "index": p.case.index, "model": r.model, "repeat": r.repeat},
                    )
                )
                if len(out) >= MAX_DIAGNOSTICS:
                    return out
        return out
    except Exception:
        log.exception("eval diagnostics for %s failed", path)
        return []


def diagnostics_for(ls: PromptwiseServer, snap: Snapshot) -> list[types.Diagnostic]:
    return diagnostics_in(ls, snap.path, snap.lines)


def files_with_results(ls: PromptwiseServer, suite: Path) -> frozenset[Path]:
    """The suite and any cases file its cases are written in."""
    return store(ls).files(ls, suite)
