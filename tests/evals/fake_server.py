"""A programmable OpenAI-compatible HTTP server on loopback, for eval tests and the eval benchmark.

It serves `POST /v1/chat/completions`, `POST /v1/embeddings` and `GET /v1/models` on
127.0.0.1 with a real socket, so litellm (or a LiteLLM Proxy in front of it) makes real
HTTP calls. Replies are programmed with rules matched against the request's message
text: a fixed or computed reply, a status (401, 429 with Retry-After, 500), a delay
(latency or a timeout), malformed JSON, usage numbers, or an embedding vector.

Usage comes back as the OpenAI API reports it: `prompt_tokens_details.cached_tokens` and
`completion_tokens_details.reasoning_tokens` on every reply (0 unless a rule sets `cached_tokens` /
`reasoning_tokens`; reasoning is counted inside `completion_tokens`, as OpenAI bills it). A rule with
`usage_style="anthropic"` answers as litellm reports an Anthropic call instead: top-level
`cache_read_input_tokens` and `cache_creation_input_tokens` (`cache_write_tokens`), both included in
`prompt_tokens`.

In tests, use it from a fixture (see tests/evals/conftest.py):

    server = FakeLLMServer().start()
    server.reply("capital of France", "Paris")            # any request whose text contains it
    server.fail("flaky", status=429, retry_after=1, times=1)
    ...
    server.stop()

As a process (the benchmark uses this so the server does not share the client's GIL):

    python tests/evals/fake_server.py --latency 0.05 --lifetime 600
    # prints "listening http://127.0.0.1:PORT/v1" and serves until stdin closes or lifetime ends
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

@dataclass
class Rule:
    """How to answer requests whose text contains `match` (or for which `match(body)` is true)."""

    match: str | Callable[[dict[str, Any]], bool] | None = None
    reply: str | Callable[[dict[str, Any]], str] | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    latency: float | None = None  # seconds before answering (a large value makes the client time out)
    malformed: bool = False  # answer 200 with a body that is not JSON
    error_body: Any = None
    usage: dict[str, int] | None = None
    cached_tokens: int | None = None  # of the prompt tokens, served from the prompt cache
    cache_write_tokens: int | None = None  # of the prompt tokens, written to it (anthropic style only)
    reasoning_tokens: int | None = None  # hidden reasoning, added to completion_tokens
    usage_style: str = "openai"  # or "anthropic": the fields litellm keeps from an Anthropic reply
    tool_calls: list[dict[str, Any]] | None = None
    embedding: list[float] | None = None
    times: int | None = None  # apply to this many requests, then fall through to later rules
    endpoint: str | None = None  # "chat" or "embeddings"; None for both
    used: int = 0

    def applies(self, body: dict[str, Any], text: str, endpoint: str) -> bool:
        if self.endpoint is not None and self.endpoint != endpoint:
            return False
        if self.times is not None and self.used >= self.times:
            return False
        if self.match is None:
            return True
        if callable(self.match):
            return bool(self.match(body))
        return self.match in text


@dataclass
class Received:
    endpoint: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float


def request_text(body: dict[str, Any]) -> str:
    """All text a request carries: every message's content (text parts too), or the embedding input."""
    if "messages" in body:
        parts: list[str] = []
        for message in body.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
        return "\n".join(parts)
    value = body.get("input")
    return "\n".join(value) if isinstance(value, list) else str(value or "")


def last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def word_count(text: str) -> int:
    return len(re.findall(r"\S+", text))


def text_embedding(text: str, dims: int = 64) -> list[float]:
    """A deterministic bag-of-words vector: texts sharing words point the same way."""
    vector = [0.0] * dims
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        digest = hashlib.sha1(word.encode()).digest()
        vector[digest[0] % dims] += 1.0 if digest[1] % 2 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def usage_of(rule: Rule | None, prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    """The reply's `usage`, with the details real providers return (through litellm)."""
    cached = (rule.cached_tokens if rule is not None else None) or 0
    written = (rule.cache_write_tokens if rule is not None else None) or 0
    reasoning = (rule.reasoning_tokens if rule is not None else None) or 0
    usage: dict[str, Any] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
    if rule is not None and rule.usage:
        usage.update(rule.usage)
    usage["completion_tokens"] += reasoning  # the visible output's tokens, then the reasoning's
    if rule is not None and rule.usage_style == "anthropic":
        usage["prompt_tokens"] += cached + written  # Anthropic's input_tokens leave them out; litellm adds them back
        usage["cache_read_input_tokens"] = cached
        usage["cache_creation_input_tokens"] = written
    else:
        usage["prompt_tokens_details"] = {"cached_tokens": cached, "audio_tokens": 0}
    usage["completion_tokens_details"] = {
        "reasoning_tokens": reasoning,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    }
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return usage


class FakeLLMServer:
    """An OpenAI-compatible server on 127.0.0.1, run in its own thread with its own event loop."""

    def __init__(self, latency: float = 0.0, api_key: str | None = None, record: bool = True) -> None:
        self.latency = latency
        self.api_key = api_key  # when set, other Authorization headers get 401
        self.record = record
        self.rules: list[Rule] = []
        self.received: list[Received] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._lock = threading.Lock()

    # ---- programming replies ----

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def reply(self, match: Any, reply: Any, **kw: Any) -> Rule:
        return self.add(Rule(match=match, reply=reply, **kw))

    def fail(self, match: Any, status: int, retry_after: float | None = None, times: int | None = None, **kw: Any) -> Rule:
        headers = dict(kw.pop("headers", {}) or {})
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        return self.add(Rule(match=match, status=status, headers=headers, times=times, **kw))

    def reset(self) -> None:
        with self._lock:
            self.rules.clear()
            self.received.clear()
            self.max_in_flight = 0
        self.latency = 0.0
        self.api_key = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def calls(self, endpoint: str | None = "chat") -> list[Received]:
        with self._lock:
            return [r for r in self.received if endpoint is None or r.endpoint == endpoint]

    # ---- lifecycle ----

    def start(self, port: int = 0) -> "FakeLLMServer":
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve(port))
            except BaseException as exc:  # surface bind errors to start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup() if self._runner else asyncio.sleep(0))
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-llm-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop = None
        self._thread = None

    def __enter__(self) -> "FakeLLMServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    async def _serve(self, port: int) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._counted(self._chat))
        app.router.add_post("/chat/completions", self._counted(self._chat))
        app.router.add_post("/v1/embeddings", self._counted(self._embeddings))
        app.router.add_post("/embeddings", self._counted(self._embeddings))
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port, backlog=1024)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        self.port = sockets[0].getsockname()[1]

    # ---- handlers ----

    def _counted(self, handler: Callable[[web.Request], Any]) -> Callable[[web.Request], Any]:
        async def counted(request: web.Request) -> web.StreamResponse:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                return await handler(request)
            finally:
                self.in_flight -= 1

        return counted

    def _pick(self, body: dict[str, Any], endpoint: str) -> Rule | None:
        text = request_text(body)
        with self._lock:
            for rule in self.rules:
                if rule.applies(body, text, endpoint):
                    rule.used += 1
                    return rule
        return None

    async def _prelude(self, request: web.Request, endpoint: str) -> tuple[dict[str, Any] | None, Rule | None, web.Response | None]:
        try:
            body = await request.json()
        except ValueError:
            return None, None, web.json_response({"error": {"message": "request body is not JSON", "type": "invalid_request_error"}}, status=400)
        if self.record:
            with self._lock:
                self.received.append(Received(endpoint, body, dict(request.headers), time.monotonic()))
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return body, None, web.json_response(
                {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error", "code": "invalid_api_key"}},
                status=401,
            )
        rule = self._pick(body, endpoint)
        delay = rule.latency if rule is not None and rule.latency is not None else self.latency
        if delay:
            await asyncio.sleep(delay)
        if rule is not None and rule.malformed:
            return body, rule, web.Response(status=200, text='{"id": "chatcmpl-broken", "choices": [', content_type="application/json")
        if rule is not None and rule.status != 200:
            error = rule.error_body or {"error": {"message": f"fake server error {rule.status}", "type": "server_error", "code": rule.status}}
            return body, rule, web.json_response(error, status=rule.status, headers=rule.headers)
        return body, rule, None

    async def _chat(self, request: web.Request) -> web.Response:
        body, rule, early = await self._prelude(request, "chat")
        if early is not None:
            return early
        assert body is not None
        if rule is not None and rule.reply is not None:
            content = rule.reply(body) if callable(rule.reply) else rule.reply
        elif rule is not None and rule.tool_calls:
            content = None
        else:
            content = "echo: " + last_user_text(body)
        prompt_tokens = sum(word_count(str(m.get("content", ""))) + 4 for m in body.get("messages") or []) + 3
        completion_tokens = word_count(content or "") + 1
        usage = usage_of(rule, prompt_tokens, completion_tokens)
        message: dict[str, Any] = {"role": "assistant", "content": content}
        finish = "stop"
        if rule is not None and rule.tool_calls:
            message["tool_calls"] = rule.tool_calls
            finish = "tool_calls"
        return web.json_response(
            {
                "id": "chatcmpl-fake-" + hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12],
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                "usage": usage,
            },
            headers=rule.headers if rule is not None else None,
        )

    async def _embeddings(self, request: web.Request) -> web.Response:
        body, rule, early = await self._prelude(request, "embeddings")
        if early is not None:
            return early
        assert body is not None
        inputs = body.get("input")
        texts = inputs if isinstance(inputs, list) else [inputs]
        data = []
        for i, text in enumerate(texts):
            vector = rule.embedding if rule is not None and rule.embedding is not None else text_embedding(str(text))
            data.append({"object": "embedding", "index": i, "embedding": vector})
        tokens = sum(word_count(str(t)) for t in texts)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body.get("model", "fake-embedding"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake-gpt", "object": "model", "owned_by": "fake"}]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the fake OpenAI-compatible server on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before every reply")
    parser.add_argument("--lifetime", type=float, default=900.0, help="stop after this many seconds")
    parser.add_argument("--rules", help='a JSON file of [{"match": TEXT, "reply": TEXT}], tried before the echo reply')
    args = parser.parse_args(argv)
    server = FakeLLMServer(latency=args.latency, record=False)
    if args.rules:
        with open(args.rules, encoding="utf-8") as handle:
            for rule in json.load(handle):
                server.reply(rule["match"], rule["reply"])
    server.start(args.port)
    print(f"listening {server.url}", flush=True)
    done = threading.Event()
    # Stop when the parent closes our stdin, or after the lifetime, whichever comes first.
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait(args.lifetime)
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
