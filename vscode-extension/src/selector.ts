// The documents the server serves: prompt languages, instruction files by name, and the plain-prompt globs. No `vscode` import.

export interface SelectorEntry {
  scheme?: string;
  language?: string;
  pattern?: string;
}

export const PROMPT_LANGUAGES = ["prompty", "dotprompt"] as const;

/** Instruction files an agent sends with its requests (the server recognises them by name, see formats/instruction_kinds.py). */
export const INSTRUCTION_PATTERNS = [
  "**/AGENTS.md",
  "**/CLAUDE.md",
  "**/CLAUDE.local.md",
  "**/GEMINI.md",
  "**/SKILL.md",
  "**/*.instructions.md",
  "**/*.prompt.md",
  "**/*.agent.md",
  "**/*.chatmode.md",
  "**/*.mdc",
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
