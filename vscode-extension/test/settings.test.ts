import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_PLAIN_PROMPTS,
  needsRestart,
  plainPromptGlobs,
  readerFor,
  toServerSettings,
  warnAtOrDefault,
} from "../src/settings";

describe("settings passed to the server", () => {
  it("maps the defaults to enabled features and leaves the rest to the project's config file", () => {
    const section = {
      interpreter: [],
      defaultModel: "",
      warnAt: null,
      expectedOutputTokens: null,
      inlayHints: { enabled: true },
      hover: { enabled: true },
      diagnostics: { enabled: true },
      plainPrompts: [...DEFAULT_PLAIN_PROMPTS],
      statusBar: { enabled: true },
      trace: { server: "off" },
    };
    assert.deepEqual(toServerSettings(readerFor(section)), {
      inlayHints: { enabled: true },
      hover: { enabled: true },
      diagnostics: { enabled: true },
    });
  });

  it("passes the values the user set, under the names the server reads", () => {
    const section = {
      defaultModel: " gpt-4.1-mini ",
      warnAt: 0.6,
      expectedOutputTokens: 300,
      maxFileSize: 1048576,
      budgets: { "**/*.prompty": 4000 },
      inlayHints: { enabled: false },
      hover: { enabled: true },
      diagnostics: { enabled: false },
    };
    assert.deepEqual(toServerSettings(readerFor(section)), {
      defaultModel: "gpt-4.1-mini",
      warnAt: 0.6,
      expectedOutputTokens: 300,
      maxFileSize: 1048576,
      budgets: { "**/*.prompty": 4000 },
      inlayHints: { enabled: false },
      hover: { enabled: true },
      diagnostics: { enabled: false },
    });
  });

  it("never sends client-only settings, which the server would report as unknown, nor the user-only ones", () => {
    const sent = toServerSettings(
      readerFor({ interpreter: ["/x/python"], plainPrompts: ["a/**"], statusBar: { enabled: false }, allowRead: ["/"], evals: { apiBase: "http://x" } }),
    );
    assert.deepEqual(Object.keys(sent).sort(), ["diagnostics", "hover", "inlayHints"]);
  });

  it("leaves out values of the wrong type instead of sending them", () => {
    const sent = toServerSettings(
      readerFor({ defaultModel: 5, warnAt: "high", expectedOutputTokens: Number.NaN, budgets: [], inlayHints: { enabled: "no" } }),
    );
    assert.deepEqual(sent, { inlayHints: { enabled: true }, hover: { enabled: true }, diagnostics: { enabled: true } });
  });

  it("restarts the server for the interpreter, the plain-prompt globs and the user's readable folders and eval host", () => {
    const changed = (names: string[]) => needsRestart((s) => names.includes(s));
    assert.equal(changed(["promptwise.interpreter"]), true);
    assert.equal(changed(["promptwise.plainPrompts"]), true);
    assert.equal(changed(["promptwise.allowRead"]), true);
    assert.equal(changed(["promptwise.evals"]), true);
    assert.equal(changed(["promptwise.warnAt", "promptwise.defaultModel"]), false);
  });

  it("uses 0.8 as the warning threshold unless a share in (0, 1] is set", () => {
    assert.equal(warnAtOrDefault(null), 0.8);
    assert.equal(warnAtOrDefault(0.5), 0.5);
    assert.equal(warnAtOrDefault(0), 0.8);
    assert.equal(warnAtOrDefault(1.5), 0.8);
  });

  it("reads plain-prompt globs, dropping blanks, with the default when unset", () => {
    assert.deepEqual(plainPromptGlobs(undefined), ["**/prompts/**/*.txt", "**/prompts/**/*.md"]);
    assert.deepEqual(plainPromptGlobs(["llm/**/*.txt", "", 3]), ["llm/**/*.txt"]);
    assert.deepEqual(plainPromptGlobs([]), []);
  });
});
