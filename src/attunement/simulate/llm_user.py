"""The LLM user: a model plays the scenario's person, one JSON call per user turn.

Same scenario data as the structural user. Each turn the model sees the persona, the hidden
need, the hidden facts (by id), its current emotion and the dialogue, and returns one JSON
object: the emotion change with a short reason, the ids of hidden facts the assistant's last
turn uncovered, the reply, and whether to end. The reply is validated (schema, known fact
ids, change clamped to +/-``max_delta`` as SAGE does) with bounded retries
(:func:`~attunement.backends.structured.generate_structured`); a turn that still fails is
returned as a failed ``UserReply`` (``error`` set, emotion unchanged), never raised.

Ends like SAGE: emotion at or above ``success_at`` (success), below ``failure_at``
(failure), or the model says goodbye (``end``). The turn limit is the rollout engine's.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, Field, field_validator

from attunement.backends.base import ChatBackend
from attunement.backends.structured import generate_structured
from attunement.simulate.base import UserReply
from attunement.types import CodedUtterance, Message, Scenario

NEED_BRIEFS: dict[str, str] = {
    "vent": "you want to be heard; advice too early makes you feel brushed off",
    "validation": "you want to hear that your reaction makes sense",
    "advice": "you want concrete advice that fits your situation, once they understand it",
    "information": "you want clear, correct information",
    "clarify": "your request is ambiguous; you feel helped only if they ask what you mean",
    "clear_task": "your request is plain; you want it done, questions waste your time",
    "encouragement": "you want encouragement and belief in you",
}

SYSTEM_TEMPLATE = """You are role-playing a person talking to an AI assistant. Stay in role.
Who you are: {persona}
What you really need (never say it outright): {need}
Facts you hold (reveal one only if the assistant's last message asks about it or invites it):
{facts}
{readings}Your current mood is {emotion:.0f} out of 100 (0 = awful, 100 = fully helped).
After each assistant message, reply with ONE JSON object and nothing else:
{{"emotion_change": <integer from -{max_delta} to {max_delta}>, "reason": "<why, few words>",
"facts_uncovered": [<ids of facts the last assistant message asked about or invited>],
"reply": "<what you say next, in your own voice>", "end": <true to say goodbye>}}"""


class LLMUserTurn(BaseModel):
    """The JSON one LLM user turn must return."""

    emotion_change: float = Field(description="change of mood this turn, clamped later")
    reason: str = Field("", max_length=400)
    facts_uncovered: list[str] = Field(default_factory=list)
    reply: str = Field(min_length=1, max_length=4000)
    end: bool = False

    @field_validator("reply")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("reply must not be blank")
        return v.strip()


def _facts_block(scenario: Scenario) -> str:
    if not scenario.hidden_facts:
        return "(none)"
    return "\n".join(f'- id "{f.id}": {f.text}' for f in scenario.hidden_facts)


def _readings_block(scenario: Scenario) -> str:
    if not scenario.readings or scenario.meant is None:
        return ""
    meant = next(r for r in scenario.readings if r.id == scenario.meant)
    return f"What you mean by your request: {meant.text}\n"


class LLMUserSession:
    """One dialogue's LLM user: holds emotion, revealed facts and the dialogue so far."""

    def __init__(self, user: LLMUser, scenario: Scenario, seed: int) -> None:
        self._user = user
        self._scenario = scenario
        self._seed = seed
        self._emotion = float(scenario.emotion_start)
        self._revealed: set[str] = set()
        self._history: list[Message] = [Message(role="user", content=scenario.opening)]
        self._turn = 0

    @property
    def emotion(self) -> float:
        return self._emotion

    def _prompt(self) -> list[Message]:
        sc, u = self._scenario, self._user
        persona = sc.persona
        who = f"{persona.name}; talks {persona.style}"
        if persona.traits:
            who += "; " + ", ".join(persona.traits)
        if persona.background:
            who += f". {persona.background}"
        system = SYSTEM_TEMPLATE.format(
            persona=who,
            need=NEED_BRIEFS.get(sc.need, sc.need),
            facts=_facts_block(sc),
            readings=_readings_block(sc),
            emotion=self._emotion,
            max_delta=int(u.max_delta),
        )
        # Roles flip: the model plays the user, so the assistant's turns are its "user" input.
        lines = [
            f"{'You' if m.role == 'user' else 'Assistant'}: {m.content}" for m in self._history
        ]
        transcript = "\n".join(lines)
        return [
            Message(role="system", content=system),
            Message(role="user", content=f"{transcript}\n\nYour JSON:"),
        ]

    async def respond(self, assistant_text: str, codes: CodedUtterance) -> UserReply:
        """React to one assistant turn; a failed model reply comes back with ``error`` set."""
        self._history.append(Message(role="assistant", content=assistant_text))
        self._turn += 1
        u = self._user
        result = await generate_structured(
            u.backend,
            self._prompt(),
            LLMUserTurn,
            retries=u.retries,
            max_tokens=u.max_tokens,
            temperature=u.temperature,
            seed=self._seed + 1000 * self._turn,
        )
        value = result.value
        if value is not None:
            unknown = sorted(set(value.facts_uncovered) - self._known_facts())
            if unknown:
                # Invented fact ids are a validation failure: the turn is recorded as failed.
                value = None
                result.error = f"unknown fact id(s) {json.dumps(unknown)} in facts_uncovered"
        if value is None:
            return UserReply(
                text="",
                emotion=self._emotion,
                delta=0.0,
                error=f"LLM user turn failed: {result.error}",
                usage=result.usage,
            )
        delta = max(-u.max_delta, min(u.max_delta, float(value.emotion_change)))
        self._emotion = max(0.0, min(100.0, self._emotion + delta))
        new_facts = [f for f in value.facts_uncovered if f not in self._revealed]
        self._revealed.update(new_facts)
        self._history.append(Message(role="user", content=value.reply))
        end_reason = None
        if self._emotion >= u.success_at:
            end_reason = "success"
        elif self._emotion < u.failure_at:
            end_reason = "failure"
        elif value.end:
            end_reason = "goodbye"
        reason = value.reason.strip() or "no reason given"
        return UserReply(
            text=value.reply,
            emotion=self._emotion,
            delta=delta,
            reasons=[f"llm_user: {reason}"],
            facts_revealed=new_facts,
            end=end_reason is not None,
            end_reason=end_reason,
            usage=result.usage,
        )

    def _known_facts(self) -> set[str]:
        return {f.id for f in self._scenario.hidden_facts}


class LLMUser:
    """A SimulatedUser backed by any ChatBackend (``name`` is ``llm:<spec>``)."""

    def __init__(
        self,
        backend: ChatBackend,
        *,
        retries: int = 2,
        temperature: float = 0.7,
        max_tokens: int = 320,
        max_delta: float = 10.0,
        success_at: float = 100.0,
        failure_at: float = 10.0,
    ) -> None:
        self.backend = backend
        self.retries = retries
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_delta = max_delta
        self.success_at = success_at
        self.failure_at = failure_at
        self.name = f"llm:{backend.name}"

    def start(self, scenario: Scenario, *, seed: int) -> LLMUserSession:
        """A fresh session for one dialogue."""
        return LLMUserSession(self, scenario, seed)
