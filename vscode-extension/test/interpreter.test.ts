import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  chooseInterpreter,
  classifyProbe,
  describeChoice,
  expandVariables,
  interpreterSetting,
  probeArgs,
  problemMessage,
  safePathFlag,
  serverArgs,
} from "../src/interpreter";

describe("choosing the interpreter", () => {
  it("uses the promptwise.interpreter setting first, over the Python extension", () => {
    const choice = chooseInterpreter({ setting: "/opt/py/bin/python", pythonExtension: ["/env/bin/python"], platform: "linux" });
    assert.deepEqual(choice, { command: "/opt/py/bin/python", args: [], source: "setting" });
  });

  it("takes an array setting as the executable followed by its own arguments", () => {
    const choice = chooseInterpreter({ setting: ["/usr/bin/env", "python3.12"], platform: "linux" });
    assert.deepEqual(choice, { command: "/usr/bin/env", args: ["python3.12"], source: "setting" });
    assert.deepEqual(serverArgs(choice, { isolated: true }), ["python3.12", "-I", "-u", "-m", "promptwise", "lsp"]);
  });

  it("expands ${workspaceFolder} and ~ in the setting", () => {
    const choice = chooseInterpreter({
      setting: ["${workspaceFolder}/.venv/bin/python"],
      platform: "linux",
      workspaceFolder: "/home/ana/proj",
      home: "/home/ana",
    });
    assert.equal(choice.command, "/home/ana/proj/.venv/bin/python");
    assert.equal(expandVariables("~/py/bin/python", { home: "/home/ana" }), "/home/ana/py/bin/python");
    assert.equal(expandVariables("~user/python", { home: "/home/ana" }), "~user/python");
  });

  it("falls back to the Python extension's active environment when the setting is empty", () => {
    for (const setting of [[], "", "   ", undefined, null, 42, [""]]) {
      const choice = chooseInterpreter({ setting, pythonExtension: ["/env/bin/python"], platform: "linux" });
      assert.deepEqual(choice, { command: "/env/bin/python", args: [], source: "python-extension" }, String(setting));
    }
  });

  it("falls back to python3 (python on Windows) without the setting or the Python extension", () => {
    assert.deepEqual(chooseInterpreter({ setting: [], platform: "linux" }), { command: "python3", args: [], source: "default" });
    assert.deepEqual(chooseInterpreter({ setting: [], pythonExtension: [], platform: "darwin" }).command, "python3");
    assert.equal(chooseInterpreter({ setting: [], platform: "win32" }).command, "python");
  });

  it("ignores non-string items in an array setting", () => {
    assert.deepEqual(interpreterSetting(["/a/python", 3, null, " -X ", ""]), ["/a/python", "-X"]);
  });

  it("says where the interpreter came from", () => {
    assert.match(describeChoice({ command: "python3", args: [], source: "default" }), /set promptwise\.interpreter/);
    assert.match(describeChoice({ command: "/e/python", args: [], source: "python-extension" }), /Python extension/);
  });
});

describe("the server's command line keeps the opened folder off sys.path", () => {
  const choice = { command: "/venv/bin/python", args: ["-X", "utf8"], source: "setting" as const };

  it("starts isolated (-I) when promptwise imported in the isolated probe", () => {
    assert.deepEqual(serverArgs(choice, { isolated: true, python: "3.10.4" }), ["-X", "utf8", "-I", "-u", "-m", "promptwise", "lsp"]);
  });

  it("uses -P instead on Python 3.11 and newer when promptwise needs PYTHONPATH or the user site", () => {
    assert.deepEqual(serverArgs(choice, { isolated: false, python: "3.11.0" }), ["-X", "utf8", "-P", "-u", "-m", "promptwise", "lsp"]);
    assert.deepEqual(serverArgs(choice, { isolated: false, python: "4.0.0" }).slice(2, 3), ["-P"]);
  });

  it("passes no -P to Python 3.10, which would refuse it", () => {
    assert.deepEqual(serverArgs(choice, { isolated: false, python: "3.10.12" }), ["-X", "utf8", "-u", "-m", "promptwise", "lsp"]);
    assert.equal(safePathFlag(undefined), false);
  });
});

describe("checking the interpreter before starting the server", () => {
  const choice = { command: "/venv/bin/python", args: [], source: "setting" as const };

  it("runs a script that imports promptwise and its server dependencies", () => {
    const args = probeArgs(choice, false);
    assert.equal(args[0], "-c");
    assert.match(args[1], /import promptwise/);
    assert.match(args[1], /import pygls, lsprotocol/);
    assert.deepEqual(probeArgs(choice, true).slice(0, 2), ["-I", "-c"]);
  });

  it("accepts an interpreter with promptwise installed", () => {
    const probe = classifyProbe({ exitCode: 0, stderr: "", stdout: '{"python": "3.11.2", "executable": "/venv/bin/python", "promptwise": "0.1.0"}\n' });
    assert.deepEqual(probe, { kind: "ok", python: "3.11.2", version: "0.1.0", executable: "/venv/bin/python" });
    assert.equal(problemMessage(probe, choice), undefined);
  });

  it("tells the user to install Python when the executable does not exist", () => {
    const probe = classifyProbe({ spawnError: "ENOENT", exitCode: null, stdout: "", stderr: "" });
    assert.equal(probe.kind, "no-python");
    const message = problemMessage(probe, { command: "python3", args: [], source: "default" })!;
    assert.match(message, /Python was not found/);
    assert.match(message, /Install Python 3\.10 or newer/);
    assert.match(message, /pip install promptwise/);
  });

  it("gives the exact pip command for the chosen interpreter when promptwise is missing", () => {
    const probe = classifyProbe({ exitCode: 0, stderr: "", stdout: '{"python": "3.12.1", "executable": "/venv/bin/python", "missing": "promptwise"}' });
    assert.equal(probe.kind, "no-package");
    const message = problemMessage(probe, choice)!;
    assert.match(message, /not installed for \/venv\/bin\/python/);
    assert.match(message, /`\/venv\/bin\/python -m pip install promptwise`/);
    assert.match(message, /bash scripts\/setup\.sh/);
  });

  it("quotes an interpreter path with spaces in the pip command", () => {
    const probe = classifyProbe({ exitCode: 0, stderr: "", stdout: '{"python": "3.12.1", "missing": "promptwise"}' });
    const message = problemMessage(probe, { command: "C:\\Program Files\\Python\\python.exe", args: [], source: "setting" })!;
    assert.match(message, /`"C:\\\\Program Files\\\\Python\\\\python.exe" -m pip install promptwise`/);
  });

  it("names a missing server dependency", () => {
    const probe = classifyProbe({ exitCode: 0, stderr: "", stdout: '{"python": "3.12.1", "promptwise": "0.1.0", "missing": "pygls"}' });
    assert.deepEqual(probe, { kind: "missing-dependency", python: "3.12.1", module: "pygls", executable: undefined });
    assert.match(problemMessage(probe, choice)!, /missing its dependency "pygls"/);
  });

  it("rejects Python older than 3.10", () => {
    const probe = classifyProbe({ exitCode: 0, stderr: "", stdout: '{"python": "3.8.10", "promptwise": "0.1.0"}' });
    assert.deepEqual(probe, { kind: "old-python", python: "3.8.10" });
    assert.match(problemMessage(probe, choice)!, /needs Python 3\.10 or newer/);
  });

  it("reports a time-out and a command that is not Python", () => {
    assert.equal(classifyProbe({ timedOut: true, exitCode: null, stdout: "", stderr: "" }).kind, "timeout");
    assert.equal(classifyProbe({ exitCode: 127, stdout: "", stderr: "env: python9: No such file" }).kind, "no-python");
    const failed = classifyProbe({ exitCode: 1, stdout: "", stderr: "SyntaxError: invalid syntax" });
    assert.deepEqual(failed, { kind: "failed", detail: "SyntaxError: invalid syntax" });
  });
});
