// The token breakdown of one file as a small HTML page for a webview, from a `promptwise.showBreakdown` result. No `vscode` import.

import { list, money, num, obj, share, str, tokens } from "./format";

export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function breakdownTitle(fileName: string): string {
  return `Token Breakdown: ${fileName}`;
}

/** Rows of the per-message table; exported for tests. */
export function messageRows(breakdown: unknown): string[][] {
  const b = obj(breakdown);
  const exact = b.exact !== false;
  return list(b.messages).map((m) => {
    const msg = obj(m);
    const line = num(msg.line);
    const name = str(msg.name);
    const includes = list(msg.includes)
      .map((i) => {
        const inc = obj(i);
        const n = num(inc.tokens);
        return `${str(inc.target) ?? "?"}${n !== undefined ? ` (${tokens(n, exact)})` : ""}${str(inc.error) ? ` ⚠ ${str(inc.error)}` : ""}`;
      })
      .join(", ");
    return [
      `${str(msg.role) ?? "?"}${name ? ` [${name}]` : ""}`,
      line !== undefined ? String(line + 1) : "",
      num(msg.tokens) !== undefined ? tokens(num(msg.tokens)!, exact) : "n/a",
      share(num(msg.share)),
      num(msg.framingTokens) !== undefined ? String(num(msg.framingTokens)) : "",
      includes,
    ];
  });
}

export function breakdownHtml(breakdown: unknown, fileName: string, cspSource = ""): string {
  const b = obj(breakdown);
  const exact = b.exact !== false;
  const totals = obj(b.totals);
  const cost = obj(b.cost);
  const context = obj(b.context);
  const budget = b.budget === null ? {} : obj(b.budget);
  const tools = obj(b.tools);
  const findings = obj(b.findings);
  const total = num(totals.promptTokens);
  const summary: [string, string][] = [
    ["Model", `${str(b.catalogModel) ?? str(b.model) ?? "unknown"}${str(b.provider) ? ` (${str(b.provider)})` : ""}`],
    ["Format", str(b.format) ?? "n/a"],
    ["Tokenizer", `${str(b.tokenizer) ?? "n/a"}, ${exact ? "exact" : str(b.estimate) ?? "estimate"}`],
    ["Input tokens per call", total !== undefined ? tokens(total, exact) : "n/a"],
    ["Message tokens", num(totals.messageTokens) !== undefined ? tokens(num(totals.messageTokens)!, exact) : "n/a"],
    ["Tool definitions", `${num(tools.count) ?? 0} tool(s), ${tokens(num(totals.toolsTokens) ?? num(tools.tokens) ?? 0, exact)}`],
    ["Reply priming", num(totals.replyPriming) !== undefined ? tokens(num(totals.replyPriming)!) : "n/a"],
    ["Expected output", num(totals.expectedOutputTokens) !== undefined ? tokens(num(totals.expectedOutputTokens)!) : "n/a"],
    ["Cost per call", costLine(cost)],
    ["Reasoning", reasoningLine(obj(b.reasoning))],
    ["Per 1,000 calls", num(cost.per1000) !== undefined ? `${money(num(cost.per1000))} (one cold call, then warm)` : "n/a"],
    [
      "Per month",
      num(cost.perMonth) !== undefined
        ? `${money(num(cost.perMonth))} at ${num(cost.callsPerDay)} calls a day (${str(cost.callsPerDaySource) ?? "volume"})`
        : "set promptwise.calls_per_day or [volumes] to project it",
    ],
    [
      "Prices per million",
      `input ${money(num(cost.inputPerMillion))}, output ${money(num(cost.outputPerMillion))}${str(cost.source) ? ` (${str(cost.source)})` : ""}`,
    ],
    [
      "Budget",
      num(budget.tokens) !== undefined
        ? `${share(num(budget.share))} of ${tokens(num(budget.tokens)!)}${str(budget.source) ? ` (${str(budget.source)})` : ""}`
        : "none",
    ],
    [
      "Context window",
      num(context.window) !== undefined ? `${share(num(context.share))} of ${tokens(num(context.window)!)} (needs ${tokens(num(context.needed) ?? 0)})` : "n/a",
    ],
    [
      "Findings",
      `${num(findings.errors) ?? 0} error(s), ${num(findings.warnings) ?? 0} warning(s)${
        list(findings.codes).length ? `: ${list(findings.codes).map(String).join(", ")}` : ""
      }`,
    ],
  ];
  const rows = messageRows(breakdown);
  const csp = `default-src 'none'; style-src 'unsafe-inline' ${cspSource}; img-src ${cspSource || "'none'"};`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<title>${escapeHtml(breakdownTitle(fileName))}</title>
<style>
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1em; }
  table { border-collapse: collapse; margin-bottom: 1.5em; }
  th, td { text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid var(--vscode-panel-border, #8884); vertical-align: top; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  h1 { font-size: 1.3em; } h2 { font-size: 1.1em; }
</style>
</head>
<body>
<h1 id="promptwise-breakdown">${escapeHtml(breakdownTitle(fileName))}</h1>
<table class="summary">
${summary.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("\n")}
</table>
<h2>Messages</h2>
<table class="messages">
<tr><th>Role</th><th>Line</th><th>Tokens</th><th>Share</th><th>Framing</th><th>Includes</th></tr>
${rows
  .map(
    (r) =>
      `<tr><td>${escapeHtml(r[0])}</td><td class="n">${escapeHtml(r[1])}</td><td class="n">${escapeHtml(r[2])}</td><td class="n">${escapeHtml(
        r[3],
      )}</td><td class="n">${escapeHtml(r[4])}</td><td>${escapeHtml(r[5])}</td></tr>`,
  )
  .join("\n")}
</table>
</body>
</html>`;
}

/** Per call as billed: warm when the provider caches the stable prefix (with the cold first call beside it). */
function costLine(cost: Record<string, unknown>): string {
  const perCall = num(cost.perCall);
  if (perCall === undefined) return "no price";
  const parts = `input ${money(num(cost.input))} + output ${money(num(cost.output))}`;
  if (str(cost.basis) === "warm") return `${money(perCall)} warm (${parts}); first call ${money(num(cost.cold))} cold`;
  return `${money(perCall)} (${parts})`;
}

function reasoningLine(r: Record<string, unknown>): string {
  const tokens = num(r.tokens);
  if (tokens === undefined) return "none (the model does not reason)";
  return `${tokens.toLocaleString("en-US")} tokens a call at ${str(r.effort) ?? "?"} effort, ${str(r.kind) ?? ""}: ${str(r.source) ?? ""}`;
}
