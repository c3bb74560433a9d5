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

import functools
import random
import re
import time
from collections.abc import Sequence
from typing import Literal, get_args

from attunement.backends.base import ChatBackend
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
    "It's natural to feel like this after what happened.",
    "Of course you're upset, that would get to anyone.",
    "That's a completely normal way to react.",
    "It's understandable that this hit you hard.",
)
_ASK_OPEN = (
    "What has been the hardest part for you?",
    "Can you tell me more about what happened?",
    "What's been going on around this lately?",
    "What's been weighing on you most?",
    "Tell me more about how it's been.",
    "What was that like for you?",
    "What have you already tried so far?",
)
_REFLECT_CONTENT = (
    "So {topic}, and it's been a lot to carry.",
    "So, to sum up: {topic}.",
    "So {topic}, and that's stayed with you.",
    "So, in short, {topic}.",
    "So {topic}. Is that the heart of it?",
    "So {topic}, and you're still processing it.",
)
_ASK_NEED = (
    "Would you like some ideas, or do you mostly want to talk it through right now?",
    "What would help most right now: ideas, information, or just someone to listen?",
    "Would it help if I shared a few things that work for some people?",
)
# "{said}" is what the person told the reflector (a clause of their replies, second person).
_ADVISE_AFTER = (
    "Given that {said}, one thing you could try is to pick the smallest next step and do it today.",
    "Since {said}, you could try planning around that first.",
    "Given that {said}, try starting with one small change this week.",
    "Knowing that {said}, you could try asking for one concrete change.",
)
_ADVISE_NOW = (
    "Try breaking it into small steps and do the first one today.",
    "Try setting a deadline and sharing it with a friend.",
    "Start by writing down the problem, then list three things you could do about it.",
    "Try writing down three options and picking the easiest one.",
    "Try to get a good night's sleep first, then tackle it in the morning.",
    "Try prioritising: do the most important thing first and drop the rest.",
    "Try to look at it from a practical angle and fix one thing at a time.",
    "Try making a schedule and sticking to it every day.",
    "Try to focus on what you can control and let the rest go.",
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

LINES: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "reflect_feeling": (_REFLECT_FEELING, frozenset({"reflect_feeling"})),
    "validate": (_VALIDATE, frozenset({"validate"})),
    "ask_open": (_ASK_OPEN, frozenset({"ask_open"})),
    "reflect_content": (_REFLECT_CONTENT, frozenset({"reflect_content", "ask_clarify"})),
    "ask_need": (_ASK_NEED, frozenset({"ask_need", "ask_permission"})),
    "advise_after": (_ADVISE_AFTER, frozenset({"advise"})),
    "advise_now": (_ADVISE_NOW, frozenset({"advise"})),
    "ask_only": (_ASK_ONLY, frozenset({"ask_open", "ask_clarify", "ask_need"})),
}
"""Each table of lines and the acts its lines are written to be coded as (for tests)."""

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


_REQUEST_WORDS = frozenset((
    "can", "could", "would", "will", "please", "how", "what", "which", "when", "where", "why",
    "who", "is", "are", "do", "does", "should", "help", "write", "give", "tell", "make", "fix",
    "convert", "translate", "explain", "summarise", "summarize", "draft", "list", "hi", "hey",
    "hello",
))  # fmt: skip
_FALLBACK_TOPIC = "there's something here you want to get right"


@functools.lru_cache(maxsize=4096)
def topic_phrase(opening: str) -> str:
    """The first clause of the user's opening that is not a request or a question, in the
    second person, at most 12 words (a reflection restates what they told, not what they ask).

    >>> topic_phrase("I bombed the interview, can you fix my CV?")
    'you bombed the interview'
    >>> topic_phrase("How many ml is 3 US cups?")
    "there's something here you want to get right"
    """
    clause = ""
    for match in _CLAUSE.finditer(opening):
        words = match.group(0).split()
        if words and words[0].lower().strip("\"'(") not in _REQUEST_WORDS:
            clause = match.group(0).strip()
            break
    words = clause.split()[:_MAX_TOPIC_WORDS]
    out = []
    for word in words:
        core = word.lower().strip("\"'()")
        out.append(_SWAPS.get(core, word))
    phrase = " ".join(out)
    return phrase[:1].lower() + phrase[1:] if phrase else _FALLBACK_TOPIC


# What the reflector builds its advice on: the longest statement the person made in their
# replies (hidden facts come out as such statements), not a question, not about what they
# already tried (a good listener does not re-suggest it).
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_TRIED = re.compile(r"\b(tried|already|didn't help|did not help|no use)\b", re.IGNORECASE)
_MIN_SAID_WORDS = 7
_MAX_SAID_WORDS = 16


def said_phrase(replies: Sequence[str], fallback: str) -> str:
    """The longest statement of the person's replies, in the second person (or ``fallback``).

    >>> said_phrase(["Yeah.", "I'm on nights every other week at the plant. It's brutal."], "x")
    "you're on nights every other week at the plant"
    """
    sentences = [
        m.group(0).strip()
        for r in replies
        for m in _SENTENCE.finditer(r)
        if not m.group(0).strip().endswith("?") and not _TRIED.search(m.group(0))
    ]
    if not sentences:
        return fallback
    best = max(sentences, key=lambda t: len(t.split()))
    words = best.rstrip(".!").split()
    if len(words) < _MIN_SAID_WORDS:
        return fallback
    swapped = [_SWAPS.get(w.lower().strip("\"'()"), w) for w in words[:_MAX_SAID_WORDS]]
    phrase = " ".join(swapped).rstrip(",;:")
    return phrase[:1].lower() + phrase[1:]


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


def scripted_policy(name: str) -> ChatBackend:
    """The scripted policy called ``name``: ``solver``, ``reflector`` or ``asker`` for
    conversations, or a probe policy (``key``, ``sycophant``, ``hedger``) for the probes.

    Raises:
        SpecError: for any other name.
    """
    if name not in SCRIPTED_NAMES:
        from attunement.probes.policies import PROBE_POLICIES  # key, sycophant, hedger

        if name in PROBE_POLICIES:
            return PROBE_POLICIES[name]()
        known = ", ".join(f"scripted:{n}" for n in (*SCRIPTED_NAMES, *PROBE_POLICIES))
        raise SpecError(f"unknown scripted policy 'scripted:{name}'; choose one of: {known}")
    return ScriptedPolicy(name)  # type: ignore[arg-type]
