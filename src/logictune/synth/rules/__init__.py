"""Closed-world facts and if-then (Horn) rules: who eats whom, is-a hierarchies with inherited traits,
and people whose properties follow from rules with conjunctive bodies.

Sub-kinds, one drawn per puzzle:

* ``food``: ``eats(X, Y)`` facts of a food web; "如果X吃Y，那么X是Y的天敌" and its recursive form
  ("X吃Y且Y是Z的天敌 → X是Z的天敌"), or "X吃Y且Y吃Z → X是Z的捕食者"; with plants, "吃植物的是食草动物",
  "吃食草动物的是食肉动物".
* ``isa``: a taxonomy ("猫是哺乳动物", "Tom是猫"), traits of classes ("动物会呼吸"), with
  ``isa(X, Z) :- isa(X, Y), isa(Y, Z)`` and ``has(X, P) :- isa(X, Y), has(Y, P)``.
* ``people``: base properties given per person, derived properties by layered rules
  ("如果一个人读书且富有，那么这个人快乐"), chains as deep as ``Difficulty.depth``.

Closed world: what cannot be derived is false. The solver is :func:`core.forward_chain`; a false claim
is explained by the rule conditions that fail. Checker: a separate naive fixpoint that substitutes every
combination of constants into every rule (no shared matching code), then tests each option's claim.

Modules: ``world`` (vocabulary, :class:`World` and the sub-kinds' draws), ``questions`` (:class:`Reasoner`
and the question makers), this one (the puzzle text, the generator and the checker).
"""

from __future__ import annotations

import functools
import itertools
import random

from ..core import (
    Difficulty,
    Puzzle,
    Style,
    SynthQuestion,
    collect_questions,
    problem_text,
)
from .questions import (
    Reasoner,
    ask_set,
    ask_statement,
    ask_which,
    ask_yes_no,
    candidates,
)
from .world import (
    CLOSED_WORLD,
    ENEMY_WORDS,
    World,
    draw_food,
    draw_isa,
    draw_people,
)


def generate(rng: random.Random, difficulty: Difficulty, style: Style) -> Puzzle:
    kind = rng.choices(["food", "isa", "people"], [3, 3, 4])[0]
    if kind == "food":
        w = draw_food(rng, difficulty)
    elif kind == "isa":
        w = draw_isa(rng, difficulty, style)
    else:
        w = draw_people(rng, difficulty, style)
    r = Reasoner(w)
    cands = candidates(r)
    numbered = [f"规则{i}：{t}" for i, t in enumerate(w.rule_texts, 1)]
    cw = rng.choice(CLOSED_WORLD)
    if rng.random() < 0.5:
        problem = problem_text(w.intro, w.fact_lines, style, "\n".join(numbered + ([cw] if cw else [])))
    else:
        problem = problem_text(w.intro, w.fact_lines + numbered, style, cw)
    makers = [(ask_yes_no, 4), (ask_which, 3), (ask_statement, 2), (ask_set, 1), ("not", 1)]
    # questions per problem as in the real data: mostly 4, else 1-3
    target = rng.choices([1, 2, 3, 4], [2, 2, 1, 5])[0]

    def draw() -> SynthQuestion:
        maker = rng.choices([m for m, _ in makers], [wt for _, wt in makers])[0]
        if maker == "not":
            return ask_which(rng, difficulty, r, cands, True)
        if maker is ask_which:
            return ask_which(rng, difficulty, r, cands, False)
        return maker(rng, difficulty, r, cands)

    def same(a: SynthQuestion, b: SynthQuestion) -> bool:
        return a.body == b.body or sorted(map(str, a.meta["claims"])) == sorted(map(str, b.meta["claims"]))

    questions = collect_questions(draw, 2 * target, target, same)
    world = {"kind": kind, "facts": [list(f) for f in w.facts],
             "rules": [[list(ru.head), [list(c) for c in ru.body]] for ru in w.rules],
             "say": {pred: pos for pred, (pos, _) in w.templates.items()}}
    return Puzzle("rules", problem, questions, world=world)


# ---------------------------------------------------------------- brute-force checker


def least_model(facts: list, rules: list) -> set:
    """Naive fixpoint: every rule, every assignment of constants to its variables, until nothing is new.

    A variable ranges over the constants seen at its positions in the current model (those are the only
    values that can make its body atoms true), so the enumeration stays small without any matching.
    """
    model = {tuple(f) for f in facts}
    while True:
        new = set()
        for head, body in rules:
            variables = sorted({t for atom in body for t in atom[1:] if t.startswith("?")})
            domains = []
            for v in variables:
                dom = None
                for atom in body:
                    for i, t in enumerate(atom[1:], 1):
                        if t == v:
                            seen = {f[i] for f in model if f[0] == atom[0] and len(f) == len(atom)}
                            dom = seen if dom is None else dom & seen
                domains.append(sorted(dom or ()))
            for values in itertools.product(*domains):
                env = dict(zip(variables, values, strict=True))
                if all(tuple(env.get(t, t) for t in atom) in model for atom in body):
                    g = tuple(env.get(t, t) for t in head)
                    if g not in model:
                        new.add(g)
        if not new:
            return model
        model |= new


def _frozen(x):
    return tuple(_frozen(y) for y in x) if isinstance(x, list | tuple) else x


@functools.lru_cache(maxsize=32)
def _cached_model(facts: tuple, rules: tuple) -> frozenset:
    # generation checks every question of a puzzle over one world: build its model once
    return frozenset(least_model(facts, rules))


def check(puzzle: Puzzle, question_index: int) -> list[bool]:
    model = _cached_model(_frozen(puzzle.world["facts"]), _frozen(puzzle.world["rules"]))
    out = []
    for claim in puzzle.questions[question_index].meta["claims"]:
        if claim[0] == "fact":
            out.append((tuple(claim[1]) in model) == claim[2])
        elif claim[0] == "set":
            pat, dom, members = claim[1], claim[2], claim[3]
            got = {x for x in dom if tuple(x if t == "?x" else t for t in pat) in model}
            out.append(got == set(members))
        else:
            raise ValueError(claim[0])
    return out


# ENEMY_WORDS: the program renderer (programs/rules.py) words its enemy rule the way the puzzle did
__all__ = ["ENEMY_WORDS", "Reasoner", "World", "check", "generate", "least_model"]
