"""Programs for knights and knaves: each statement as a function of who is a knight, every assignment
tried, the one where each speaker is a knight exactly when what they said is true kept, then the asked
role, count, true statement or full assignment read off it."""

from __future__ import annotations

import random

from ..core import Puzzle
from ..truth import Words
from .kit import Names, block, is_yes_no, lit, options_line, program, select, select_equal, select_yes_no


def _code(stmt: list, k: str) -> str:
    """A statement as a boolean expression over the assignment ``k`` (name -> is a knight)."""
    kind = stmt[0]

    def role(x: str, v: bool) -> str:
        return f"{k}[{lit(x)}]" if v else f"not {k}[{lit(x)}]"

    if kind == "is":
        return role(stmt[1], stmt[2])
    if kind == "both":
        return f"{role(stmt[1], stmt[3])} and {role(stmt[2], stmt[3])}"
    if kind == "one":
        return f"{k}[{lit(stmt[1])}] != {k}[{lit(stmt[2])}]"
    if kind == "same":
        return f"{k}[{lit(stmt[1])}] == {k}[{lit(stmt[2])}]"
    if kind == "either":
        return f"{k}[{lit(stmt[1])}] or {k}[{lit(stmt[2])}]"
    if kind == "count":
        return f"sum({k}.values()) == {stmt[1]}"
    if kind == "all":
        return " and ".join(role(x, v) for x, v in stmt[1])
    raise ValueError(f"truth statement {kind!r}")


def render(puzzle: Puzzle, qi: int, rng: random.Random) -> str:
    w, q = puzzle.world, puzzle.questions[qi]
    names = w["names"]
    knight, knave = w["roles"]
    words = Words((knight, knave, ""), names)
    nm = Names(rng)
    people, said, k = nm("names", "people", "persons"), nm("said", "statements", "claims"), nm("k", "knight", "good")
    lines = [f"{people} = {lit(names)}", f"# {k}[x] 为 True 表示 x 是{knight}（说真话），False 表示 x 是{knave}",
             f"{said} = {{"]
    for x, stmt in w["said"]:
        lines.append(f"    {lit(x)}: lambda {k}: {_code(stmt, k)},  # {words.text(stmt, x)}")
    lines.append("}")
    data = block(*lines)
    sols = nm("solutions", "consistent", "worlds")
    if rng.random() < 0.5:
        solve = block("import itertools", "", f"{sols} = []",
                      f"for values in itertools.product([True, False], repeat=len({people})):",
                      f"    {k} = dict(zip({people}, values))",
                      f"    # {knight}说的话为真，{knave}说的话为假",
                      f"    if all({k}[x] == {said}[x]({k}) for x in {people}):",
                      f"        {sols}.append({k})",
                      f"{k} = {sols}[0]  # 唯一的一种情况")
    else:
        solve = block(f"{sols} = []", f"for bits in range(2 ** len({people})):",
                      f"    {k} = {{x: bool(bits >> i & 1) for i, x in enumerate({people})}}",
                      f"    if all({k}[x] == {said}[x]({k}) for x in {people}):  # {knight}说真话，{knave}说假话",
                      f"        {sols}.append({k})",
                      f"{k} = {sols}[0]")
    opts, opts_line = options_line(nm, q.options)
    claims = q.meta["claims"]
    stmt = claims[0][1]
    role = f"{lit(knight)} if {k}[x] else {lit(knave)}"
    if is_yes_no(q.options):
        x = stmt[1]
        truth = f"{said}[{lit(x)}]({k})" if "说的" in q.body or "陈述" in q.body else _code(stmt, k)
        ask, tail = None, select_yes_no(rng, nm, opts, truth)
    elif sorted(q.options) == sorted([knight, knave]):
        value = nm("answer", "role", "who")
        ask = f"{value} = {role.replace('[x]', f'[{lit(stmt[1])}]')}"
        tail = select_equal(rng, nm, opts, value)
    elif stmt[0] == "count":
        n = nm("count", "n", "total")
        ask = f"{n} = sum({k}.values())  # {knight}的个数"
        tail = select(rng, nm, opts, f"int({{o}}) == {n}") if rng.random() < 0.5 else \
            select_equal(rng, nm, opts, f"str({n})")
    elif stmt[0] == "all":
        value = nm("answer", "assignment", "roles")
        ask = f'{value} = "，".join(x + "是" + ({role}) for x in {people})'
        tail = select_equal(rng, nm, opts, value)
    else:  # which statement is true: each option as a test on the assignment
        tests = nm("tests", "checks", "option_true")
        items = [f"    {lit(o)}: lambda {k}: {_code(c[1], k)}," for o, c in zip(q.options, claims, strict=True)]
        ask = block(f"{tests} = {{", *items, "}")
        tail = select(rng, nm, opts, f"{tests}[{{o}}]({k})")
    return program(data, solve, block(opts_line, ask, tail))
