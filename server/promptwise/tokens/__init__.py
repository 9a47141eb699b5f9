"""Offline token counting: tokenizers per model, chat framing and the segment cache."""

from .counter import CACHE, Framing, SegmentCache, Tokenizer, split_chunks, tokenizer_for
from .encodings import TokenizerUnavailable, get_encoder

__all__ = [
    "CACHE",
    "Framing",
    "SegmentCache",
    "Tokenizer",
    "TokenizerUnavailable",
    "get_encoder",
    "split_chunks",
    "tokenizer_for",
]
