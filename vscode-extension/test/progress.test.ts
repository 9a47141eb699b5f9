import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProgressFeed, WorkDoneValue } from "../src/progress";

/** What the notification ends up showing after each value: its message and how full its bar is. */
function shown(values: WorkDoneValue[]): { message?: string; bar: number }[] {
  const feed = new ProgressFeed();
  let message: string | undefined;
  let bar = 0;
  return values.map((v) => {
    const update = feed.update(v);
    if (update?.message !== undefined) message = update.message;
    bar += update?.increment ?? 0;
    return { message, bar };
  });
}

describe("eval run progress in the notification", () => {
  it("shows the server's case counts and fills the bar by its percentages (server/promptwise/lsp/eval_runs.py Reporter)", () => {
    const steps = shown([
      { kind: "begin", message: "starting…", percentage: 0 },
      { kind: "report", message: "1/12 cases", percentage: 8 },
      { kind: "report", message: "7/12 cases (1 failed)", percentage: 58 },
      { kind: "report", message: "12/12 cases (1 failed)", percentage: 100 },
    ]);
    assert.deepEqual(steps, [
      { message: "starting…", bar: 0 },
      { message: "1/12 cases", bar: 8 },
      { message: "7/12 cases (1 failed)", bar: 58 },
      { message: "12/12 cases (1 failed)", bar: 100 },
    ]);
  });

  it("sends only the growth of the bar, never a negative increment", () => {
    const feed = new ProgressFeed();
    assert.deepEqual(feed.update({ kind: "begin", message: "starting…", percentage: 0 }), { message: "starting…" });
    assert.deepEqual(feed.update({ kind: "report", message: "3/12 cases", percentage: 25 }), { message: "3/12 cases", increment: 25 });
    assert.deepEqual(feed.update({ kind: "report", message: "6/12 cases", percentage: 50 }), { message: "6/12 cases", increment: 25 });
  });

  it("keeps the bar full when a later phase starts again from 0 (Find Cheapest Passing Model), still showing its message", () => {
    const steps = shown([
      { kind: "report", message: "12/12 cases", percentage: 100 },
      { kind: "report", message: "gpt-4o-mini: 0/6 cases", percentage: 0 },
      { kind: "report", message: "gpt-4o-mini: 3/6 cases", percentage: 50 },
    ]);
    assert.deepEqual(steps.at(-1), { message: "gpt-4o-mini: 3/6 cases", bar: 100 });
    assert.equal(steps[1].message, "gpt-4o-mini: 0/6 cases");
  });

  it("clamps percentages outside 0–100 and ignores ones that are not numbers", () => {
    const steps = shown([
      { kind: "report", percentage: -5 },
      { kind: "report", percentage: 140 },
      { kind: "report", message: "still going", percentage: Number.NaN },
    ]);
    assert.deepEqual(steps, [{ bar: 0, message: undefined }, { bar: 100, message: undefined }, { message: "still going", bar: 100 }]);
  });

  it("shows nothing for the end or for a value with neither message nor new percentage", () => {
    const feed = new ProgressFeed();
    assert.equal(feed.update({ kind: "report", message: "2/4 cases", percentage: 50 })?.increment, 50);
    assert.equal(feed.update({ kind: "report", percentage: 50 }), undefined);
    assert.equal(feed.update({ kind: "report" }), undefined);
    assert.equal(feed.update({ kind: "end", message: "4/4 passed" }), undefined);
  });
});
