"""Programs for list operations defined by rules: each operation the question uses as a function named as
the problem names it (recursive on head and tail as the rules are, or the loop they amount to), the input
as a list, and the result compared with each option as the problem writes lists (``[a, b]``)."""

from __future__ import annotations

import random

from ..core import Puzzle
from ..lists import OPS, _label
from .kit import Names, block, is_yes_no, lit, options_line, program, select, select_equal, select_yes_no


def _op_code(name: str, f: str, p: dict, loop: bool) -> str:
    """The definition of one operation, called ``f``, as its rules state it."""
    if name == "reverse":
        if loop:
            return block(f"def {f}(L):", "    acc = []", "    for h in L:", "        acc = [h] + acc  # 表头放到累加器最前面",
                         "    return acc")
        return block("def rev(L, acc):", "    if not L:", "        return acc", "    return rev(L[1:], [L[0]] + acc)",
                     "", f"def {f}(L):", "    return rev(L, [])")
    if name == "sort":
        cmp = ">=" if p["desc"] else "<="
        return block(f"def {f}(L):", "    if not L:", "        return []", f"    s = {f}(L[1:])", "    i = 0",
                     f"    while i < len(s) and s[i] {cmp} L[0]:", "        i += 1", "    return s[:i] + [L[0]] + s[i:]")
    if name == "filter":
        keep = 1 if p["keep"] == "odd" else 0
        if loop:
            return block(f"def {f}(L):", f"    return [x for x in L if x % 2 == {keep}]")
        return block(f"def {f}(L):", "    if not L:", "        return []", f"    if L[0] % 2 == {keep}:",
                     f"        return [L[0]] + {f}(L[1:])", f"    return {f}(L[1:])")
    if name == "map":
        expr = {"square": "x * x", "double": "x * 2"}.get(p["f"], f"x + {p['k']}")
        if loop:
            return block(f"def {f}(L):", f"    return [{expr} for x in L]")
        return block(f"def {f}(L):", "    if not L:", "        return []", "    x = L[0]",
                     f"    return [{expr}] + {f}(L[1:])")
    if name == "dedup":
        return block(f"def {f}(L):", "    out = []", "    for x in L:", "        if x not in out:  # 第一次出现才保留",
                     "            out.append(x)", "    return out")
    if name == "delete":
        if loop:
            return block(f"def {f}(L, x):", "    return [y for y in L if y != x]")
        return block(f"def {f}(L, x):", "    if not L:", "        return []", "    if L[0] == x:",
                     f"        return {f}(L[1:], x)", f"    return [L[0]] + {f}(L[1:], x)")
    if name == "insert":
        b = p["base"]
        return block(f"def {f}(L, k, x):", f"    if k == {b}:", "        return [x] + L",
                     f"    return [L[0]] + {f}(L[1:], k - 1, x)")
    if name == "flatten":
        return block(f"def {f}(L):", "    out = []", "    for h in L:", "        if isinstance(h, list):",
                     f"            out += {f}(h)", "        else:", "            out.append(h)", "    return out")
    if name == "split":
        keep = "L[0]" if p["odd"] else "L[1]"
        if loop:
            return block(f"def {f}(L):", f"    return L[{0 if p['odd'] else 1}::2]")
        return block(f"def {f}(L):", "    if len(L) < 2:", f"        return {'L' if p['odd'] else '[]'}",
                     f"    return [{keep}] + {f}(L[2:])")
    if name == "append":
        if loop:
            return block(f"def {f}(a, b):", "    return a + b")
        return block(f"def {f}(a, b):", "    if not a:", "        return b", f"    return [a[0]] + {f}(a[1:], b)")
    if name == "merge":
        return block(f"def {f}(a, b):", "    if not a or not b:", "        return a or b", "    if a[0] <= b[0]:",
                     f"        return [a[0]] + {f}(a[1:], b)", f"    return [b[0]] + {f}(a, b[1:])")
    if name == "sum":
        if loop:
            return block(f"def {f}(L):", "    total = 0", "    for x in L:", "        total += x", "    return total")
        return block(f"def {f}(L):", "    if not L:", "        return 0", f"    return L[0] + {f}(L[1:])")
    if name == "length":
        if loop:
            return block(f"def {f}(L):", "    n = 0", "    for _ in L:", "        n += 1", "    return n")
        return block(f"def {f}(L):", "    if not L:", "        return 0", f"    return 1 + {f}(L[1:])")
    if name == "extreme":
        pick = "max" if p["max"] else "min"
        if loop:
            return block(f"def {f}(L):", "    best = L[0]", "    for x in L[1:]:",
                         f"        best = {pick}(best, x)", "    return best")
        return block(f"def {f}(L):", "    if len(L) == 1:", "        return L[0]", f"    return {pick}(L[0], {f}(L[1:]))")
    if name == "nth":
        b = p["base"]
        if loop:
            return block(f"def {f}(k, L):", f"    return L[k - {b}]" if b else "    return L[k]")
        return block(f"def {f}(k, L):", f"    if k == {b}:", "        return L[0]", f"    return {f}(k - 1, L[1:])")
    if name == "last":
        if loop:
            return block(f"def {f}(L):", "    return L[-1]")
        return block(f"def {f}(L):", "    if len(L) == 1:", "        return L[0]", f"    return {f}(L[1:])")
    if name == "member":
        if loop:
            return block(f"def {f}(x, L):", "    for h in L:", "        if h == x:", "            return True",
                         "    return False")
        return block(f"def {f}(x, L):", "    if not L:", "        return False", f"    return L[0] == x or {f}(x, L[1:])")
    if name == "palindrome":
        return block(f"def {f}(L):", "    if len(L) <= 1:", "        return True", "    if L[0] != L[-1]:",
                     "        return False", f"    return {f}(L[1:-1])")
    raise ValueError(f"list operation {name!r}")


def _call(name: str, f: str, arg: str, qa: list) -> str:
    """``f`` applied to the list expression ``arg`` with the question's extra arguments, in the rules' order."""
    if name in ("delete",):
        return f"{f}({arg}, {lit(qa[0])})"
    if name == "insert":
        return f"{f}({arg}, {qa[1]}, {lit(qa[0])})"
    if name == "nth":
        return f"{f}({qa[0]}, {arg})"
    if name == "member":
        return f"{f}({lit(qa[0])}, {arg})"
    return f"{f}({arg})"


def render(puzzle: Puzzle, qi: int, rng: random.Random) -> str:
    q = puzzle.questions[qi]
    meta = q.meta
    nm = Names(rng)
    fns = {}
    defs = []
    for name, p, _ in meta["ops"]:
        f = _label(OPS[name], p)
        fns[name] = f
        code = _op_code(name, f, p, rng.random() < 0.4)
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
        expr = _call(name, fns[name], expr, qa)
    result = nm("result", "res", "out", "value")
    ask = f"{result} = {expr}"
    post = meta["post"]
    if post == "len":
        ask += f"\n{result} = len({result})"
    elif post is not None:
        ask += f"\n{result} = {lit(post[1])} in {result}"
    if is_yes_no(q.options):
        shown = claims[0][0]
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
