"""Offline tokenizers: tiktoken BPE files and Hugging Face tokenizer files shipped inside litellm's wheel."""

from __future__ import annotations

import hashlib
import importlib.util
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


def _load_tiktoken(name: str) -> Encoder:
    path = tiktoken_file(name)
    if not path.is_file():
        raise TokenizerUnavailable(f"{name} is not in {path.parent} (is litellm installed?)")
    import tiktoken
    from tiktoken_ext import openai_public

    constructor: Callable[[], dict] = getattr(openai_public, name)
    # Point tiktoken's cache at litellm's files only while loading, so it never downloads.
    saved = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path.parent)
    try:
        params = constructor()
    finally:
        if saved is None:
            os.environ.pop("TIKTOKEN_CACHE_DIR", None)
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = saved
    return TiktokenEncoder(name, tiktoken.Encoding(**params))


def _load_hf(name: str) -> Encoder:
    path = tokenizers_dir() / _HF_FILES[name]
    if not path.is_file():
        raise TokenizerUnavailable(f"the {name} tokenizer file {path} is missing")
    from tokenizers import Tokenizer

    return HuggingFaceEncoder(name, Tokenizer.from_file(str(path)))


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


def preload(names: tuple[str, ...] = ("o200k_base",)) -> threading.Thread:
    """Start loading tokenizers in the background so the first count does not wait."""

    def run() -> None:
        for name in names:
            try:
                get_encoder(name)
            except Exception:  # reported when the tokenizer is actually needed
                pass

    thread = threading.Thread(target=run, name="promptwise-preload", daemon=True)
    thread.start()
    return thread
