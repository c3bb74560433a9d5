"""Ask a model for JSON that validates against a pydantic model, with bounded retries.

Shared by the LLM-judge coder, the LLM user and the LLM grader: a reply that does not parse or
validate is retried (with the error shown to the model) up to ``retries`` times, then returned
as a failure with the reason, never raised. Backend errors (after the backend's own retries)
are also returned as failures, so one bad turn never crashes a run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from attunement.backends.base import ChatBackend
from attunement.errors import BackendError
from attunement.types import Message, Usage

M = TypeVar("M", bound=BaseModel)

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


@dataclass
class StructuredResult(Generic[M]):
    """The parsed value, or None with ``error`` saying why; usage summed over attempts."""

    value: M | None
    error: str | None = None
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    latency: float = 0.0
    raw: str = ""


def extract_json_object(text: str) -> dict:
    """The first JSON object in a reply (tolerates code fences and prose around it)."""
    fenced = _FENCE.search(text)
    candidates = [fenced.group(1)] if fenced else []
    candidates.append(text)
    for cand in candidates:
        start = cand.find("{")
        while start != -1:
            depth, in_str, esc = 0, False, False
            for i in range(start, len(cand)):
                ch = cand[i]
                if in_str:
                    if esc:
                        esc = False
                    elif ch == "\\":
                        esc = True
                    elif ch == '"':
                        in_str = False
                elif ch == '"':
                    in_str = True
                elif ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                    if depth == 0:
                        try:
                            obj = json.loads(cand[start : i + 1])
                        except json.JSONDecodeError:
                            break
                        if isinstance(obj, dict):
                            return obj
                        break
            start = cand.find("{", start + 1)
    raise ValueError("no JSON object found in the reply")


def describe_problem(exc: Exception, limit: int = 240) -> str:
    """A short reason a model can act on: for a validation error, the first failing field, the
    value given and why (pydantic's first line, "1 validation error for X", says none of that);
    otherwise the error's first line.

    >>> from pydantic import BaseModel
    >>> class Reply(BaseModel):
    ...     n: int
    >>> try:
    ...     Reply.model_validate({"n": "x"})
    ... except ValueError as exc:
    ...     print(describe_problem(exc))
    field 'n' (got 'x'): Input should be a valid integer, unable to parse string as an integer
    """
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False)
        if errors:
            first = errors[0]
            where = ".".join(str(part) for part in first["loc"]) or "(the object)"
            value = first.get("input")
            got = ""
            if first["type"] != "missing" and isinstance(value, str | int | float | bool):
                shown = repr(value)
                got = f" (got {shown[:40] + '...' if len(shown) > 40 else shown})"
            more = f"; and {len(errors) - 1} more error(s)" if len(errors) > 1 else ""
            text = f"field '{where}'{got}: {first['msg']}"
            room = limit - len(more)
            return (text if len(text) <= room else text[: room - 3] + "...") + more
    return str(exc).splitlines()[0][:limit]


async def generate_structured(
    backend: ChatBackend,
    messages: Sequence[Message],
    schema: type[M],
    *,
    retries: int = 2,
    max_tokens: int = 512,
    temperature: float = 0.0,
    seed: int | None = None,
) -> StructuredResult[M]:
    """Call ``backend`` until its reply validates as ``schema`` (at most ``retries + 1`` calls)."""
    convo = list(messages)
    result: StructuredResult[M] = StructuredResult(value=None)
    for attempt in range(retries + 1):
        result.attempts = attempt + 1
        try:
            completion = await backend.generate(
                convo,
                max_tokens=max_tokens,
                temperature=temperature,
                seed=None if seed is None else seed + attempt,
            )
        except BackendError as exc:
            result.error = f"backend failed: {exc}"
            return result
        result.usage = result.usage + completion.usage
        result.latency += completion.latency
        result.raw = completion.text
        try:
            result.value = schema.model_validate(extract_json_object(completion.text))
            result.error = None
            return result
        except (ValueError, ValidationError) as exc:
            problem = describe_problem(exc)
            result.error = f"invalid JSON reply after {attempt + 1} attempt(s): {problem}"
            convo = [
                *messages,
                Message(role="assistant", content=completion.text[:2000]),
                Message(
                    role="user",
                    content=f"That was not valid: {problem}. Reply with only the JSON object.",
                ),
            ]
    return result
