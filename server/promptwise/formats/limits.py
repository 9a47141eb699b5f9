"""How much work one prompt file may cause: rendered output, loop iterations, includes and YAML expansion.

Every bound is derived from `max_file_size` (8 MiB by default), so a user who raises it for big files
raises them all together. A bound that is hit stops the work with a `limit-exceeded` finding that says
which limit and how to read it, never an exception that escapes the parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_BYTES = 8 * 1024 * 1024

# Finding codes this package adds for hostile or oversized inputs.
LIMIT_EXCEEDED = "limit-exceeded"
OUTSIDE_WORKSPACE = "outside-workspace"


def size_words(n: int) -> str:
    """8 MiB, 512 KiB or 1,234 bytes: sizes as a user reads them in a message."""
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n:,} bytes"


@dataclass(frozen=True)
class Limits:
    """The bounds for one document, from the `max_file_size` setting."""

    max_bytes: int = DEFAULT_MAX_BYTES

    @property
    def output(self) -> int:
        """Characters all the templates of one file may render, captured blocks and partials included."""
        return self.max_bytes

    @property
    def iterations(self) -> int:
        """Loop iterations and template calls in one file's rendering (262,144 at 8 MiB)."""
        return max(10_000, self.max_bytes // 32)

    @property
    def include_bytes(self) -> int:
        """Characters all of one file's imports, partials and linked files may add, recursively."""
        return self.max_bytes

    @property
    def include_count(self) -> int:
        """Imports, partials and links one file may expand, counting every repetition (512 at 8 MiB)."""
        return max(64, self.max_bytes // 16384)

    @property
    def include_file_bytes(self) -> int:
        """The largest single file an include may read."""
        return min(self.max_bytes, 2 * 1024 * 1024)

    @property
    def partial_depth(self) -> int:
        """Partials within partials (rendering recurses through each, and blocks within them)."""
        return 8

    @property
    def yaml_depth(self) -> int:
        """Nesting of mappings and lists in frontmatter, sample files and Prompty samples."""
        return 64

    @property
    def yaml_expanded(self) -> int:
        """Characters the YAML may stand for once every alias is expanded (1 MiB at 8 MiB): what uses the
        data (validation, hovers, tool definitions as JSON) walks every copy an alias stands for."""
        return max(64 * 1024, self.max_bytes // 8)


DEFAULT_LIMITS = Limits()


def limits_for(max_bytes: int | None) -> Limits:
    return DEFAULT_LIMITS if max_bytes is None or max_bytes == DEFAULT_MAX_BYTES else Limits(max_bytes)


class LimitExceeded(Exception):
    """A bound was hit; the message is the finding's text, `span` (when known) where to report it."""

    def __init__(self, message: str, span: Any = None) -> None:
        super().__init__(message)
        self.span = span


class Budget:
    """Output and iterations left for one document's rendering, shared by all of its messages."""

    def __init__(self, limits: Limits, output_used: int = 0, steps_used: int = 0) -> None:
        self.limits = limits
        self.output = output_used
        self.steps = steps_used
        self.stopped = False  # a limit was hit and reported; what follows is counted as written

    def fits(self, output: int, steps: int) -> bool:
        """Whether this much more work would stay within the limits."""
        return self.output + output <= self.limits.output and self.steps + steps <= self.limits.iterations

    def charge_output(self, n: int, what: str = "") -> None:
        self.output += n
        if self.output > self.limits.output:
            raise LimitExceeded(
                f"rendering stopped at {size_words(self.limits.output)} of output{': ' + what if what else ''} "
                "(the limit is max_file_size); the message is counted as written"
            )

    def charge_step(self, n: int = 1) -> None:
        self.steps += n
        if self.steps > self.limits.iterations:
            raise LimitExceeded(
                f"rendering stopped after {self.limits.iterations:,} loop iterations and calls "
                "(derived from max_file_size); the message is counted as written"
            )
