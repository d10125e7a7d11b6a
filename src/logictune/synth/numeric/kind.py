"""What every numeric kind is made of: the :class:`Kind` (rules, intro, inputs and question wording), the
:class:`Function` record that keeps a function's tracer, checker and program side by side, and the
:class:`NumericClaim` an option makes."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core import Difficulty, Style
from ..programs.kit import Names


def pick_intro(style: Style, intros: list[str]) -> str:
    return intros[style.intro % len(intros)]


def same(v: Any) -> Any:
    return v


@dataclass(frozen=True)
class Function:
    """One function a kind asks about, with each piece that handles it: ``trace`` is the rule-applying
    solver (value and the steps it took), ``truth`` the checker (Python's own arithmetic, no code shared
    with the tracer), ``code`` the program renderer: (world, names, loop form) -> (the name to call, the
    definitions of the rules)."""

    name: str
    trace: Callable[[dict, list], tuple[Any, list[str]]]
    truth: Callable[[dict, list], Any]
    code: Callable[[dict, Names, bool], tuple[str, str]]
    code_args: Callable[[list], list] = list  # the query's arguments as the program's function takes them
    code_value: Callable[[Any], Any] = same  # a value as the program's function returns it
    code_pick: str = ""  # what the call is followed by to get the value ("[0]" of a (quotient, remainder))


@dataclass(frozen=True)
class NumericClaim:
    """What one option says: ``fn(world, args) == value`` holds (``asserted``) or does not ("否")."""

    args: list
    value: Any
    asserted: bool


def rng_pair(rng: random.Random, d: Difficulty, hi: int) -> list[int]:
    g = rng.choice([1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12])
    while True:
        x, y = rng.randint(1, hi), rng.randint(1, hi)
        if x != y or rng.random() < 0.1:
            return [g * x, g * y]


class Kind:
    """One function family: its rules and intro, what inputs look like, and the questions it asks."""

    name = ""
    fns: tuple[str, ...] = ()  # value queries this kind asks (the first is the main one)
    yes_no_fns: tuple[str, ...] = ()  # predicates it asks only as 是/否 (or "which of these …")

    def setup(self, rng: random.Random, d: Difficulty) -> dict:
        return {}

    def intro(self, world: dict, style: Style) -> str:
        raise NotImplementedError

    def rules(self, world: dict) -> list[str]:
        raise NotImplementedError

    def draw(self, rng: random.Random, d: Difficulty, world: dict, fn: str) -> list:
        raise NotImplementedError

    def near(self, world: dict, fn: str, args: list, v) -> list:
        return [v + 1, v - 1] if isinstance(v, int) and not isinstance(v, bool) else []

    def far(self, rng: random.Random, world: dict, fn: str, args: list, v) -> list:
        if isinstance(v, bool) or not isinstance(v, int):
            return []
        span = max(3, abs(v) // 3)
        return [v + rng.randint(-span, span) for _ in range(8)]

    def render(self, world: dict, fn: str, v) -> str:
        return str(v)

    def ask(self, world: dict, fn: str, args: list, rng: random.Random) -> str:
        raise NotImplementedError

    def ask_yn(self, world: dict, fn: str, args: list, shown: str, rng: random.Random) -> str:
        raise NotImplementedError

    def conclude(self, world: dict, fn: str, args: list, v) -> str:
        return f"所以结果是{self.render(world, fn, v)}。"

    def pick_question(self, rng, d, world):  # an optional "which of these ..." question
        return None
