"""Any OpenAI-compatible chat server (OpenAI, vLLM, SGLang, Ollama, llama.cpp server).

The ``openai`` SDK does the HTTP; we own the policy around it, so it behaves the same on every
server: a semaphore caps requests in flight, each attempt has a hard per-request timeout, and
429 / 5xx / timeouts / refused connections / malformed replies are retried a bounded number of
times with jittered exponential backoff (honouring ``Retry-After``). Other 4xx (bad key, unknown
model, bad request) fail at once. Every error names the endpoint (base URL and model) and the
cause; the API key is never part of a name, a message or a log line.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from attunement.backends.retry import RetryPolicy, is_retryable_status, parse_retry_after
from attunement.errors import BackendError, BackendTimeout
from attunement.types import Completion, Message, TokenLogprob, Usage

OPENAI_URL = "https://api.openai.com/v1"


def redact_url(url: str) -> str:
    """A URL without user:password, so it can appear in names, keys and errors.

    >>> redact_url("http://user:secret@host:8000/v1")
    'http://host:8000/v1'
    """
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class _Attempt(Exception):
    """One failed attempt: why, whether to retry, and a server-requested wait."""

    def __init__(
        self, reason: str, *, retry: bool, retry_after: float | None = None, timeout: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        self.retry_after = retry_after
        self.timeout = timeout


def _status_text(status: int) -> str:
    from http import HTTPStatus

    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def _error_detail(body: object) -> str:
    """The server's own error message, short, if it gave one."""
    if isinstance(body, dict):
        err = body.get("error", body)
        msg = err.get("message") if isinstance(err, dict) else err
        if isinstance(msg, str) and msg.strip():
            return msg.strip().splitlines()[0][:200]
    return ""


class OpenAICompatBackend:
    """Chat completions from an OpenAI-compatible endpoint.

    Args:
        model: the model name the server expects.
        base_url: the server's ``/v1`` URL; None means the OpenAI API.
        api_key: the key (read from the environment by :func:`load_backend`); kept only inside
            the SDK client, never in ``name`` or an error.
        name: the spec this backend was built from.
        max_connections: requests in flight at once.
        timeout: seconds each attempt may take before it is abandoned.
        retry: how many retries and how long to wait between them.
    """

    kind = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str,
        name: str | None = None,
        max_connections: int = 4,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        try:
            import openai
        except ImportError as exc:  # pragma: no cover - openai is a core dependency
            from attunement.errors import MissingDependencyError

            raise MissingDependencyError("openai", "openai") from exc
        self.model = model
        self.base_url = (base_url or OPENAI_URL).rstrip("/")
        at = "" if base_url is None else f"@{redact_url(base_url)}"
        default = f"openai:{model}{at}"
        self.name = name or default
        self.timeout = float(timeout)
        self.retry = retry or RetryPolicy()
        self.endpoint = f"{redact_url(self.base_url)} (model {model})"
        self._sem = asyncio.Semaphore(max(1, int(max_connections)))
        self._rng = random.Random()
        self._openai = openai
        # max_retries=0: retries are ours, so they follow one policy whatever the server.
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=self.base_url,
            timeout=self.timeout + 5.0,
            max_retries=0,
        )

    async def generate(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.7,
        seed: int | None = None,
        logprobs: int | None = None,
    ) -> Completion:
        """One chat completion, retried on transient failures; raises BackendError when done."""
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": int(max_tokens),
            "temperature": float(temperature),
        }
        if seed is not None:
            request["seed"] = int(seed)
        if logprobs is not None:
            request["logprobs"] = True
            request["top_logprobs"] = int(logprobs)
        start = time.perf_counter()
        last: _Attempt | None = None
        for attempt in range(self.retry.max_attempts):
            if attempt:
                assert last is not None
                await asyncio.sleep(
                    self.retry.delay(attempt - 1, retry_after=last.retry_after, rng=self._rng)
                )
            try:
                async with self._sem:
                    completion = await self._attempt(request, logprobs=logprobs)
            except _Attempt as failure:
                last = failure
                if not failure.retry:
                    raise BackendError(
                        failure.reason, endpoint=self.endpoint, attempts=attempt + 1
                    ) from None
                continue
            return completion.model_copy(update={"latency": time.perf_counter() - start})
        assert last is not None
        error_type = BackendTimeout if last.timeout else BackendError
        raise error_type(
            f"gave up: {last.reason}", endpoint=self.endpoint, attempts=self.retry.max_attempts
        )

    async def _attempt(self, request: dict[str, Any], *, logprobs: int | None) -> Completion:
        """One HTTP request under the per-request timeout; failures become ``_Attempt``."""
        openai = self._openai
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._client.chat.completions.create(**request)
        except TimeoutError as exc:
            raise _Attempt(f"timed out after {self.timeout:g}s", retry=True, timeout=True) from exc
        except openai.APITimeoutError as exc:
            raise _Attempt(f"timed out after {self.timeout:g}s", retry=True, timeout=True) from exc
        except openai.APIConnectionError as exc:
            raise _Attempt(_connection_reason(exc), retry=True) from exc
        except openai.APIResponseValidationError as exc:
            raise _Attempt(f"malformed response: {exc.message}", retry=True) from exc
        except openai.APIStatusError as exc:
            detail = _error_detail(exc.body)
            reason = _status_text(exc.status_code) + (f": {detail}" if detail else "")
            raise _Attempt(
                reason,
                retry=is_retryable_status(exc.status_code),
                retry_after=parse_retry_after(exc.response.headers),
            ) from exc
        except (ValueError, TypeError, KeyError) as exc:
            # A body that is not JSON (json.JSONDecodeError is a ValueError) or not the schema.
            raise _Attempt(f"malformed response: {str(exc)[:200]}", retry=True) from exc
        return self._to_completion(response, logprobs=logprobs)

    def _to_completion(self, response: Any, *, logprobs: int | None) -> Completion:
        choices = getattr(response, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise _Attempt("malformed response: no choices", retry=True)
        message = getattr(choices[0], "message", None)
        text = getattr(message, "content", None)
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise _Attempt("malformed response: message content is not text", retry=True)
        usage = getattr(response, "usage", None)
        return Completion(
            text=text,
            logprobs=_logprobs(choices[0]) if logprobs is not None else None,
            usage=Usage(
                prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                calls=1,
            ),
            model=str(getattr(response, "model", None) or self.model),
        )

    async def aclose(self) -> None:
        await self._client.close()


def _connection_reason(exc: BaseException) -> str:
    """'connection refused', 'connection closed by the server' ..., from the cause chain."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(chain) < 10:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    for err in chain:
        text = str(err).lower()
        if isinstance(err, ConnectionRefusedError) or "refused" in text:
            return "connection refused"
        if "name or service not known" in text or "nodename nor servname" in text:
            return "host not found"
        if "disconnected" in text or "without sending" in text or "connection reset" in text:
            return "connection closed by the server without a response"
    inner = chain[-1]
    detail = str(inner) or type(inner).__name__
    return f"connection error: {detail[:200]}"


def _logprobs(choice: Any) -> list[TokenLogprob] | None:
    content = getattr(getattr(choice, "logprobs", None), "content", None)
    if not content:
        return None
    out = []
    for item in content:
        top = {t.token: float(t.logprob) for t in (getattr(item, "top_logprobs", None) or [])}
        out.append(TokenLogprob(token=item.token, logprob=float(item.logprob), top=top))
    return out
