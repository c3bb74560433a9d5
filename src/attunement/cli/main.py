"""Entry point of `attune`. Each command lives in its own module and registers itself there.

A command's module is imported only when that command runs (or when help lists them all), so
`attune code` does not pay for the imports of `eval`, `probe` or `chat`.
"""

from __future__ import annotations

import importlib

import typer
from typer.core import TyperCommand, TyperGroup

from attunement import __version__

# command name -> the module whose ``register(app)`` adds it
COMMAND_MODULES: dict[str, str] = {
    "chat": "attunement.cli.chat",
    "code": "attunement.cli.code",
    "demo": "attunement.cli.eval",
    "eval": "attunement.cli.eval",
    "probe": "attunement.cli.probe",
    "report": "attunement.cli.report",
}


def load_command(name: str) -> TyperCommand | TyperGroup | None:
    """The command ``name``, built from its module's ``register`` (None if unknown)."""
    module = COMMAND_MODULES.get(name)
    if module is None:
        return None
    sub = typer.Typer(add_completion=False)
    importlib.import_module(module).register(sub)
    built = typer.main.get_command(sub)
    commands = getattr(built, "commands", None)  # a group when the module adds several
    if commands is not None:
        return commands.get(name)
    return built if built.name == name else None


class LazyCommands(TyperGroup):
    """A group that imports a command's module the first time the command is asked for."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMAND_MODULES))

    def get_command(self, ctx: typer.Context, cmd_name: str) -> TyperCommand | TyperGroup | None:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is None:
            cmd = load_command(cmd_name)
            if cmd is not None:
                self.add_command(cmd, cmd_name)
        return cmd


app = typer.Typer(
    name="attune",
    cls=LazyCommands,
    help="Measure, explain and train proactive emotional attunement in LLM dialogue agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"attune {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """attunement: evaluate, code, probe and train attunement."""


def main() -> None:
    app()


if __name__ == "__main__":
    main()
