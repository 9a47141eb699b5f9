// End-to-end steps for the levers: one trim of each kind (safe, needing confirmation, condensed by a model) and a
// lower reasoning effort, each applied through VS Code's own UI and checked against the CLI's counts.

import * as fs from "node:fs";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { clickNotificationButton, closeAllEditors, gotoLine, log, openFile, runCommand, step } from "./workbench.mjs";

export const COMMENTED = "levers/AGENTS.md";
export const CONDENSED = "Check each clause against the checklist; flag what is missing.";

/** Files the steps need, written before code-server starts; and the fake model server's rules for the condense step. */
export function prepareLevers(folder, rulesFile) {
  fs.mkdirSync(path.join(folder, "levers"), { recursive: true });
  const rules = Array.from({ length: 12 }, (_, i) => `- Every release ${i} needs a changelog entry and a signed tag.`).join("\n");
  fs.writeFileSync(
    path.join(folder, COMMENTED),
    `# Release notes\n\n<!-- drafted for the 2025 release train; keep until the next review -->\n\n## Rules\n\n${rules}\n`,
  );
  fs.writeFileSync(rulesFile, JSON.stringify([{ match: "You shorten text that is part of a prompt", reply: `# Clause checklist\n\n${CONDENSED}` }]));
}

/** VS Code's Refactor Preview (the panel an edit that needs confirmation opens): wait for it, then press Apply. */
async function applyPreview(page) {
  const pane = page.locator(".bulk-edit-panel").first();
  await pane.waitFor({ state: "visible", timeout: 30_000 });
  // An edit that needs confirmation starts unchecked: ticking it is the confirmation.
  const boxes = pane.getByRole("checkbox");
  await boxes.first().waitFor({ state: "visible", timeout: 10_000 });
  const states = [];
  for (let i = 0; i < (await boxes.count()); i++) states.push(await boxes.nth(i).getAttribute("aria-checked"));
  log(`refactor preview: ${states.length} checkboxes (${states.join(", ")})`);
  // Tick the file's box (the first with an aria-checked state); its edits follow it.
  const first = pane.locator('[role="checkbox"][aria-checked]').first();
  if ((await first.getAttribute("aria-checked")) !== "true") await first.click();
  await sleep(300);
  const left = pane.locator('[role="checkbox"][aria-checked="false"]');
  for (let i = 0; i < 4 && (await left.count()) > 0; i++) await left.first().click();
  log(`after ticking: ${await pane.locator('[role="checkbox"][aria-checked="true"]').count()} checked`);
  await pane.locator(".monaco-button", { hasText: /^Apply$/ }).first().click();
  await sleep(500);
  await runCommand("View: Focus First Editor Group"); // the preview had the focus: the save must reach the editor
}

function saving(label) {
  const m = /\(-([\d,]+) tokens?/.exec(label);
  if (!m) throw new Error(`no saving in "${label}"`);
  return Number(m[1].replace(/,/g, ""));
}

function lineOf(text, needle) {
  const index = text.split("\n").findIndex((l) => l.includes(needle));
  if (index < 0) throw new Error(`no line with ${needle}`);
  return index + 1;
}

export async function leverSteps({ page, folder, checkJson, countJson, quickFix, saveAndWaitForChange, contract }) {
  await step("a safe trim: an HTML comment goes, and the saving in its title is the CLI's count after it", async () => {
    const before = fs.readFileSync(path.join(folder, COMMENTED), "utf8");
    const was = countJson(COMMENTED).prompt_tokens;
    await openFile(COMMENTED);
    await gotoLine(lineOf(before, "<!--"), 1);
    const fix = await quickFix(/^Remove 1 HTML comment \(/);
    if (!fix.applied) throw new Error(`no HTML comment trim offered (menu: ${fix.labels.join(" | ") || "empty"})`);
    const after = await saveAndWaitForChange(COMMENTED, before);
    if (after.includes("<!--")) throw new Error("the comment is still in the file");
    const now = countJson(COMMENTED).prompt_tokens;
    if (was - now !== saving(fix.label)) throw new Error(`"${fix.label}", but the CLI counts ${was} -> ${now}`);
    log(`applied "${fix.label}": ${was} -> ${now} tokens`);
    await closeAllEditors();
  });

  await step("a trim that needs confirmation: dropping the largest section shows the refactor preview, then the file fits its budget", async () => {
    const before = fs.readFileSync(path.join(folder, contract), "utf8");
    const finding = checkJson(contract).findings.find((f) => f.code === "over-budget");
    if (!finding) throw new Error(`the CLI reports no over-budget finding for ${contract}`);
    await openFile(contract);
    await gotoLine(finding.line, finding.column);
    await page.locator(".editor-instance .squiggly-error").first().waitFor({ timeout: 30_000 });
    const fix = await quickFix(/^Drop the section "Clause checklist" \(/);
    if (!fix.applied) throw new Error(`no "Drop the section" trim offered (menu: ${fix.labels.join(" | ") || "empty"})`);
    await applyPreview(page);
    const after = await saveAndWaitForChange(contract, before);
    if (after.includes("# Clause checklist")) throw new Error("the section is still there");
    const now = checkJson(contract);
    if (now.findings.some((f) => f.code === "over-budget")) throw new Error(`still over budget: ${now.prompt_tokens} tokens`);
    log(`applied "${fix.label}" after the preview: ${now.prompt_tokens} tokens, within the budget`);
    await closeAllEditors();
    fs.writeFileSync(path.join(folder, contract), before);
    await sleep(500);
  });

  await step("condense with a model: the local model's shorter section is offered with Apply, and applied after the preview", async () => {
    const before = fs.readFileSync(path.join(folder, contract), "utf8");
    const was = countJson(contract).prompt_tokens;
    await openFile(contract);
    await gotoLine(lineOf(before, "# Clause checklist"), 1);
    const offered = await quickFix(/^Condense "Clause checklist" with a model/);
    if (!offered.applied) {
      log(`the lightbulb menu had no condense action (${offered.labels.join(" | ") || "empty"}): running the palette command`);
      await runCommand("Promptwise: Condense Section with a Model");
    }
    await clickNotificationButton(/Condensed "Clause checklist" with .*: -[\d,]+ tokens/, "Apply", 120_000);
    await applyPreview(page);
    const after = await saveAndWaitForChange(contract, before);
    if (!after.includes(CONDENSED)) throw new Error("the condensed section is not in the file");
    const now = countJson(contract).prompt_tokens;
    if (!(now < was)) throw new Error(`the condensed file is not shorter (${was} -> ${now} tokens)`);
    log(`condensed: ${was} -> ${now} tokens`);
    await closeAllEditors();
    fs.writeFileSync(path.join(folder, contract), before);
    await sleep(500);
  });

  await step("a lower reasoning effort on a reasoning model, titled with its cost change, written in the file", async () => {
    const file = "reasoning/plan.prompty";
    const before = fs.readFileSync(path.join(folder, file), "utf8");
    const was = countJson(file).cost_per_call;
    await openFile(file);
    await gotoLine(lineOf(before, "gpt-5"), 1);
    const fix = await quickFix(/^Set reasoning effort to low \(.*-\$[\d.,]+ per 1,000 calls\)/);
    if (!fix.applied) throw new Error(`no reasoning effort action offered (menu: ${fix.labels.join(" | ") || "empty"})`);
    const after = await saveAndWaitForChange(file, before);
    if (!/reasoning_effort:\s*low/.test(after)) throw new Error("the file does not set reasoning_effort: low");
    const now = countJson(file).cost_per_call;
    if (!(now < was)) throw new Error(`the cost per call did not fall (${was} -> ${now})`);
    log(`applied "${fix.label}": $${was} -> $${now} per call`);
    await closeAllEditors();
    fs.writeFileSync(path.join(folder, file), before);
  });
}
