"""Judge and embedding calls that grade a case's output, cached like the case's own call."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .assertions import GradingError, cosine, judge_messages, parse_verdict
from .cache import cache_key
from .calls import ProviderError
from .routing import Target

if TYPE_CHECKING:
    from .runner import PreparedSuite, _Run


class _Grader:
    """Judge and embedding calls for one case; results are cached like the case's own call."""

    def __init__(self, runner: "_Run", prepared: PreparedSuite) -> None:
        self.runner = runner
        self.prepared = prepared
        self.cost = 0.0

    def _target(self, model: str) -> Target:
        return self.prepared.target(model, self.runner.catalog(self.prepared.config))

    async def judge(self, model: str, rubric: str, output: str, vars: dict[str, Any]) -> tuple[bool, str]:
        target = self._target(model)
        messages = judge_messages(rubric, output, vars)
        params = {"temperature": 0, "response_format": {"type": "json_object"}}
        cache = self.prepared.cache
        key = cache_key("judge", target.model, target.api_base, {"messages": messages, "params": params})
        entry = cache.get(key) if cache else None
        if entry is None:
            try:
                reply = await self.runner.client.complete(target, messages, params, self.prepared.timeout, self.prepared.service_tier)
            except ProviderError as exc:
                raise GradingError(f"judge {model}: {exc.message}") from None
            self.cost += reply.cost or 0.0
            entry = reply.to_cache()
            parse_verdict(reply.text)  # never cache a reply that cannot be used
            if cache:
                cache.put(key, entry)
        return parse_verdict(entry.get("text") or "")

    async def similarity(self, model: str, output: str, reference: str) -> float:
        target = self._target(model)
        cache = self.prepared.cache
        memo = self.runner.embeddings
        keys = {text: cache_key("embedding", target.model, target.api_base, text) for text in (output, reference)}
        vectors: dict[str, list[float]] = {}
        waiting: dict[str, asyncio.Future[list[float]]] = {}
        mine: list[str] = []
        for text, key in keys.items():
            known = memo.get(key)
            if isinstance(known, asyncio.Future):
                waiting[text] = known  # another case is embedding the same text (a shared reference)
                continue
            if known is None and cache is not None:
                entry = cache.get(key)
                known = entry.get("vector") if entry else None
            if known is not None:
                vectors[text] = known
                continue
            memo[key] = asyncio.get_running_loop().create_future()
            mine.append(text)
        if mine:
            try:
                found = await self.runner.client.embed(target, mine, self.prepared.timeout)
                if len(found.vectors) != len(mine):
                    raise GradingError(f"embedding {model} returned {len(found.vectors)} vectors for {len(mine)} texts")
            except (ProviderError, GradingError, asyncio.CancelledError) as exc:
                for text in mine:
                    future = memo.pop(keys[text])
                    if not future.done():
                        future.set_exception(GradingError(f"embedding {model}: another case's call failed"))
                        future.exception()  # retrieved here, so an unawaited failure is not logged
                if isinstance(exc, ProviderError):
                    raise GradingError(f"embedding {model}: {exc.message}") from None
                raise
            self.cost += found.cost or 0.0
            for text, vector in zip(mine, found.vectors):
                vectors[text] = vector
                future = memo[keys[text]]
                future.set_result(vector)
                # Only references stay in memory; a 10,000-case run must not hold every output's vector.
                memo[keys[text]] = vector if text == reference else None
                if memo[keys[text]] is None:
                    memo.pop(keys[text])
                if cache:
                    cache.put(keys[text], {"vector": vector})
        for text, future in waiting.items():
            vectors[text] = await future
        return cosine(vectors[output], vectors[reference])
