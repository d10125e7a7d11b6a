"""Programs for numeric functions defined by rules: the problem's rules as one small Python function each
(recursive where the rules recurse, sometimes as the equivalent loop), the asked value computed, and the
option holding it chosen (or 是/否, or the one option the predicate holds for).

The definitions come from the function's own renderer in the numeric registry (``Function.code``); this
module writes what every numeric program shares: the options, the call and the ending."""

from __future__ import annotations

import random

from ..core import Puzzle
from ..numeric import FUNCTIONS, KINDS, Function
from .kit import Names, block, is_yes_no, lit, options_line, program, select, select_equal, select_yes_no

# the predicates (is_prime …): asked as 是/否 or "which of these numbers …", never for a value
BOOL_FNS = frozenset(fn for kind in KINDS.values() for fn in kind.yes_no_fns)


def _call(f: Function, name: str, args: list) -> str:
    return f"{name}({', '.join(lit(a) for a in f.code_args(args))}){f.code_pick}"


def render(puzzle: Puzzle, qi: int, rng: random.Random) -> str:
    w, q = puzzle.world, puzzle.questions[qi]
    fn, claims = q.meta["fn"], q.meta["claims"]
    f = FUNCTIONS[fn]
    nm = Names(rng)
    loop = rng.random() < 0.4  # the recursion written as the loop it unrolls to
    name, rules = f.code(w, nm, loop)
    opts, opts_line = options_line(nm, q.options)
    args = claims[0].args
    if fn in BOOL_FNS and not is_yes_no(q.options):  # which of these numbers has the property
        ask, tail = None, select(rng, nm, opts, f"{name}(int({{o}}))")
    elif fn in BOOL_FNS:
        ask, tail = None, select_yes_no(rng, nm, opts, _call(f, name, args))
    elif is_yes_no(q.options):
        value = nm("value", "result", "v")
        ask = f"{value} = {_call(f, name, args)}"
        tail = select_yes_no(rng, nm, opts, f"{value} == {lit(f.code_value(claims[0].value))}")
    else:
        value = nm("value", "result", "v")
        ask = f"{value} = {_call(f, name, args)}"
        if isinstance(f.code_value(claims[0].value), str):
            tail = select_equal(rng, nm, opts, value)
        elif rng.random() < 0.5:
            tail = select_equal(rng, nm, opts, f"str({value})")
        else:
            tail = select(rng, nm, opts, f"int({{o}}) == {value}")
    if rng.random() < 0.3:
        return program(opts_line, rules, block(ask, tail))
    return program(rules, block(opts_line, ask, tail))
