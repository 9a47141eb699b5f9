"""API keys never reach logs, reports, results or the cache, even when a server echoes them back."""

from __future__ import annotations

import json

from fake_server import Rule

KEY = "sk-live-PROMPTWISE-TEST-7f3a9c2e5b1d4068"

SUITE = """
models: [fake-gpt]
judge_model: fake-judge
embedding_model: fake-embed
cases:
  - name: ordinary
    vars: {ticket: my desk is late}
    assert:
      - type: contains
        value: late
      - type: llm-rubric
        value: Mentions the delay.
      - type: similar
        value: your desk is late
        threshold: 0.1
  - name: server echoes the key in its reply
    vars: {ticket: echo the header}
    assert: [{type: contains, value: header}]
  - name: server echoes the key in an error
    vars: {ticket: reject me}
    assert: [{type: contains, value: x}]
"""


def test_keys_never_leave_the_process(project, cli, monkeypatch):
    monkeypatch.setenv("PROMPTWISE_EVAL_KEY", KEY)
    project.user.route(project.server.url, key_env="PROMPTWISE_EVAL_KEY")
    server = project.server
    server.api_key = KEY  # every request must carry it, so it is really used
    server.reply(lambda b: b["model"] == "fake-judge", '{"pass": true, "reason": "mentions the delay"}')
    server.reply("echo the header", lambda body: f"the header was Bearer {KEY}")
    server.add(
        Rule(
            match="reject me",
            status=400,
            error_body={"error": {"message": f"Invalid request for key {KEY}", "type": "invalid_request_error"}},
        )
    )
    server.reply(None, "your desk is late, sorry")
    project.suite(SUITE)
    out = project.root / "out"
    result = cli(
        "eval",
        "--junit", str(out / "junit.xml"),
        "--json", str(out / "results.json"),
        "--report", str(out / "report.md"),
        cwd=project.root,
    )
    again = cli("eval", "--report", str(out / "report.html"), cwd=project.root)  # from the cache this time

    assert all(c.headers.get("Authorization") == f"Bearer {KEY}" for c in server.received)
    assert {c.endpoint for c in server.received} == {"chat", "embeddings"}
    assert result.code == 2 and again.code == 2
    data = json.loads((out / "results.json").read_text())
    ordinary, echoed, rejected = data["results"]
    assert ordinary["status"] == "passed"
    assert echoed["output"] == "the header was Bearer ***"
    assert rejected["status"] == "errored" and "Invalid request for key ***" in rejected["error"]

    written = [p for p in project.root.rglob("*") if p.is_file()]
    assert any(".promptwise/cache" in p.as_posix() for p in written)
    assert any(".promptwise/runs" in p.as_posix() for p in written)
    for path in written:
        assert KEY not in path.read_text(encoding="utf-8", errors="replace"), path
    for stream in (result.out, result.err, again.out, again.err):
        assert KEY not in stream


def test_what_counts_as_a_secret(monkeypatch):
    from promptwise.evals.calls import Secrets

    monkeypatch.setenv("DEPLOY_KEY_MODE", "production")  # short: a setting, not a credential
    monkeypatch.setenv("SOME_SERVICE_TOKEN", "tok-9f8e7d6c5b4a39281706")
    monkeypatch.setenv("SHORT_EVAL_KEY", "abc123")
    secrets = Secrets(["SHORT_EVAL_KEY"])
    text = "production uses tok-9f8e7d6c5b4a39281706 and abc123"
    assert secrets.scrub(text) == "production uses *** and ***"
    assert secrets.scrub(None) is None and secrets.scrub("") == ""
