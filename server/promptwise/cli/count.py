"""`promptwise count`: tokens and cost of one prompt file, stdin, or an OpenAI chat request body."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..analysis import Analysis, analyze, analyze_file, analyze_text
from ..config import load_config
from ..formats import Format, Message, PromptDocument
from ..text import Span
from . import output


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "count",
        help="count the tokens of a prompt file, stdin, or a chat request (.json)",
        description="Count prompt tokens and cost. FILE is a prompt file, '-' for stdin, or a .json OpenAI chat "
        "request body with model, messages and optional tools.",
    )
    p.add_argument("file", help="prompt file, '-' for stdin, or a .json request body")
    p.add_argument("--model", help="model to count and price with (default: the file's, else the config's)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


class InputError(ValueError):
    pass


def request_document(body: Any, path: Path) -> PromptDocument:
    """An OpenAI chat request body as a document, so it is counted exactly like a prompt file."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise InputError("a request body must be a JSON object with a 'messages' list")
    doc = PromptDocument(path=path, format=Format.PLAIN, text="")
    doc.model = body.get("model") if isinstance(body.get("model"), str) else None
    for i, raw in enumerate(body["messages"]):
        if not isinstance(raw, dict) or "role" not in raw:
            raise InputError(f"messages[{i}] must be an object with a 'role'")
        content = raw.get("content")
        images = 0
        if isinstance(content, list):
            texts = []
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text":
                    texts.append(str(part.get("text", "")))
                else:
                    images += 1
            content = "".join(texts)
        message = Message(str(raw["role"]), Span(0, 0), Span(0, 0), Span(0, 0), "" if content is None else str(content))
        message.name = raw.get("name") if isinstance(raw.get("name"), str) else None
        # Tool calls and non-text parts are outside the published counting rule: counted, not exact.
        if raw.get("tool_calls") or raw.get("function_call"):
            message.content += json.dumps(raw.get("tool_calls") or raw.get("function_call"))
            images += 1
        message.images = images
        doc.messages.append(message)
    tools = body.get("tools") or [{"type": "function", "function": f} for f in body.get("functions") or []]
    doc.tools = [t for t in tools if isinstance(t, dict)]
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    doc.max_output_tokens = max_tokens if isinstance(max_tokens, int) else None
    return doc


def count(file: str, model: str | None) -> Analysis:
    if file == "-":
        text = sys.stdin.read()
        stripped = text.lstrip()
        if stripped.startswith("{"):
            try:
                body = json.loads(text)
            except ValueError:
                body = None
            if isinstance(body, dict) and "messages" in body:
                return analyze(request_document(body, Path("<stdin>")), load_config(Path.cwd()), model=model)
        result = analyze_text(Path("stdin.txt"), text, load_config(Path.cwd()), Format.PLAIN, model)
    else:
        path = Path(file)
        if not path.is_file():
            raise InputError(f"{file}: no such file")
        config = load_config(path)
        if path.suffix == ".json":
            try:
                body = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise InputError(f"{file}: not valid JSON: {exc}") from None
            return analyze(request_document(body, path), config, model=model)
        from ..formats import detect_format

        fmt = detect_format(path, config.settings.plain_prompts, config.root) or Format.PLAIN
        result = analyze_file(path, config, fmt, model)
    if not isinstance(result, Analysis):
        raise InputError("; ".join(f.message for f in result))
    return result


def run(args: argparse.Namespace) -> int:
    try:
        a = count(args.file, args.model)
    except InputError as exc:
        print(f"promptwise count: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {
                    "prompt_tokens": a.prompt_tokens,
                    "model": a.model,
                    "catalog_model": a.card.name if a.card else None,
                    "tokenizer": a.tokenizer.encoding,
                    "exact": a.exact,
                    "cost": a.input_cost,
                    "expected_output_tokens": a.expected_output_tokens,
                    "cost_per_call": a.cost_per_call,
                    "tools_tokens": a.tools_tokens,
                    "messages": [{"role": m.message.role, "tokens": m.tokens} for m in a.messages],
                    "context_window": a.context_window,
                }
            )
        )
        return 0
    kind = "exact" if a.exact else "estimate"
    print(f"{a.prompt_tokens:,} prompt tokens ({kind}, {a.tokenizer.encoding}) on {a.model}")
    for m in a.messages:
        label = m.message.role + (f" ({m.message.name})" if m.message.name else "")
        print(f"  {label:<24}{m.tokens:>10,}")
    if a.tools_tokens:
        print(f"  {'tool definitions':<24}{a.tools_tokens:>10,}")
    if a.reply_priming:
        print(f"  {'reply priming':<24}{a.reply_priming:>10,}")
    print(
        f"input {output.money(a.input_cost)}; per call {output.money(a.cost_per_call)} "
        f"with {a.expected_output_tokens:,} output tokens"
    )
    for f in a.findings:
        if f.code == "unknown-model":
            print(f"warning: {f.message}", file=sys.stderr)
    return 0
