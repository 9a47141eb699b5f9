// The status bar item: the active prompt file's tokens, cost per call and budget use, from promptwise.showBreakdown.

import * as vscode from "vscode";
import { PromptwiseServer } from "./server";
import { warnAtOrDefault } from "./settings";
import { statusView } from "./status";

const DEBOUNCE_MS = 350;
export const SHOW_BREAKDOWN = "promptwise.client.showBreakdown";

export class TokenStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;

  constructor(private readonly server: PromptwiseServer) {
    this.item = vscode.window.createStatusBarItem("promptwise.tokens", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "promptwise: tokens and cost";
    this.item.command = SHOW_BREAKDOWN;
    this.disposables.push(
      this.item,
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule(0)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === vscode.window.activeTextEditor?.document) this.schedule(DEBOUNCE_MS);
      }),
      vscode.languages.onDidChangeDiagnostics((e) => {
        const active = vscode.window.activeTextEditor?.document.uri.toString();
        if (active && e.uris.some((u) => u.toString() === active)) this.schedule(50);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("promptwise")) this.schedule(DEBOUNCE_MS);
      }),
      server.onDidChangeStatus(() => this.schedule(0)),
    );
    this.schedule(0);
  }

  /** True when the server serves this document (language, instruction file name, or plain-prompt glob). */
  isPromptDocument(document: vscode.TextDocument | undefined): boolean {
    return document !== undefined && this.server.selector.length > 0 && vscode.languages.match(this.server.selector, document) > 0;
  }

  schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(), delay);
  }

  private async update(): Promise<void> {
    const generation = ++this.generation;
    const editor = vscode.window.activeTextEditor;
    const document = editor?.document;
    const enabled = vscode.workspace.getConfiguration("promptwise").get<boolean>("statusBar.enabled", true);
    const isPrompt = this.isPromptDocument(document);
    void vscode.commands.executeCommand("setContext", "promptwise.isPromptFile", isPrompt);
    if (!enabled || !document || !isPrompt) {
      this.item.hide();
      return;
    }
    const status = this.server.status;
    if (status.state === "failed") {
      this.show("$(error) promptwise: not running", status.message, "error");
      this.item.command = "promptwise.showServerOutput";
      return;
    }
    if (status.state !== "running") {
      this.show("$(sync~spin) promptwise", "Starting the promptwise server…", "ok");
      return;
    }
    this.item.command = SHOW_BREAKDOWN;
    const client = this.server.languageClient;
    if (!client) return;
    try {
      const breakdown = await this.server.executeCommand("promptwise.showBreakdown", [
        { uri: client.code2ProtocolConverter.asUri(document.uri) },
      ]);
      if (generation !== this.generation) return;
      const warnAt = warnAtOrDefault(vscode.workspace.getConfiguration("promptwise", document.uri).get("warnAt"));
      const view = statusView(breakdown, warnAt);
      if (!view) {
        this.show("$(question) promptwise", "The server returned no token count for this file.", "ok");
        return;
      }
      this.show(view.text, view.tooltip, view.level);
    } catch (err) {
      if (generation !== this.generation) return;
      // Usually "not open yet" right after opening; the diagnostics that follow trigger another update.
      this.show("$(warning) promptwise", `No token count: ${err instanceof Error ? err.message : String(err)}`, "ok");
    }
  }

  private show(text: string, tooltip: string, level: "ok" | "warning" | "error"): void {
    this.item.text = text;
    this.item.tooltip = new vscode.MarkdownString(tooltip);
    this.item.backgroundColor =
      level === "error"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : level === "warning"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
    this.item.accessibilityInformation = { label: `promptwise: ${text.replace(/\$\([^)]*\)\s*/g, "")}` };
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.disposables.forEach((d) => d.dispose());
  }
}
