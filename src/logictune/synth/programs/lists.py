"""Programs for list operations defined by rules: each operation the question uses as a function named as
the problem names it (recursive on head and tail as the rules are, or the loop they amount to), the input
as a list, and the result compared with each option as the problem writes lists (``[a, b]``).

The definitions come from each operation's own renderer in the lists registry (``Op.code``); this module
writes what every list program shares: the data, the calls and the ending."""

from __future__ import annotations

import random

from ..core import Puzzle
from ..lists import OPS
from .kit import Names, block, is_yes_no, lit, options_line, program, select, select_equal, select_yes_no


def render(puzzle: Puzzle, qi: int, rng: random.Random) -> str:
    q = puzzle.questions[qi]
    meta = q.meta
    nm = Names(rng)
    fns = {}
    defs = []
    for name, p, _ in meta["ops"]:
        f = OPS[name].label(p)
        fns[name] = f
        code = OPS[name].code(f, p, rng.random() < 0.4)
        if code not in defs:
            defs.append(code)
    rules = "\n\n".join(defs)
    opts, opts_line = options_line(nm, q.options)
    claims = meta["claims"]
    if "inputs" in meta:  # which listed list is a palindrome: the options as lists, each checked
        name = meta["ops"][0][0]
        lists = nm("lists", "candidates_as_lists", "inputs")
        opts_line = f"{lists} = {lit(meta['inputs'])}  # 选项A、B、C…中的列表"
        return program(rules, block(opts_line, select(rng, nm, lists, f"{fns[name]}({{o}})")))
    if OPS[meta["ops"][0][0]].arity == 2:  # two input lists
        a, b = nm("a", "first", "left"), nm("b", "second", "right")
        data = block(f"{a} = {lit(meta['input'][0])}", f"{b} = {lit(meta['input'][1])}")
        expr = f"{a}, {b}"
    else:
        expr = nm("L", "data", "xs", "lst")
        data = f"{expr} = {lit(meta['input'])}"
    for name, _, qa in meta["ops"]:
        expr = OPS[name].code_call(fns[name], expr, qa)
    result = nm("result", "res", "out", "value")
    ask = f"{result} = {expr}"
    post = meta["post"]
    if post == "len":
        ask += f"\n{result} = len({result})"
    elif post is not None:
        ask += f"\n{result} = {lit(post[1])} in {result}"
    if is_yes_no(q.options):
        shown = claims[0].value
        truth = result if isinstance(shown, bool) else f"{result} == {lit(shown)}"
        tail = select_yes_no(rng, nm, opts, truth)
    elif rng.random() < 0.5:
        show = nm("show", "as_text", "fmt")
        rules += "\n\n" + block(f"def {show}(x):", "    return str(x).replace(\"'\", \"\")  # 题目里的写法：[a, b]")
        tail = select_equal(rng, nm, opts, f"{show}({result})")
    else:
        tail = select(rng, nm, opts, f"{{o}} == str({result}).replace(\"'\", \"\")")
    if rng.random() < 0.3:
        return program(rules, data, block(opts_line, ask, tail))
    return program(data, rules, block(opts_line, ask, tail))
