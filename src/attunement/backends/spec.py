"""Model specs: one string names a model and where it runs; ``load_backend`` builds it.

local                      the embedded SmolLM2-135M-Instruct, in-process (llama.cpp)
llamacpp:PATH              any GGUF file, in-process
openai:MODEL               the OpenAI API; key from OPENAI_API_KEY
openai:MODEL@URL           any OpenAI-compatible server (vLLM, SGLang, Ollama, llama.cpp)
scripted:NAME              a scripted test policy (no model; see attunement.simulate)

>>> parse_spec("openai:qwen2.5@http://127.0.0.1:8000/v1").base_url
'http://127.0.0.1:8000/v1'
>>> parse_spec("local").kind
'local'
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from attunement.backends.base import ChatBackend
from attunement.backends.cache import CachedBackend, ResponseCache, default_cache_path
from attunement.backends.openai_compat import OpenAICompatBackend, redact_url
from attunement.backends.retry import RetryPolicy
from attunement.errors import ConfigError, SpecError

SpecKind = Literal["local", "llamacpp", "openai", "scripted"]

SPEC_FORMS = "local, llamacpp:PATH, openai:MODEL, openai:MODEL@URL, scripted:NAME"

# The key for openai:MODEL (the OpenAI API) and, in order, for openai:MODEL@URL.
OPENAI_KEY_ENV = "OPENAI_API_KEY"
COMPAT_KEY_ENVS = ("ATTUNE_API_KEY", "OPENAI_API_KEY")
DUMMY_KEY = "not-needed"  # local servers ignore the key but the SDK wants one

_OPENAI = re.compile(r"^openai:(?P<model>[^@\s]+)(?:@(?P<url>https?://\S+))?$")


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec. ``spec`` is the normalised string (safe to log: no secrets)."""

    kind: SpecKind
    spec: str
    model: str = ""
    base_url: str | None = field(default=None, repr=False)  # may hold user:password
    path: Path | None = None


def _bad(spec: str, why: str = "") -> SpecError:
    reason = f" ({why})" if why else ""
    return SpecError(f"unknown model spec {spec!r}{reason}; accepted forms: {SPEC_FORMS}")


def parse_spec(spec: str) -> ModelSpec:
    """Parse a model spec; raises SpecError (one line, listing the accepted forms)."""
    if not isinstance(spec, str) or not spec.strip():
        raise _bad(str(spec), "empty")
    text = spec.strip()
    if text == "local":
        return ModelSpec(kind="local", spec="local")
    head, sep, rest = text.partition(":")
    if not sep:
        raise _bad(text)
    if head == "llamacpp":
        if not rest:
            raise _bad(text, "llamacpp needs a GGUF path")
        path = Path(rest).expanduser()
        return ModelSpec(kind="llamacpp", spec=f"llamacpp:{path}", model=str(path), path=path)
    if head == "openai":
        match = _OPENAI.match(text)
        if not match:
            raise _bad(text, "openai needs a model name, optionally @http(s)://host/v1")
        url = match.group("url")
        model = match.group("model")
        if url is None:
            return ModelSpec(kind="openai", spec=f"openai:{model}", model=model)
        clean = redact_url(url.rstrip("/"))
        return ModelSpec(kind="openai", spec=f"openai:{model}@{clean}", model=model, base_url=url)
    if head == "scripted":
        if not rest:
            raise _bad(text, "scripted needs a policy name")
        return ModelSpec(kind="scripted", spec=f"scripted:{rest}", model=rest)
    raise _bad(text)


def _api_key(parsed: ModelSpec) -> str:
    """The key from the environment; never stored on the backend's name or in the cache."""
    if parsed.base_url is None:
        key = os.environ.get(OPENAI_KEY_ENV)
        if not key:
            raise ConfigError(
                f"{parsed.spec} needs an API key: set {OPENAI_KEY_ENV} in the environment"
            )
        return key
    for env in COMPAT_KEY_ENVS:
        if os.environ.get(env):
            return os.environ[env]
    return DUMMY_KEY


def load_backend(
    spec: str,
    *,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    max_connections: int = 4,
    timeout: float = 60.0,
    max_retries: int = 4,
) -> ChatBackend:
    """Build the backend a spec names, behind the response cache unless ``cache=False``.

    Args:
        spec: one of :data:`SPEC_FORMS`.
        cache: read and write the SQLite response cache (deterministic calls only).
        cache_dir: folder of ``responses.sqlite``; default ``$ATTUNE_CACHE_DIR`` or
            ``~/.cache/attunement``.
        max_connections: requests in flight at once (OpenAI-compatible servers).
        timeout: seconds per request attempt.
        max_retries: retries after the first attempt on 429, 5xx, timeouts, refused connections.

    Example:
        >>> import asyncio
        >>> from attunement.types import Message
        >>> backend = load_backend("local")                       # doctest: +SKIP
        >>> asyncio.run(backend.generate([Message(role="user", content="Hi")],
        ...                              max_tokens=16, temperature=0))  # doctest: +SKIP
    """
    parsed = parse_spec(spec)
    if parsed.kind == "scripted":
        from attunement.simulate.policies import scripted_policy

        return scripted_policy(parsed.model)

    backend: ChatBackend
    if parsed.kind in ("local", "llamacpp"):
        from attunement.backends.llamacpp import LlamaCppBackend, embedded_gguf_path

        path = embedded_gguf_path() if parsed.kind == "local" else parsed.path
        assert path is not None
        backend = LlamaCppBackend(path, name=parsed.spec)
        kind, model, base_url = "llamacpp", str(Path(path).expanduser().resolve()), None
    else:
        backend = OpenAICompatBackend(
            parsed.model,
            base_url=parsed.base_url,
            api_key=_api_key(parsed),
            name=parsed.spec,
            max_connections=max_connections,
            timeout=timeout,
            retry=RetryPolicy(max_retries=max_retries),
        )
        kind, model = "openai", parsed.model
        base_url = redact_url(backend.base_url)
    if not cache:
        return backend
    return CachedBackend(
        backend,
        ResponseCache(default_cache_path(cache_dir)),
        kind=kind,
        model=model,
        base_url=base_url,
    )
