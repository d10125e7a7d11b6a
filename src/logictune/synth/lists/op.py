"""What every list operation is made of: the :class:`Op` (its rules, tracer, wording, checker and program
renderer side by side), how lists are written, and the :class:`ListClaim` an option makes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ..core import MAX_LINES, fold

ATOMS = list("abcdefghijkmnpqrstuvwxyz")


def show(x) -> str:
    """``[3, 1, 4]``, ``[a, b, c]``, ``[1, [2, 3]]``; a scalar as itself."""
    return str(x).replace("'", "")  # atoms are bare letters, so dropping repr's quotes is enough


def walk(items: list[str], per_line: int = 3) -> list[str]:
    """Per-element notes, a few to a line."""
    return fold(["；".join(items[i:i + per_line]) + "。" for i in range(0, len(items), per_line)], MAX_LINES - 1)


def rule_ref(r0: int, k: int) -> str:
    """The name of an operation's (k+1)-th rule, whose first rule is number ``r0`` in the problem."""
    return f"规则{r0 + k}"


@dataclass(frozen=True)
class ListClaim:
    """What one option says: the query's result equals ``value`` (``asserted``) or does not ("否")."""

    value: Any
    asserted: bool


class Op:
    """One list operation. Text: ``rules`` (r0 = number of its first rule in the problem), ``desc`` (a verb
    phrase), ``call`` and the ask methods; solver: ``trace(L, params, qargs, r0) -> (value, steps)``;
    checker: ``apply`` (plain Python list operations, none of the tracer); program: ``code`` and
    ``code_call``. ``out``: "list" | "value" | "bool"; ``arity`` 1 or 2 (two lists); ``numeric``: needs
    integers."""

    name = ""
    fname = ""
    out = "list"
    arity = 1
    numeric = False
    needs_dups = False
    nested = False

    def setup(self, rng: random.Random) -> dict:
        return {}

    def rules(self, p: dict) -> list[str]:
        raise NotImplementedError

    def qargs(self, rng: random.Random, L: list, p: dict) -> list:
        return []

    def trace(self, L, p, qa, r0):
        raise NotImplementedError

    def desc(self, p, qa) -> str:
        raise NotImplementedError

    def near(self, L, p, qa, v) -> list:
        return []

    def call(self, L, p, qa) -> str:
        args = [show(x) for x in (L if self.arity == 2 else [L])] + [show(x) for x in qa]
        return f"{self.fname}({', '.join(args)})"

    def label(self, p: dict) -> str:
        """The operation's name as the problem writes it (a parametrised op's depends on its parameters)."""
        return self.call([], p, ["K", "X"]).split("(")[0]

    def ask_value(self, p, L, qa, rng: random.Random) -> str:
        """The question for a value-valued op asked on its own."""
        raise ValueError(self.name)

    def ask_bool(self, L, qa, rng: random.Random) -> str:
        """The question for a yes/no-valued op asked on its own."""
        raise ValueError(self.name)

    def apply(self, p, L, qa):
        """The checker: the result with Python's own list operations."""
        raise NotImplementedError

    def code(self, f: str, p: dict, loop: bool) -> str:
        """The program's definition of the operation, called ``f``, as its rules state it."""
        raise NotImplementedError

    def code_call(self, f: str, arg: str, qa: list) -> str:
        """``f`` applied to the list expression ``arg`` with the question's extra arguments, in the rules'
        order."""
        return f"{f}({arg})"
