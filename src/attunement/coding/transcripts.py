"""Code every turn of the chosen roles of loaded conversations; one record per coded turn.

The library behind ``attune code``: ``code_transcripts`` fills ``Turn.codes`` in place (so the
metrics can run on the same conversations) and returns flat ``CodedTurnRecord`` rows for the
output file. The local coder is batched synchronously; any other coder runs concurrently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, Field

from attunement.coding.base import Coder
from attunement.coding.batch import paused_gc
from attunement.coding.local import LocalCoder
from attunement.errors import InputError
from attunement.types import ActSpan, Conversation, Role, Turn

from .loaders import normalise_role


class CodedTurnRecord(BaseModel):
    """One output line of ``attune code``: source ids, role, text, ordered acts."""

    dialog: str
    turn: int
    role: Role
    source_role: str | None = None
    text: str
    acts: list[str] = Field(default_factory=list, description="acts in order of first occurrence")
    spans: list[ActSpan] = Field(
        default_factory=list, description="each sentence: start, end, text, act, confidence"
    )
    coder: str = ""
    error: str | None = None
    gold: list[str] | None = None


def parse_roles(roles: str | Iterable[str] | None) -> frozenset[Role]:
    """Roles to code from a list or "a,b" string of role names or aliases (supporter, sys...).

    >>> sorted(parse_roles("supporter,client"))
    ['assistant', 'user']
    """
    if roles is None:
        return frozenset({"assistant"})
    items = roles.split(",") if isinstance(roles, str) else list(roles)
    out = set()
    for name in items:
        if not name.strip():
            continue
        role = normalise_role(name)
        if role is None:
            raise InputError(f"unknown role {name.strip()!r}; use e.g. assistant, user, supporter")
        out.add(role)
    if not out:
        raise InputError("no roles given")
    return frozenset(out)


def turns_to_code(
    conversations: Sequence[Conversation], roles: frozenset[Role]
) -> list[tuple[Conversation, Turn, str | None]]:
    """(conversation, turn, context) for every codable turn of the roles.

    The context is the previous turn of another role (what the turn answers).
    """
    out = []
    for conv in conversations:
        last: tuple[Role, str] | None = None
        for turn in conv.turns:
            context = last[1] if last is not None and last[0] != turn.role else None
            if turn.role in roles and turn.error is None and turn.content.strip():
                out.append((conv, turn, context))
            if turn.content.strip() and turn.role != "system":
                last = (turn.role, turn.content)
    return out


def _record(conv: Conversation, turn: Turn) -> CodedTurnRecord:
    codes = turn.codes
    gold = turn.metadata.get("gold_strategy") or turn.metadata.get("gold_behaviour")
    gold_list = [gold] if gold else turn.metadata.get("gold_labels")
    return CodedTurnRecord(
        dialog=conv.id,
        turn=turn.index,
        role=turn.role,
        source_role=turn.metadata.get("source_role"),
        text=turn.content,
        acts=list(codes.acts) if codes else [],
        spans=list(codes.spans) if codes else [],
        coder=codes.coder if codes else "",
        error=codes.error if codes else "not coded",
        gold=gold_list,
    )


async def code_transcripts_async(
    conversations: Sequence[Conversation],
    coder: Coder,
    *,
    roles: frozenset[Role] = frozenset({"assistant"}),
    concurrency: int = 4,
) -> list[CodedTurnRecord]:
    """Code the turns (filling ``Turn.codes``); records come back in source order."""
    todo = turns_to_code(conversations, roles)
    if isinstance(coder, LocalCoder):
        coded = coder.code_many([t.content for _, t, _ in todo], [c for _, _, c in todo])
        for (_, turn, _), codes in zip(todo, coded, strict=True):
            turn.codes = codes
    else:
        sem = asyncio.Semaphore(concurrency)

        async def one(turn: Turn, context: str | None) -> None:
            async with sem:
                turn.codes = await coder.code(turn.content, context=context)

        await asyncio.gather(*(one(turn, ctx) for _, turn, ctx in todo))
    for conv in conversations:
        conv.coder = coder.name
    with paused_gc():  # many small acyclic records (see paused_gc)
        return [_record(conv, turn) for conv, turn, _ in todo]


def code_transcripts(
    conversations: Sequence[Conversation],
    coder: Coder | None = None,
    *,
    roles: frozenset[Role] = frozenset({"assistant"}),
    concurrency: int = 4,
) -> list[CodedTurnRecord]:
    """Synchronous wrapper (the local coder by default), for notebooks and scripts.

    >>> from attunement.types import Conversation, Turn
    >>> conv = Conversation(id="d1", turns=[Turn(index=0, role="user", content="I'm so tired."),
    ...     Turn(index=1, role="assistant", content="That sounds exhausting.")])
    >>> [r.turn for r in code_transcripts([conv])]
    [1]
    """
    coder = coder or LocalCoder()
    return asyncio.run(
        code_transcripts_async(conversations, coder, roles=roles, concurrency=concurrency)
    )
