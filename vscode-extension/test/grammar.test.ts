import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as oniguruma from "vscode-oniguruma";
import * as textmate from "vscode-textmate";

const root = path.resolve(__dirname, "../..");
let registry: textmate.Registry;
const YAML_STAND_IN = textmate.parseRawGrammar(
  JSON.stringify({
    scopeName: "source.yaml",
    patterns: [{ match: "^\\s*([\\w.-]+)\\s*(:)", captures: { "1": { name: "entity.name.tag.yaml" } } }],
  }),
  "yaml.json",
);

before(async () => {
  const wasm = fs.readFileSync(path.join(root, "node_modules/vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
  registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    // source.yaml comes with VS Code; a one-rule stand-in shows that the frontmatter is handed to it.
    loadGrammar: async (scope: string) => {
      if (scope === "source.yaml") return YAML_STAND_IN;
      const file = { "source.prompty": "prompty", "source.dotprompt": "dotprompt" }[scope];
      if (!file) return null;
      const text = fs.readFileSync(path.join(root, "syntaxes", `${file}.tmLanguage.json`), "utf8");
      return textmate.parseRawGrammar(text, `${file}.json`);
    },
  });
});

/** Each token's text with its innermost scope, line by line. */
async function tokenize(scope: string, text: string): Promise<Array<[string, string[]]>> {
  const grammar = (await registry.loadGrammar(scope))!;
  let state = textmate.INITIAL;
  const out: Array<[string, string[]]> = [];
  for (const line of text.split("\n")) {
    const result = grammar.tokenizeLine(line, state);
    for (const t of result.tokens) out.push([line.slice(t.startIndex, t.endIndex), t.scopes]);
    state = result.ruleStack;
  }
  return out;
}

function scopesOf(tokens: Array<[string, string[]]>, text: string): string[] {
  const hit = tokens.find(([t]) => t === text);
  assert.ok(hit, `no token "${text}" in ${JSON.stringify(tokens.map(([t]) => t))}`);
  return hit[1];
}

describe("prompty grammar", () => {
  const prompty = [
    "---",
    "name: Contract review",
    "model: gpt-4o",
    "---",
    "system:",
    "You review {{ contract_type }} contracts. {# internal note #}",
    "{% for clause in clauses %}- {{ clause.title | upper }}{% endfor %}",
    "user[name=counsel]:",
    "{{question}}",
  ].join("\n");

  it("embeds the frontmatter as YAML between the --- lines", async () => {
    const tokens = await tokenize("source.prompty", prompty);
    assert.ok(scopesOf(tokens, "name").includes("meta.embedded.block.frontmatter"));
    assert.ok(scopesOf(tokens, "name").includes("entity.name.tag.yaml"));
    assert.ok(scopesOf(tokens, "---").includes("punctuation.definition.frontmatter.begin.promptwise"));
  });

  it("highlights role lines, with a name option", async () => {
    const tokens = await tokenize("source.prompty", prompty);
    assert.ok(scopesOf(tokens, "system").includes("keyword.other.role.promptwise"));
    assert.ok(scopesOf(tokens, "user").includes("keyword.other.role.promptwise"));
    assert.ok(scopesOf(tokens, "name=counsel").includes("entity.other.attribute-name.role-option.promptwise"));
  });

  it("highlights Jinja expressions, filters, statements and comments", async () => {
    const tokens = await tokenize("source.prompty", prompty);
    assert.ok(scopesOf(tokens, "contract_type").includes("variable.other.promptwise"));
    assert.ok(scopesOf(tokens, "upper").includes("support.function.filter.promptwise"));
    assert.ok(scopesOf(tokens, "for").includes("keyword.control.jinja.promptwise"));
    assert.ok(scopesOf(tokens, "endfor").includes("keyword.control.jinja.promptwise"));
    assert.ok(scopesOf(tokens, " internal note ").includes("comment.block.jinja.promptwise"));
  });

  it("does not take a role word inside a sentence for a role line", async () => {
    const tokens = await tokenize("source.prompty", "---\n---\nThe user: asks things");
    assert.ok(!tokens.some(([, s]) => s.includes("keyword.other.role.promptwise")));
  });
});

describe("dotprompt grammar", () => {
  const dotprompt = [
    "---",
    "model: openai/gpt-4.1-mini",
    "---",
    '{{role "system"}}',
    "{{> persona tone=\"calm\"}}",
    "{{#if diff}}Review {{diff}}{{else}}Nothing{{/if}}",
    "{{! a comment }}",
    "{{history}}",
  ].join("\n");

  it("highlights role tags, partials, blocks, helpers and comments", async () => {
    const tokens = await tokenize("source.dotprompt", dotprompt);
    assert.ok(scopesOf(tokens, "model").includes("meta.embedded.block.frontmatter"));
    assert.ok(scopesOf(tokens, "role").includes("keyword.other.role.promptwise"));
    assert.ok(scopesOf(tokens, '"system"').includes("string.quoted.double.role.promptwise"));
    assert.ok(scopesOf(tokens, "persona").includes("entity.name.function.partial.promptwise"));
    assert.ok(scopesOf(tokens, "if").includes("keyword.control.handlebars.promptwise"));
    assert.ok(scopesOf(tokens, "else").includes("keyword.control.handlebars.promptwise"));
    assert.ok(scopesOf(tokens, " a comment ").includes("comment.block.handlebars.promptwise"));
    assert.ok(scopesOf(tokens, "history").includes("support.function.helper.promptwise"));
  });

  it("has no role lines: 'system:' is text in a .prompt body", async () => {
    const tokens = await tokenize("source.dotprompt", "---\n---\nsystem:");
    assert.ok(!tokens.some(([, s]) => s.includes("keyword.other.role.promptwise")));
  });
});
