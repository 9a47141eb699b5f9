"""Model calls through litellm (imported on the first real call): targets from config, retries, timeouts, secrets kept out."""

from __future__ import annotations

import asyncio
import email.utils
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from ..pricing import CallCost
from .billing import CallTokens, price_call, tokens_of
from .routing import Target, resolve_target
from .secrets import Secrets

__all__ = ["Completion", "Embedding", "ModelClient", "ProviderError", "Secrets", "Target", "load_litellm", "resolve_target"]

MAX_RETRY_WAIT = 60.0
_litellm: Any = None


def load_litellm() -> Any:
    """Import litellm once, offline: its price map from the wheel, no debug banners."""
    global _litellm
    if _litellm is None:
        _no_uname_process()
        os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
        import litellm

        litellm.suppress_debug_info = True
        litellm.telemetry = False
        _quiet_logs()
        _litellm = litellm
    return _litellm


class ProviderError(Exception):
    """A call that failed for good: after retries, or at once for errors a retry cannot fix."""

    def __init__(self, message: str, status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.attempts = attempts


def _no_uname_process() -> None:
    """The OpenAI SDK describes the platform in a header, and platform.processor() runs `uname -p` to
    learn it. An eval starts no process: the processor is recorded as unknown instead."""
    import platform

    try:
        platform.uname().__dict__.setdefault("processor", "")  # the cached_property's slot
    except (AttributeError, TypeError):  # another Python's platform module: leave it
        pass


def _quiet_logs() -> None:
    """litellm's own loggers may quote a request (its headers included): only errors, and scrubbed."""
    import logging

    secrets = Secrets()

    class _Scrub(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            try:
                record.msg = secrets.scrub(record.getMessage()) or ""
                record.args = None
            except Exception:  # a record that cannot be formatted is dropped, not shown raw
                return False
            return True

    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm", "httpx"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.ERROR)
        logger.addFilter(_Scrub())


@dataclass
class Completion:
    text: str
    tool_calls: list[dict[str, Any]] | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    latency_ms: float
    attempts: int = 1
    finish_reason: str | None = None
    cached: bool = False
    cached_tokens: int | None = None  # of the prompt tokens, read from the provider's prompt cache
    cache_write_tokens: int | None = None  # of the prompt tokens, written to it
    reasoning_tokens: int | None = None  # of the completion tokens, hidden reasoning
    priced: CallCost | None = None  # the cost model's parts behind `cost` (not kept in the response cache)

    @property
    def tokens(self) -> CallTokens:
        return CallTokens(self.prompt_tokens, self.completion_tokens, self.cached_tokens, self.cache_write_tokens, self.reasoning_tokens)

    def to_cache(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "tool_calls": self.tool_calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cached_tokens": self.cached_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "cost": self.cost,
            "latency_ms": self.latency_ms,
            "finish_reason": self.finish_reason,
        }

    @classmethod
    def from_cache(cls, entry: dict[str, Any]) -> "Completion":
        return cls(
            text=entry.get("text") or "",
            tool_calls=entry.get("tool_calls"),
            prompt_tokens=entry.get("prompt_tokens"),
            completion_tokens=entry.get("completion_tokens"),
            # Entries written before these were recorded have none: the call is then priced without them.
            cached_tokens=entry.get("cached_tokens"),
            cache_write_tokens=entry.get("cache_write_tokens"),
            reasoning_tokens=entry.get("reasoning_tokens"),
            cost=entry.get("cost"),
            latency_ms=float(entry.get("latency_ms") or 0.0),
            attempts=0,
            finish_reason=entry.get("finish_reason"),
            cached=True,
        )


@dataclass
class Embedding:
    vectors: list[list[float]]
    tokens: int | None
    cost: float | None


@dataclass
class CallSettings:
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 1.0


@dataclass
class ModelClient:
    """Calls models with bounded retries; every error message passes through `secrets.scrub`."""

    settings: CallSettings = field(default_factory=CallSettings)
    secrets: Secrets = field(default_factory=Secrets)
    calls: int = 0
    retried: int = 0

    async def complete(
        self,
        target: Target,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
        timeout: float | None = None,
        service_tier: str = "standard",
    ) -> Completion:
        """One chat call; its cost is priced at `service_tier`'s prices (the call itself goes out as usual)."""
        problem = target.missing_key()
        if problem:
            raise ProviderError(problem)
        litellm = load_litellm()
        timeout = timeout or self.settings.timeout
        kwargs: dict[str, Any] = {
            **params,
            "model": target.model,
            "messages": messages,
            "timeout": timeout,
            "num_retries": 0,
            "max_retries": 0,
            "drop_params": True,
        }
        if target.api_base:
            kwargs["api_base"] = target.api_base
        key = target.api_key()
        if key:
            kwargs["api_key"] = key
        response, latency, attempts = await self._with_retries(litellm.acompletion, kwargs, timeout)
        return self._completion(litellm, target, response, latency, attempts, service_tier)

    async def embed(self, target: Target, texts: list[str], timeout: float | None = None) -> Embedding:
        problem = target.missing_key()
        if problem:
            raise ProviderError(problem)
        litellm = load_litellm()
        timeout = timeout or self.settings.timeout
        kwargs: dict[str, Any] = {"model": target.model, "input": texts, "timeout": timeout, "num_retries": 0, "max_retries": 0}
        if target.api_base:
            kwargs["api_base"] = target.api_base
        key = target.api_key()
        if key:
            kwargs["api_key"] = key
        response, _, _ = await self._with_retries(litellm.aembedding, kwargs, timeout)
        data = sorted(response.data, key=lambda d: d["index"] if isinstance(d, dict) else d.index)
        vectors = [list(d["embedding"] if isinstance(d, dict) else d.embedding) for d in data]
        usage = getattr(response, "usage", None)
        tokens = getattr(usage, "prompt_tokens", None) if usage is not None else None
        cost = target.card.cost(tokens, 0) if (target.card is not None and tokens is not None) else None
        return Embedding(vectors, tokens, cost)

    async def _with_retries(self, call: Any, kwargs: dict[str, Any], timeout: float) -> tuple[Any, float, int]:
        attempt = 0
        while True:
            attempt += 1
            self.calls += 1
            started = time.perf_counter()
            try:
                # litellm enforces `timeout`; this is the backstop for a call that hangs elsewhere.
                response = await _within(call(**kwargs), timeout + 5.0)
                return response, (time.perf_counter() - started) * 1000.0, attempt
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # litellm maps every provider failure to an exception
                status = _status(exc)
                retriable = status == 429 or (status is not None and status >= 500 and not _is_timeout(exc))
                if not retriable or attempt > self.settings.retries:
                    raise ProviderError(self._describe(exc, status, attempt, timeout), status, attempt) from None
                self.retried += 1
                await asyncio.sleep(self._delay(exc, attempt))

    def _delay(self, exc: Exception, attempt: int) -> float:
        wait = _retry_after(exc)
        if wait is None:
            wait = self.settings.backoff * (2 ** (attempt - 1)) * random.uniform(0.75, 1.25)
        return max(0.0, min(wait, MAX_RETRY_WAIT))

    def _describe(self, exc: Exception, status: int | None, attempts: int, timeout: float) -> str:
        if _is_timeout(exc):
            text = f"timed out after {timeout:g} s"
        else:
            kind = type(exc).__name__
            message = _clean(str(exc))
            text = f"{kind}{f' (HTTP {status})' if status else ''}: {message}"
        if attempts > 1:
            text += f" (gave up after {attempts} attempts)"
        return self.secrets.scrub(text) or text

    def _completion(self, litellm: Any, target: Target, response: Any, latency: float, attempts: int, service_tier: str = "standard") -> Completion:
        choice = response.choices[0]
        message = choice.message
        text = message.content or ""
        tool_calls = None
        raw_calls = getattr(message, "tool_calls", None)
        if raw_calls:
            tool_calls = self.secrets.scrub_value(
                [
                    {"name": getattr(tc.function, "name", None), "arguments": _json_or_text(getattr(tc.function, "arguments", None))}
                    for tc in raw_calls
                ]
            )
        tokens = tokens_of(getattr(response, "usage", None))
        priced = price_call(target.card, tokens, service_tier)
        cost = priced.total if priced is not None else None
        if priced is None:
            try:
                cost = float(litellm.completion_cost(completion_response=response))
            except Exception:  # litellm raises for models it cannot price
                cost = None
        return Completion(
            text=self.secrets.scrub(text) or "",
            tool_calls=tool_calls,
            prompt_tokens=tokens.prompt_tokens,
            completion_tokens=tokens.completion_tokens,
            cost=cost,
            latency_ms=latency,
            attempts=attempts,
            finish_reason=getattr(choice, "finish_reason", None),
            cached_tokens=tokens.cached_tokens,
            cache_write_tokens=tokens.cache_write_tokens,
            reasoning_tokens=tokens.reasoning_tokens,
            priced=priced,
        )


if sys.version_info >= (3, 11):

    async def _within(awaitable: Any, seconds: float) -> Any:
        async with asyncio.timeout(seconds):  # no extra task per call, unlike wait_for
            return await awaitable

else:  # pragma: no cover - Python 3.10

    async def _within(awaitable: Any, seconds: float) -> Any:
        return await asyncio.wait_for(awaitable, seconds)


def _json_or_text(value: Any) -> Any:
    if isinstance(value, str):
        import json

        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _status(exc: Exception) -> int | None:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _is_timeout(exc: Exception) -> bool:
    if isinstance(exc, asyncio.TimeoutError):
        return True
    return any(c.__name__ in ("Timeout", "APITimeoutError", "TimeoutException") for c in type(exc).__mro__)


def _retry_after(exc: Exception) -> float | None:
    headers = getattr(exc, "litellm_response_headers", None) or getattr(getattr(exc, "response", None), "headers", None)
    if not headers:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return float(ms) / 1000.0
        value = headers.get("retry-after")
    except Exception:
        return None
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_NOISE = re.compile(r"^(?:litellm\.\w+:\s*)?(?:\w+Error:\s*)?(?:\w+Exception\s*-\s*)?")


def _clean(message: str) -> str:
    message = _NOISE.sub("", message.strip(), count=1)
    message = message.split("\nReceived Model Group", 1)[0]
    return message[:500]
