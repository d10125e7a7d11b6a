"""Numeric functions defined by rules: gcd (by subtraction or by remainders), lcm via gcd, factorial,
power, Fibonacci, sums, digit sums, primes, perfect numbers, a quadratic's discriminant, binary
numbers, Peano successor arithmetic, piecewise functions, grading rules, division with remainder.

Program: the numbered rules of one function (a base case and a recursive case, or ranges). The solver
applies them step by step and keeps the trace (``gcd(48, 18) = gcd(18, 12)（规则2）`` ...).
Checker: Python's own arithmetic (``math.gcd``, ``math.factorial``, ``pow``, trial division ...) on the
query stored in ``q.meta``; it shares no code with the step tracer.

One module per group of related kinds registers them: its :class:`.kind.Kind` objects (rules, inputs and
question wording) and a :class:`.kind.Function` per function they ask about (tracer, checker and program
side by side). :data:`KINDS` and :data:`FUNCTIONS` are the registry generation, ``check`` and
``synth/programs/numeric.py`` read.

``q.meta = {"fn": name, "claims": [NumericClaim, ...]}``: option i is true when
``(fn(world, claim.args) == claim.value) == claim.asserted`` (a value option asserts; "否" denies).
"""

from __future__ import annotations

import random

from ..core import (
    Difficulty,
    Puzzle,
    Rejected,
    Style,
    SynthQuestion,
    collect_questions,
    make_options,
    n_options,
    pick_distractors,
    problem_text,
    yes_no,
)
from . import divisors, notations, primes, quadratic, ranges, recursions
from .kind import Function, Kind, NumericClaim

_MODULES = (divisors, recursions, primes, quadratic, notations, ranges)
KINDS: dict[str, Kind] = {k.name: k for m in _MODULES for k in m.KINDS}
FUNCTIONS: dict[str, Function] = {f.name: f for m in _MODULES for f in m.FUNCTIONS}
# relative frequency in the real data: gcd/factorial/sums dominate, exotic ones are rarer
KIND_WEIGHTS = {"gcd": 5, "lcm": 2, "factorial": 4, "power": 2, "fib": 2, "sum": 3, "digits": 2, "prime": 3,
                "perfect": 1, "quadratic": 2, "binary": 2, "peano": 2, "piecewise": 3, "f2": 2, "grade": 3, "div": 2}
assert set(KIND_WEIGHTS) == set(KINDS), "every registered kind has a weight"
_KIND_NAMES = list(KIND_WEIGHTS)
_KIND_W = [KIND_WEIGHTS[k] for k in _KIND_NAMES]


# ================================================================ generation


def generate(rng: random.Random, difficulty: Difficulty, style: Style) -> Puzzle:
    kind = KINDS[rng.choices(_KIND_NAMES, _KIND_W)[0]]
    world = {"kind": kind.name, **kind.setup(rng, difficulty)}
    problem = problem_text(kind.intro(world, style), kind.rules(world), style)
    questions = collect_questions(lambda: _question(rng, difficulty, kind, world), rng.choice([1, 2, 3, 4, 4, 4]))
    return Puzzle("numeric", problem, questions, world=world)


def _question(rng, d, kind: Kind, world: dict) -> SynthQuestion:
    r = rng.random()
    if r < 0.15:
        pick = kind.pick_question(rng, d, world)
        if pick is not None:
            return _pick(rng, d, kind, world, *pick)
    fns = [*kind.fns, *kind.yes_no_fns]
    fn = rng.choice(fns)
    args = kind.draw(rng, d, world, fn)
    v, steps = FUNCTIONS[fn].trace(world, args)
    end = kind.conclude(world, fn, args, v)
    if end:
        steps = [*steps, end]
    if isinstance(v, bool):
        options, answer = yes_no(rng, v)
        claims = [NumericClaim(args, True, o == "是") for o in options]
        return SynthQuestion(kind.ask_yn(world, fn, args, "", rng), options, answer, steps,
                             meta={"fn": fn, "claims": claims})
    if r < 0.3:  # 是/否 about one claimed value, true half the time
        shown_v = v
        if rng.random() < 0.5:
            wrong = [x for x in _near_far(rng, d, kind, world, fn, args, v) if x != v]
            if not wrong:
                raise Rejected("no wrong value")
            shown_v = wrong[0]
        shown = kind.render(world, fn, shown_v)
        options, answer = yes_no(rng, shown_v == v)
        claims = [NumericClaim(args, shown_v, o == "是") for o in options]
        if shown_v != v:
            steps = [*steps, f"{kind.render(world, fn, v)} 不等于 {shown}，所以题中的说法不成立。"]
        return SynthQuestion(kind.ask_yn(world, fn, args, shown, rng), options, answer, steps,
                             meta={"fn": fn, "claims": claims})
    n = 3 if fn == "nroots" else n_options(rng)
    if fn == "grade":
        n = min(n, len(world["grades"]))
    true = kind.render(world, fn, v)
    by_text = {}
    for x in _near_far(rng, d, kind, world, fn, args, v, n - 1):
        by_text.setdefault(kind.render(world, fn, x), x)
    by_text.pop(true, None)
    options, answer = make_options(rng, true, list(by_text), n)
    claims = [NumericClaim(args, v if i == answer else by_text[o], True) for i, o in enumerate(options)]
    return SynthQuestion(kind.ask(world, fn, args, rng), options, answer, steps, meta={"fn": fn, "claims": claims})


def _near_far(rng, d, kind, world, fn, args, v, k: int = 1) -> list:
    near = [x for x in kind.near(world, fn, args, v) if x != v and (isinstance(x, str) or x >= 0 or v < 0)]
    far = [x for x in kind.far(rng, world, fn, args, v) if x != v and (isinstance(x, str) or x >= 0 or v < 0)]
    # pick_distractors works on strings; keep a value per string (rendering is one-to-one)
    table = {}
    for x in near + far:
        table.setdefault(repr(x), x)
    out = pick_distractors(rng, [repr(x) for x in near], [repr(x) for x in far], max(k, 1) + 2, d.close)
    return [table[s] for s in out]


def _pick(rng, d, kind: Kind, world: dict, fn: str, body: str, true_n: int, near: list, far: list) -> SynthQuestion:
    n = n_options(rng)
    ds = pick_distractors(rng, [str(x) for x in near if x != true_n], [str(x) for x in far if x != true_n], n - 1,
                          d.close)
    options, answer = make_options(rng, str(true_n), ds, n)
    steps = []
    for o in options:
        val, lines = FUNCTIONS[fn].trace(world, [int(o)])
        steps.append(lines[-1])
    steps.append(f"只有 {true_n} 满足条件。")
    claims = [NumericClaim([int(o)], True, True) for o in options]
    return SynthQuestion(body, options, answer, steps, meta={"fn": fn, "claims": claims})


# ================================================================ brute-force checker (plain Python arithmetic)


def check(puzzle: Puzzle, question_index: int) -> list[bool]:
    """Truth of each option: the stored query recomputed with Python's arithmetic, none of the tracer."""
    meta = puzzle.questions[question_index].meta
    truth = FUNCTIONS[meta["fn"]].truth
    return [(truth(puzzle.world, c.args) == c.value) == c.asserted for c in meta["claims"]]


__all__ = ["FUNCTIONS", "KINDS", "KIND_WEIGHTS", "Function", "Kind", "NumericClaim", "check", "generate"]
