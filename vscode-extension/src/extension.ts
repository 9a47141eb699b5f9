// Entry point: wires the server, the palette commands, the status bar and restarts on setting changes.

import * as vscode from "vscode";
import { Commands } from "./commands";
import { onPythonEnvironmentChange } from "./python";
import { PromptwiseServer } from "./server";
import { needsRestart } from "./settings";
import { settingIsEmpty } from "./trust";
import { TokenStatusBar } from "./statusBar";

let server: PromptwiseServer | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("promptwise", { log: true });
  server = new PromptwiseServer(output, context.extensionPath);
  const statusBar = new TokenStatusBar(server);
  const commands = new Commands(server, context, output);
  context.subscriptions.push(output, server, statusBar, ...commands.register());

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration("promptwise")) return;
      if (needsRestart((s) => e.affectsConfiguration(s))) {
        output.info("interpreter or document settings changed: restarting the server");
        void server?.restart();
      } else {
        server?.notifySettingsChanged();
      }
    }),
  );
  // Restricted Mode started the server without evals and with the user's interpreter only: start it again trusted.
  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      output.info("the folder is now trusted: restarting the server");
      void server?.restart();
    }),
  );
  const pythonWatch = await onPythonEnvironmentChange(() => {
    const setting = vscode.workspace.getConfiguration("promptwise").get("interpreter");
    // In Restricted Mode the Python extension's environment is not used, so its change changes nothing.
    if (vscode.workspace.isTrusted && settingIsEmpty(setting)) {
      output.info("the Python extension's environment changed: restarting the server");
      void server?.restart();
    }
  });
  if (pythonWatch) context.subscriptions.push(pythonWatch);

  // Not awaited: the first start of the bundled copy compiles its modules, and the workbench waits for activation
  // (quick open, the palette) until activate returns. Commands say so while the server is not running yet.
  void server.restart();
}

export async function deactivate(): Promise<void> {
  await server?.stop();
}
