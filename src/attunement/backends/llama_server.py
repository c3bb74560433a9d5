"""Run a GGUF model behind llama-cpp-python's OpenAI-compatible HTTP server, on 127.0.0.1.

For tests, benchmarks and quick local trials: ``with serve_gguf(path) as url:`` starts
``python -m llama_cpp.server`` on a free port, waits until ``/v1/models`` answers, yields
``http://127.0.0.1:PORT/v1`` (use it as ``openai:NAME@URL``), and stops the server on exit.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from attunement.errors import BackendError, MissingDependencyError

SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "pydantic_settings")


def server_missing() -> str | None:
    """The first module the server needs that is not installed, or None."""
    for module in SERVER_MODULES:
        if importlib.util.find_spec(module) is None:
            return module
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_ready(base_url: str) -> bool:
    """True when the server at ``base_url`` lists its models."""
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
            return response.status == 200 and "data" in json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def serve_gguf(
    path: str | Path,
    *,
    alias: str = "local",
    n_ctx: int = 2048,
    start_timeout: float = 180.0,
    log_path: str | Path | None = None,
    tries: int = 3,
) -> Iterator[str]:
    """Serve ``path`` on 127.0.0.1 for the duration of the ``with`` block; yields the base URL.

    Raises:
        MissingDependencyError: llama-cpp-python or its server extra is missing.
        BackendError: the server exited or did not answer within ``start_timeout`` seconds
            (the message carries the end of its log).
    """
    missing = server_missing()
    if missing:
        raise MissingDependencyError(f"llama-cpp-python[server] ({missing})", "local")
    log = Path(log_path) if log_path else Path(tempfile.mkstemp(suffix="-llama-server.log")[1])
    proc: subprocess.Popen | None = None
    base_url = ""
    for _ in range(max(1, tries)):  # a free port can be taken before the server binds it
        port = free_port()
        base_url = f"http://127.0.0.1:{port}/v1"
        command = [sys.executable, "-m", "llama_cpp.server", "--model", str(path)]
        command += ["--model_alias", alias, "--host", "127.0.0.1", "--port", str(port)]
        command += ["--n_ctx", str(n_ctx), "--interrupt_requests", "False"]
        with log.open("ab") as sink:
            proc = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline and proc.poll() is None and not is_ready(base_url):
            time.sleep(0.25)
        if proc.poll() is None and is_ready(base_url):
            break
        _stop(proc)
        if "address already in use" not in _tail(log).lower():
            raise BackendError(
                f"llama.cpp server did not start within {start_timeout:g}s "
                f"(exit code {proc.returncode}); log {log}: {_tail(log, 5)}",
                endpoint=base_url,
            )
    else:
        raise BackendError(f"llama.cpp server could not bind a free port; log {log}")
    assert proc is not None
    try:
        yield base_url
    finally:
        _stop(proc)
