// "Compare Prompt Costs with Branch...": the server lists the branches, compares the workspace folder with the one
// picked (promptwise diff) and returns Markdown, shown in a Markdown preview. Only type imports of `vscode`: the
// editor's parts come in as a `CompareUi`, so the flow is unit-tested without an editor.

import type * as vscode from "vscode";
import { list, obj, str } from "./format";

export const LIST_BRANCHES = "promptwise.listBranches";
export const COMPARE_COSTS = "promptwise.compareCosts";
export const TITLE = "Compare Prompt Costs with Branch";
export const SCHEME = "promptwise-compare";

export interface BranchItem {
  label: string;
  description?: string;
  ref: string;
  branchKind: string; // "merge-base", "head", "local" or "remote"
}

/** What the command needs of the editor: a quick pick, a progress notification, the preview and a message. */
export interface CompareUi {
  pick(items: BranchItem[], title: string): Promise<BranchItem | undefined>;
  progress<T>(title: string, task: (token?: vscode.CancellationToken) => Promise<T>): Promise<T>;
  show(markdown: string, title: string): Promise<void>;
  info(message: string): void;
}

/** A server command, as `PromptwiseServer.executeCommand` sends it. */
export type RunCommand = (command: string, args: unknown[], token?: vscode.CancellationToken) => Promise<unknown>;

/** The quick pick's items from a `promptwise.listBranches` result (server/promptwise/lsp/review.py), in its order. */
export function branchItems(result: unknown): BranchItem[] {
  const items: BranchItem[] = [];
  for (const raw of list(obj(result).branches)) {
    const b = obj(raw);
    const label = str(b.label);
    const ref = str(b.ref) ?? label;
    if (!label || !ref) continue;
    items.push({ label: b.kind === "remote" ? `$(cloud) ${label}` : b.kind === "local" ? `$(git-branch) ${label}` : label, description: str(b.description), ref, branchKind: str(b.kind) ?? "local" });
  }
  return items;
}

/** The name the branch goes by in titles, without its icon. */
export function plainLabel(item: BranchItem): string {
  return item.label.replace(/^\$\([^)]*\)\s*/, "");
}

/** True for the server's answer when the folder is not in a git repository (or git is missing): a message, not an error. */
export function notARepository(err: unknown): string | undefined {
  const message = err instanceof Error ? err.message : typeof err === "string" ? err : str(obj(err).message);
  return message && /not in a git repository|git is not installed/.test(message) ? message : undefined;
}

/** The whole command: list, pick, compare under a progress notification, show. `uri`: the active file, for its folder. */
export async function compareWithBranch(run: RunCommand, ui: CompareUi, uri?: string): Promise<void> {
  const where = uri ? [{ uri }] : [{}];
  let listed: unknown;
  try {
    listed = await run(LIST_BRANCHES, where);
  } catch (err) {
    const why = notARepository(err);
    if (!why) throw err;
    ui.info(`promptwise: ${why}`);
    return;
  }
  const items = branchItems(listed);
  if (items.length === 0) {
    ui.info("promptwise: the repository has no branch or commit to compare with yet.");
    return;
  }
  const picked = await ui.pick(items, TITLE);
  if (!picked) return;
  const name = plainLabel(picked);
  const result = await ui.progress(`promptwise: comparing prompt costs with ${name}`, (token) =>
    run(COMPARE_COSTS, [{ ...where[0], base: picked.ref }], token),
  );
  if (result === null || result === undefined) return; // cancelled
  const markdown = str(obj(result).markdown);
  if (!markdown) throw new Error("the server returned no comparison");
  await ui.show(markdown, `Prompt Costs vs ${name}`);
}

/** Read-only documents holding each comparison's Markdown, shown with the built-in Markdown preview. */
export class ComparePreview implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly changed: vscode.EventEmitter<vscode.Uri>;
  readonly onDidChange: vscode.Event<vscode.Uri>;
  private readonly registration: vscode.Disposable;

  constructor(private readonly vs: typeof vscode) {
    this.changed = new vs.EventEmitter<vscode.Uri>();
    this.onDidChange = this.changed.event;
    this.registration = vs.workspace.registerTextDocumentContentProvider(SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? "";
  }

  async show(markdown: string, title: string): Promise<void> {
    const uri = this.vs.Uri.from({ scheme: SCHEME, path: `/${title.replace(/[\\/:*?"<>|]+/g, "-")}.md` });
    this.texts.set(uri.toString(), markdown);
    this.changed.fire(uri); // a second comparison with the same branch replaces the first
    await this.vs.workspace.openTextDocument(uri);
    await this.vs.commands.executeCommand("markdown.showPreview", uri);
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}

/** The editor's side of `CompareUi`. */
export function editorUi(vs: typeof vscode, preview: ComparePreview): CompareUi {
  return {
    async pick(items, title) {
      return vs.window.showQuickPick(items, { title: `promptwise: ${title}`, placeHolder: "Branch or commit to compare the workspace with", matchOnDescription: true });
    },
    progress(title, task) {
      return Promise.resolve(
        vs.window.withProgress({ location: vs.ProgressLocation.Notification, title, cancellable: true }, (_progress, token) => task(token)),
      );
    },
    show: (markdown, title) => preview.show(markdown, title),
    info(message) {
      void vs.window.showWarningMessage(message);
    },
  };
}
