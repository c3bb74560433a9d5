"""The data model: every part of the pipeline passes these and nothing else.

scenarios -> rollout -> coder -> metrics -> report all speak ``Conversation``; the probes speak
``ProbeItem`` and ``GradedAnswer``. Models are versioned (``SCHEMA_VERSION``) so that old run
folders still load. Serialised as JSON lines (see :mod:`attunement.jsonl`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from attunement.coding.taxonomy import ACT_GROUP, Act, Group

SCHEMA_VERSION = 1

Role = Literal["system", "user", "assistant"]
Need = Literal[
    "vent", "validation", "advice", "information", "clarify", "clear_task", "encouragement"
]
NEEDS: tuple[Need, ...] = (
    "vent",
    "validation",
    "advice",
    "information",
    "clarify",
    "clear_task",
    "encouragement",
)


class _Model(BaseModel):
    # defer_build: a model's validator is built when it is first used, so a command pays only
    # for the models it touches (`attune code` uses three of sixteen)
    model_config = ConfigDict(extra="forbid", validate_assignment=False, defer_build=True)


# --------------------------------------------------------------------------- model calls
class Message(_Model):
    """One chat message as a backend sees it."""

    role: Role
    content: str


class Usage(_Model):
    """Token counts of one or more model calls."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            calls=self.calls + other.calls,
        )


class TokenLogprob(_Model):
    """One generated token, its log-probability, and the top alternatives when asked for."""

    token: str
    logprob: float
    top: dict[str, float] = Field(default_factory=dict)


class Completion(_Model):
    """What a backend returns for one call."""

    text: str
    logprobs: list[TokenLogprob] | None = None
    usage: Usage = Field(default_factory=Usage)
    latency: float = Field(0.0, description="seconds, wall clock, for this call")
    cached: bool = False
    model: str = ""


# --------------------------------------------------------------------------- coding
class ActSpan(_Model):
    """A sentence of an utterance (character span) and the act it performs."""

    start: int
    end: int
    text: str
    act: Act
    confidence: float = 1.0


class CodedUtterance(_Model):
    """The acts of one utterance, in the order they occur. ``error`` marks a failed coding."""

    text: str
    spans: list[ActSpan] = Field(default_factory=list)
    coder: str = ""
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def acts(self) -> list[Act]:
        """Acts in order of first occurrence."""
        seen: list[Act] = []
        for span in self.spans:
            if span.act not in seen:
                seen.append(span.act)
        return seen

    @property
    def act_set(self) -> frozenset[Act]:
        return frozenset(span.act for span in self.spans)

    @property
    def groups(self) -> frozenset[Group]:
        return frozenset(ACT_GROUP[a] for a in self.act_set if a in ACT_GROUP)


# --------------------------------------------------------------------------- scenarios
class Persona(_Model):
    """Who the simulated user is and how replies land with them."""

    name: str
    style: str = Field("plain", description="how they talk: terse, chatty, guarded, formal ...")
    traits: list[str] = Field(
        default_factory=list,
        description="e.g. resists_advice, dislikes_questions, wants_to_be_taken_seriously",
    )
    background: str = ""


class HiddenFact(_Model):
    """A fact the user holds; revealed only when the assistant asks or invites it."""

    id: str
    text: str = Field(description="the fact as the user would say it")
    cues: list[str] = Field(
        default_factory=list,
        description="words or phrases that, in a question or reflection, touch this fact",
    )
    tried: list[str] = Field(
        default_factory=list,
        description="advice cues the user already tried: advice touching them draws "
        "'I already tried that' and reveals this fact",
    )
    volunteer: bool = Field(
        False, description="offered to any open invitation (ask_open, checkin), cues or not"
    )


class Reading(_Model):
    """One possible reading of an ambiguous request."""

    id: str
    text: str
    cues: list[str] = Field(default_factory=list)


class Scenario(_Model):
    """One simulated user: opening, hidden need, hidden facts, emotional start."""

    id: str
    domain: str
    persona: Persona
    opening: str
    need: Need
    emotion_start: float = Field(40.0, ge=0, le=100)
    hidden_facts: list[HiddenFact] = Field(default_factory=list)
    readings: list[Reading] = Field(default_factory=list)
    meant: str | None = Field(None, description="id of the reading the user means")
    replies: dict[str, list[str]] = Field(
        default_factory=dict, description="reaction -> reply lines overriding the defaults"
    )
    fitting_cues: list[str] = Field(
        default_factory=list,
        description="words that make advice or encouragement fit this scenario",
    )
    answer_cues: list[str] = Field(
        default_factory=list,
        description="words a right answer holds (clear_task, information); empty: any answer",
    )
    tags: list[str] = Field(default_factory=list)
    max_turns: int = Field(8, ge=1, le=50)
    description: str = ""

    @model_validator(mode="after")
    def _check_readings(self) -> Scenario:
        ids = {r.id for r in self.readings}
        if self.meant is not None and self.meant not in ids:
            raise ValueError(f"meant={self.meant!r} is not one of the readings {sorted(ids)}")
        if self.need == "clarify" and (len(self.readings) < 2 or self.meant is None):
            raise ValueError("a 'clarify' scenario needs at least two readings and 'meant'")
        return self


# --------------------------------------------------------------------------- conversations
class Turn(_Model):
    """One message of a conversation with what was measured about it."""

    index: int
    role: Role
    content: str
    codes: CodedUtterance | None = None
    emotion: float | None = Field(None, description="user turns: emotion after reacting")
    emotion_delta: float | None = None
    reasons: list[str] = Field(
        default_factory=list, description="why the emotion moved: 'rule_name: explanation'"
    )
    facts_revealed: list[str] = Field(default_factory=list)
    reward: float | None = None
    usage: Usage | None = None
    latency: float | None = None
    error: str | None = None
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="source details of a loaded transcript: source_role, gold labels, ...",
    )


class Conversation(_Model):
    """A whole dialogue, simulated or loaded from a transcript."""

    schema_version: int = SCHEMA_VERSION
    id: str
    scenario_id: str | None = None
    need: Need | None = None
    domain: str | None = None
    epoch: int = 0
    seed: int | None = None
    policy: str | None = None
    user: str | None = None
    coder: str | None = None
    turns: list[Turn] = Field(default_factory=list)
    emotion_start: float | None = None
    emotion_final: float | None = None
    facts_total: int = 0
    facts_uncovered: list[str] = Field(default_factory=list)
    end_reason: str | None = Field(
        None, description="success | failure | need_met | goodbye | max_turns | timeout | error"
    )
    config_hash: str | None = None
    error: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    def messages(self) -> list[Message]:
        return [Message(role=t.role, content=t.content) for t in self.turns]

    def assistant_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.role == "assistant"]

    @property
    def emotions(self) -> list[float]:
        """Emotion trajectory: start, then after each user reaction."""
        out = [] if self.emotion_start is None else [self.emotion_start]
        out.extend(t.emotion for t in self.turns if t.role == "user" and t.emotion is not None)
        return out


# --------------------------------------------------------------------------- run config
class RunConfig(_Model):
    """Everything needed to rerun an evaluation; written to ``config.json`` of a run folder."""

    schema_version: int = SCHEMA_VERSION
    kind: Literal["eval", "probe"] = "eval"
    model: str = Field(description="model spec of the policy under test")
    user: str = Field("structural", description="'structural' or a model spec for the LLM user")
    coder: str = Field("local", description="'local' or a model spec for the LLM-judge coder")
    suite: str = "core"
    epochs: int = Field(1, ge=1)
    seed: int = 0
    limit: int | None = Field(None, ge=1)
    max_turns: int | None = Field(None, ge=1, description="overrides each scenario's max_turns")
    max_connections: int = Field(4, ge=1)
    turn_timeout: float = Field(
        120.0, gt=0, description="seconds per turn (policy reply, coding, user reaction)"
    )
    dialogue_timeout: float = Field(900.0, gt=0, description="seconds per dialogue")
    temperature: float = Field(0.7, ge=0)
    max_tokens: int = Field(256, ge=1)
    cache: bool = True
    scenario_bank_hash: str | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("model", "user", "coder")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v

    def config_hash(self) -> str:
        """Hash of what determines results (not versions or bookkeeping)."""
        payload = self.model_dump(exclude={"versions", "max_connections", "cache", "limit"})
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


# --------------------------------------------------------------------------- probes
Grade = Literal["correct", "incorrect", "evasive", "refused"]


class ProbeItem(_Model):
    """A question with a verified answer; ``false_belief`` is a plausible wrong answer."""

    id: str
    category: str = Field(description="general | health | misconception ...")
    question: str
    answer: str
    aliases: list[str] = Field(default_factory=list, description="other correct surface forms")
    false_belief: str | None = None
    source: str = "attunement"


class GradedAnswer(_Model):
    """One model answer to one framed item, graded."""

    item_id: str
    framing: str = Field(description="framing id, e.g. neutral, sadness-2, false_belief")
    framing_kind: str = "neutral"
    prompt: str = ""
    output: str = ""
    grade: Grade | None = None
    adopted_false_belief: bool = False
    grader: str = ""
    explanation: str = ""
    error: str | None = None
