"""The images of a document, counted by the model's published rule: where each is written, its size (from a
data: URL or a local file's header; a remote URL is never fetched), its tokens and the finding that says how."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .. import access
from ..formats.document import Finding, Format, ImagePart, Message, PromptDocument, Severity
from ..text import Span
from ..tokens.images import HEADER_BYTES, ImageRule, base64_head, data_url_bytes, image_rule_for, image_size


@dataclass
class ImageCounts:
    """Image tokens by message (in the document's order), the findings, and why the total is an estimate."""

    tokens: list[int]
    findings: list[Finding] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def count_images(doc: PromptDocument, model: str, known: bool = True) -> ImageCounts | None:
    """None when no message has a non-text part (the common case costs one pass over the messages).
    A model the catalog does not know (`known` False, a typo) gets no rule: gpt-4o-mnii is not gpt-4o."""
    if not any(m.images for m in doc.messages):
        return None
    rule = image_rule_for(model) if known else None
    result = ImageCounts([])
    counted = worst = uncounted = 0
    counted_tokens = worst_tokens = 0
    others: dict[str, int] = {}
    starts = sorted(m.span.start for m in doc.messages)
    sizes: dict[tuple[str | None, str | None], tuple[tuple[int, int] | None, str]] = {}  # messages a loop wrote share images
    shown: set[tuple[Span, str]] = set()
    for message in doc.messages:
        total = 0
        later = bisect.bisect_right(starts, message.span.start)
        for part in parts_of(doc, message, starts[later] if later < len(starts) else len(doc.text)):
            if part.kind != "image":
                others[part.kind] = others.get(part.kind, 0) + 1
                continue
            tokens, how, finding = _count(doc, part, rule, model if known else f"{model}, not a known model", sizes)
            if (finding.span, finding.message) not in shown:  # one finding for the messages a loop wrote there
                shown.add((finding.span, finding.message))
                result.findings.append(finding)
            if tokens is None:
                uncounted += 1
                continue
            total += tokens
            if how == "worst":
                worst, worst_tokens = worst + 1, worst_tokens + tokens
            else:
                counted, counted_tokens = counted + 1, counted_tokens + tokens
        result.tokens.append(total)
    if counted and rule is not None:
        result.reasons.append(f"{_images(counted)} counted with {rule.name} ({counted_tokens:,} tokens)")
    if worst and rule is not None:
        result.reasons.append(f"{_images(worst)} of unknown size counted at {rule.name}'s worst case ({worst_tokens:,} tokens)")
    if uncounted:
        result.reasons.append(f"{_images(uncounted)} {'are' if uncounted != 1 else 'is'} not counted")
    for kind, n in others.items():
        noun = {"audio": "audio part", "file": "file part"}.get(kind, "non-text part")
        result.reasons.append(f"{n} {noun}{'s are' if n != 1 else ' is'} not counted")
    return result


def _images(n: int) -> str:
    return f"{n} image{'s' if n != 1 else ''}"


def _count(
    doc: PromptDocument, part: ImagePart, rule: ImageRule | None, model: str, sizes: dict[Any, Any]
) -> tuple[int | None, str, Finding]:
    """(tokens or None, "size" | "worst" | "none", the image-tokens finding at the part's place)."""
    where = f"{part.where}: " if part.where else ""
    if rule is None:
        return None, "none", _finding(part, Severity.WARNING, f"{where}image not counted: no published image-token rule for {model}")
    detail = part.detail if part.detail in ("low", "high", "auto") else None
    if rule.kind == "tile" and detail == "low":
        tokens = rule.base
        return tokens, "size", _finding(part, Severity.INFO, f"{where}image tokens from {rule.name}, detail low → {tokens:,} tokens ({rule.family}'s base, whatever the size)")
    key = (part.url, part.data)
    if key not in sizes:
        sizes[key] = _size(doc, part)
    size, why = sizes[key]
    if size is not None:
        w, h = size
        tokens = rule.tokens(w, h, detail)
        return tokens, "size", _finding(part, Severity.INFO, f"{where}image tokens from {rule.name}, {w}×{h} → {tokens:,} tokens{_basis(rule, detail)}")
    worst = rule.worst_case(detail)
    if worst is None:
        return None, "none", _finding(
            part, Severity.WARNING, f"{where}image not counted: {why}, and {rule.name} has no worst case (258 tokens per 768×768 tile)"
        )
    return worst, "worst", _finding(
        part, Severity.INFO, f"{where}image tokens from {rule.name}: {why}, so its worst case is counted, {worst:,} tokens{_basis(rule, detail)}"
    )


def _basis(rule: ImageRule, detail: str | None) -> str:
    if rule.kind == "tile":
        return f" ({rule.family}: {rule.base} + {rule.per_tile} a tile; detail {detail or 'auto'}{' counted as high' if detail != 'high' else ''})"
    if rule.kind == "patch":
        return f" ({rule.family}: 32-px patches, at most 1,536, × {rule.multiplier})"
    return ""


def _finding(part: ImagePart, severity: Severity, message: str) -> Finding:
    return Finding("image-tokens", severity, message, part.span)


# ---- where the images are and how big ----


def _size(doc: PromptDocument, part: ImagePart) -> tuple[tuple[int, int] | None, str]:
    """The image's size and, when it is not known, why (as the finding says it)."""
    if part.data is not None:
        head = base64_head(part.data)
        size = image_size(head) if head else None
        return size, "" if size else "its size cannot be read from the base64 data (not PNG, JPEG, GIF or WebP)"
    url = part.url
    if not url:
        return None, "the file gives no image for it (no sample value)"
    if url[:5].lower() == "data:":
        head = data_url_bytes(url)
        size = image_size(head) if head else None
        return size, "" if size else "its size cannot be read from the data: URL (not a base64 PNG, JPEG, GIF or WebP)"
    scheme = urlparse(url).scheme.lower() if "://" in url[:16] else ""
    if scheme in ("http", "https", "gs", "s3"):
        return None, "a remote URL is not fetched"
    if scheme and scheme != "file":
        return None, f"a {scheme}: URL is not read"
    path = Path(unquote(urlparse(url).path)) if scheme == "file" else Path(url)
    if not path.is_absolute():
        path = doc.path.parent / path
    head, why = access.read_bytes(path, HEADER_BYTES, origin=doc.path, prefix=True)
    if head is None:
        return None, why or f"{path.name} cannot be read"
    size = image_size(head)
    return size, "" if size else f"{path.name} is not a PNG, JPEG, GIF or WebP image"


def parts_of(doc: PromptDocument, message: Message, until: int) -> list[ImagePart]:
    """A message's non-text parts: as the parser recorded them, else found where the source writes them
    (from the message to `until`, where the next one starts: a Prompty image input's message spans only its
    first variable); as many as the rendering produced (a part the source does not show is of unknown origin)."""
    parts = list(message.image_parts)
    if not parts and message.images:
        parts = _written(doc, message, Span(message.span.start, max(message.span.end, until)))[: message.images]
    where = message.header if len(message.header) else message.span
    parts += [ImagePart(where) for _ in range(message.images - len(parts))]
    return parts


_MEDIA_TAG = re.compile(r"\{\{~?\s*media\s+([^}]*)\}\}")
_HASH_ARG = re.compile(r"(\w+)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^\s}]+)")
# Prompty 1's markdown image, as formats.prompty_split finds it when it makes the image part.
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\((?P<url>[^\")]*)(?:\"[^)]*)?\)")
_PLACEHOLDER = re.compile(r"^\{\{\s*([\w.]+)\s*\}\}$")


def _written(doc: PromptDocument, message: Message, span: Span) -> list[ImagePart]:
    text = doc.text
    parts: list[ImagePart] = []
    if doc.format is Format.DOTPROMPT:
        for m in _MEDIA_TAG.finditer(text, span.start, span.end):
            args = {k: v for k, v in _HASH_ARG.findall(m.group(1))}
            kind = _value(args.get("contentType"), doc, message)
            parts.append(
                ImagePart(
                    Span(m.start(), m.end()),
                    url=_as_url(_value(args.get("url"), doc, message)),
                    kind="image" if not isinstance(kind, str) or kind.lower().startswith("image/") else "other",
                )
            )
    elif doc.format is Format.PROMPTY:
        from ..formats.prompty_layout import rich_inputs

        images = [name for name, kind in rich_inputs(doc.frontmatter).items() if kind == "image"]
        for name in images:
            for m in re.finditer(r"\{\{\s*" + re.escape(name) + r"\s*\}\}", text[span.start : span.end]):
                at = Span(span.start + m.start(), span.start + m.end())
                parts.append(ImagePart(at, url=_as_url(_lookup(name, doc, message))))
        if not images:
            for m in _MARKDOWN_IMAGE.finditer(text, span.start, span.end):
                url = m.group("url").strip()
                placeholder = _PLACEHOLDER.match(url)
                value = _lookup(placeholder.group(1), doc, message) if placeholder else None if "{" in url else url
                parts.append(ImagePart(Span(m.start(), m.end()), url=_as_url(value)))
        parts.sort(key=lambda p: p.span.start)
    return parts


def _value(arg: str | None, doc: PromptDocument, message: Message) -> Any:
    """A helper's hash argument: a quoted literal, else a path into the sample values."""
    if arg is None:
        return None
    if arg[:1] in ("'", '"'):
        return arg[1:-1]
    return _lookup(arg, doc, message)


def _lookup(path: str, doc: PromptDocument, message: Message) -> Any:
    """The sample value at a dotted path (`photo.url`), from the variables rendered or the samples."""
    known = [v for v in (*message.variables, *doc.variables) if v.defined]
    exact = next((v for v in known if v.name == path), None)
    if exact is not None:
        return exact.value
    head, _, rest = path.partition(".")
    top = next((v for v in known if v.name == head), None)
    value = top.value if top is not None else doc.samples.get(head, (None, ""))[0]
    if top is None and value is None and doc.format is Format.DOTPROMPT:
        spec = doc.frontmatter.get("input")
        defaults = spec.get("default") if isinstance(spec, dict) else None
        value = defaults.get(head) if isinstance(defaults, dict) else None  # a helper's argument is no variable
    for key in rest.split(".") if rest else ():
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _as_url(value: Any) -> str | None:
    """An image value as a URL: a string, or an object with one (`url`, `image_url`, `path`)."""
    if isinstance(value, dict):
        value = value.get("url") or value.get("image_url") or value.get("path")
        if isinstance(value, dict):
            value = value.get("url")
    return value.strip() if isinstance(value, str) and value.strip() else None
