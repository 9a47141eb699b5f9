"""Images are counted by the provider's published rule (or marked uncounted), and the framing each model
family's count assumes is the one the breakdown names."""

from __future__ import annotations

import base64
import json
import os
import struct
from pathlib import Path

import pytest

from promptwise.analysis import Analysis, analyze, analyze_file
from promptwise.config import load_config
from promptwise.formats import Format, Message, PromptDocument
from promptwise.formats.chat_request import request_document
from promptwise.formats.document import ImagePart
from promptwise.text import Span
from promptwise.tokens import tokenizer_for
from promptwise.tokens.images import image_rule_for, image_size


def png(width: int, height: int, padding: int = 0) -> bytes:
    """A PNG's signature and IHDR chunk (all a size needs), then `padding` bytes of anything."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\0\0\0\0" + b"\0" * padding


def jpeg(width: int, height: int, exif: int = 100) -> bytes:
    """SOI, an APP1 segment of `exif` bytes, a DHT (not a frame), then a baseline SOF0 with the size."""
    app1 = b"\xff\xe1" + struct.pack(">H", exif + 2) + b"x" * exif
    dht = b"\xff\xc4" + struct.pack(">H", 5) + b"abc"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app1 + dht + sof + b"\xff\xda"


def data_url(data: bytes, kind: str = "image/png") -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def analyzed(path: Path, model: str | None = None) -> Analysis:
    result = analyze_file(path, model=model)
    assert isinstance(result, Analysis), result
    return result


def request(tmp_path: Path, model: str, *parts: dict) -> Analysis:
    body = {"model": model, "messages": [{"role": "user", "content": [{"type": "text", "text": "What is in it?"}, *parts]}]}
    return analyze(request_document(body, tmp_path / "request.json"), load_config(tmp_path))


def image_findings(a: Analysis) -> list:
    return [f for f in a.findings if f.code == "image-tokens"]


def image_url(url: str, detail: str | None = None) -> dict:
    return {"type": "image_url", "image_url": {"url": url, **({"detail": detail} if detail else {})}}


# ---- the published rules ----


@pytest.mark.parametrize(
    ("model", "size", "detail", "tokens"),
    [
        # OpenAI's own examples: 1024x1024 high is 4 tiles, 2048x4096 is 6 after both scalings, low is the base
        ("gpt-4o", (1024, 1024), "high", 765),
        ("gpt-4o", (2048, 4096), "high", 1105),
        ("gpt-4o", (4096, 8192), "low", 85),
        ("gpt-4o", (1024, 768), None, 765),  # auto counts as high
        ("gpt-4o", (300, 200), "auto", 255),  # a small image is not scaled up: one tile
        ("gpt-4o-mini", (1024, 1024), "high", 2833 + 4 * 5667),
        ("gpt-4o-mini", (1024, 1024), "low", 2833),
        ("gpt-5", (1024, 1024), "high", 70 + 4 * 140),
        ("o3", (512, 512), "high", 75 + 150),
        ("azure/gpt-4.1", (1024, 1024), "high", 765),
        # the patch rule: 1024x1024 is 1024 patches; 1800x2400 shrinks to 1452 (OpenAI's example), times the multiplier
        ("gpt-4.1-mini", (1024, 1024), None, round(1024 * 1.62)),
        ("gpt-4.1-mini", (1800, 2400), None, round(1452 * 1.62)),
        ("gpt-4.1-nano", (1024, 1024), "low", round(1024 * 2.46)),  # detail does not change patches
        ("o4-mini", (64, 64), None, round(4 * 1.72)),
        # Anthropic: width x height / 750, the long edge scaled to 1568 first, about 1,600 at most
        ("claude-sonnet-4-5", (1092, 1092), None, 1590),
        ("claude-sonnet-4-5", (200, 200), None, 53),
        ("anthropic/claude-haiku-4-5", (4000, 3000), None, 1600),
        # Google: 258 up to 384x384, else 258 per 768x768 tile
        ("gemini/gemini-2.5-flash", (384, 384), None, 258),
        ("gemini-2.5-pro", (1024, 768), None, 516),
    ],
)
def test_each_provider_rule(model, size, detail, tokens):
    rule = image_rule_for(model)
    assert rule is not None and rule.tokens(*size, detail) == tokens


def test_models_without_a_published_rule_have_none():
    assert image_rule_for("deepseek-chat") is None and image_rule_for("gpt-3.5-turbo") is None


def test_worst_cases():
    assert image_rule_for("gpt-4o").worst_case("high") == 85 + 8 * 170  # 768x2048: 2 x 4 tiles
    assert image_rule_for("gpt-4o").worst_case("low") == 85
    assert image_rule_for("gpt-4.1-mini").worst_case(None) == round(1536 * 1.62)
    assert image_rule_for("claude-sonnet-4-5").worst_case(None) == 1600
    assert image_rule_for("gemini-2.5-flash").worst_case(None) is None


# ---- the size, from the header only ----


def test_sizes_from_headers():
    assert image_size(png(1024, 768)) == (1024, 768)
    assert image_size(b"GIF89a" + struct.pack("<HH", 320, 240) + b"\0" * 8) == (320, 240)
    assert image_size(jpeg(1920, 1080)) == (1920, 1080)
    assert image_size(jpeg(640, 480, exif=60_000)) == (640, 480)  # a large EXIF before the frame
    vp8x = b"RIFF" + b"\0" * 4 + b"WEBPVP8X" + b"\0" * 8 + (799).to_bytes(3, "little") + (599).to_bytes(3, "little")
    assert image_size(vp8x) == (800, 600)
    vp8l = b"RIFF" + b"\0" * 4 + b"WEBPVP8L" + b"\0" * 4 + b"\x2f" + struct.pack("<I", 99 | (49 << 14))
    assert image_size(vp8l) == (100, 50)
    vp8 = b"RIFF" + b"\0" * 4 + b"WEBPVP8 " + b"\0" * 7 + b"\x9d\x01\x2a" + struct.pack("<HH", 640, 360)
    assert image_size(vp8) == (640, 360)


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n\x1a\n", png(1024, 768)[:20], b"<svg/>", b"\xff\xd8\xff\xe1\x00\x01", png(0, 10), b"\xff\xd8" + b"\xff\xe0\xff\xff" * 3])
def test_cut_or_unknown_headers_give_no_size(data):
    assert image_size(data) is None


# ---- a chat request body ----


def test_a_data_url_image_is_counted_with_its_size(tmp_path):
    a = request(tmp_path, "gpt-4o", image_url(data_url(png(1024, 768))))
    [finding] = image_findings(a)
    assert finding.severity.value == "info"
    assert finding.message.startswith("messages[0].content[1]: image tokens from OpenAI's tile rule, 1024×768 → 765 tokens")
    assert a.messages[0].image_tokens == 765 and a.prompt_tokens == a.messages[0].content_tokens + a.messages[0].framing_tokens + 765 + 3
    assert not a.exact and "1 image counted with OpenAI's tile rule (765 tokens)" in a.exact_reason
    from promptwise.lsp import hover

    assert "| images | 765 |" in hover.message_card(a.messages[0], a, load_config(tmp_path))


def test_a_remote_url_is_not_fetched_and_counts_its_worst_case(tmp_path, monkeypatch):
    import socket

    monkeypatch.setattr(socket, "socket", lambda *a, **k: pytest.fail("a remote image must not be fetched"))
    a = request(tmp_path, "gpt-4o", image_url("https://example.com/a.png"), image_url("https://example.com/b.png", "low"))
    worst, low = image_findings(a)
    assert "a remote URL is not fetched, so its worst case is counted, 1,445 tokens" in worst.message
    assert "detail low → 85 tokens" in low.message
    assert a.messages[0].image_tokens == 1445 + 85
    assert "1 image of unknown size counted at OpenAI's tile rule's worst case (1,445 tokens)" in a.exact_reason


def test_without_a_rule_or_a_worst_case_an_image_is_an_uncounted_warning(tmp_path):
    a = request(tmp_path, "deepseek/deepseek-chat", image_url(data_url(png(10, 10))))
    [finding] = image_findings(a)
    assert finding.severity.value == "warning" and "no published image-token rule for" in finding.message
    assert a.messages[0].image_tokens == 0 and "1 image is not counted" in a.exact_reason
    gemini = request(tmp_path, "gemini/gemini-2.5-flash", image_url("https://example.com/a.png"))
    [finding] = image_findings(gemini)
    assert finding.severity.value == "warning"
    assert "image not counted: a remote URL is not fetched, and Google's rule has no worst case" in finding.message


def test_an_unknown_model_gets_no_rule_by_its_prefix(tmp_path):
    # gpt-4o-mnii looks like gpt-4o, whose figures are 33 times smaller than gpt-4o-mini's: no guess.
    a = request(tmp_path, "gpt-4o-mnii", image_url(data_url(png(10, 10))))
    [finding] = image_findings(a)
    assert finding.severity.value == "warning"
    assert finding.message == "messages[0].content[1]: image not counted: no published image-token rule for gpt-4o-mnii, not a known model"


def test_anthropic_image_blocks_and_other_parts(tmp_path):
    block = {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": base64.b64encode(jpeg(1092, 1092)).decode()}}
    audio = {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
    a = request(tmp_path, "claude-sonnet-4-5", block, audio)
    [finding] = image_findings(a)
    assert "image tokens from Anthropic's rule, 1092×1092 → 1,590 tokens" in finding.message
    assert a.messages[0].image_tokens == 1590
    assert "1 audio part is not counted" in a.exact_reason


def test_only_the_head_of_a_large_data_url_is_decoded(tmp_path, monkeypatch):
    import binascii

    decoded: list[int] = []
    real = binascii.a2b_base64
    monkeypatch.setattr(binascii, "a2b_base64", lambda s, **k: decoded.append(len(s)) or real(s, **k))
    a = request(tmp_path, "gpt-4o", image_url(data_url(png(2048, 2048, padding=3 * 1024 * 1024))))
    assert a.messages[0].image_tokens == 765 and decoded and max(decoded) <= 90_000


# ---- images a prompt file references ----


V1 = "---\nmodel:\n  api: chat\n  configuration:\n    type: openai\n    name: gpt-4o\nsample:\n  pic: {pic}\n---\nuser:\n{body}\n"


def test_prompty_markdown_images_read_local_files_inside_the_workspace(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "big.png").write_bytes(png(1024, 1024, padding=300 * 1024))  # only its first 64 KiB are read
    path = tmp_path / "p.prompty"
    path.write_text(V1.format(pic="img/big.png", body="Compare ![a](img/big.png) with ![b]({{pic}})."), encoding="utf-8")
    a = analyzed(path)
    found = image_findings(a)
    assert [f.message for f in found] == ["image tokens from OpenAI's tile rule, 1024×1024 → 765 tokens (gpt-4o: 85 + 170 a tile; detail auto counted as high)"] * 2
    line = a.document.lines.line_of(found[0].span.start)
    assert a.document.text.splitlines()[line].startswith("Compare ![a]")
    assert a.messages[0].image_tokens == 1530


def test_an_image_outside_the_workspace_is_not_read(tmp_path):
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (tmp_path / "secret.png").write_bytes(png(100, 100))
    path = project / "p.prompty"
    path.write_text(V1.format(pic="x", body="See ![a](../secret.png)."), encoding="utf-8")
    [finding] = image_findings(analyzed(path))
    assert "is outside the workspace; it was not read" in finding.message and "worst case is counted, 1,445 tokens" in finding.message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_named_as_an_image_is_refused_without_blocking(tmp_path):
    (tmp_path / ".git").mkdir()
    os.mkfifo(tmp_path / "pipe.png")
    path = tmp_path / "p.prompty"
    path.write_text(V1.format(pic="x", body="See ![a](pipe.png)."), encoding="utf-8")
    [finding] = image_findings(analyzed(path))
    assert "pipe.png is not a regular file" in finding.message


def test_prompty_image_inputs_and_dotprompt_media(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "photo.gif").write_bytes(b"GIF89a" + struct.pack("<HH", 1024, 768) + b"\0" * 8)
    v2 = tmp_path / "v2.prompty"
    v2.write_text(
        "---\nmodel:\n  id: gpt-4.1-mini\ninputs:\n  - name: photo\n    kind: image\n    default: photo.gif\n"
        "  - name: other\n    kind: image\n---\nsystem:\nDescribe.\n\nuser:\n{{photo}}\n{{other}}\nWhat is it?\n",
        encoding="utf-8",
    )
    a = analyzed(v2)
    sized, unknown = image_findings(a)
    assert "image tokens from OpenAI's patch rule, 1024×768 → 1,244 tokens" in sized.message
    assert "the file gives no image for it (no sample value), so its worst case is counted, 2,488 tokens" in unknown.message
    assert a.document.text[unknown.span.start : unknown.span.end] == "{{other}}"
    dot = tmp_path / "d.prompt"
    dot.write_text(
        "---\nmodel: googleai/gemini-2.5-flash\ninput:\n  default:\n    photoUrl: photo.gif\n---\n"
        '{{role "user"}}\nDescribe {{media url=photoUrl}} and {{media url="https://example.com/a.png"}}\n',
        encoding="utf-8",
    )
    sized, remote = image_findings(analyzed(dot))
    assert "image tokens from Google's rule, 1024×768 → 516 tokens" in sized.message
    assert remote.severity.value == "warning" and "a remote URL is not fetched" in remote.message


def test_a_shifted_message_keeps_its_image_places():
    m = Message("user", Span(5, 9), Span(5, 6), Span(6, 9), "x", images=1, image_parts=[ImagePart(Span(7, 8), url="a.png")])
    assert m.shifted(10).image_parts[0].span == Span(17, 18)


def test_the_cli_counts_a_request_with_an_image(cli, tmp_path):
    path = tmp_path / "request.json"
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}, image_url(data_url(png(512, 512)))]}]}
    path.write_text(json.dumps(body), encoding="utf-8")
    data = json.loads(cli("count", str(path), "--json").out)
    assert data["exact"] is False and data["exact_reason"] == "1 image counted with OpenAI's tile rule (255 tokens)"
    assert data["messages"][0]["tokens"] > 255


# ---- the framing each family's count assumes ----


def document(tmp_path: Path, model: str) -> PromptDocument:
    doc = PromptDocument(path=tmp_path / "doc.txt", format=Format.PLAIN, text="")
    doc.model = model
    doc.messages = [Message("user", Span(0, 0), Span(0, 0), Span(0, 0), "Hello there")]
    return doc


def test_claude_and_gemini_counts_have_no_reply_priming(tmp_path):
    config = load_config(tmp_path)
    openai = analyze(document(tmp_path, "gpt-4o"), config)
    claude = analyze(document(tmp_path, "claude-sonnet-4-5"), config)
    gemini = analyze(document(tmp_path, "gemini/gemini-2.5-flash"), config)
    assert openai.reply_priming == 3 and openai.tokenizer.framing.published
    assert claude.reply_priming == 0 and not claude.tokenizer.framing.published
    assert claude.messages[0].framing_tokens == 3 + claude.tokenizer.count("user")
    assert gemini.reply_priming == 0 and gemini.messages[0].framing_tokens == 0
    assert gemini.prompt_tokens == gemini.messages[0].content_tokens
    assert "Anthropic publishes no message framing" in tokenizer_for("claude-sonnet-4-5", "anthropic").framing.rule


def test_the_breakdowns_name_the_framing(cli, tmp_path):
    from promptwise.lsp import hover

    path = tmp_path / "p.prompty"
    path.write_text("---\nmodel:\n  id: claude-sonnet-4-5\n---\nsystem:\nYou sort support tickets.\n", encoding="utf-8")
    out = cli("count", str(path)).out
    assert not any(line.strip().startswith("reply priming") for line in out.splitlines())
    assert "  framing: assumed as in OpenAI's rule, 3 tokens a message plus its role (Anthropic publishes no message framing); no reply priming" in out
    openai = tmp_path / "q.prompty"
    openai.write_text("---\nmodel:\n  id: gpt-4o\n---\nsystem:\nYou sort support tickets.\n", encoding="utf-8")
    out = cli("count", str(openai)).out
    assert "  reply priming                    3" in out and "framing:" not in out
    a = analyzed(path)
    card = hover.message_card(a.messages[0], a, load_config(tmp_path))
    assert "Message framing: assumed as in OpenAI's rule" in card


def test_messages_a_loop_writes_share_one_finding_per_image(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "a.png").write_bytes(png(512, 512))
    path = tmp_path / "loop.prompty"
    path.write_text(
        "---\nmodel:\n  api: chat\n  configuration:\n    type: openai\n    name: gpt-4o\nsample:\n  turns: [1, 2, 3]\n---\n"
        "system:\nLook.\n{% for t in turns %}\nuser:\nTurn {{t}} ![a](a.png)\n{% endfor %}\n",
        encoding="utf-8",
    )
    a = analyzed(path)
    assert [m.image_tokens for m in a.messages] == [0, 255, 255, 255]
    assert len(image_findings(a)) == 1
