import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { InterpreterChoice, Probe, chooseInterpreter, serverArgs } from "../src/interpreter";
import { bundledServer, probeInterpreter, pythonEnv, runProbe } from "../src/launch";

const RUN_PY = path.resolve(__dirname, "../../bundled/tool/run.py");

function python3Version(): string | undefined {
  try {
    return execFileSync("python3", ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}
const pyVersion = python3Version();

describe("finding the bundled promptwise", () => {
  it("is run.py when the extension carries bundled/libs with promptwise in it", () => {
    const present = new Set(["/ext/bundled/tool/run.py", "/ext/bundled/libs/common/promptwise"]);
    assert.equal(bundledServer("/ext", (f) => present.has(f)), "/ext/bundled/tool/run.py");
    // A .vsix packaged without the libs (plain `vsce package`) has run.py alone: no bundled copy.
    assert.equal(bundledServer("/ext", (f) => f === "/ext/bundled/tool/run.py"), undefined);
  });

  it("is probed once, isolated, whatever the answer (it is never found through PYTHONPATH)", async () => {
    const choice: InterpreterChoice = { command: "python3", args: [], source: "default", bundled: "/ext/bundled/tool/run.py" };
    for (const answer of [{ kind: "no-package", python: "3.12.0" }, { kind: "ok", python: "3.12.0", version: "0.1.0" }] as Probe[]) {
      const calls: string[][] = [];
      const launch = await probeInterpreter(choice, "/ext", {}, async (_c, args) => {
        calls.push(args);
        return answer;
      });
      assert.deepEqual(calls, [["-I", "/ext/bundled/tool/run.py", "--probe"]]);
      assert.deepEqual(launch, { probe: answer, isolated: true });
    }
  });
});

// run.py itself, on the machine's python3, with stand-in libraries: what it puts on sys.path and what it reports.
describe("bundled/tool/run.py (real python3)", { skip: pyVersion ? false : "no python3 on PATH" }, () => {
  let root: string;
  let ext: string;
  let folder: string;
  let marker: string;
  let abiDir: string;

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "promptwise-bundled-"));
    ext = path.join(root, "ext");
    fs.mkdirSync(path.join(ext, "bundled", "tool"), { recursive: true });
    fs.copyFileSync(RUN_PY, path.join(ext, "bundled", "tool", "run.py"));
    const common = path.join(ext, "bundled", "libs", "common");
    abiDir = path.join(ext, "bundled", "libs", `cp${pyVersion!.replace(".", "")}`);
    fs.mkdirSync(path.join(common, "promptwise", "cli"), { recursive: true });
    fs.mkdirSync(abiDir, { recursive: true });
    fs.writeFileSync(path.join(common, "promptwise", "__init__.py"), '__version__ = "9.9.9"\n');
    fs.writeFileSync(path.join(common, "promptwise", "cli", "__init__.py"), "");
    fs.writeFileSync(
      path.join(common, "promptwise", "cli", "main.py"),
      "import sys\ndef main():\n    print('bundled main ' + ' '.join(sys.argv[1:]) + ' ' + str(sys.path.index(" + JSON.stringify(abiDir) + ")))\n    return 0\n",
    );
    for (const mod of ["regex", "yaml"]) fs.writeFileSync(path.join(common, `${mod}.py`), "");
    fs.writeFileSync(path.join(abiDir, "pydantic_core.py"), "");
    // The working folder holds a promptwise/ of its own: -I keeps it off sys.path.
    folder = path.join(root, "repo");
    marker = path.join(root, "PWNED");
    fs.mkdirSync(path.join(folder, "promptwise"), { recursive: true });
    fs.writeFileSync(path.join(folder, "promptwise", "__init__.py"), `open(${JSON.stringify(marker)}, "a").write("ran")\n`);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const choice = () => chooseInterpreter({ setting: [], platform: "linux", bundled: path.join(ext, "bundled", "tool", "run.py") });

  it("reports the bundled promptwise, imported from the extension, never from the working folder", async () => {
    const probe = await runProbe(choice(), ["-I", choice().bundled!, "--probe"], folder, pythonEnv(process.env));
    assert.equal(probe.kind, "ok", JSON.stringify(probe));
    assert.equal((probe as { version: string }).version, "9.9.9");
    assert.equal(fs.existsSync(marker), false);
  });

  it("runs promptwise's main with the arguments, this Python's libs first on sys.path", () => {
    const args = serverArgs(choice(), { isolated: true });
    const out = execFileSync("python3", args.filter((a) => a !== "-u"), { cwd: folder, encoding: "utf8", env: { ...process.env, PYTHONPATH: folder } });
    assert.equal(out.trim(), "bundled main lsp 0");
    assert.equal(fs.existsSync(marker), false);
  });

  it("says which Pythons it has when there is no build for this one", async () => {
    const other = path.join(ext, "bundled", "libs", "cp310");
    fs.renameSync(abiDir, other === abiDir ? path.join(ext, "bundled", "libs", "cp399") : other);
    try {
      const probe = await runProbe(choice(), ["-I", choice().bundled!, "--probe"], folder, pythonEnv(process.env));
      assert.equal(probe.kind, "no-bundle", JSON.stringify(probe));
      assert.deepEqual((probe as { bundled: string[] }).bundled, other === abiDir ? ["3.99"] : ["3.10"]);
    } finally {
      fs.renameSync(other === abiDir ? path.join(ext, "bundled", "libs", "cp399") : other, abiDir);
    }
  });
});
