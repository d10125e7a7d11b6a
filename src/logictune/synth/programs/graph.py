"""Programs for graphs: the edges as pairs (both ways for two-way links), reachability as a search (or, for
the acyclic "above / inside / before" themes, the things related to one end collected recursively), then
the asked claim, count, shortest distance or valid route."""

from __future__ import annotations

import random

from ..core import Puzzle
from .kit import (
    Names,
    block,
    is_yes_no,
    lit,
    options_line,
    program,
    select,
    select_equal,
    select_yes_no,
    shuffled,
)

# theme -> names for (the edge list, the closure function) and whether the closure runs backwards
THEME_NAMES = {
    "node": (("edges", "graph_edges", "arcs"), ("reachable", "reach", "can_reach_from")),
    "road": (("roads", "edges", "routes"), ("reachable", "reach", "cities_from")),
    "train": (("links", "trains", "edges"), ("reachable", "reach", "cities_from")),
    "stack": (("on", "stacked", "edges"), ("above", "blocks_above", "on_top_of")),
    "inside": (("inside", "contained", "edges"), ("contents", "things_in", "inside_of")),
    "course": (("prereq", "before", "edges"), ("required_for", "prerequisites", "needed_before")),
}
BACKWARD = {"stack", "inside", "course"}


def _search(rng: random.Random, nm: Names, edges: str, fn: str) -> str:
    """Everything reachable from ``s`` along the edges (a graph may have cycles: keep a seen set)."""
    seen, todo = nm("seen", "found", "visited"), nm("todo", "stack", "frontier")
    if rng.random() < 0.5:
        return block(f"def {fn}(s):",
                     f"    {seen}, {todo} = set(), [s]",
                     f"    while {todo}:",
                     f"        u = {todo}.pop()",
                     f"        for a, b in {edges}:",
                     f"            if a == u and b not in {seen}:",
                     f"                {seen}.add(b)",
                     f"                {todo}.append(b)",
                     f"    return {seen}")
    return block(f"def {fn}(s):",
                 f"    {seen} = set()",
                 f"    {todo} = {{s}}",
                 f"    while {todo}:",
                 f"        {todo} = {{b for a, b in {edges} if a in {todo}}} - {seen}",
                 f"        {seen} |= {todo}",
                 f"    return {seen}")


def _collect(rng: random.Random, edges: str, fn: str) -> str:
    """Everything related to ``t`` through a chain of edges ending at ``t`` (these graphs have no cycles)."""
    if rng.random() < 0.5:
        return block(f"def {fn}(t):",
                     f"    direct = {{a for a, b in {edges} if b == t}}",
                     f"    return direct.union(*[{fn}(a) for a in direct])")
    return block(f"def {fn}(t):",
                 "    out = set()",
                 f"    for a, b in {edges}:",
                 "        if b == t:",
                 f"            out |= {{a}} | {fn}(a)",
                 "    return out")


def _distance(nm: Names, edges: str) -> tuple[str, str]:
    fn = nm("distance", "fewest_steps", "shortest")
    return fn, block(f"def {fn}(a, b):",
                     "    layer, seen, k = {a}, {a}, 0",
                     "    while layer:",
                     "        k += 1",
                     f"        layer = {{y for x, y in {edges} if x in layer}} - seen",
                     "        if b in layer:",
                     "            return k",
                     "        seen |= layer",
                     "    return None")


def render(puzzle: Puzzle, qi: int, rng: random.Random) -> str:
    w, q = puzzle.world, puzzle.questions[qi]
    theme = w["theme"]
    nm = Names(rng)
    edge_names, fn_names = THEME_NAMES[theme]
    edges, fn = nm(*edge_names), nm(*fn_names)
    back = theme in BACKWARD
    comment = f"# (a, b): {w['edge_form'].format(a='a', b='b')}" if rng.random() < 0.6 else None
    data = block(comment, f"{edges} = {lit([tuple(e) for e in shuffled(rng, w['edges'])])}")
    if w["undirected"]:
        data += "\n" + f"{edges} += [(b, a) for a, b in {edges}]  # 双向"
    opts, opts_line = options_line(nm, q.options)
    claims = q.meta["claims"]
    kind = claims[0][0]
    rules = _collect(rng, edges, fn) if back else _search(rng, nm, edges, fn)

    def related(x: str, y: str) -> str:  # the code for path(x, y)
        return f"{lit(x)} in {fn}({lit(y)})" if back else f"{lit(y)} in {fn}({lit(x)})"

    if kind == "path" and is_yes_no(q.options):
        _, a, b, _ = claims[0]
        ask, tail = None, select_yes_no(rng, nm, opts, related(a, b))
    elif kind == "path":  # which option is (not) related to the fixed end
        fixed = claims[0][1] if not back else claims[0][2]
        negate = not claims[0][3]
        group = nm("group", "related", "hits_set", "them")
        ask = f"{group} = {fn}({lit(fixed)})"
        tail = select(rng, nm, opts, "{o} " + ("not in " if negate else "in ") + group)
    elif kind == "count":
        _, s, _, _ = claims[0]
        n = nm("count", "n", "total")
        ask = f"{n} = len({fn}({lit(s)}) - {{{lit(s)}}})" if not back else f"{n} = len({fn}({lit(s)}))"
        tail = select(rng, nm, opts, f"int({{o}}) == {n}") if rng.random() < 0.5 else \
            select_equal(rng, nm, opts, f"str({n})")
        if not back and rng.random() < 0.5:  # the count does not need the search: a distance-free form
            ask = f"{n} = sum(1 for x in {{v for e in {edges} for v in e}} if x != {lit(s)} and x in {fn}({lit(s)}))"
    elif kind == "dist":
        _, a, b, _ = claims[0]
        dfn, rules = _distance(nm, edges)
        n = nm("steps", "k", "d")
        ask = f"{n} = {dfn}({lit(a)}, {lit(b)})"
        tail = select(rng, nm, opts, f"int({{o}}) == {n}")
    elif kind == "route":
        route, option = claims[0][1], q.options[0]
        arrow = option[len(route[0]):option.index(route[1], len(route[0]))].strip()
        valid = nm("valid", "is_route", "ok_route")
        start, end = claims[0][2], claims[0][3]
        rules = block(f"def {valid}(route):",
                      "    # 从起点出发、到终点为止，每一段都要有直接连接，且不重复经过同一个地方",
                      f"    return route[0] == {lit(start)} and route[-1] == {lit(end)} and len(set(route)) == len(route) \\",
                      f"        and all((a, b) in {edges} for a, b in zip(route, route[1:]))")
        ask = None
        tail = select(rng, nm, opts, f"{valid}([x.strip() for x in {{o}}.split({lit(arrow)})])")
    else:
        raise ValueError(f"graph claim {kind!r}")
    if rng.random() < 0.3:
        return program(opts_line, data, rules, block(ask, tail))
    return program(data, rules, block(opts_line, ask, tail))
