"""The OpenAI-compatible backend against a real HTTP server on 127.0.0.1 that fails on purpose."""

from __future__ import annotations

import asyncio
import time

import pytest
from fault_server import Fault, FaultServer, free_port

from attunement.backends import OpenAICompatBackend, RetryPolicy, load_backend
from attunement.errors import BackendError, BackendTimeout
from attunement.types import Message

FAST = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.05)


def ask(text: str) -> list[Message]:
    return [Message(role="user", content=text)]


def backend_for(url: str, **kwargs) -> OpenAICompatBackend:
    options = {"api_key": "sk-test-SECRET", "timeout": 2.0, "retry": FAST, **kwargs}
    return OpenAICompatBackend("fault-model", base_url=url, **options)


@pytest.fixture
def server():
    with FaultServer() as srv:
        yield srv


async def _one(backend, text, **kw):
    try:
        return await backend.generate(ask(text), max_tokens=8, temperature=0, **kw)
    finally:
        await backend.aclose()


def test_plain_reply_has_text_usage_and_model(server):
    c = asyncio.run(_one(backend_for(server.base_url), "hello"))
    assert c.text == "echo: hello"
    assert c.usage.prompt_tokens == 1 and c.usage.completion_tokens == 2 and c.usage.calls == 1
    assert c.model == "fault-model" and c.latency > 0
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["payload"]["max_tokens"] == 8
    assert request["authorization"] == "Bearer sk-test-SECRET"


def test_429_with_retry_after_is_honoured_then_succeeds(server):
    server.plan("rl", Fault.status_code(429, retry_after="0.4"), Fault.ok())
    start = time.monotonic()
    c = asyncio.run(_one(backend_for(server.base_url), "rl"))
    assert c.text == "echo: rl"
    assert server.count("rl") == 2
    gap = server.requests[1]["time"] - server.requests[0]["time"]
    assert gap >= 0.38, f"retried after {gap:.2f}s, Retry-After said 0.4s"
    assert time.monotonic() - start < 2.0


def test_500_retried_until_bound_then_clear_error(server):
    server.plan("boom", *[Fault.status_code(500)] * 10)
    with pytest.raises(BackendError) as info:
        asyncio.run(_one(backend_for(server.base_url), "boom"))
    message = str(info.value)
    assert server.count("boom") == FAST.max_attempts == 4
    assert server.base_url in message and "fault-model" in message
    assert "HTTP 500 Internal Server Error" in message and "after 4 attempts" in message
    assert info.value.attempts == 4
    assert "SECRET" not in message


def test_500_then_recovery(server):
    server.plan("flaky", Fault.status_code(503), Fault.status_code(502), Fault.ok())
    c = asyncio.run(_one(backend_for(server.base_url), "flaky"))
    assert c.text == "echo: flaky" and server.count("flaky") == 3


def test_4xx_other_than_429_fails_at_once(server):
    server.plan("bad", Fault.status_code(400), Fault.ok())
    with pytest.raises(BackendError) as info:
        asyncio.run(_one(backend_for(server.base_url), "bad"))
    assert server.count("bad") == 1
    assert "HTTP 400 Bad Request" in str(info.value) and "injected 400" in str(info.value)


def test_malformed_json_is_retried_and_reported(server):
    server.plan("mal", Fault.malformed(), Fault.ok())
    c = asyncio.run(_one(backend_for(server.base_url), "mal"))
    assert c.text == "echo: mal" and server.count("mal") == 2

    server.plan("mal2", *[Fault.malformed()] * 10)
    with pytest.raises(BackendError) as info:
        asyncio.run(_one(backend_for(server.base_url), "mal2"))
    assert "malformed response" in str(info.value)
    assert server.count("mal2") == 4


def test_hang_past_timeout_then_retry_succeeds(server):
    server.plan("slow", Fault.hang(5.0), Fault.ok())
    start = time.monotonic()
    c = asyncio.run(_one(backend_for(server.base_url, timeout=0.5), "slow"))
    assert c.text == "echo: slow"
    assert server.count("slow") == 2 and server.answered == ["slow"]
    assert time.monotonic() - start < 3.0


def test_hang_every_time_gives_backend_timeout(server):
    server.plan("stuck", *[Fault.hang(5.0)] * 3)
    retry = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.02)
    with pytest.raises(BackendTimeout) as info:
        asyncio.run(_one(backend_for(server.base_url, timeout=0.3, retry=retry), "stuck"))
    assert "timed out after 0.3s" in str(info.value) and "after 3 attempts" in str(info.value)
    assert server.count("stuck") == 3


def test_dropped_connection_is_retried(server):
    server.plan("drop", Fault.drop(), Fault.ok())
    c = asyncio.run(_one(backend_for(server.base_url), "drop"))
    assert c.text == "echo: drop" and server.count("drop") == 2

    server.plan("drop2", *[Fault.drop()] * 10)
    with pytest.raises(BackendError) as info:
        asyncio.run(_one(backend_for(server.base_url), "drop2"))
    assert "connection closed by the server" in str(info.value)
    assert server.count("drop2") == 4 and "drop2" not in server.answered


def test_refused_connection_names_endpoint_and_cause():
    url = f"http://127.0.0.1:{free_port()}/v1"
    start = time.monotonic()
    with pytest.raises(BackendError) as info:
        asyncio.run(_one(backend_for(url), "anyone?"))
    message = str(info.value)
    assert url in message and "connection refused" in message and "after 4 attempts" in message
    assert not isinstance(info.value, BackendTimeout)
    assert time.monotonic() - start < 5.0


def test_concurrent_mixed_faults_lose_and_duplicate_nothing(server):
    """20 requests, a third of them failing first in different ways: each gets its own answer."""
    faults = [
        Fault.status_code(429, retry_after="0.05"),
        Fault.status_code(500),
        Fault.malformed(),
        Fault.drop(),
    ]
    texts = [f"msg-{i}" for i in range(20)]
    for i, text in enumerate(texts):
        if i % 3 == 0:
            server.plan(text, faults[i % len(faults)])
    backend = backend_for(server.base_url, max_connections=4)

    async def main():
        try:
            return await asyncio.gather(
                *(backend.generate(ask(t), max_tokens=8, temperature=0) for t in texts)
            )
        finally:
            await backend.aclose()

    results = asyncio.run(main())
    assert [r.text for r in results] == [f"echo: {t}" for t in texts]
    assert sorted(server.answered) == sorted(texts)  # each answered exactly once
    for i, text in enumerate(texts):
        assert server.count(text) == (2 if i % 3 == 0 else 1)


def test_concurrency_limit_is_respected(server):
    for i in range(6):
        server.plan(f"c{i}", Fault.hang(0.3))
    backend = backend_for(server.base_url, max_connections=2)

    async def main():
        try:
            return await asyncio.gather(
                *(backend.generate(ask(f"c{i}"), max_tokens=4, temperature=0) for i in range(6))
            )
        finally:
            await backend.aclose()

    start = time.monotonic()
    asyncio.run(main())
    # 6 requests of 0.3s, two at a time: at least three rounds.
    assert time.monotonic() - start >= 0.85
    times = sorted(r["time"] for r in server.requests)
    assert times[2] - times[0] >= 0.25  # the third started only after one of the first two ended


def test_api_key_from_env_never_in_name_or_error(monkeypatch, tmp_path):
    monkeypatch.setenv("ATTUNE_API_KEY", "sk-live-TOPSECRET")
    url = f"http://127.0.0.1:{free_port()}/v1"
    backend = load_backend(f"openai:m@{url}", cache_dir=tmp_path, max_retries=0, timeout=1)
    assert "TOPSECRET" not in backend.name
    with pytest.raises(BackendError) as info:
        asyncio.run(_one(backend, "x"))
    assert "TOPSECRET" not in str(info.value) and "TOPSECRET" not in repr(info.value)
