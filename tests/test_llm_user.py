"""The LLM user: JSON per turn, validated, bounded retries, failures recorded never raised.

The parsing and validation path is driven by a real HTTP server on 127.0.0.1 that answers in
the OpenAI format with fixed completions (the part under test is the LLM user, not a model);
the robustness path runs the real embedded model behind a llama.cpp server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fault_server import FaultServer

from attunement.backends import load_backend
from attunement.coding.base import Coder
from attunement.simulate.llm_user import LLMUser
from attunement.simulate.policies import scripted_policy
from attunement.simulate.rollout import RolloutSettings, plan_dialogues, run_dialogue
from attunement.types import CodedUtterance, HiddenFact, Persona, Scenario


def fixed_server_for(replies: list[str]) -> FaultServer:
    """A real server answering each chat completion with the next of ``replies`` (the last
    one repeats)."""
    return FaultServer(reply=lambda _payload, n: replies[min(n, len(replies)) - 1])


SCENARIO = Scenario(
    id="llm-vent",
    domain="work",
    persona=Persona(name="Dana", style="chatty", traits=["resists_advice"]),
    opening="My manager took credit for my project again and I'm so angry I could scream.",
    need="vent",
    emotion_start=40,
    hidden_facts=[
        HiddenFact(id="before", text="It happened last quarter too.", cues=["before"]),
        HiddenFact(id="hr", text="I already went to HR once.", cues=["hr"]),
    ],
)
NO_CODES = CodedUtterance(text="", coder="none")


class NullCoder:
    """Codes nothing: the LLM user does not read codes (a real Coder, doing no work)."""

    name = "none"

    async def code(self, text: str, *, context: str | None = None) -> CodedUtterance:
        return CodedUtterance(text=text, coder=self.name)


def _turn(**fields: Any) -> str:
    base = {"emotion_change": 5, "reason": "felt listened to", "facts_uncovered": [], "reply": "ok"}
    base.update(fields)
    return json.dumps(base)


@pytest.fixture
def fixed_server(request: pytest.FixtureRequest) -> Iterator[FaultServer]:
    with fixed_server_for(request.param) as server:
        yield server


def _user(server: FaultServer, **kw: Any) -> LLMUser:
    backend = load_backend(f"openai:fixed@{server.base_url}", cache=False, max_retries=0)
    return LLMUser(backend, **kw)


@pytest.mark.parametrize(
    "fixed_server",
    [[_turn(emotion_change=25, facts_uncovered=["hr"], reply="I went to HR already.")]],
    indirect=True,
)
def test_valid_reply_is_parsed_clamped_and_recorded(fixed_server: FaultServer):
    user = _user(fixed_server)
    session = user.start(SCENARIO, seed=3)

    async def go():
        reply = await session.respond(
            "That sounds infuriating. Has this happened before?", NO_CODES
        )
        await user.backend.aclose()
        return reply

    reply = asyncio.run(go())
    assert reply.error is None
    assert reply.text == "I went to HR already."
    assert reply.delta == 10.0 and reply.emotion == 50.0  # +25 clamped to +10
    assert reply.facts_revealed == ["hr"]
    assert reply.reasons == ["llm_user: felt listened to"]
    assert reply.usage is not None and reply.usage.calls == 1
    sent = fixed_server.payloads[0]["messages"]
    assert sent[0]["role"] == "system" and '"hr"' in sent[0]["content"]
    assert "Has this happened before?" in sent[-1]["content"]


@pytest.mark.parametrize(
    "fixed_server",
    [["Sure! Here is how I feel: very angry.", "```json\n" + _turn(reply="Fine.") + "\n```"]],
    indirect=True,
)
def test_invalid_json_is_retried_then_accepted(fixed_server: FaultServer):
    user = _user(fixed_server, retries=2)
    reply = asyncio.run(user.start(SCENARIO, seed=1).respond("I hear you.", NO_CODES))
    assert reply.error is None and reply.text == "Fine."
    assert len(fixed_server.requests) == 2
    retry_msgs = fixed_server.payloads[1]["messages"]
    assert "not valid" in retry_msgs[-1]["content"]  # the error was shown to the model


@pytest.mark.parametrize(
    "fixed_server",
    [["not json at all", '{"emotion_change": "lots", "reply": ""}']],
    indirect=True,
)
def test_persistently_invalid_turn_is_a_recorded_failure(fixed_server: FaultServer):
    user = _user(fixed_server, retries=2)
    session = user.start(SCENARIO, seed=1)
    reply = asyncio.run(session.respond("You should quit.", NO_CODES))
    assert reply.text == "" and reply.delta == 0.0 and reply.emotion == 40.0
    assert reply.error is not None and "LLM user turn failed" in reply.error
    assert len(fixed_server.requests) == 3  # 1 + 2 retries, then it stops
    assert reply.usage is not None and reply.usage.calls == 3


@pytest.mark.parametrize("fixed_server", [[_turn(facts_uncovered=["lottery"])]], indirect=True)
def test_invented_fact_id_fails_the_turn(fixed_server: FaultServer):
    reply = asyncio.run(
        _user(fixed_server, retries=0).start(SCENARIO, seed=1).respond("Hm?", NO_CODES)
    )
    assert reply.error is not None and "lottery" in reply.error


@pytest.mark.parametrize(
    "fixed_server", [[_turn(emotion_change=-40, reply="Forget it.", end=False)]], indirect=True
)
def test_bottom_band_ends_the_dialogue_as_failure(fixed_server: FaultServer):
    session = _user(fixed_server).start(SCENARIO.model_copy(update={"emotion_start": 15}), seed=0)
    reply = asyncio.run(session.respond("Just get over it.", NO_CODES))
    assert reply.end and reply.end_reason == "failure" and reply.emotion == 5.0


@pytest.mark.parametrize("fixed_server", [["garbage"]], indirect=True)
def test_failed_user_turn_ends_dialogue_with_error_not_a_crash(fixed_server: FaultServer):
    user = _user(fixed_server, retries=1)
    spec = plan_dialogues([SCENARIO], seed=0, max_turns=3)[0]
    coder: Coder = NullCoder()
    conv = asyncio.run(
        run_dialogue(
            spec,
            policy=scripted_policy("reflector"),
            user=user,
            coder=coder,
            settings=RolloutSettings(turn_timeout=30),
        )
    )
    assert conv.end_reason == "error" and "LLM user turn failed" in (conv.error or "")
    assert [t.role for t in conv.turns] == ["user", "assistant", "user"]
    assert conv.turns[-1].error is not None and conv.turns[-1].usage.calls == 2
    assert conv.user == f"llm:openai:fixed@{fixed_server.base_url}"


@pytest.mark.slow
def test_embedded_model_as_user_never_crashes(llama_server: str):
    """SmolLM2-135M often writes invalid JSON: every turn is either valid or a recorded failure."""
    backend = load_backend(f"openai:smollm2@{llama_server}", cache=False, timeout=120)
    user = LLMUser(backend, retries=1, max_tokens=160, temperature=0.7)
    specs = plan_dialogues([SCENARIO], seed=0, epochs=2, max_turns=2)

    async def go():
        out = [
            await run_dialogue(
                s,
                policy=scripted_policy("reflector"),
                user=user,
                coder=NullCoder(),
                settings=RolloutSettings(turn_timeout=180, dialogue_timeout=600),
            )
            for s in specs
        ]
        await backend.aclose()
        return out

    convs = asyncio.run(go())
    assert len(convs) == 2
    for conv in convs:
        assert conv.end_reason in {"error", "max_turns", "success", "failure", "goodbye"}
        user_turns = [t for t in conv.turns[1:] if t.role == "user"]
        assert user_turns, "at least one user turn was attempted"
        for turn in user_turns:
            assert turn.usage is not None and turn.usage.calls >= 1  # the model was called
            if turn.error is None:
                assert turn.content.strip() and -10 <= turn.emotion_delta <= 10
            else:
                assert turn.content == "" and conv.error is not None
