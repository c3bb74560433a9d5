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


def test_a_command_imports_only_its_own_module():
    """`attune code` must not pay for the imports of the other commands (start-up time)."""
    probe = (
        "import sys\n"
        "from attunement.cli.main import app\n"
        "try:\n"
        "    app(['code', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('attunement.cli.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded = out.stdout.strip().splitlines()[-1]
    assert "attunement.cli.code" in loaded
    for other in ("attunement.cli.eval", "attunement.cli.probe", "attunement.cli.chat"):
        assert other not in loaded


def test_every_listed_command_resolves():
    from attunement.cli.main import COMMAND_MODULES, load_command

    for name in COMMAND_MODULES:
        command = load_command(name)
        assert command is not None and command.name == name
    assert load_command("no-such-command") is None
