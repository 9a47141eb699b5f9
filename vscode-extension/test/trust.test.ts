import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Inspected,
  MODEL_COMMANDS,
  RESTRICTED_EVALS_MESSAGE,
  callsModel,
  chooseTrustedInterpreter,
  describeUserOptions,
  resolveCommand,
  userOptions,
} from "../src/trust";

const ws = "/home/ana/repo";
const base = { platform: "linux" as const, workspaceFolders: [ws], home: "/home/ana" };

describe("the interpreter a folder may choose", () => {
  it("a trusted folder's own setting is used, as before", async () => {
    const picked = await chooseTrustedInterpreter({
      ...base,
      trusted: true,
      interpreter: { globalValue: "/usr/bin/python3", workspaceValue: "${workspaceFolder}/.venv/bin/python" },
      effective: "${workspaceFolder}/.venv/bin/python",
    });
    assert.deepEqual(picked, {
      ok: true,
      choice: { command: `${ws}/.venv/bin/python`, args: [], source: "setting", written: "${workspaceFolder}/.venv/bin/python" },
    });
  });

  it("without a setting the bundled copy runs, trusted or not; a setting replaces it", async () => {
    const bundled = "/ext/bundled/tool/run.py";
    for (const trusted of [true, false]) {
      const picked = await chooseTrustedInterpreter({ ...base, trusted, bundled, interpreter: { defaultValue: [] }, effective: [] });
      assert.deepEqual(picked, { ok: true, choice: { command: "python3", args: [], source: "default", bundled } });
    }
    const set = await chooseTrustedInterpreter({ ...base, trusted: true, bundled, interpreter: { globalValue: "/opt/py" }, effective: "/opt/py" });
    assert.equal(set.choice.bundled, undefined);
  });

  it("in Restricted Mode the folder's setting is ignored and the user's is used", async () => {
    const picked = await chooseTrustedInterpreter({
      ...base,
      trusted: false,
      interpreter: { globalValue: "/opt/py/bin/python", workspaceValue: "/tmp/evil", workspaceFolderValue: "/tmp/evil" },
      effective: "/tmp/evil",
    });
    assert.deepEqual(picked, { ok: true, choice: { command: "/opt/py/bin/python", args: [], source: "setting" } });
  });

  it("in Restricted Mode without a user setting it is the default, not the Python extension's pick (often the folder's .venv)", async () => {
    let asked = false;
    const picked = await chooseTrustedInterpreter({
      ...base,
      trusted: false,
      interpreter: { defaultValue: [], workspaceValue: "./evil" },
      effective: "./evil",
      pythonExtension: async () => {
        asked = true;
        return [`${ws}/.venv/bin/python`];
      },
    });
    assert.deepEqual(picked, { ok: true, choice: { command: "python3", args: [], source: "default" } });
    assert.equal(asked, false);
  });

  it("a trusted folder with no setting uses the Python extension's environment", async () => {
    const picked = await chooseTrustedInterpreter({
      ...base,
      trusted: true,
      interpreter: { defaultValue: [] },
      effective: [],
      pythonExtension: async () => ["/envs/a/bin/python"],
    });
    assert.equal(picked.choice.source, "python-extension");
  });

  it("in Restricted Mode a user setting that points into the folder is refused with a message", async () => {
    for (const globalValue of ["${workspaceFolder}/.venv/bin/python", ".venv/bin/python", ["uv", "run", "--project", "${workspaceFolder}", "python"]]) {
      const picked = await chooseTrustedInterpreter({ ...base, trusted: false, interpreter: { globalValue }, effective: globalValue });
      assert.equal(picked.ok, false, JSON.stringify(globalValue));
      if (!picked.ok) {
        assert.match(picked.message, /this folder is not trusted, so \/home\/ana\/repo.* is not run/);
        assert.match(picked.message, /set promptwise\.interpreter in your user settings/);
      }
    }
  });

  it("a relative path with a folder in it is the workspace's file; a bare name is looked up on PATH", () => {
    assert.equal(resolveCommand(".venv/bin/python", ws, "linux"), `${ws}/.venv/bin/python`);
    assert.equal(resolveCommand("python3", ws, "linux"), "python3");
    assert.equal(resolveCommand("/usr/bin/python3", ws, "linux"), "/usr/bin/python3");
  });
});

describe("what the server is told about the user's decisions", () => {
  const inspectOf = (values: Record<string, Inspected>) => (key: string) => values[key];

  it("reads readable folders, eval host and key variable from user settings only", () => {
    const user = userOptions(
      inspectOf({
        allowRead: { globalValue: [" ~/prompts/ ", "", 3], workspaceValue: ["/"] },
        "evals.apiBase": { globalValue: "http://127.0.0.1:4000", workspaceValue: "https://attacker.example" },
        "evals.apiKeyEnv": { globalValue: "LITELLM_API_KEY", workspaceFolderValue: "AWS_SECRET_ACCESS_KEY" },
      }),
    );
    assert.deepEqual(user, { allowRead: ["~/prompts/"], evals: { apiBase: "http://127.0.0.1:4000", apiKeyEnv: "LITELLM_API_KEY" } });
  });

  it("names the user's eval host and key variable in the log, never a key", () => {
    const line = describeUserOptions({ allowRead: ["~/prompts/"], evals: { apiBase: "http://127.0.0.1:4000", apiKeyEnv: "LITELLM_API_KEY" } });
    assert.equal(line, "user settings: eval calls go to http://127.0.0.1:4000, key from $LITELLM_API_KEY; folders readable outside the workspace: ~/prompts/");
    assert.match(describeUserOptions({ allowRead: [], evals: {} }), /each provider's own endpoint/);
  });

  it("a workspace that sets them alone gives the server nothing", () => {
    const user = userOptions(
      inspectOf({
        allowRead: { defaultValue: [], workspaceValue: ["/home/ana/.ssh"] },
        "evals.apiBase": { defaultValue: "", workspaceValue: "https://attacker.example" },
        "evals.apiKeyEnv": { defaultValue: "", workspaceValue: "AWS_SECRET_ACCESS_KEY" },
      }),
    );
    assert.deepEqual(user, { allowRead: [], evals: {} });
  });
});

describe("Restricted Mode and model calls", () => {
  it("refuses exactly the commands that call a model", () => {
    assert.deepEqual([...MODEL_COMMANDS].sort(), [
      "promptwise.condense",
      "promptwise.findCheapestModel",
      "promptwise.proposeCascade",
      "promptwise.runEvalCase",
      "promptwise.runEvals",
    ]);
    for (const c of ["promptwise.countTokens", "promptwise.showBreakdown", "promptwise.listEvalCases"]) assert.equal(callsModel(c), false, c);
    assert.equal(callsModel("promptwise.runEvals"), true);
  });

  it("says why and what to do", () => {
    assert.equal(RESTRICTED_EVALS_MESSAGE, "promptwise: Evals call models and are disabled in Restricted Mode; trust this folder to run them.");
  });
});
