"""Model backends: one async protocol, specs as strings, a response cache, retries.

    >>> from attunement.backends import load_backend, parse_spec, SPEC_FORMS
    >>> parse_spec("openai:gpt-4o-mini").model
    'gpt-4o-mini'

See docs/backends.md for the specs, the cache rules and the environment variables.
"""

from attunement.backends.ask import ask, build_messages
from attunement.backends.base import ChatBackend
from attunement.backends.cache import (
    CachedBackend,
    ResponseCache,
    cache_key,
    default_cache_path,
    is_cacheable,
)
from attunement.backends.llamacpp import LlamaCppBackend, embedded_gguf_path
from attunement.backends.openai_compat import OpenAICompatBackend
from attunement.backends.retry import RetryPolicy, parse_retry_after
from attunement.backends.spec import SPEC_FORMS, ModelSpec, load_backend, parse_spec

__all__ = [
    "SPEC_FORMS",
    "CachedBackend",
    "ChatBackend",
    "LlamaCppBackend",
    "ModelSpec",
    "OpenAICompatBackend",
    "ResponseCache",
    "RetryPolicy",
    "ask",
    "build_messages",
    "cache_key",
    "default_cache_path",
    "embedded_gguf_path",
    "is_cacheable",
    "load_backend",
    "parse_retry_after",
    "parse_spec",
]
