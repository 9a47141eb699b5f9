"""Assertions on a model's output: deterministic checks and model-graded ones, each with the reason it passed or failed."""

from __future__ import annotations

import asyncio
import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

import regex

from .results import AssertionResult
from .suite import (
    CostAssertion,
    EqualsAssertion,
    JsonAssertion,
    LatencyAssertion,
    ListAssertion,
    MaxTokensAssertion,
    RegexAssertion,
    RubricAssertion,
    SimilarAssertion,
    TextAssertion,
    regex_flags,
)

REGEX_TIMEOUT = 1.0  # seconds a pattern may spend on one output; a backtracking pattern is stopped, not waited for
REGEX_SLICE = 0.02  # seconds a pattern may run on the event loop before it moves to a thread
_FENCE = re.compile(r"^\s*```[\w-]*\s*\n(?P<body>.*?)\n\s*```\s*$", re.DOTALL)


class GradingError(Exception):
    """A judge or embedding call failed, or the judge's reply made no sense: the case errors, it does not fail."""


@dataclass
class Observation:
    """What one call produced, as the assertions see it."""

    output: str
    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None
    latency_ms: float | None = None
    cached: bool = False
    vars: dict[str, Any] = field(default_factory=dict)


class Grader(Protocol):
    async def judge(self, model: str, rubric: str, output: str, vars: dict[str, Any]) -> tuple[bool, str]: ...

    async def similarity(self, model: str, output: str, reference: str) -> float: ...


def short(value: Any, limit: int = 80) -> str:
    """A value for a reason: strings quoted, lists and objects as JSON, long ones cut."""
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[: limit - 1] + "…")
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _money(value: float) -> str:
    return f"${value:.6f}".rstrip("0").rstrip(".") if value < 0.01 else f"${value:,.4f}"


async def check(assertion: Any, seen: Observation, grader: Grader | None, judge_model: str | None, embedding_model: str | None) -> AssertionResult:
    kind: str = assertion.type
    negated = kind.startswith("not-")
    ok, fact, score = await _evaluate(assertion, seen, grader, judge_model, embedding_model)
    if ok is None:  # undecided (a pattern stopped at its time limit): fails whether or not negated
        return shared_result(kind, False, fact, score)
    return shared_result(kind, (not ok) if negated else ok, fact, score)


_RESULT_FIELDS = set(AssertionResult.model_fields)
_SHARED: dict[tuple[str, bool, str, float | None], AssertionResult] = {}


def shared_result(kind: str, passed: bool, reason: str, score: float | None) -> AssertionResult:
    """One object per distinct result: most cases of a large suite pass the same assertions for the same
    reason, and 10,000 cases must fit in memory. Results are read-only."""
    key = (kind, passed, reason, score)
    found = _SHARED.get(key)
    if found is None:
        if len(_SHARED) >= 4096:
            _SHARED.clear()
        found = _SHARED[key] = AssertionResult.model_construct(_RESULT_FIELDS, type=kind, passed=passed, reason=reason, score=score)
    return found


async def _evaluate(a: Any, seen: Observation, grader: Grader | None, judge_model: str | None, embedding_model: str | None) -> tuple[bool | None, str, float | None]:
    out = seen.output
    base = a.type.removeprefix("not-")
    if isinstance(a, TextAssertion):
        if base == "contains":
            return (a.value in out), f"output {'contains' if a.value in out else 'does not contain'} {short(a.value)}", None
        if base == "icontains":
            found = a.value.casefold() in out.casefold()
            return found, f"output {'contains' if found else 'does not contain'} {short(a.value)} (ignoring case)", None
        found = out.startswith(a.value)
        if found:
            return True, f"output starts with {short(a.value)}", None
        return False, f"output starts with {short(out[: len(a.value) + 10])}, not {short(a.value)}", None
    if isinstance(a, EqualsAssertion):
        return _equals(a.value, out)
    if isinstance(a, ListAssertion):
        present = [v for v in a.value if v in out]
        if base == "contains-any":
            if present:
                return True, f"output contains {short(present[0])} (one of {len(a.value)})", None
            return False, f"output contains none of {short(a.value)}", None
        missing = [v for v in a.value if v not in out]
        if not missing:
            return True, f"output contains all {len(a.value)} of {short(a.value)}", None
        return False, f"output is missing {short(missing)}", None
    if isinstance(a, RegexAssertion):
        return await _regex(a.value, a.flags, out)
    if isinstance(a, JsonAssertion):
        if a.json_schema is None:
            return _is_json(out, None)
        # Off the event loop: a big schema against a big output must not stall other cases or Ctrl-C.
        return await asyncio.to_thread(_is_json, out, a.json_schema)
    if isinstance(a, MaxTokensAssertion):
        n = seen.completion_tokens
        if n is None:
            return False, "the provider reported no completion tokens", None
        return n <= a.value, f"{n:,} completion tokens {'<=' if n <= a.value else '>'} {a.value:,}", float(n)
    if isinstance(a, CostAssertion):
        if seen.cost is None:
            return False, f"no price known for {seen.model}: add it under [models] in config to check cost", None
        ok = seen.cost <= a.value
        return ok, f"call cost {_money(seen.cost)} {'<=' if ok else '>'} {_money(a.value)}", seen.cost
    if isinstance(a, LatencyAssertion):
        if seen.latency_ms is None:
            return False, "no latency was measured", None
        ok = seen.latency_ms <= a.value
        note = " (measured when the cached response was first fetched)" if seen.cached else ""
        return ok, f"{seen.latency_ms:,.0f} ms {'<=' if ok else '>'} {a.value:,.0f} ms{note}", seen.latency_ms
    if isinstance(a, RubricAssertion):
        model = a.model or judge_model
        if grader is None or model is None:
            raise GradingError("llm-rubric needs a judge model")
        verdict, reason = await grader.judge(model, a.value, out, seen.vars)
        return verdict, f"judge {model}: {reason}", None
    if isinstance(a, SimilarAssertion):
        model = a.model or embedding_model
        if grader is None or model is None:
            raise GradingError("similar needs an embedding model")
        score = await grader.similarity(model, out, a.value)
        ok = score >= a.threshold
        return ok, f"cosine similarity {score:.3f} {'>=' if ok else '<'} {a.threshold:g} with the reference", score
    raise GradingError(f"unsupported assertion {a.type}")


@lru_cache(maxsize=256)
def _compiled(pattern: str, flags: str | None) -> Any:
    return regex.compile(pattern, regex_flags(flags))


async def _regex(pattern: str, flags: str | None, out: str) -> tuple[bool | None, str, float | None]:
    compiled = _compiled(pattern, flags)
    try:
        try:
            # Almost every pattern finishes at once: inline, with a slice too short to stall other cases.
            match = compiled.search(out, timeout=REGEX_SLICE)
        except TimeoutError:
            # `^(a|aa)+$` on a long output backtracks for ever: the rest of its time goes to a thread with the
            # GIL released, so neither the other cases nor Ctrl-C wait for it, and it is stopped at its limit.
            match = await asyncio.to_thread(compiled.search, out, timeout=REGEX_TIMEOUT, concurrent=True)
    except TimeoutError:
        return None, f"/{pattern}/ was stopped after {REGEX_TIMEOUT:g} s on this output (it backtracks too much; simplify the pattern)", None
    if match:
        return True, f"/{pattern}/ matches {short(match.group(0))}", None
    return False, f"/{pattern}/ does not match the output", None


def _equals(expected: Any, out: str) -> tuple[bool, str, float | None]:
    if isinstance(expected, (dict, list)):
        try:
            actual = json.loads(_unfenced(out))
        except ValueError:
            return False, f"output is not JSON, so it does not equal {short(expected)}", None
        if actual == expected:
            return True, "output is JSON equal to the expected value", None
        return False, f"output JSON {short(actual)} differs from {short(expected)}", None
    want = expected if isinstance(expected, str) else json.dumps(expected)
    if out.strip() == want.strip():
        return True, f"output equals {short(want)}", None
    return False, f"output {short(out)} does not equal {short(want)}", None


def _unfenced(text: str) -> str:
    m = _FENCE.match(text)
    return m.group("body") if m else text


def _is_json(out: str, schema: dict[str, Any] | None) -> tuple[bool | None, str, float | None]:
    try:
        value = json.loads(out)
    except ValueError as exc:
        fenced = _FENCE.match(out)
        hint = " (it is wrapped in a ``` code fence; ask for bare JSON or strip the fence)" if fenced else ""
        return False, f"output is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{hint}", None
    if schema is None:
        return True, "output is valid JSON", None
    import jsonschema
    from referencing.exceptions import Unresolvable

    try:
        validator = _validator(schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    except Unresolvable as exc:  # jsonschema wraps it, still an Unresolvable
        ref = str(exc).removeprefix("Unresolvable: ")
        return None, f"the schema's $ref {ref!r} cannot be resolved: promptwise never fetches a schema over the network; put the definition in the schema (under $defs)", None
    except RecursionError:
        return None, "the schema refers to itself without end ($ref loop); it cannot be checked", None
    if error is None:
        return True, "output is JSON matching the schema", None
    where = "/".join(str(p) for p in error.absolute_path)
    return False, f"output is JSON but does not match the schema{' at ' + where if where else ''}: {error.message}", None


def _refuse(uri: str) -> Any:
    import referencing.exceptions

    raise referencing.exceptions.NoSuchResource(ref=uri)


def _validator(schema: dict[str, Any]) -> Any:
    """A validator whose $refs resolve only within the schema and whose patterns have a time limit."""
    import jsonschema
    from referencing import Registry

    base = jsonschema.validators.validator_for(schema)
    timed = jsonschema.validators.extend(base, {"pattern": _pattern, "patternProperties": _pattern_properties})
    return timed(schema, registry=Registry(retrieve=_refuse))


def _search(pattern: str, text: str) -> bool:
    return regex.search(pattern, text, timeout=REGEX_TIMEOUT) is not None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "string"):
        return
    try:
        if not _search(pattern, instance):
            yield ValidationError(f"{short(instance)} does not match {pattern!r}")
    except TimeoutError:
        yield ValidationError(f"pattern {pattern!r} was stopped after {REGEX_TIMEOUT:g} s (it backtracks too much)")
    except regex.error as exc:
        yield ValidationError(f"pattern {pattern!r} is not a valid regular expression: {exc}")


def _pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any, schema: Any) -> Any:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            try:
                found = _search(pattern, key)
            except TimeoutError:
                yield ValidationError(f"pattern {pattern!r} was stopped after {REGEX_TIMEOUT:g} s (it backtracks too much)")
                return
            except regex.error as exc:
                yield ValidationError(f"pattern {pattern!r} is not a valid regular expression: {exc}")
                return
            if found:
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


# ---- model-graded helpers ----

JUDGE_SYSTEM = (
    "You grade the output of an AI system against a rubric. Read the rubric and the output, decide whether the "
    'output satisfies the rubric, and reply with only a JSON object: {"pass": true or false, "reason": "one or '
    'two sentences on why"}.'
)


def judge_messages(rubric: str, output: str, vars: dict[str, Any]) -> list[dict[str, str]]:
    inputs = ""
    if vars:
        shown = {k: (v if len(str(v)) <= 2000 else str(v)[:2000] + "…") for k, v in vars.items()}
        inputs = "<inputs>\n" + json.dumps(shown, ensure_ascii=False, indent=2, default=str) + "\n</inputs>\n\n"
    return [
        {"role": "system", "content": JUDGE_SYSTEM},
        {"role": "user", "content": f"{inputs}<rubric>\n{rubric}\n</rubric>\n\n<output>\n{output}\n</output>"},
    ]


_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def parse_verdict(reply: str) -> tuple[bool, str]:
    """The judge's {pass, reason}; raises GradingError when the reply is not that."""
    text = _unfenced(reply.strip())
    try:
        data = json.loads(text)
    except ValueError:
        found = _OBJECT.search(text)
        try:
            data = json.loads(found.group(0)) if found else None
        except ValueError:
            data = None
    if not isinstance(data, dict) or "pass" not in data:
        raise GradingError(f"the judge did not reply with JSON {{pass, reason}}: {short(reply, 200)}")
    verdict = data["pass"]
    if isinstance(verdict, str):
        verdict = verdict.strip().lower() in ("true", "yes", "pass", "passed")
    reason = str(data.get("reason") or "no reason given").strip()
    return bool(verdict), reason


def cosine(a: list[float], b: list[float]) -> float:
    if len(a) != len(b) or not a:
        raise GradingError(f"embeddings have different sizes ({len(a)} and {len(b)})")
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
