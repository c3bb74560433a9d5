"""Coding utterances into attunement acts: taxonomy, segmentation, local and LLM-judge coders.

    >>> from attunement.coding import LocalCoder
    >>> [s.act for s in LocalCoder().code_sync("Hi! What's been going on?").spans][0]
    'other'

``load_coder("local")`` is the fast offline default; any other spec builds an LLM judge on that
backend (``judge:SPEC`` also works, e.g. ``judge:local`` for the embedded model as judge).

Every name is imported lazily: ``attunement.types`` imports the taxonomy from this package, so
this module must not import anything that imports ``attunement.types`` at load time.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from attunement.coding.base import Coder

_EXPORTS: dict[str, str] = {
    "ACTS": "attunement.coding.taxonomy",
    "ACT_DEFINITIONS": "attunement.coding.taxonomy",
    "GROUP_ACTS": "attunement.coding.taxonomy",
    "Act": "attunement.coding.taxonomy",
    "grounding_acts": "attunement.coding.taxonomy",
    "Coder": "attunement.coding.base",
    "LocalCoder": "attunement.coding.local",
    "load_model": "attunement.coding.local",
    "LLMJudgeCoder": "attunement.coding.llm_judge",
    "Segment": "attunement.coding.segment",
    "segment": "attunement.coding.segment",
    "discloses_feeling": "attunement.coding.disclosure",
    "read_transcripts": "attunement.coding.loaders",
    "code_transcripts": "attunement.coding.transcripts",
    "code_transcripts_async": "attunement.coding.transcripts",
    "CodedTurnRecord": "attunement.coding.transcripts",
    "gold_agreement": "attunement.coding.gold",
}
__all__ = sorted([*_EXPORTS, "load_coder"])


def load_coder(spec: str = "local", **backend_options: Any) -> Coder:
    """The coder a spec names: ``local`` (the shipped linear model) or an LLM judge.

    ``backend_options`` (cache, timeout, max_connections, ...) go to ``load_backend``.
    """
    if spec.strip() == "local":
        from attunement.coding.local import LocalCoder

        return LocalCoder()
    from attunement.backends import load_backend
    from attunement.coding.llm_judge import LLMJudgeCoder

    backend_spec = spec.strip().removeprefix("judge:")
    return LLMJudgeCoder(load_backend(backend_spec, **backend_options))


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'attunement.coding' has no attribute {name!r}")
