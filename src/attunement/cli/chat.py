"""`attune chat SPEC "message"`: one reply from any model spec, with its usage and latency.

A quick way to check that a spec, a server and a key work before starting an evaluation.
"""

from __future__ import annotations

from typing import Annotated

import typer

from attunement.cli.common import cli_errors, console, run_async


@cli_errors
def chat(
    spec: Annotated[
        str,
        typer.Argument(help="Model spec: local, llamacpp:PATH, openai:MODEL or openai:MODEL@URL."),
    ],
    message: Annotated[str, typer.Argument(help="The user message to send.")],
    system: Annotated[
        str | None, typer.Option("--system", help="A system prompt sent before the message.")
    ] = None,
    max_tokens: Annotated[
        int, typer.Option("--max-tokens", min=1, help="Most tokens in the reply.")
    ] = 256,
    temperature: Annotated[
        float, typer.Option("--temperature", min=0.0, help="Sampling temperature; 0 is greedy.")
    ] = 0.7,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Sampling seed (makes the reply cacheable).")
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds per request attempt.")
    ] = 60.0,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")
    ] = False,
) -> None:
    """Send one message to a model and print its reply, token usage and latency."""
    from attunement.backends import ask

    reply = run_async(
        ask(
            spec,
            message,
            system=system,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=seed,
            cache=not no_cache,
            timeout=timeout,
        )
    )
    console.print(reply.text.strip(), markup=False, highlight=False, soft_wrap=True)
    usage = reply.usage
    console.print(
        f"tokens {usage.prompt_tokens} prompt / {usage.completion_tokens} completion · "
        f"latency {reply.latency:.2f}s · cached {'yes' if reply.cached else 'no'}",
        style="dim",
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("chat")(chat)
