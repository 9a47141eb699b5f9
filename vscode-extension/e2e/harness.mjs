// Start code-server with the packaged extension in a throw-away profile, drive it with Chromium, stop it all.
//
// Everything listens on 127.0.0.1 only; every process started here is stopped by its own process group.

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.PROMPTWISE_CHROMIUM || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const started = [];

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawn in a new process group so stop() can end it with everything it started. stdin is a pipe kept open
 * until stop(): some servers (tests/evals/fake_server.py) exit when their stdin closes.
 */
export function startProcess(command, args, options = {}) {
  const child = spawn(command, args, { ...options, detached: true, stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.on("error", () => undefined);
  const log = options.logFile ? fs.createWriteStream(options.logFile) : null;
  let output = "";
  const collect = (chunk) => {
    const text = chunk.toString();
    output += text;
    if (output.length > 200_000) output = output.slice(-100_000);
    log?.write(text);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const handle = {
    child,
    get output() {
      return output;
    },
    exited: new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal }))),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin.end();
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        return;
      }
      const done = await Promise.race([handle.exited.then(() => true), sleep(5000).then(() => false)]);
      if (!done) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          /* already gone */
        }
        await Promise.race([handle.exited, sleep(2000)]);
      }
      log?.end();
    },
  };
  started.push(handle);
  return handle;
}

export async function stopAll() {
  await Promise.all(started.splice(0).map((h) => h.stop()));
}

export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

async function waitForHttp(url, timeoutMs, handle) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (handle.child.exitCode !== null) throw new Error(`code-server exited early:\n${handle.output.slice(-3000)}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await sleep(250);
  }
  throw new Error(`code-server did not answer ${url} within ${timeoutMs / 1000} s:\n${handle.output.slice(-3000)}`);
}

/**
 * The environment code-server (and so the extension's Python) gets: the test's own, less every PATH entry with a
 * promptwise command or a virtual environment in it (the repository's .venv), and less PYTHONPATH, PYTHONHOME and
 * VIRTUAL_ENV. So the interpreter the extension finds has no promptwise: it must run the copy bundled in the .vsix.
 */
export function withoutPromptwise(base) {
  const env = { ...base };
  for (const key of ["PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX"]) delete env[key];
  env.PATH = (base.PATH || "")
    .split(path.delimiter)
    .filter((dir) => dir && !fs.existsSync(path.join(dir, "promptwise")) && !fs.existsSync(path.join(dir, "activate")) && !fs.existsSync(path.join(dir, "..", "pyvenv.cfg")))
    .join(path.delimiter);
  return env;
}

/** Throws unless `python3` in `env` runs and cannot import promptwise. */
export async function checkNoPromptwise(env) {
  const found = await run("python3", ["-c", "import sys; print(sys.executable); import promptwise; print(promptwise.__file__)"], { env, cwd: os.tmpdir() }).catch((err) => ({ code: -1, stdout: "", stderr: String(err) }));
  if (found.code === 0) throw new Error(`python3 on code-server's PATH imports promptwise (${found.stdout.trim().split("\n").join(": ")}): the bundled copy would not be what runs`);
  if (!/No module named .?promptwise/.test(found.stderr)) throw new Error(`python3 on code-server's PATH does not run: ${found.stderr.trim() || `exit ${found.code}`}`);
  return found.stdout.trim();
}

/**
 * A fresh code-server: its own user-data, extensions and config dirs under `root`, the .vsix installed,
 * the given user settings (and machine settings), listening on a free loopback port. Workspace trust is off (every folder trusted)
 * unless `workspaceTrust` is true.
 */
export async function startCodeServer({ node, entry, vsix, folder, root, settings, machineSettings, env = {}, workspaceTrust = false }) {
  const userData = path.join(root, "user-data");
  const extensions = path.join(root, "extensions");
  const xdg = path.join(root, "xdg");
  fs.mkdirSync(path.join(userData, "User"), { recursive: true });
  fs.mkdirSync(extensions, { recursive: true });
  fs.mkdirSync(xdg, { recursive: true });
  fs.writeFileSync(path.join(userData, "User", "settings.json"), JSON.stringify(settings, null, 2));
  if (machineSettings) {
    // code-server's remote (machine) settings: where machine-scoped settings are read in its windows.
    fs.mkdirSync(path.join(userData, "Machine"), { recursive: true });
    fs.writeFileSync(path.join(userData, "Machine", "settings.json"), JSON.stringify(machineSettings, null, 2));
  }
  const baseEnv = {
    ...withoutPromptwise(process.env),
    XDG_CONFIG_HOME: path.join(xdg, "config"),
    XDG_DATA_HOME: path.join(xdg, "data"),
    XDG_CACHE_HOME: path.join(xdg, "cache"),
    ...env,
  };
  delete baseEnv.VSCODE_IPC_HOOK_CLI;
  const common = ["--user-data-dir", userData, "--extensions-dir", extensions];
  const install = await run(node, [entry, ...common, "--install-extension", vsix], { env: baseEnv });
  if (install.code !== 0 || !/successfully installed/i.test(install.stdout + install.stderr)) {
    throw new Error(`installing ${vsix} failed (exit ${install.code}):\n${install.stdout}\n${install.stderr}`);
  }
  const port = await freePort();
  const handle = startProcess(
    node,
    [
      entry,
      "--auth",
      "none",
      "--bind-addr",
      `127.0.0.1:${port}`,
      "--disable-telemetry",
      "--disable-update-check",
      ...(workspaceTrust ? [] : ["--disable-workspace-trust"]),
      "--disable-getting-started-override",
      ...common,
      folder,
    ],
    { env: baseEnv, logFile: path.join(root, "code-server.log") },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, 60_000, handle);
  return { handle, url, port, userData, extensions, installOutput: install.stdout.trim() };
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
