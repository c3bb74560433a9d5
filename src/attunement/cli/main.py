"""Entry point of `attune`. Each command lives in its own module and registers itself here."""

from __future__ import annotations

import typer

from attunement import __version__

app = typer.Typer(
    name="attune",
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


def _register() -> None:
    # Imported here so `attune --help` stays fast and each command owns its module.
    from attunement.cli import chat, code, eval, probe, report

    for module in (chat, code, eval, probe, report):
        module.register(app)


_register()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
