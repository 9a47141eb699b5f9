import json

from hypothesis import given, settings, strategies as st

from promptwise.tokens import CACHE, SegmentCache, get_encoder, split_chunks, tokenizer_for
from promptwise.tokens.encodings import tiktoken_file


def test_encodings_load_from_litellm_files_without_network(reference_encoding):
    assert tiktoken_file("o200k_base").is_file()
    text = "Prompts are paid in tokens: 日本語, emoji 👩‍💻 and code `x = 1`."
    ours = get_encoder("o200k_base")
    assert ours.count(text) == len(reference_encoding["o200k_base"].encode_ordinary(text))


def test_tokenizer_choice_per_family():
    assert tokenizer_for("gpt-4o").encoding == "o200k_base" and tokenizer_for("gpt-4o").exact
    assert tokenizer_for("gpt-4.1-mini").exact
    assert tokenizer_for("gpt-4").encoding == "cl100k_base" and tokenizer_for("gpt-4").exact
    assert tokenizer_for("azure/gpt-4o-mini", "azure").exact
    claude = tokenizer_for("claude-sonnet-4-5", "anthropic")
    assert claude.encoding == "claude" and not claude.exact
    other = tokenizer_for("gemini/gemini-2.5-flash", "gemini")
    assert other.encoding == "o200k_base" and not other.exact and "gemini" in other.note


_text = st.text(
    alphabet=st.sampled_from(list("ab cd\n\n\n  /.,'s12😀日本\t-#")) | st.characters(codec="utf-8"),
    max_size=3000,
)


@settings(max_examples=150, deadline=None)
@given(_text)
def test_chunked_counts_equal_whole_text_counts(text):
    # Chunk boundaries are token-safe: the sum over chunks equals encoding the whole text.
    for name in ("o200k_base", "cl100k_base"):
        encoder = get_encoder(name)
        for long in (0, 16):  # split at every safe boundary, and with the line fallback
            chunks = split_chunks(text, long)
            assert "".join(chunks) == text
            assert sum(encoder.count(c) for c in chunks) == encoder.count(text)


def test_long_text_is_split_and_cached():
    paragraph = "The assistant must cite the policy section it relies on. " * 20
    text = "\n\n".join(f"{i}. {paragraph}" for i in range(50))
    chunks = split_chunks(text)
    assert len(chunks) > 10
    cache = SegmentCache()
    encoder = get_encoder("o200k_base")
    assert cache.count(encoder, text) == encoder.count(text)
    misses = cache.misses
    edited = text.replace("49. The", "49. Then the", 1)
    assert cache.count(encoder, edited) == encoder.count(edited)
    assert cache.misses == misses + 1  # only the edited paragraph was re-encoded


def test_tool_definitions_follow_published_formula(reference_encoding):
    from tests.conftest import openai_prompt_tokens

    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_current_weather",
                "description": "Get the current weather in a given location",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                        "unit": {"type": "string", "description": "The unit of temperature to return", "enum": ["celsius", "fahrenheit"]},
                    },
                    "required": ["location"],
                },
            },
        }
    ]
    messages = [
        {"role": "system", "content": "You are a helpful assistant that can answer to questions about the weather."},
        {"role": "user", "content": "What's the weather like in San Francisco?"},
    ]
    tok = tokenizer_for("gpt-4o")
    tools_tokens, covered = tok.count_tools(tools)
    framed = sum(tok.count_message(tok.count(m["content"]), None, m["role"]) for m in messages) + 3
    assert covered
    assert framed + tools_tokens == openai_prompt_tokens(reference_encoding["o200k_base"], messages, tools)
    gpt4 = tokenizer_for("gpt-4")
    t4, _ = gpt4.count_tools(tools)
    framed4 = sum(gpt4.count_message(gpt4.count(m["content"]), None, m["role"]) for m in messages) + 3
    assert framed4 + t4 == openai_prompt_tokens(reference_encoding["cl100k_base"], messages, tools, func_init=10)


def test_count_store_serves_counts_without_loading_the_tokenizer(tmp_path):
    from promptwise.tokens.counter import LazyEncoder
    from promptwise.tokens.store import CountStore

    text = "\n\n".join(f"Paragraph {i}: keep answers short and cite the policy. 🌸" for i in range(400))
    first = SegmentCache(store=CountStore(tmp_path, "test"))
    expected = get_encoder("o200k_base").count(text)
    assert first.count(LazyEncoder("o200k_base"), text) == expected
    first.save()

    class Refuses(LazyEncoder):
        def count_many(self, texts):
            raise AssertionError("the tokenizer was needed")

    second = SegmentCache(store=CountStore(tmp_path, "test"))
    assert second.count(Refuses("o200k_base"), text) == expected
    # A damaged store file is ignored, not trusted.
    for path in tmp_path.iterdir():
        path.write_bytes(b"\x00garbage")
    third = SegmentCache(store=CountStore(tmp_path, "test"))
    assert third.count(LazyEncoder("o200k_base"), text) == expected


def test_count_store_keeps_counts_right_when_some_chunks_are_known(tmp_path):
    from promptwise.tokens.counter import LazyEncoder
    from promptwise.tokens.store import CountStore

    encoder = get_encoder("o200k_base")
    old = [f"Rule {i}: answer in {'three short sentences' if i % 2 else 'one line'} only." for i in range(300)]
    new = [f"Note {i}: cite the {'policy' if i % 3 else 'contract clause'} by its number {i * 7}." for i in range(300)]
    first = SegmentCache(store=CountStore(tmp_path, "mix"))
    first.count(LazyEncoder("o200k_base"), "\n\n".join(old))
    first.save()
    mixed = "\n\n".join(p for pair in zip(old, new) for p in pair)  # every other chunk is already stored
    second = SegmentCache(store=CountStore(tmp_path, "mix"))
    assert second.count(LazyEncoder("o200k_base"), mixed) == encoder.count(mixed)
    second.save()

    class Refuses(LazyEncoder):
        def count_many(self, texts):
            raise AssertionError("the tokenizer was needed")

    third = SegmentCache(store=CountStore(tmp_path, "mix"))
    assert third.count(Refuses("o200k_base"), "\n\n".join(new)) == encoder.count("\n\n".join(new))
