"""Programs for glossary translation: the glossary as a dict, word-by-word translation as a function, then
the asked translation, source sentence, single word or 是/否 on a candidate."""

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


def render(puzzle: Puzzle, qi: int, rng: random.Random) -> str:
    w, q = puzzle.world, puzzle.questions[qi]
    nm = Names(rng)
    gloss, tr = nm("glossary", "vocab", "words"), nm("translate", "word_by_word", "to_target")
    pairs = shuffled(rng, [tuple(p) for p in w["glossary"]], 0.3)
    if rng.random() < 0.5:
        data = f"{gloss} = {{{', '.join(f'{lit(a)}: {lit(b)}' for a, b in pairs)}}}"
    else:
        data = block(f"{gloss} = dict({lit(pairs)})")
    sep = lit(w["sep"])
    if rng.random() < 0.5:
        rules = block(f"def {tr}(sentence):", "    # 按原句顺序逐词替换",
                      f"    return {sep}.join({gloss}[word] for word in sentence.split())")
    else:
        rules = block(f"def {tr}(sentence):", "    out = []", "    for word in sentence.split():",
                      f"        out.append({gloss}[word])  # 逐词查词汇表", f"    return {sep}.join(out)")
    opts, opts_line = options_line(nm, q.options)
    claim = q.meta["claims"][0]
    kind = claim[0]
    if kind == "fwd":
        value = nm("answer", "result", "target")
        ask = f"{value} = {tr}({lit(' '.join(claim[1]))})"
        tail = select_equal(rng, nm, opts, value)
    elif kind == "rev":
        target = nm("target", "given", "translated")
        ask = f"{target} = {lit(claim[1])}"
        tail = select(rng, nm, opts, f"{tr}({{o}}) == {target}")
    elif kind == "yn" and is_yes_no(q.options):
        ask = None
        tail = select_yes_no(rng, nm, opts, f"{tr}({lit(' '.join(claim[1]))}) == {lit(claim[2])}")
    elif kind == "word":
        value = nm("answer", "result", "target")
        ask, rules = f"{value} = {gloss}[{lit(claim[1])}]", None
        tail = select_equal(rng, nm, opts, value)
    else:
        raise ValueError(f"translation claim {kind!r}")
    if rng.random() < 0.3:
        return program(opts_line, data, rules, block(ask, tail))
    return program(data, rules, block(opts_line, ask, tail))
