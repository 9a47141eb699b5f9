// The server's work-done progress for a command ($/progress begin/report/end) as updates to the one notification the client shows. No `vscode` import.

/** The value of a `$/progress` notification on a work-done token (LSP WorkDoneProgressBegin, Report or End). */
export interface WorkDoneValue {
  kind: "begin" | "report" | "end";
  message?: string;
  percentage?: number;
}

/** What to pass to the notification's `progress.report`: a message, and how much the bar grows (in percent). */
export interface NotificationUpdate {
  message?: string;
  increment?: number;
}

/**
 * Turns each progress value of one run into a notification update, or undefined when there is nothing to show.
 * A notification's bar only grows, so it follows the highest percentage seen: when the server starts a new phase
 * at a lower percentage (Find Cheapest Passing Model tries each model in turn) only the message changes.
 * The end is not shown: the notification closes when the command answers.
 */
export class ProgressFeed {
  private shown = 0;

  update(value: WorkDoneValue): NotificationUpdate | undefined {
    if (value.kind === "end") return undefined;
    const update: NotificationUpdate = {};
    if (value.message) update.message = value.message;
    if (typeof value.percentage === "number" && Number.isFinite(value.percentage)) {
      const percent = Math.max(0, Math.min(100, value.percentage));
      if (percent > this.shown) {
        update.increment = percent - this.shown;
        this.shown = percent;
      }
    }
    return update.message !== undefined || update.increment !== undefined ? update : undefined;
  }
}
