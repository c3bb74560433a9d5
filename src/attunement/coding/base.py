"""The one protocol every coder implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from attunement.types import CodedUtterance


@runtime_checkable
class Coder(Protocol):
    """Codes one utterance into ordered acts. ``context`` is the previous turn of the other
    speaker (the user's message an assistant turn answers), when there is one.

    A coder never raises on a bad model reply: it returns a CodedUtterance with ``error`` set.
    """

    name: str

    async def code(self, text: str, *, context: str | None = None) -> CodedUtterance: ...
