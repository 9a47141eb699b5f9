// Which Python runs the server, how to check it can, and what to tell the user when it cannot. No `vscode` import.

export type InterpreterSource = "setting" | "python-extension" | "default";

export interface InterpreterChoice {
  /** Executable to spawn. */
  command: string;
  /** Arguments that come before `-m promptwise lsp` (from an array-valued setting). */
  args: string[];
  source: InterpreterSource;
}

export interface ChoiceInputs {
  /** The raw `promptwise.interpreter` value: a string, an array of strings, or anything else (ignored). */
  setting: unknown;
  /** The Python extension's active environment as a command line, when that extension is installed. */
  pythonExtension?: readonly string[] | undefined;
  platform: NodeJS.Platform;
  workspaceFolder?: string;
  home?: string;
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

/** The setting, else the Python extension's environment, else `python3` (`python` on Windows). */
export function chooseInterpreter(inputs: ChoiceInputs): InterpreterChoice {
  const fromSetting = interpreterSetting(inputs.setting).map((v) =>
    expandVariables(v, { workspaceFolder: inputs.workspaceFolder, home: inputs.home }),
  );
  if (fromSetting.length > 0) {
    return { command: fromSetting[0], args: fromSetting.slice(1), source: "setting" };
  }
  const fromExtension = interpreterSetting(inputs.pythonExtension ? [...inputs.pythonExtension] : []);
  if (fromExtension.length > 0) {
    return { command: fromExtension[0], args: fromExtension.slice(1), source: "python-extension" };
  }
  return { command: inputs.platform === "win32" ? "python" : "python3", args: [], source: "default" };
}

export function describeChoice(choice: InterpreterChoice): string {
  const line = [choice.command, ...choice.args].join(" ");
  switch (choice.source) {
    case "setting":
      return `${line} (from the promptwise.interpreter setting)`;
    case "python-extension":
      return `${line} (the Python extension's active environment)`;
    default:
      return `${line} (the default; set promptwise.interpreter to choose another)`;
  }
}

/**
 * `[...setting args, flags, -u, -m, promptwise, lsp]`: `-I` when the probe found promptwise in isolated mode, else
 * `-P` where Python has it (3.11+), so the working folder is never on sys.path. `-u` because `-I` ignores PYTHONUNBUFFERED.
 */
export function serverArgs(choice: InterpreterChoice, launch: { isolated: boolean; python?: string }): string[] {
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
  | { kind: "timeout" }
  | { kind: "failed"; detail: string };

export const MIN_PYTHON: [number, number] = [3, 10];

export function classifyProbe(outcome: ProbeOutcome): Probe {
  if (outcome.spawnError) {
    return { kind: "no-python", detail: outcome.spawnError };
  }
  if (outcome.timedOut) {
    return { kind: "timeout" };
  }
  const line = outcome.stdout.trim().split(/\r?\n/).pop() ?? "";
  let report: { python?: string; executable?: string; promptwise?: string; missing?: string } | undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed && typeof parsed === "object") {
      report = parsed as typeof report;
    }
  } catch {
    report = undefined;
  }
  if (!report || typeof report.python !== "string") {
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
  if (report.missing !== undefined && typeof report.promptwise !== "string") {
    return { kind: "no-package", python, executable: report.executable };
  }
  if (report.missing !== undefined) {
    return { kind: "missing-dependency", python, module: String(report.missing), executable: report.executable };
  }
  return { kind: "ok", python, version: String(report.promptwise), executable: report.executable };
}

/** One sentence saying what is wrong and exactly what to install; undefined when nothing is. */
export function problemMessage(probe: Probe, choice: InterpreterChoice): string | undefined {
  const shown = [choice.command, ...choice.args].join(" ");
  const py = quoteIfNeeded(choice.command);
  const pip = `${[py, ...choice.args.map(quoteIfNeeded)].join(" ")} -m pip install promptwise`;
  const repo = "or, in a clone of the promptwise repository, run `bash scripts/setup.sh` and set promptwise.interpreter to its `.venv/bin/python`";
  switch (probe.kind) {
    case "ok":
      return undefined;
    case "no-python":
      return (
        `promptwise: Python was not found (${shown}: ${probe.detail}). ` +
        `Install Python ${MIN_PYTHON.join(".")} or newer and then \`pip install promptwise\`, ` +
        `or set promptwise.interpreter to a Python that has promptwise installed.`
      );
    case "old-python":
      return (
        `promptwise: ${shown} is Python ${probe.python}; promptwise needs Python ${MIN_PYTHON.join(".")} or newer. ` +
        `Set promptwise.interpreter to a newer Python and install promptwise into it (\`pip install promptwise\`).`
      );
    case "no-package":
      return `promptwise: the promptwise package is not installed for ${shown} (Python ${probe.python}). Install it with \`${pip}\`, ${repo}.`;
    case "missing-dependency":
      return (
        `promptwise: the promptwise package for ${shown} is missing its dependency "${probe.module}". ` +
        `Reinstall it with \`${pip}\`, ${repo}.`
      );
    case "timeout":
      return `promptwise: ${shown} did not answer within the time allowed while checking for the promptwise package. Check the interpreter, or set promptwise.interpreter to another one.`;
    case "failed":
      return `promptwise: ${shown} could not check for the promptwise package: ${probe.detail}`;
  }
}

function quoteIfNeeded(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\$`])/g, "\\$1")}"`;
}
