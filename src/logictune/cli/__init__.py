"""The `logictune` command line: one thin function per command over the Python API, a module per group of
commands (each registers its commands on the one app when imported)."""

from __future__ import annotations

from ._app import app, console, fail, say_error

# importing a module registers its commands; this order is `logictune --help`'s, the loop's own
# isort: off
from . import data, rationales, answer, loop  # noqa: F401, E402
# isort: on

__all__ = ["app", "console", "fail", "main", "say_error"]


def main() -> None:
    app()
