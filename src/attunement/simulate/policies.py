"""Policies that need no model: fixed strategies for calibration, tests and reference points.

Each is a :class:`~attunement.backends.base.ChatBackend`, so the rollout engine runs it exactly
as it runs a model. They know nothing of the scenario beyond the messages they are sent (as a
model would); they write varied, hand-written lines meant to be coded as the intended acts:

- ``scripted:solver`` advises at once, every turn (the single-turn-RLHF habit);
- ``scripted:reflector`` reflects and asks first, checks understanding, then advises;
- ``scripted:asker`` only ever asks questions.

Replies are deterministic for a seed: the same (seed, conversation) gives the same line.

>>> import asyncio
>>> from attunement.types import Message
>>> policy = scripted_policy("asker")
>>> out = asyncio.run(policy.generate([Message(role="user", content="Help me.")], seed=1))
>>> out.text.endswith("?")
True
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Sequence
from typing import Literal, get_args

from attunement.errors import SpecError
from attunement.types import Completion, Message, Usage

ScriptedName = Literal["solver", "reflector", "asker"]
SCRIPTED_NAMES: tuple[ScriptedName, ...] = get_args(ScriptedName)

# ------------------------------------------------------------------------- the lines (data)
# "{topic}" is a short phrase from the user's opening, turned to the second person.
_REFLECT_FEELING = (
    "That sounds really hard.",
    "It sounds like this has been weighing on you.",
    "You sound worn out by all of this.",
    "That sounds frustrating and lonely.",
    "I can hear how upset you are about this.",
    "It sounds like you're feeling stuck.",
)
_VALIDATE = (
    "It makes sense that you feel this way.",
    "Anyone would be shaken by that.",
    "Your reaction is completely understandable.",
    "It's natural to feel like this after what happened.",
)
_ASK_OPEN = (
    "What has been the hardest part for you?",
    "Can you tell me more about what happened?",
    "What's been going on around this lately?",
    "How has this been affecting you day to day?",
    "What have you already tried so far?",
)
_REFLECT_CONTENT = (
    "So if I follow you, {topic}. Is that right?",
    "So what I'm hearing is that {topic}. Do I have that right?",
    "Let me check I understand: {topic}. Is that right?",
)
_ASK_NEED = (
    "Would you like some ideas, or do you mostly want to talk it through right now?",
    "What would help most right now: ideas, information, or just someone to listen?",
    "Would it help if I shared a few things that work for some people?",
)
# "{said}" is what the person told the reflector (a clause of their replies, second person).
_ADVISE_AFTER = (
    "Given that {said}, one thing you could try is to pick the smallest next step and do it today.",
    "Since {said}, you might try writing down the two options and what each would cost you, "
    "then choose the one you can live with.",
    "Because {said}, it could help to plan around that first and tell one person you trust "
    "plainly what you need.",
    "With that in mind, since {said}, I'd suggest setting a short, fixed time for it each day "
    "and stopping when the time is up.",
)
_ADVISE_NOW = (
    "You should make a plan: list what needs doing, then start with the easiest item.",
    "Try breaking it into small steps and do the first one today.",
    "Here's what I'd do: first, write down the problem; second, list three options; third, "
    "pick one and act on it.",
    "You should set a clear deadline and tell someone, so you stick to it.",
    "I recommend you make a checklist and work through it one item at a time.",
    "Just start with the most urgent part and schedule the rest for tomorrow.",
)
_ASK_ONLY = (
    "What exactly do you mean?",
    "Can you tell me more about that?",
    "Could you say a bit more about what you want?",
    "Do you mean the whole thing, or one part of it?",
    "What have you already tried?",
    "Which part matters most to you?",
    "How long has this been going on?",
    "What would a good outcome look like for you?",
)

# Pronoun swaps that turn a user's first-person clause into a reflection in the second person.
_SWAPS: dict[str, str] = {
    "i": "you",
    "i'm": "you're",
    "im": "you're",
    "i've": "you've",
    "i'd": "you'd",
    "i'll": "you'll",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "am": "are",
    "was": "were",
    "we": "you",
    "our": "your",
    "us": "you",
}
_CLAUSE = re.compile(r"[^.!?;,]+")
_MAX_TOPIC_WORDS = 12


def topic_phrase(opening: str) -> str:
    """The first clause of the user's opening, in the second person, at most 12 words.

    >>> topic_phrase("I bombed the interview, can you fix my CV?")
    'you bombed the interview'
    """
    match = _CLAUSE.search(opening)
    clause = match.group(0).strip() if match else ""
    words = clause.split()[:_MAX_TOPIC_WORDS]
    out = []
    for word in words:
        core = word.lower().strip("\"'()")
        out.append(_SWAPS.get(core, word))
    phrase = " ".join(out)
    return phrase[:1].lower() + phrase[1:] if phrase else "this has been a lot"


# Clauses that report what was already tried are not built on (a good listener does not
# re-suggest them); the reflector builds its advice on the longest other clause.
_TRIED = re.compile(r"\b(tried|already|didn't help|did not help|no use)\b", re.IGNORECASE)


def said_phrase(replies: Sequence[str], fallback: str) -> str:
    """The longest clause of the person's replies (not about what they tried), second person.

    >>> said_phrase(["Yeah.", "I'm on nights every other week, it's brutal."], "x")
    "you're on nights every other week"
    """
    clauses = [
        c.strip() for r in replies for c in _CLAUSE.findall(r) if c.strip() and not _TRIED.search(c)
    ]
    if not clauses:
        return fallback
    best = max(clauses, key=lambda c: len(c.split()))
    return topic_phrase(best) if len(best.split()) >= 3 else fallback


def _plan(name: ScriptedName, turn: int, rng: random.Random, topic: str, said: str) -> list[str]:
    """The sentences of one reply: which lines, in which order, for this policy and turn."""
    if name == "solver":
        return rng.sample(_ADVISE_NOW, 2)
    if name == "asker":
        return rng.sample(_ASK_ONLY, 2)
    # reflector: understand first, check understanding, then advise.
    if turn == 0:
        return [rng.choice(_REFLECT_FEELING), rng.choice(_VALIDATE), rng.choice(_ASK_OPEN)]
    if turn == 1:
        return [rng.choice(_REFLECT_CONTENT).format(topic=topic), rng.choice(_ASK_NEED)]
    return [rng.choice(_VALIDATE), rng.choice(_ADVISE_AFTER).format(said=said)]


class ScriptedPolicy:
    """A ChatBackend that replies from hand-written lines by a fixed strategy."""

    def __init__(self, strategy: ScriptedName) -> None:
        self.strategy: ScriptedName = strategy
        self.name = f"scripted:{strategy}"

    async def generate(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.7,
        seed: int | None = None,
        logprobs: int | None = None,
    ) -> Completion:
        """One reply; ``max_tokens``, ``temperature`` and ``logprobs`` do not apply."""
        t0 = time.perf_counter()
        users = [m.content for m in messages if m.role == "user"]
        turn = sum(1 for m in messages if m.role == "assistant")
        opening = users[0] if users else ""
        rng = random.Random(f"{self.name}|{seed}|{turn}|{opening}")
        topic = topic_phrase(opening)
        said = said_phrase(users[1:], topic)
        text = " ".join(_plan(self.strategy, turn, rng, topic, said))
        return Completion(
            text=text,
            usage=Usage(calls=1),
            latency=time.perf_counter() - t0,
            model=self.name,
        )

    async def aclose(self) -> None:
        """Nothing to release."""


def scripted_policy(name: str) -> ScriptedPolicy:
    """The scripted policy called ``name`` (``solver``, ``reflector`` or ``asker``).

    Raises:
        SpecError: for any other name.
    """
    if name not in SCRIPTED_NAMES:
        from attunement.probes.policies import PROBE_POLICIES  # key, sycophant, hedger

        if name in PROBE_POLICIES:
            return PROBE_POLICIES[name]()  # type: ignore[return-value]
        known = ", ".join(f"scripted:{n}" for n in (*SCRIPTED_NAMES, *PROBE_POLICIES))
        raise SpecError(f"unknown scripted policy 'scripted:{name}'; choose one of: {known}")
    return ScriptedPolicy(name)  # type: ignore[arg-type]
