"""The pieces every family's program renderer shares: identifiers drawn per program, Python literals, and
the ending that checks each option and prints the letter of the true one.

Renderers vary what a model may write differently (names, order of facts, loop or comprehension) and keep
fixed what it must get right (the facts, the rules, the options as the question gives them).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from ...programs import match_output
from ..core import LETTERS


class Names:
    """Identifiers for one program: the first call with a role draws one of its spellings, later calls
    with the same first spelling get the same one, so a name is consistent within the program."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.chosen: dict[str, str] = {}
        self.labelled = False  # set by options_line: a lone letter would match an option's text

    def __call__(self, *spellings: str) -> str:
        key = spellings[0]
        if key not in self.chosen:
            taken = set(self.chosen.values())
            free = [s for s in spellings if s not in taken] or list(spellings)
            self.chosen[key] = self.rng.choice(free)
        return self.chosen[key]


def lit(x) -> str:
    """``x`` as a Python literal with double-quoted strings (the style the model reads and writes)."""
    if isinstance(x, bool) or x is None:
        return repr(x)
    if isinstance(x, str):
        return '"' + x.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(x, (int, float)):
        return repr(x)
    if isinstance(x, list):
        return "[" + ", ".join(lit(v) for v in x) + "]"
    if isinstance(x, tuple):
        return "(" + ", ".join(lit(v) for v in x) + ("," if len(x) == 1 else "") + ")"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in x.items()) + "}"
    raise TypeError(f"no literal for {type(x).__name__}")


def shuffled(rng: random.Random, xs: Iterable, p: float = 0.6) -> list:
    """``xs`` in a new order with probability ``p`` (the order facts are listed in carries no meaning)."""
    out = list(xs)
    if rng.random() < p:
        rng.shuffle(out)
    return out


def block(*lines: str) -> str:
    return "\n".join(x for x in lines if x is not None)


def program(*blocks: str | None) -> str:
    """Blocks separated by one blank line; empty ones left out."""
    return "\n\n".join(b.strip("\n") for b in blocks if b and b.strip()) + "\n"


# ---------------------------------------------------------------- the ending: check each option, print its letter


def _letter(rng: random.Random, i: str) -> str:
    return rng.choice([f'"ABCDE"[{i}]', f"chr(65 + {i})", f'"ABCDE"[{i}]', f"chr(ord(\"A\") + {i})"])


def _print(rng: random.Random, nm: Names, options: str, i: str) -> str:
    """Print the letter of option ``i``; ``B. text`` when an option's text is itself a letter (a lone "B"
    would then be read as that option's text by programs.match_output)."""
    if not nm.labelled:
        return f"print({_letter(rng, i)})"
    lines = [] if i.isidentifier() else [f"i = {i}"]
    return block(*lines, f'print({_letter(rng, "i")} + ". " + {options}[i])')


def select(rng: random.Random, nm: Names, options: str, cond: str) -> str:
    """Lines that print the letter of the first option for which ``cond`` holds; ``cond`` names the option
    ``{o}`` (e.g. ``"{o} == answer"``)."""
    o = nm("option", "opt", "o", "choice", "text")
    c = cond.replace("{o}", o)
    form = rng.randrange(3)
    if form == 0:
        body = _print(rng, nm, options, "i").replace("\n", "\n        ")
        return block(f"for i, {o} in enumerate({options}):",
                     f"    if {c}:",
                     f"        {body}",
                     "        break")
    if form == 1:
        hits = nm("hits", "matches", "found", "correct")
        return block(f"{hits} = [i for i, {o} in enumerate({options}) if {c}]",
                     _print(rng, nm, options, hits + "[0]"))
    return _print(rng, nm, options, f"next(i for i, {o} in enumerate({options}) if {c})")


def select_equal(rng: random.Random, nm: Names, options: str, value: str) -> str:
    """Print the letter of the option equal to the string ``value``."""
    if rng.random() < 0.35:
        return _print(rng, nm, options, f"{options}.index({value})")
    return select(rng, nm, options, "{o} == " + value)


def select_yes_no(rng: random.Random, nm: Names, options: str, truth: str) -> str:
    """Print the letter of 是 when the expression ``truth`` holds, else of 否."""
    form = rng.randrange(3)
    if form == 0:
        ans = nm("answer", "ans", "reply")
        return block(f'{ans} = "是" if {truth} else "否"', select_equal(rng, nm, options, ans))
    if form == 1:
        return _print(rng, nm, options, options + '.index("是" if ' + truth + ' else "否")')
    return select(rng, nm, options, '({o} == "是") == bool(' + truth + ")")


def options_line(nm: Names, options: Sequence[str]) -> tuple[str, str]:
    """(the variable, its assignment) for the question's options."""
    var = nm("options", "opts", "choices", "candidates")
    nm.labelled = any(match_output(x, options) != x for x in LETTERS[:len(options)])
    return var, f"{var} = {lit(list(options))}"


def is_yes_no(options: Sequence[str]) -> bool:
    return sorted(options) == ["否", "是"]


def members_fn(nm: Names, none: str | None = None) -> tuple[str, str]:
    """(its name, its definition) of a function reading the names an option lists ("A、B和C", as
    core.join_names writes them); ``none`` is the option text that lists nobody, if the question has one."""
    f = nm("names_in", "members", "listed")
    lines = [f"def {f}(option):"]
    if none is not None:
        lines += [f"    if option == {lit(none)}:", "        return set()"]
    lines.append('    return set(option.replace("和", "、").split("、"))')
    return f, block(*lines)
