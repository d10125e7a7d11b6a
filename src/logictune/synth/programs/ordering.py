"""Programs for orderings: the "A比B高" facts as pairs, the transitive comparison as a function (or the
chain walked from its top), then the asked extreme, rank, comparison or true statement."""

from __future__ import annotations

import random

from ..core import Puzzle
from .kit import Names, block, lit, options_line, program, select, select_equal, select_yes_no, shuffled

# the relation's template -> names for "a comes before b" in it
VERBS = {
    "{a}比{b}高": ("taller", "is_taller", "higher"),
    "{a}比{b}年龄大": ("older", "is_older", "older_than"),
    "{a}跑得比{b}快": ("faster", "is_faster", "runs_faster"),
    "{a}在{b}的西边": ("west_of", "is_west_of", "more_west"),
    "{a}比{b}早到": ("earlier", "arrived_before", "is_earlier"),
    "{a}比{b}大": ("bigger", "is_bigger", "larger"),
}


def render(puzzle: Puzzle, qi: int, rng: random.Random) -> str:
    w, q = puzzle.world, puzzle.questions[qi]
    rel = w["relation"]
    nm = Names(rng)
    facts = nm("facts", "pairs", "known", "given")
    data = block(f"# ({'a'}, {'b'}): {rel.format(a='a', b='b')}" if rng.random() < 0.6 else None,
                 f"{facts} = {lit([tuple(p) for p in shuffled(rng, w['facts'])])}")
    opts, opts_line = options_line(nm, q.options)
    claims = q.meta["claims"]
    kind = claims[0][0]
    chain = rng.random() < 0.5  # walk the chain of direct pairs, or define the transitive relation
    fn = nm(*VERBS[rel], "ahead_of")
    order = nm("order", "ranking", "line", "seq")
    if chain:
        nxt = nm("below", "next_of", "after")
        top = nm("top", "first", "head")
        rules = block(f"{nxt} = dict({facts})  # 每个人紧挨着的下一个",
                      f"{top} = next(x for x in {nxt} if x not in {nxt}.values())  # 没有人在它前面",
                      f"{order} = [{top}]",
                      f"while {order}[-1] in {nxt}:",
                      f"    {order}.append({nxt}[{order}[-1]])")
        if kind == "gt":
            rules += "\n\n" + block(f"def {fn}(a, b):", f"    return {order}.index(a) < {order}.index(b)")
    else:
        if rng.random() < 0.5:
            rules = block(f"def {fn}(a, b):",
                          f"    return any(x == a and (y == b or {fn}(y, b)) for x, y in {facts})")
        else:
            rules = block(f"def {fn}(a, b):",
                          f"    for x, y in {facts}:",
                          f"        if x == a and (y == b or {fn}(y, b)):",
                          "            return True",
                          "    return False")
        if kind in ("extreme", "rank"):
            everyone = nm("names", "everyone", "items")
            rules += "\n\n" + block(f"{everyone} = {{x for pair in {facts} for x in pair}}",
                                    "# 前面的人越少，排得越靠前",
                                    f"{order} = sorted({everyone}, key=lambda x: sum({fn}(y, x) for y in {everyone}))")
    if kind == "extreme":
        value = nm("answer", "who", "result")
        ask = f"{value} = {order}[{0 if claims[0][2] else -1}]"
        tail = select_equal(rng, nm, opts, value)
    elif kind == "rank":
        value = nm("answer", "who", "result")
        ask = f"{value} = {order}[{claims[0][2]}]  # position {claims[0][2] + 1}"
        tail = select_equal(rng, nm, opts, value)
    elif sorted(q.options) == ["否", "是"]:
        _, a, b, _ = claims[0]
        ask = None
        tail = select_yes_no(rng, nm, opts, f"{fn}({lit(a)}, {lit(b)})")
    else:  # which statement is true: every true statement, in the problem's words
        say = f'f"{rel}"'
        true = nm("true_statements", "facts_true", "holds")
        if chain:
            ask = f"{true} = {{{say} for i, a in enumerate({order}) for b in {order}[i + 1:]}}"
        else:
            everyone = nm("names", "everyone", "items")
            ask = block(f"{everyone} = {{x for pair in {facts} for x in pair}}",
                        f"{true} = {{{say} for a in {everyone} for b in {everyone} if {fn}(a, b)}}")
        tail = select(rng, nm, opts, "{o} in " + true)
    if rng.random() < 0.3:
        return program(opts_line, data, rules, block(ask, tail))
    return program(data, rules, block(opts_line, ask, tail))
