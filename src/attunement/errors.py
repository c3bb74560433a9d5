"""The project's exception tree, in one place.

    AttunementError                  base; the CLI prints str(err) as one line, never a traceback
    ├── InputError                   bad user input: a file, a line, a field (see ``location``)
    ├── SpecError                    a model spec that is not one of the accepted forms
    ├── ConfigError                  an invalid option or config file
    ├── MissingDependencyError       an optional extra is not installed (names the pip command)
    └── BackendError                 a model call failed after its retries (names the endpoint)
        └── BackendTimeout           the call ran past its per-request timeout

Library exceptions (pydantic, json, openai, sqlite3) are translated into these at the boundary,
so callers only ever catch ``AttunementError``.
"""

from __future__ import annotations


class AttunementError(Exception):
    """Base of every error the project raises on purpose."""


class InputError(AttunementError):
    """Bad input from a user: says which file, line and field, and what was wrong."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.reason = message
        super().__init__(self._render())

    @property
    def location(self) -> str:
        parts = []
        if self.path:
            parts.append(str(self.path))
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)

    def _render(self) -> str:
        loc = self.location
        return f"{loc}: {self.reason}" if loc else self.reason


class SpecError(AttunementError):
    """A model spec string that is not one of the accepted forms."""


class ConfigError(AttunementError):
    """An option or config file that cannot be used as given."""


class MissingDependencyError(AttunementError):
    """An optional dependency is missing; the message names the install command."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"{package} is not installed; install with: pip install 'attunement[{extra}]'"
        )


class BackendError(AttunementError):
    """A model call failed (after retries where they apply); names the endpoint and why."""

    def __init__(self, message: str, *, endpoint: str | None = None, attempts: int = 1) -> None:
        self.endpoint = endpoint
        self.attempts = attempts
        where = f"{endpoint}: " if endpoint else ""
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        super().__init__(f"{where}{message}{tries}")


class BackendTimeout(BackendError):
    """The model call ran past its per-request timeout."""
