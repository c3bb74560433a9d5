"""The SQLite response cache: hits, misses, concurrent writers, corruption, and no secrets."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest
from fault_server import Fault, FaultServer

from attunement.backends import (
    CachedBackend,
    OpenAICompatBackend,
    ResponseCache,
    RetryPolicy,
    cache_key,
    default_cache_path,
    load_backend,
)
from attunement.errors import BackendError
from attunement.types import Completion, Message, Usage

MSG = [Message(role="user", content="hello")]


def key(**overrides) -> str:
    params = dict(
        backend="openai",
        base_url="http://h/v1",
        model="m",
        messages=MSG,
        max_tokens=8,
        temperature=0.0,
        seed=1,
        logprobs=None,
    )
    params.update(overrides)
    return cache_key(**params)


def test_key_is_stable_and_sensitive_to_every_field():
    assert key() == key()
    variants = [
        key(backend="llamacpp"),
        key(base_url="http://other/v1"),
        key(model="m2"),
        key(messages=[Message(role="user", content="hello!")]),
        key(messages=[Message(role="system", content="hello")]),
        key(max_tokens=9),
        key(temperature=0.5),
        key(seed=2),
        key(seed=None),
        key(logprobs=3),
    ]
    assert len({key(), *variants}) == len(variants) + 1


def test_default_path_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ATTUNE_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_path() == tmp_path / "c" / "responses.sqlite"
    assert default_cache_path(tmp_path) == tmp_path / "responses.sqlite"
    monkeypatch.delenv("ATTUNE_CACHE_DIR")
    assert default_cache_path() == Path.home() / ".cache" / "attunement" / "responses.sqlite"


def test_put_get_roundtrip(tmp_path):
    cache = ResponseCache(tmp_path / "r.sqlite")
    c = Completion(text="hi", usage=Usage(prompt_tokens=3, completion_tokens=1, calls=1))
    assert cache.get("k") is None
    cache.put("k", c.model_copy(update={"cached": True}))
    got = cache.get("k")
    assert got is not None and got.text == "hi" and got.usage == c.usage and not got.cached
    cache.put("k", c.model_copy(update={"text": "replaced"}))
    assert cache.get("k").text == "replaced" and len(cache) == 1
    cache.close()
    assert ResponseCache(tmp_path / "r.sqlite").get("k").text == "replaced"  # persisted


@pytest.fixture
def server():
    with FaultServer() as srv:
        yield srv


def _cached(server, tmp_path) -> CachedBackend:
    inner = OpenAICompatBackend(
        "m", base_url=server.base_url, api_key="x", timeout=2, retry=RetryPolicy(max_retries=0)
    )
    return CachedBackend(
        inner, ResponseCache(tmp_path / "r.sqlite"), kind="openai", model="m", base_url="u"
    )


def test_hit_skips_the_server_and_nondeterministic_calls_are_not_cached(server, tmp_path):
    backend = _cached(server, tmp_path)

    async def main():
        try:
            a = await backend.generate(MSG, max_tokens=8, temperature=0.0)
            b = await backend.generate(MSG, max_tokens=8, temperature=0.0)
            c = await backend.generate(MSG, max_tokens=8, temperature=0.9, seed=5)
            d = await backend.generate(MSG, max_tokens=8, temperature=0.9, seed=5)
            e = await backend.generate(MSG, max_tokens=8, temperature=0.9)  # no seed
            f = await backend.generate(MSG, max_tokens=8, temperature=0.9)
            return a, b, c, d, e, f
        finally:
            await backend.aclose()

    a, b, c, d, e, f = asyncio.run(main())
    assert [x.cached for x in (a, b, c, d, e, f)] == [False, True, False, True, False, False]
    assert b.text == a.text == "echo: hello"
    assert server.count("hello") == 4  # a, c, e, f reached the server; b and d did not


def test_failed_calls_are_not_cached(server, tmp_path):
    server.plan("hello", Fault.status_code(500))
    backend = _cached(server, tmp_path)

    async def main():
        try:
            with pytest.raises(BackendError):
                await backend.generate(MSG, max_tokens=8, temperature=0.0)
            return await backend.generate(MSG, max_tokens=8, temperature=0.0)
        finally:
            await backend.aclose()

    assert not asyncio.run(main()).cached and server.count("hello") == 2


def _writer(path: str, worker: int, n: int) -> None:
    cache = ResponseCache(path)
    for i in range(n):
        cache.put(f"w{worker}-{i}", Completion(text=f"{worker}:{i}"))
        cache.put("shared", Completion(text=f"shared by {worker}"))
    cache.close()


def test_concurrent_writers_processes_and_threads(tmp_path):
    path = str(tmp_path / "r.sqlite")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 40)) for w in range(3)]
    threads = [threading.Thread(target=_writer, args=(path, 10 + w, 40)) for w in range(3)]
    for p in procs:
        p.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    cache = ResponseCache(path)
    assert len(cache) == 6 * 40 + 1
    for w in (0, 1, 2, 10, 11, 12):
        assert cache.get(f"w{w}-39").text == f"{w}:39"
    assert cache.get("shared").text.startswith("shared by ")


@pytest.mark.parametrize(
    "garbage",
    [b"this is not a database at all\x00\xff" * 200, b"SQLite format 3\x00" + b"\xab" * 8000],
    ids=["garbage", "bad-pages"],
)
def test_corrupt_file_is_reported_moved_aside_and_rebuilt(tmp_path, capfd, garbage):
    path = tmp_path / "responses.sqlite"
    path.write_bytes(garbage)
    cache = ResponseCache(path)
    err = capfd.readouterr().err
    assert "corrupt" in err and str(path) in err
    aside = list(tmp_path.glob("responses.sqlite.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == garbage
    cache.put("k", Completion(text="fresh"))
    assert cache.get("k").text == "fresh"
    sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()


def test_file_corrupted_while_open_is_rebuilt_not_raised(tmp_path, capfd):
    path = tmp_path / "responses.sqlite"
    cache = ResponseCache(path)
    cache.put("k", Completion(text="x"))
    cache.close()
    path.write_bytes(b"\x00garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    assert cache.get("k") is None  # reopened: corrupt, moved aside, empty
    assert "corrupt" in capfd.readouterr().err
    cache.put("k", Completion(text="y"))
    assert cache.get("k").text == "y"


def test_api_key_never_reaches_the_cache_file(server, tmp_path, monkeypatch):
    secret = "sk-attune-SUPERSECRET-4242"
    monkeypatch.setenv("ATTUNE_API_KEY", secret)
    backend = load_backend(f"openai:m@{server.base_url}", cache_dir=tmp_path)

    async def main():
        try:
            for i in range(3):
                await backend.generate(
                    [Message(role="user", content=f"q{i}")], max_tokens=8, temperature=0
                )
        finally:
            await backend.aclose()

    asyncio.run(main())
    assert server.requests[0]["authorization"] == f"Bearer {secret}"  # the key was used
    files = list(tmp_path.iterdir())
    assert any(f.name == "responses.sqlite" for f in files)
    assert len(ResponseCache(tmp_path / "responses.sqlite")) == 3
    for f in tmp_path.iterdir():
        assert secret.encode() not in f.read_bytes(), f
    assert secret not in backend.name
