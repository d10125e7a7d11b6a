"""Operations element by element: keep the odd or even ones, map a function, delete a value, insert at a
position."""

from __future__ import annotations

from ..core import MAX_LINES, fold
from ..programs.kit import block, lit
from .op import ATOMS, Op, rule_ref, show, walk


class Filter(Op):
    name, numeric = "filter", True

    def setup(self, rng):
        return {"keep": rng.choice(["odd", "even"])}

    def rules(self, p):
        drop, keep = ("偶数", "奇数") if p["keep"] == "odd" else ("奇数", "偶数")
        return ["如果列表为空，则返回空列表。", f"如果表头是{drop}，则将其删除，继续处理列表中剩余的元素。",
                f"如果表头是{keep}，则将其保留在结果列表中，并继续处理剩余的元素。"]

    def call(self, L, p, qa):
        return f"{'keep_odd' if p['keep'] == 'odd' else 'keep_even'}({show(L)})"

    def trace(self, L, p, qa, r0):
        out, notes = [], []
        for i, x in enumerate(L, 1):
            odd = x % 2 == 1
            if odd == (p["keep"] == "odd"):
                out.append(x)
                notes.append(f"第{i}个元素{x}是{'奇数' if odd else '偶数'}，保留（{rule_ref(r0, 2)}）")
            else:
                notes.append(f"第{i}个元素{x}是{'奇数' if odd else '偶数'}，删除（{rule_ref(r0, 1)}）")
        return out, [*walk(notes), f"列表处理完毕（{rule_ref(r0, 0)}），结果是 {show(out)}。"]

    def desc(self, p, qa):
        return "删除所有偶数（只保留奇数）" if p["keep"] == "odd" else "删除所有奇数（只保留偶数）"

    def near(self, L, p, qa, v):
        other = [x for x in L if (x % 2 == 1) != (p["keep"] == "odd")]
        keep = p["keep"] == "odd"
        dropped = [i for i, x in enumerate(L) if (x % 2 == 1) != keep]
        kept_one = [x for i, x in enumerate(L) if (x % 2 == 1) == keep or i == dropped[0]] if dropped else v
        return [other, list(L), v[:-1], v[1:], v[::-1], kept_one]

    def apply(self, p, L, qa):
        return [x for x in L if x % 2 == (1 if p["keep"] == "odd" else 0)]

    def code(self, f: str, p: dict, loop: bool) -> str:
        keep = 1 if p["keep"] == "odd" else 0
        if loop:
            return block(f"def {f}(L):", f"    return [x for x in L if x % 2 == {keep}]")
        return block(f"def {f}(L):", "    if not L:", "        return []", f"    if L[0] % 2 == {keep}:",
                     f"        return [L[0]] + {f}(L[1:])", f"    return {f}(L[1:])")


class Map(Op):
    name, numeric = "map", True

    def setup(self, rng):
        f = rng.choice(["square", "double", "add"])
        return {"f": f, "k": rng.randint(1, 5) if f == "add" else 0}

    @staticmethod
    def _fn(p) -> tuple[str, str]:
        if p["f"] == "square":
            return "square_all", "H 的平方"
        if p["f"] == "double":
            return "double_all", "H 乘以 2"
        return f"add_{p['k']}", f"H 加上 {p['k']}"

    def rules(self, p):
        name, expr = self._fn(p)
        return [f"{name}([]) = []：空列表处理后仍是空列表。",
                f"{name}([H|T]) = [H2|T2]：其中 H2 是 {expr}，T2 是对 T 继续处理的结果。"]

    def call(self, L, p, qa):
        return f"{self._fn(p)[0]}({show(L)})"

    def trace(self, L, p, qa, r0):
        out, notes = [], []
        for x in L:
            y = x * x if p["f"] == "square" else (x * 2 if p["f"] == "double" else x + p["k"])
            out.append(y)
            notes.append(f"{x} → {y}")
        return out, [f"对每个元素依次应用{rule_ref(r0, 1)}：" + "，".join(notes) + "。",
                     f"到达空列表（{rule_ref(r0, 0)}），结果是 {show(out)}。"]

    def desc(self, p, qa):
        return {"square": "把每个元素平方", "double": "把每个元素乘以 2"}.get(p["f"], f"把每个元素加上 {p['k']}")

    def near(self, L, p, qa, v):
        return [[x * x for x in L], [x * 2 for x in L], [x + p["k"] + 1 for x in L], [x + max(p["k"] - 1, 0) for x in L],
                v[:-1] + L[-1:], L[:1] + v[1:], v[::-1], list(L)]

    def apply(self, p, L, qa):
        return [x ** 2 if p["f"] == "square" else (2 * x if p["f"] == "double" else x + p["k"]) for x in L]

    def code(self, f: str, p: dict, loop: bool) -> str:
        expr = {"square": "x * x", "double": "x * 2"}.get(p["f"], f"x + {p['k']}")
        if loop:
            return block(f"def {f}(L):", f"    return [{expr} for x in L]")
        return block(f"def {f}(L):", "    if not L:", "        return []", "    x = L[0]",
                     f"    return [{expr}] + {f}(L[1:])")


class Delete(Op):
    name, fname, needs_dups = "delete", "delete_all", True

    def call(self, L, p, qa):
        return f"delete_all({show(L)}, {show(qa[0])})"

    def rules(self, p):
        return ["delete_all(L, X) 表示从列表 L 中删除所有等于 X 的元素；从空列表中删除 X，结果是空列表。", "如果表头等于 X，则删除表头，继续处理剩余的元素。",
                "如果表头不等于 X，则保留表头，继续处理剩余的元素。"]

    def qargs(self, rng, L, p):
        dups = [x for x in L if L.count(x) > 1]
        return [rng.choice(dups if dups and rng.random() < 0.8 else L)]

    def trace(self, L, p, qa, r0):
        (x,) = qa
        out, notes = [], []
        for i, y in enumerate(L, 1):
            if y == x:
                notes.append(f"第{i}个元素{show(y)}等于{show(x)}，删除（{rule_ref(r0, 1)}）")
            else:
                out.append(y)
                notes.append(f"第{i}个元素{show(y)}不等于{show(x)}，保留（{rule_ref(r0, 2)}）")
        return out, [*walk(notes), f"结果是 {show(out)}。"]

    def desc(self, p, qa):
        return f"删除所有的 {show(qa[0])}"

    def near(self, L, p, qa, v):
        x = qa[0]
        first = list(L)
        first.remove(x)
        keep1 = [y for i, y in enumerate(L) if y != x or L.index(x) == i]
        return [first, keep1, list(L), v[:-1], [y for y in L if y != L[0]] if L[0] != x else v[1:]]

    def apply(self, p, L, qa):
        return [x for x in L if x != qa[0]]

    def code(self, f: str, p: dict, loop: bool) -> str:
        if loop:
            return block(f"def {f}(L, x):", "    return [y for y in L if y != x]")
        return block(f"def {f}(L, x):", "    if not L:", "        return []", "    if L[0] == x:",
                     f"        return {f}(L[1:], x)", f"    return [L[0]] + {f}(L[1:], x)")

    def code_call(self, f: str, arg: str, qa: list) -> str:
        return f"{f}({arg}, {lit(qa[0])})"


class Insert(Op):
    name, fname = "insert", "insert_at"

    def call(self, L, p, qa):
        return f"insert_at({show(L)}, {qa[1]}, {show(qa[0])})" if qa and qa[0] != "K" else "insert_at(L, K, X)"

    def setup(self, rng):
        return {"base": 1 if rng.random() < 0.75 else 0}

    def rules(self, p):
        b = p["base"]
        return [f"insert_at(L, K, X) 表示在列表 L 的第 K 个位置插入 X；位置从 {b} 开始计数（第 {b} 个位置是表头的位置）。",
                f"在第 {b} 个位置插入 X：X 成为新的表头，原列表接在它后面。",
                f"在第 K 个位置（K > {b}）插入 X：保留表头 H，在剩余列表 T 的第 K-1 个位置插入 X。"]

    def qargs(self, rng, L, p):
        return [rng.choice([x for x in range(1, 20) if x not in L] or [0]) if isinstance(L[0], int)
                else rng.choice([a for a in ATOMS if a not in L]), rng.randint(p["base"], p["base"] + len(L))]

    def trace(self, L, p, qa, r0):
        x, k = qa
        b = p["base"]
        kept, rest, lines = [], list(L), []
        while k > b:
            kept.append(rest.pop(0))
            lines.append(f"K = {k} > {b}，保留表头 {show(kept[-1])}，在 {show(rest)} 的第 {k - 1} 个位置插入（{rule_ref(r0, 2)}）。")
            k -= 1
        lines = fold(lines, MAX_LINES - 2)
        lines.append(f"K = {b}：{show(x)} 成为 {show(rest)} 的新表头，得到 {show([x, *rest])}（{rule_ref(r0, 1)}）。")
        out = kept + [x] + rest
        lines.append(f"再把保留的表头依次放回前面，结果是 {show(out)}。")
        return out, lines

    def desc(self, p, qa):
        return f"在第 {qa[1]} 个位置（从 {p['base']} 开始计数）插入 {show(qa[0])}"

    def near(self, L, p, qa, v):
        x, k = qa
        i = k - p["base"]
        return [L[:i + 1] + [x] + L[i + 1:], L[:max(i - 1, 0)] + [x] + L[max(i - 1, 0):], [x, *L], [*L, x],
                L[:i] + [x] + L[i + 1:]]

    def apply(self, p, L, qa):
        i = qa[1] - p["base"]
        return L[:i] + [qa[0]] + L[i:]

    def code(self, f: str, p: dict, loop: bool) -> str:
        b = p["base"]
        return block(f"def {f}(L, k, x):", f"    if k == {b}:", "        return [x] + L",
                     f"    return [L[0]] + {f}(L[1:], k - 1, x)")

    def code_call(self, f: str, arg: str, qa: list) -> str:
        return f"{f}({arg}, {qa[1]}, {lit(qa[0])})"


OPS = (Filter(), Map(), Delete(), Insert())
