"""Programs for kinship: the parent pairs and the men as data, each relation the question needs as a
function ``rel(a, b)`` ("a is b's rel") built on the ones below it, then the asked set, count, relation,
true statement or generation."""

from __future__ import annotations

import random

from ..core import Puzzle
from ..kinship import GEN_WORDS, WORDS
from .kit import (
    Names,
    block,
    is_yes_no,
    lit,
    members_fn,
    options_line,
    program,
    select,
    select_equal,
    select_yes_no,
    shuffled,
)

# relation -> (what it is defined from, its body over a and b); P is the parent-pair list, M the men
DEFS = {
    "parent": ((), "(a, b) in {P}"),
    "father": (("parent",), "parent(a, b) and a in {M}"),
    "mother": (("parent",), "parent(a, b) and a not in {M}"),
    "child": (("parent",), "parent(b, a)"),
    "son": (("parent",), "parent(b, a) and a in {M}"),
    "daughter": (("parent",), "parent(b, a) and a not in {M}"),
    "grandparent": (("parent",), "any(parent(a, z) and parent(z, b) for z in {PEOPLE})"),
    "grandfather": (("grandparent",), "grandparent(a, b) and a in {M}"),
    "grandmother": (("grandparent",), "grandparent(a, b) and a not in {M}"),
    "grandchild": (("grandparent",), "grandparent(b, a)"),
    "grandson": (("grandparent",), "grandparent(b, a) and a in {M}"),
    "granddaughter": (("grandparent",), "grandparent(b, a) and a not in {M}"),
    "sibling": (("parent",), "a != b and any(parent(z, a) and parent(z, b) for z in {PEOPLE})"),
    "brother": (("sibling",), "sibling(a, b) and a in {M}"),
    "sister": (("sibling",), "sibling(a, b) and a not in {M}"),
    "uncle": (("parent", "sibling"), "a in {M} and any(parent(z, b) and sibling(a, z) for z in {PEOPLE})"),
    "aunt": (("parent", "sibling"), "a not in {M} and any(parent(z, b) and sibling(a, z) for z in {PEOPLE})"),
    "cousin": (("parent", "sibling"),
               "any(parent(p, a) and parent(q, b) and sibling(p, q) for p in {PEOPLE} for q in {PEOPLE})"),
    "ancestor": (("parent",), "parent(a, b) or any(parent(a, z) and ancestor(z, b) for z in {PEOPLE})"),
}
SYMMETRIC = ("sibling", "cousin")  # said "a和b是…" rather than "a是b的…"


def _needed(rels) -> list[str]:
    """The relations to define, each after the ones it is defined from."""
    out: list[str] = []

    def add(r: str) -> None:
        for d in DEFS[r][0]:
            add(d)
        if r not in out:
            out.append(r)

    for r in rels:
        add(r)
    return out


def _defs(rels, P: str, M: str, people: str, rng: random.Random) -> str:
    out = []
    for r in _needed(rels):
        body = DEFS[r][1].replace("{PEOPLE}", people).replace("{P}", P).replace("{M}", M)
        if rng.random() < 0.25 and " for " not in body and r != "parent":
            out.append(f"{r} = lambda a, b: {body}")  # a one-line definition as a lambda
        else:
            out.append(block(f"def {r}(a, b):", f"    return {body}"))
    return "\n\n".join(out)


def render(puzzle: Puzzle, qi: int, rng: random.Random) -> str:
    w, q = puzzle.world, puzzle.questions[qi]
    nm = Names(rng)
    P, M, people = nm("parents", "parent_of", "P"), nm("male", "men", "males"), nm("people", "everyone", "family")
    words = {**WORDS, "aunt": w["aunt"]}
    data = block(f"# ({'a'}, {'b'}): a是b的父亲或母亲" if rng.random() < 0.6 else None,
                 f"{P} = {lit([tuple(p) for p in shuffled(rng, w['parent'])])}",
                 f"{M} = {lit(sorted(w['male']))}" if rng.random() < 0.5 else f"{M} = set({lit(sorted(w['male']))})",
                 f"{people} = {lit(shuffled(rng, w['people']))}")
    opts, opts_line = options_line(nm, q.options)
    claims = q.meta["claims"]
    kind = claims[0][0]
    if kind == "gen":
        _, x, y, _ = claims[0]
        k = nm("generations", "levels", "depth")
        rules = block(f"def {k}(x, y):", "    # 从x往下一层层找子女，第几层遇到y就是第几代；找不到说明不是祖先",
                      "    layer, n = {x}, 0", "    while layer:", "        n += 1",
                      f"        layer = {{b for a, b in {P} if a in layer}}", "        if y in layer:", "            return n",
                      "    return 0")
        value = nm("answer", "result", "text")
        ask = block(f"n = {k}({lit(x)}, {lit(y)})",
                    f"{value} = {lit(GEN_WORDS)}[n - 1] if n else {lit(x + '不是' + y + '的祖先')}")
        return program(data, rules, block(opts_line, ask, select_equal(rng, nm, opts, value)))
    if kind == "holds" and is_yes_no(q.options):
        _, rel, x, y, _ = claims[0]
        rules = _defs([rel], P, M, people, rng)
        ask, tail = None, select_yes_no(rng, nm, opts, f"{rel}({lit(x)}, {lit(y)})")
    elif kind == "holds":  # which relation, or which statement: every true one in the problem's words
        rels = list(dict.fromkeys(c[1] for c in claims))
        rules = _defs(rels, P, M, people, rng)
        names = nm("words", "relations", "rel_words")
        table = "{" + ", ".join(f"{lit(words[r])}: {r}" for r in rels) + "}"
        true = nm("true", "holds", "facts")
        if all(o in words.values() for o in q.options):
            _, _, x, y, _ = claims[0]
            ask = block(f"{names} = {table}", f"{true} = [word for word, rel in {names}.items() if rel({lit(x)}, {lit(y)})]")
        else:
            sym = lit(tuple(words[r] for r in SYMMETRIC))
            ask = block(f"{names} = {table}",
                        f"{true} = {{f\"{{a}}和{{b}}是{{word}}\" if word in {sym} else f\"{{a}}是{{b}}的{{word}}\"",
                        f"        for word, rel in {names}.items() for a in {people} for b in {people} if rel(a, b)}}")
        tail = select(rng, nm, opts, "{o} in " + true)
    elif kind == "set":  # everyone who is rel of y (or, inverse, whom x is rel of)
        _, rel, anchor, _, inverse = claims[0]
        rules = _defs([rel], P, M, people, rng)
        found = nm("found", "answer_set", "who")
        cond = f"{rel}({lit(anchor)}, p)" if inverse else f"{rel}(p, {lit(anchor)})"
        split, split_def = members_fn(nm, "没有符合条件的人")
        rules += "\n\n" + split_def
        ask = f"{found} = {{p for p in {people} if {cond}}}"
        tail = select(rng, nm, opts, f"{split}({{o}}) == {found}")
    elif kind == "count":
        _, rel, y, _ = claims[0]
        rules = _defs([rel], P, M, people, rng)
        n = nm("count", "n", "total")
        ask = f"{n} = sum(1 for p in {people} if {rel}(p, {lit(y)}))"
        tail = select_equal(rng, nm, opts, f'f"{{{n}}}个"') if rng.random() < 0.5 else \
            select(rng, nm, opts, f'int({{o}}.rstrip("个")) == {n}')
    elif kind == "exists":
        _, rel, y, _ = claims[0]
        rules = _defs([rel], P, M, people, rng)
        ask, tail = None, select_yes_no(rng, nm, opts, f"any({rel}(p, {lit(y)}) for p in {people})")
    else:
        raise ValueError(f"kinship claim {kind!r}")
    return program(data, rules, block(opts_line, ask, tail))
