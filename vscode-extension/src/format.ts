// Wording for numbers the client shows (status bar, messages, breakdown), matching the server's labels. No `vscode` import.

export function tokens(n: number, exact = true): string {
  return `${exact ? "" : "~"}${Math.round(n).toLocaleString("en-US")} token${n === 1 ? "" : "s"}`;
}

/** Two significant digits below a dollar ($0.00083, $0.014, $0.25), cents above ($1,234.50): as the server's hints. */
export function money(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return "n/a";
  }
  if (value <= 0) {
    return "$0";
  }
  if (value >= 1) {
    return `$${value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  }
  const decimals = Math.max(2, 1 - Math.floor(Math.log10(value)));
  return `$${value.toFixed(decimals)}`;
}

export function share(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return "n/a";
  }
  if (value > 0 && value < 0.005) {
    return "<1%";
  }
  return `${Math.round(value * 100)}%`;
}

export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

export function obj(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
