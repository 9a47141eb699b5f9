// End-to-end test: the packaged extension in a real VS Code (code-server) driven by headless Chromium.
//
// Expected numbers come from the promptwise CLI run on the same files (`count --json`, `check --format json`).
// Steps that need a server feature that is not there yet report SKIPPED with the reason, never a silent pass.
//
// The folder opened carries a json.py and a promptwise/__init__.py that would write a marker file if Python imported
// them; a second session opens such a folder in Restricted Mode and then trusts it (trust.mjs).
//
// Usage: node e2e/run.mjs [--vsix FILE] [--keep] [--update-screenshot] [--only trusted|restricted|compare]
// Needs PROMPTWISE_NODE24 and PROMPTWISE_CODE_SERVER (from scripts/e2e-setup.sh) and the repo's .venv.

import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { checkNoPromptwise, launchBrowser, startCodeServer, startProcess, stopAll, tempDir, withoutPromptwise } from "./harness.mjs";
import { checkNothingRan, plantHostileFiles, restrictedRun, startedOutside } from "./trust.mjs";
import { compareRun } from "./compare.mjs";
import { leverSteps, prepareLevers } from "./levers.mjs";
import {
  Skip,
  clearNotifications,
  cliIn,
  closeAllEditors,
  editorText,
  gotoLine,
  log,
  notificationMatching,
  openFile,
  promptwiseLog,
  python,
  results,
  runCommand,
  screenshot,
  serverOffers,
  setSession,
  squash,
  statusItem,
  statusText,
  step,
  waitFor,
} from "./workbench.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const extRoot = path.resolve(here, "..");
const repo = path.resolve(extRoot, "..");
const require = createRequire(import.meta.url);
const { money, share, tokens } = require(path.join(extRoot, "out/src/format.js"));

const argv = process.argv.slice(2);
const keep = argv.includes("--keep");
const updateScreenshot = argv.includes("--update-screenshot") || process.env.PROMPTWISE_UPDATE_SCREENSHOT === "1";
const version = JSON.parse(fs.readFileSync(path.join(extRoot, "package.json"), "utf8")).version;
const vsix = path.resolve(argv.includes("--vsix") ? argv[argv.indexOf("--vsix") + 1] : path.join(extRoot, `promptwise-linux-x64-${version}.vsix`));
const only = argv.includes("--only") ? argv[argv.indexOf("--only") + 1] : undefined;
const shots = process.env.PROMPTWISE_E2E_SHOTS || path.join(here, "screenshots"); // another folder: runs side by side
const OVER_BUDGET = ".github/instructions/over-budget.instructions.md";

let page;
let root;
let folder;
let userData;
let checkJson;
let countJson;

async function quickFix(titleMatch) {
  const rows = page.locator(".action-widget .monaco-list-row");
  const none = page.locator(".monaco-editor-overlaymessage", { hasText: /No code actions/i });
  // The light bulb shows once the server has answered textDocument/codeAction for the cursor's line.
  await page.locator(".editor-instance .lightBulbWidget").first().waitFor({ state: "visible", timeout: 30_000 }).catch(() => undefined);
  for (let attempt = 1; ; attempt++) {
    await page.locator(".editor-instance .monaco-editor.focused").first().waitFor({ timeout: 5_000 }).catch(() => undefined);
    await page.keyboard.press("Control+.");
    try {
      await waitFor("the quick fix menu", async () => (await rows.count()) > 0 || (await none.count()) > 0, 10_000);
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
  const labels = (await rows.allTextContents()).map(squash);
  const index = labels.findIndex((l) => titleMatch.test(l));
  if (index < 0) {
    await page.keyboard.press("Escape");
    return { applied: false, labels };
  }
  await rows.nth(index).click();
  return { applied: true, labels, label: labels[index] };
}

/** Save the active editor, accepting a refactor preview if the edit asked for one; the file's new text. */
async function saveAndWaitForChange(file, before) {
  const apply = page.locator(".part.panel", { hasText: "Refactor Preview" }).locator(".monaco-button", { hasText: /^Apply$/ });
  if (await apply.first().isVisible().catch(() => false)) await apply.first().click();
  await sleep(300);
  await page.keyboard.press("Control+S");
  return waitFor(`${file} saved with the fix`, async () => {
    const text = fs.readFileSync(path.join(folder, file), "utf8");
    return text !== before && text;
  });
}

// ---- the test ----

/**
 * User settings of every session: a quiet workbench, hints on, and no promptwise.interpreter: the extension runs the
 * promptwise bundled in the .vsix on the python3 it finds, which has no promptwise (code-server's PATH has no .venv).
 */
function workbenchSettings() {
  return {
    "workbench.startupEditor": "none",
    "workbench.colorTheme": "Default Dark Modern",
    "workbench.tips.enabled": false,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "chat.disableAIFeatures": true,
    "chat.commandCenter.enabled": false,
    "security.workspace.trust.enabled": false,
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "update.mode": "none",
    "telemetry.telemetryLevel": "off",
    "editor.inlayHints.enabled": "on",
    "editor.minimap.enabled": false,
    "editor.hover.delay": 200,
    "window.restoreWindows": "none",
    "remote.autoForwardPorts": false,
  };
}

async function main() {
  for (const [what, file] of [
    ["the packaged extension (run scripts/test.sh, or bash scripts/package-extension.sh)", vsix],
    ["the repo's .venv (run bash scripts/setup.sh)", python],
    ["Node 24 (run scripts/e2e-setup.sh)", process.env.PROMPTWISE_NODE24 || ""],
    ["code-server (run scripts/e2e-setup.sh)", process.env.PROMPTWISE_CODE_SERVER || ""],
  ]) {
    if (!file || !fs.existsSync(file)) throw new Error(`missing ${what}: ${file || "(not set)"}`);
  }
  fs.rmSync(shots, { recursive: true, force: true });
  const bare = await checkNoPromptwise(withoutPromptwise(process.env));
  log(`python3 for code-server: ${bare}, without promptwise`);
  results.push({ name: "no promptwise on the interpreter code-server finds (python3 -c 'import promptwise' fails)", status: "passed" });
  root = tempDir("promptwise-e2e-");
  if (!only || only === "trusted") await trustedRun();
  if (!only || only === "restricted") {
    await restrictedRun({ vsix, root: path.join(root, "restricted"), repo, settings: workbenchSettings(), shots });
  }
  if (!only || only === "compare") {
    // A git repository with changes: the change against HEAD and the branch comparison (compare.mjs).
    const imageTo = updateScreenshot ? path.join(repo, "docs", "images", "diff-comment.png") : undefined;
    if (imageTo) fs.mkdirSync(path.dirname(imageTo), { recursive: true });
    await compareRun({ vsix, root: path.join(root, "compare"), repo, settings: workbenchSettings(), shots, python, imageTo });
  }
}

/** The whole editor experience in a trusted folder (workspace trust off), which also carries modules that must not run. */
async function trustedRun() {
  const sessionRoot = path.join(root, "trusted");
  folder = path.join(sessionRoot, "examples");
  fs.cpSync(path.join(repo, "examples"), folder, { recursive: true });
  ({ checkJson, countJson } = cliIn(folder));
  // A file over its budget that the safe trims can bring under it: the onboarding notes (duplicated paragraphs)
  // with a budget between their size with and without the duplicates. The [budgets] table is last in the file.
  fs.copyFileSync(path.join(folder, ".github/instructions/onboarding.instructions.md"), path.join(folder, OVER_BUDGET));
  addLastBudget(path.join(folder, "promptwise.toml"), OVER_BUDGET, 500);
  const marker = plantHostileFiles(folder, path.join(sessionRoot, "marker"));
  log(`workspace ${folder}`);

  const contract = "legal/contract-review.prompty";
  const contractCount = countJson(contract);
  const contractCheck = checkJson(contract);
  const total = contractCount.prompt_tokens;

  // Where eval calls go is the user's decision: the fake model server's address is a user setting, never the folder's.
  const rulesFile = path.join(sessionRoot, "fake-rules.json");
  prepareLevers(folder, rulesFile);
  const fake = startProcess(python, [path.join(repo, "tests/evals/fake_server.py"), "--lifetime", "1800", "--rules", rulesFile], { cwd: repo });
  const fakeUrl = await waitFor("the fake model server's address", async () => /listening (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(fake.output)?.[1], 20_000);
  const settings = workbenchSettings();
  // Machine-scoped, so a folder cannot set it; in code-server (a remote window) such settings live in the machine's file.
  const machineSettings = { "promptwise.evals.apiBase": fakeUrl };

  const cs = await startCodeServer({
    node: process.env.PROMPTWISE_NODE24,
    entry: process.env.PROMPTWISE_CODE_SERVER,
    vsix,
    folder,
    root: sessionRoot,
    settings,
    machineSettings,
  });
  userData = cs.userData;
  log(`code-server on ${cs.url}`);
  results.push({ name: "the .vsix installs into code-server", status: "passed" });

  const browser = await launchBrowser();
  try {
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    setSession({ page, userData, shots });
    await page.goto(`${cs.url}/?folder=${encodeURIComponent(folder)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 90_000 });
    await page.locator(".explorer-folders-view, .explorer-viewlet").first().waitFor({ timeout: 60_000 });

    await step("opening a .prompty file starts the promptwise bundled in the .vsix, on a python3 without promptwise", async () => {
      await openFile(contract);
      const offers = await waitFor("'server offers' in the promptwise log", async () => serverOffers(), 120_000);
      const text = promptwiseLog();
      if (!text.includes("interpreter: python3 (the default; set promptwise.interpreter to choose another), running the promptwise bundled with the extension")) {
        throw new Error(`the log does not say the bundled promptwise runs on python3:\n${text}`);
      }
      if (!/promptwise \S+ on Python 3\.\d+\.\d+ \(.+\), bundled with the extension \(.+\/bundled\/tool\/run\.py\)/.test(text)) {
        throw new Error(`the log does not show the bundled promptwise starting:\n${text}`);
      }
      log(`server offers features [${offers.features.join(", ")}], commands [${offers.commands.join(", ")}]`);
      startedOutside(text, folder);
      if (!text.includes(`user settings: eval calls go to ${fakeUrl}`)) throw new Error(`the user's eval host did not reach the server:\n${text}`);
    });
    const offers = serverOffers() ?? { features: [], commands: [] };

    await step("inlay hints show the CLI's token counts and cost", async () => {
      const totalHint = `${tokens(total)} · ${money(contractCount.cost_per_call)}/call`;
      await waitFor(`the hint "${totalHint}"`, async () => (await editorText()).includes(totalHint), 60_000);
      for (const m of contractCheck.messages) {
        const hint = `${tokens(m.tokens)} · ${share(m.tokens / total)}`;
        await gotoLine(m.line);
        await waitFor(`the hint "${hint}" on line ${m.line}`, async () => (await editorText()).includes(hint), 20_000);
      }
      await gotoLine(1);
    });

    await step("a hover on a message shows its tokens and cost", async () => {
      const system = contractCheck.messages[0];
      // A message's hover prices it at the uncached input price (the cold call's input part).
      const inputPerToken = contractCount.estimate.cold.parts.find((p) => p.part === "input").unit_price;
      await gotoLine(system.line + 1, 3);
      await runCommand("Show or Focus Hover");
      const hover = page.locator(".monaco-hover:not(.hidden)").first();
      const wanted = [`${system.tokens.toLocaleString("en-US")} tokens`, money(system.tokens * inputPerToken)];
      await waitFor(`a hover with ${wanted.join(" and ")}`, async () => {
        const text = squash(await hover.textContent());
        return wanted.every((w) => text.includes(w)) && text;
      });
      await screenshot("hover");
    });

    await step("the over-budget diagnostic appears on the model line and in Problems", async () => {
      const finding = contractCheck.findings.find((f) => f.code === "over-budget");
      if (!finding) throw new Error("the CLI reports no over-budget finding for the example");
      await page.keyboard.press("Escape");
      await page.locator(".editor-instance .squiggly-error").first().waitFor({ timeout: 30_000 });
      await runCommand("Problems: Focus on Problems View");
      const panel = page.locator(".markers-panel");
      await waitFor(`"${finding.message}" in Problems`, async () => squash(await panel.textContent()).includes(finding.message));
      await gotoLine(finding.line, finding.column);
      await runCommand("Show or Focus Hover");
      await page.locator(".monaco-hover:not(.hidden)").first().waitFor({ timeout: 10_000 });
      await sleep(500);
      await screenshot("diagnostic-hover");
      await page.keyboard.press("Escape");
    });

    await step("the status bar shows total tokens, cost per call and budget use, in the error colour", async () => {
      const warm = contractCount.basis === "warm" ? " warm" : "";
      const expected = `${tokens(total)} · ${money(contractCount.cost_per_call)}/call${warm} · ${share(contractCheck.budget_share)} of budget`;
      await waitFor(`the status bar "${expected}"`, async () => (await statusText()).includes(expected), 30_000);
      const background = await statusItem().evaluate((el) => getComputedStyle(el).backgroundColor);
      if (!background || background === "rgba(0, 0, 0, 0)" || background === "transparent") {
        throw new Error(`no warning/error background on the status bar item (${background})`);
      }
    });

    await step("Count Tokens in Selection shows the file's and the selection's tokens", async () => {
      await clearNotifications();
      await gotoLine(1);
      await runCommand("Promptwise: Count Tokens in Selection");
      await notificationMatching(new RegExp(`^Whole file \\(as sent to the model\\): ${tokens(total)},`));
      await clearNotifications();
      await page.locator(".editor-instance .view-lines").first().click();
      await page.keyboard.press("Control+A");
      await runCommand("Promptwise: Count Tokens in Selection");
      await notificationMatching(/^Selection: [\d,]+ tokens, \$[\d.]+ on gpt-4o/);
      await clearNotifications();
      await gotoLine(1);
    });

    await step("clicking the status bar shows the token breakdown", async () => {
      await statusItem().click();
      await page.mouse.move(100, 750); // off the status bar, so its tooltip closes
      const title = `Token Breakdown: ${path.basename(contract)}`;
      await page.locator(`.tabs-container .tab[aria-label*="${title}"]`).waitFor({ timeout: 20_000 });
      await waitFor("the breakdown page with the total", async () => {
        for (const frame of page.frames()) {
          const text = await frame.evaluate(() => document.getElementById("promptwise-breakdown") && document.body.innerText).catch(() => null);
          if (text && text.includes(tokens(total))) return true;
        }
        return false;
      });
      await page.keyboard.press("Escape");
      await sleep(300);
      // The picture for the README: hints, the breakdown, the diagnostic in Problems and the status bar at once.
      await screenshot("vscode");
      await closeAllEditors();
    });

    await step("the status bar follows the active file (an under-budget file has no error colour)", async () => {
      const summarize = "support/summarize.prompty";
      const count = countJson(summarize);
      const check = checkJson(summarize);
      await openFile(summarize);
      const expected = `${tokens(count.prompt_tokens)} · ${money(count.cost_per_call)}/call · ${share(check.budget_share)} of budget`;
      await waitFor(`the status bar "${expected}"`, async () => (await statusText()).includes(expected), 30_000);
      if (check.budget_share < 0.8) {
        const background = await statusItem().evaluate((el) => getComputedStyle(el).backgroundColor);
        if (background && background !== "rgba(0, 0, 0, 0)" && background !== "transparent") {
          throw new Error(`an under-budget file has a coloured status bar item (${background})`);
        }
      }
      await closeAllEditors();
    });

    await step("settings reach the server: promptwise.inlayHints.enabled off hides the hints, on shows them", async () => {
      const totalHint = `${tokens(total)} · ${money(contractCount.cost_per_call)}/call`;
      await openFile(contract);
      await waitFor(`the hint "${totalHint}"`, async () => (await editorText()).includes(totalHint), 30_000);
      const file = path.join(folder, ".vscode", "settings.json");
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify({ "promptwise.inlayHints.enabled": false }, null, 2));
      await waitFor("the hints to go", async () => !(await editorText()).includes(totalHint), 30_000);
      fs.rmSync(file);
      await waitFor("the hints to come back", async () => (await editorText()).includes(totalHint), 30_000);
      await closeAllEditors();
    });

    await step("the duplicated-paragraph quick fix changes the file", async () => {
      if (!offers.features.includes("codeAction")) throw new Skip("the server does not advertise textDocument/codeAction yet");
      const file = ".github/instructions/onboarding.instructions.md";
      const before = fs.readFileSync(path.join(folder, file), "utf8");
      const duplicates = checkJson(file).findings.filter((f) => f.code === "duplicated-paragraph");
      const finding = duplicates[0];
      if (!finding) throw new Error("the CLI reports no duplicated paragraph in the example");
      await openFile(file);
      await gotoLine(finding.line, finding.column);
      await page.locator(".editor-instance .squiggly-warning").first().waitFor({ timeout: 30_000 });
      const fix = await quickFix(/duplicat/i);
      if (!fix.applied) throw new Skip(`no duplicated-paragraph quick fix offered (menu: ${fix.labels.join(" | ") || "empty"})`);
      log(`applied "${fix.label}"`);
      const after = await saveAndWaitForChange(file, before);
      const left = checkJson(file).findings.filter((f) => f.code === "duplicated-paragraph").length;
      if (after.length >= before.length) throw new Error("the fix did not make the file shorter");
      if (left >= duplicates.length) throw new Error(`still ${left} duplicated paragraphs after the fix (had ${duplicates.length})`);
      await closeAllEditors();
    });

    await step("the over-budget trim quick fix changes the file", async () => {
      if (!offers.features.includes("codeAction")) throw new Skip("the server does not advertise textDocument/codeAction yet");
      // OVER_BUDGET is a copy of the onboarding instructions with a budget its duplicated paragraphs break.
      const before = fs.readFileSync(path.join(folder, OVER_BUDGET), "utf8");
      const check = checkJson(OVER_BUDGET);
      const finding = check.findings.find((f) => f.code === "over-budget");
      if (!finding) throw new Error(`the CLI reports no over-budget finding for ${OVER_BUDGET}`);
      await openFile(OVER_BUDGET);
      await gotoLine(finding.line, finding.column);
      await page.locator(".editor-instance .squiggly-error").first().waitFor({ timeout: 30_000 });
      const fix = await quickFix(/^Trim to budget/i);
      if (!fix.applied) throw new Skip(`no "Trim to budget" quick fix offered for over-budget (menu: ${fix.labels.join(" | ") || "empty"})`);
      log(`applied "${fix.label}"`);
      await saveAndWaitForChange(OVER_BUDGET, before);
      const now = checkJson(OVER_BUDGET);
      if (now.prompt_tokens >= check.prompt_tokens) {
        throw new Error(`the trim did not lower the token count (${check.prompt_tokens} -> ${now.prompt_tokens})`);
      }
      log(`tokens ${check.prompt_tokens} -> ${now.prompt_tokens}; over budget now: ${now.findings.some((f) => f.code === "over-budget")}`);
      await closeAllEditors();
    });

    await step("the over-budget diagnostic offers cheaper models, and a switch rewrites the model line", async () => {
      if (!offers.features.includes("codeAction")) throw new Skip("the server does not advertise textDocument/codeAction yet");
      const before = fs.readFileSync(path.join(folder, contract), "utf8");
      const finding = contractCheck.findings.find((f) => f.code === "over-budget");
      await openFile(contract);
      await gotoLine(finding.line, finding.column);
      await page.locator(".editor-instance .squiggly-error").first().waitFor({ timeout: 30_000 });
      const fix = await quickFix(/^Switch to /i);
      if (!fix.applied) throw new Skip(`no model switch offered (menu: ${fix.labels.join(" | ") || "empty"})`);
      log(`applied "${fix.label}"`);
      await saveAndWaitForChange(contract, before);
      const wanted = /^Switch to (\S+)/.exec(fix.label)[1];
      const now = countJson(contract);
      if (now.model === contractCount.model) throw new Error(`the model is still ${now.model}`);
      if (!now.model.includes(wanted) && !wanted.includes(now.model)) throw new Error(`switched to ${now.model}, not ${wanted}`);
      if (!(now.cost_per_call < contractCount.cost_per_call)) throw new Error("the switch did not lower the cost per call");
      fs.writeFileSync(path.join(folder, contract), before);
      await closeAllEditors();
    });

    await leverSteps({ page, folder, checkJson, countJson, quickFix, saveAndWaitForChange, contract });

    await step("Run Evals, Run Eval Case and Find Cheapest Passing Model run against the local model server and show results", async () => {
      if (!offers.commands.includes("promptwise.runEvals")) throw new Skip("the server does not offer promptwise.runEvals yet");
      const prompt = "support/triage.prompty";
      await openFile(prompt);
      await clearNotifications();
      // Every progress toast is recorded as it changes (the run can take well under a second), to check that the
      // run shows one and that the server's progress ("7/12 cases") reaches it. A progress the server made itself
      // would be silent (vscode-languageclient shows it as Window progress, no toast), so it is not seen here.
      await page.evaluate(() => {
        const seen = { most: 0, texts: [] };
        window.__promptwiseProgress = seen;
        const look = () => {
          const texts = [...document.querySelectorAll(".notifications-toasts .notification-list-item-message")]
            .map((el) => el.textContent.replace(/\s+/g, " ").trim())
            .filter((t) => /^(promptwise: running|Evals:)/.test(t));
          seen.most = Math.max(seen.most, texts.length);
          for (const t of texts) if (!seen.texts.includes(t)) seen.texts.push(t);
        };
        window.__promptwiseObserver = new MutationObserver(look);
        window.__promptwiseObserver.observe(document.body, { childList: true, subtree: true, characterData: true });
      });
      await runCommand("Promptwise: Run Evals for This File");
      const message = await notificationMatching(/promptwise (Evals|evals).*\d+\/\d+ passed/, 240_000);
      log(`evals: ${message}`);
      await screenshot("evals");
      const progress = await page.evaluate(() => {
        window.__promptwiseObserver.disconnect();
        return window.__promptwiseProgress;
      });
      log(`eval progress shown: ${progress.texts.join(" | ")}`);
      if (progress.most !== 1) throw new Error(`${progress.most} progress notifications at once, not 1: ${progress.texts.join(" | ")}`);
      if (!progress.texts.some((t) => /^promptwise: running evals for triage\.prompty: .*\d+\/\d+ cases/.test(t))) {
        throw new Error(`the progress notification never showed the server's case count: ${progress.texts.join(" | ")}`);
      }
      // The destinations the server shows before the run: all the user's fake server, from the user setting.
      const destinations = progress.texts.find((t) => t.includes("calls go to"));
      if (destinations) {
        const fakeHost = new URL(fakeUrl).host;
        const hosts = [...destinations.matchAll(/-> (\S+) \[/g)].map((m) => m[1]);
        if (hosts.length === 0 || hosts.some((h) => !h.includes(fakeHost))) {
          throw new Error(`eval calls would not all go to the user's promptwise.evals.apiBase (${fakeHost}): ${destinations}`);
        }
      } else {
        log("the server did not show where the calls go before the run");
      }
      await clearNotifications();
      await runCommand("Promptwise: Open Last Eval Report");
      await page.locator(".tabs-container .tab.active").filter({ hasText: /report|results/i }).waitFor({ timeout: 20_000 });
      await waitFor("the report's text", async () => {
        for (const frame of page.frames()) {
          const text = await frame.evaluate(() => document.body?.innerText ?? "").catch(() => "");
          if (/passed/i.test(text) && /triage/i.test(text)) return true;
        }
        return (await editorText().catch(() => "")).includes("passed");
      });
      await screenshot("eval-report");
      await closeAllEditors();

      // Run Eval Case: the quick pick lists the suite's cases (promptwise.listEvalCases); run the first.
      await openFile(prompt);
      await runCommand("Promptwise: Run Eval Case", { opensAnother: true });
      await page.locator(".quick-input-widget .quick-input-title", { hasText: "Run Eval Case" }).waitFor({ timeout: 30_000 });
      const pick = page.locator(".quick-input-widget .monaco-list-row").first();
      await pick.waitFor({ timeout: 20_000 });
      await screenshot("eval-case-pick");
      const caseName = squash(await pick.locator(".label-name").first().textContent());
      await page.keyboard.press("Enter");
      const caseMessage = await notificationMatching(/^promptwise case ".+"( \([^)]*\))?: \d+\/\d+ passed/, 240_000);
      log(`case "${caseName}": ${caseMessage}`);
      await clearNotifications();

      // Find Cheapest Passing Model: tries cheaper models on the suite and says which passes as many cases.
      await runCommand("Promptwise: Find Cheapest Passing Model");
      const cheapest = await notificationMatching(/^promptwise: (cheapest passing model is|no cheaper model)/, 300_000);
      log(`cheapest: ${cheapest}`);
      await clearNotifications();
      await closeAllEditors();
    });

    await step("Restart Server starts a new server", async () => {
      const before = serverOffers()?.count ?? 0;
      await runCommand("Promptwise: Restart Server");
      await waitFor("a second 'server offers' log line", async () => (serverOffers()?.count ?? 0) > before, 60_000);
    });

    await step("promptwise.interpreter overrides the bundled copy with an interpreter that has promptwise", async () => {
      // Workspace settings: the editor watches the folder's files, so the change arrives as a user's edit would.
      const file = path.join(folder, ".vscode", "settings.json");
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const before = serverOffers()?.count ?? 0;
      fs.writeFileSync(file, JSON.stringify({ "promptwise.interpreter": [python] }, null, 2));
      await waitFor("a server started from the setting", async () => (serverOffers()?.count ?? 0) > before, 90_000);
      const text = promptwiseLog();
      const last = text.slice(text.lastIndexOf("interpreter: "));
      if (!last.startsWith(`interpreter: ${python} (from the promptwise.interpreter setting)`)) throw new Error(`the setting was not used:\n${last}`);
      if (last.includes("bundled with the extension")) throw new Error(`the bundled copy ran despite the setting:\n${last}`);
      fs.rmSync(file);
      await waitFor("the bundled server again", async () => (serverOffers()?.count ?? 0) > before + 1, 90_000);
    });

    await step("an interpreter path that does not exist gets an error naming the expanded path, with buttons", async () => {
      const file = path.join(folder, ".vscode", "settings.json");
      fs.mkdirSync(path.dirname(file), { recursive: true });
      // What a user who opened examples/ as the workspace gets from the usual advice: that folder has no .venv.
      fs.writeFileSync(file, JSON.stringify({ "promptwise.interpreter": ["${workspaceFolder}/.venv/bin/python"] }, null, 2));
      const expanded = path.join(folder, ".venv", "bin", "python");
      const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "does not exist" });
      await toast.first().waitFor({ timeout: 60_000 });
      const text = squash(await toast.first().textContent());
      for (const wanted of [`the interpreter ${expanded} does not exist`, "${workspaceFolder}/.venv/bin/python", "clear it to run the promptwise bundled", "Open Settings", "Show Output"]) {
        if (!text.includes(wanted)) throw new Error(`the error lacks "${wanted}": ${text}`);
      }
      if (text.includes("pip install")) throw new Error(`the error suggests a pip install that cannot work: ${text}`);
      await screenshot("missing-python");
      fs.rmSync(file);
      await clearNotifications();
    });

    await step("the folder's json.py, promptwise/__init__.py and sitecustomize.py never ran (trusted folder)", async () => {
      checkNothingRan(marker);
    });
  } finally {
    await browser.close().catch(() => undefined);
    // One session at a time on a small machine.
    await cs.handle.stop();
    await fake.stop();
  }
}

let fatal;
try {
  await main();
} catch (err) {
  fatal = err;
  results.push({ name: "end-to-end setup", status: "failed", detail: err.stack || String(err) });
  log(`FAILED  end-to-end setup: ${err.stack || err}`);
} finally {
  await stopAll();
  if (root && !keep) fs.rmSync(root, { recursive: true, force: true });
  else if (root) log(`kept ${root}`);
}

const best = path.join(shots, "vscode.png");
if (updateScreenshot && fs.existsSync(best)) {
  fs.mkdirSync(path.join(repo, "docs", "images"), { recursive: true });
  fs.copyFileSync(best, path.join(repo, "docs", "images", "vscode.png"));
  log("copied the screenshot to docs/images/vscode.png");
}
for (const r of results.filter((r) => r.status === "failed")) {
  console.log(`\n--- ${r.name} ---\n${r.detail}`);
}
const count = (s) => results.filter((r) => r.status === s).length;
console.log(`e2e: ${count("passed")} passed, ${count("failed")} failed, ${count("skipped")} skipped`);
process.exitCode = count("failed") > 0 || fatal ? 1 : 0;

/** Add `"glob" = tokens` as the last entry of the config's [budgets] table (later globs win), wherever the table is. */
function addLastBudget(config, glob, tokens) {
  const text = fs.readFileSync(config, "utf8");
  const start = text.indexOf("\n[budgets]");
  if (start < 0) throw new Error(`no [budgets] table in ${config}`);
  const next = text.indexOf("\n[", start + 1);
  const at = next < 0 ? text.length : next;
  fs.writeFileSync(config, `${text.slice(0, at).replace(/\n*$/, "\n")}"${glob}" = ${tokens}\n${text.slice(at)}`);
}
