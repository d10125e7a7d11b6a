"""Graphs and reachability: directed edges, direct train connections, blocks stacked on blocks, things inside
things, course prerequisites. Questions need the transitive closure: can a reach e, which node can (not)
be reached, which route is valid, how many edges at least.

Program: ``edge(X, Y)`` facts (an undirected ``link(X, Y)`` gives edges both ways) and
``path(X, Y) :- edge(X, Y)``, ``path(X, Z) :- edge(X, Y), path(Y, Z)``; the solver is
:func:`core.forward_chain`, whose first derivation of a path is a shortest one. A "no" is explained by
listing, layer by layer, everything that can be reached (closed world) and noting the target is not there.
Checker: every simple path enumerated by a depth-first walk over the edge list, with none of the chaining.

Modules: ``world`` (rules, vocabulary, themes, the drawn and solved graph), ``questions`` (the question
makers), this one (the puzzle text, the generator and the checker).
"""

from __future__ import annotations

import random

from ..core import (
    Difficulty,
    Puzzle,
    Style,
    collect_questions,
    forward_chain,
    problem_text,
)
from .questions import (
    ask_count,
    ask_not,
    ask_route,
    ask_shortest,
    ask_which,
    ask_yes_no,
)
from .world import (
    LINK_RULES,
    PATH_RULES,
    THEME_NAMES,
    THEMES,
    SolvedGraph,
    draw_graph,
)


def generate(rng: random.Random, difficulty: Difficulty, style: Style) -> Puzzle:
    theme = rng.choice(["node", "node", "road", "train", "train", "stack", "inside", "course"])
    t = THEMES[theme]
    n = max(4, min(difficulty.entities + rng.randint(1, 3), 10))
    nodes, edges = draw_graph(rng, theme, n, style)
    base = "link" if theme == "train" else "edge"
    derived = forward_chain([(base, a, b) for a, b in edges], LINK_RULES if theme == "train" else PATH_RULES,
                            indexed=True)
    edge_form = rng.choice(t["edge"])
    ctx = SolvedGraph(rng, difficulty, theme, nodes, edges, derived, edge_form)

    makers = [ask_yes_no, ask_yes_no, ask_which, ask_not, ask_count]
    if t["route"]:
        makers += [ask_route, ask_route, ask_shortest]
    want = rng.choice([1, 2, 3, 4, 4])
    questions = collect_questions(lambda: rng.choice(makers)(ctx), 3 * want, want)
    facts = [ctx.edge_text(a, b) + "。" for a, b in edges]
    intro = t["intro"][style.intro % len(t["intro"])]
    problem = problem_text(intro, facts, style, t["extra"] if rng.random() < 0.6 else "")
    world = {"nodes": nodes, "edges": [list(e) for e in edges], "undirected": ctx.undirected, "theme": theme,
             "edge_form": edge_form}
    return Puzzle("graph", problem, questions, world=world)


# ---------------------------------------------------------------- brute-force checker


def check(puzzle: Puzzle, question_index: int) -> list[bool]:
    """Truth of each option, from every simple path of the graph found by a depth-first walk."""
    w = puzzle.world
    nodes = w["nodes"]
    arcs = [tuple(e) for e in w["edges"]]
    if w["undirected"]:
        arcs += [(b, a) for a, b in arcs]

    def lengths(a, b) -> list[int]:
        """Lengths of every simple walk a -> ... -> b with at least one edge (b may equal a: a cycle)."""
        out = []

        def walk(u, visited, k):
            for x, y in arcs:
                if x != u:
                    continue
                if y == b:
                    out.append(k + 1)
                if y not in visited:
                    walk(y, visited + [y], k + 1)

        walk(a, [a], 0)
        return out

    def holds(claim) -> bool:
        kind = claim[0]
        if kind == "path":
            _, a, b, asserted = claim
            return bool(lengths(a, b)) == asserted
        if kind == "count":
            _, s, k, fwd = claim
            return sum(1 for x in nodes if x != s and (lengths(s, x) if fwd else lengths(x, s))) == k
        if kind == "dist":
            _, a, b, k = claim
            ls = lengths(a, b)
            return bool(ls) and min(ls) == k
        if kind == "route":
            _, r, a, b = claim
            return (r[0] == a and r[-1] == b and len(set(r)) == len(r)
                    and all((u, v) in arcs for u, v in zip(r, r[1:], strict=False)))
        raise ValueError(kind)

    return [holds(c) for c in puzzle.questions[question_index].meta["claims"]]


__all__ = ["LINK_RULES", "PATH_RULES", "THEME_NAMES", "THEMES", "SolvedGraph", "check", "generate"]
