"""What every CLI command shares: the console, one-line errors, the exit codes."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import typer
from rich.console import Console

from attunement.errors import AttunementError

console = Console()
err_console = Console(stderr=True)

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

T = TypeVar("T")


def fail(message: str, code: int = EXIT_USER_ERROR) -> typer.Exit:
    """Print a one-line error and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def cli_errors(fn: Callable[..., T]) -> Callable[..., T]:
    """Turn project errors into one line on stderr (exit 2) and Ctrl-C into exit 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except AttunementError as exc:
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]: what was finished is saved")
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return wrapper


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from a sync CLI command."""
    return asyncio.run(coro)
