"""Suite files: validation errors with positions, cases files, prompt discovery, case locations, finding suites."""

from __future__ import annotations

import json
from pathlib import Path

from promptwise.cli.schema import render
from promptwise.evals import case_locations, find_suites, load_suite
from promptwise.evals.suite import Suite

ROOT = Path(__file__).resolve().parents[2]


def problems(path: Path) -> list[tuple[int, int, str]]:
    """(one-based line, one-based column, message) like an editor shows them."""
    return [(p.line + 1, p.column + 1, p.message) for p in load_suite(path).problems]


def test_a_valid_suite_loads_with_defaults_merged(project):
    path = project.suite(
        """
        models: [fake-gpt, fake-judge]
        defaults:
          vars: {customer: Ana}
          assert:
            - type: not-icontains
              value: sorry
        cases:
          - name: damaged desk
            vars: {ticket: The desk leg is dented}
            assert:
              - type: contains
                value: damage
          - vars: {ticket: "Where is my order?", customer: Bo}
            assert:
              - type: regex
                value: "(?i)shipping"
        """
    )
    loaded = load_suite(path)
    assert loaded.ok, loaded.problems
    assert loaded.prompt_path == (project.root / "triage.prompty").resolve()
    first, second = loaded.cases
    assert first.name == "damaged desk" and second.name == "case 2"
    assert first.vars == {"customer": "Ana", "ticket": "The desk leg is dented"}
    assert second.vars["customer"] == "Bo"
    assert [a.type for a in first.assertions] == ["not-icontains", "contains"]
    assert (first.location.line, second.location.line) == (7, 12)  # zero-based, the "- " of each case


def test_unknown_keys_are_errors_at_their_position(project):
    path = project.suite(
        """
        modles: [fake-gpt]
        cases:
          - name: one
            vars: {ticket: hi}
            asert:
              - type: contains
                value: x
            assert:
              - type: contains
                value: hi
                extra: 1
        """
    )
    found = problems(path)
    assert (1, 1, "unknown key 'modles'; did you mean 'models'? (allowed: description, prompt, models, judge_model, "
            "embedding_model, repeat, concurrency, timeout, params, defaults, cases, cases_file)") in found
    assert any(line == 5 and col == 5 and "unknown key 'asert' in cases[0]; did you mean 'assert'?" in m for line, col, m in found)
    assert any(line == 11 and col == 9 and "unknown key 'extra' in cases[0].assert[0]" in m for line, col, m in found)
    assert not load_suite(path).ok


def test_cases_without_assertions_are_errors_with_a_position(project):
    path = project.suite(
        """
        cases:
          - name: forgot assertions
            vars: {ticket: hi}
          - name: empty list
            vars: {ticket: hi}
            assert: []
          - name: fine
            vars: {ticket: hi}
            assert: [{type: contains, value: hi}]
        """
    )
    found = problems(path)
    assert (2, 5, "case 'forgot assertions' has no assertions: add an 'assert' list (or defaults.assert)") in found
    assert (6, 13, "case 'empty list' has no assertions: add an 'assert' list (or defaults.assert)") in found
    assert len(found) == 2


def test_defaults_assertions_cover_cases_without_their_own(project):
    path = project.suite(
        """
        defaults:
          assert: [{type: max-tokens, value: 100}]
        cases:
          - vars: {ticket: hi}
        """
    )
    loaded = load_suite(path)
    assert loaded.ok and [a.type for a in loaded.cases[0].assertions] == ["max-tokens"]


def test_bad_assertions_are_reported_where_they_are_written(project):
    path = project.suite(
        """
        cases:
          - vars: {ticket: hi}
            assert:
              - type: contians
                value: x
              - value: no type
              - type: regex
                value: "(["
              - type: contains-any
                value: []
              - type: is-json
                schema: {type: 12}
              - type: max-tokens
                value: -3
              - type: similar
                value: ref
                threshold: 2
        """
    )
    found = problems(path)
    messages = {(line, col): m for line, col, m in found}
    assert messages[(4, 15)] == "unknown assertion type 'contians' at cases[0].assert[0]; did you mean 'contains'?"
    assert messages[(6, 9)].startswith("cases[0].assert[1]: an assertion needs a 'type' (one of contains, icontains")
    assert messages[(8, 16)].startswith("cases[0].assert[2].value: invalid regular expression '([':")
    assert messages[(10, 16)] == "cases[0].assert[3].value: List should have at least 1 item after validation, not 0"
    assert messages[(12, 17)].startswith("cases[0].assert[4].schema: not a valid JSON Schema")
    assert messages[(14, 16)] == "cases[0].assert[5].value: Input should be greater than or equal to 0"
    assert messages[(17, 20)] == "cases[0].assert[6].threshold: Input should be less than or equal to 1"


def test_invalid_yaml_and_duplicate_keys(project):
    broken = project.suite("cases:\n  - vars: {ticket: hi\n", name="broken.evals.yaml")
    (line, _, message), = problems(broken)
    assert message.startswith("invalid YAML:") and line >= 2
    dup = project.suite(
        """
        cases:
          - vars: {ticket: a}
            assert: [{type: contains, value: a}]
            assert: [{type: contains, value: b}]
        """,
        name="dup.evals.yaml",
    )
    assert (4, 5, "duplicate key 'assert': the later one silently replaces the earlier") in problems(dup)
    scalar = project.suite("just a string\n", name="scalar.evals.yaml")
    assert problems(scalar)[0][2].startswith("a suite is a mapping")


def test_model_graded_assertions_need_a_model(project):
    path = project.suite(
        """
        cases:
          - vars: {ticket: hi}
            assert:
              - type: contains
                value: hi
              - type: llm-rubric
                value: is polite
        """
    )
    assert problems(path) == [(6, 9, "llm-rubric needs a judge model: set 'judge_model' in the suite or evals.judge_model in config")]
    path.write_text(path.read_text() + "judge_model: fake-judge\n")
    assert problems(path) == []


def test_prompt_discovery(project):
    alone = project.suite("cases: [{vars: {}, assert: [{type: contains, value: x}]}]\n", name="orphan.evals.yaml")
    assert problems(alone)[0][2].startswith("no prompt file beside the suite: expected orphan.prompty")
    project.write("pair.prompty", "user:\nhi\n")
    project.write("pair.prompt", "hi\n")
    pair = project.suite("cases: [{vars: {}, assert: [{type: contains, value: x}]}]\n", name="pair.evals.yaml")
    assert "several prompt files could go with this suite (pair.prompt, pair.prompty); set 'prompt'" in problems(pair)[0][2]
    named = project.suite("prompt: pair.prompt\ncases: [{vars: {}, assert: [{type: contains, value: x}]}]\n", name="named.evals.yaml")
    assert load_suite(named).prompt_path == (project.root / "pair.prompt").resolve()
    wrong = project.suite("prompt: nope.prompty\ncases: [{vars: {}, assert: [{type: contains, value: x}]}]\n", name="wrong.evals.yaml")
    assert problems(wrong) == [(1, 9, f"prompt file nope.prompty not found in {project.root}")]


def test_cases_from_jsonl_with_line_positions(project):
    rows = [
        {"name": "a", "vars": {"ticket": "one"}, "assert": [{"type": "contains", "value": "one"}]},
        {"vars": {"ticket": "two"}},
        {"vars": {"ticket": "three"}, "assert": [{"type": "nope"}]},
    ]
    project.write("cases.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n{not json\n")
    path = project.suite("cases_file: cases.jsonl\n")
    loaded = load_suite(path)
    found = [(p.path.name, p.line + 1, p.message) for p in loaded.problems]
    assert ("cases.jsonl", 2, "case 'case 2' has no assertions: add 'assert' or defaults.assert") in found
    assert any(name == "cases.jsonl" and line == 3 and "unknown assertion type 'nope'" in m for name, line, m in found)
    assert any(name == "cases.jsonl" and line == 4 and m.startswith("line is not valid JSON") for name, line, m in found)
    assert not loaded.ok
    project.write("cases.jsonl", json.dumps(rows[0]) + "\n\n" + json.dumps({"vars": {"ticket": "x"}}) + "\n")
    path.write_text("cases_file: cases.jsonl\ndefaults:\n  assert: [{type: max-tokens, value: 50}]\n")
    loaded = load_suite(path)
    assert loaded.ok
    assert [(c.location.path.name, c.location.line) for c in loaded.cases] == [("cases.jsonl", 0), ("cases.jsonl", 2)]
    assert [len(c.assertions) for c in loaded.cases] == [2, 1]


def test_cases_from_csv(project):
    project.write(
        "cases.csv",
        "__name,ticket,customer,assert.icontains,assert.contains-any,assert.not-contains,assert.max-tokens\n"
        "dented,The leg is dented,Ana,damage,replacement|refund,sorry,120\n"
        "late,Where is my desk?,Bo,,shipping|tracking,,\n",
    )
    path = project.suite("cases_file: cases.csv\n")
    loaded = load_suite(path)
    assert loaded.ok, loaded.problems
    first, second = loaded.cases
    assert first.name == "dented" and first.vars == {"ticket": "The leg is dented", "customer": "Ana"}
    assert [(a.type, getattr(a, "value", None)) for a in first.assertions] == [
        ("icontains", "damage"),
        ("contains-any", ["replacement", "refund"]),
        ("not-contains", "sorry"),
        ("max-tokens", 120),
    ]
    assert second.name == "late" and [a.type for a in second.assertions] == ["contains-any"]
    assert (first.location.line, second.location.line) == (1, 2)
    project.write("bad.csv", "ticket,assert.containz\nhi,x\n")
    bad = project.suite("cases_file: bad.csv\n", name="bad.evals.yaml")
    messages = [p.message for p in load_suite(bad).problems]
    assert any(m.startswith("column 'assert.containz' is not an assertion") for m in messages)


def test_case_locations_for_an_editor(project):
    text = "cases:\n  - name: a\n    vars: {ticket: x}\n    assert: [{type: contains, value: x}]\n  - name: b\n    assert: [{type: contains, value: y}]\n"
    path = project.root / "triage.evals.yaml"
    locations = case_locations(path, text)  # unsaved editor text; the file does not exist
    assert [(loc.line, loc.column) for loc in locations] == [(1, 4), (4, 4)]


def test_find_suites_from_paths(project):
    suite = project.suite("cases: [{vars: {}, assert: [{type: contains, value: x}]}]\n")
    nested = project.write("sub/other.evals.yml", "cases: []\n")
    project.write(".venv/lib/skip.evals.yaml", "cases: []\n")
    found, missing = find_suites([project.root])
    assert found == [suite.resolve(), nested.resolve()] and missing == []
    found, missing = find_suites([project.root / "triage.prompty"])
    assert found == [suite.resolve()]
    project.write("lonely.prompt", "hi\n")
    found, missing = find_suites([project.root / "lonely.prompt", project.root / "nope.evals.yaml"])
    assert found == []
    assert missing[0].endswith("lonely.prompt: no suite beside it (expected lonely.evals.yaml)")
    assert missing[1].endswith("nope.evals.yaml: no such suite file")


def test_example_suites_are_valid():
    for name in ("support/triage.evals.yaml", "dotprompt/review.evals.yaml"):
        loaded = load_suite(ROOT / "examples" / name)
        assert loaded.ok, [p.display() for p in loaded.problems]
        assert loaded.cases and loaded.prompt_path is not None


def test_suite_schema_is_generated_and_current():
    rendered = render()
    assert "evals.suite.schema.json" in rendered and "evals.results.schema.json" in rendered
    schema = json.loads(rendered["evals.suite.schema.json"])
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {f.alias or n for n, f in Suite.model_fields.items()}
    on_disk = ROOT / "schemas" / "evals.suite.schema.json"
    assert on_disk.read_text(encoding="utf-8") == rendered["evals.suite.schema.json"], "run 'promptwise schema'"
