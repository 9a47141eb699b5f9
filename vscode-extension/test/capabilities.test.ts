import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeCapabilities } from "../src/capabilities";

describe("the 'server offers' log line", () => {
  it("names the providers and the server's commands", () => {
    const caps = {
      textDocumentSync: 2,
      hoverProvider: true,
      inlayHintProvider: { resolveProvider: false },
      diagnosticProvider: { interFileDependencies: true, workspaceDiagnostics: false },
      codeActionProvider: false,
      executeCommandProvider: { commands: ["promptwise.countTokens", "promptwise.showBreakdown"] },
    };
    assert.equal(
      describeCapabilities(caps),
      "features: diagnostic, hover, inlayHint; commands: promptwise.countTokens, promptwise.showBreakdown",
    );
  });

  it("says none when there is nothing", () => {
    assert.equal(describeCapabilities({}), "features: none; commands: none");
    assert.equal(describeCapabilities(undefined), "nothing");
  });
});
