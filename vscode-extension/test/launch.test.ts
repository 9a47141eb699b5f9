import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { InterpreterChoice, Probe, probeArgs } from "../src/interpreter";
import { isWithin, probeInterpreter, pythonEnv, runProbe, serverLaunch, workingFolder } from "../src/launch";

const venvPython = path.resolve(__dirname, "../../../.venv/bin/python");
const noVenv = fs.existsSync(venvPython) ? false : `no ${venvPython} (run scripts/setup.sh)`;

describe("where and how Python is started", () => {
  it("adds PYTHONSAFEPATH=1 to the environment and keeps the rest", () => {
    const env = pythonEnv({ PATH: "/usr/bin", PYTHONPATH: "/lib/py" });
    assert.deepEqual(env, { PATH: "/usr/bin", PYTHONPATH: "/lib/py", PYTHONSAFEPATH: "1", PYTHONUNBUFFERED: "1" });
  });

  it("starts in the extension's folder, never in the workspace folder", () => {
    assert.equal(workingFolder(["/home/ana/.vscode/extensions/promptwise", "/tmp"], ["/home/ana/repo"], "linux"), "/home/ana/.vscode/extensions/promptwise");
  });

  it("moves on when the extension's folder is inside the workspace (the extension's own repository opened)", () => {
    assert.equal(workingFolder(["/src/promptwise/vscode-extension", "/tmp"], ["/src/promptwise"], "linux"), "/tmp");
    assert.equal(workingFolder(["/src/promptwise/vscode-extension", "/src/tmp"], ["/src"], "linux"), "/");
    assert.equal(workingFolder(["C:\\ws\\ext", "C:\\Temp"], ["c:\\WS"], "win32"), "C:\\Temp");
  });

  it("tells inside from a folder that only starts with the same letters", () => {
    assert.equal(isWithin("/home/ana/repo2", "/home/ana/repo", "linux"), false);
    assert.equal(isWithin("/home/ana/repo/.venv/bin/python", "/home/ana/repo", "linux"), true);
    assert.equal(isWithin("/home/ana/repo", "/home/ana/repo/", "linux"), true);
  });

  it("passes the working folder and environment to the server", () => {
    const choice: InterpreterChoice = { command: "/venv/bin/python", args: [], source: "setting" };
    const probe: Probe = { kind: "ok", python: "3.12.1", version: "0.1.0" };
    const launch = serverLaunch(choice, { probe, isolated: true }, "/ext", { PYTHONSAFEPATH: "1" });
    assert.deepEqual(launch, { command: "/venv/bin/python", args: ["-I", "-u", "-m", "promptwise", "lsp"], options: { cwd: "/ext", env: { PYTHONSAFEPATH: "1" } } });
  });
});

describe("probing isolated first", () => {
  const choice: InterpreterChoice = { command: "python3", args: [], source: "default" };
  const fake = (answers: Probe[]) => {
    const calls: string[][] = [];
    const run = async (_c: InterpreterChoice, args: string[]) => {
      calls.push(args);
      return answers[calls.length - 1];
    };
    return { run, calls };
  };

  it("keeps -I when promptwise imports isolated", async () => {
    const { run, calls } = fake([{ kind: "ok", python: "3.11.2", version: "0.1.0" }]);
    const launch = await probeInterpreter(choice, "/ext", {}, run);
    assert.equal(launch.isolated, true);
    assert.deepEqual(calls.map((a) => a[0]), ["-I"]);
  });

  it("probes again without -I when promptwise is only on PYTHONPATH or in the user site", async () => {
    const { run, calls } = fake([
      { kind: "no-package", python: "3.11.2" },
      { kind: "ok", python: "3.11.2", version: "0.1.0" },
    ]);
    const launch = await probeInterpreter(choice, "/ext", {}, run);
    assert.equal(launch.isolated, false);
    assert.deepEqual(calls.map((a) => a[0]), ["-I", "-c"]);
  });

  it("does not probe twice for a missing executable or a time-out", async () => {
    for (const probe of [{ kind: "no-python", detail: "ENOENT" }, { kind: "timeout" }] as Probe[]) {
      const { run, calls } = fake([probe]);
      const launch = await probeInterpreter(choice, "/ext", {}, run);
      assert.deepEqual(launch, { probe, isolated: false });
      assert.equal(calls.length, 1);
    }
  });
});

// A folder as a hostile repository would have it: modules Python would import from its working folder.
describe("a folder's json.py and promptwise/ never run (real Python)", { skip: noVenv }, () => {
  let root: string;
  let hostile: string;
  let marker: string;
  const choice: InterpreterChoice = { command: venvPython, args: [], source: "setting" };

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "promptwise-launch-"));
    hostile = path.join(root, "repo");
    marker = path.join(root, "marker", "PWNED");
    fs.mkdirSync(path.join(hostile, "promptwise"), { recursive: true });
    fs.mkdirSync(path.dirname(marker));
    const payload = (who: string) => `import os\nopen(${JSON.stringify(marker)}, "a").write(${JSON.stringify(who + "\n")})\n`;
    fs.writeFileSync(path.join(hostile, "json.py"), payload("json.py"));
    fs.writeFileSync(path.join(hostile, "promptwise", "__init__.py"), payload("promptwise/__init__.py"));
    fs.writeFileSync(path.join(hostile, "pygls.py"), payload("pygls.py"));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("the fixture does run when Python starts in the folder without the safeguards", () => {
    const env = { ...process.env };
    delete env.PYTHONSAFEPATH;
    try {
      execFileSync(venvPython, ["-c", "import json"], { cwd: hostile, env, stdio: "ignore" });
    } catch {
      /* the payload breaks json; only the marker matters */
    }
    assert.equal(fs.existsSync(marker), true, "json.py in the working folder was expected to run");
    fs.rmSync(marker);
  });

  it("the probe, even started inside the folder, imports the real promptwise and runs nothing from it", async () => {
    const env = pythonEnv(process.env);
    const launch = await probeInterpreter(choice, hostile, env);
    assert.equal(launch.probe.kind, "ok", JSON.stringify(launch.probe));
    assert.equal(launch.isolated, true);
    // The fallback mode (no -I) is safe on this Python through PYTHONSAFEPATH alone.
    assert.equal((await runProbe(choice, probeArgs(choice, false), hostile, env)).kind, "ok");
    assert.equal(fs.existsSync(marker), false, fs.existsSync(marker) ? fs.readFileSync(marker, "utf8") : "");
  });

  for (const isolated of [true, false]) {
    it(`the server ${isolated ? "with -I" : "with -P"} answers initialize, even started inside the folder, and runs nothing from it`, async () => {
      const probe: Probe = { kind: "ok", python: "3.11.0", version: "?" };
      const env = { ...pythonEnv(process.env) };
      delete env.PYTHONSAFEPATH; // the flags alone must be enough
      const launch = serverLaunch(choice, { probe, isolated }, hostile, env);
      const result = await initialize(launch.command, launch.args, launch.options);
      assert.ok(result && typeof result === "object" && "capabilities" in result, JSON.stringify(result));
      assert.equal(fs.existsSync(marker), false, fs.existsSync(marker) ? fs.readFileSync(marker, "utf8") : "");
    });
  }
});

/** Starts a language server, sends initialize, and returns its result after shutting it down. */
function initialize(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["pipe", "pipe", "pipe"] });
    let buffer = Buffer.alloc(0);
    let stderr = "";
    const guard = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no initialize answer within 60 s:\n${stderr}`));
    }, 60_000);
    const send = (message: object) => {
      const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", ...message }), "utf8");
      child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
      child.stdin.write(body);
    };
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.stdout.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, end).toString("ascii"))?.[1]);
        if (buffer.length < end + 4 + length) return;
        const message = JSON.parse(buffer.subarray(end + 4, end + 4 + length).toString("utf8"));
        buffer = buffer.subarray(end + 4 + length);
        if (message.id === 1) {
          send({ id: 2, method: "shutdown" });
          send({ method: "exit" });
          child.on("exit", () => {
            clearTimeout(guard);
            resolve(message.result ?? message.error);
          });
        }
      }
    });
    send({ id: 1, method: "initialize", params: { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { trusted: false } } });
  });
}
