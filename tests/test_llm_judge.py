"""The LLM-judge coder: prompt, reply validation and bounded retries against a real HTTP server
(OpenAI-compatible, on 127.0.0.1, scripted replies), and the real embedded model."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from fault_server import FaultServer
from pydantic import ValidationError

from attunement.backends import OpenAICompatBackend, RetryPolicy
from attunement.coding.llm_judge import LLMJudgeCoder, reply_schema, system_prompt, user_prompt
from attunement.coding.taxonomy import ACTS


def scripted_server(replies: list[str]) -> FaultServer:
    """A real server answering with the next scripted reply text, then 'no more replies'."""
    return FaultServer(
        reply=lambda _p, n: replies[n - 1] if n <= len(replies) else "no more replies"
    )


@pytest.fixture
def scripted() -> Iterator[Callable[[list[str]], FaultServer]]:
    yield scripted_server


def judge_for(server: FaultServer, **kw) -> LLMJudgeCoder:
    backend = OpenAICompatBackend(
        "scripted",
        base_url=server.base_url,
        api_key="sk-test",
        timeout=5.0,
        retry=RetryPolicy(max_retries=0, base_delay=0.01, max_delay=0.01),
    )
    return LLMJudgeCoder(backend, **kw)


TEXT = "That sounds exhausting. What happened after the meeting?"


def test_prompt_holds_every_act_and_the_numbered_sentences():
    sp = system_prompt()
    assert all(act in sp for act in ACTS)
    up = user_prompt(["One.", "Two?"], "I feel awful")
    assert up.startswith("User: I feel awful") and "1. One.\n2. Two?" in up
    assert "User: (none)" in user_prompt(["x"], None)


def test_reply_schema_demands_one_valid_label_per_sentence():
    schema = reply_schema(2)
    ok = schema.model_validate({"labels": [{"i": 1, "act": "advise"}, {"i": 2, "act": "other"}]})
    assert [lab.act for lab in ok.labels] == ["advise", "other"]
    with pytest.raises(ValidationError, match="missing \\[2\\]"):
        schema.model_validate({"labels": [{"i": 1, "act": "advise"}]})
    with pytest.raises(ValidationError):
        schema.model_validate({"labels": [{"i": 1, "act": "advice"}, {"i": 2, "act": "other"}]})
    with pytest.raises(ValidationError, match="no sentence \\[3\\]"):
        schema.model_validate({"labels": [{"i": j, "act": "other"} for j in (1, 2, 3)]})


def test_valid_reply_gives_spans_in_order(scripted):
    labels = '{"labels": [{"i": 1, "act": "reflect_feeling"}, {"i": 2, "act": "ask_open"}]}'
    reply = f"```json\n{labels}\n```"
    with scripted([reply]) as server:
        coded = asyncio.run(judge_for(server).code(TEXT, context="work was awful today"))
    assert coded.error is None and coded.acts == ["reflect_feeling", "ask_open"]
    assert [TEXT[s.start : s.end] for s in coded.spans] == [s.text for s in coded.spans]
    sent = server.payloads[0]["messages"]
    assert sent[0]["role"] == "system" and "work was awful today" in sent[1]["content"]
    assert "2. What happened after the meeting?" in sent[1]["content"]


def test_invalid_reply_is_retried_with_the_error_shown(scripted):
    bad = "Sure! Sentence one is a reflection."
    incomplete = '{"labels": [{"i": 1, "act": "reflect_feeling"}]}'
    good = '{"labels": [{"i": 1, "act": "reflect_feeling"}, {"i": 2, "act": "ask_open"}]}'
    with scripted([bad, incomplete, good]) as server:
        coded = asyncio.run(judge_for(server, retries=2).code(TEXT))
    assert coded.error is None and coded.acts == ["reflect_feeling", "ask_open"]
    assert len(server.requests) == 3
    for request in server.payloads[1:]:  # each retry shows the model its invalid reply
        assert request["messages"][-1]["content"].startswith("That was not valid")
    assert server.payloads[2]["messages"][-2]["content"] == incomplete


def test_failure_after_bounded_retries_is_recorded_not_raised(scripted):
    with scripted(["nope"] * 5) as server:
        coded = asyncio.run(judge_for(server, retries=1).code(TEXT))
    assert coded.failed and coded.spans == [] and "after 2 attempt(s)" in coded.error
    assert len(server.requests) == 2


def test_unreachable_backend_is_recorded_too():
    from attunement.backends.llama_server import free_port

    backend = OpenAICompatBackend(
        "x",
        base_url=f"http://127.0.0.1:{free_port()}/v1",
        api_key="sk-test",
        timeout=1.0,
        retry=RetryPolicy(max_retries=0, base_delay=0.01, max_delay=0.01),
    )
    coded = asyncio.run(LLMJudgeCoder(backend).code(TEXT))
    assert coded.failed and "backend failed" in coded.error


def test_empty_text_needs_no_call(scripted):
    with scripted([]) as server:
        coded = asyncio.run(judge_for(server).code("  "))
    assert coded.failed and server.requests == []


@pytest.mark.slow
def test_embedded_model_as_judge_records_success_or_failure(tmp_path):
    """SmolLM2-135M often cannot produce the JSON: the structure must hold either way."""
    pytest.importorskip("llama_cpp")
    from attunement.coding import load_coder

    coder = load_coder("judge:local", cache=False)
    text = "I'm sorry you're going through this. Would you like some ideas?"
    coded = asyncio.run(coder.code(text, context="I failed my exam."))
    assert coded.coder.startswith("judge:")
    if coded.failed:
        assert coded.spans == [] and ("invalid JSON" in coded.error or "backend" in coded.error)
    else:
        assert len(coded.spans) == 2 and all(s.act in ACTS for s in coded.spans)
