// How the server's Python is started so nothing in the opened folder runs: flags, environment, working folder. No `vscode` import.
//
// Python puts its working folder (or the script's) first on sys.path, so a `json.py` or a `promptwise/` at the top of
// a folder would be imported before the real ones. Three layers keep that from happening: the process starts in a
// folder outside every workspace folder; `-I` (isolated) when promptwise imports that way, else `-P` on Python 3.11+;
// and PYTHONSAFEPATH=1, which Python 3.11+ also honours for anything it starts itself.

import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { InterpreterChoice, Probe, ProbeOutcome, classifyProbe, probeArgs, safePathFlag, serverArgs } from "./interpreter";

export const PROBE_TIMEOUT_MS = 20_000;

/** The environment for both the probe and the server: the extension host's, with the safe-path switch on. */
export function pythonEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...base, PYTHONSAFEPATH: "1", PYTHONUNBUFFERED: "1" };
}

/** True when `child` is `parent` or inside it (case-insensitive on Windows and macOS, where file systems usually are). */
export function isWithin(child: string, parent: string, platform: NodeJS.Platform = process.platform): boolean {
  const p = platform === "win32" ? path.win32 : path.posix;
  const fold = (s: string) => (platform === "win32" || platform === "darwin" ? s.toLowerCase() : s);
  const rel = p.relative(fold(p.resolve(parent)), fold(p.resolve(child)));
  return rel === "" || (!rel.startsWith("..") && !p.isAbsolute(rel));
}

/**
 * The first candidate folder that is outside every workspace folder: where the probe and the server start. The file
 * system root comes last, so there is always an answer unless the workspace is the whole disk (then the last candidate).
 */
export function workingFolder(candidates: readonly string[], workspaceFolders: readonly string[], platform: NodeJS.Platform = process.platform): string {
  const p = platform === "win32" ? path.win32 : path.posix;
  const all = candidates.filter((c) => c && p.isAbsolute(c));
  if (all.length > 0) all.push(p.parse(all[0]).root);
  const outside = all.find((c) => !workspaceFolders.some((w) => isWithin(c, w, platform)));
  return outside ?? all[all.length - 1] ?? p.parse(process.cwd()).root;
}

export interface ProbeRun {
  (choice: InterpreterChoice, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Probe>;
}

/** Runs the probe script once and classifies what came back. */
export const runProbe: ProbeRun = (choice, args, cwd, env) =>
  new Promise((resolve) => {
    execFile(choice.command, args, { cwd, env, timeout: PROBE_TIMEOUT_MS, windowsHide: true, encoding: "utf8" }, (error, stdout, stderr) => {
      const err = error as (NodeJS.ErrnoException & { killed?: boolean; code?: string | number }) | null;
      const outcome: ProbeOutcome = {
        spawnError: err && typeof err.code === "string" ? err.code : undefined,
        timedOut: Boolean(err?.killed),
        exitCode: err ? (typeof err.code === "number" ? err.code : null) : 0,
        stdout: String(stdout ?? ""),
        stderr: String(stderr ?? ""),
      };
      resolve(classifyProbe(outcome));
    });
  });

export interface Launch {
  probe: Probe;
  /** The server runs with `-I`: promptwise imported in the isolated probe. */
  isolated: boolean;
}

/**
 * Probes with `-I` first. Only when that cannot import promptwise (it lives on PYTHONPATH or in the user site, or the
 * interpreter predates `-I`) is it probed again without, and then the server starts without `-I` too.
 * A missing executable or a time-out is not retried: the second try would say the same, later.
 */
export async function probeInterpreter(choice: InterpreterChoice, cwd: string, env: NodeJS.ProcessEnv, run: ProbeRun = runProbe): Promise<Launch> {
  const isolated = await run(choice, probeArgs(choice, true), cwd, env);
  // The bundled copy is found through run.py, never through PYTHONPATH: there is no other way to try.
  if (choice.bundled) return { probe: isolated, isolated: true };
  if (!["no-package", "missing-dependency", "failed"].includes(isolated.kind)) {
    return { probe: isolated, isolated: isolated.kind === "ok" };
  }
  return { probe: await run(choice, probeArgs(choice, false), cwd, env), isolated: false };
}

export interface ServerLaunch {
  command: string;
  args: string[];
  options: { cwd: string; env: NodeJS.ProcessEnv };
}

/** The server's command line for a probed interpreter. */
export function serverLaunch(choice: InterpreterChoice, launch: Launch, cwd: string, env: NodeJS.ProcessEnv): ServerLaunch {
  const python = launch.probe.kind === "ok" ? launch.probe.python : undefined;
  return { command: choice.command, args: serverArgs(choice, { isolated: launch.isolated, python }), options: { cwd, env } };
}

/** One log line saying how the folder is kept off the server's import path. */
export function describeLaunch(launch: Launch, cwd: string): string {
  const python = launch.probe.kind === "ok" ? launch.probe.python : "?";
  if (launch.isolated) return `started isolated (-I) from ${cwd}: nothing in the workspace is importable`;
  const how = safePathFlag(python) ? "-P and PYTHONSAFEPATH=1" : `Python ${python} has no -P, so only the working folder`;
  return `started without -I (promptwise is found through PYTHONPATH or the user site) from ${cwd}; ${how} keeps the workspace off sys.path`;
}

/**
 * The bundled server's run.py when the extension carries promptwise (bundled/libs, filled by
 * scripts/package-extension.sh for a platform-specific .vsix); undefined for a build without it.
 */
export function bundledServer(extensionPath: string, exists: (file: string) => boolean = fs.existsSync): string | undefined {
  const run = path.join(extensionPath, "bundled", "tool", "run.py");
  return exists(run) && exists(path.join(extensionPath, "bundled", "libs", "common", "promptwise")) ? run : undefined;
}
