"""`attune chat`: the real command in a subprocess, on the embedded model and a real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from fault_server import Fault, FaultServer

USAGE_LINE = re.compile(
    r"tokens (\d+) prompt / (\d+) completion · latency [\d.]+s · cached (yes|no)"
)


def attune(*args: str, cache_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, "ATTUNE_CACHE_DIR": str(cache_dir), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "attunement.cli.main", "chat", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


@pytest.mark.slow
def test_chat_local_prints_reply_usage_and_cache_state(tmp_path, embedded_gguf):
    pytest.importorskip("llama_cpp")
    first = attune("local", "hi", "--max-tokens", "8", "--seed", "1", cache_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    match = USAGE_LINE.search(first.stdout)
    assert match, first.stdout
    assert int(match.group(1)) > 0 and 0 < int(match.group(2)) <= 8 and match.group(3) == "no"
    reply = first.stdout[: match.start()].strip()
    assert reply

    again = attune("local", "hi", "--max-tokens", "8", "--seed", "1", cache_dir=tmp_path)
    assert USAGE_LINE.search(again.stdout).group(3) == "yes"
    assert again.stdout[: USAGE_LINE.search(again.stdout).start()].strip() == reply

    bypass = attune(
        "local", "hi", "--max-tokens", "8", "--seed", "1", "--no-cache", cache_dir=tmp_path
    )
    assert USAGE_LINE.search(bypass.stdout).group(3) == "no"


def test_bad_spec_is_one_line_exit_2(tmp_path):
    out = attune("gpt-4", "hi", cache_dir=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "Traceback" not in out.stderr
    assert "unknown model spec 'gpt-4'" in out.stderr and "openai:MODEL@URL" in out.stderr


def test_server_options_and_errors(tmp_path):
    with FaultServer() as server:
        url = server.base_url
        ok = attune(
            f"openai:m@{url}",
            "ping",
            "--system",
            "Be brief.",
            "--max-tokens",
            "5",
            "--temperature",
            "0",
            cache_dir=tmp_path,
        )
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.startswith("echo: ping")
        assert USAGE_LINE.search(ok.stdout).groups() == ("1", "2", "no")
        payload = server.requests[0]["payload"]
        assert payload["messages"][0] == {"role": "system", "content": "Be brief."}
        assert payload["max_tokens"] == 5 and payload["temperature"] == 0

        server.plan("denied", Fault.status_code(401))
        bad = attune(f"openai:m@{url}", "denied", cache_dir=tmp_path)
        assert bad.returncode == 2 and "Traceback" not in bad.stderr
        assert bad.stderr.strip().count("\n") == 0
        assert url in bad.stderr and "HTTP 401 Unauthorized" in bad.stderr
