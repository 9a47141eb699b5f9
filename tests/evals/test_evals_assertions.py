"""Every assertion type, passing, failing and negated, with the reason a user reads."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from promptwise.evals.assertions import GradingError, Observation, check, cosine, judge_messages, parse_verdict
from promptwise.evals.suite import Assertion

ASSERTION = TypeAdapter(Assertion)

REPLY = "TRIAGE: damage, frustrated, escalated\nREPLY: Hi Priya, a replacement leg ships today."


def seen(output: str = REPLY, **kw) -> Observation:
    base = dict(model="fake-gpt", prompt_tokens=120, completion_tokens=40, cost=0.0012, latency_ms=850.0)
    return Observation(output=output, **{**base, **kw})


class StubGrader:
    def __init__(self, verdict=(True, "it offers a replacement"), score=0.9):
        self.verdict, self.score = verdict, score
        self.asked = []

    async def judge(self, model, rubric, output, vars):
        self.asked.append(("judge", model, rubric))
        return self.verdict

    async def similarity(self, model, output, reference):
        self.asked.append(("similar", model, reference))
        return self.score


async def verdict(spec: dict, observation: Observation | None = None, grader=None, judge="fake-judge", embedder="fake-embed"):
    result = await check(ASSERTION.validate_python(spec), observation or seen(), grader, judge, embedder)
    return result.passed, result.reason


CASES = [
    ({"type": "contains", "value": "replacement leg"}, True, "output contains 'replacement leg'"),
    ({"type": "contains", "value": "Replacement"}, False, "output does not contain 'Replacement'"),
    ({"type": "not-contains", "value": "refund"}, True, "output does not contain 'refund'"),
    ({"type": "not-contains", "value": "Priya"}, False, "output contains 'Priya'"),
    ({"type": "icontains", "value": "REPLACEMENT LEG"}, True, "output contains 'REPLACEMENT LEG' (ignoring case)"),
    ({"type": "not-icontains", "value": "we apologize"}, True, "output does not contain 'we apologize' (ignoring case)"),
    ({"type": "starts-with", "value": "TRIAGE:"}, True, "output starts with 'TRIAGE:'"),
    ({"type": "starts-with", "value": "REPLY:"}, False, "output starts with 'TRIAGE: damage, ', not 'REPLY:'"),
    ({"type": "not-starts-with", "value": "Sure!"}, True, "output starts with 'TRIAGE: damage,', not 'Sure!'"),
    ({"type": "contains-any", "value": ["refund", "replacement"]}, True, "output contains 'replacement' (one of 2)"),
    ({"type": "contains-any", "value": ["refund", "return"]}, False, 'output contains none of ["refund", "return"]'),
    ({"type": "not-contains-any", "value": ["refund", "return"]}, True, 'output contains none of ["refund", "return"]'),
    ({"type": "contains-all", "value": ["TRIAGE", "REPLY"]}, True, 'output contains all 2 of ["TRIAGE", "REPLY"]'),
    ({"type": "contains-all", "value": ["TRIAGE", "refund", "return"]}, False, 'output is missing ["refund", "return"]'),
    ({"type": "not-contains-all", "value": ["TRIAGE", "refund"]}, True, 'output is missing ["refund"]'),
    ({"type": "regex", "value": r"TRIAGE: (\w+),"}, True, r"/TRIAGE: (\w+),/ matches 'TRIAGE: damage,'"),
    ({"type": "regex", "value": "reply: hi", "flags": "i"}, True, "/reply: hi/ matches 'REPLY: Hi'"),
    ({"type": "regex", "value": r"\bNW-\d{6}\b"}, False, r"/\bNW-\d{6}\b/ does not match the output"),
    ({"type": "not-regex", "value": r"\[name\]"}, True, r"/\[name\]/ does not match the output"),
    ({"type": "equals", "value": REPLY}, True, None),
    ({"type": "not-equals", "value": "OK"}, True, None),
    ({"type": "max-tokens", "value": 40}, True, "40 completion tokens <= 40"),
    ({"type": "max-tokens", "value": 39}, False, "40 completion tokens > 39"),
    ({"type": "not-max-tokens", "value": 10}, True, "40 completion tokens > 10"),
    ({"type": "cost", "value": 0.002}, True, "call cost $0.0012 <= $0.002"),
    ({"type": "cost", "value": 0.001}, False, "call cost $0.0012 > $0.001"),
    ({"type": "not-cost", "value": 0.001}, True, "call cost $0.0012 > $0.001"),
    ({"type": "latency", "value": 1000}, True, "850 ms <= 1,000 ms"),
    ({"type": "latency", "value": 500}, False, "850 ms > 500 ms"),
    ({"type": "not-latency", "value": 500}, True, "850 ms > 500 ms"),
]


@pytest.mark.parametrize("spec, passed, reason", CASES, ids=[f"{c[0]['type']}-{i}" for i, c in enumerate(CASES)])
async def test_deterministic_assertions(spec, passed, reason):
    got_passed, got_reason = await verdict(spec)
    assert got_passed is passed
    if reason is not None:
        assert got_reason == reason


async def test_equals_text_and_json():
    assert await verdict({"type": "equals", "value": "Paris"}, seen("  Paris\n")) == (True, "output equals 'Paris'")
    assert await verdict({"type": "equals", "value": "Paris"}, seen("Lyon")) == (False, "output 'Lyon' does not equal 'Paris'")
    assert await verdict({"type": "equals", "value": 42}, seen("42")) == (True, "output equals '42'")
    assert await verdict({"type": "equals", "value": {"verdict": "approve"}}, seen('{ "verdict" : "approve" }')) == (
        True,
        "output is JSON equal to the expected value",
    )
    assert await verdict({"type": "equals", "value": {"verdict": "approve"}}, seen('{"verdict": "comment"}')) == (
        False,
        'output JSON {"verdict": "comment"} differs from {"verdict": "approve"}',
    )
    assert (await verdict({"type": "equals", "value": [1]}, seen("nope")))[1] == "output is not JSON, so it does not equal [1]"


async def test_is_json_with_and_without_schema():
    schema = {
        "type": "object",
        "required": ["verdict", "comments"],
        "properties": {"verdict": {"enum": ["approve", "request_changes"]}, "comments": {"type": "array"}},
    }
    good = seen('{"verdict": "approve", "comments": []}')
    assert await verdict({"type": "is-json"}, good) == (True, "output is valid JSON")
    assert await verdict({"type": "is-json", "schema": schema}, good) == (True, "output is JSON matching the schema")
    wrong = seen('{"verdict": "lgtm", "comments": []}')
    passed, reason = await verdict({"type": "is-json", "schema": schema}, wrong)
    assert not passed and reason.startswith("output is JSON but does not match the schema at verdict: 'lgtm' is not one of")
    missing = seen('{"verdict": "approve"}')
    assert await verdict({"type": "is-json", "schema": schema}, missing) == (
        False,
        "output is JSON but does not match the schema: 'comments' is a required property",
    )
    fenced = seen('```json\n{"verdict": "approve"}\n```')
    passed, reason = await verdict({"type": "is-json"}, fenced)
    assert not passed and reason.endswith("(it is wrapped in a ``` code fence; ask for bare JSON or strip the fence)")
    assert await verdict({"type": "not-is-json"}, seen("plain words")) == (
        True,
        "output is not valid JSON: Expecting value at line 1 column 1",
    )


async def test_usage_assertions_without_numbers():
    blank = seen(completion_tokens=None, cost=None, latency_ms=None)
    assert await verdict({"type": "max-tokens", "value": 5}, blank) == (False, "the provider reported no completion tokens")
    assert await verdict({"type": "cost", "value": 1}, blank) == (
        False,
        "no price known for fake-gpt: add it under [models] in config to check cost",
    )
    assert await verdict({"type": "latency", "value": 5}, blank) == (False, "no latency was measured")
    cached = seen(cached=True, latency_ms=120.0)
    assert await verdict({"type": "latency", "value": 500}, cached) == (
        True,
        "120 ms <= 500 ms (measured when the cached response was first fetched)",
    )


async def test_llm_rubric_asks_the_judge():
    grader = StubGrader()
    spec = {"type": "llm-rubric", "value": "Offers a free replacement"}
    assert await verdict(spec, grader=grader) == (True, "judge fake-judge: it offers a replacement")
    assert grader.asked == [("judge", "fake-judge", "Offers a free replacement")]
    assert await verdict({**spec, "type": "not-llm-rubric"}, grader=grader) == (False, "judge fake-judge: it offers a replacement")
    other = StubGrader(verdict=(False, "asks for a return first"))
    assert await verdict({**spec, "model": "gpt-judge"}, grader=other) == (False, "judge gpt-judge: asks for a return first")
    with pytest.raises(GradingError):
        await verdict(spec, grader=None)


async def test_similar_compares_with_a_threshold():
    grader = StubGrader(score=0.83)
    spec = {"type": "similar", "value": "A replacement leg ships today.", "threshold": 0.8}
    assert await verdict(spec, grader=grader) == (True, "cosine similarity 0.830 >= 0.8 with the reference")
    assert await verdict({**spec, "threshold": 0.9}, grader=grader) == (False, "cosine similarity 0.830 < 0.9 with the reference")
    assert await verdict({**spec, "type": "not-similar", "threshold": 0.9}, grader=grader) == (
        True,
        "cosine similarity 0.830 < 0.9 with the reference",
    )
    assert grader.asked[0] == ("similar", "fake-embed", "A replacement leg ships today.")


def test_judge_verdict_parsing():
    assert parse_verdict('{"pass": true, "reason": "polite"}') == (True, "polite")
    assert parse_verdict('```json\n{"pass": false, "reason": "rude"}\n```') == (False, "rude")
    assert parse_verdict('Verdict: {"pass": "yes", "reason": "ok"} done') == (True, "ok")
    assert parse_verdict('{"pass": false}') == (False, "no reason given")
    for bad in ("I think it passes", '{"reason": "no verdict"}', "[1, 2]"):
        with pytest.raises(GradingError, match="the judge did not reply with JSON"):
            parse_verdict(bad)


def test_judge_prompt_carries_rubric_output_and_inputs():
    messages = judge_messages("Be polite", "Hello!", {"ticket": "My desk broke"})
    assert messages[0]["role"] == "system" and '"pass"' in messages[0]["content"]
    user = messages[1]["content"]
    assert "<rubric>\nBe polite\n</rubric>" in user and "<output>\nHello!\n</output>" in user and "My desk broke" in user


def test_cosine():
    assert cosine([1, 0], [1, 0]) == 1.0
    assert cosine([1, 0], [0, 1]) == 0.0
    assert round(cosine([1, 1], [1, 0]), 3) == 0.707
    with pytest.raises(GradingError):
        cosine([1], [1, 2])
