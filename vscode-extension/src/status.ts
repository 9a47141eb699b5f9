// The status bar item's text, tooltip and colour from a `promptwise.showBreakdown` result. No `vscode` import.

import { list, money, num, obj, share, str, tokens } from "./format";

export type Level = "ok" | "warning" | "error";

export interface StatusView {
  text: string;
  tooltip: string;
  level: Level;
}

const ERROR_CODES = new Set(["over-budget", "context-overflow"]);
const WARNING_CODES = new Set(["near-budget"]);

/**
 * Written against the breakdown's documented shape (server/promptwise/lsp/commands.py) but every field is optional:
 * a missing number shows as "n/a", never as a crash.
 */
export function statusView(breakdown: unknown, warnAt: number): StatusView | undefined {
  const b = obj(breakdown);
  const totals = obj(b.totals);
  const total = num(totals.promptTokens) ?? num(b.promptTokens) ?? num(b.tokens);
  if (total === undefined) {
    return undefined;
  }
  const exact = b.exact !== false;
  const cost = obj(b.cost);
  const perCall = num(cost.perCall) ?? num(b.costPerCall);
  const budget = b.budget === null ? {} : obj(b.budget);
  const budgetTokens = num(budget.tokens);
  const budgetShare = num(budget.share) ?? (budgetTokens ? total / budgetTokens : undefined);
  const codes = list(obj(b.findings).codes).filter((c): c is string => typeof c === "string");

  let level: Level = "ok";
  if (codes.some((c) => ERROR_CODES.has(c)) || (budgetShare !== undefined && budgetShare > 1)) {
    level = "error";
  } else if (codes.some((c) => WARNING_CODES.has(c)) || (budgetShare !== undefined && budgetShare >= warnAt)) {
    level = "warning";
  }

  const icon = level === "error" ? "$(error)" : level === "warning" ? "$(warning)" : "$(symbol-numeric)";
  // Warm: the provider caches the stable prefix, so a repeated call costs this; `~`: it rests on an estimate.
  const rough = str(cost.rough) !== undefined && perCall !== undefined ? "~" : "";
  const parts = [tokens(total, exact), `${rough}${money(perCall)}/call${cost.basis === "warm" ? " warm" : ""}`];
  if (budgetShare !== undefined) {
    parts.push(`${share(budgetShare)} of budget`);
  }
  return { text: `${icon} ${parts.join(" · ")}`, tooltip: tooltip(b, total, exact, perCall, budgetTokens, budgetShare), level };
}

function tooltip(
  b: Record<string, unknown>,
  total: number,
  exact: boolean,
  perCall: number | undefined,
  budgetTokens: number | undefined,
  budgetShare: number | undefined,
): string {
  const cost = obj(b.cost);
  const totals = obj(b.totals);
  const context = obj(b.context);
  const model = str(b.catalogModel) ?? str(b.model) ?? "unknown model";
  const lines = [`**promptwise** · ${model}`, ""];
  const accuracy = exact ? `exact (${str(b.tokenizer) ?? "tokenizer unknown"})` : str(b.estimate) ?? `estimate (${str(b.tokenizer) ?? "?"})`;
  lines.push(`- Input: ${tokens(total, exact)}, ${accuracy}`);
  const output = num(cost.outputTokens) ?? num(totals.expectedOutputTokens);
  lines.push(
    `- Cost per call: ${money(perCall)}` +
      (output !== undefined ? ` (input ${money(num(cost.input))} + ${tokens(output)} of output ${money(num(cost.output))})` : ""),
  );
  lines.push(...costLines(b));
  // The change against HEAD (server/promptwise/review/head.py), once the server has HEAD's side of the file.
  const vsHead = str(obj(b.vsHead).line);
  if (vsHead) lines.push(`- ${vsHead}`);
  if (budgetTokens !== undefined) {
    const source = str(obj(b.budget).source);
    lines.push(`- Budget: ${share(budgetShare)} of ${tokens(budgetTokens)}${source ? ` (${source})` : ""}`);
  }
  const window = num(context.window);
  if (window !== undefined) {
    lines.push(`- Context window: ${share(num(context.share))} of ${tokens(window)}`);
  }
  const findings = obj(b.findings);
  const errors = num(findings.errors) ?? 0;
  const warnings = num(findings.warnings) ?? 0;
  if (errors + warnings > 0) {
    lines.push(`- Findings: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`);
  }
  lines.push("", "Click for the token breakdown.");
  return lines.join("\n");
}

/** Warm and cold per call, per 1,000 calls and per month, and where the output and reasoning figures come from. */
export function costLines(b: Record<string, unknown>): string[] {
  const cost = obj(b.cost);
  const lines: string[] = [];
  const warm = num(cost.warm);
  const cold = num(cost.cold);
  if (cost.basis === "warm" && warm !== undefined) {
    lines.push(`- Warm ${money(warm)} per call (the stable prefix read from the cache), cold ${money(cold)} (the first call)`);
  } else if (cost.basis === "cold") {
    lines.push("- Nothing cached: every call costs the same");
  }
  const caching = str(cost.caching);
  if (caching) lines.push(`- Caching: ${caching}`);
  const outputSource = str(cost.outputSource);
  if (outputSource) lines.push(`- Output: ${tokens(num(cost.outputTokens) ?? 0)} (${outputSource})`);
  const reasoning = b.reasoning === null ? undefined : obj(b.reasoning);
  if (reasoning && str(reasoning.kind)) {
    const n = num(reasoning.tokens) ?? 0;
    const p95 = num(reasoning.p95);
    lines.push(
      n > 0
        ? `- Reasoning: ${tokens(n)} at ${str(reasoning.effort) ?? "?"} effort, ${str(reasoning.kind)} (${str(reasoning.source) ?? "no source"})` +
            (p95 !== undefined ? `, p95 ${tokens(p95)}` : "")
        : `- Reasoning: none (${str(reasoning.kind)}: ${str(reasoning.source) ?? "off"})`,
    );
  }
  const per1000 = num(cost.per1000);
  if (per1000 !== undefined) {
    lines.push(`- Per 1,000 calls: ${money(per1000)} (${cost.basis === "warm" ? "one cold call, then warm" : "every call alike"})`);
  }
  const month = num(cost.perMonth);
  const calls = num(cost.callsPerDay);
  if (month !== undefined && calls !== undefined) {
    const source = str(cost.callsPerDaySource);
    lines.push(`- Per month: ${money(month)} at ${calls.toLocaleString("en-US")} calls a day${source ? ` (${source})` : ""}`);
  }
  const rough = str(cost.rough);
  if (rough) lines.push(`- ${rough}`);
  return lines;
}

/** The information message for Count Tokens in Selection, from a `promptwise.countTokens` result. */
export function countMessage(result: unknown, selection: boolean): string {
  const r = obj(result);
  const n = num(r.tokens);
  if (n === undefined) {
    return "promptwise: the server returned no token count.";
  }
  const exact = r.exact !== false;
  const what = selection ? "Selection" : "Whole file (as sent to the model)";
  const chars = num(r.characters);
  const tokenizer = str(r.tokenizer);
  return (
    `${what}: ${tokens(n, exact)}, ${money(num(r.cost))} on ${str(r.model) ?? "the file's model"}` +
    (tokenizer ? ` (${exact ? "exact" : "estimate"}, ${tokenizer})` : "") +
    (chars !== undefined ? ` · ${chars.toLocaleString("en-US")} characters` : "")
  );
}
