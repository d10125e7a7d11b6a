"""Kinship: a family tree given as "A 是 B 的父亲/母亲" and gender facts, relations defined by Horn rules
(grandparent, sibling, uncle/aunt, cousin, ancestor, child, grandchild ...), questions that need them.

Program: ``parent(X, Y)``, ``male(X)``, ``female(X)`` facts and the rules in ``world.RULES`` (``X≠Y`` for
siblings is a rule test). The solver is :func:`core.forward_chain`; positive answers are explained by the
proof, negative and "who are all ..." answers by walking the closed world (parents, their siblings ...).
Checker: each relation re-defined directly over the parent/gender facts by enumerating people (ancestor by
a depth-first walk over parent chains), with none of the chaining code.

Modules: ``world`` (names, rules, relation words, the drawn and solved tree), ``questions`` (the question
makers), this one (the puzzle text and the checker).
"""

from __future__ import annotations

import random

from ..core import (
    Difficulty,
    Puzzle,
    Style,
    collect_questions,
    join_names,
    problem_text,
)
from .questions import (
    GEN_WORDS,
    ask_count,
    ask_generation,
    ask_has,
    ask_statement,
    ask_what,
    ask_who,
    ask_whose,
    ask_yes_no,
)
from .world import (
    DEF_INTROS,
    DEF_OF,
    DEFS,
    GENDER_INTROS,
    INTROS,
    MUST_DEFINE,
    RULES,
    WORDS,
    SolvedTree,
    draw_names,
    draw_tree,
    solve,
)


def generate(rng: random.Random, difficulty: Difficulty, style: Style) -> Puzzle:
    genders, gen, pairs = draw_tree(rng, difficulty)
    names = draw_names(rng, style, genders)
    # Name order in the puzzle: a shuffle, so the eldest is not always listed first.
    order = names[:]
    rng.shuffle(order)
    male = [names[i] for i, s in enumerate(genders) if s == "m"]
    parent_pairs = [(names[a], names[b]) for a, b in pairs]
    facts = [("parent", a, b) for a, b in parent_pairs]
    facts += [("male" if s == "m" else "female", names[i]) for i, s in enumerate(genders)]
    # The ancestor closure is the deepest part of the program: only hard puzzles and some others ask for it.
    ancestors = difficulty.depth >= 3 or rng.random() < 0.25
    derived = solve(facts, ancestors)
    ctx = SolvedTree(rng, difficulty, order, set(male), parent_pairs, derived, rng.choice(["姑姑", "阿姨", "姑妈或姨妈"]))
    ctx.ancestors = ancestors

    makers = [ask_who, ask_who, ask_yes_no, ask_yes_no, ask_what, ask_statement, ask_count, ask_whose,
              ask_has] + ([ask_generation] if ancestors else [])
    want = rng.choice([1, 2, 3, 4, 4])
    questions = collect_questions(lambda: rng.choice(makers)(ctx), 3 * want, want)
    problem = problem_text(INTROS[style.intro % len(INTROS)], _fact_lines(rng, names, male, parent_pairs),
                           style, _extra(rng, ctx, names, male, parent_pairs))
    world = {"people": order, "male": sorted(male), "parent": [list(p) for p in parent_pairs], "aunt": ctx.aunt}
    return Puzzle("kinship", problem, questions, world=world)


def _fact_lines(rng, names, male, parent_pairs) -> list[str]:
    form = rng.randrange(3)
    lines = []
    if form == 0:  # grouped by parent: "A 是 B、C 和 D 的父亲。"
        for p in names:
            kids = [b for a, b in parent_pairs if a == p]
            if kids:
                lines.append(f"{p}是{join_names(kids)}的{'父亲' if p in male else '母亲'}。")
    else:
        for a, b in parent_pairs:
            w = "父亲" if a in male else "母亲"
            lines.append(f"{a}是{b}的{w}。" if form == 1 else f"{b}的{w}是{a}。")
        rng.shuffle(lines)
    return lines


def _extra(rng, ctx: SolvedTree, names, male, parent_pairs) -> str:
    parts = []
    is_parent = {a for a, _ in parent_pairs}
    everyone = rng.random() < 0.4
    shown = [p for p in names if everyone or p not in is_parent]
    if shown:
        if rng.random() < 0.5:
            ms = [p for p in shown if p in male]
            fs = [p for p in shown if p not in male]
            lines = ([f"男性成员包括：{'、'.join(ms)}。"] if ms else []) + ([f"女性成员包括：{'、'.join(fs)}。"] if fs else [])
        else:
            lines = [f"{p}是{'男性' if p in male else '女性'}。" for p in shown]
        parts.append(rng.choice(GENDER_INTROS) + "\n" + "\n".join(f"- {s}" for s in lines))
    defs = []
    for rel in sorted(ctx.used, key=list(DEF_OF).index):
        if rel in MUST_DEFINE or rng.random() < 0.5:
            for d in DEF_OF[rel]:
                text = DEFS[d].format(aunt=ctx.aunt)
                if text not in defs:
                    defs.append(text)
    if defs:
        parts.append(rng.choice(DEF_INTROS) + "\n" + "\n".join(f"- {s}" for s in defs))
    return "\n\n".join(parts)


def check(puzzle: Puzzle, question_index: int) -> list[bool]:
    """Truth of each option, every relation re-defined over the parent/gender facts by enumeration."""
    people = puzzle.world["people"]
    male = set(puzzle.world["male"])
    par = {tuple(p) for p in puzzle.world["parent"]}

    def parent(a, b):
        return (a, b) in par

    def sibling(a, b):
        return a != b and any(parent(z, a) and parent(z, b) for z in people)

    def grandparent(a, b):
        return any(parent(a, z) and parent(z, b) for z in people)

    def chains(a, b, seen=()):  # lengths of every parent chain from a down to b
        out = []
        for z in people:
            if parent(a, z) and z not in seen:
                if z == b:
                    out.append(1)
                out += [n + 1 for n in chains(z, b, (*seen, z))]
        return out

    base = {
        "parent": parent,
        "father": lambda a, b: parent(a, b) and a in male,
        "mother": lambda a, b: parent(a, b) and a not in male,
        "child": lambda a, b: parent(b, a),
        "son": lambda a, b: parent(b, a) and a in male,
        "daughter": lambda a, b: parent(b, a) and a not in male,
        "grandparent": grandparent,
        "grandfather": lambda a, b: grandparent(a, b) and a in male,
        "grandmother": lambda a, b: grandparent(a, b) and a not in male,
        "grandchild": lambda a, b: grandparent(b, a),
        "grandson": lambda a, b: grandparent(b, a) and a in male,
        "granddaughter": lambda a, b: grandparent(b, a) and a not in male,
        "sibling": sibling,
        "brother": lambda a, b: sibling(a, b) and a in male,
        "sister": lambda a, b: sibling(a, b) and a not in male,
        "uncle": lambda a, b: a in male and any(parent(z, b) and sibling(a, z) for z in people),
        "aunt": lambda a, b: a not in male and any(parent(z, b) and sibling(a, z) for z in people),
        "cousin": lambda a, b: any(parent(p, a) and parent(q, b) and sibling(p, q) for p in people for q in people),
        "ancestor": lambda a, b: bool(chains(a, b)),
    }

    def holds(claim) -> bool:
        kind = claim[0]
        if kind == "holds":
            _, rel, x, y, asserted = claim
            return base[rel](x, y) == asserted
        if kind == "set":
            _, rel, anchor, members, inverse = claim
            if inverse:
                actual = {p for p in people if base[rel](anchor, p)}
            else:
                actual = {p for p in people if base[rel](p, anchor)}
            return actual == set(members)
        if kind == "count":
            _, rel, y, n = claim
            return sum(base[rel](p, y) for p in people) == n
        if kind == "exists":
            _, rel, y, asserted = claim
            return any(base[rel](p, y) for p in people) == asserted
        if kind == "gen":
            _, x, y, k = claim
            lengths = chains(x, y)
            return (not lengths) if k == 0 else (bool(lengths) and min(lengths) == k)
        raise ValueError(kind)

    return [holds(c) for c in puzzle.questions[question_index].meta["claims"]]


__all__ = ["GEN_WORDS", "RULES", "WORDS", "check", "generate", "solve"]
