import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BranchItem, COMPARE_COSTS, CompareUi, LIST_BRANCHES, branchItems, compareWithBranch } from "../src/compare";
import { statusView } from "../src/status";

/** What promptwise.listBranches returns (server/promptwise/lsp/review.py) for a feature branch tracking origin/main. */
const listed = {
  folder: "/work/repo",
  root: "/work/repo",
  branches: [
    { label: "merge base with origin/main", ref: "3f2a9c1d", description: "3f2a9c1 · what promptwise diff compares with", kind: "merge-base" },
    { label: "HEAD", ref: "HEAD", description: "9b81e07 · the last commit on feature", kind: "head" },
    { label: "feature", ref: "feature", description: "9b81e07 · 2 hours ago · current branch", kind: "local" },
    { label: "origin/main", ref: "origin/main", description: "3f2a9c1 · 3 days ago", kind: "remote" },
  ],
};
const MARKDOWN = "<!-- promptwise-diff -->\n**promptwise: +41 tokens/call, +$0.07/month across 1 prompt**\n\n| file | change |\n|---|---|\n";

/** A fake editor that records what the command showed, picking the item `choose` names. */
function fakeUi(choose: (items: BranchItem[]) => BranchItem | undefined) {
  const seen = { picked: [] as BranchItem[][], progress: [] as string[], shown: [] as { markdown: string; title: string }[], info: [] as string[] };
  const ui: CompareUi = {
    async pick(items) {
      seen.picked.push(items);
      return choose(items);
    },
    async progress(title, task) {
      seen.progress.push(title);
      return task();
    },
    async show(markdown, title) {
      seen.shown.push({ markdown, title });
    },
    info(message) {
      seen.info.push(message);
    },
  };
  return { ui, seen };
}

describe("Compare Prompt Costs with Branch...", () => {
  it("offers the server's branches in its order, the merge base first, with icons for branches", () => {
    const items = branchItems(listed);
    assert.deepEqual(
      items.map((i) => [i.label, i.ref]),
      [
        ["merge base with origin/main", "3f2a9c1d"],
        ["HEAD", "HEAD"],
        ["$(git-branch) feature", "feature"],
        ["$(cloud) origin/main", "origin/main"],
      ],
    );
    assert.deepEqual(branchItems({ branches: [{ description: "no label" }, null, 3] }), []);
    assert.deepEqual(branchItems(undefined), []);
  });

  it("lists, compares the picked branch under a progress notification, and previews the Markdown", async () => {
    const calls: [string, unknown[]][] = [];
    const run = async (command: string, args: unknown[]) => {
      calls.push([command, args]);
      return command === LIST_BRANCHES ? listed : { markdown: MARKDOWN };
    };
    const { ui, seen } = fakeUi((items) => items.find((i) => i.ref === "origin/main"));
    await compareWithBranch(run, ui, "file:///work/repo/AGENTS.md");
    assert.deepEqual(calls, [
      [LIST_BRANCHES, [{ uri: "file:///work/repo/AGENTS.md" }]],
      [COMPARE_COSTS, [{ uri: "file:///work/repo/AGENTS.md", base: "origin/main" }]],
    ]);
    assert.deepEqual(seen.progress, ["promptwise: comparing prompt costs with origin/main"]);
    assert.deepEqual(seen.shown, [{ markdown: MARKDOWN, title: "Prompt Costs vs origin/main" }]);
  });

  it("does nothing more when the pick is dismissed", async () => {
    const calls: string[] = [];
    const { ui, seen } = fakeUi(() => undefined);
    await compareWithBranch(async (command) => (calls.push(command), listed), ui);
    assert.deepEqual(calls, [LIST_BRANCHES]);
    assert.equal(seen.shown.length + seen.progress.length, 0);
  });

  it("says so, without an error, when the folder is not a git repository", async () => {
    const { ui, seen } = fakeUi((items) => items[0]);
    const run = async () => {
      throw new Error("/work/notes is not in a git repository, so there is no branch to compare with (cannot find ...)");
    };
    await compareWithBranch(run, ui);
    assert.equal(seen.info.length, 1);
    assert.match(seen.info[0], /^promptwise: \/work\/notes is not in a git repository/);
    assert.equal(seen.picked.length, 0);
  });

  it("passes on any other failure, for the command's error message", async () => {
    const { ui } = fakeUi((items) => items[0]);
    await assert.rejects(
      compareWithBranch(async (command) => {
        if (command === LIST_BRANCHES) return listed;
        throw new Error("cannot compare with main: unknown revision");
      }, ui),
      /unknown revision/,
    );
  });

  it("puts the server's change against HEAD in the status bar tooltip", () => {
    const breakdown = {
      totals: { promptTokens: 3196 },
      exact: true,
      cost: { perCall: 0.00061, basis: "warm" },
      vsHead: { status: "changed", tokens: 41, line: "vs HEAD: +41 tokens/call (+1%), +$0.0000062/call warm, +$0.0738/month" },
    };
    assert.match(statusView(breakdown, 0.8)!.tooltip, /\n- vs HEAD: \+41 tokens\/call \(\+1%\), \+\$0\.0000062\/call warm, \+\$0\.0738\/month\n/);
    assert.doesNotMatch(statusView({ ...breakdown, vsHead: null }, 0.8)!.tooltip, /vs HEAD/);
  });
});
