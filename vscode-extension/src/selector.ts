// The documents the server serves: prompt languages, instruction files by name, and the plain-prompt globs. No `vscode` import.

export interface SelectorEntry {
  scheme?: string;
  language?: string;
  pattern?: string;
}

export const PROMPT_LANGUAGES = ["prompty", "dotprompt"] as const;

/** Instruction files an agent sends on every request (the server recognises them by name). */
export const INSTRUCTION_PATTERNS = [
  "**/AGENTS.md",
  "**/CLAUDE.md",
  "**/CLAUDE.local.md",
  "**/*.instructions.md",
  "**/*.prompt.md",
  "**/.github/copilot-instructions.md",
  "**/.cursorrules",
] as const;

export function documentSelector(plainPromptGlobs: readonly string[]): SelectorEntry[] {
  const entries: SelectorEntry[] = [];
  for (const language of PROMPT_LANGUAGES) {
    entries.push({ scheme: "file", language }, { scheme: "untitled", language });
  }
  for (const pattern of [...INSTRUCTION_PATTERNS, ...plainPromptGlobs]) {
    entries.push({ scheme: "file", pattern });
  }
  return entries;
}
