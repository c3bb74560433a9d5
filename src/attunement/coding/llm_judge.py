"""The LLM-judge coder: any chat backend labels pre-segmented sentences, validated as JSON.

The prompt holds the 14 act definitions, the decision rules for the hard cases, a few worked
examples (written for this project), the previous user turn as context, and the utterance cut
into numbered sentences by the same segmenter the local coder uses, so both coders label the
same units and can be compared sentence by sentence. The reply must be
``{"labels": [{"i": 1, "act": "..."}, ...]}`` with one valid act for every sentence number;
``generate_structured`` retries a reply that does not validate (showing the model the error),
and a final failure is recorded on the utterance (``CodedUtterance.error``), never raised.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

from pydantic import BaseModel, Field, model_validator

from attunement.backends.base import ChatBackend
from attunement.backends.structured import generate_structured
from attunement.coding.segment import segment
from attunement.coding.taxonomy import ACT_DEFINITIONS, Act
from attunement.types import ActSpan, CodedUtterance, Message

MAX_CONTEXT_CHARS = 1500
MAX_SENTENCE_CHARS = 400
LLM_CONFIDENCE = 1.0  # a judge gives no probability; spans carry 1.0 (documented)

DECISION_RULES = """\
- A question that proposes an action ("Have you tried...?") is advise, not a question act.
- "It sounds like" + an emotion is reflect_feeling; + facts is reflect_content.
- "That's completely understandable" is validate; "That sounds hard" is reflect_feeling.
- "I'm sorry to hear that" alone is acknowledge.
- A heading or "Here are some options:" is other; list items carry their own acts.
- A sentence doing two things gets the act that carries its point."""

EXAMPLES = """\
User: I bombed my presentation today and now I can't stop replaying it.
Sentences:
1. Ugh, that replay loop is exhausting.
2. Most people replay a rough talk for days; it's a very normal reaction.
3. What part keeps coming back to you?
4. Would it help if I shared a trick for breaking the loop?
JSON: {"labels": [{"i": 1, "act": "reflect_feeling"}, {"i": 2, "act": "validate"}, \
{"i": 3, "act": "ask_open"}, {"i": 4, "act": "ask_permission"}]}

User: can you fix my spreadsheet
Sentences:
1. Happy to help!
2. Is it a formula giving the wrong result, or the layout you want changed?
3. A VLOOKUP only searches the first column of the range.
4. Try pasting the formula here.
JSON: {"labels": [{"i": 1, "act": "other"}, {"i": 2, "act": "ask_clarify"}, \
{"i": 3, "act": "inform"}, {"i": 4, "act": "advise"}]}"""


class JudgeLabel(BaseModel):
    """One sentence's label in the judge's reply."""

    i: int = Field(ge=1)
    act: Act


class JudgeReply(BaseModel):
    """The judge's reply; subclassed per sentence count to demand every number exactly once."""

    labels: list[JudgeLabel]
    expected_sentences: ClassVar[int] = 0

    @model_validator(mode="after")
    def _every_sentence(self) -> JudgeReply:
        n = type(self).expected_sentences
        got = [lab.i for lab in self.labels]
        if n and sorted(set(got)) != list(range(1, n + 1)):
            missing = sorted(set(range(1, n + 1)) - set(got))
            extra = sorted(set(got) - set(range(1, n + 1)))
            raise ValueError(
                f"need one label for each sentence 1..{n}"
                + (f"; missing {missing}" if missing else "")
                + (f"; no sentence {extra}" if extra else "")
            )
        return self


@lru_cache(maxsize=64)
def reply_schema(n: int) -> type[JudgeReply]:
    """A JudgeReply that validates only with labels for sentences 1..n."""
    return type(f"JudgeReply{n}", (JudgeReply,), {"expected_sentences": n})


def system_prompt() -> str:
    """The instructions: definitions, decision rules, examples, output format."""
    defs = "\n".join(f"- {act}: {text}" for act, text in ACT_DEFINITIONS.items())
    return (
        "You label what each sentence of an assistant's reply does in a conversation.\n"
        f"Acts (use exactly these names):\n{defs}\n\nRules:\n{DECISION_RULES}\n\n"
        f"Examples:\n{EXAMPLES}\n\n"
        'Answer with JSON only: {"labels": [{"i": <sentence number>, "act": "<act>"}, ...]}, '
        "one label for every sentence."
    )


def user_prompt(sentences: list[str], context: str | None) -> str:
    """The utterance to label, numbered, after the user turn it answers."""
    ctx = (context or "(none)").strip()[:MAX_CONTEXT_CHARS]
    numbered = "\n".join(f"{i}. {s[:MAX_SENTENCE_CHARS]}" for i, s in enumerate(sentences, 1))
    return f"User: {ctx}\nSentences:\n{numbered}\nJSON:"


class LLMJudgeCoder:
    """Codes utterances with a chat model as the judge (any backend)."""

    def __init__(
        self,
        backend: ChatBackend,
        *,
        retries: int = 2,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        seed: int | None = 0,
    ) -> None:
        self.backend = backend
        self.retries = retries
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.seed = seed
        self.name = f"judge:{getattr(backend, 'name', 'llm')}"

    def messages(self, sentences: list[str], context: str | None) -> list[Message]:
        return [
            Message(role="system", content=system_prompt()),
            Message(role="user", content=user_prompt(sentences, context)),
        ]

    async def code(self, text: str, *, context: str | None = None) -> CodedUtterance:
        """Coder protocol: label every sentence, or return the failure on the utterance."""
        segs = segment(text) if text and text.strip() else []
        if not segs:
            return CodedUtterance(text=text, coder=self.name, error="empty utterance")
        sentences = [s.text for s in segs]
        result = await generate_structured(
            self.backend,
            self.messages(sentences, context),
            reply_schema(len(segs)),
            retries=self.retries,
            max_tokens=self.max_tokens or 24 * len(segs) + 40,
            temperature=self.temperature,
            seed=self.seed,
        )
        if result.value is None:
            return CodedUtterance(text=text, coder=self.name, error=result.error or "no reply")
        act_of = {}
        for lab in result.value.labels:
            act_of.setdefault(lab.i, lab.act)
        spans = [
            ActSpan(start=s.start, end=s.end, text=s.text, act=act_of[i], confidence=LLM_CONFIDENCE)
            for i, s in enumerate(segs, 1)
        ]
        return CodedUtterance(text=text, spans=spans, coder=self.name)
