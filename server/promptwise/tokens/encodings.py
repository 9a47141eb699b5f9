"""Offline tokenizers: tiktoken BPE files and Hugging Face tokenizer files shipped inside litellm's wheel."""

from __future__ import annotations

import binascii
import hashlib
import importlib.util
import marshal
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Protocol

# tiktoken names its cached files by the SHA-1 of the download URL; litellm ships these files.
_TIKTOKEN_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "p50k_base": "https://openaipublic.blob.core.windows.net/encodings/p50k_base.tiktoken",
}
_HF_FILES = {
    "claude": "anthropic_tokenizer.json",
    "deepseek": "deepseek_tokenizer.json",
}
TIKTOKEN_ENCODINGS = tuple(_TIKTOKEN_URLS)
HF_TOKENIZERS = tuple(_HF_FILES)


class TokenizerUnavailable(RuntimeError):
    """A tokenizer's files are not installed; counting falls back to another tokenizer."""


class Encoder(Protocol):
    name: str

    def count(self, text: str) -> int: ...

    def count_many(self, texts: list[str]) -> list[int]: ...


@lru_cache(maxsize=1)
def litellm_dir() -> Path | None:
    """litellm's installed folder, found without importing it (the import costs seconds)."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def tokenizers_dir() -> Path:
    base = litellm_dir()
    if base is None:
        raise TokenizerUnavailable("litellm is not installed, so its bundled tokenizer files are missing")
    return base / "litellm_core_utils" / "tokenizers"


def tiktoken_file(name: str) -> Path:
    url = _TIKTOKEN_URLS[name]
    return tokenizers_dir() / hashlib.sha1(url.encode()).hexdigest()


@dataclass
class TiktokenEncoder:
    name: str
    _encoding: object

    def count(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text))  # type: ignore[attr-defined]

    def count_many(self, texts: list[str]) -> list[int]:
        encode = self._encoding.encode_ordinary  # type: ignore[attr-defined]
        return [len(encode(t)) for t in texts]

    def encode(self, text: str) -> list[int]:
        return self._encoding.encode_ordinary(text)  # type: ignore[attr-defined]


@dataclass
class HuggingFaceEncoder:
    name: str
    _tokenizer: object

    def count(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)  # type: ignore[attr-defined]

    def count_many(self, texts: list[str]) -> list[int]:
        encoded = self._tokenizer.encode_batch(texts, add_special_tokens=False)  # type: ignore[attr-defined]
        return [len(e.ids) for e in encoded]


_lock = threading.Lock()
_loaded: dict[str, Encoder] = {}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "promptwise"


def _read_bpe_file(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
    """tiktoken's BPE file for `url`, read from litellm's copy; never downloads.

    The parsed ranks are kept in a marshal file named by the source's SHA-256, which loads
    several times faster than parsing the base64 text again.
    """
    cached = cache_dir() / f"bpe-{expected_hash}.marshal" if expected_hash else None
    if cached is not None:
        try:
            ranks = marshal.loads(cached.read_bytes())
            if isinstance(ranks, dict) and ranks:
                return ranks
        except (OSError, ValueError, EOFError, TypeError):
            pass
    path = tokenizers_dir() / hashlib.sha1(url.encode()).hexdigest()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TokenizerUnavailable(f"{path.name} for {url.rsplit('/', 1)[-1]} is not in {path.parent}: {exc.strerror}") from None
    if expected_hash and hashlib.sha256(data).hexdigest() != expected_hash:
        raise TokenizerUnavailable(f"{path} does not match the expected checksum")
    # Same format as tiktoken.load.load_tiktoken_bpe ("<base64 token> <rank>" per line), parsed in bulk.
    fields = data.split()
    ranks = dict(zip(map(binascii.a2b_base64, fields[0::2]), map(int, fields[1::2])))
    if cached is not None:
        _write_quietly(cached, marshal.dumps(ranks))
    return ranks


def _write_quietly(path: Path, data: bytes) -> None:
    """Write a cache file atomically; a read-only or full disk only costs speed."""
    from ..files import write_atomic

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except OSError:
        pass



def _load_tiktoken(name: str) -> Encoder:
    import tiktoken
    from tiktoken_ext import openai_public

    constructor: Callable[[], dict] = getattr(openai_public, name)
    # The constructors name their files by URL; hand them litellm's local copies instead.
    original = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = _read_bpe_file
    try:
        params = constructor()
    finally:
        openai_public.load_tiktoken_bpe = original
    encoding = tiktoken.Encoding(**params)
    # tiktoken keeps this Python dict only to pickle the Encoding; its Rust core has its own copy (~25 MB).
    encoding._mergeable_ranks = {}
    return TiktokenEncoder(name, encoding)


def _load_hf(name: str) -> Encoder:
    path = tokenizers_dir() / _HF_FILES[name]
    if not path.is_file():
        raise TokenizerUnavailable(f"the {name} tokenizer file {path} is missing")
    from tokenizers import Tokenizer

    return HuggingFaceEncoder(name, Tokenizer.from_file(str(path)))


def tokenizer_available(name: str) -> None:
    """Raise TokenizerUnavailable when a tokenizer's file is missing; cheap, loads nothing."""
    if name in _TIKTOKEN_URLS:
        path = tiktoken_file(name)
    elif name in _HF_FILES:
        path = tokenizers_dir() / _HF_FILES[name]
    else:
        raise TokenizerUnavailable(f"unknown tokenizer {name!r}")
    if not path.is_file():
        raise TokenizerUnavailable(f"the {name} tokenizer file {path} is missing (is litellm installed?)")


def get_encoder(name: str) -> Encoder:
    """Load a tokenizer once per process; later calls are a dict lookup."""
    encoder = _loaded.get(name)
    if encoder is not None:
        return encoder
    with _lock:
        encoder = _loaded.get(name)
        if encoder is None:
            if name in _TIKTOKEN_URLS:
                encoder = _load_tiktoken(name)
            elif name in _HF_FILES:
                encoder = _load_hf(name)
            else:
                raise TokenizerUnavailable(f"unknown tokenizer {name!r}")
            _loaded[name] = encoder
    return encoder
