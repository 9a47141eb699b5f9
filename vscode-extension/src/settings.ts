// Map the editor's `promptwise.*` settings to what the server accepts, and name the ones that need a restart. No `vscode` import.

/** Settings the server understands, as it spells them (see server/promptwise/lsp/settings.py). */
export interface ServerSettings {
  defaultModel?: string;
  expectedOutputTokens?: number;
  warnAt?: number;
  maxFileSize?: number;
  budgets?: Record<string, number>;
  inlayHints: { enabled: boolean };
  hover: { enabled: boolean };
  diagnostics: { enabled: boolean };
}

/** Keys read from the `promptwise` section to build ServerSettings. */
export const SERVER_SETTING_KEYS = [
  "defaultModel",
  "expectedOutputTokens",
  "warnAt",
  "maxFileSize",
  "budgets",
  "inlayHints.enabled",
  "hover.enabled",
  "diagnostics.enabled",
] as const;

/**
 * Settings whose change means a new server process (or a new document selector), not just new settings. The user's
 * readable folders and eval host reach the server only in its initialization options.
 */
export const RESTART_SETTINGS = ["promptwise.interpreter", "promptwise.plainPrompts", "promptwise.allowRead", "promptwise.evals"] as const;

export const DEFAULT_WARN_AT = 0.8;

/**
 * `get(key)` reads one key of the `promptwise` section. Unset, null and empty values are left out so the
 * project's config file decides; other values are passed through for the server to validate and report on.
 * Client-only settings (interpreter, plainPrompts, statusBar, trace) are never sent; nor are allowRead and evals.*,
 * which go in `initializationOptions.user`, from user-scope values only (trust.ts).
 */
export function toServerSettings(get: (key: string) => unknown): ServerSettings {
  const out: ServerSettings = {
    inlayHints: { enabled: flag(get("inlayHints.enabled")) },
    hover: { enabled: flag(get("hover.enabled")) },
    diagnostics: { enabled: flag(get("diagnostics.enabled")) },
  };
  const model = get("defaultModel");
  if (typeof model === "string" && model.trim() !== "") {
    out.defaultModel = model.trim();
  }
  const expected = get("expectedOutputTokens");
  if (isNumber(expected)) {
    out.expectedOutputTokens = expected;
  }
  const warnAt = get("warnAt");
  if (isNumber(warnAt)) {
    out.warnAt = warnAt;
  }
  const maxFileSize = get("maxFileSize");
  if (isNumber(maxFileSize)) {
    out.maxFileSize = maxFileSize;
  }
  const budgets = get("budgets");
  if (budgets && typeof budgets === "object" && !Array.isArray(budgets) && Object.keys(budgets).length > 0) {
    out.budgets = { ...(budgets as Record<string, number>) };
  }
  return out;
}

/** Reads a plain nested object (as `workspace.getConfiguration` returns it, or a test fixture) by dotted key. */
export function readerFor(section: Record<string, unknown>): (key: string) => unknown {
  return (key) =>
    key.split(".").reduce<unknown>((node, part) => {
      if (node && typeof node === "object") {
        return (node as Record<string, unknown>)[part];
      }
      return undefined;
    }, section);
}

/** True when a configuration change touches a setting that needs the server restarted. */
export function needsRestart(affects: (setting: string) => boolean): boolean {
  return RESTART_SETTINGS.some((s) => affects(s));
}

export function warnAtOrDefault(value: unknown): number {
  return isNumber(value) && value > 0 && value <= 1 ? value : DEFAULT_WARN_AT;
}

/** Globs from `promptwise.plainPrompts`: strings only, blanks dropped; the default when unset or not an array. */
export function plainPromptGlobs(value: unknown): string[] {
  if (!Array.isArray(value)) {
    return [...DEFAULT_PLAIN_PROMPTS];
  }
  return value.filter((v): v is string => typeof v === "string" && v.trim() !== "").map((v) => v.trim());
}

export const DEFAULT_PLAIN_PROMPTS = ["**/prompts/**/*.txt", "**/prompts/**/*.md"] as const;

function flag(value: unknown): boolean {
  return typeof value === "boolean" ? value : true;
}

function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}
