// Palette commands: each calls the server command of the same name and shows its answer.

import * as path from "node:path";
import * as vscode from "vscode";
import { breakdownHtml, breakdownTitle } from "./breakdown";
import { ComparePreview, LIST_BRANCHES, compareWithBranch, editorUi } from "./compare";
import { caseChoices, cheapestEdit, cheapestMessage, summarizeEvalRun } from "./evals";
import { ProgressFeed } from "./progress";
import { PromptwiseServer, showRestricted } from "./server";
import { countMessage } from "./status";

export const SERVER = {
  countTokens: "promptwise.countTokens",
  showBreakdown: "promptwise.showBreakdown",
  runEvals: "promptwise.runEvals",
  runEvalCase: "promptwise.runEvalCase",
  listEvalCases: "promptwise.listEvalCases",
  findCheapestModel: "promptwise.findCheapestModel",
  proposeCascade: "promptwise.proposeCascade",
  condense: "promptwise.condense",
} as const;

const LAST_REPORT_KEY = "promptwise.lastEvalReport";

export class Commands {
  private breakdownPanel: vscode.WebviewPanel | undefined;
  private readonly comparePreview = new ComparePreview(vscode);
  private readonly evalOutput: vscode.OutputChannel;

  constructor(
    private readonly server: PromptwiseServer,
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.LogOutputChannel,
  ) {
    this.evalOutput = vscode.window.createOutputChannel("promptwise evals");
    context.subscriptions.push(this.evalOutput);
  }

  register(): vscode.Disposable[] {
    const guard = (fn: () => Promise<unknown>) => async () => {
      try {
        await fn();
      } catch (err) {
        if (err instanceof vscode.CancellationError) {
          this.output.info("cancelled by the user"); // they pressed Cancel: no error to show
          return;
        }
        const message = err instanceof Error ? err.message : String(err);
        this.output.error(message);
        void vscode.window.showErrorMessage(`promptwise: ${message}`, "Show Output").then((choice) => {
          if (choice) this.output.show(true);
        });
      }
    };
    return [
      vscode.commands.registerCommand("promptwise.client.countTokens", guard(() => this.countTokens())),
      vscode.commands.registerCommand("promptwise.client.showBreakdown", guard(() => this.showBreakdown())),
      vscode.commands.registerCommand("promptwise.client.runEvals", guard(() => this.runEvals())),
      vscode.commands.registerCommand("promptwise.client.runEvalCase", guard(() => this.runEvalCase())),
      vscode.commands.registerCommand("promptwise.client.findCheapestModel", guard(() => this.findCheapestModel())),
      vscode.commands.registerCommand("promptwise.client.proposeCascade", guard(() => this.proposeCascade())),
      vscode.commands.registerCommand("promptwise.client.condense", guard(() => this.condense())),
      vscode.commands.registerCommand("promptwise.openLastEvalReport", guard(() => this.openLastEvalReport())),
      vscode.commands.registerCommand("promptwise.client.compareWithBranch", guard(() => this.compareWithBranch())),
      this.comparePreview,
      vscode.commands.registerCommand("promptwise.restartServer", guard(() => this.server.restart())),
      vscode.commands.registerCommand("promptwise.showServerOutput", () => this.output.show(true)),
    ];
  }

  /** The active editor's prompt document and its URI as the server knows it; explains when there is none. */
  private activePrompt(): { editor: vscode.TextEditor; uri: string } | undefined {
    const editor = vscode.window.activeTextEditor;
    const client = this.server.languageClient;
    if (!client) {
      const why = this.server.status.state === "failed" ? this.server.status.message : "the promptwise server is still starting.";
      void vscode.window.showWarningMessage(why, "Show Output").then((c) => c && this.output.show(true));
      return undefined;
    }
    if (!editor || this.server.selector.length === 0 || vscode.languages.match(this.server.selector, editor.document) === 0) {
      void vscode.window.showInformationMessage(
        "promptwise: open a prompt file first (.prompty, .prompt, AGENTS.md, CLAUDE.md, *.instructions.md, *.prompt.md or a plain prompt).",
      );
      return undefined;
    }
    return { editor, uri: client.code2ProtocolConverter.asUri(editor.document.uri) };
  }

  /** True (and the reason shown) in Restricted Mode, where nothing that calls a model runs. */
  private restricted(): boolean {
    if (vscode.workspace.isTrusted) return false;
    this.output.info("an eval command was refused: the folder is in Restricted Mode");
    void showRestricted();
    return true;
  }

  /** False (and a message naming the command) when the running server does not offer it, e.g. an older promptwise. */
  private offers(command: string): boolean {
    if (this.server.serverCommands().includes(command)) return true;
    const status = this.server.status;
    const version = status.state === "running" ? ` ${status.version}` : "";
    void vscode.window.showWarningMessage(
      `promptwise: this server (promptwise${version}) does not provide ${command}. Update the promptwise package to use it.`,
    );
    return false;
  }

  private async countTokens(): Promise<void> {
    const active = this.activePrompt();
    if (!active || !this.offers(SERVER.countTokens)) return;
    const { editor, uri } = active;
    const selection = editor.selection;
    const args: Record<string, unknown> = { uri };
    if (!selection.isEmpty) {
      args.range = {
        start: { line: selection.start.line, character: selection.start.character },
        end: { line: selection.end.line, character: selection.end.character },
      };
    }
    const result = await this.server.executeCommand(SERVER.countTokens, [args]);
    void vscode.window.showInformationMessage(countMessage(result, !selection.isEmpty));
  }

  private async showBreakdown(): Promise<void> {
    const active = this.activePrompt();
    if (!active || !this.offers(SERVER.showBreakdown)) return;
    const result = await this.server.executeCommand(SERVER.showBreakdown, [{ uri: active.uri }]);
    const fileName = path.basename(active.editor.document.uri.fsPath || active.editor.document.uri.path);
    if (!this.breakdownPanel) {
      this.breakdownPanel = vscode.window.createWebviewPanel(
        "promptwise.breakdown",
        breakdownTitle(fileName),
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: false, enableFindWidget: true },
      );
      this.breakdownPanel.onDidDispose(() => (this.breakdownPanel = undefined));
    }
    this.breakdownPanel.title = breakdownTitle(fileName);
    this.breakdownPanel.webview.html = breakdownHtml(result, fileName, this.breakdownPanel.webview.cspSource);
    this.breakdownPanel.reveal(vscode.ViewColumn.Beside, true);
  }

  /**
   * A long server command under one cancellable notification that shows the server's own progress ("7/12 cases").
   * Cancelling it cancels the request, which stops the run.
   */
  private withServerProgress(title: string, command: string, args: Record<string, unknown>): Thenable<unknown> {
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      const feed = new ProgressFeed();
      const result = await this.server.executeCommand(command, [args], token, (value) => {
        const update = feed.update(value);
        if (update) progress.report(update);
      });
      // A cancelled request answers nothing (languageclient turns RequestCancelled into null): not a "0/0 passed" run.
      if (token.isCancellationRequested && (result === null || result === undefined)) throw new vscode.CancellationError();
      return result;
    });
  }

  private async runEvalsWith(command: string, args: Record<string, unknown>, title: string, what: string): Promise<void> {
    const result = await this.withServerProgress(title, command, args);
    const summary = summarizeEvalRun(result, what);
    this.evalOutput.appendLine(`${new Date().toISOString()} ${summary.message}`);
    summary.details.forEach((line) => this.evalOutput.appendLine(`  ${line}`));
    if (summary.reportPath) {
      this.evalOutput.appendLine(`  report: ${summary.reportPath}`);
      await this.context.workspaceState.update(LAST_REPORT_KEY, summary.reportPath);
    }
    const buttons = [...(summary.reportPath ? ["Open Report"] : []), "Show Details"];
    const show = summary.passed ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
    const choice = await show(summary.message, ...buttons);
    if (choice === "Open Report") await this.openLastEvalReport();
    else if (choice === "Show Details") this.evalOutput.show(true);
  }

  private async runEvals(): Promise<void> {
    if (this.restricted()) return;
    const active = this.activePrompt();
    if (!active || !this.offers(SERVER.runEvals)) return;
    const name = path.basename(active.editor.document.fileName);
    await this.runEvalsWith(SERVER.runEvals, { uri: active.uri }, `promptwise: running evals for ${name}`, "evals");
  }

  private async runEvalCase(): Promise<void> {
    if (this.restricted()) return;
    const active = this.activePrompt();
    if (!active || !this.offers(SERVER.runEvalCase)) return;
    const choices = this.server.serverCommands().includes(SERVER.listEvalCases)
      ? caseChoices(await this.server.executeCommand(SERVER.listEvalCases, [{ uri: active.uri }]))
      : [];
    let picked: { name: string; index?: number } | undefined;
    if (choices.length > 0) {
      const items = choices.map((c) => ({ label: c.name, description: c.index !== undefined ? `case ${c.index + 1}` : undefined, choice: c }));
      picked = (await vscode.window.showQuickPick(items, { title: "promptwise: Run Eval Case", placeHolder: "Case to run" }))?.choice;
    } else {
      const name = await vscode.window.showInputBox({ title: "promptwise: Run Eval Case", prompt: "Name of the case to run" });
      picked = name ? { name } : undefined;
    }
    if (!picked) return;
    await this.runEvalsWith(
      SERVER.runEvalCase,
      { uri: active.uri, case: picked.index ?? picked.name },
      `promptwise: running case ${picked.name}`,
      `case "${picked.name}"`,
    );
  }

  private async findCheapestModel(): Promise<void> {
    if (this.restricted()) return;
    const active = this.activePrompt();
    if (!active || !this.offers(SERVER.findCheapestModel)) return;
    const result = await this.withServerProgress("promptwise: finding the cheapest passing model", SERVER.findCheapestModel, { uri: active.uri });
    const edit = cheapestEdit(result);
    const client = this.server.languageClient;
    const buttons = edit && client ? ["Switch Model"] : [];
    const choice = await vscode.window.showInformationMessage(cheapestMessage(result), ...buttons);
    if (choice === "Switch Model" && client && edit) {
      const workspaceEdit = await client.protocol2CodeConverter.asWorkspaceEdit(edit as never);
      if (workspaceEdit) await vscode.workspace.applyEdit(workspaceEdit);
    }
  }

  /** The section whose heading (or the message whose role line) the cursor is on, condensed by a model and checked by
   * the evals; the server shows the result with Apply / Discard and applies only on Apply, after VS Code's preview. */
  private async condense(): Promise<void> {
    if (this.restricted()) return;
    const active = this.activePrompt();
    if (!active || !this.offers(SERVER.condense)) return;
    await this.withServerProgress("promptwise: condensing with a model", SERVER.condense, { uri: active.uri, line: active.editor.selection.active.line });
  }

  /** Run the suite on its models (and cheaper ones), then show "try A, escalate to B" and its LiteLLM Router config. */
  private async proposeCascade(): Promise<void> {
    if (this.restricted()) return;
    const active = this.activePrompt();
    if (!active || !this.offers(SERVER.proposeCascade)) return;
    const result = (await this.withServerProgress("promptwise: proposing a model cascade", SERVER.proposeCascade, { uri: active.uri })) as {
      cascade?: { lines?: string[]; routerConfig?: string | null };
    };
    const lines = result?.cascade?.lines ?? [];
    this.evalOutput.appendLine(lines.join("\n"));
    const proposed = lines.find((l) => l.trim().startsWith("proposed:"))?.trim() ?? lines[lines.length - 1]?.trim() ?? "no proposal";
    const config = result?.cascade?.routerConfig;
    const choice = await vscode.window.showInformationMessage(`promptwise: ${proposed}`, ...(config ? ["Open Router Config"] : []), "Show Details");
    if (choice === "Open Router Config" && config) {
      const doc = await vscode.workspace.openTextDocument({ language: "yaml", content: config });
      await vscode.window.showTextDocument(doc);
    } else if (choice === "Show Details") {
      this.evalOutput.show(true);
    }
  }

  /** The workspace folder of the active file (else the first folder) against a branch the user picks. */
  private async compareWithBranch(): Promise<void> {
    const client = this.server.languageClient;
    if (!client) {
      void vscode.window.showWarningMessage("promptwise: the server is not running yet (see Promptwise: Show Server Output).");
      return;
    }
    if (!this.offers(LIST_BRANCHES)) return;
    const document = vscode.window.activeTextEditor?.document;
    const uri = document && document.uri.scheme === "file" ? client.code2ProtocolConverter.asUri(document.uri) : undefined;
    await compareWithBranch((command, args, token) => this.server.executeCommand(command, args, token), editorUi(vscode, this.comparePreview), uri);
  }

  private async openLastEvalReport(): Promise<void> {
    const remembered = this.context.workspaceState.get<string>(LAST_REPORT_KEY);
    const uri = remembered ? toUri(remembered) : await latestRunFile();
    if (!uri) {
      void vscode.window.showInformationMessage("promptwise: no eval report yet. Run Promptwise: Run Evals for This File first.");
      return;
    }
    if (/\.html?$/i.test(uri.path)) {
      // Shown as a page with scripts off: a report is data, not code.
      const bytes = await vscode.workspace.fs.readFile(uri);
      const panel = vscode.window.createWebviewPanel("promptwise.evalReport", `Eval Report: ${path.basename(path.dirname(uri.path))}`, vscode.ViewColumn.Active, {
        enableScripts: false,
        enableFindWidget: true,
      });
      panel.webview.html = Buffer.from(bytes).toString("utf8");
    } else if (uri.path.endsWith(".md")) {
      await vscode.commands.executeCommand("markdown.showPreview", uri);
    } else {
      await vscode.window.showTextDocument(uri, { preview: false });
    }
  }
}

function toUri(report: string): vscode.Uri {
  return /^[a-z][\w+.-]*:/i.test(report) && !/^[a-z]:[\\/]/i.test(report) ? vscode.Uri.parse(report) : vscode.Uri.file(report);
}

/** The newest run the engine saved (`.promptwise/runs/<timestamp>/`): its report if it wrote one, else results.json. */
async function latestRunFile(): Promise<vscode.Uri | undefined> {
  const files = await vscode.workspace.findFiles("**/.promptwise/runs/*/{report.html,report.md,results.json}", undefined, 500);
  const rank = (u: vscode.Uri) => ["report.html", "report.md", "results.json"].indexOf(path.basename(u.path));
  files.sort((a, b) => path.basename(path.dirname(b.path)).localeCompare(path.basename(path.dirname(a.path))) || rank(a) - rank(b));
  return files[0];
}
