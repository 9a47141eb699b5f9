import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  chooseInterpreter,
  classifyProbe,
  describeChoice,
  expandVariables,
  interpreterSetting,
  missingInterpreterMessage,
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
    assert.equal(choice.written, "${workspaceFolder}/.venv/bin/python");
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

describe("the bundled promptwise", () => {
  const bundled = "/ext/bundled/tool/run.py";

  it("runs when no interpreter is configured, on the Python extension's environment or python3", () => {
    assert.deepEqual(chooseInterpreter({ setting: [], platform: "linux", bundled }), { command: "python3", args: [], source: "default", bundled });
    assert.deepEqual(chooseInterpreter({ setting: [], pythonExtension: ["/env/bin/python"], platform: "linux", bundled }), {
      command: "/env/bin/python",
      args: [],
      source: "python-extension",
      bundled,
    });
    assert.match(describeChoice(chooseInterpreter({ setting: [], platform: "linux", bundled })), /running the promptwise bundled with the extension/);
  });

  it("is not used when promptwise.interpreter is set (an interpreter that has promptwise)", () => {
    const choice = chooseInterpreter({ setting: "/venv/bin/python", platform: "linux", bundled });
    assert.equal(choice.bundled, undefined);
    assert.deepEqual(serverArgs(choice, { isolated: true }), ["-I", "-u", "-m", "promptwise", "lsp"]);
  });

  it("starts run.py isolated, for the server and for the probe", () => {
    const choice = chooseInterpreter({ setting: [], pythonExtension: ["/usr/bin/env", "python3"], platform: "linux", bundled });
    assert.deepEqual(serverArgs(choice, { isolated: true, python: "3.10.1" }), ["python3", "-I", "-u", bundled, "lsp"]);
    assert.deepEqual(probeArgs(choice, false), ["python3", "-I", bundled, "--probe"]);
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

  it("tells the user to put Python 3.11+ on PATH or set the interpreter when python3 does not exist", () => {
    const probe = classifyProbe({ spawnError: "ENOENT", exitCode: null, stdout: "", stderr: "" });
    assert.equal(probe.kind, "no-python");
    const message = problemMessage(probe, { command: "python3", args: [], source: "default", bundled: "/ext/bundled/tool/run.py" })!;
    assert.match(message, /Python was not found \(python3: ENOENT\)/);
    assert.match(message, /needs Python 3\.11 or newer: install it so that `python3` is on PATH, or set promptwise\.interpreter/);
    assert.doesNotMatch(message, /pip install/);
  });

  it("never suggests `pip install promptwise`, which no registry has", () => {
    const kinds = [
      { spawnError: "ENOENT", exitCode: null, stdout: "", stderr: "" },
      { exitCode: 0, stderr: "", stdout: '{"python": "3.12.1", "missing": "promptwise"}' },
      { exitCode: 0, stderr: "", stdout: '{"python": "3.12.1", "promptwise": "0.1.0", "missing": "pygls"}' },
      { exitCode: 0, stderr: "", stdout: '{"python": "3.8.1"}' },
    ];
    for (const outcome of kinds) {
      for (const c of [choice, { command: "python3", args: [], source: "default" as const }]) {
        for (const bundled of [true, false]) {
          const message = problemMessage(classifyProbe(outcome), c, bundled)!;
          assert.doesNotMatch(message, /pip install/, message);
        }
      }
    }
  });

  it("offers the bundled copy when the configured interpreter lacks promptwise", () => {
    const probe = classifyProbe({ exitCode: 0, stderr: "", stdout: '{"python": "3.12.1", "executable": "/venv/bin/python", "missing": "promptwise"}' });
    assert.equal(probe.kind, "no-package");
    const message = problemMessage(probe, choice, true)!;
    assert.match(message, /not installed for \/venv\/bin\/python \(Python 3\.12\.1\)/);
    assert.match(message, /clear promptwise\.interpreter to run the promptwise bundled with the extension/);
  });

  it("points a build without the bundled copy at a clone's .venv", () => {
    const probe = classifyProbe({ exitCode: 0, stderr: "", stdout: '{"python": "3.12.1", "missing": "promptwise"}' });
    const message = problemMessage(probe, choice, false)!;
    assert.match(message, /bash scripts\/setup\.sh/);
    assert.doesNotMatch(message, /bundled/);
  });

  it("names a configured interpreter that does not exist, as expanded and as written", () => {
    const picked = chooseInterpreter({ setting: "${workspaceFolder}/.venv/bin/python", platform: "linux", workspaceFolder: "/home/ana/examples" });
    const message = missingInterpreterMessage(picked, () => false, "linux", true)!;
    assert.match(message, /the interpreter \/home\/ana\/examples\/\.venv\/bin\/python does not exist \(promptwise\.interpreter is "\$\{workspaceFolder\}\/\.venv\/bin\/python"\)/);
    assert.match(message, /clear it to run the promptwise bundled with the extension/);
    assert.equal(missingInterpreterMessage(picked, () => true, "linux", true), undefined);
    // A bare name is looked up on PATH by the probe; the default and the Python extension's pick are not the user's path.
    assert.equal(missingInterpreterMessage(chooseInterpreter({ setting: "python3.12", platform: "linux" }), () => false, "linux", true), undefined);
    assert.equal(missingInterpreterMessage(chooseInterpreter({ setting: [], pythonExtension: ["/gone/python"], platform: "linux" }), () => false, "linux", true), undefined);
  });

  it("says when ${workspaceFolder} has no value because no folder is open", () => {
    const picked = chooseInterpreter({ setting: "${workspaceFolder}/.venv/bin/python", platform: "linux" });
    const message = missingInterpreterMessage(picked, () => false, "linux", false)!;
    assert.match(message, /No folder is open, so \$\{workspaceFolder\} has no value/);
    assert.doesNotMatch(message, /bundled/);
  });

  it("names a missing server dependency", () => {
    const probe = classifyProbe({ exitCode: 0, stderr: "", stdout: '{"python": "3.12.1", "promptwise": "0.1.0", "missing": "pygls"}' });
    assert.deepEqual(probe, { kind: "missing-dependency", python: "3.12.1", module: "pygls", executable: undefined });
    assert.match(problemMessage(probe, choice)!, /missing its dependency "pygls"/);
    assert.match(problemMessage(probe, { ...choice, source: "default", bundled: "/ext/run.py" })!, /bundled with the extension could not import "pygls".*Reinstall the extension/);
  });

  it("says which Pythons the bundled copy was built for when this one is not among them", () => {
    const probe = classifyProbe({ exitCode: 0, stderr: "", stdout: '{"python": "3.15.0", "bundled": ["3.10", "3.11"], "no_bundle": true}' });
    assert.deepEqual(probe, { kind: "no-bundle", python: "3.15.0", bundled: ["3.10", "3.11"] });
    const message = problemMessage(probe, { command: "python3", args: [], source: "default", bundled: "/ext/run.py" })!;
    assert.match(message, /no build for Python 3\.15\.0 \(python3\); it has 3\.10, 3\.11/);
  });

  it("rejects Python older than 3.11, even with a bundled copy", () => {
    const old = classifyProbe({ exitCode: 0, stderr: "", stdout: '{"python": "3.10.12", "bundled": ["3.10"]}' });
    assert.deepEqual(old, { kind: "old-python", python: "3.10.12" });
  });

  it("rejects a Python 2 that does not know -I", () => {
    const probe = classifyProbe({ exitCode: 2, stdout: "", stderr: "Unknown option: -I\nusage: python [option] ...\nTry `python -h' for more information.\n" });
    assert.deepEqual(probe, { kind: "old-python", python: "older than 3.4" });
    assert.match(problemMessage(probe, { command: "python3", args: [], source: "default", bundled: "/ext/run.py" })!, /is Python older than 3\.4; promptwise needs Python 3\.11 or newer/);
  });

  it("rejects Python older than 3.11", () => {
    const probe = classifyProbe({ exitCode: 0, stderr: "", stdout: '{"python": "3.8.10", "promptwise": "0.1.0"}' });
    assert.deepEqual(probe, { kind: "old-python", python: "3.8.10" });
    assert.match(problemMessage(probe, choice)!, /needs Python 3\.11 or newer/);
  });

  it("reports a time-out and a command that is not Python", () => {
    assert.equal(classifyProbe({ timedOut: true, exitCode: null, stdout: "", stderr: "" }).kind, "timeout");
    assert.equal(classifyProbe({ exitCode: 127, stdout: "", stderr: "env: python9: No such file" }).kind, "no-python");
    const failed = classifyProbe({ exitCode: 1, stdout: "", stderr: "SyntaxError: invalid syntax" });
    assert.deepEqual(failed, { kind: "failed", detail: "SyntaxError: invalid syntax" });
  });
});
