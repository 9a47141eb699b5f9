"""The bundled example suites run end to end against the fake server, answering the way a good model would."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from fake_server import Rule

from promptwise.evals.assertions import JUDGE_SYSTEM

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def tool_call(name: str, **arguments) -> dict:
    return {"id": f"call_{name}", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


def is_judge(body) -> bool:
    messages = body.get("messages") or [{}]
    return messages[0].get("content") == JUDGE_SYSTEM


def program_support_model(server) -> None:
    server.reply(is_judge, '{"pass": true, "reason": "offers a free replacement leg and needs no return first"}')
    server.reply(
        "arrived yesterday with one leg column",
        "TRIAGE: damage, frustrated, not escalated\nREPLY: Hi Priya, a dented leg is no way to start. A free replacement "
        "leg ships today and there is nothing to send back. If you can, reply with one photo of the dent.",
    )
    server.add(Rule(match="charged $49.00 for shipping twice", tool_calls=[tool_call("lookup_order", order_id="NW-211734", include_payments=True)]))
    server.add(
        Rule(
            match="monitor arm snapped",
            tool_calls=[tool_call("escalate_ticket", queue="product_safety", priority="p1_urgent", reason="Monitor arm failed; child cut.")],
        )
    )
    server.add(
        Rule(match="close my account", tool_calls=[tool_call("escalate_ticket", queue="retention", priority="p3_standard", reason="Wants to close account.")])
    )
    server.reply(
        "Hola, pedí un escritorio",
        "TRIAGE: shipping, frustrated, escalated\nREPLY: Hola Lucía, siento la espera. El seguimiento de tu pedido no se ha "
        "movido en ocho días, así que lo he pasado a nuestro equipo de logística, que te escribirá hoy mismo.",
    )
    server.reply(
        "need it by Friday",
        "TRIAGE: shipping, neutral, not escalated\nREPLY: Hi Wen, the carrier's estimate is Thursday. It is an estimate, "
        "so I'll keep an eye on the tracking for you.",
    )


def program_review_model(server) -> None:
    server.reply(is_judge, '{"pass": true, "reason": "flags the SQL injection and suggests a parameterized query"}')
    request_changes = {"verdict": "request_changes", "comments": [{"line": 42, "message": "This builds SQL from an f-string: use a parameterized query."}]}
    server.reply("SELECT id FROM invoices", json.dumps(request_changes))
    server.reply("servise", json.dumps({"verdict": "approve", "comments": []}))
    bare_except = {"verdict": "request_changes", "comments": [{"line": 50, "message": "A bare except hides a missing tax rate."}]}
    server.reply("except:", json.dumps(bare_except))
    server.reply("round(price, 2)", json.dumps({"verdict": "comment", "comments": [{"line": 44, "message": "Rounding each line before summing drifts totals."}]}))
    server.reply("docstring", json.dumps({"verdict": "comment", "comments": [{"line": 11, "message": "Add a docstring to get_user."}]}))
    server.reply("rate = TAX_RATES", json.dumps({"verdict": "approve", "comments": []}))


def test_example_suites_pass_against_a_good_model(tmp_path, fake_llm, cli, user_config):
    root = tmp_path / "examples"
    shutil.copytree(EXAMPLES, root)
    config = root / "promptwise.toml"
    config.write_text(config.read_text() + "\n[evals]\nretries = 0\n")
    program_support_model(fake_llm)
    program_review_model(fake_llm)
    # The gateway comes from the command line, as a user would point a run at a LiteLLM Proxy.
    result = cli("eval", "support", "dotprompt", "--json", "out.json", "--api-base", fake_llm.url, cwd=root)
    assert result.code == 0, result.out + result.err
    data = json.loads((root / "out.json").read_text())
    assert len(data["results"]) == 6 * 2 + 6  # triage on two models, review on one
    assert {r["status"] for r in data["results"]} == {"passed"}
    assert {m["model"] for m in data["models"]} == {"gpt-4o", "gpt-4o-mini", "openai/gpt-4.1-mini"}
    by_model = {m["model"]: m for m in data["models"]}
    assert by_model["gpt-4o"]["cost"] > by_model["gpt-4o-mini"]["cost"] > 0  # real catalog prices on real usage
    sent = [c.body for c in fake_llm.calls() if not is_judge(c.body)]
    triage = [b for b in sent if "Northwind Home" in b["messages"][0]["content"]]
    assert all(b["temperature"] == 0 and b["seed"] == 7 and b["max_tokens"] == 800 for b in triage)
    assert all([t["function"]["name"] for t in b["tools"]] == ["lookup_order", "escalate_ticket"] for b in triage)
    review = [b for b in sent if b["model"] == "openai/gpt-4.1-mini"]
    assert len(review) == 6 and all(b["response_format"] == {"type": "json_object"} for b in review)
    assert any("Every new public function needs a docstring." in b["messages"][1]["content"] for b in review)
    assert fake_llm.calls("embeddings")
