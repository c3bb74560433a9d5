"""The `attune` entry point itself: help lists the commands, version, one-line errors."""

from __future__ import annotations

import subprocess
import sys

from attunement import __version__


def _attune(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "attunement.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_subcommands():
    out = _attune("--help")
    assert out.returncode == 0
    for command in ("chat", "code", "eval", "demo", "probe", "report"):
        assert command in out.stdout


def test_version():
    out = _attune("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"attune {__version__}"
