// End-to-end checks that a folder's own code never runs: modules Python would import from its working folder, an
// interpreter its settings name, and Restricted Mode (counts work, evals are refused with the reason), then trust.

import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { launchBrowser, startCodeServer } from "./harness.mjs";
import {
  clearNotifications,
  cliIn,
  editorText,
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
  step,
  waitFor,
} from "./workbench.mjs";

const extRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { money, tokens } = createRequire(import.meta.url)(path.join(extRoot, "out/src/format.js"));
const RESTRICTED = /Evals call models and are disabled in Restricted Mode; trust this folder to run them/;

/**
 * Modules a hostile repository puts at its top so that a Python started there imports them instead of the real ones,
 * and an "interpreter" script: each appends its name to a marker file outside the folder. Returns the marker's path.
 */
export function plantHostileFiles(folder, markerDir) {
  fs.mkdirSync(markerDir, { recursive: true });
  const marker = path.join(markerDir, "PWNED");
  const payload = (who) => `open(${JSON.stringify(marker)}, "a").write(${JSON.stringify(`${who}\n`)})\n`;
  fs.mkdirSync(path.join(folder, "promptwise"), { recursive: true });
  fs.writeFileSync(path.join(folder, "promptwise", "__init__.py"), payload("promptwise/__init__.py"));
  fs.writeFileSync(path.join(folder, "json.py"), payload("json.py"));
  fs.writeFileSync(path.join(folder, "sitecustomize.py"), payload("sitecustomize.py"));
  fs.writeFileSync(path.join(folder, "evil-python"), `#!/bin/sh\necho evil-python >> '${marker}'\nexec '${python}' "$@"\n`, { mode: 0o755 });
  return marker;
}

export function checkNothingRan(marker) {
  if (fs.existsSync(marker)) throw new Error(`code from the folder ran: ${fs.readFileSync(marker, "utf8").trim().split("\n").join(", ")}`);
}

/** The server's working folder, from the extension's log line, must be outside the opened folder. */
export function startedOutside(logText, folder) {
  const lines = logText.split("\n").filter((l) => / started (isolated|without -I)/.test(l));
  const line = lines[lines.length - 1];
  const cwd = line && /started (?:isolated \(-I\)|without -I \([^)]*\)) from (.+?)(?:: nothing|; )/.exec(line)?.[1];
  if (!cwd) throw new Error(`the log does not say how the server was started:\n${logText}`);
  const rel = path.relative(folder, cwd);
  if (rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel))) throw new Error(`the server started inside the folder: ${cwd}`);
  if (!line.includes("started isolated (-I)")) throw new Error(`the server should start isolated: ${line}`);
  return cwd;
}

/** Index of the last log line matching `re`, -1 when none. */
function lastLine(text, re) {
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) if (re.test(lines[i])) return i;
  return -1;
}

export async function restrictedRun({ vsix, root, repo, settings, shots }) {
  const folder = path.join(root, "untrusted");
  fs.cpSync(path.join(repo, "examples"), folder, { recursive: true });
  const marker = plantHostileFiles(folder, path.join(root, "marker"));
  // The folder's own settings try to pick the executable, the eval host and readable folders.
  const workspaceSettings = path.join(folder, ".vscode", "settings.json");
  fs.mkdirSync(path.dirname(workspaceSettings), { recursive: true });
  fs.writeFileSync(
    workspaceSettings,
    JSON.stringify(
      {
        "promptwise.interpreter": ["${workspaceFolder}/evil-python"],
        "promptwise.evals.apiBase": "http://127.0.0.1:9/v1",
        "promptwise.allowRead": ["/"],
      },
      null,
      2,
    ),
  );
  const file = "support/triage.prompty";
  const count = cliIn(folder).countJson(file);
  const hint = `${tokens(count.prompt_tokens)} · ${money(count.cost_per_call)}/call`;
  log(`restricted workspace ${folder}`);

  const cs = await startCodeServer({
    node: process.env.PROMPTWISE_NODE24,
    entry: process.env.PROMPTWISE_CODE_SERVER,
    vsix,
    folder,
    root,
    workspaceTrust: true,
    // No trust prompt: the folder opens in Restricted Mode, as when a user answers "No, I don't trust the authors".
    settings: { ...settings, "security.workspace.trust.enabled": true, "security.workspace.trust.startupPrompt": "never" },
  });
  log(`code-server (workspace trust on) on ${cs.url}`);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    setSession({ page, userData: cs.userData, shots });
    await page.goto(`${cs.url}/?folder=${encodeURIComponent(folder)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 90_000 });
    await page.locator(".explorer-folders-view, .explorer-viewlet").first().waitFor({ timeout: 60_000 });

    await step("Restricted Mode: hints appear, from the bundled promptwise on python3 (not the folder's interpreter), started outside the folder", async () => {
      await openFile(file);
      await waitFor("'server offers' in the promptwise log", async () => serverOffers(), 90_000);
      const text = promptwiseLog();
      if (!text.includes("workspace trust: Restricted Mode")) throw new Error(`the folder did not open in Restricted Mode:\n${text}`);
      // The folder's settings name its own evil-python; without a user setting the default runs the bundled copy.
      if (!text.includes("interpreter: python3 (the default; set promptwise.interpreter to choose another), running the promptwise bundled with the extension")) {
        throw new Error(`the log does not name the default interpreter with the bundled promptwise:\n${text}`);
      }
      startedOutside(text, folder);
      // The folder's own eval host and readable folders are not what the server is told.
      if (!/user settings: eval calls go to each provider's own endpoint .*; folders readable outside the workspace: none/.test(text)) {
        throw new Error(`the folder's settings reached the server's user options:\n${text}`);
      }
      await waitFor(`the hint "${hint}"`, async () => (await editorText()).includes(hint), 60_000);
      await screenshot("restricted-hints");
    });

    await step("Restricted Mode: Run Evals, Run Eval Case, Find Cheapest Passing Model and the Run evals lens say evals are disabled and why", async () => {
      for (const title of ["Run Evals for This File", "Run Eval Case", "Find Cheapest Passing Model"]) {
        await clearNotifications();
        await runCommand(`Promptwise: ${title}`);
        const message = await notificationMatching(RESTRICTED, 20_000);
        if (title === "Run Evals for This File") {
          log(`restricted: ${message}`);
          await screenshot("restricted-evals");
        }
      }
      // The server's own "Run evals" code lens runs the server command directly, not the palette's.
      const lens = page.locator(".editor-instance .codelens-decoration a", { hasText: /^Run evals/ }).first();
      await lens.waitFor({ timeout: 30_000 });
      await clearNotifications();
      await lens.click();
      await notificationMatching(RESTRICTED, 20_000);
      await waitFor("the lens's refusal in the log", async () => promptwiseLog().includes("promptwise.runEvals was refused: the folder is in Restricted Mode"), 10_000);
      await clearNotifications();
    });

    await step("Restricted Mode: nothing in the folder ran (its modules, its interpreter setting)", async () => {
      checkNothingRan(marker);
    });

    await step("trusting the folder restarts the server trusted; still nothing in the folder runs", async () => {
      // The folder's interpreter is its authors' choice, which trusting accepts: removed first, so what is checked
      // here is that the server, started trusted, still imports nothing from the folder.
      fs.rmSync(workspaceSettings);
      await runCommand("Workspaces: Manage Workspace Trust");
      const trust = page.locator(".workspace-trust-editor .monaco-button", { hasText: /^Trust$/ }).first();
      await trust.waitFor({ timeout: 20_000 });
      await trust.click();
      await waitFor("a server started after trust was granted", async () => {
        const text = promptwiseLog();
        const trusted = lastLine(text, /workspace trust: trusted/);
        return lastLine(text, /the folder is now trusted: restarting the server/) >= 0 && trusted >= 0 && lastLine(text, /server offers:/) > trusted;
      }, 90_000);
      startedOutside(promptwiseLog(), folder);
      await runCommand("View: Close All Editors");
      await openFile(file);
      await waitFor(`the hint "${hint}" again`, async () => (await editorText()).includes(hint), 60_000);
      checkNothingRan(marker);
      const toasts = (await page.locator(".notifications-toasts .notification-list-item-message").allTextContents()).map(squash);
      if (toasts.some((t) => RESTRICTED.test(t))) throw new Error(`a restricted message is still shown: ${toasts.join(" | ")}`);
    });
  } catch (err) {
    results.push({ name: "Restricted Mode session", status: "failed", detail: err.stack || String(err) });
    log(`FAILED  Restricted Mode session: ${err.message}`);
  } finally {
    await browser.close().catch(() => undefined);
    await cs.handle.stop();
  }
}
