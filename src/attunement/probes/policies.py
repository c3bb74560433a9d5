"""Scripted probe policies: reference points whose probe results are known in advance.

- ``scripted:key`` answers every question from the item's reference answer;
- ``scripted:sycophant`` adopts the user's stated false belief, otherwise answers correctly
  (and, asked "is X correct?" after any context or stated belief, agrees);
- ``scripted:hedger`` never commits to an answer.

Each is a ``ChatBackend``: it reads the item back from the prompt by looking the question up in
the bank (:func:`attunement.probes.framings.parse_prompt`), as the run pipeline sends it a real
framed prompt. Asked a yes/no proposition with ``logprobs``, each returns first-token top
log-probabilities whose Yes/No split follows the truth (their internal "belief" is accurate),
so the truthfulness probe can be checked end to end. ``load_backend("scripted:sycophant")``
finds them through :data:`PROBE_POLICIES`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Literal, get_args

from attunement.probes.framings import ParsedPrompt, parse_prompt
from attunement.probes.grading import normalise
from attunement.types import Completion, Message, ProbeItem, TokenLogprob, Usage

ProbePolicyName = Literal["key", "sycophant", "hedger"]
PROBE_POLICY_NAMES: tuple[ProbePolicyName, ...] = get_args(ProbePolicyName)

HEDGE = (
    "That's a hard one to say for sure. There are many different views on it, and honestly it "
    "really depends on who you ask."
)
UNKNOWN = "I don't know which question you mean."
BELIEF_CONFIDENCE = 0.9  # P(Yes) for a true proposition, 1 - that for a false one


def _is_true(item: ProbeItem, candidate: str) -> bool:
    return normalise(candidate) in {normalise(a) for a in (item.answer, *item.aliases)}


class ProbePolicy:
    """A ChatBackend that answers probe prompts by a fixed strategy, from the bank."""

    def __init__(self, strategy: ProbePolicyName, items: Sequence[ProbeItem] | None = None):
        self.strategy: ProbePolicyName = strategy
        self.name = f"scripted:{strategy}"
        self._items = list(items) if items is not None else None

    @property
    def items(self) -> list[ProbeItem]:
        if self._items is None:
            from attunement.probes.items import load_items

            self._items = load_items()
        return self._items

    def _answer(self, p: ParsedPrompt) -> str:
        if self.strategy == "hedger":
            return HEDGE
        if self.strategy == "sycophant" and p.stated_belief:
            return f"You're right, it's {p.stated_belief}."
        return f"The answer is {p.item.answer}."

    def _yes_no(self, p: ParsedPrompt) -> tuple[str, float, str]:
        """(reply text, internal P(Yes), first token)."""
        assert p.candidate is not None
        truth = _is_true(p.item, p.candidate)
        belief = BELIEF_CONFIDENCE if truth else 1 - BELIEF_CONFIDENCE
        if self.strategy == "hedger":
            return "I can't say for sure.", belief, "I"
        framed = p.has_context or p.stated_belief is not None
        says_yes = True if (self.strategy == "sycophant" and framed) else truth
        word = "Yes" if says_yes else "No"
        return f"{word}.", belief, word

    async def generate(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.7,
        seed: int | None = None,
        logprobs: int | None = None,
    ) -> Completion:
        """Reply to the last user message; ``temperature`` and ``seed`` do not apply."""
        t0 = time.perf_counter()
        prompt = next((m.content for m in reversed(messages) if m.role == "user"), "")
        parsed = parse_prompt(prompt, self.items)
        top: dict[str, float] = {}
        if parsed is None:
            text, first = UNKNOWN, "I"
            top = {"I": 0.0}
        elif parsed.candidate is not None:
            text, belief, first = self._yes_no(parsed)
            rest = 1.0 if first in ("Yes", "No") else 0.2  # the hedger's mass off Yes/No
            top = {"Yes": math.log(rest * belief), "No": math.log(rest * (1 - belief))}
            if first not in top:
                top = {first: math.log(0.8), **top}
        else:
            text = self._answer(parsed)
            first = text.split()[0]
            top = {first: 0.0}
        lp = None
        if logprobs is not None:
            lp = [TokenLogprob(token=first, logprob=top[first], top=top)]
        words = text.split()[:max_tokens]
        return Completion(
            text=" ".join(words),
            logprobs=lp,
            usage=Usage(prompt_tokens=len(prompt.split()), completion_tokens=len(words), calls=1),
            latency=time.perf_counter() - t0,
            model=self.name,
        )

    async def aclose(self) -> None:
        """Nothing to release."""


def _factory(name: ProbePolicyName) -> Callable[..., ProbePolicy]:
    def make(items: Sequence[ProbeItem] | None = None) -> ProbePolicy:
        return ProbePolicy(name, items)

    make.__name__ = f"scripted_{name}"
    return make


PROBE_POLICIES: dict[str, Callable[..., ProbePolicy]] = {n: _factory(n) for n in PROBE_POLICY_NAMES}
