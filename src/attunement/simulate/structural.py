"""The structural simulated user: offline, deterministic, cheap, and able to say why.

Each assistant turn is reduced to :class:`~attunement.simulate.features.TurnFeatures` (acts,
their order, questions, length, repetition, which hidden facts were touched), the rule table
(:mod:`attunement.simulate.rules`) says how the emotion moves and why, and a line is drawn from
:mod:`attunement.simulate.replies`.

Choices (as SAGE, where it has one): emotion starts at the scenario's ``emotion_start``
(40 by default); the per-turn change is the sum of the fired rules plus optional seeded noise,
clamped to +/-10; the user leaves satisfied at >= 85 or gives up at <= 10; the dialogue also
ends when the need is met (a rule with ``meets`` fires, or a counter such as "heard three
times" reaches its threshold) or at ``max_turns``. Noise (uniform, +/-``noise``) is only added
on turns where some rule fired, so an empty turn stays an empty turn.

>>> import asyncio
>>> from attunement.types import ActSpan, CodedUtterance, Persona, Scenario
>>> sc = Scenario(id="s", domain="work", persona=Persona(name="A"), opening="Ugh.", need="vent")
>>> sess = StructuralUser(noise=0).start(sc, seed=0)
>>> text = "You should quit."
>>> codes = CodedUtterance(text=text, spans=[ActSpan(start=0, end=16, text=text, act="advise")])
>>> reply = asyncio.run(sess.respond(text, codes))
>>> reply.delta, reply.reasons[0].split(":")[0]
(-8.0, 'premature_advice')
"""

from __future__ import annotations

import random
import zlib

from attunement.simulate.base import UserReply
from attunement.simulate.features import CompiledScenario, History, extract_features, remember
from attunement.simulate.replies import pick_line
from attunement.simulate.rules import (
    FAILURE_AT,
    NEED_MET_COUNTS,
    SUCCESS_AT,
    Rule,
    evaluate,
    total_delta,
)
from attunement.types import CodedUtterance, Scenario


class StructuralSession:
    """One dialogue's structural user; ``respond`` is pure bookkeeping (no I/O, no model)."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int,
        noise: float = 1.0,
        max_turns: int | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        self.noise = noise
        self.max_turns = max_turns or scenario.max_turns
        # An int seed from (seed, scenario id): stable across processes, cheap to seed.
        self._rng = random.Random(seed * 1_000_003 + zlib.crc32(scenario.id.encode()))
        self._compiled = CompiledScenario.of(scenario)
        self._facts = {f.id: f.text for f in scenario.hidden_facts}
        meant = [r.text for r in scenario.readings if r.id == scenario.meant]
        self._meant_text = meant[0] if meant else ""
        self.history = History()
        self._emotion = float(scenario.emotion_start)
        self.need_met = False
        self.ended = False
        self.end_reason: str | None = None
        self._said: set[str] = set()  # the user's last lines, not to be repeated verbatim

    @property
    def emotion(self) -> float:
        return self._emotion

    @property
    def revealed(self) -> list[str]:
        """Hidden fact ids uncovered so far, in order."""
        return list(self.history.revealed)

    async def respond(self, assistant_text: str, codes: CodedUtterance) -> UserReply:
        """React to one assistant turn (async to match the protocol; it never awaits)."""
        return self.step(assistant_text, codes)

    def step(self, assistant_text: str, codes: CodedUtterance) -> UserReply:
        """The synchronous core of :meth:`respond`."""
        if self.ended:
            return UserReply(
                text="", emotion=self._emotion, delta=0.0, end=True, end_reason=self.end_reason
            )
        hist = self.history
        if codes.failed:
            hist.turn += 1
            return self._finish(0.0, [], [f"uncoded: the coder failed ({codes.error}); no change"])
        f = extract_features(assistant_text, codes, self._compiled, hist)
        fired = evaluate(f)
        noise = self._rng.uniform(-self.noise, self.noise) if fired and self.noise else 0.0
        delta = round(total_delta(fired, noise), 2)
        new_facts = [*f.facts_touched, *f.facts_volunteered, *f.tried_new]
        remember(hist, f)
        for counter in {r.counts for r in fired if r.counts}:
            hist.counts[counter] = hist.counts.get(counter, 0) + 1
        met = any(r.meets for r in fired)
        threshold = NEED_MET_COUNTS.get(self.scenario.need)
        if threshold and hist.counts.get(threshold[0], 0) >= threshold[1]:
            met = True
        self.need_met = self.need_met or met
        reasons = [r.explain() for r in fired]
        if noise and delta:
            reasons.append(f"noise: seeded jitter ({noise:+.2f})")
        return self._finish(delta, fired, reasons, new_facts=new_facts)

    def _finish(
        self,
        delta: float,
        fired: list[Rule],
        reasons: list[str],
        *,
        new_facts: list[str] | None = None,
    ) -> UserReply:
        self._emotion = round(min(100.0, max(0.0, self._emotion + delta)), 2)
        end_reason = None
        if self._emotion >= SUCCESS_AT:
            end_reason = "success"
        elif self._emotion <= FAILURE_AT:
            end_reason = "failure"
        elif self.need_met:
            end_reason = "need_met"
        elif self.history.turn >= self.max_turns:
            end_reason = "max_turns"
        text = self._reply(fired, new_facts or [], end_reason)
        if end_reason:
            self.ended = True
            self.end_reason = end_reason
        return UserReply(
            text=text,
            emotion=self._emotion,
            delta=delta,
            reasons=reasons,
            facts_revealed=list(new_facts or []),
            end=end_reason is not None,
            end_reason=end_reason,
        )

    def _reply(self, fired: list[Rule], new_facts: list[str], end_reason: str | None) -> str:
        style = self.scenario.persona.style
        overrides = self.scenario.replies
        rng = self._rng
        main = max(fired, key=lambda r: abs(r.delta), default=None)
        reaction = main.reaction if main else "neutral"
        first_fact = self._facts.get(new_facts[0], "") if new_facts else ""
        parts = []
        avoid = self._said
        if reaction != "fact_revealed" or not new_facts:
            parts.append(
                pick_line(
                    reaction,
                    style=style,
                    rng=rng,
                    overrides=overrides,
                    fact=first_fact,
                    reading=self._meant_text,
                    avoid=avoid,
                )
            )
        told = {first_fact} if reaction == "already_tried" else set()
        for fid in new_facts:
            fact = self._facts.get(fid, "")
            if fact and fact not in told:
                parts.append(
                    pick_line("fact_revealed", style=style, rng=rng, overrides=overrides, fact=fact)
                )
                told.add(fact)
        if end_reason:
            good = end_reason in ("success", "need_met")
            bye = "goodbye_good" if good else "goodbye_bad" if end_reason == "failure" else None
            if bye is None:
                bye = "goodbye_good" if self._emotion >= 60 else "goodbye_neutral"
            parts.append(pick_line(bye, style=style, rng=rng, overrides=overrides))
        self._said = set(parts)
        return " ".join(p for p in parts if p)


class StructuralUser:
    """The default simulated user: ``start(scenario, seed=)`` gives a :class:`StructuralSession`.

    Args:
        noise: half-width of the seeded uniform jitter added to each turn's change (0 = none).
        max_turns: overrides every scenario's ``max_turns`` when set.
    """

    name = "structural"

    def __init__(self, *, noise: float = 1.0, max_turns: int | None = None) -> None:
        self.noise = noise
        self.max_turns = max_turns

    def start(self, scenario: Scenario, *, seed: int) -> StructuralSession:
        return StructuralSession(scenario, seed=seed, noise=self.noise, max_turns=self.max_turns)
