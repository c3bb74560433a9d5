"""The OpenAI-compatible backend against a real llama.cpp server running the embedded model."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from attunement.backends import CachedBackend, load_backend
from attunement.types import Message

pytestmark = pytest.mark.slow


def spec(url: str) -> str:
    return f"openai:smollm2@{url}"


def test_reply_and_usage_from_the_server(llama_server, tmp_path):
    backend = load_backend(spec(llama_server), cache=False)

    async def main():
        try:
            return await backend.generate(
                [Message(role="user", content="Name a colour.")],
                max_tokens=8,
                temperature=0,
                seed=1,
            )
        finally:
            await backend.aclose()

    c = asyncio.run(main())
    assert c.text.strip()
    assert c.usage.prompt_tokens > 5 and 0 < c.usage.completion_tokens <= 8
    assert c.usage.calls == 1 and c.latency > 0 and not c.cached


def test_second_identical_call_is_a_cache_hit(llama_server, tmp_path):
    backend = load_backend(spec(llama_server), cache_dir=tmp_path)
    assert isinstance(backend, CachedBackend)
    ask = [Message(role="user", content="Say one short word.")]

    async def main():
        try:
            first = await backend.generate(ask, max_tokens=8, temperature=0, seed=3)
            second = await backend.generate(ask, max_tokens=8, temperature=0, seed=3)
            other = await backend.generate(ask, max_tokens=8, temperature=0, seed=4)
            return first, second, other
        finally:
            await backend.aclose()

    first, second, other = asyncio.run(main())
    assert not first.cached and second.cached and not other.cached
    assert second.text == first.text and second.usage == first.usage
    assert second.latency < first.latency
    assert backend.hits == 1 and backend.misses == 2
    rows = sqlite3.connect(tmp_path / "responses.sqlite").execute("SELECT COUNT(*) FROM responses")
    assert rows.fetchone()[0] == 2


def test_eight_concurrent_calls_all_come_back(llama_server):
    """8 requests at once: all answered, each with its own reply (same as asked one by one)."""
    backend = load_backend(spec(llama_server), cache=False, max_connections=8)
    asks = [[Message(role="user", content=f"Count from {i} to {i + 3}.")] for i in range(8)]

    async def main():
        try:
            together = await asyncio.gather(
                *(backend.generate(a, max_tokens=8, temperature=0, seed=7) for a in asks)
            )
            alone = [await backend.generate(a, max_tokens=8, temperature=0, seed=7) for a in asks]
            return together, alone
        finally:
            await backend.aclose()

    together, alone = asyncio.run(main())
    assert len(together) == 8
    assert all(r.usage.completion_tokens > 0 and r.usage.calls == 1 for r in together)
    # Greedy decoding on a server that runs one request at a time is deterministic, so the
    # concurrent replies must match the one-by-one replies index by index: none lost or swapped.
    assert [r.text for r in together] == [r.text for r in alone]
    assert len({r.text for r in together}) > 1


def test_logprobs_through_the_server(llama_server):
    backend = load_backend(spec(llama_server), cache=False)

    async def main():
        try:
            return await backend.generate(
                [Message(role="user", content="Hello")], max_tokens=4, temperature=0, logprobs=2
            )
        finally:
            await backend.aclose()

    c = asyncio.run(main())
    assert c.logprobs is not None and len(c.logprobs) == c.usage.completion_tokens
    assert all(lp.logprob <= 0 and 1 <= len(lp.top) <= 2 for lp in c.logprobs)
    assert "".join(lp.token for lp in c.logprobs) == c.text
