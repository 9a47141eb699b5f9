import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { caseChoices, cheapestEdit, cheapestMessage, reportPathOf, summarizeEvalRun } from "../src/evals";

describe("eval results", () => {
  it("summarizes passed and failed cases, with cost and report", () => {
    const run = {
      suite: "summarize.evals.yaml",
      summary: { total: 3, passed: 2, failed: 1, cost: 0.0042 },
      cases: [
        { name: "short ticket", model: "gpt-4o-mini", status: "passed", cost: 0.001 },
        { name: "refund", model: "gpt-4o-mini", status: "passed" },
        { name: "angry customer", model: "gpt-4o-mini", status: "failed", reason: "expected to contain 'sorry'" },
      ],
      reportPath: "/tmp/p/.promptwise/evals/report.md",
    };
    const s = summarizeEvalRun(run);
    assert.equal(s.message, "promptwise Evals (summarize.evals.yaml): 2/3 passed, 1 failed, cost $0.0042");
    assert.equal(s.passed, false);
    assert.equal(s.reportPath, "/tmp/p/.promptwise/evals/report.md");
    assert.equal(s.details[2], "✗ angry customer [gpt-4o-mini]: failed — expected to contain 'sorry'");
    assert.equal(s.details[0], "✓ short ticket [gpt-4o-mini]: passed ($0.0010)");
  });

  it("reads the engine's RunResult: results, per-model summaries, spent and run folder", () => {
    const run = {
      version: "0.1.0",
      suites: [{ path: "/w/support/triage.evals.yaml", models: ["gpt-4o", "gpt-4o-mini"], cases: 2, problems: [] }],
      models: [
        { model: "gpt-4o", cases: 2, passed: 2, failed: 0, errored: 0 },
        { model: "gpt-4o-mini", cases: 2, passed: 1, failed: 0, errored: 1 },
      ],
      results: [
        { suite: "triage", case: "dented leg", model: "gpt-4o-mini", status: "passed", cost: 0.0002, assertions: [] },
        {
          suite: "triage",
          case: "refund",
          model: "gpt-4o-mini",
          status: "errored",
          error: "timed out",
          assertions: [],
        },
        {
          suite: "triage",
          case: "tone",
          model: "gpt-4o",
          status: "failed",
          assertions: [
            { type: "contains", passed: true, reason: "ok" },
            { type: "icontains", passed: false, reason: "no 'sorry' in the output" },
          ],
        },
      ],
      spent: 0.0123,
      run_dir: "/w/.promptwise/runs/20250101-120000-000001",
    };
    const s = summarizeEvalRun(run);
    assert.equal(s.message, "promptwise Evals (triage.evals.yaml): 3/4 passed, 1 errored, cost $0.012");
    assert.equal(s.passed, false);
    assert.equal(s.reportPath, "/w/.promptwise/runs/20250101-120000-000001/results.json");
    assert.deepEqual(s.details.slice(1), ["✗ refund [gpt-4o-mini]: errored — timed out", "✗ tone [gpt-4o]: failed — no 'sorry' in the output"]);
  });

  it("puts a suite's problems first", () => {
    const s = summarizeEvalRun({ suites: [{ path: "a.evals.yaml", problems: ["no cases"] }], models: [], results: [] });
    assert.equal(s.message, "promptwise Evals (a.evals.yaml): 0/0 passed — no cases");
    assert.equal(s.passed, false);
  });

  it("counts from the cases when there is no summary", () => {
    const s = summarizeEvalRun({ results: [{ id: "a", passed: true }, { id: "b", passed: true }] });
    assert.equal(s.message, "promptwise Evals: 2/2 passed");
    assert.equal(s.passed, true);
  });

  it("finds the report under the names a server may use", () => {
    assert.equal(reportPathOf({ report: "/r.md" }), "/r.md");
    assert.equal(reportPathOf({ report: { path: "/r.html" } }), "/r.html");
    assert.equal(reportPathOf({ reports: { markdown: "/r.md", json: "/r.json" } }), "/r.md");
    assert.equal(reportPathOf({}), undefined);
  });

  it("lists the cases of promptwise.listEvalCases for the quick pick, with their index", () => {
    const listing = {
      suite: "/w/support/triage.evals.yaml",
      cases: [
        { name: "dented leg", index: 0, uri: "file:///w/support/triage.evals.yaml", line: 32 },
        { name: "refund", index: 1, uri: "file:///w/support/triage.evals.yaml", line: 55 },
      ],
    };
    assert.deepEqual(caseChoices(listing), [
      { name: "dented leg", index: 0 },
      { name: "refund", index: 1 },
    ]);
    assert.deepEqual(caseChoices(["x", "y", "x"]), [{ name: "x" }, { name: "y" }]);
  });

  it("reads the server's runEvals answer", () => {
    const answer = {
      suite: "/w/support/triage.evals.yaml",
      ran: 12,
      passed: 0,
      failed: 10,
      errored: 2,
      cost: 0.0106,
      results: [{ case: "dented leg", index: 0, model: "gpt-4o", status: "errored", reason: "grading failed" }],
      problems: [],
      summary: "0/12 passed (2 errored), $0.011, 6.0 s",
      reportPath: "/w/.promptwise/runs/x/report.md",
    };
    const s = summarizeEvalRun(answer);
    assert.equal(s.message, "promptwise Evals (triage.evals.yaml): 0/12 passed, 10 failed, 2 errored, cost $0.011");
    assert.equal(s.reportPath, "/w/.promptwise/runs/x/report.md");
    assert.deepEqual(s.details, ["✗ dented leg [gpt-4o]: errored — grading failed"]);
  });

  it("words the cheapest passing model", () => {
    assert.equal(
      cheapestMessage({ best: { model: "gpt-4.1-nano", costPerCall: 0.00012, saving: 0.0011 } }),
      "promptwise: cheapest passing model is gpt-4.1-nano at $0.00012/call, saving $0.0011/call.",
    );
    assert.equal(
      cheapestMessage({
        cheapest: [
          {
            suite: "triage",
            current: "gpt-4o",
            current_passed: 3,
            total: 3,
            chosen: "gpt-4o-mini",
            saving_per_call: 0.0095,
            tried: [{ model: "gpt-4o-mini", passed: 3, failed: 0, errored: 0, cost_per_call: 0.0006, verdict: "passes" }],
          },
        ],
      }),
      "promptwise: cheapest passing model is gpt-4o-mini at $0.00060/call, saving $0.0095/call (now gpt-4o).",
    );
    const lsp = {
      ran: 6,
      cheapest: {
        current: "gpt-4o",
        currentPassed: 6,
        total: 6,
        model: "gpt-4.1-mini",
        costPerCall: 0.0021,
        savingPerCall: 0.0108,
        tried: [],
        note: "",
        edit: { changes: { "file:///w/a.prompty": [] } },
      },
    };
    assert.equal(cheapestMessage(lsp), "promptwise: cheapest passing model is gpt-4.1-mini at $0.0021/call, saving $0.011/call (now gpt-4o).");
    assert.deepEqual(cheapestEdit(lsp), { changes: { "file:///w/a.prompty": [] } });
    assert.equal(cheapestMessage({ cheapest: { model: null, note: "no cheaper model passed" } }), "promptwise: no cheaper model passed as many cases: no cheaper model passed.");
    assert.equal(cheapestMessage({}), "promptwise: no cheaper model passed as many cases.");
    assert.equal(cheapestMessage({ cheapest: [{ note: "no cheaper candidate" }] }), "promptwise: no cheaper model passed as many cases: no cheaper candidate.");
  });
});
