// One log line naming what the server announced in its initialize result. No `vscode` import.
// The end-to-end test reads this line ("server offers: ...") to tell a missing server feature from a broken client.

export function describeCapabilities(caps: Record<string, unknown> | undefined): string {
  if (!caps) return "nothing";
  const features = Object.keys(caps)
    .filter((k) => k.endsWith("Provider") && k !== "executeCommandProvider" && caps[k] !== undefined && caps[k] !== null && caps[k] !== false)
    .map((k) => k.replace(/Provider$/, ""))
    .sort();
  const commands = (caps.executeCommandProvider as { commands?: unknown } | undefined)?.commands;
  const names = Array.isArray(commands) ? commands.filter((c): c is string => typeof c === "string") : [];
  return `features: ${features.join(", ") || "none"}; commands: ${names.join(", ") || "none"}`;
}
