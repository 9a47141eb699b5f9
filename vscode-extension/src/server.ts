// Starts, checks, restarts and stops the promptwise language server: the only place that spawns Python.

import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as os from "node:os";
import * as vscode from "vscode";
import {
  DocumentSelector,
  ExecuteCommandParams,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  WorkDoneProgress,
} from "vscode-languageclient/node";
import {
  InterpreterChoice,
  Probe,
  ProbeOutcome,
  chooseInterpreter,
  classifyProbe,
  describeChoice,
  probeArgs,
  problemMessage,
  serverArgs,
} from "./interpreter";
import { describeCapabilities } from "./capabilities";
import { WorkDoneValue } from "./progress";
import { pythonExtensionInterpreter } from "./python";
import { documentSelector } from "./selector";
import { plainPromptGlobs, toServerSettings } from "./settings";

const PROBE_TIMEOUT_MS = 20_000;

export type ServerStatus =
  | { state: "stopped" }
  | { state: "starting"; choice?: InterpreterChoice }
  | { state: "running"; choice: InterpreterChoice; version: string }
  | { state: "failed"; message: string };

export class PromptwiseServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly statusEmitter = new vscode.EventEmitter<ServerStatus>();
  readonly onDidChangeStatus = this.statusEmitter.event;
  status: ServerStatus = { state: "stopped" };
  selector: vscode.DocumentFilter[] = [];

  constructor(private readonly output: vscode.LogOutputChannel) {}

  get languageClient(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  /** Server commands the running server advertises (workspace/executeCommand). */
  serverCommands(): string[] {
    return this.languageClient?.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
  }

  /** Restarts are queued so two quick setting changes never run two servers. */
  restart(): Promise<void> {
    const next = this.queue.then(() => this.doRestart());
    this.queue = next.catch(() => undefined);
    return next;
  }

  stop(): Promise<void> {
    const next = this.queue.then(() => this.doStop());
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Runs a server command. Cancelling `token` sends $/cancelRequest. With `onProgress` the request carries a
   * workDoneToken of ours and the server's $/progress for it comes to `onProgress`, so the caller shows it in its
   * own notification (without one, the server creates a progress of its own: a second one on screen).
   */
  async executeCommand<T = unknown>(
    command: string,
    args: unknown[],
    token?: vscode.CancellationToken,
    onProgress?: (value: WorkDoneValue) => void,
  ): Promise<T> {
    const client = this.languageClient;
    if (!client) {
      throw new Error("the promptwise server is not running (see Promptwise: Show Server Output)");
    }
    // Sent directly rather than through vscode.commands, so the client's auto-registered command is bypassed.
    const params: ExecuteCommandParams = { command, arguments: args };
    let listening: vscode.Disposable | undefined;
    if (onProgress) {
      params.workDoneToken = `promptwise/${randomUUID()}`;
      listening = client.onProgress(WorkDoneProgress.type, params.workDoneToken, onProgress);
    }
    try {
      return (await client.sendRequest(ExecuteCommandRequest.type, params, token)) as T;
    } finally {
      listening?.dispose();
    }
  }

  /** Tell the server its settings changed; it answers by asking workspace/configuration again. */
  notifySettingsChanged(): void {
    const client = this.languageClient;
    if (client) {
      void client.sendNotification("workspace/didChangeConfiguration", { settings: { promptwise: currentSettings(undefined) } });
    }
  }

  dispose(): void {
    void this.doStop();
    this.statusEmitter.dispose();
  }

  private setStatus(status: ServerStatus): void {
    this.status = status;
    this.statusEmitter.fire(status);
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (err) {
        this.output.warn(`stopping the server: ${String(err)}`);
      }
      await client.dispose().catch(() => undefined);
    }
    this.setStatus({ state: "stopped" });
  }

  private async doRestart(): Promise<void> {
    await this.doStop();
    const folder = vscode.workspace.workspaceFolders?.[0];
    const config = vscode.workspace.getConfiguration("promptwise", folder?.uri);
    const choice = chooseInterpreter({
      setting: config.get("interpreter"),
      pythonExtension: interpreterSettingIsEmpty(config.get("interpreter")) ? await pythonExtensionInterpreter(folder?.uri) : undefined,
      platform: process.platform,
      workspaceFolder: folder?.uri.fsPath,
      home: os.homedir(),
    });
    this.setStatus({ state: "starting", choice });
    this.output.info(`interpreter: ${describeChoice(choice)}`);

    const probe = await runProbe(choice, folder?.uri.fsPath);
    const problem = problemMessage(probe, choice);
    if (problem || probe.kind !== "ok") {
      const message = problem ?? "promptwise: the server could not be started.";
      this.output.error(message);
      this.setStatus({ state: "failed", message });
      void showProblem(message);
      return;
    }
    this.output.info(`promptwise ${probe.version} on Python ${probe.python} (${probe.executable ?? choice.command})`);

    const selector = documentSelector(plainPromptGlobs(config.get("plainPrompts")));
    this.selector = selector;
    const serverOptions: ServerOptions = {
      command: choice.command,
      args: serverArgs(choice),
      options: { cwd: folder?.uri.fsPath, env: { ...process.env, PYTHONUNBUFFERED: "1" } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: selector as DocumentSelector,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: currentSettings(folder?.uri),
      middleware: {
        workspace: {
          // Answer for the `promptwise` section with the settings the server knows; never client-only ones.
          configuration: async (params, token, next) => {
            const plain = await next(params, token);
            const answers = Array.isArray(plain) ? [...plain] : params.items.map(() => null);
            params.items.forEach((item, i) => {
              if (item.section === "promptwise") {
                answers[i] = currentSettings(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : folder?.uri);
              }
            });
            return answers;
          },
        },
      },
    };
    const client = new LanguageClient("promptwise", "promptwise", serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((e) => {
      if (this.client !== client) return;
      // vscode-languageclient restarts a crashed server a few times by itself; follow it both ways.
      if (e.newState === State.Stopped && this.status.state === "running") {
        this.setStatus({ state: "failed", message: "promptwise: the server stopped; see Promptwise: Show Server Output." });
      } else if (e.newState === State.Running && this.status.state === "failed") {
        this.setStatus({ state: "running", choice, version: probe.version });
      }
    });
    try {
      await client.start();
    } catch (err) {
      const message = `promptwise: the server failed to start: ${err instanceof Error ? err.message : String(err)}`;
      this.output.error(message);
      this.setStatus({ state: "failed", message });
      void showProblem(message);
      return;
    }
    this.output.info(`server offers: ${describeCapabilities(client.initializeResult?.capabilities as Record<string, unknown> | undefined)}`);
    this.setStatus({ state: "running", choice, version: probe.version });
  }
}

function interpreterSettingIsEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === "" || (Array.isArray(value) && value.every((v) => !v));
}

function currentSettings(scope: vscode.Uri | undefined) {
  const section = vscode.workspace.getConfiguration("promptwise", scope);
  return toServerSettings((key) => section.get(key));
}

export function runProbe(choice: InterpreterChoice, cwd: string | undefined): Promise<Probe> {
  return new Promise((resolve) => {
    execFile(
      choice.command,
      probeArgs(choice),
      { cwd, timeout: PROBE_TIMEOUT_MS, windowsHide: true, encoding: "utf8" },
      (error, stdout, stderr) => {
        const err = error as (NodeJS.ErrnoException & { killed?: boolean; code?: string | number }) | null;
        const outcome: ProbeOutcome = {
          spawnError: err && typeof err.code === "string" ? err.code : undefined,
          timedOut: Boolean(err?.killed),
          exitCode: err ? (typeof err.code === "number" ? err.code : null) : 0,
          stdout: String(stdout ?? ""),
          stderr: String(stderr ?? ""),
        };
        resolve(classifyProbe(outcome));
      },
    );
  });
}

async function showProblem(message: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(message, "Open Settings", "Show Output");
  if (choice === "Open Settings") {
    await vscode.commands.executeCommand("workbench.action.openSettings", "promptwise.interpreter");
  } else if (choice === "Show Output") {
    await vscode.commands.executeCommand("promptwise.showServerOutput");
  }
}
