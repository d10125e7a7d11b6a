"""List operations defined by rules, as in the real data: append, reverse, sort, filter odd/even, map,
remove duplicates, delete, insert, flatten, split by position, merge sorted lists, sum, length,
max/min, n-th element, last element, membership, palindromes, and compositions ("先…再…").

Program: each operation is a recursive predicate stated as numbered rules (an empty-list base case
and a head/tail case). The solver walks the input the way the rules do and keeps the trace
("第1个元素3是奇数，删除（规则2）" ...).
Checker: Python's own list operations (slicing, ``sorted``, comprehensions, ``in``) on the query kept
in ``q.meta``; it shares no code with the tracer.

Each operation is an :class:`.op.Op` whose rules, tracer, wording, checker (``apply``) and program renderer
(``code``) stand side by side; a module per group of related operations registers them, and :data:`OPS`
is the registry generation, ``check`` and ``synth/programs/lists.py`` read.

``q.meta = {"ops": [[name, params, qargs], ...], "input": L, "post": None | "len" | ["member", x],
"claims": [ListClaim, ...]}``: option i is true when ``(result == claim.value) == claim.asserted``.
"""

from __future__ import annotations

import random

from ..core import Difficulty, Puzzle, Style, SynthQuestion, collect_questions, problem_text
from . import elementwise, queries, reorder, structure
from .op import ATOMS, ListClaim, Op, show
from .questions import question

OPS: dict[str, Op] = {op.name: op for m in (reorder, elementwise, structure, queries) for op in m.OPS}
OP_WEIGHTS = {"reverse": 4, "sort": 4, "filter": 4, "map": 4, "dedup": 3, "delete": 3, "insert": 2, "flatten": 2,
              "split": 2, "append": 4, "merge": 2, "sum": 3, "length": 3, "extreme": 3, "nth": 3, "last": 2,
              "member": 3, "palindrome": 2}
_OP_NAMES = list(OP_WEIGHTS)
_OP_W = [OP_WEIGHTS[k] for k in _OP_NAMES]
# a second operation that makes sense after a list-valued first one (the "先…再…" questions)
_THEN = ["reverse", "sort", "filter", "map", "dedup", "sum", "length", "extreme", "last", "split", "nth"]

INTROS = ["下面是一些对列表进行操作的逻辑程序，每个操作由以下规则定义：", "考虑以下列表操作，它们的规则如下：",
          "有一组用于处理列表的递归函数。以下是这些函数的逻辑描述：", "已知如下列表处理规则（[H|T] 表示表头为 H、剩余部分为 T 的列表）：",
          "给定一系列列表操作，其定义如下：", "以下是关于列表操作的规则："]


# ================================================================ inputs


# ================================================================ generation


def generate(rng: random.Random, difficulty: Difficulty, style: Style) -> Puzzle:
    first = OPS[rng.choices(_OP_NAMES, _OP_W)[0]]
    ops = [first]
    if first.out == "list" and (difficulty.depth >= 2 and rng.random() < 0.25 * difficulty.depth):
        second = OPS[rng.choice([n for n in _THEN if n != first.name])]
        ops.append(second)
    elif rng.random() < 0.35:
        other = OPS[rng.choices(_OP_NAMES, _OP_W)[0]]
        if other.name != first.name:
            ops.append(other)
    params = {op.name: op.setup(rng) for op in ops}
    r0s, rules = {}, []
    for op in ops:
        r0s[op.name] = len(rules) + 1
        lines = op.rules(params[op.name])
        if len(ops) > 1:
            lines = [f"{op.label(params[op.name])}：{s}" for s in lines]
        rules += lines
    atoms = rng.random() < 0.35
    intro = INTROS[style.intro % len(INTROS)]
    if len(ops) == 1 and rng.random() < 0.6:
        holes = ["K"] if first.name == "nth" else ["X", "K"]
        intro = f"有一个函数 {first.label(params[first.name])}，它对列表进行“{first.desc(params[first.name], holes)}”的操作。" \
            + ("以下是该函数的逻辑描述：" if rng.random() < 0.5 else "规则如下：")
    problem = problem_text(intro, rules, style)
    world = {"ops": [op.name for op in ops], "params": params, "atoms": atoms}
    questions: list[SynthQuestion] = []
    compose = len(ops) == 2 and ops[0].out == "list" and ops[1].arity == 1
    def draw() -> SynthQuestion:
        chain = [rng.choice(ops)]
        if compose and rng.random() < 0.2 + 0.2 * difficulty.depth:
            chain = list(ops)
        return question(rng, difficulty, chain, params, r0s, atoms)

    questions = collect_questions(draw, rng.choice([1, 2, 3, 4, 4, 4]))
    return Puzzle("lists", problem, questions, world=world)


def check(puzzle: Puzzle, question_index: int) -> list[bool]:
    """Truth of each option: the stored query recomputed with Python list operations, none of the tracer."""
    meta = puzzle.questions[question_index].meta
    if "inputs" in meta:  # one input per option ("以下哪个列表是回文？")
        name, p, qa = meta["ops"][0]
        return [(OPS[name].apply(p, x, qa) is True) == c.asserted
                for x, c in zip(meta["inputs"], meta["claims"], strict=True)]
    v = meta["input"]
    for name, p, qa in meta["ops"]:
        v = OPS[name].apply(p, v, qa)
    post = meta["post"]
    if post == "len":
        v = len(v)
    elif post is not None:
        v = post[1] in v
    return [(v == c.value and type(v) is type(c.value)) == c.asserted for c in meta["claims"]]


__all__ = ["ATOMS", "OPS", "OP_WEIGHTS", "ListClaim", "Op", "check", "generate", "show"]
