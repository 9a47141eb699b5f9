import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { breakdownHtml, escapeHtml, messageRows } from "../src/breakdown";
import { money, share, tokens } from "../src/format";
import { countMessage, statusView } from "../src/status";

/** The shape promptwise.showBreakdown returns (server/promptwise/lsp/commands.py), for examples/legal/contract-review.prompty. */
const overBudget = {
  uri: "file:///ex/legal/contract-review.prompty",
  version: 1,
  format: "prompty",
  model: "gpt-4o",
  catalogModel: "gpt-4o",
  provider: "openai",
  tokenizer: "o200k_base",
  exact: true,
  estimate: null,
  totals: { promptTokens: 2784, messageTokens: 2781, toolsTokens: 0, replyPriming: 3, expectedOutputTokens: 600 },
  cost: { input: 0.00696, output: 0.006, perCall: 0.01296, inputPerMillion: 2.5, outputPerMillion: 10, source: "litellm" },
  context: { window: 128000, needed: 3384, share: 0.0264 },
  budget: { tokens: 1200, share: 2.32, source: "frontmatter promptwise.budget" },
  messages: [
    { role: "system", name: null, tokens: 2734, contentTokens: 2730, framingTokens: 4, share: 0.982, line: 14, includes: [], variables: [] },
    { role: "user", name: "counsel", tokens: 47, contentTokens: 42, framingTokens: 5, share: 0.017, line: 40, includes: [], variables: [] },
  ],
  includes: [],
  tools: { tokens: 0, count: 0, definedInCode: [] },
  findings: { errors: 1, warnings: 0, codes: ["over-budget"] },
};

describe("status bar", () => {
  it("shows total tokens, cost per call and budget use, in red over budget", () => {
    const view = statusView(overBudget, 0.8)!;
    assert.equal(view.text, "$(error) 2,784 tokens · $0.013/call · 232% of budget");
    assert.equal(view.level, "error");
    assert.match(view.tooltip, /gpt-4o/);
    assert.match(view.tooltip, /exact \(o200k_base\)/);
    assert.match(view.tooltip, /232% of 1,200 tokens \(frontmatter promptwise\.budget\)/);
    assert.match(view.tooltip, /input \$0\.0070 \+ 600 tokens of output \$0\.0060/);
  });

  it("turns yellow near the budget (a near-budget finding, or the share at or above warnAt)", () => {
    const near = { ...overBudget, budget: { tokens: 3000, share: 0.928 }, findings: { errors: 0, warnings: 1, codes: ["near-budget"] } };
    assert.equal(statusView(near, 0.8)!.level, "warning");
    const noFinding = { ...near, findings: { errors: 0, warnings: 0, codes: [] } };
    assert.equal(statusView(noFinding, 0.8)!.level, "warning");
    assert.equal(statusView(noFinding, 0.95)!.level, "ok");
  });

  it("shows no budget part and the plain icon for a file without a budget", () => {
    const view = statusView({ ...overBudget, budget: null, findings: { errors: 0, warnings: 0, codes: [] } }, 0.8)!;
    assert.equal(view.text, "$(symbol-numeric) 2,784 tokens · $0.013/call");
    assert.equal(view.level, "ok");
  });

  it("shows warm before cold, per month and where the reasoning figure comes from", () => {
    const cached = {
      ...overBudget,
      budget: null,
      findings: { errors: 0, warnings: 0, codes: [] },
      cost: {
        ...overBudget.cost,
        perCall: 0.0096,
        basis: "warm",
        warm: 0.0096,
        cold: 0.013,
        per1000: 9.6,
        perMonth: 288.2,
        callsPerDay: 1000,
        callsPerDaySource: "frontmatter promptwise.calls_per_day",
        rough: "`~`: the 10,000 reasoning tokens are assumed (promptwise's default for high effort)",
      },
      reasoning: { effort: "high", tokens: 10000, kind: "assumed", source: "promptwise's default for high effort", p95: null },
    };
    const view = statusView(cached, 0.8)!;
    assert.equal(view.text, "$(symbol-numeric) 2,784 tokens · ~$0.0096/call warm");
    assert.match(view.tooltip, /Warm \$0\.0096 per call \(the stable prefix read from the cache\), cold \$0\.013 \(the first call\)/);
    assert.match(view.tooltip, /Reasoning: 10,000 tokens at high effort, assumed \(promptwise's default for high effort\)/);
    assert.match(view.tooltip, /Per 1,000 calls: \$9\.60 \(one cold call, then warm\)/);
    assert.match(view.tooltip, /Per month: \$288\.20 at 1,000 calls a day \(frontmatter promptwise\.calls_per_day\)/);
    const measured = { ...cached, reasoning: { effort: "high", tokens: 4200, kind: "measured", source: "median over 12 eval calls", p95: 9100 } };
    assert.match(statusView(measured, 0.8)!.tooltip, /4,200 tokens at high effort, measured \(median over 12 eval calls\), p95 9,100 tokens/);
  });

  it("marks estimates with ~ and survives missing fields", () => {
    const view = statusView({ totals: { promptTokens: 656 }, exact: false }, 0.8)!;
    assert.equal(view.text, "$(symbol-numeric) ~656 tokens · n/a/call");
    assert.equal(statusView({}, 0.8), undefined);
    assert.equal(statusView(null, 0.8), undefined);
    assert.equal(statusView("nonsense", 0.8), undefined);
  });
});

describe("wording of numbers, as the server's hints word them", () => {
  it("formats money with two significant digits below a dollar", () => {
    assert.equal(money(0.00083325), "$0.00083");
    assert.equal(money(0.01296), "$0.013");
    assert.equal(money(0.25), "$0.25");
    assert.equal(money(1234.5), "$1,234.50");
    assert.equal(money(0), "$0");
    assert.equal(money(undefined), "n/a");
  });

  it("formats tokens and shares", () => {
    assert.equal(tokens(1), "1 token");
    assert.equal(tokens(14237, false), "~14,237 tokens");
    assert.equal(share(0.003), "<1%");
    assert.equal(share(2.32), "232%");
  });
});

describe("Count Tokens in Selection", () => {
  it("words the server's countTokens answer", () => {
    const result = { tokens: 123, characters: 456, model: "gpt-4o", tokenizer: "o200k_base", exact: true, cost: 0.0003075 };
    assert.equal(countMessage(result, true), "Selection: 123 tokens, $0.00031 on gpt-4o (exact, o200k_base) · 456 characters");
    assert.match(countMessage({ ...result, exact: false }, false), /^Whole file \(as sent to the model\): ~123 tokens/);
    assert.match(countMessage({}, true), /no token count/);
  });
});

describe("token breakdown page", () => {
  it("lists every message with its line (one-based), tokens and share", () => {
    assert.deepEqual(messageRows(overBudget), [
      ["system", "15", "2,734 tokens", "98%", "4", ""],
      ["user [counsel]", "41", "47 tokens", "2%", "5", ""],
    ]);
  });

  it("escapes file content and has no scripts", () => {
    const html = breakdownHtml({ ...overBudget, model: "<script>alert(1)</script>", catalogModel: null }, "a<b>.prompty", "vscode-resource:");
    assert.ok(!html.includes("<script>"));
    assert.match(html, /&#60;script&#62;/);
    assert.match(html, /default-src &#39;none&#39;/);
    assert.match(html, /Token Breakdown: a&#60;b&#62;\.prompty/);
    assert.equal(escapeHtml(`"'&`), "&#34;&#39;&#38;");
  });
});

describe("breakdown cost rows", () => {
  it("shows the warm figure with the cold first call, the reasoning source and per month", () => {
    const warm = {
      ...overBudget,
      cost: { ...overBudget.cost, perCall: 0.0061, basis: "warm", cold: 0.0099, warm: 0.0061, per1000: 6.14, perMonth: 183.2, callsPerDay: 1000, callsPerDaySource: "frontmatter promptwise.calls_per_day" },
      reasoning: { effort: "high", tokens: 10000, kind: "assumed", source: "promptwise's default for high effort" },
    };
    const html = breakdownHtml(warm, "plan.prompty");
    assert.match(html, /warm \(input .*\); first call \$0\.0099 cold/);
    assert.match(html, /10,000 tokens a call at high effort, assumed: promptwise&#39;s default for high effort|10,000 tokens a call at high effort, assumed: promptwise's default for high effort/);
    assert.match(html, /at 1000 calls a day \(frontmatter promptwise\.calls_per_day\)/);
  });

  it("says how to project a month when no volume is set", () => {
    assert.match(breakdownHtml(overBudget, "contract-review.prompty"), /set promptwise\.calls_per_day or \[volumes\] to project it/);
  });
});
