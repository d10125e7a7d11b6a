"""Operations on a list's structure: flatten nested lists, split by position, append two lists, merge two
sorted ones."""

from __future__ import annotations

from ..core import MAX_LINES, fold
from ..programs.kit import block
from .op import Op, rule_ref, show, walk


def _flatten_direct(x) -> list:
    out, stack = [], [iter(x)]
    while stack:
        for y in stack[-1]:
            if isinstance(y, list):
                stack.append(iter(y))
                break
            out.append(y)
        else:
            stack.pop()
    return out


class Flatten(Op):
    name, fname, nested = "flatten", "flatten", True

    def rules(self, p):
        return ["flatten([]) = []。", "如果表头 H 是一个列表，则结果是 flatten(H) 后面接上 flatten(T)。",
                "如果表头 H 不是列表，则结果是 [H] 后面接上 flatten(T)。"]

    def trace(self, L, p, qa, r0):
        notes = []

        def flat(x):
            out = []
            for y in x:
                if isinstance(y, list):
                    out += flat(y)
                else:
                    out.append(y)
            return out

        out = []
        for y in L:
            if isinstance(y, list):
                part = flat(y)
                notes.append(f"{show(y)} 是列表，展开为 {', '.join(map(show, part))}（{rule_ref(r0, 1)}）")
                out += part
            else:
                notes.append(f"{show(y)} 不是列表，保留（{rule_ref(r0, 2)}）")
                out.append(y)
        return out, [*walk(notes), f"到达空列表（{rule_ref(r0, 0)}），结果是 {show(out)}。"]

    def desc(self, p, qa):
        return "展开（扁平化）"

    def near(self, L, p, qa, v):
        one = []
        for y in L:
            one += y if isinstance(y, list) else [y]
        no_nested = [y for y in L if not isinstance(y, list)]
        return [one, no_nested, v[::-1], v[:-1], sorted(v, key=str)]

    def apply(self, p, L, qa):
        return _flatten_direct(L)

    def code(self, f: str, p: dict, loop: bool) -> str:
        return block(f"def {f}(L):", "    out = []", "    for h in L:", "        if isinstance(h, list):",
                     f"            out += {f}(h)", "        else:", "            out.append(h)", "    return out")


class Split(Op):
    name = "split"

    def setup(self, rng):
        return {"odd": rng.random() < 0.6}

    def rules(self, p):
        if p["odd"]:
            return ["空列表或只有一个元素的列表，结果就是它本身。",
                    "否则，保留第 1 个元素，删除第 2 个元素，对剩下的列表重复这一过程（即删除每第二个元素）。"]
        return ["空列表或只有一个元素的列表，结果是空列表。",
                "否则，删除第 1 个元素，保留第 2 个元素，对剩下的列表重复这一过程（即只保留偶数位置的元素）。"]

    def call(self, L, p, qa):
        return f"{'odd_positions' if p['odd'] else 'even_positions'}({show(L)})"

    def trace(self, L, p, qa, r0):
        out, notes, rest = [], [], list(L)
        pos = 1
        while len(rest) >= 2:
            a, b = rest[0], rest[1]
            keep = a if p["odd"] else b
            out.append(keep)
            notes.append(f"第{pos}、{pos + 1}个元素是 {show(a)}、{show(b)}，保留 {show(keep)}（{rule_ref(r0, 1)}）")
            rest = rest[2:]
            pos += 2
        if rest and p["odd"]:
            out.append(rest[0])
            notes.append(f"只剩第{pos}个元素 {show(rest[0])}，保留（{rule_ref(r0, 0)}）")
        elif rest:
            notes.append(f"只剩第{pos}个元素 {show(rest[0])}，结果为空（{rule_ref(r0, 0)}）")
        return out, [*walk(notes, 2), f"结果是 {show(out)}。"]

    def desc(self, p, qa):
        return "删除每第二个元素（只保留第1、3、5…个）" if p["odd"] else "只保留偶数位置（第2、4、6…个）的元素"

    def near(self, L, p, qa, v):
        return [L[1::2] if p["odd"] else L[0::2], v[:-1], v[::-1], L[: len(L) // 2], L[0::3]]

    def apply(self, p, L, qa):
        return L[0::2] if p["odd"] else L[1::2]

    def code(self, f: str, p: dict, loop: bool) -> str:
        keep = "L[0]" if p["odd"] else "L[1]"
        if loop:
            return block(f"def {f}(L):", f"    return L[{0 if p['odd'] else 1}::2]")
        return block(f"def {f}(L):", "    if len(L) < 2:", f"        return {'L' if p['odd'] else '[]'}",
                     f"    return [{keep}] + {f}(L[2:])")


class Append(Op):
    name, fname, arity = "append", "append", 2

    def rules(self, p):
        return ["append([], L, L)：空列表与列表 L 连接的结果是 L。",
                "append([H|T], L, [H|R])：如果 T 与 L 连接的结果是 R，则 [H|T] 与 L 连接的结果是 [H|R]。"]

    def trace(self, L, p, qa, r0):
        a, b = L
        lines, heads, rest = [], [], list(a)
        while rest:
            heads.append(rest.pop(0))
            lines.append(f"取出表头 {show(heads[-1])}，继续连接 {show(rest)} 与 {show(b)}（{rule_ref(r0, 1)}）。")
        lines = fold(lines, MAX_LINES - 2)
        lines.append(f"append([], {show(b)}) = {show(b)}（{rule_ref(r0, 0)}）。")
        out = heads + list(b)
        lines.append(f"把取出的表头按顺序放回前面：{show(out)}。")
        return out, lines

    def desc(self, p, qa):
        return "连接"

    def near(self, L, p, qa, v):
        a, b = L
        return [b + a, a + b[::-1], a[::-1] + b, v[:-1], a + b[1:], sorted(v, key=str)]

    def apply(self, p, L, qa):
        return L[0] + L[1]

    def code(self, f: str, p: dict, loop: bool) -> str:
        if loop:
            return block(f"def {f}(a, b):", "    return a + b")
        return block(f"def {f}(a, b):", "    if not a:", "        return b", f"    return [a[0]] + {f}(a[1:], b)")


class Merge(Op):
    name, fname, arity, numeric = "merge", "merge", 2, True

    def rules(self, p):
        return ["如果其中一个列表为空，则合并的结果是另一个列表。",
                "如果第一个列表的表头小于或等于第二个列表的表头，则取出第一个列表的表头放入结果，继续合并剩余部分。",
                "否则，取出第二个列表的表头放入结果，继续合并剩余部分。"]

    def trace(self, L, p, qa, r0):
        a, b = list(L[0]), list(L[1])
        out, notes = [], []
        while a and b:
            if a[0] <= b[0]:
                notes.append(f"{a[0]} ≤ {b[0]}，取 {a[0]}（{rule_ref(r0, 1)}）")
                out.append(a.pop(0))
            else:
                notes.append(f"{a[0]} > {b[0]}，取 {b[0]}（{rule_ref(r0, 2)}）")
                out.append(b.pop(0))
        rest = a or b
        out += rest
        return out, [*walk(notes), f"一个列表已空，接上另一个列表剩下的 {show(rest)}（{rule_ref(r0, 0)}），结果是 {show(out)}。"]

    def desc(self, p, qa):
        return "合并（两个列表都已从小到大排好序）"

    def near(self, L, p, qa, v):
        a, b = L
        return [a + b, b + a, v[::-1], list(dict.fromkeys(v)), v[:-1]]

    def apply(self, p, L, qa):
        return sorted(L[0] + L[1])

    def code(self, f: str, p: dict, loop: bool) -> str:
        return block(f"def {f}(a, b):", "    if not a or not b:", "        return a or b", "    if a[0] <= b[0]:",
                     f"        return [a[0]] + {f}(a[1:], b)", f"    return [b[0]] + {f}(a, b[1:])")


OPS = (Flatten(), Split(), Append(), Merge())
