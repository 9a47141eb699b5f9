"""`promptwise diff`: what a change does to every prompt's tokens and cost, against a git base."""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from . import failures

_THRESHOLD = re.compile(r"^\s*(?:(?P<pct>\d+(?:\.\d+)?)\s*%|\$?\s*(?P<usd>\d+(?:\.\d+)?)\s*\$?)\s*$")


@dataclass(frozen=True)
class Threshold:
    """--fail-above: a share of the base's total (`10%`) or dollars (`$5`)."""

    value: float
    percent: bool

    def __str__(self) -> str:
        return f"{self.value:g}%" if self.percent else f"${self.value:,.2f}"


def threshold(text: str) -> Threshold:
    found = _THRESHOLD.match(text)
    if not found:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a percentage (10%) nor dollars ($5)")
    if found.group("pct") is not None:
        return Threshold(float(found.group("pct")), True)
    return Threshold(float(found.group("usd")), False)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "diff",
        help="compare prompt files' tokens and cost with a git base (a PR's cost in review)",
        description="Compare every prompt file changed between BASE (default: the merge base with the upstream "
        "branch, else HEAD) and the working tree (or --head REF), with includes, partials and config as of each "
        "side; files affected through a changed partial, import or config are listed too. Exits 1 when the "
        "change pushes a file over its budget or raises the cost beyond --fail-above.",
    )
    p.add_argument("base", nargs="?", metavar="BASE", help="the commit, branch or tag to compare with")
    p.add_argument("paths", nargs="*", metavar="PATHS", type=Path, help="list only files under these files or folders")
    p.add_argument("--head", metavar="REF", help="compare with this commit instead of the working tree")
    p.add_argument("--format", choices=["table", "markdown", "json", "github"], default="table", help="output format")
    p.add_argument(
        "--fail-above",
        metavar="PCT|USD",
        type=threshold,
        help="exit 1 when the cost rises by more than this: 10%% of the base's total, or $5; both per month when "
        "any file has a volume, else per 1,000 calls",
    )
    p.add_argument("--model", help="count and price every file on both sides with this model")
    p.add_argument("--stats", action="store_true", help="print the blobs read from git and the time taken (to stderr)")
    failures.add_debug_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..review.git import GitError, Repo

    try:
        repo = Repo.find(Path.cwd())
    except GitError as exc:
        return _fail(_not_a_repo(str(exc)))
    with repo:
        try:
            base, paths = _base_and_paths(repo, args.base, args.paths)
            if args.head is not None:
                _resolve(repo, args.head, "--head")
            from ..review.compare import compare

            comparison = compare(repo, base, args.head, paths, args.model)
        except _Usage as exc:
            return _fail(str(exc))
        except GitError as exc:
            return _fail(str(exc))
    return _print(comparison, args)


def _print(comparison, args: argparse.Namespace) -> int:  # noqa: ANN001 - a review.model.Comparison
    from ..review import report

    if args.format == "json":
        print(report.to_json_text(comparison))
    elif args.format == "markdown":
        print(report.to_markdown(comparison), end="")
    elif args.format == "github":
        print("\n".join(report.github_annotations(comparison)))
    else:
        print(report.to_text(comparison))
    if args.stats:
        s = comparison.stats
        print(
            f"stats: {s.blobs_read} blob{'s' if s.blobs_read != 1 else ''} read from git, {s.files_listed} files listed, "
            f"{s.files_parsed} analyses, {s.seconds:.2f} s",
            file=sys.stderr,
        )
    reasons = reasons_to_fail(comparison, args.fail_above)
    for reason in reasons:
        print(f"promptwise diff: {reason}", file=sys.stderr)
    return 1 if reasons else 0


def reasons_to_fail(comparison, fail_above: Threshold | None) -> list[str]:  # noqa: ANN001
    """Why the change fails review: files it pushed over their budget, a rise beyond --fail-above."""
    from ..units import money

    t = comparison.totals
    reasons = [f"{path} is over its budget after this change" for path in t.over_budget]
    if fail_above is None:
        return reasons
    if t.delta_per_month is not None:
        delta, base, unit = t.delta_per_month, t.base_per_month or 0.0, "per month"
    else:
        delta, base, unit = t.delta_per_1000_calls, t.base_per_1000_calls, "per 1,000 calls"
    if fail_above.percent:
        share = (delta / base * 100) if base > 0 else (float("inf") if delta > 0 else 0.0)
        if share > fail_above.value:
            rise = f"{share:.1f}%" if base > 0 else "from nothing"
            reasons.append(f"the cost rises {rise} {unit} ({money(base)} -> {money(base + delta)}), above --fail-above {fail_above}")
    elif delta > fail_above.value:
        reasons.append(f"the cost rises {money(delta)} {unit}, above --fail-above {fail_above}")
    return reasons


class _Usage(Exception):
    """A BASE or PATH the command cannot use; the message is the one line printed."""


def _base_and_paths(repo, base: str | None, paths: list[Path]) -> tuple[str | None, list[str]]:  # noqa: ANN001
    """BASE may be left out: a first argument that names no commit but an existing path is a PATH."""
    from ..review.git import GitError

    if base is not None:
        try:
            repo.commit(base)
        except GitError:
            if os.path.lexists(base):
                paths = [Path(base), *paths]
                base = None
            else:
                raise _Usage(f"unknown BASE {base!r}: it names no commit, branch or tag (tried `git rev-parse {base}^{{commit}}`) and no file or folder") from None
    return base, [_relative(repo, p) for p in paths]


def _resolve(repo, rev: str, what: str) -> None:  # noqa: ANN001
    from ..review.git import GitError

    try:
        repo.commit(rev)
    except GitError:
        raise _Usage(f"unknown {what} {rev!r}: it names no commit, branch or tag (tried `git rev-parse {rev}^{{commit}}`)") from None


def _relative(repo, path: Path) -> str:  # noqa: ANN001
    full = Path(os.path.abspath(path))
    try:
        return full.relative_to(repo.root).as_posix()
    except ValueError:
        try:
            return Path(os.path.realpath(full)).relative_to(os.path.realpath(repo.root)).as_posix()
        except ValueError:
            raise _Usage(f"{path} is outside the repository at {repo.root}") from None


def _not_a_repo(message: str) -> str:
    if "not installed" in message:
        return "git is not installed (or not on PATH): promptwise diff reads the base from git"
    if "not a git repository" in message.lower():
        return f"{Path.cwd()} is not in a git repository: promptwise diff compares with a git base (run it inside a clone)"
    return message


def _fail(message: str) -> int:
    print(f"promptwise diff: {failures.one_line(message)}", file=sys.stderr)
    return 2
