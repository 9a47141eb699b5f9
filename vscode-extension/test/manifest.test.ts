import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { INSTRUCTION_PATTERNS, documentSelector } from "../src/selector";
import { DEFAULT_PLAIN_PROMPTS, RESTART_SETTINGS, SERVER_SETTING_KEYS } from "../src/settings";
import { RESTRICTED_SETTINGS } from "../src/trust";

const root = path.resolve(__dirname, "../..");
const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const contributed: Array<{ command: string; title: string; category: string }> = manifest.contributes.commands;
const properties: Record<string, { default?: unknown; scope?: string }> = manifest.contributes.configuration.properties;

describe("package.json", () => {
  it("contributes exactly the commands the client registers, all in the Promptwise category", () => {
    const source = fs.readFileSync(path.join(root, "src/commands.ts"), "utf8");
    const registered = [...source.matchAll(/registerCommand\("([^"]+)"/g)].map((m) => m[1]).sort();
    assert.deepEqual(contributed.map((c) => c.command).sort(), registered);
    assert.ok(contributed.every((c) => c.category === "Promptwise"));
  });

  it("has the palette titles the issue names", () => {
    assert.deepEqual(contributed.map((c) => c.title).sort(), [
      "Compare Prompt Costs with Branch...",
      "Condense Section with a Model",
      "Count Tokens in Selection",
      "Find Cheapest Passing Model",
      "Open Last Eval Report",
      "Propose a Model Cascade",
      "Restart Server",
      "Run Eval Case",
      "Run Evals for This File",
      "Show Server Output",
      "Show Token Breakdown",
    ]);
  });

  it("never contributes a server command id, which vscode-languageclient registers itself", () => {
    for (const id of ["promptwise.countTokens", "promptwise.showBreakdown", "promptwise.runEvals", "promptwise.runEvalCase", "promptwise.findCheapestModel", "promptwise.proposeCascade"]) {
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

  it("serves and activates on Cursor rules, custom agents, chat modes, GEMINI.md and skills", () => {
    for (const pattern of ["**/*.mdc", "**/*.agent.md", "**/*.chatmode.md", "**/GEMINI.md", "**/SKILL.md"]) {
      assert.ok((INSTRUCTION_PATTERNS as readonly string[]).includes(pattern), pattern);
      assert.ok(manifest.activationEvents.includes(`workspaceContains:${pattern}`), pattern);
    }
  });

  it("supports untrusted folders in a limited way, restricting every setting that picks an executable, a host, a key or folders", () => {
    const untrusted = manifest.capabilities.untrustedWorkspaces;
    assert.equal(untrusted.supported, "limited");
    assert.match(untrusted.description, /evals .* disabled/);
    assert.deepEqual([...untrusted.restrictedConfigurations].sort(), [...RESTRICTED_SETTINGS].sort());
    for (const key of RESTRICTED_SETTINGS) assert.ok(properties[key], key);
    // Settings a workspace could use to choose a host, key or folders by name are caught here when they are added.
    const risky = Object.keys(properties).filter((k) => /interpreter|python|api|host|url|key|allow|read|command|path/i.test(k));
    assert.deepEqual(risky.sort(), [...RESTRICTED_SETTINGS].sort());
  });

  it("the user's own decisions can only be set in user settings (machine scope), and a change restarts the server", () => {
    for (const key of ["promptwise.allowRead", "promptwise.evals.apiBase", "promptwise.evals.apiKeyEnv"]) {
      assert.equal(properties[key].scope, "machine", key);
      assert.ok(RESTART_SETTINGS.some((r) => key.startsWith(r)), key);
    }
  });

  it("every palette command that calls a model checks trust before anything else", () => {
    const source = fs.readFileSync(path.join(root, "src/commands.ts"), "utf8");
    for (const name of ["runEvals", "runEvalCase", "findCheapestModel", "proposeCascade", "condense"]) {
      const body = new RegExp(`private async ${name}\\(\\): Promise<void> \\{\\n\\s*(.*)`).exec(source);
      assert.equal(body?.[1], "if (this.restricted()) return;", name);
    }
  });
});
