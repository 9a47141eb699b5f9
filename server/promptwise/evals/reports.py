"""Write a run: results.json in a run folder, JUnit XML, and a readable Markdown or HTML report."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr as xml_attr

from ..files import write_atomic
from ..units import money
from .results import CaseResult, RunResult

MAX_SHOWN_FAILURES = 50


def json_chunks(result: RunResult) -> Iterator[str]:
    """results.json, streamed: one line per top-level field and one line per case result, so a
    10,000-case run is never one huge string in memory."""
    yield "{\n"
    names = list(RunResult.model_fields)
    for i, name in enumerate(names):
        comma = "," if i < len(names) - 1 else ""
        if name == "results":
            yield '  "results": ['
            for j, r in enumerate(result.results):
                yield ("\n    " if j == 0 else ",\n    ") + r.model_dump_json()
            yield ("\n  ]" if result.results else "]") + comma + "\n"
        else:
            value = getattr(result, name)
            dumped = [v.model_dump(mode="json") for v in value] if isinstance(value, list) else value
            yield f"  {json.dumps(name)}: {json.dumps(dumped, ensure_ascii=False)}{comma}\n"
    yield "}\n"


def to_json(result: RunResult) -> str:
    return "".join(json_chunks(result))


def save_run(result: RunResult, root: Path) -> Path:
    """`root/.promptwise/runs/<timestamp>/results.json`, written atomically; returns the file."""
    from .cache import remove_stale_temp_files

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    runs = root / ".promptwise" / "runs"
    remove_stale_temp_files(runs, depth=1)  # results.json of a run that was killed while writing it
    folder = runs / stamp
    folder.mkdir(parents=True, exist_ok=True)
    result.run_dir = str(folder)
    target = folder / "results.json"
    write_file(target, json_chunks(result))
    from .usage import write_usage

    write_usage(result, folder)  # after results.json: the editor's measured figures point at a complete run
    return target


def write_file(target: Path, text: str | Iterable[str]) -> None:
    """Write text (or chunks of it, so a long report is never held whole) atomically, creating its folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, text.encode("utf-8") if isinstance(text, str) else (chunk.encode("utf-8") for chunk in text))


# ---- JUnit XML ----

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str | None) -> str:
    return xml_escape(_XML_BAD.sub("\ufffd", value or ""))


def _attr(value: str | None) -> str:
    return xml_attr(_XML_BAD.sub("\ufffd", value or ""), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def junit_chunks(result: RunResult) -> Iterator[str]:
    """One <testsuite> per suite and model, one <testcase> per case and repeat; errored cases are <error>."""
    groups: dict[tuple[str, str], list[CaseResult]] = {}
    for r in result.results:
        groups.setdefault((r.suite, r.model), []).append(r)
    counts = result.counts
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield (
        f'<testsuites name="promptwise eval" tests="{len(result.results)}" failures="{counts["failed"]}" '
        f'errors="{counts["errored"]}" time="{result.seconds:.3f}">\n'
    )
    for (suite, model), cases in groups.items():
        failures = sum(1 for r in cases if r.status == "failed")
        errors = sum(1 for r in cases if r.status == "errored")
        seconds = sum((r.latency_ms or 0.0) for r in cases) / 1000
        yield (
            f"  <testsuite name={_attr(f'{suite} [{model}]')} tests=\"{len(cases)}\" failures=\"{failures}\" "
            f'errors="{errors}" time="{seconds:.3f}">\n'
        )
        for r in cases:
            where = f' file={_attr(r.location.path)} line="{r.location.line + 1}"' if r.location is not None else ""
            head = (
                f"    <testcase name={_attr(r.label)} classname={_attr(f'{suite}.{model}')} "
                f'time="{(r.latency_ms or 0) / 1000:.3f}"{where}>'
            )
            if r.status == "errored":
                body = f'<error message={_attr(r.error or "error")} type="errored">{_text(r.error)}</error>'
            elif r.status == "failed":
                reasons = [f"{a.type}: {a.reason}" for a in r.failures]
                detail = "\n".join(reasons) + "\n\noutput:\n" + (r.output or "")
                body = f'<failure message={_attr("; ".join(reasons))} type="assertion">{_text(detail)}</failure>'
            else:
                body = f"<system-out>{_text(r.output)}</system-out>" if r.output is not None else ""
            yield f"{head}{body}</testcase>\n"
        yield "  </testsuite>\n"
    yield "</testsuites>\n"


def junit(result: RunResult) -> str:
    return "".join(junit_chunks(result))


# ---- Markdown ----


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _excerpt(text: str | None, limit: int = 400) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit] + "…"


def summary_rows(result: RunResult) -> list[list[str]]:
    rows = []
    for m in result.models:
        rows.append(
            [
                m.model,
                str(m.passed),
                str(m.failed),
                str(m.errored),
                f"{m.prompt_tokens:,}",
                f"{m.cached_tokens:,}",
                f"{m.completion_tokens:,}",
                f"{m.reasoning_tokens:,}",
                money(m.cost),
                "n/a" if m.mean_latency_ms is None else f"{m.mean_latency_ms:,.0f} ms",
            ]
        )
    return rows


# "cached" is part of the prompt tokens and "reasoning" part of the completion tokens, as providers bill them;
# the cost prices each part at its own rate (cached input, visible output, reasoning).
SUMMARY_HEADERS = [
    "model", "passed", "failed", "errored", "prompt tokens", "cached", "completion tokens", "reasoning", "cost", "mean latency",
]  # fmt: skip


def pricing_note(result: RunResult) -> str:
    """How the costs were computed, in one sentence."""
    tiers = sorted({s.service_tier for s in result.suites if s.service_tier != "standard"})
    tier = f" at the {' and '.join(tiers)} tier's prices (the calls themselves went out as usual)" if tiers else ""
    return (
        f"Costs are priced from each call's reported usage{tier}: uncached input, cached input at the cache read price, "
        "cache writes at the write price, visible output, and reasoning at the reasoning price where the map lists one, else as output."
    )


def call_usage(r: CaseResult) -> str:
    """One call's tokens and cost: `1,200 prompt tokens (1,024 cached), 300 completion (250 reasoning), $0.0012`."""
    prompt = f"{r.prompt_tokens or 0:,} prompt tokens"
    if r.cached_tokens:
        prompt += f" ({r.cached_tokens:,} cached)"
    if r.cache_write_tokens:
        prompt += f" ({r.cache_write_tokens:,} written to the cache)"
    completion = f"{r.completion_tokens or 0:,} completion"
    if r.reasoning_tokens:
        completion += f" ({r.reasoning_tokens:,} reasoning)"
    return f"{prompt}, {completion}, {money(r.cost)}"


def markdown(result: RunResult) -> str:
    counts = result.counts
    lines = ["# promptwise eval report", ""]
    state = " (cancelled)" if result.cancelled else ""
    lines.append(
        f"{len(result.results)} case runs{state}: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['errored']} errored, in {result.seconds:.1f} s. {result.cached} from cache; this run spent {money(result.spent)}."
    )
    lines.append("")
    lines.append("| " + " | ".join(SUMMARY_HEADERS) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(SUMMARY_HEADERS) - 1)) + "|")
    for row in summary_rows(result):
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    lines.append("")
    lines.append(pricing_note(result))
    if result.usage:
        lines += ["", "## Measured usage", "", "Per prompt, model and reasoning effort, over the calls this run made (cached replies left out).", ""]
        lines.append("| prompt | model | effort | calls | output (median / p95) | reasoning (median / p95) | cached (median / p95) |")
        lines.append("|---|---|---|---:|---:|---:|---:|")
        for g in result.usage:
            cells = [g.prompt, g.label, g.reasoning_effort or "not set", str(g.calls)]
            cells += [f"{s.median:,.0f} / {s.p95:,.0f}" for s in (g.output_tokens, g.reasoning_tokens, g.cached_tokens)]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append("")
    lines.append("## Suites")
    lines.append("")
    for s in result.suites:
        status = "could not run" if s.problems else f"{s.cases} cases on {', '.join(s.models)}"
        lines.append(f"- `{s.path}` (prompt `{s.prompt or '?'}`): {status}")
        for problem in s.problems:
            lines.append(f"  - {problem}")
    bad = [r for r in result.results if r.status != "passed"]
    if bad:
        lines += ["", "## Failures and errors", ""]
        for r in bad[:MAX_SHOWN_FAILURES]:
            where = f"{r.location.path}:{r.location.line + 1}" if r.location else r.suite
            lines.append(f"### {r.label} on {r.model}: {r.status}")
            lines.append("")
            lines.append(f"`{where}`")
            lines.append("")
            if r.error:
                lines.append(f"- error: {r.error}")
            if r.prompt_tokens is not None:
                lines.append(f"- {call_usage(r)}")
            for a in r.assertions:
                mark = "pass" if a.passed else "FAIL"
                lines.append(f"- {mark} `{a.type}`: {a.reason}")
            for w in r.warnings:
                lines.append(f"- warning: {w}")
            if r.output is not None:
                text = _excerpt(r.output)
                fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
                lines += ["", f"{fence}text", text, fence]
            lines.append("")
        if len(bad) > MAX_SHOWN_FAILURES:
            lines.append(f"…and {len(bad) - MAX_SHOWN_FAILURES} more in results.json.")
    for c in result.cheapest:
        lines += ["", f"## Cheapest passing model for `{c.suite}`", ""]
        lines.append(f"Current: {c.current}, {c.current_passed}/{c.total} passed, {money(c.current_cost_per_call)} per call.")
        lines.append("")
        for t in c.tried:
            lines.append(f"- {t.model} ({money(t.cost_per_call if t.cost_per_call is not None else t.estimated_cost_per_call)} per call): {t.verdict}")
        lines.append("")
        if c.chosen:
            lines.append(
                f"**{c.chosen}** passes as many cases and saves {money(c.saving_per_call)} per call, "
                f"{money(c.saving_per_1000_calls)} per 1,000 calls."
            )
        else:
            lines.append(c.note)
    return "\n".join(lines).rstrip() + "\n"


# ---- HTML ----


def html_report(result: RunResult) -> str:
    e = html.escape
    counts = result.counts
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>promptwise eval report</title><style>"
        "body{font:14px/1.45 system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}td:first-child,th:first-child{text-align:left}"
        ".passed{color:#176f2c}.failed{color:#b3261e}.errored{color:#8a5a00}pre{background:#f5f5f5;padding:.6em;white-space:pre-wrap}"
        "</style></head><body><h1>promptwise eval report</h1>",
        f"<p>{len(result.results)} case runs{' (cancelled)' if result.cancelled else ''}: "
        f"<span class=passed>{counts['passed']} passed</span>, <span class=failed>{counts['failed']} failed</span>, "
        f"<span class=errored>{counts['errored']} errored</span>, in {result.seconds:.1f} s. "
        f"{result.cached} from cache; this run spent {e(money(result.spent))}.</p>",
        "<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in SUMMARY_HEADERS) + "</tr>",
    ]
    for row in summary_rows(result):
        parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
    parts.append(f"</table><p>{e(pricing_note(result))}</p><h2>Cases</h2><table><tr><th>case</th><th>model</th><th>status</th><th>why</th></tr>")
    for r in result.results:
        why = r.error or "; ".join(f"{a.type}: {a.reason}" for a in (r.failures or r.assertions))
        parts.append(
            f"<tr><td>{e(r.label)}</td><td>{e(r.model)}</td><td class={r.status}>{r.status}</td>"
            f"<td style='text-align:left'>{e(why)}</td></tr>"
        )
    parts.append("</table>")
    for c in result.cheapest:
        parts.append(f"<h2>Cheapest passing model for {e(c.suite)}</h2><ul>")
        for t in c.tried:
            parts.append(f"<li>{e(t.model)}: {e(t.verdict)}</li>")
        parts.append("</ul>")
        if c.chosen:
            parts.append(
                f"<p><b>{e(c.chosen)}</b> saves {e(money(c.saving_per_call))} per call, "
                f"{e(money(c.saving_per_1000_calls))} per 1,000 calls.</p>"
            )
        else:
            parts.append(f"<p>{e(c.note)}</p>")
    parts.append("</body></html>\n")
    return "".join(parts)
