// Wording for eval runs (Run Evals, Run Eval Case, Find Cheapest Passing Model) from the server's results. No `vscode` import.
//
// Written against the answer of the server's eval commands (server/promptwise/lsp/eval_runs.py: suite, ran,
// passed/failed/errored, cost, results[], problems[], reportPath, cheapest{model, costPerCall, savingPerCall,
// edit}) and the engine's RunResult (results.json: results[], models[], spent, run_dir, cheapest[]); every
// field is optional.

import * as path from "node:path";
import { list, money, num, obj, str } from "./format";

export interface EvalSummary {
  /** One line for a notification. */
  message: string;
  /** False when any case failed or errored. */
  passed: boolean;
  /** Lines for the output channel: one per case. */
  details: string[];
  /** A report or results file the run wrote, if the server said where. */
  reportPath?: string;
}

/** The report path from a result, under whichever name the server uses for it; else the run folder's results.json. */
export function reportPathOf(result: unknown): string | undefined {
  const r = obj(result);
  const report = r.report;
  const named =
    str(r.reportPath) ??
    str(r.report_path) ??
    str(r.reportUri) ??
    (typeof report === "string" ? str(report) : str(obj(report).path) ?? str(obj(report).html) ?? str(obj(report).markdown)) ??
    str(obj(r.reports).html) ??
    str(obj(r.reports).markdown) ??
    str(obj(r.reports).json);
  if (named) return named;
  const runDir = str(r.runDir) ?? str(r.run_dir);
  return runDir ? path.join(runDir, "results.json") : undefined;
}

function status(c: Record<string, unknown>): string {
  const s = str(c.status);
  if (s) return s === "error" ? "errored" : s;
  return c.passed === true ? "passed" : c.passed === false ? "failed" : "done";
}

function caseLine(c: unknown): string {
  const x = obj(c);
  const name = str(x.case) ?? str(x.name) ?? str(x.id) ?? "case";
  const model = str(x.model);
  const st = status(x);
  const cost = num(x.cost);
  const failedAssertion = list(x.assertions).map(obj).find((a) => a.passed === false);
  const reason = str(x.error) ?? str(failedAssertion?.reason) ?? str(x.reason) ?? str(x.message);
  const mark = st === "passed" ? "✓" : st === "skipped" ? "-" : "✗";
  return `${mark} ${name}${model ? ` [${model}]` : ""}: ${st}${cost !== undefined ? ` (${money(cost)})` : ""}${
    reason && st !== "passed" ? ` — ${reason}` : ""
  }`;
}

export function summarizeEvalRun(result: unknown, what = "Evals"): EvalSummary {
  const r = obj(result);
  const summary = obj(r.summary);
  const cases = list(r.cases).length ? list(r.cases) : list(r.results);
  const models = list(r.models).map(obj).filter((m) => num(m.cases) !== undefined || num(m.passed) !== undefined);
  const fromModels = (key: string) => (models.length ? models.reduce((n, m) => n + (num(m[key]) ?? 0), 0) : undefined);
  const fromCases = (s: string) => cases.filter((c) => status(obj(c)) === s).length;
  const passed = num(summary.passed) ?? num(r.passed) ?? fromModels("passed") ?? fromCases("passed");
  const failed = num(summary.failed) ?? num(r.failed) ?? fromModels("failed") ?? fromCases("failed");
  const errored =
    num(summary.errored) ?? num(summary.errors) ?? num(r.errored) ?? num(r.errors) ?? fromModels("errored") ?? fromCases("errored");
  const total = num(summary.total) ?? num(r.total) ?? num(r.ran) ?? fromModels("cases") ?? (cases.length || passed + failed + errored);
  const cost = num(summary.cost) ?? num(r.cost) ?? num(r.totalCost) ?? num(r.spent);
  const parts = [`${passed}/${total} passed`];
  if (failed) parts.push(`${failed} failed`);
  if (errored) parts.push(`${errored} errored`);
  if (cost !== undefined) parts.push(`cost ${money(cost)}`);
  if (r.cancelled === true) parts.push("cancelled");
  const suites = list(r.suites).map((s) => (typeof s === "string" ? s : str(obj(s).path))).filter((s): s is string => !!s);
  const suitePath = str(r.suite) ?? str(obj(r.suite).name) ?? str(r.suitePath) ?? (suites.length === 1 ? suites[0] : undefined);
  const suite = suitePath ? path.basename(suitePath) : undefined;
  const problems = [...list(r.problems), ...list(r.suites).flatMap((s) => list(obj(s).problems))].filter(
    (p): p is string => typeof p === "string",
  );
  return {
    message: `promptwise ${what}${suite ? ` (${suite})` : ""}: ${parts.join(", ")}${problems.length ? ` — ${problems[0]}` : ""}`,
    passed: failed === 0 && errored === 0 && problems.length === 0,
    details: [...problems.map((p) => `! ${p}`), ...cases.map(caseLine)],
    reportPath: reportPathOf(result),
  };
}

export interface CaseChoice {
  name: string;
  /** Zero-based index in the suite, when the server gave one: the unambiguous way to name a case. */
  index?: number;
}

/** The cases a `promptwise.listEvalCases` answer (or a run) offers, for the Run Eval Case quick pick. */
export function caseChoices(result: unknown): CaseChoice[] {
  const r = obj(result);
  const cases = list(r.cases).length ? list(r.cases) : list(result);
  const seen = new Set<string>();
  const out: CaseChoice[] = [];
  for (const c of cases) {
    const x = obj(c);
    const name = typeof c === "string" ? c : str(x.name) ?? str(x.case) ?? str(x.id);
    if (name === undefined) continue;
    const index = num(x.index);
    const key = `${name}#${index ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(index === undefined ? { name } : { name, index });
  }
  return out;
}

/** The workspace edit that switches the prompt to the cheapest passing model, if the answer carries one. */
export function cheapestEdit(result: unknown): unknown {
  const r = obj(result);
  const cheapest = Array.isArray(r.cheapest) ? obj(r.cheapest[0]) : obj(r.cheapest);
  return cheapest.edit ?? r.edit ?? obj(r.best).edit ?? undefined;
}

export function cheapestMessage(result: unknown): string {
  const r = obj(result);
  // The LSP answer has one `cheapest` object; results.json has a list of them (one per suite).
  const c = Array.isArray(r.cheapest) ? obj(r.cheapest[0]) : obj(r.cheapest ?? r.best);
  const name = str(c.model) ?? str(c.chosen) ?? str(c.name) ?? str(r.chosen) ?? (typeof r.cheapest === "string" ? r.cheapest : undefined);
  if (!name) {
    const note = str(c.note) ?? str(r.note) ?? str(r.message);
    return `promptwise: no cheaper model passed as many cases${note ? `: ${note.replace(/\.$/, "")}` : ""}.`;
  }
  const trial = obj(list(c.tried).find((t) => str(obj(t).model) === name));
  const cost =
    num(c.costPerCall) ?? num(c.cost) ?? num(trial.costPerCall) ?? num(trial.cost_per_call) ?? num(trial.estimated_cost_per_call);
  const saving = num(c.savingPerCall) ?? num(c.saving_per_call) ?? num(c.saving);
  const current = str(c.current);
  return `promptwise: cheapest passing model is ${name}${cost !== undefined ? ` at ${money(cost)}/call` : ""}${
    saving !== undefined ? `, saving ${money(saving)}/call` : ""
  }${current ? ` (now ${current})` : ""}.`;
}
