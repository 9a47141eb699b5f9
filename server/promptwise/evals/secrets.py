"""Credentials that must never be written or printed: every environment value litellm may send as a key."""

from __future__ import annotations

import os
import re
from typing import Any, Iterable

# litellm reads hundreds of provider variables (OPENAI_API_KEY, AWS_SECRET_ACCESS_KEY, AZURE_AD_TOKEN,
# WATSONX_APIKEY, VERTEX_CREDENTIALS, HF_TOKEN...); their names end this way, or say SECRET anywhere.
_CREDENTIAL_NAME = re.compile(
    r"(?:^|_)(?:API_?KEY|ZENAPIKEY|KEY|KEYS|KEY_ID|SECRET_ID|TOKEN|TOKENS|PASSWORD|PASSWD|PASS|CREDENTIAL|CREDENTIALS|JWT|AUTH|SAS)$"
    r"|_PWD$|SECRET|^DATABASE_URL|_DSN$",
    re.IGNORECASE,
)
# Values that are placeholders, not secrets: replacing them would mangle ordinary model output.
_PLACEHOLDERS = {"none", "null", "true", "false", "yes", "no", "dummy", "empty", "no-key", "n/a", "unused"}
_MIN_LENGTH = 4  # a credential-named variable holding "1" or "on" is a switch, not a key
_MASK = "***"


def is_credential_name(name: str) -> bool:
    return bool(_CREDENTIAL_NAME.search(name))


class Secrets:
    """Every value of a credential-named environment variable (whatever its length, from `sk-1234` up),
    and every variable named by an `api_key_env`, replaced by `***` in anything promptwise writes."""

    def __init__(self, key_envs: Iterable[str] | None = None, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        values: set[str] = set()
        for name in key_envs or []:
            value = env.get(name, "")
            if value and value.strip().lower() not in _PLACEHOLDERS:
                values.add(value)  # the user named it as a key: any length
        for name, value in env.items():
            if is_credential_name(name) and len(value) >= _MIN_LENGTH and value.strip().lower() not in _PLACEHOLDERS:
                values.add(value)
        for value in list(values):
            # A multi-line credential (a service-account JSON, a PEM key) may be quoted one line at a time.
            if "\n" in value:
                values.update(line.strip() for line in value.splitlines() if len(line.strip()) >= 16)
        self.values = sorted(values, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in self.values)) if self.values else None

    def scrub(self, text: str | None) -> str | None:
        if not text or self._pattern is None:
            return text
        return self._pattern.sub(_MASK, text)

    def scrub_value(self, value: Any) -> Any:
        """Strings anywhere inside lists and mappings (tool-call arguments, parameters)."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self.scrub_value(v) for v in value]
        if isinstance(value, dict):
            return {self.scrub_value(k): self.scrub_value(v) for k, v in value.items()}
        return value

    def scrub_run(self, result: Any) -> None:
        """Scrub a RunResult in place, just before it is written or returned: the last line of defence
        for a value that reached a result some other way (an old cache entry, a provider's echo)."""
        if self._pattern is None:
            return
        for r in result.results:
            for name in ("output", "error"):
                value = getattr(r, name)
                if value:
                    setattr(r, name, self.scrub(value))
            if r.tool_calls:
                r.tool_calls = self.scrub_value(r.tool_calls)
            if r.warnings:
                r.warnings = [self.scrub(w) for w in r.warnings]
            if r.assertions and any(self._pattern.search(a.reason) for a in r.assertions):
                # Assertion results are shared between cases: replace, never edit in place.
                r.assertions = [a.model_copy(update={"reason": self.scrub(a.reason)}) for a in r.assertions]
        for s in result.suites:
            s.problems = [self.scrub(p) for p in s.problems]
            s.warnings = [self.scrub(w) for w in s.warnings]
        for c in result.cheapest:
            c.note = self.scrub(c.note) or ""
            for t in c.tried:
                t.verdict = self.scrub(t.verdict) or ""
