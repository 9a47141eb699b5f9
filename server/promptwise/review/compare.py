"""compare(): what a change does to every prompt file's tokens, cost and findings, from a base commit to a head.

The files compared are the prompt files git says changed, and the ones a changed file reaches through
an include, a partial, an import or a config. Dependents are found cheaply: git searches the head side
for the changed files' names, and only the files that mention one are analyzed to confirm it.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path, PurePosixPath

from ..analysis import Analysis
from ..cli import failures
from ..cli.check import SKIP_DIRS
from ..config import Config, LoadedConfig
from ..formats import Finding, detect_format, glob_match, is_partial
from ..formats.limits import DEFAULT_MAX_BYTES
from .git import FILE_MODES, Change, Repo
from .lines import changed_ranges, line_changes
from .model import Comparison, FileChange, FindingRef, MessageFigures, SideFigures, Stats, Status, Totals
from .snapshot import CONFIG_NAMES, Result, Snapshot, WorkingTree

Side = Snapshot | WorkingTree
STATUS: dict[str, Status] = {"A": "added", "M": "modified", "D": "deleted", "R": "renamed"}
# Rounds of "who mentions a file that mentions a changed file": partials of partials, imports of imports.
MAX_ROUNDS = 6
# A file read to see which changed names it mentions is read up to this much.
MENTION_BYTES = DEFAULT_MAX_BYTES


def compare(
    repo: Repo,
    base: str | None = None,
    head: str | None = None,
    paths: tuple[str, ...] | list[str] = (),
    model: str | None = None,
) -> Comparison:
    """Compare prompt files between `base` (a revision; default: the merge base with the upstream
    branch, else HEAD) and `head` (a revision; default: the working tree, untracked files included).
    `paths` (repository-relative files or folders) limits the files listed. GitError when git fails."""
    started = time.perf_counter()
    blobs_before = repo.blobs_read
    if base is None:
        base_commit, reason = repo.default_base()
        base_label = "HEAD" if reason == "HEAD" else base_commit[:12]
    else:
        base_commit, reason, base_label = repo.commit(base), "given", base
    head_commit = repo.commit(head) if head is not None else None
    wanted = [p.strip("/") for p in paths if p.strip("/") not in ("", ".")]
    with Snapshot(repo, base_commit, base_label) as base_side:
        head_side: Side = WorkingTree(repo) if head_commit is None else Snapshot(repo, head_commit, head)
        try:
            run = _Run(repo, base_side, head_side, head_commit, model)
            files = run.files(repo.changes(base_commit, head_commit), wanted)
        finally:
            head_side.close()
    stats = Stats(
        blobs_read=repo.blobs_read - blobs_before,
        files_listed=run.listed,
        files_parsed=run.parsed,
        seconds=round(time.perf_counter() - started, 3),
    )
    return Comparison(
        base=base_commit,
        base_label=base_label,
        base_reason=reason,
        head=head_commit,
        head_label=head if head is not None else "working tree",
        model=model,
        files=files,
        totals=totals(files),
        stats=stats,
    )


class _Run:
    """One comparison's state: the two sides, their configs per folder, and the analyses made."""

    def __init__(self, repo: Repo, base: Snapshot, head: Side, head_commit: str | None, model: str | None) -> None:
        self.repo, self.base, self.head, self.head_commit, self.model = repo, base, head, head_commit, model
        self._configs: dict[tuple[int, str], LoadedConfig] = {}
        self._results: dict[tuple[int, str], Result | None] = {}
        self.listed = 0
        self.parsed = 0

    def files(self, changes: list[Change], wanted: list[str]) -> list[FileChange]:
        """The entries, for the files under `wanted` (every file when it is empty); a changed file
        outside them still counts for what it affects inside."""

        def listed(*paths: str | None) -> bool:
            return not wanted or any(_under(p, w) for p in paths if p for w in wanted)

        direct: dict[str, Change] = {}
        changed: set[str] = set()  # every changed path, either side's name: anything may be included
        configs: set[str] = set()
        for c in changes:
            names = {c.path, c.old_path} - {None}
            if any(PurePosixPath(n).name in CONFIG_NAMES for n in names):  # type: ignore[arg-type]
                configs |= names  # type: ignore[arg-type]
                continue
            changed |= names  # type: ignore[arg-type]
            in_head = c.status != "D" and self.is_prompt(self.head, c.path)
            in_base = c.old_path is not None and self.is_prompt(self.base, c.old_path)
            if (in_head or in_base) and listed(c.path, c.old_path):
                direct[c.path] = c
        reach = self.mentions(changed)
        roots: dict[str, set[str]] = {**reach["roots"], **{c: {c} for c in configs}}
        affected = sorted(p for p in (reach["candidates"] | set(self.under_changed_configs(configs))) - set(direct) if listed(p))
        if isinstance(self.head, Snapshot):
            self.head.prefetch([*direct, *affected])
        heads = {path: self.analyze(self.head, path) for path in [*direct, *affected]}
        deps = {path: self.head.dependencies(r) if r is not None else set() for path, r in heads.items()}
        # A file that only mentions a changed name, without using it, is not analyzed on the base side.
        affected = [p for p in affected if deps[p] & set(roots)]
        olds = [c.old_path for c in direct.values() if c.old_path] + affected
        self.base.prefetch([*olds, *{d for p in [*direct, *affected] for d in deps[p]}])
        entries = [self.entry(c.path, c.old_path, STATUS[c.status], roots) for c in direct.values()]
        entries += [e for e in (self.entry(p, p, "affected", roots) for p in affected) if e.via]
        first_lines: dict[str, int | None] = {}
        for e in entries:
            if e.status == "affected":
                if e.via[0] not in first_lines:
                    first_lines[e.via[0]] = self.first_changed_line(e.via[0])
                e.via_line = first_lines[e.via[0]]
        return sorted(entries, key=_impact)

    # Which files are prompts, as `promptwise check` finds them.

    def config(self, side: Side, rel: str) -> LoadedConfig:
        folder = str(PurePosixPath(rel).parent)
        key = (id(side), folder)
        found = self._configs.get(key)
        if found is None:
            try:
                found = side.config(rel)
            except failures.FILE_FAILURES as exc:  # a config that cannot be loaded: defaults, as check does
                failures.log_failure(f"loading the config for {rel} failed", exc)
                found = LoadedConfig(Config())
            self._configs[key] = found
        return found

    def is_prompt(self, side: Side, rel: str) -> bool:
        parts = PurePosixPath(rel).parts
        if not parts or any(p in SKIP_DIRS for p in parts[:-1]):
            return False
        name = parts[-1]
        # By name first: only a .txt or .md file needs its config's plain_prompts to tell.
        if detect_format(Path(rel)) is None and not name.endswith((".txt", ".md")):
            return False
        config = self.config(side, rel)
        path = side.path(rel)
        fmt = detect_format(path, config.settings.plain_prompts, config.root)
        if fmt is None or is_partial(path):
            return False
        relative = config.relative(path)
        if relative is not None:
            for pattern in config.settings.exclude:
                try:
                    if glob_match(relative, pattern):
                        return False
                except failures.FILE_FAILURES:  # reported by `check`; an invalid glob excludes nothing
                    continue
        return True

    # Dependents.

    def mentions(self, changed: set[str]) -> dict:
        """Head-side prompt files that mention a changed file's name (or a file that does, a round at a
        time), and for every file found on the way the changed files it stands for."""
        roots: dict[str, set[str]] = {p: {p} for p in changed}
        frontier = dict(roots)
        candidates: set[str] = set()
        for _ in range(MAX_ROUNDS):
            terms: dict[str, list[tuple[str, bool]]] = {}
            for p in frontier:
                for term, partial in _terms(p):
                    terms.setdefault(term, []).append((p, partial))
            if not terms:
                break
            hits = self.grep(terms)
            # A config naming a file (a budget glob) does not include it: configs have their own rule.
            hits = [h for h in hits if h not in roots and PurePosixPath(h).name not in CONFIG_NAMES]
            self.listed += len(hits)
            frontier = {}
            for hit in hits:
                text = self.head_text(hit)
                if text is None:
                    continue
                stands_for: set[str] = set()
                for term, found in terms.items():
                    if term in text:
                        for p, partial in found:
                            if not partial or _can_use_partial(hit, p):
                                stands_for |= roots[p]
                if not stands_for:
                    continue
                roots[hit] = stands_for
                frontier[hit] = stands_for
                if self.is_prompt(self.head, hit):
                    candidates.add(hit)
        return {"candidates": candidates, "roots": roots}

    def grep(self, terms: dict[str, list[tuple[str, bool]]]) -> list[str]:
        """Head-side files holding a term: names anywhere; a partial's name only in the .prompt files
        of its folder and the folders above (a pathspec each), which is all that can use it."""
        anywhere = sorted(t for t, found in terms.items() if any(not partial for _, partial in found))
        scoped: dict[tuple[str, ...], list[str]] = {}
        for term, found in terms.items():
            for p, partial in found:
                if partial:
                    scoped.setdefault(_partial_users(p), []).append(term)
        hits = self.repo.grep(anywhere, self.head_commit)
        for pathspecs, stems in scoped.items():
            hits += self.repo.grep(sorted(set(stems)), self.head_commit, pathspecs)
        return list(dict.fromkeys(hits))

    def under_changed_configs(self, configs: set[str]) -> list[str]:
        """Head-side prompt files under the folder of a config whose settings changed."""
        folders = []
        for cfg in sorted(configs):
            folder = str(PurePosixPath(cfg).parent)
            probe = f"{folder}/__promptwise_probe__" if folder != "." else "__promptwise_probe__"
            before, after = self.config(self.base, probe), self.config(self.head, probe)
            if before.settings.model_dump() != after.settings.model_dump():
                folders.append("" if folder == "." else folder)
        if not folders:
            return []
        files = self.head.files()
        self.listed += len(files)
        return [f for f in files if any(_under(f, d) for d in folders) and self.is_prompt(self.head, f)]

    def first_changed_line(self, rel: str) -> int | None:
        """The first line of `rel` (a changed include or config) that differs on the head side."""
        entry = self.base.tree.get(rel)
        old = ""
        if entry is not None and entry.mode in FILE_MODES:
            data, _ = self.repo.read(entry.sha, MENTION_BYTES)
            old = data.decode("utf-8", "replace") if data is not None else ""
        new = self.head_text(rel) if self.head.has(rel) else ""
        if new is None:
            return None
        ranges = changed_ranges(old, new)
        return ranges[0][2] + 1 if ranges else None

    def head_text(self, rel: str) -> str | None:
        if isinstance(self.head, Snapshot):
            entry = self.head.tree.get(rel)
            if entry is None:
                return None
            data, _ = self.repo.read(entry.sha, MENTION_BYTES)
        else:
            from .. import access

            path = self.head.path(rel)
            # git lists no file below a symlinked folder, so only a link itself can lead outside: only a
            # link pays for the workspace check.
            data, _ = access.read_bytes(path, MENTION_BYTES, origin=self.repo.root if os.path.islink(path) else None)
        return data.decode("utf-8", "replace") if data is not None else None

    # Analyses and entries.

    def analyze(self, side: Side, rel: str | None) -> Result | None:
        if rel is None:
            return None
        key = (id(side), rel)
        if key in self._results:
            return self._results[key]
        result: Result | None
        if not side.has(rel) or not self.is_prompt(side, rel):
            result = None
        else:
            self.parsed += 1
            try:
                result = side.analyze(rel, self.model)
            except failures.FILE_FAILURES as exc:
                result = [failures.failure_finding(exc, Path(rel))]
        self._results[key] = result
        return result

    def entry(self, path: str, old_path: str | None, status: Status, roots: dict[str, set[str]]) -> FileChange:
        head_result = self.analyze(self.head, path) if status != "deleted" else None
        base_result = self.analyze(self.base, old_path)
        deps = set()
        for side, result in ((self.base, base_result), (self.head, head_result)):
            if result is not None:
                deps |= side.dependencies(result)
        via: set[str] = set()
        for dep in deps & set(roots):
            via |= roots[dep]
        via -= {path, old_path}
        before, after = self.figures(self.base, base_result), self.figures(self.head, head_result)
        entry = FileChange(
            path=path,
            old_path=old_path if old_path != path else None,
            status=status,
            via=sorted(via),
            base=before,
            head=after,
        )
        fill_deltas(entry)
        if after is not None and isinstance(head_result, Analysis):
            old_text = base_result.document.text if isinstance(base_result, Analysis) else ""
            entry.lines = line_changes(
                old_text,
                head_result.document.text,
                before.messages if before else [],
                after.messages,
                entry.delta_tokens,
                _why_cost_moved(before, after, entry),
            )
        return entry

    def figures(self, side: Side, result: Result | None) -> SideFigures | None:
        if result is None:
            return None
        scrub = _scrubber(side, self.repo)
        if not isinstance(result, Analysis):
            return SideFigures(findings=[_finding(f, None, scrub) for f in result])
        a = result
        est = a.estimate
        lines = a.document.lines
        messages = []
        for m in a.messages:
            if m.message.on_use:
                continue
            start, end = _line(lines, m.message.span.start), _line(lines, max(m.message.span.start, m.message.span.end - 1))
            messages.append(MessageFigures(role=m.message.role, name=m.message.name, tokens=m.tokens, line=start, end_line=end))
        return SideFigures(
            format=a.document.format.value if a.document.format else None,
            model=a.model,
            tokens=a.prompt_tokens,
            exact=a.exact,
            cost_per_call=a.cost_per_call,
            basis=("warm" if est.cached else "cold") if est is not None and est.per_call is not None else None,
            cold_cost_per_call=est.cold.total if est is not None and est.cold is not None else None,
            cached_tokens=est.cached_tokens if est is not None else 0,
            per_1000_calls=est.per_1000 if est is not None else None,
            per_month=est.per_month if est is not None else None,
            calls_per_day=est.calls_per_day if est is not None else None,
            budget=a.budget,
            budget_share=a.budget_share,
            messages=messages,
            findings=[_finding(f, lines, scrub) for f in a.findings],
        )


def fill_deltas(entry: FileChange) -> None:
    """The head-minus-base figures of an entry (a side that is absent counts as zero)."""
    b, h = entry.base, entry.head
    entry.delta_tokens = ((h.tokens or 0) if h else 0) - ((b.tokens or 0) if b else 0)

    def delta(field: str) -> float | None:
        old = getattr(b, field) if b else None
        new = getattr(h, field) if h else None
        # Rounded past any price's digits: float noise must not read as a change.
        return None if old is None and new is None else round((new or 0.0) - (old or 0.0), 12)

    entry.delta_cost_per_call = delta("cost_per_call")
    entry.delta_per_1000_calls = delta("per_1000_calls")
    entry.delta_per_month = delta("per_month")
    before = Counter((f.code, f.message) for f in (b.findings if b else []))
    after = Counter((f.code, f.message) for f in (h.findings if h else []))
    gained, lost = after - before, before - after
    entry.findings_gained = _pick(h.findings if h else [], gained)
    entry.findings_lost = _pick(b.findings if b else [], lost)
    entry.pushed_over_budget = bool(
        h is not None
        and h.over_budget
        and (b is None or not b.over_budget or (h.tokens or 0) > (b.tokens or 0) or (h.budget or 0) < (b.budget or 0))
    )


def totals(files: list[FileChange]) -> Totals:
    monthly = any((f.base and f.base.per_month is not None) or (f.head and f.head.per_month is not None) for f in files)
    return Totals(
        prompts=len(files),
        delta_tokens=sum(f.delta_tokens for f in files),
        delta_cost_per_call=sum(f.delta_cost_per_call or 0.0 for f in files),
        base_per_1000_calls=sum((f.base.per_1000_calls or 0.0) for f in files if f.base),
        delta_per_1000_calls=sum(f.delta_per_1000_calls or 0.0 for f in files),
        base_per_month=sum((f.base.per_month or 0.0) for f in files if f.base) if monthly else None,
        delta_per_month=sum(f.delta_per_month or 0.0 for f in files) if monthly else None,
        over_budget=[f.path for f in files if f.pushed_over_budget],
    )


def _pick(findings: list[FindingRef], wanted: Counter) -> list[FindingRef]:
    left = Counter(wanted)
    picked = []
    for f in findings:
        key = (f.code, f.message)
        if left[key] > 0:
            left[key] -= 1
            picked.append(f)
    return picked


def _why_cost_moved(before: SideFigures | None, after: SideFigures, entry: FileChange) -> str | None:
    """A note for the annotation when the cost moved for a reason the token count does not show."""
    if before is None or before.tokens is None or after.tokens is None:
        return None
    if before.model != after.model:
        return f"model {before.model} -> {after.model}"
    if before.cached_tokens != after.cached_tokens and (entry.delta_cost_per_call or 0) > 0:
        return f"the cached prefix went from {before.cached_tokens:,} to {after.cached_tokens:,} tokens"
    return None


def _impact(entry: FileChange) -> tuple:
    money = entry.delta_per_month if entry.delta_per_month is not None else entry.delta_per_1000_calls
    return (-abs(money or 0.0), -abs(entry.delta_tokens), entry.path)


def _terms(rel: str) -> list[tuple[str, bool]]:
    """What a file that uses `rel` would have in its text: its name anywhere, and a partial's name
    (True: it counts only in a Dotprompt file that can reach the partial)."""
    name = PurePosixPath(rel).name
    terms = [(name, False)]
    if is_partial(Path(name)) and len(name) > len("_.prompt"):
        terms.append((name[1 : -len(".prompt")], True))
    return terms


def _partial_users(partial: str) -> tuple[str, ...]:
    """Pathspecs of the .prompt files that can use `partial` (see `_can_use_partial`)."""
    folder = PurePosixPath(partial).parent
    return tuple(f":(glob){'' if str(f) == '.' else f'{_glob_escape(str(f))}/'}*.prompt" for f in (folder, *folder.parents))


def _glob_escape(text: str) -> str:
    return "".join(f"\\{ch}" if ch in "*?[]\\" else ch for ch in text)


def _can_use_partial(user: str, partial: str) -> bool:
    """Dotprompt finds `{{> name}}` as `_name.prompt` beside the file, `{{> sub/name}}` below it: only a
    .prompt file in the partial's folder or one above can use it."""
    if not user.endswith(".prompt"):
        return False
    folder, target = PurePosixPath(user).parent, PurePosixPath(partial).parent
    return folder == target or folder in target.parents


def _under(path: str, folder: str) -> bool:
    return not folder or path == folder or path.startswith(folder.rstrip("/") + "/")


def _line(lines, offset: int) -> int:  # noqa: ANN001 - a text.LineIndex
    try:
        return lines.position(offset).line + 1
    except (IndexError, ValueError):
        return 1


def _finding(f: Finding, lines, scrub) -> FindingRef:  # noqa: ANN001
    return FindingRef(code=f.code, severity=f.severity.value, message=scrub(f.message), line=_line(lines, f.span.start) if lines else 1)


def _scrubber(side: Side, repo: Repo):  # noqa: ANN202
    """Messages name repository paths relative to its top, never the snapshot's temporary folder."""
    prefixes = [(f"{side.root}/", ""), (f"{repo.root}/", ""), (str(side.root), "."), (str(repo.root), ".")]

    def scrub(text: str) -> str:
        for prefix, short in prefixes:
            text = text.replace(prefix, short)
        return text

    return scrub
