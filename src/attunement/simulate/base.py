"""The simulated-user protocol shared by the structural and the LLM user.

A user is a factory of sessions: ``start(scenario, seed)`` returns a session that holds the
hidden state (emotion, revealed facts, history) of one dialogue, and reacts to each assistant
turn with a ``UserReply``. The rollout engine codes the assistant turn first and passes the
codes in, so the structural user never reads surface words it does not need.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from attunement.types import CodedUtterance, Scenario, Usage


class UserReply(BaseModel):
    """The user's reaction to one assistant turn."""

    text: str = Field(description="what the user says next ('' when the turn failed)")
    emotion: float = Field(description="emotion after this turn, 0-100")
    delta: float = Field(description="change applied this turn (after clamping)")
    reasons: list[str] = Field(
        default_factory=list, description="'rule_name: why' for every rule that fired"
    )
    facts_revealed: list[str] = Field(default_factory=list, description="hidden fact ids")
    end: bool = False
    end_reason: str | None = None
    error: str | None = Field(None, description="set when the user turn failed (LLM user)")
    usage: Usage | None = None


@runtime_checkable
class UserSession(Protocol):
    """One dialogue's simulated user."""

    @property
    def emotion(self) -> float: ...

    async def respond(self, assistant_text: str, codes: CodedUtterance) -> UserReply: ...


@runtime_checkable
class SimulatedUser(Protocol):
    """Makes a session per dialogue; ``name`` is recorded in the run config."""

    name: str

    def start(self, scenario: Scenario, *, seed: int) -> UserSession: ...
