// End-to-end test: the packaged extension in a real VS Code (code-server) driven by headless Chromium.
//
// Expected numbers come from the promptwise CLI run on the same files (`count --json`, `check --format json`).
// Steps that need a server feature that is not there yet report SKIPPED with the reason, never a silent pass.
//
// Usage: node e2e/run.mjs [--vsix FILE] [--keep] [--update-screenshot]
// Needs PROMPTWISE_NODE24 and PROMPTWISE_CODE_SERVER (from scripts/e2e-setup.sh) and the repo's .venv.

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { launchBrowser, startCodeServer, startProcess, stopAll, tempDir } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const extRoot = path.resolve(here, "..");
const repo = path.resolve(extRoot, "..");
const require = createRequire(import.meta.url);
const { money, share, tokens } = require(path.join(extRoot, "out/src/format.js"));

const argv = process.argv.slice(2);
const keep = argv.includes("--keep");
const updateScreenshot = argv.includes("--update-screenshot") || process.env.PROMPTWISE_UPDATE_SCREENSHOT === "1";
const version = JSON.parse(fs.readFileSync(path.join(extRoot, "package.json"), "utf8")).version;
const vsix = path.resolve(argv.includes("--vsix") ? argv[argv.indexOf("--vsix") + 1] : path.join(extRoot, `promptwise-${version}.vsix`));
const python = path.join(repo, ".venv", "bin", "python");
const promptwise = path.join(repo, ".venv", "bin", "promptwise");
const shots = path.join(here, "screenshots");
const OVER_BUDGET = ".github/instructions/over-budget.instructions.md";

const results = [];
let page;
let root;
let folder;
let userData;

function log(message) {
  console.log(`[e2e] ${message}`);
}

class Skip extends Error {}

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, status: "passed" });
    log(`PASSED  ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (err) {
    if (err instanceof Skip) {
      results.push({ name, status: "skipped", detail: err.message });
      log(`SKIPPED ${name}: ${err.message}`);
      return;
    }
    results.push({ name, status: "failed", detail: err.stack || String(err) });
    log(`FAILED  ${name}: ${err.message}`);
    await screenshot(`failed-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`).catch(() => undefined);
  }
}

async function screenshot(name) {
  if (!page) return undefined;
  fs.mkdirSync(shots, { recursive: true });
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

function cli(args) {
  return execFileSync(promptwise, args, { cwd: folder, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function checkJson(file) {
  let out;
  try {
    out = cli(["check", file, "--format", "json"]);
  } catch (err) {
    out = err.stdout; // exit 1 when the file has an error finding
  }
  const data = JSON.parse(out);
  const entry = data.files.find((f) => path.resolve(folder, f.path) === path.resolve(folder, file));
  if (!entry) throw new Error(`promptwise check gave no entry for ${file}`);
  return entry;
}

function countJson(file) {
  return JSON.parse(cli(["count", file, "--json"]));
}

const squash = (s) => (s || "").replace(/\u00a0/g, " ").replace(/\s+/g, " ");

async function waitFor(what, fn, timeoutMs = 30_000, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last instanceof Error ? ` (${last.message})` : ""}`);
}

// ---- driving the workbench ----

/** Open a quick input (F1, Ctrl+P, Ctrl+G), type, wait for the row, accept. Retries the opener if focus was elsewhere. */
async function quickInput(opener, text, rowMatch, { opensAnother = false } = {}) {
  const input = page.locator(".quick-input-widget .quick-input-box input");
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press(opener);
    try {
      await input.waitFor({ state: "visible", timeout: 5_000 });
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
      // A hover or notification can hold the keyboard: park the mouse and let Escape close it.
      await page.mouse.move(100, 750);
      await page.keyboard.press("Escape");
    }
  }
  await input.type(text, { delay: 5 });
  if (rowMatch) {
    const row = page.locator(".quick-input-widget .monaco-list-row", { hasText: rowMatch }).first();
    await row.waitFor({ state: "visible", timeout: 15_000 });
  }
  await sleep(150); // the list settles after the last keystroke
  await page.keyboard.press("Enter");
  // A command that shows a quick pick of its own reuses the widget: the caller waits for that one.
  if (!opensAnother) await input.waitFor({ state: "hidden", timeout: 10_000 });
}

async function runCommand(title, options) {
  await quickInput("F1", title, title, options);
}

async function openFile(relPath) {
  const name = path.basename(relPath);
  const tab = page.locator(`.tabs-container .tab.active[aria-label*="${name}"]`);
  for (let attempt = 1; ; attempt++) {
    await quickInput("Control+P", relPath, name);
    try {
      await tab.waitFor({ timeout: 10_000 });
      break;
    } catch (err) {
      if (attempt >= 2) throw err;
    }
  }
  await page.locator(".editor-instance .monaco-editor").first().waitFor({ timeout: 10_000 });
}

async function closeAllEditors() {
  await runCommand("View: Close All Editors");
  await waitFor("every editor to close", async () => (await page.locator(".tabs-container .tab").count()) === 0, 10_000);
}

async function gotoLine(line, column = 1) {
  await quickInput("Control+G", `${line}:${column}`);
  await sleep(300);
}

async function editorText() {
  return squash(await page.locator(".editor-instance .view-lines").first().textContent());
}

async function notificationMatching(regex, timeoutMs = 30_000) {
  return waitFor(
    `a notification matching ${regex}`,
    async () => {
      const texts = await page.locator(".notifications-toasts .notification-list-item-message").allTextContents();
      return texts.map(squash).find((t) => regex.test(t));
    },
    timeoutMs,
  );
}

async function clearNotifications() {
  await runCommand("Notifications: Clear All Notifications").catch(() => undefined);
  await sleep(200);
}

function statusItem() {
  return page.locator('.statusbar-item[id$="promptwise.tokens"]');
}

async function statusText() {
  return squash(await statusItem().getAttribute("aria-label"));
}

function promptwiseLog() {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name === "promptwise.log") found.push(p);
    }
  };
  walk(path.join(userData, "logs"));
  return found.map((f) => fs.readFileSync(f, "utf8")).join("\n");
}

function serverOffers() {
  const lines = promptwiseLog().split("\n").filter((l) => l.includes("server offers:"));
  const line = lines[lines.length - 1];
  if (!line) return undefined;
  const features = (/features: ([^;]*)/.exec(line)?.[1] ?? "").split(", ").filter(Boolean);
  const commands = (/commands: (.*)$/.exec(line)?.[1] ?? "").split(", ").filter((c) => c && c !== "none");
  return { features, commands, count: lines.length };
}

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
  const apply = page.locator(".refactor-preview .monaco-button, .refactor-preview-pane .monaco-button", { hasText: /^Apply$/ });
  if (await apply.first().isVisible().catch(() => false)) await apply.first().click();
  await sleep(300);
  await page.keyboard.press("Control+S");
  return waitFor(`${file} saved with the fix`, async () => {
    const text = fs.readFileSync(path.join(folder, file), "utf8");
    return text !== before && text;
  });
}

// ---- the test ----

async function main() {
  for (const [what, file] of [
    ["the packaged extension (run scripts/test.sh, or npm run package)", vsix],
    ["the repo's .venv (run bash scripts/setup.sh)", python],
    ["Node 24 (run scripts/e2e-setup.sh)", process.env.PROMPTWISE_NODE24 || ""],
    ["code-server (run scripts/e2e-setup.sh)", process.env.PROMPTWISE_CODE_SERVER || ""],
  ]) {
    if (!file || !fs.existsSync(file)) throw new Error(`missing ${what}: ${file || "(not set)"}`);
  }
  fs.rmSync(shots, { recursive: true, force: true });
  root = tempDir("promptwise-e2e-");
  folder = path.join(root, "examples");
  fs.cpSync(path.join(repo, "examples"), folder, { recursive: true });
  // A file over its budget that the safe trims can bring under it: the onboarding notes (duplicated paragraphs)
  // with a budget between their size with and without the duplicates. The [budgets] table is last in the file.
  fs.copyFileSync(path.join(folder, ".github/instructions/onboarding.instructions.md"), path.join(folder, OVER_BUDGET));
  fs.appendFileSync(path.join(folder, "promptwise.toml"), `\n"${OVER_BUDGET}" = 500\n`);
  log(`workspace ${folder}`);

  const contract = "legal/contract-review.prompty";
  const contractCount = countJson(contract);
  const contractCheck = checkJson(contract);
  const total = contractCount.prompt_tokens;

  const settings = {
    "promptwise.interpreter": [python],
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

  const cs = await startCodeServer({
    node: process.env.PROMPTWISE_NODE24,
    entry: process.env.PROMPTWISE_CODE_SERVER,
    vsix,
    folder,
    root,
    settings,
  });
  userData = cs.userData;
  log(`code-server on ${cs.url}`);
  results.push({ name: "the .vsix installs into code-server", status: "passed" });

  const browser = await launchBrowser();
  try {
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(`${cs.url}/?folder=${encodeURIComponent(folder)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 90_000 });
    await page.locator(".explorer-folders-view, .explorer-viewlet").first().waitFor({ timeout: 60_000 });

    await step("opening a .prompty file starts the server with promptwise.interpreter", async () => {
      await openFile(contract);
      const offers = await waitFor("'server offers' in the promptwise log", async () => serverOffers(), 90_000);
      const text = promptwiseLog();
      if (!text.includes(`interpreter: ${python} (from the promptwise.interpreter setting)`)) {
        throw new Error(`the log does not name the configured interpreter:\n${text}`);
      }
      log(`server offers features [${offers.features.join(", ")}], commands [${offers.commands.join(", ")}]`);
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
      const inputPerToken = contractCount.cost / total;
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
      const expected = `${tokens(total)} · ${money(contractCount.cost_per_call)}/call · ${share(contractCheck.budget_share)} of budget`;
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

    await step("Run Evals, Run Eval Case and Find Cheapest Passing Model run against the local model server and show results", async () => {
      if (!offers.commands.includes("promptwise.runEvals")) throw new Skip("the server does not offer promptwise.runEvals yet");
      const fake = startProcess(python, [path.join(repo, "tests/evals/fake_server.py"), "--lifetime", "600"], { cwd: repo });
      const url = await waitFor("the fake model server's address", async () => /listening (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(fake.output)?.[1], 20_000);
      const toml = path.join(folder, "promptwise.toml");
      fs.appendFileSync(toml, `\n[evals]\napi_base = "${url}"\n`);
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

    await step("a missing interpreter gives an error naming what to install, with buttons", async () => {
      // Workspace settings: the editor watches the folder's files, so the change arrives as a user's edit would.
      const file = path.join(folder, ".vscode", "settings.json");
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const missing = path.join(root, "no-such-python");
      fs.writeFileSync(file, JSON.stringify({ "promptwise.interpreter": [missing] }, null, 2));
      const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "Python was not found" });
      await toast.first().waitFor({ timeout: 60_000 });
      const text = squash(await toast.first().textContent());
      for (const wanted of ["pip install promptwise", "Open Settings", "Show Output"]) {
        if (!text.includes(wanted)) throw new Error(`the error lacks "${wanted}": ${text}`);
      }
      await screenshot("missing-python");
      fs.rmSync(file);
      await clearNotifications();
    });
  } finally {
    await browser.close().catch(() => undefined);
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
