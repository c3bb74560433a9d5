"""The in-process llama.cpp backend on the embedded SmolLM2-135M model."""

from __future__ import annotations

import asyncio

import pytest

from attunement.backends import LlamaCppBackend, load_backend
from attunement.types import Message

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (attunement[local])")
pytestmark = pytest.mark.slow

ASK = [
    Message(role="system", content="You answer briefly."),
    Message(role="user", content="What colour is the sky?"),
]


def test_short_reply_with_usage(embedded_gguf):
    backend = load_backend("local", cache=False)
    assert isinstance(backend, LlamaCppBackend)
    c = asyncio.run(backend.generate(ASK, max_tokens=12, temperature=0, seed=1))
    assert c.text.strip()
    assert c.usage.prompt_tokens > 10 and 0 < c.usage.completion_tokens <= 12
    assert c.usage.calls == 1 and c.latency > 0 and c.model == embedded_gguf.name


def test_same_seed_same_reply_and_calls_are_serialised(embedded_gguf):
    backend = LlamaCppBackend(embedded_gguf)

    async def main():
        return await asyncio.gather(
            *(backend.generate(ASK, max_tokens=8, temperature=0.8, seed=s) for s in (5, 5, 6))
        )

    a, b, _ = asyncio.run(main())
    assert a.text == b.text  # same seed, sampling: identical even when run concurrently


def test_logprobs_present(embedded_gguf):
    backend = LlamaCppBackend(embedded_gguf)
    c = asyncio.run(backend.generate(ASK, max_tokens=6, temperature=0, seed=1, logprobs=3))
    assert c.logprobs is not None and len(c.logprobs) == c.usage.completion_tokens
    assert "".join(t.token for t in c.logprobs) == c.text
    for t in c.logprobs:
        assert t.logprob <= 0 and len(t.top) == 3
        # greedy: the chosen token is the most likely one
        assert t.logprob == pytest.approx(max(t.top.values()), abs=1e-4)


def test_prompt_longer_than_the_context_is_a_backend_error(embedded_gguf):
    from attunement.errors import BackendError

    backend = LlamaCppBackend(embedded_gguf)
    long = [Message(role="user", content="word " * 3000)]
    with pytest.raises(BackendError) as info:
        asyncio.run(backend.generate(long, max_tokens=8, temperature=0))
    assert "llamacpp SmolLM2-135M-Instruct.Q4_1.gguf" in str(info.value)
    assert "context" in str(info.value).lower()
