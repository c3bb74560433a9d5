"""One question to one model: the library call behind ``attune chat``.

>>> import asyncio
>>> reply = asyncio.run(ask("local", "Hello!", max_tokens=16))  # doctest: +SKIP
>>> reply.text, reply.usage.completion_tokens, reply.latency, reply.cached  # doctest: +SKIP
"""

from __future__ import annotations

import os

from attunement.backends.spec import load_backend
from attunement.types import Completion, Message


def build_messages(message: str, *, system: str | None = None) -> list[Message]:
    """The chat for a single user message, with an optional system prompt first."""
    messages = [Message(role="system", content=system)] if system else []
    messages.append(Message(role="user", content=message))
    return messages


async def ask(
    spec: str,
    message: str,
    *,
    system: str | None = None,
    max_tokens: int = 256,
    temperature: float = 0.7,
    seed: int | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout: float = 60.0,
) -> Completion:
    """Send one message to the model ``spec`` names and return its completion."""
    backend = load_backend(spec, cache=cache, cache_dir=cache_dir, timeout=timeout)
    try:
        return await backend.generate(
            build_messages(message, system=system),
            max_tokens=max_tokens,
            temperature=temperature,
            seed=seed,
        )
    finally:
        await backend.aclose()
