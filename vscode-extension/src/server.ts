// Starts, checks, restarts and stops the promptwise language server: the only place that spawns Python.

import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
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
import { InterpreterChoice, describeChoice, missingInterpreterMessage, problemMessage } from "./interpreter";
import { bundledServer, describeLaunch, probeInterpreter, pythonEnv, serverLaunch, workingFolder } from "./launch";
import { describeCapabilities } from "./capabilities";
import { WorkDoneValue } from "./progress";
import { pythonExtensionInterpreter } from "./python";
import { documentSelector } from "./selector";
import { plainPromptGlobs, toServerSettings } from "./settings";
import { RESTRICTED_EVALS_MESSAGE, UserOptions, callsModel, chooseTrustedInterpreter, describeUserOptions, userOptions } from "./trust";

/** How long a restart waits for the requests that come with it (trust granted, then its settings' new values). */
const RESTART_SETTLE_MS = 200;

export type ServerStatus =
  | { state: "stopped" }
  | { state: "starting"; choice?: InterpreterChoice }
  | { state: "running"; choice: InterpreterChoice; version: string }
  | { state: "failed"; message: string };

export class PromptwiseServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private pendingRestart: Promise<void> | undefined;
  private readonly statusEmitter = new vscode.EventEmitter<ServerStatus>();
  readonly onDidChangeStatus = this.statusEmitter.event;
  status: ServerStatus = { state: "stopped" };
  selector: vscode.DocumentFilter[] = [];

  /** `extensionPath`: the extension's own folder, where Python starts (outside the workspace). */
  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly extensionPath: string,
  ) {}

  get languageClient(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  /** Server commands the running server advertises (workspace/executeCommand). */
  serverCommands(): string[] {
    return this.languageClient?.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
  }

  /**
   * Restarts are queued so two quick setting changes never run two servers, and one that has not begun yet absorbs
   * later requests: granting trust also changes every restricted setting's value, which asks for a restart again.
   */
  restart(): Promise<void> {
    if (this.pendingRestart) return this.pendingRestart;
    const next = this.queue
      .then(() => new Promise((resolve) => setTimeout(resolve, RESTART_SETTLE_MS)))
      .then(() => {
        this.pendingRestart = undefined;
        return this.doRestart();
      });
    this.pendingRestart = next;
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
    if (!vscode.workspace.isTrusted && callsModel(command)) {
      throw new Error(RESTRICTED_EVALS_MESSAGE.replace(/^promptwise: /, ""));
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
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath).filter(Boolean);
    const trusted = vscode.workspace.isTrusted;
    const config = vscode.workspace.getConfiguration("promptwise", folder?.uri);
    const bundled = bundledServer(this.extensionPath);
    const picked = await chooseTrustedInterpreter({
      bundled,
      trusted,
      interpreter: config.inspect("interpreter"),
      effective: config.get("interpreter"),
      pythonExtension: () => pythonExtensionInterpreter(folder?.uri),
      platform: process.platform,
      workspaceFolders: folders,
      home: os.homedir(),
    });
    const choice = picked.choice;
    this.setStatus({ state: "starting", choice });
    this.output.info(`workspace trust: ${trusted ? "trusted" : "Restricted Mode (evals off; interpreter, hosts and readable folders from user settings only)"}`);
    this.output.info(`interpreter: ${describeChoice(choice)}`);
    if (!picked.ok) {
      this.output.error(picked.message);
      this.setStatus({ state: "failed", message: picked.message });
      void showProblem(picked.message, "Manage Workspace Trust");
      return;
    }

    // Never the workspace folder: Python would import a json.py or promptwise/ found there.
    const cwd = workingFolder([this.extensionPath, os.tmpdir()], folders);
    const env = pythonEnv(process.env);
    const missing = missingInterpreterMessage(choice, fs.existsSync, process.platform, Boolean(bundled));
    if (missing) {
      this.output.error(missing);
      this.setStatus({ state: "failed", message: missing });
      void showProblem(missing);
      return;
    }
    const launch = await probeInterpreter(choice, cwd, env);
    const probe = launch.probe;
    const problem = problemMessage(probe, choice, Boolean(bundled));
    if (problem || probe.kind !== "ok") {
      const message = problem ?? "promptwise: the server could not be started.";
      this.output.error(message);
      this.setStatus({ state: "failed", message });
      void showProblem(message);
      return;
    }
    const where = choice.bundled ? `, bundled with the extension (${choice.bundled})` : "";
    this.output.info(`promptwise ${probe.version} on Python ${probe.python} (${probe.executable ?? choice.command})${where}`);
    this.output.info(describeLaunch(launch, cwd));

    const user = currentUserOptions();
    this.output.info(describeUserOptions(user));
    const selector = documentSelector(plainPromptGlobs(config.get("plainPrompts")));
    this.selector = selector;
    const serverOptions: ServerOptions = serverLaunch(choice, launch, cwd, env);
    const clientOptions: LanguageClientOptions = {
      documentSelector: selector as DocumentSelector,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: { ...currentSettings(folder?.uri), trusted, user },
      middleware: {
        // Commands the server's own code lenses run go through here, not through the palette commands.
        executeCommand: async (command, args, next) => {
          if (!vscode.workspace.isTrusted && callsModel(command)) {
            this.output.info(`${command} was refused: the folder is in Restricted Mode`);
            void showRestricted();
            return undefined;
          }
          return next(command, args);
        },
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

function currentSettings(scope: vscode.Uri | undefined) {
  const section = vscode.workspace.getConfiguration("promptwise", scope);
  return toServerSettings((key) => section.get(key));
}

/** The user-scope values only: a folder's settings never choose hosts, key variables or readable folders. */
function currentUserOptions(): UserOptions {
  const section = vscode.workspace.getConfiguration("promptwise");
  return userOptions((key) => section.inspect(key));
}

/** Why an eval command did nothing in Restricted Mode, with the way out. */
export async function showRestricted(): Promise<void> {
  const choice = await vscode.window.showWarningMessage(RESTRICTED_EVALS_MESSAGE, "Manage Workspace Trust");
  if (choice === "Manage Workspace Trust") await vscode.commands.executeCommand("workbench.trust.manage");
}

async function showProblem(message: string, ...extra: string[]): Promise<void> {
  const choice = await vscode.window.showErrorMessage(message, ...extra, "Open Settings", "Show Output");
  if (choice === "Manage Workspace Trust") {
    await vscode.commands.executeCommand("workbench.trust.manage");
  } else if (choice === "Open Settings") {
    await vscode.commands.executeCommand("workbench.action.openSettings", "promptwise.interpreter");
  } else if (choice === "Show Output") {
    await vscode.commands.executeCommand("promptwise.showServerOutput");
  }
}
