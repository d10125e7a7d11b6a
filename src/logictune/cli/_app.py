"""The command line's shared parts: the typer app, the console, and how a command fails."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(help="Make small LLMs good at multiple-choice logic reasoning.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
console = Console()


def say_error(message: str) -> None:
    """Print in red without wrapping or markup: `file:line: field 'questions[0]'` stays whole and greppable."""
    from rich.markup import escape

    console.print(escape(message), style="red", highlight=False, soft_wrap=True)


def fail(message: str) -> None:
    say_error(f"error: {message}")
    raise typer.Exit(1)

