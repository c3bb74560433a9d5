"""A SQLite response cache that wraps any backend.

Why: evaluation reruns the same prompts (resume, ``--epochs`` with fixed seeds, reports), and
a model call is the slowest and the most expensive thing we do. The key is a SHA-256 of the
canonical JSON of everything that decides the reply -- backend kind, base URL, model, messages,
max_tokens, temperature, seed, logprobs -- and of nothing else: never an API key or a header.

Rules:
  * A call with ``temperature > 0`` and no seed is non-deterministic by request, so it is neither
    read from nor written to the cache (a cache would silently turn sampling into replay).
  * WAL journal and a busy timeout make concurrent writers (threads or processes) safe;
    ``INSERT OR REPLACE`` makes a race between two writers of the same key harmless.
  * A corrupt file is reported on stderr, moved aside to ``<file>.corrupt-<timestamp>`` and
    rebuilt empty; a cache problem never fails a model call.
  * A hit returns the stored completion with ``cached=True`` and the lookup's own latency; its
    ``usage`` still says what the completion cost when it was made.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from attunement.backends.base import ChatBackend
from attunement.types import Completion, Message

CACHE_ENV = "ATTUNE_CACHE_DIR"
CACHE_FILENAME = "responses.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    completion TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def default_cache_path(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<cache_dir>/responses.sqlite``; folder default: ``$ATTUNE_CACHE_DIR`` or ~/.cache."""
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "attunement"
    return Path(cache_dir).expanduser() / CACHE_FILENAME


def is_cacheable(*, temperature: float, seed: int | None) -> bool:
    """Deterministic requests only: greedy decoding, or sampling with a fixed seed.

    >>> is_cacheable(temperature=0.7, seed=None), is_cacheable(temperature=0.7, seed=1)
    (False, True)
    """
    return temperature <= 0 or seed is not None


def cache_key(
    *,
    backend: str,
    base_url: str | None,
    model: str,
    messages: Sequence[Message],
    max_tokens: int,
    temperature: float,
    seed: int | None,
    logprobs: int | None,
) -> str:
    """SHA-256 of the canonical JSON of the request; identical requests share a key.

    >>> m = [Message(role="user", content="hi")]
    >>> k = cache_key(backend="llamacpp", base_url=None, model="m.gguf", messages=m,
    ...               max_tokens=8, temperature=0.0, seed=1, logprobs=None)
    >>> len(k), k == cache_key(backend="llamacpp", base_url=None, model="m.gguf", messages=m,
    ...                        max_tokens=8, temperature=0.0, seed=1, logprobs=None)
    (64, True)
    """
    payload: dict[str, Any] = {
        "v": 1,
        "backend": backend,
        "base_url": base_url,
        "model": model,
        "messages": [[m.role, m.content] for m in messages],
        "max_tokens": int(max_tokens),
        "temperature": float(temperature),
        "seed": seed,
        "logprobs": logprobs,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """Completions stored by key in one SQLite file; safe across threads and processes."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_ms: int = 30_000) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        with self._lock:
            self._open()

    # ----------------------------------------------------------------- connection management
    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout_ms / 1000, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            conn.commit()
            # Reading one row touches the table's pages: garbage past the header shows up here.
            conn.execute("SELECT key FROM responses LIMIT 1").fetchall()
        except sqlite3.DatabaseError:
            conn.close()
            raise
        return conn

    def _open(self) -> None:
        try:
            self._conn = self._connect()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc).lower():
                raise
            self._rebuild(exc)

    def _rebuild(self, exc: BaseException) -> None:
        """Move a corrupt file aside (keeping it for inspection) and start an empty cache."""
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
        stamp = time.strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{os.getpid()}")
        print(
            f"warning: response cache {self.path} is corrupt ({exc}); "
            f"moved it to {aside.name} and started a new one",
            file=sys.stderr,
        )
        for suffix in ("", "-wal", "-shm"):
            src = Path(f"{self.path}{suffix}")
            if src.exists():
                try:
                    src.replace(Path(f"{aside}{suffix}"))
                except OSError:
                    src.unlink(missing_ok=True)
        self._conn = self._connect()

    def _run(self, fn: Any) -> Any:
        """Run ``fn(conn)``; on corruption rebuild once and retry, so a call never fails."""
        with self._lock:
            if self._conn is None:
                self._open()
            try:
                return fn(self._conn)
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError):
                    # locked past busy_timeout, disk full, read-only: skip the cache this once.
                    print(f"warning: response cache {self.path}: {exc}", file=sys.stderr)
                    return None
                self._rebuild(exc)
                return fn(self._conn)

    # ----------------------------------------------------------------- public API
    def get(self, key: str) -> Completion | None:
        """The stored completion, or None on a miss (or an unreadable row)."""

        def _get(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT completion FROM responses WHERE key = ?", (key,)).fetchone()
            return None if row is None else row[0]

        raw = self._run(_get)
        if raw is None:
            return None
        try:
            return Completion.model_validate_json(raw)
        except ValueError:
            return None

    def put(self, key: str, completion: Completion) -> None:
        """Store (or replace) a completion; the ``cached`` flag is stored as False."""
        blob = completion.model_copy(update={"cached": False}).model_dump_json()

        def _put(conn: sqlite3.Connection) -> None:
            with conn:
                conn.execute(
                    "INSERT OR REPLACE INTO responses (key, completion, created) VALUES (?, ?, ?)",
                    (key, blob, time.time()),
                )

        self._run(_put)

    def __len__(self) -> int:
        n = self._run(lambda conn: conn.execute("SELECT COUNT(*) FROM responses").fetchone())
        return 0 if n is None else int(n[0])

    def clear(self) -> None:
        def _clear(conn: sqlite3.Connection) -> None:
            with conn:
                conn.execute("DELETE FROM responses")

        self._run(_clear)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class CachedBackend:
    """Any backend behind the response cache. ``name`` is the inner backend's name.

    Args:
        inner: the backend that makes real calls on a miss.
        cache: where completions are kept.
        kind: backend kind for the key (``openai``, ``llamacpp``).
        model: model name or GGUF path for the key.
        base_url: server URL for the key (None for in-process backends).
    """

    def __init__(
        self,
        inner: ChatBackend,
        cache: ResponseCache,
        *,
        kind: str,
        model: str,
        base_url: str | None = None,
    ) -> None:
        self.inner = inner
        self.cache = cache
        self.kind = kind
        self.model = model
        self.base_url = base_url
        self.name = inner.name
        self.hits = 0
        self.misses = 0

    def key_for(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        seed: int | None,
        logprobs: int | None,
    ) -> str:
        return cache_key(
            backend=self.kind,
            base_url=self.base_url,
            model=self.model,
            messages=messages,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=seed,
            logprobs=logprobs,
        )

    async def generate(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.7,
        seed: int | None = None,
        logprobs: int | None = None,
    ) -> Completion:
        """A stored completion when there is one; else the inner backend's, then stored."""
        params = dict(max_tokens=max_tokens, temperature=temperature, seed=seed, logprobs=logprobs)
        if not is_cacheable(temperature=temperature, seed=seed):
            return await self.inner.generate(messages, **params)
        start = time.perf_counter()
        key = self.key_for(messages, **params)
        hit = await asyncio.to_thread(self.cache.get, key)
        if hit is not None:
            self.hits += 1
            return hit.model_copy(update={"cached": True, "latency": time.perf_counter() - start})
        self.misses += 1
        completion = await self.inner.generate(messages, **params)
        await asyncio.to_thread(self.cache.put, key, completion)
        return completion

    async def aclose(self) -> None:
        await self.inner.aclose()
        self.cache.close()
