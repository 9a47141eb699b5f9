// Drives the code-server workbench for the end-to-end tests: steps and their results, quick inputs, editors,
// notifications, the status bar and the extension's log. Every helper acts on the page set by setSession().

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const python = path.join(repo, ".venv", "bin", "python");
const promptwise = path.join(repo, ".venv", "bin", "promptwise");

export const results = [];
let page;
let userData;
let shots;

/** The page and profile the helpers drive; set once per code-server session. */
export function setSession(session) {
  ({ page, userData, shots } = session);
}

export function log(message) {
  console.log(`[e2e] ${message}`);
}

export class Skip extends Error {}

export async function step(name, fn) {
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

export async function screenshot(name) {
  if (!page) return undefined;
  fs.mkdirSync(shots, { recursive: true });
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The promptwise CLI run in `folder`, for the numbers the editor must show. */
export function cliIn(folder) {
  const cli = (args) => execFileSync(promptwise, args, { cwd: folder, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const checkJson = (file) => {
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
  };
  const countJson = (file) => {
    try {
      return JSON.parse(cli(["count", file, "--json"]));
    } catch (err) {
      // count exits 1 when the file has an error finding (as check does); the counts are still on stdout.
      if (err.status === 1 && err.stdout) return JSON.parse(err.stdout);
      throw err;
    }
  };
  return { cli, checkJson, countJson };
}

export const squash = (s) => (s || "").replace(/\u00a0/g, " ").replace(/\s+/g, " ");

export async function waitFor(what, fn, timeoutMs = 30_000, intervalMs = 250) {
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
export async function quickInput(opener, text, rowMatch, { opensAnother = false } = {}) {
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

export async function runCommand(title, options) {
  await quickInput("F1", title, title, options);
}

export async function openFile(relPath) {
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

export async function closeAllEditors() {
  await runCommand("View: Close All Editors");
  await waitFor("every editor to close", async () => (await page.locator(".tabs-container .tab").count()) === 0, 10_000);
}

export async function gotoLine(line, column = 1) {
  await quickInput("Control+G", `${line}:${column}`);
  await sleep(300);
}

export async function editorText() {
  return squash(await page.locator(".editor-instance .view-lines").first().textContent());
}

export async function notificationMatching(regex, timeoutMs = 30_000) {
  return waitFor(
    `a notification matching ${regex}`,
    async () => {
      const texts = await page.locator(".notifications-toasts .notification-list-item-message").allTextContents();
      return texts.map(squash).find((t) => regex.test(t));
    },
    timeoutMs,
  );
}

/** Click `label` on the notification whose message matches `regex` (the server's showMessageRequest). */
export async function clickNotificationButton(regex, label, timeoutMs = 30_000) {
  const toast = await waitFor(
    `a notification matching ${regex} with a "${label}" button`,
    async () => {
      const toasts = page.locator(".notifications-toasts .notification-toast");
      for (let i = 0; i < (await toasts.count()); i++) {
        const message = squash((await toasts.nth(i).locator(".notification-list-item-message").textContent().catch(() => "")) || "");
        if (regex.test(message)) return toasts.nth(i);
      }
      return undefined;
    },
    timeoutMs,
  );
  await toast.locator(".monaco-button", { hasText: label }).first().click();
}

export async function clearNotifications() {
  await runCommand("Notifications: Clear All Notifications").catch(() => undefined);
  await sleep(200);
}

export function statusItem() {
  return page.locator('.statusbar-item[id$="promptwise.tokens"]');
}

export async function statusText() {
  return squash(await statusItem().getAttribute("aria-label"));
}

export function promptwiseLog() {
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

export function serverOffers() {
  const lines = promptwiseLog().split("\n").filter((l) => l.includes("server offers:"));
  const line = lines[lines.length - 1];
  if (!line) return undefined;
  const features = (/features: ([^;]*)/.exec(line)?.[1] ?? "").split(", ").filter(Boolean);
  const commands = (/commands: (.*)$/.exec(line)?.[1] ?? "").split(", ").filter((c) => c && c !== "none");
  return { features, commands, count: lines.length };
}
