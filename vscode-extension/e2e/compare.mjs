// End-to-end: cost in review in the editor, on a folder that is a git repository with changes.
//
// The examples are committed on main; a branch changes triage.prompty and the working tree edits summarize.prompty
// and AGENTS.md. Checked: the model line's hover shows the change against HEAD with the CLI's token delta
// (`promptwise diff HEAD --format json`), and "Compare Prompt Costs with Branch..." against main shows the
// Markdown table in a Markdown preview. The preview is the picture of a PR comment for the README (diff-comment.png).

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { launchBrowser, startCodeServer } from "./harness.mjs";
import { closeAllEditors, gotoLine, log, openFile, results, runCommand, screenshot, serverOffers, setSession, squash, step, waitFor } from "./workbench.mjs";

const SUMMARIZE = "support/summarize.prompty";
const TRIAGE = "support/triage.prompty";

function git(folder, ...args) {
  return execFileSync("git", ["-c", "user.name=promptwise e2e", "-c", "user.email=e2e@promptwise.invalid", "-c", "commit.gpgsign=false", ...args], {
    cwd: folder,
    encoding: "utf8",
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
  });
}

/** Insert `text` after the first line equal to `marker` in the folder's file. */
function insertAfter(folder, file, marker, text) {
  const full = path.join(folder, file);
  const lines = fs.readFileSync(full, "utf8").split("\n");
  const at = lines.indexOf(marker);
  if (at < 0) throw new Error(`no line "${marker}" in ${file}`);
  lines.splice(at + 1, 0, text);
  fs.writeFileSync(full, lines.join("\n"));
}

/** A repository of the examples: main, a feature branch with a commit, and working-tree edits. */
export function reviewRepository(repo, folder) {
  fs.cpSync(path.join(repo, "examples"), folder, { recursive: true });
  git(folder, "init", "-q", "-b", "main");
  git(folder, "add", "-A");
  git(folder, "commit", "-q", "-m", "examples");
  git(folder, "checkout", "-q", "-b", "feature/escalations");
  insertAfter(
    folder,
    TRIAGE,
    "system:",
    "Before you classify, read the customer's last three tickets and say whether this one repeats an earlier problem.\n",
  );
  git(folder, "commit", "-q", "-am", "triage: look at earlier tickets");
  insertAfter(
    folder,
    SUMMARIZE,
    "system:",
    "Quote the customer's own words for the problem, list every promise the agent made with its deadline, and name the product model and order number exactly as said on the call.\n",
  );
  fs.appendFileSync(
    path.join(folder, "AGENTS.md"),
    [
      "",
      "## Reviews",
      "",
      "When you review a pull request, read every changed file in full, run the tests, and explain each finding with the line it is on.",
      "Never approve a change that lowers test coverage or removes a check. Ask for a test when a bug fix comes without one, and for a",
      "migration note when a change renames a setting, a command or a public function. Point out dead code, duplicated logic and",
      "comments that no longer match the code. Keep each comment to one finding, say how to fix it, and mark the ones that block",
      "the merge. Summarize at the end: what the change does, what it risks, and what you checked.",
      "",
    ].join("\n"),
  );
}

/** Quick Open, tried a few times: on a busy machine its file search can take longer than one attempt waits. */
async function open(file) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openFile(file);
    } catch (err) {
      if (attempt >= 4) throw err;
      log(`Quick Open did not find ${file} yet (attempt ${attempt})`);
      await runCommand("View: Close All Editors").catch(() => undefined);
      await sleep(3000);
    }
  }
}

export async function compareRun({ vsix, root, repo, settings, shots, python, imageTo }) {
  const folder = path.join(root, "examples");
  fs.mkdirSync(root, { recursive: true });
  reviewRepository(repo, folder);
  const promptwise = path.join(path.dirname(python), "promptwise");
  const diff = JSON.parse(execFileSync(promptwise, ["diff", "HEAD", "--format", "json"], { cwd: folder, encoding: "utf8" }));
  const summarize = diff.files.find((f) => f.path === SUMMARIZE);
  if (!summarize) throw new Error(`promptwise diff HEAD does not list ${SUMMARIZE}`);
  const added = summarize.head.tokens - summarize.base.tokens;
  log(`review workspace ${folder}: ${SUMMARIZE} +${added} tokens against HEAD`);

  // The repository's .venv runs the server: this session checks the server's review features as the working tree has
  // them (the trusted session checks the copy bundled in the .vsix).
  const cs = await startCodeServer({
    node: process.env.PROMPTWISE_NODE24,
    entry: process.env.PROMPTWISE_CODE_SERVER,
    vsix,
    folder,
    root,
    settings: { ...settings, "promptwise.interpreter": [python] },
  });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    setSession({ page, userData: cs.userData, shots });
    await page.goto(`${cs.url}/?folder=${encodeURIComponent(folder)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 90_000 });
    await page.locator(".explorer-folders-view, .explorer-viewlet").first().waitFor({ timeout: 60_000 });

    await step("the model line's hover shows the change against HEAD", async () => {
      await open(SUMMARIZE);
      const offers = await waitFor("'server offers' in the promptwise log", async () => serverOffers(), 90_000);
      if (!offers.commands.includes("promptwise.compareCosts")) throw new Error(`the server does not offer promptwise.compareCosts: ${offers.commands.join(", ")}`);
      const wanted = `vs HEAD: +${added.toLocaleString("en-US")} tokens/call`;
      const hover = page.locator(".monaco-hover:not(.hidden)").first();
      const line = fs.readFileSync(path.join(folder, SUMMARIZE), "utf8").split("\n").findIndex((l) => l.includes("azure_deployment:")) + 1;
      // HEAD's side is made in the background after the file opens: the hover shows the line once it is there.
      await waitFor(`a hover with "${wanted}"`, async () => {
        await page.keyboard.press("Escape");
        await gotoLine(line, 26);
        await runCommand("Show or Focus Hover");
        await hover.waitFor({ timeout: 10_000 }).catch(() => undefined);
        await sleep(300);
        const text = squash(await hover.textContent().catch(() => ""));
        return text.includes(wanted) && text;
      }, 90_000, 1000);
      await screenshot("vs-head-hover");
      await page.keyboard.press("Escape");
      await closeAllEditors();
    });

    await step("Compare Prompt Costs with Branch... against main shows the table in a Markdown preview", async () => {
      await open("AGENTS.md");
      await runCommand("Promptwise: Compare Prompt Costs with Branch...", { opensAnother: true });
      await page.locator(".quick-input-widget .quick-input-title", { hasText: "Compare Prompt Costs with Branch" }).waitFor({ timeout: 30_000 });
      const rows = page.locator(".quick-input-widget .monaco-list-row");
      await rows.first().waitFor({ timeout: 20_000 });
      const labels = (await rows.allTextContents()).map(squash);
      if (!/^HEAD/.test(labels[0] ?? "")) throw new Error(`HEAD is not first in the pick: ${labels.join(" | ")}`);
      log(`branches offered: ${labels.join(" | ")}`);
      // Typing filters the pick as a user would: only main is left, then Enter picks it.
      await page.locator(".quick-input-widget .quick-input-box input").type("main", { delay: 5 });
      await waitFor("main alone in the pick", async () => {
        const left = (await rows.allTextContents()).map(squash);
        return left.length === 1 && left[0].trim().startsWith("main");
      }, 10_000);
      await page.keyboard.press("Enter");
      await page.locator(".tabs-container .tab", { hasText: "Prompt Costs vs main" }).first().waitFor({ timeout: 120_000 });
      const table = await waitFor("the comparison's table in the preview", async () => {
        for (const frame of page.frames()) {
          const found = await frame
            .evaluate(() => {
              const t = document.querySelector(".markdown-body table, table");
              if (!t) return null;
              // How far the comment reaches, for a picture of it without the empty editor around it.
              const last = document.querySelector("details") ?? t;
              return { table: t.innerText, body: document.body.innerText, right: t.getBoundingClientRect().right, bottom: last.getBoundingClientRect().bottom };
            })
            .catch(() => null);
          if (found) return { ...found, frame };
        }
        return false;
      }, 60_000);
      for (const file of [SUMMARIZE, TRIAGE, "AGENTS.md"]) {
        if (!table.table.includes(file)) throw new Error(`the table does not list ${file}:\n${table.table}`);
      }
      if (!/promptwise: \+[\d,]+ tokens\/call/.test(table.body)) throw new Error(`no summary line in the preview:\n${table.body.slice(0, 500)}`);
      await page.mouse.move(1500, 950);
      await sleep(500);
      const file = await screenshot("diff-comment");
      if (imageTo && file) {
        const part = await page.locator(".part.editor").first().boundingBox();
        const inner = await (await table.frame.frameElement()).boundingBox();
        const clip = {
          x: part.x,
          y: part.y,
          width: Math.min(part.width, inner.x - part.x + table.right + 48),
          height: Math.min(part.height, inner.y - part.y + table.bottom + 32),
        };
        await page.screenshot({ path: imageTo, clip });
        log(`saved the rendered comment to ${imageTo} (${Math.round(clip.width)}x${Math.round(clip.height)}; content to ${Math.round(table.right)}x${Math.round(table.bottom)} from ${Math.round(inner.x)},${Math.round(inner.y)})`);
      }
    });
  } catch (err) {
    results.push({ name: "cost in review session", status: "failed", detail: err.stack || String(err) });
    log(`FAILED  cost in review session: ${err.message}`);
  } finally {
    await browser.close().catch(() => undefined);
    await cs.handle.stop();
  }
}
