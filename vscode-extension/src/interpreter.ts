// Which Python runs the server, how to check it can, and what to tell the user when it cannot. No `vscode` import.

export type InterpreterSource = "setting" | "python-extension" | "default";

export interface InterpreterChoice {
  /** Executable to spawn. */
  command: string;
  /** Arguments that come before `-m promptwise lsp` (from an array-valued setting). */
  args: string[];
  source: InterpreterSource;
  /** The bundled server's run.py: set when no interpreter is configured and the extension carries promptwise. */
  bundled?: string;
  /** The setting's executable as written, when expanding `${workspaceFolder}` or `~` changed it. */
  written?: string;
}

export interface ChoiceInputs {
  /** The raw `promptwise.interpreter` value: a string, an array of strings, or anything else (ignored). */
  setting: unknown;
  /** The Python extension's active environment as a command line, when that extension is installed. */
  pythonExtension?: readonly string[] | undefined;
  platform: NodeJS.Platform;
  workspaceFolder?: string;
  home?: string;
  /** The bundled server's run.py, when the extension carries one (a platform-specific .vsix does). */
  bundled?: string;
}

/** A string or an array of strings, trimmed, with empty entries dropped; anything else is "not set". */
export function interpreterSetting(value: unknown): string[] {
  const items = typeof value === "string" ? [value] : Array.isArray(value) ? value : [];
  return items.filter((v): v is string => typeof v === "string").map((v) => v.trim()).filter((v) => v.length > 0);
}

/** `${workspaceFolder}`, `${userHome}` and a leading `~`, as users write them in settings. */
export function expandVariables(value: string, vars: { workspaceFolder?: string; home?: string }): string {
  let out = value;
  if (vars.home) {
    out = out.replace(/^~(?=$|[\\/])/, vars.home).split("${userHome}").join(vars.home);
  }
  if (vars.workspaceFolder) {
    out = out.split("${workspaceFolder}").join(vars.workspaceFolder);
  }
  return out;
}

/**
 * The setting (an interpreter that has promptwise installed), else the Python extension's environment, else `python3`
 * (`python` on Windows). Without the setting the bundled promptwise runs on that Python, when the extension has one.
 */
export function chooseInterpreter(inputs: ChoiceInputs): InterpreterChoice {
  const written = interpreterSetting(inputs.setting);
  const fromSetting = written.map((v) => expandVariables(v, { workspaceFolder: inputs.workspaceFolder, home: inputs.home }));
  if (fromSetting.length > 0) {
    const choice: InterpreterChoice = { command: fromSetting[0], args: fromSetting.slice(1), source: "setting" };
    if (written[0] !== fromSetting[0]) choice.written = written[0];
    return choice;
  }
  const bundled = inputs.bundled ? { bundled: inputs.bundled } : {};
  const fromExtension = interpreterSetting(inputs.pythonExtension ? [...inputs.pythonExtension] : []);
  if (fromExtension.length > 0) {
    return { command: fromExtension[0], args: fromExtension.slice(1), source: "python-extension", ...bundled };
  }
  return { command: inputs.platform === "win32" ? "python" : "python3", args: [], source: "default", ...bundled };
}

export function describeChoice(choice: InterpreterChoice): string {
  const line = [choice.command, ...choice.args].join(" ");
  const runs = choice.bundled ? ", running the promptwise bundled with the extension" : "";
  switch (choice.source) {
    case "setting":
      return `${line} (from the promptwise.interpreter setting)`;
    case "python-extension":
      return `${line} (the Python extension's active environment)${runs}`;
    default:
      return `${line} (the default; set promptwise.interpreter to choose another)${runs}`;
  }
}

/**
 * A configured interpreter path that does not exist, named as expanded (and as written when that differs); undefined
 * when the command exists or is a bare name looked up on PATH (the probe reports those).
 */
export function missingInterpreterMessage(
  choice: InterpreterChoice,
  exists: (file: string) => boolean,
  platform: NodeJS.Platform,
  bundled: boolean,
): string | undefined {
  const isPath = choice.command.includes("/") || (platform === "win32" && choice.command.includes("\\"));
  if (choice.source !== "setting" || !isPath || exists(choice.command)) return undefined;
  const written = choice.written ? ` (promptwise.interpreter is "${choice.written}")` : "";
  const unexpanded = /\$\{workspaceFolder\}/.test(choice.command) ? " No folder is open, so ${workspaceFolder} has no value." : "";
  return (
    `promptwise: the interpreter ${choice.command} does not exist${written}.${unexpanded} ` +
    `Set promptwise.interpreter to a Python ${MIN_PYTHON.join(".")}+ that has promptwise installed` +
    (bundled ? ", or clear it to run the promptwise bundled with the extension." : ".")
  );
}

/**
 * `[...setting args, flags, -u, -m, promptwise, lsp]`: `-I` when the probe found promptwise in isolated mode, else
 * `-P` where Python has it (3.11+), so the working folder is never on sys.path. `-u` because `-I` ignores PYTHONUNBUFFERED.
 */
export function serverArgs(choice: InterpreterChoice, launch: { isolated: boolean; python?: string }): string[] {
  // The bundled run.py puts the extension's libraries on sys.path itself, so it always runs isolated.
  if (choice.bundled) return [...choice.args, "-I", "-u", choice.bundled, "lsp"];
  const flags = launch.isolated ? ["-I"] : safePathFlag(launch.python) ? ["-P"] : [];
  return [...choice.args, ...flags, "-u", "-m", "promptwise", "lsp"];
}

/** `-P` exists from Python 3.11. */
export function safePathFlag(python: string | undefined): boolean {
  const [major, minor] = (python ?? "").split(".").map((n) => Number.parseInt(n, 10));
  return major > 3 || (major === 3 && minor >= 11);
}

/** A Python 2/3-safe script that reports the interpreter's version and whether promptwise and its server deps import. */
export const PROBE_SCRIPT = [
  "import json, sys",
  'out = {"python": "%d.%d.%d" % tuple(sys.version_info[:3]), "executable": sys.executable}',
  "try:",
  "    import promptwise",
  '    out["promptwise"] = getattr(promptwise, "__version__", "unknown")',
  "    import pygls, lsprotocol",
  "except ImportError as e:",
  '    out["missing"] = getattr(e, "name", None) or str(e)',
  "print(json.dumps(out))",
].join("\n");

/** The probe's arguments; `isolated` adds `-I`, the mode the server is started in when promptwise imports that way. */
export function probeArgs(choice: InterpreterChoice, isolated: boolean): string[] {
  if (choice.bundled) return [...choice.args, "-I", choice.bundled, "--probe"];
  return [...choice.args, ...(isolated ? ["-I"] : []), "-c", PROBE_SCRIPT];
}

export interface ProbeOutcome {
  /** Error code from spawning (ENOENT, EACCES, ...), if the process never ran. */
  spawnError?: string;
  timedOut?: boolean;
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export type Probe =
  | { kind: "ok"; python: string; version: string; executable?: string }
  | { kind: "no-python"; detail: string }
  | { kind: "old-python"; python: string }
  | { kind: "no-package"; python: string; executable?: string }
  | { kind: "missing-dependency"; python: string; module: string; executable?: string }
  | { kind: "no-bundle"; python: string; bundled: string[] }
  | { kind: "timeout" }
  | { kind: "failed"; detail: string };

export const MIN_PYTHON: [number, number] = [3, 11];

export function classifyProbe(outcome: ProbeOutcome): Probe {
  if (outcome.spawnError) {
    return { kind: "no-python", detail: outcome.spawnError };
  }
  if (outcome.timedOut) {
    return { kind: "timeout" };
  }
  const line = outcome.stdout.trim().split(/\r?\n/).pop() ?? "";
  let report: { python?: string; executable?: string; promptwise?: string; missing?: string; bundled?: unknown; no_bundle?: boolean } | undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed && typeof parsed === "object") {
      report = parsed as typeof report;
    }
  } catch {
    report = undefined;
  }
  if (!report || typeof report.python !== "string") {
    // Python 2 and 3.0-3.3 have no -I: "Unknown option: -I".
    if (/Unknown option:? -I\b/.test(outcome.stderr)) return { kind: "old-python", python: "older than 3.4" };
    // A shell's "command not found" (exit 127) or a launcher that is not Python at all.
    if (outcome.exitCode === 127 || outcome.exitCode === 9009) {
      return { kind: "no-python", detail: outcome.stderr.trim() || `exit code ${outcome.exitCode}` };
    }
    const detail = (outcome.stderr.trim() || outcome.stdout.trim() || `exit code ${outcome.exitCode}`).slice(-500);
    return { kind: "failed", detail };
  }
  const python = report.python;
  const [major, minor] = python.split(".").map((n) => Number.parseInt(n, 10));
  if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
    return { kind: "old-python", python };
  }
  if (report.no_bundle) {
    const bundled = Array.isArray(report.bundled) ? report.bundled.filter((v): v is string => typeof v === "string") : [];
    return { kind: "no-bundle", python, bundled };
  }
  if (report.missing !== undefined && typeof report.promptwise !== "string") {
    return { kind: "no-package", python, executable: report.executable };
  }
  if (report.missing !== undefined) {
    return { kind: "missing-dependency", python, module: String(report.missing), executable: report.executable };
  }
  return { kind: "ok", python, version: String(report.promptwise), executable: report.executable };
}

/**
 * One sentence saying what is wrong and what to do about it; undefined when nothing is. `bundled`: whether this build
 * of the extension carries promptwise (a platform-specific .vsix does), so clearing the setting is a way out.
 */
export function problemMessage(probe: Probe, choice: InterpreterChoice, bundled = Boolean(choice.bundled)): string | undefined {
  const shown = [choice.command, ...choice.args].join(" ");
  const min = MIN_PYTHON.join(".");
  const setIt = `set promptwise.interpreter to a Python ${min}+ executable`;
  // What works without any registry package: the bundled copy, or a clone's .venv.
  const withPackage = bundled
    ? "clear promptwise.interpreter to run the promptwise bundled with the extension, or set it to a Python that has promptwise installed"
    : "set promptwise.interpreter to a Python that has promptwise installed (in a clone of the promptwise repository, `bash scripts/setup.sh` makes one: its `.venv/bin/python`)";
  const fromSetting = choice.source === "setting";
  switch (probe.kind) {
    case "ok":
      return undefined;
    case "no-python":
      if (fromSetting) return `promptwise: the interpreter ${shown} could not be run (${probe.detail}). Fix promptwise.interpreter, or ${withPackage}.`;
      return (
        `promptwise: Python was not found (${shown}: ${probe.detail}). promptwise needs Python ${min} or newer: ` +
        `install it so that \`${choice.command}\` is on PATH, or ${setIt}.`
      );
    case "old-python":
      return (
        `promptwise: ${shown} is Python ${probe.python}; promptwise needs Python ${min} or newer. ` +
        (fromSetting ? `Set promptwise.interpreter to a newer Python, or ${withPackage}.` : `Install a newer Python as \`${choice.command}\`, or ${setIt}.`)
      );
    case "no-bundle":
      return (
        `promptwise: the promptwise bundled with the extension has no build for Python ${probe.python} (${shown}); ` +
        `it has ${probe.bundled.join(", ") || "none"}. Install one of those as \`${choice.command}\`, or ${setIt}.`
      );
    case "no-package":
      return `promptwise: the promptwise package is not installed for ${shown} (Python ${probe.python}). To use it, ${withPackage}.`;
    case "missing-dependency":
      if (choice.bundled) {
        return `promptwise: the promptwise bundled with the extension could not import "${probe.module}" on ${shown} (Python ${probe.python}). Reinstall the extension, or ${setIt} that has promptwise installed.`;
      }
      return `promptwise: the promptwise package for ${shown} is missing its dependency "${probe.module}". Reinstall promptwise there, or ${withPackage}.`;
    case "timeout":
      return `promptwise: ${shown} did not answer within the time allowed while checking for the promptwise package. Check the interpreter, or set promptwise.interpreter to another one.`;
    case "failed":
      return `promptwise: ${shown} could not check for the promptwise package: ${probe.detail}`;
  }
}
