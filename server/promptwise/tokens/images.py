"""Image tokens: each provider's published rule for an image part, and the image's size read from its header.

The rules, as the providers publish them:
- OpenAI, https://platform.openai.com/docs/guides/images-vision#calculating-costs : the tile rule (scale to
  fit 2048x2048, then the shortest side to 768, count 512-px tiles: base + tiles x per tile; `detail: low`
  is the base alone) with each family's base and tile figures, and the patch rule of the small models (32-px
  patches, at most 1536, times the model's multiplier).
- Anthropic, https://docs.anthropic.com/en/docs/build-with-claude/vision#calculate-image-costs : width x
  height / 750 after scaling the long edge to 1568 px, about 1,600 tokens at most.
- Google, https://ai.google.dev/gemini-api/docs/tokens#multimodal-tokens : 258 tokens for an image of at
  most 384 px on both sides, else 258 per 768x768 tile.

The size comes from the first bytes only (PNG IHDR, JPEG SOF, GIF, WebP headers): an image is never decoded.
"""

from __future__ import annotations

import binascii
import math
import struct
from dataclasses import dataclass

# Enough for a JPEG whose EXIF and ICC segments come before its frame header.
HEADER_BYTES = 64 * 1024


@dataclass(frozen=True)
class ImageRule:
    """How a model family's provider counts an image."""

    kind: str  # "tile", "patch", "anthropic" or "gemini"
    family: str  # the models it is published for, as the finding names them
    base: int = 0
    per_tile: int = 0
    multiplier: float = 1.0

    @property
    def name(self) -> str:
        return {
            "tile": "OpenAI's tile rule",
            "patch": "OpenAI's patch rule",
            "anthropic": "Anthropic's rule",
            "gemini": "Google's rule",
        }[self.kind]

    def tokens(self, width: int, height: int, detail: str | None = None) -> int:
        """Tokens for an image of this size; `detail` is OpenAI's (low, high, auto; auto counts as high)."""
        if self.kind == "tile":
            if detail == "low":
                return self.base
            return self.base + self.per_tile * _tiles(width, height)
        if self.kind == "patch":
            return round(_patches(width, height) * self.multiplier)
        if self.kind == "anthropic":
            return _anthropic(width, height)
        return _gemini(width, height)

    def worst_case(self, detail: str | None = None) -> int | None:
        """The most an image of unknown size can cost under this rule, when the rule bounds it."""
        if self.kind == "tile":
            # 768 x 2048 after scaling: 2 x 4 tiles, the most the two scalings leave.
            return self.base if detail == "low" else self.base + 8 * self.per_tile
        if self.kind == "patch":
            return round(_MAX_PATCHES * self.multiplier)
        if self.kind == "anthropic":
            return _ANTHROPIC_MAX
        return None  # Google's tiles have no upper bound


# OpenAI's figures by model family; the first matching prefix wins, so longer names come first (gpt-4o-mini, gpt-4o).
_OPENAI_RULES: tuple[tuple[str, ImageRule], ...] = (
    ("gpt-4.1-mini", ImageRule("patch", "gpt-4.1-mini", multiplier=1.62)),
    ("gpt-4.1-nano", ImageRule("patch", "gpt-4.1-nano", multiplier=2.46)),
    ("gpt-5-mini", ImageRule("patch", "gpt-5-mini", multiplier=1.62)),
    ("gpt-5-nano", ImageRule("patch", "gpt-5-nano", multiplier=2.46)),
    ("o4-mini", ImageRule("patch", "o4-mini", multiplier=1.72)),
    ("gpt-4o-mini", ImageRule("tile", "gpt-4o-mini", 2833, 5667)),
    ("gpt-4o", ImageRule("tile", "gpt-4o", 85, 170)),
    ("chatgpt-4o", ImageRule("tile", "gpt-4o", 85, 170)),
    ("gpt-4.1", ImageRule("tile", "gpt-4.1", 85, 170)),
    ("gpt-4.5", ImageRule("tile", "gpt-4.5", 85, 170)),
    ("gpt-4-turbo", ImageRule("tile", "gpt-4-turbo", 85, 170)),
    ("gpt-4-vision", ImageRule("tile", "gpt-4-turbo", 85, 170)),
    ("gpt-5", ImageRule("tile", "gpt-5", 70, 140)),
    ("o1", ImageRule("tile", "o1", 75, 150)),
    ("o3", ImageRule("tile", "o3", 75, 150)),
    ("computer-use-preview", ImageRule("tile", "computer-use-preview", 65, 129)),
)
_ANTHROPIC = ImageRule("anthropic", "Claude")
_GEMINI = ImageRule("gemini", "Gemini")


def image_rule_for(model: str) -> ImageRule | None:
    """The published image rule for a model, by its name (any host: azure/gpt-4o is gpt-4o); None when none is."""
    base = model.lower()
    if base.startswith("ft:"):
        base = base[3:]
    base = base.rsplit("/", 1)[-1]
    if "claude" in base:
        return _ANTHROPIC
    if "gemini" in base:
        return _GEMINI
    base = base.removeprefix("openai.")  # Bedrock-style ids
    for prefix, rule in _OPENAI_RULES:
        if base.startswith(prefix):
            return rule
    return None


def _tiles(width: int, height: int) -> int:
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        scale = 2048 / max(w, h)
        w, h = w * scale, h * scale
    if min(w, h) > 768:
        scale = 768 / min(w, h)
        w, h = w * scale, h * scale
    return math.ceil(w / 512) * math.ceil(h / 512)


_MAX_PATCHES = 1536


def _patches(width: int, height: int) -> int:
    raw = math.ceil(width / 32) * math.ceil(height / 32)
    if raw <= _MAX_PATCHES:
        return raw
    # OpenAI's published steps: shrink to the patch budget, then to whole patches on the tighter side.
    shrink = math.sqrt(32 * 32 * _MAX_PATCHES / (width * height))
    w, h = width * shrink / 32, height * shrink / 32
    shrink *= min(math.floor(w) / w, math.floor(h) / h)
    return min(_MAX_PATCHES, math.ceil(width * shrink / 32) * math.ceil(height * shrink / 32))


_ANTHROPIC_LONG_EDGE = 1568
_ANTHROPIC_MAX = 1600


def _anthropic(width: int, height: int) -> int:
    w, h = float(width), float(height)
    if max(w, h) > _ANTHROPIC_LONG_EDGE:
        scale = _ANTHROPIC_LONG_EDGE / max(w, h)
        w, h = w * scale, h * scale
    return min(_ANTHROPIC_MAX, max(1, round(w * h / 750)))


def _gemini(width: int, height: int) -> int:
    if width <= 384 and height <= 384:
        return 258
    return 258 * math.ceil(width / 768) * math.ceil(height / 768)


# ---- the size of an image, from its first bytes ----


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG, GIF or WebP header; None for anything else or a cut header."""
    data = data[:HEADER_BYTES]
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            size = struct.unpack(">II", data[16:24])
        elif data.startswith((b"GIF87a", b"GIF89a")):
            size = struct.unpack("<HH", data[6:10])
        elif data.startswith(b"\xff\xd8"):
            found = _jpeg_size(data)
            if found is None:
                return None
            size = found
        elif data.startswith(b"RIFF") and data[8:12] == b"WEBP":
            found = _webp_size(data)
            if found is None:
                return None
            size = found
        else:
            return None
    except struct.error:  # the header is cut short
        return None
    width, height = size
    return (width, height) if width > 0 and height > 0 else None


# Start-of-frame markers (baseline, progressive, lossless, arithmetic); C4, C8 and CC are not frames.
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if length < 2:
            return None
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and data[20:21] == b"\x2f":
        bits = struct.unpack("<I", data[21:25])[0]
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return (width, height) if len(data) >= 30 else None
    return None


# Base64 characters that decode to HEADER_BYTES.
_HEADER_CHARS = HEADER_BYTES // 3 * 4


def data_url_bytes(url: str) -> bytes | None:
    """The first bytes of a base64 `data:` URL's payload (at most HEADER_BYTES); None if it is not one."""
    comma = url.find(",", 0, 512)
    if comma < 0 or not url[:5].lower() == "data:" or ";base64" not in url[:comma].lower():
        return None
    return base64_head(url[comma + 1 : comma + 1 + _HEADER_CHARS + 64])


def base64_head(payload: str) -> bytes | None:
    """The first bytes of a base64 payload, decoding only its first characters (whitespace skipped)."""
    head = "".join(payload[: _HEADER_CHARS + 64].split())[:_HEADER_CHARS]
    head = head[: len(head) - len(head) % 4]
    try:
        return binascii.a2b_base64(head)
    except (binascii.Error, ValueError):
        return None
