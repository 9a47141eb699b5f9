import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { INSTRUCTION_PATTERNS, documentSelector } from "../src/selector";
import { DEFAULT_PLAIN_PROMPTS, SERVER_SETTING_KEYS } from "../src/settings";

const root = path.resolve(__dirname, "../..");
const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const contributed: Array<{ command: string; title: string; category: string }> = manifest.contributes.commands;
const properties: Record<string, { default?: unknown }> = manifest.contributes.configuration.properties;

describe("package.json", () => {
  it("contributes exactly the commands the client registers, all in the Promptwise category", () => {
    const source = fs.readFileSync(path.join(root, "src/commands.ts"), "utf8");
    const registered = [...source.matchAll(/registerCommand\("([^"]+)"/g)].map((m) => m[1]).sort();
    assert.deepEqual(contributed.map((c) => c.command).sort(), registered);
    assert.ok(contributed.every((c) => c.category === "Promptwise"));
  });

  it("has the palette titles the issue names", () => {
    assert.deepEqual(contributed.map((c) => c.title).sort(), [
      "Count Tokens in Selection",
      "Find Cheapest Passing Model",
      "Open Last Eval Report",
      "Restart Server",
      "Run Eval Case",
      "Run Evals for This File",
      "Show Server Output",
      "Show Token Breakdown",
    ]);
  });

  it("never contributes a server command id, which vscode-languageclient registers itself", () => {
    for (const id of ["promptwise.countTokens", "promptwise.showBreakdown", "promptwise.runEvals", "promptwise.runEvalCase", "promptwise.findCheapestModel"]) {
      assert.ok(!contributed.some((c) => c.command === id), id);
    }
  });

  it("declares every setting sent to the server, and the client's own", () => {
    for (const key of [...SERVER_SETTING_KEYS, "interpreter", "plainPrompts"]) {
      assert.ok(properties[`promptwise.${key}`], key);
    }
    assert.deepEqual(properties["promptwise.plainPrompts"].default, [...DEFAULT_PLAIN_PROMPTS]);
  });

  it("contributes the prompty and dotprompt languages with their grammars", () => {
    const langs = Object.fromEntries(manifest.contributes.languages.map((l: { id: string; extensions: string[] }) => [l.id, l.extensions]));
    assert.deepEqual(langs, { prompty: [".prompty"], dotprompt: [".prompt"] });
    for (const g of manifest.contributes.grammars) {
      assert.ok(fs.existsSync(path.join(root, g.path)), g.path);
    }
  });

  it("serves instruction files and plain prompts by pattern", () => {
    const selector = documentSelector(["**/prompts/**/*.txt"]);
    const patterns = selector.map((s) => s.pattern).filter(Boolean);
    assert.deepEqual(patterns, [...INSTRUCTION_PATTERNS, "**/prompts/**/*.txt"]);
    assert.ok(selector.some((s) => s.language === "prompty" && s.scheme === "file"));
  });
});
