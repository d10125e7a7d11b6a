"""Operations that reorder a list: reverse, insertion sort, removing duplicates."""

from __future__ import annotations

from ..core import MAX_LINES, fold
from ..programs.kit import block
from .op import Op, rule_ref, show, walk


class Reverse(Op):
    name = fname = "reverse"

    def rules(self, p):
        return ["reverse(L) 调用 rev(L, [])，累加器初始为空列表。", "rev([], A) 的结果就是累加器 A。",
                "rev([H|T], A) 等于 rev(T, [H|A])：把表头 H 放到累加器的最前面，继续处理 T。"]

    def trace(self, L, p, qa, r0):
        acc, rest, lines = [], list(L), [f"reverse({show(L)}) = rev({show(L)}, [])（{rule_ref(r0, 0)}）。"]
        while rest:
            h = rest.pop(0)
            acc = [h, *acc]
            lines.append(f"把 {show(h)} 放到累加器前面：rev({show(rest)}, {show(acc)})（{rule_ref(r0, 2)}）。")
        lines = fold(lines, MAX_LINES - 1)
        lines.append(f"列表已空，结果就是累加器 {show(acc)}（{rule_ref(r0, 1)}）。")
        return acc, lines

    def desc(self, p, qa):
        return "反转"

    def near(self, L, p, qa, v):
        return [list(L), v[1:] + v[:1], [L[0], *L[1:][::-1]], v[:-1]]

    def apply(self, p, L, qa):
        return L[::-1]

    def code(self, f: str, p: dict, loop: bool) -> str:
        if loop:
            return block(f"def {f}(L):", "    acc = []", "    for h in L:", "        acc = [h] + acc  # 表头放到累加器最前面",
                         "    return acc")
        return block("def rev(L, acc):", "    if not L:", "        return acc", "    return rev(L[1:], [L[0]] + acc)",
                     "", f"def {f}(L):", "    return rev(L, [])")


class Sort(Op):
    name, fname, numeric = "sort", "isort", True

    def setup(self, rng):
        return {"desc": rng.random() < 0.3}

    def rules(self, p):
        word = "从大到小" if p["desc"] else "从小到大"
        return [f"isort([]) = []：空列表排序后仍是空列表（按{word}排序）。",
                "isort([H|T])：先把 T 排好序得到 S，再把 H 插入 S 中合适的位置。",
                f"插入时从 S 的表头开始比较，把 H 放在第一个{'小于' if p['desc'] else '大于'} H 的元素前面（没有就放在最后）。"]

    def trace(self, L, p, qa, r0):
        s, notes = [], []
        for h in reversed(L):
            i = 0
            while i < len(s) and ((s[i] >= h) if p["desc"] else (s[i] <= h)):
                i += 1
            s = s[:i] + [h] + s[i:]
            notes.append(f"插入 {h} → {show(s)}")
        lines = [f"从最后一个元素开始，依次把元素插入已排好序的部分（{rule_ref(r0, 1)}、{rule_ref(r0, 2)}）。", *walk(notes, 2)]
        return s, lines

    def desc(self, p, qa):
        return "从大到小排序" if p["desc"] else "从小到大排序"

    def near(self, L, p, qa, v):
        dedup = list(dict.fromkeys(v))
        swapped = v[:]
        if len(v) > 2:
            swapped[1], swapped[2] = swapped[2], swapped[1]
        return [v[::-1], dedup, swapped, list(L), v[:-1]]

    def apply(self, p, L, qa):
        return sorted(L, reverse=p["desc"])

    def code(self, f: str, p: dict, loop: bool) -> str:
        cmp = ">=" if p["desc"] else "<="
        return block(f"def {f}(L):", "    if not L:", "        return []", f"    s = {f}(L[1:])", "    i = 0",
                     f"    while i < len(s) and s[i] {cmp} L[0]:", "        i += 1", "    return s[:i] + [L[0]] + s[i:]")


class Dedup(Op):
    name, fname, needs_dups = "dedup", "remove_duplicates", True

    def rules(self, p):
        return ["空列表去重后是空列表。", "从左到右处理，如果当前元素在它前面已经出现过，则删除它。",
                "否则（第一次出现），保留该元素。"]

    def trace(self, L, p, qa, r0):
        out, notes = [], []
        for i, x in enumerate(L, 1):
            if x in out:
                notes.append(f"第{i}个元素{show(x)}已出现过，删除（{rule_ref(r0, 1)}）")
            else:
                out.append(x)
                notes.append(f"第{i}个元素{show(x)}第一次出现，保留（{rule_ref(r0, 2)}）")
        return out, [*walk(notes), f"结果是 {show(out)}。"]

    def desc(self, p, qa):
        return "删除重复元素（保留第一次出现的）"

    def near(self, L, p, qa, v):
        last = list(reversed(list(dict.fromkeys(reversed(L)))))
        once = [x for x in L if L.count(x) == 1]
        adj = [x for i, x in enumerate(L) if i == 0 or L[i - 1] != x]
        return [last, once, adj, list(L), v[:-1], sorted(v, key=str)]

    def apply(self, p, L, qa):
        return [x for i, x in enumerate(L) if x not in L[:i]]

    def code(self, f: str, p: dict, loop: bool) -> str:
        return block(f"def {f}(L):", "    out = []", "    for x in L:", "        if x not in out:  # 第一次出现才保留",
                     "            out.append(x)", "    return out")


OPS = (Reverse(), Sort(), Dedup())
