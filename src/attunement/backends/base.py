"""The one protocol every model backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from attunement.types import Completion, Message


@runtime_checkable
class ChatBackend(Protocol):
    """A chat model. ``name`` is the spec it was built from (never holds a secret)."""

    name: str

    async def generate(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.7,
        seed: int | None = None,
        logprobs: int | None = None,
    ) -> Completion:
        """One completion. ``logprobs=k`` asks for the top-k alternatives of each token."""
        ...

    async def aclose(self) -> None:
        """Release connections, models, files."""
        ...
