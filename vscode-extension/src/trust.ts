// What a folder that is not trusted may not decide: the interpreter, hosts, key variables, readable folders, evals. No `vscode` import.
//
// A repository's `.vscode/settings.json` is written by whoever wrote the repository. Settings that pick an executable,
// a host, a key variable or folders outside the workspace are read from the user's own (global) settings only, and in
// Restricted Mode nothing that calls a model runs.

import * as path from "node:path";
import { InterpreterChoice, chooseInterpreter } from "./interpreter";
import { isWithin } from "./launch";

/** Settings a workspace may not set while it is untrusted (`capabilities.untrustedWorkspaces.restrictedConfigurations`). */
export const RESTRICTED_SETTINGS = [
  "promptwise.interpreter",
  "promptwise.allowRead",
  "promptwise.evals.apiBase",
  "promptwise.evals.apiKeyEnv",
] as const;

/** Server commands that call a model: refused in Restricted Mode. */
export const MODEL_COMMANDS = [
  "promptwise.runEvals",
  "promptwise.runEvalCase",
  "promptwise.findCheapestModel",
  "promptwise.proposeCascade",
  "promptwise.condense",
] as const;

export const RESTRICTED_EVALS_MESSAGE = "promptwise: Evals call models and are disabled in Restricted Mode; trust this folder to run them.";

export function callsModel(command: string): boolean {
  return (MODEL_COMMANDS as readonly string[]).includes(command);
}

/** The shape of `WorkspaceConfiguration.inspect()`, as far as it is read here. */
export interface Inspected {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** What the server is told about the user's own decisions (`initializationOptions.user`). */
export interface UserOptions {
  allowRead: string[];
  evals: { apiBase?: string; apiKeyEnv?: string };
}

/**
 * `initializationOptions.user`, from user-scope values only, whatever the folder's trust: workspace settings can never
 * choose where calls go, which key they carry or which outside folders are read.
 */
export function userOptions(inspect: (key: string) => Inspected | undefined): UserOptions {
  const global = (key: string) => inspect(key)?.globalValue;
  const allowRead = global("allowRead");
  const out: UserOptions = {
    allowRead: Array.isArray(allowRead) ? allowRead.filter((v): v is string => typeof v === "string" && v.trim() !== "").map((v) => v.trim()) : [],
    evals: {},
  };
  const apiBase = global("evals.apiBase");
  if (typeof apiBase === "string" && apiBase.trim() !== "") out.evals.apiBase = apiBase.trim();
  const apiKeyEnv = global("evals.apiKeyEnv");
  if (typeof apiKeyEnv === "string" && apiKeyEnv.trim() !== "") out.evals.apiKeyEnv = apiKeyEnv.trim();
  return out;
}

/** One log line: what the user's own settings decide (the key variable by name; its value is never read here). */
export function describeUserOptions(user: UserOptions): string {
  const host = user.evals.apiBase ? `eval calls go to ${user.evals.apiBase}` : "eval calls go to each provider's own endpoint (unless ~/.config/promptwise/config.toml says otherwise)";
  const key = user.evals.apiKeyEnv ? `, key from $${user.evals.apiKeyEnv}` : "";
  const read = user.allowRead.length > 0 ? user.allowRead.join(", ") : "none beyond ~/.config/promptwise/config.toml";
  return `user settings: ${host}${key}; folders readable outside the workspace: ${read}`;
}

export interface TrustedChoiceInputs {
  trusted: boolean;
  /** `inspect("interpreter")` of the `promptwise` section. */
  interpreter: Inspected | undefined;
  /** The effective value (`get("interpreter")`), which a trusted folder's settings may set. */
  effective: unknown;
  /** Asked only when the setting is empty and the folder is trusted: a folder may pick the Python extension's environment. */
  pythonExtension?: () => Promise<readonly string[] | undefined>;
  platform: NodeJS.Platform;
  workspaceFolders: readonly string[];
  home?: string;
  /** The bundled server's run.py, when the extension carries promptwise. */
  bundled?: string;
}

export type TrustedChoice = { ok: true; choice: InterpreterChoice } | { ok: false; choice: InterpreterChoice; message: string };

/**
 * The interpreter a folder of this trust may run. Trusted: any scope of the setting, else the Python extension's
 * environment, else the default. Restricted: the user's own setting or the default, and never an executable inside
 * the folder (a user setting of `${workspaceFolder}/.venv/bin/python` would run the repository's file).
 */
export async function chooseTrustedInterpreter(inputs: TrustedChoiceInputs): Promise<TrustedChoice> {
  const folder = inputs.workspaceFolders[0];
  const setting = inputs.trusted ? inputs.effective : inputs.interpreter?.globalValue ?? inputs.interpreter?.defaultValue;
  const fromExtension = inputs.trusted && settingIsEmpty(setting) && inputs.pythonExtension ? await inputs.pythonExtension() : undefined;
  const choice = chooseInterpreter({ setting, pythonExtension: fromExtension, platform: inputs.platform, workspaceFolder: folder, home: inputs.home, bundled: inputs.bundled });
  const command = resolveCommand(choice.command, folder, inputs.platform);
  const placed = { ...choice, command };
  if (inputs.trusted) return { ok: true, choice: placed };
  // The arguments too: `uv run --project ${workspaceFolder} python` would run the folder's own environment.
  const paths = [command, ...placed.args].filter((a) => commandIsPath(a, inputs.platform) && (inputs.platform === "win32" ? path.win32 : path.posix).isAbsolute(a));
  const inside = paths.find((a) => inputs.workspaceFolders.some((w) => isWithin(a, w, inputs.platform)));
  if (inside) {
    return {
      ok: false,
      choice: placed,
      message:
        `promptwise: this folder is not trusted, so ${inside} (from promptwise.interpreter, inside the folder) is not run. ` +
        `Trust the folder to use it, or set promptwise.interpreter in your user settings to a Python outside the folder.`,
    };
  }
  return { ok: true, choice: placed };
}

export function settingIsEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === "" || (Array.isArray(value) && value.every((v) => typeof v !== "string" || v.trim() === ""));
}

/**
 * A relative path with a separator (`.venv/bin/python`) means the folder's file, as it did when the server started in
 * the folder; a bare name (`python3`) is looked up on PATH. The server no longer starts in the folder, so resolve it here.
 */
export function resolveCommand(command: string, workspaceFolder: string | undefined, platform: NodeJS.Platform): string {
  const p = platform === "win32" ? path.win32 : path.posix;
  if (!workspaceFolder || p.isAbsolute(command) || !commandIsPath(command, platform)) return command;
  return p.resolve(workspaceFolder, command);
}

function commandIsPath(command: string, platform: NodeJS.Platform): boolean {
  return command.includes("/") || (platform === "win32" && command.includes("\\"));
}
