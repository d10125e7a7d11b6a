"""List operations defined by rules, as in the real data: append, reverse, sort, filter odd/even, map,
remove duplicates, delete, insert, flatten, split by position, merge sorted lists, sum, length,
max/min, n-th element, last element, membership, palindromes, and compositions ("先…再…").

Program: each operation is a recursive predicate stated as numbered rules (an empty-list base case
and a head/tail case). The solver walks the input the way the rules do and keeps the trace
("第1个元素3是奇数，删除（规则2）" ...).
Checker: Python's own list operations (slicing, ``sorted``, comprehensions, ``in``) on the query kept
in ``q.meta``; it shares no code with the tracer.

``q.meta = {"ops": [[name, params, qargs], ...], "input": L, "post": None | "len" | ["member", x],
"claims": [[value, asserted], ...]}``: option i is true when ``(result == value) == asserted``.
"""

from __future__ import annotations

import random

from .core import (
    MAX_LINES,
    Difficulty,
    Puzzle,
    Rejected,
    Style,
    SynthQuestion,
    collect_questions,
    fold,
    make_options,
    n_options,
    pick_distractors,
    problem_text,
    yes_no,
)

ATOMS = list("abcdefghijkmnpqrstuvwxyz")


def show(x) -> str:
    """``[3, 1, 4]``, ``[a, b, c]``, ``[1, [2, 3]]``; a scalar as itself."""
    return str(x).replace("'", "")  # atoms are bare letters, so dropping repr's quotes is enough


def _walk(items: list[str], per_line: int = 3) -> list[str]:
    """Per-element notes, a few to a line."""
    return fold(["；".join(items[i:i + per_line]) + "。" for i in range(0, len(items), per_line)], MAX_LINES - 1)


# ================================================================ operations
# Each op: rules(params, r0) -> rule lines (r0 = number of its first rule in the problem),
# trace(L, params, qargs, r0) -> (value, steps), desc(params, qargs) -> a verb phrase,
# out: "list" | "value" | "bool", arity 1 or 2 (two lists), numeric: needs integers.


def _r(r0: int, k: int) -> str:
    return f"规则{r0 + k}"


class Op:
    name = ""
    fname = ""
    out = "list"
    arity = 1
    numeric = False
    needs_dups = False
    nested = False

    def setup(self, rng: random.Random) -> dict:
        return {}

    def rules(self, p: dict) -> list[str]:
        raise NotImplementedError

    def qargs(self, rng: random.Random, L: list, p: dict) -> list:
        return []

    def trace(self, L, p, qa, r0):
        raise NotImplementedError

    def desc(self, p, qa) -> str:
        raise NotImplementedError

    def near(self, L, p, qa, v) -> list:
        return []

    def call(self, L, p, qa) -> str:
        args = [show(x) for x in (L if self.arity == 2 else [L])] + [show(x) for x in qa]
        return f"{self.fname}({', '.join(args)})"


class Reverse(Op):
    name = fname = "reverse"

    def rules(self, p):
        return ["reverse(L) 调用 rev(L, [])，累加器初始为空列表。", "rev([], A) 的结果就是累加器 A。",
                "rev([H|T], A) 等于 rev(T, [H|A])：把表头 H 放到累加器的最前面，继续处理 T。"]

    def trace(self, L, p, qa, r0):
        acc, rest, lines = [], list(L), [f"reverse({show(L)}) = rev({show(L)}, [])（{_r(r0, 0)}）。"]
        while rest:
            h = rest.pop(0)
            acc = [h, *acc]
            lines.append(f"把 {show(h)} 放到累加器前面：rev({show(rest)}, {show(acc)})（{_r(r0, 2)}）。")
        lines = fold(lines, MAX_LINES - 1)
        lines.append(f"列表已空，结果就是累加器 {show(acc)}（{_r(r0, 1)}）。")
        return acc, lines

    def desc(self, p, qa):
        return "反转"

    def near(self, L, p, qa, v):
        return [list(L), v[1:] + v[:1], [L[0], *L[1:][::-1]], v[:-1]]


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
        lines = [f"从最后一个元素开始，依次把元素插入已排好序的部分（{_r(r0, 1)}、{_r(r0, 2)}）。", *_walk(notes, 2)]
        return s, lines

    def desc(self, p, qa):
        return "从大到小排序" if p["desc"] else "从小到大排序"

    def near(self, L, p, qa, v):
        dedup = list(dict.fromkeys(v))
        swapped = v[:]
        if len(v) > 2:
            swapped[1], swapped[2] = swapped[2], swapped[1]
        return [v[::-1], dedup, swapped, list(L), v[:-1]]


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
                notes.append(f"第{i}个元素{x}是{'奇数' if odd else '偶数'}，保留（{_r(r0, 2)}）")
            else:
                notes.append(f"第{i}个元素{x}是{'奇数' if odd else '偶数'}，删除（{_r(r0, 1)}）")
        return out, [*_walk(notes), f"列表处理完毕（{_r(r0, 0)}），结果是 {show(out)}。"]

    def desc(self, p, qa):
        return "删除所有偶数（只保留奇数）" if p["keep"] == "odd" else "删除所有奇数（只保留偶数）"

    def near(self, L, p, qa, v):
        other = [x for x in L if (x % 2 == 1) != (p["keep"] == "odd")]
        keep = p["keep"] == "odd"
        dropped = [i for i, x in enumerate(L) if (x % 2 == 1) != keep]
        kept_one = [x for i, x in enumerate(L) if (x % 2 == 1) == keep or i == dropped[0]] if dropped else v
        return [other, list(L), v[:-1], v[1:], v[::-1], kept_one]


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
        return out, [f"对每个元素依次应用{_r(r0, 1)}：" + "，".join(notes) + "。",
                     f"到达空列表（{_r(r0, 0)}），结果是 {show(out)}。"]

    def desc(self, p, qa):
        return {"square": "把每个元素平方", "double": "把每个元素乘以 2"}.get(p["f"], f"把每个元素加上 {p['k']}")

    def near(self, L, p, qa, v):
        return [[x * x for x in L], [x * 2 for x in L], [x + p["k"] + 1 for x in L], [x + max(p["k"] - 1, 0) for x in L],
                v[:-1] + L[-1:], L[:1] + v[1:], v[::-1], list(L)]


class Dedup(Op):
    name, fname, needs_dups = "dedup", "remove_duplicates", True

    def rules(self, p):
        return ["空列表去重后是空列表。", "从左到右处理，如果当前元素在它前面已经出现过，则删除它。",
                "否则（第一次出现），保留该元素。"]

    def trace(self, L, p, qa, r0):
        out, notes = [], []
        for i, x in enumerate(L, 1):
            if x in out:
                notes.append(f"第{i}个元素{show(x)}已出现过，删除（{_r(r0, 1)}）")
            else:
                out.append(x)
                notes.append(f"第{i}个元素{show(x)}第一次出现，保留（{_r(r0, 2)}）")
        return out, [*_walk(notes), f"结果是 {show(out)}。"]

    def desc(self, p, qa):
        return "删除重复元素（保留第一次出现的）"

    def near(self, L, p, qa, v):
        last = list(reversed(list(dict.fromkeys(reversed(L)))))
        once = [x for x in L if L.count(x) == 1]
        adj = [x for i, x in enumerate(L) if i == 0 or L[i - 1] != x]
        return [last, once, adj, list(L), v[:-1], sorted(v, key=str)]


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
                notes.append(f"第{i}个元素{show(y)}等于{show(x)}，删除（{_r(r0, 1)}）")
            else:
                out.append(y)
                notes.append(f"第{i}个元素{show(y)}不等于{show(x)}，保留（{_r(r0, 2)}）")
        return out, [*_walk(notes), f"结果是 {show(out)}。"]

    def desc(self, p, qa):
        return f"删除所有的 {show(qa[0])}"

    def near(self, L, p, qa, v):
        x = qa[0]
        first = list(L)
        first.remove(x)
        keep1 = [y for i, y in enumerate(L) if y != x or L.index(x) == i]
        return [first, keep1, list(L), v[:-1], [y for y in L if y != L[0]] if L[0] != x else v[1:]]


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
            lines.append(f"K = {k} > {b}，保留表头 {show(kept[-1])}，在 {show(rest)} 的第 {k - 1} 个位置插入（{_r(r0, 2)}）。")
            k -= 1
        lines = fold(lines, MAX_LINES - 2)
        lines.append(f"K = {b}：{show(x)} 成为 {show(rest)} 的新表头，得到 {show([x, *rest])}（{_r(r0, 1)}）。")
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
                notes.append(f"{show(y)} 是列表，展开为 {', '.join(map(show, part))}（{_r(r0, 1)}）")
                out += part
            else:
                notes.append(f"{show(y)} 不是列表，保留（{_r(r0, 2)}）")
                out.append(y)
        return out, [*_walk(notes), f"到达空列表（{_r(r0, 0)}），结果是 {show(out)}。"]

    def desc(self, p, qa):
        return "展开（扁平化）"

    def near(self, L, p, qa, v):
        one = []
        for y in L:
            one += y if isinstance(y, list) else [y]
        no_nested = [y for y in L if not isinstance(y, list)]
        return [one, no_nested, v[::-1], v[:-1], sorted(v, key=str)]


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
            notes.append(f"第{pos}、{pos + 1}个元素是 {show(a)}、{show(b)}，保留 {show(keep)}（{_r(r0, 1)}）")
            rest = rest[2:]
            pos += 2
        if rest and p["odd"]:
            out.append(rest[0])
            notes.append(f"只剩第{pos}个元素 {show(rest[0])}，保留（{_r(r0, 0)}）")
        elif rest:
            notes.append(f"只剩第{pos}个元素 {show(rest[0])}，结果为空（{_r(r0, 0)}）")
        return out, [*_walk(notes, 2), f"结果是 {show(out)}。"]

    def desc(self, p, qa):
        return "删除每第二个元素（只保留第1、3、5…个）" if p["odd"] else "只保留偶数位置（第2、4、6…个）的元素"

    def near(self, L, p, qa, v):
        return [L[1::2] if p["odd"] else L[0::2], v[:-1], v[::-1], L[: len(L) // 2], L[0::3]]


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
            lines.append(f"取出表头 {show(heads[-1])}，继续连接 {show(rest)} 与 {show(b)}（{_r(r0, 1)}）。")
        lines = fold(lines, MAX_LINES - 2)
        lines.append(f"append([], {show(b)}) = {show(b)}（{_r(r0, 0)}）。")
        out = heads + list(b)
        lines.append(f"把取出的表头按顺序放回前面：{show(out)}。")
        return out, lines

    def desc(self, p, qa):
        return "连接"

    def near(self, L, p, qa, v):
        a, b = L
        return [b + a, a + b[::-1], a[::-1] + b, v[:-1], a + b[1:], sorted(v, key=str)]


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
                notes.append(f"{a[0]} ≤ {b[0]}，取 {a[0]}（{_r(r0, 1)}）")
                out.append(a.pop(0))
            else:
                notes.append(f"{a[0]} > {b[0]}，取 {b[0]}（{_r(r0, 2)}）")
                out.append(b.pop(0))
        rest = a or b
        out += rest
        return out, [*_walk(notes), f"一个列表已空，接上另一个列表剩下的 {show(rest)}（{_r(r0, 0)}），结果是 {show(out)}。"]

    def desc(self, p, qa):
        return "合并（两个列表都已从小到大排好序）"

    def near(self, L, p, qa, v):
        a, b = L
        return [a + b, b + a, v[::-1], list(dict.fromkeys(v)), v[:-1]]


class Sum(Op):
    name, fname, out, numeric = "sum", "sum_list", "value", True

    def rules(self, p):
        return ["空列表的和是 0。", "[H|T] 的和等于 H 加上 T 的和。"]

    def trace(self, L, p, qa, r0):
        v, notes = 0, []
        for x in reversed(L):
            notes.append(f"{x} + {v} = {x + v}")
            v += x
        return v, [f"空列表的和是 0（{_r(r0, 0)}），从最后一个元素往前依次加（{_r(r0, 1)}）：", *_walk(notes, 4),
                   f"所以和是 {v}。"]

    def desc(self, p, qa):
        return "求和"

    def near(self, L, p, qa, v):
        return [v + 1, v - 1, v - L[-1], v - L[0], v + max(L), len(L), v - min(L)]


class Length(Op):
    name, fname, out = "length", "length", "value"

    def rules(self, p):
        return ["空列表的长度是 0。", "[H|T] 的长度等于 T 的长度加 1（表头 H 即使是一个子列表，也只算一个元素）。"]

    def trace(self, L, p, qa, r0):
        n, notes = 0, []
        for x in L:
            n += 1
            notes.append(f"{show(x)} 计 {n}")
        return n, [f"每去掉一个表头长度加 1（{_r(r0, 1)}）：", *_walk(notes, 5),
                   f"到达空列表（{_r(r0, 0)}），长度是 {n}。"]

    def desc(self, p, qa):
        return "求长度"

    def near(self, L, p, qa, v):
        flat = sum(len(x) if isinstance(x, list) else 1 for x in L)
        return [v + 1, v - 1, flat, v + 2, len({show(x) for x in L})]


class Extreme(Op):
    name, out, numeric = "extreme", "value", True

    def setup(self, rng):
        return {"max": rng.random() < 0.6}

    def call(self, L, p, qa):
        return f"{'max_list' if p['max'] else 'min_list'}({show(L)})"

    def rules(self, p):
        w = "最大" if p["max"] else "最小"
        return [f"只有一个元素的列表，{w}值就是这个元素。",
                f"[H|T] 的{w}值是 H 和 T 的{w}值中{'较大' if p['max'] else '较小'}的那一个。"]

    def trace(self, L, p, qa, r0):
        cur, notes = L[-1], [f"最后一个元素 {L[-1]} 单独成表，{'最大' if p['max'] else '最小'}值是 {L[-1]}（{_r(r0, 0)}）"]
        for x in reversed(L[:-1]):
            new = (x if x > cur else cur) if p["max"] else (x if x < cur else cur)
            notes.append(f"比较 {x} 和 {cur}，取 {new}")
            cur = new
        return cur, [*_walk(notes, 3), f"逐层返回（{_r(r0, 1)}），结果是 {cur}。"]

    def desc(self, p, qa):
        return "求最大值" if p["max"] else "求最小值"

    def near(self, L, p, qa, v):
        s = sorted(set(L))
        return [s[-2] if p["max"] and len(s) > 1 else s[min(1, len(s) - 1)], s[0] if p["max"] else s[-1], L[0], L[-1], v + 1]


class Nth(Op):
    name, fname, out = "nth", "nth", "value"

    def setup(self, rng):
        return {"base": 1 if rng.random() < 0.65 else 0}

    def rules(self, p):
        b = p["base"]
        return [f"位置从 {b} 开始计数：nth({b}, [H|T]) = H，即第 {b} 个元素是表头。",
                f"当 K > {b} 时，nth(K, [H|T]) = nth(K-1, T)，即去掉表头后找第 K-1 个元素。"]

    def qargs(self, rng, L, p):
        return [rng.randint(p["base"], p["base"] + len(L) - 1)]

    def call(self, L, p, qa):
        return f"nth({qa[0]}, {show(L)})"

    def trace(self, L, p, qa, r0):
        (k,) = qa
        rest, lines = list(L), []
        while k > p["base"]:
            lines.append(f"nth({k}, {show(rest)}) = nth({k - 1}, {show(rest[1:])})（{_r(r0, 1)}）")
            rest = rest[1:]
            k -= 1
        lines = fold([s + "。" for s in lines], MAX_LINES - 1)
        lines.append(f"nth({k}, {show(rest)}) = {show(rest[0])}（{_r(r0, 0)}）。")
        return rest[0], lines

    def desc(self, p, qa):
        return f"取第 {qa[0]} 个元素（从 {p['base']} 开始计数）"

    def near(self, L, p, qa, v):
        i = qa[0] - p["base"]
        return [L[j] for j in (i - 1, i + 1, len(L) - 1 - i) if 0 <= j < len(L)]


class Last(Op):
    name, fname, out = "last", "last", "value"

    def rules(self, p):
        return ["last([X]) = X：只有一个元素的列表，最后一个元素就是它。", "last([H|T]) = last(T)：否则去掉表头，继续找。"]

    def trace(self, L, p, qa, r0):
        rest, lines = list(L), []
        while len(rest) > 1:
            lines.append(f"last({show(rest)}) = last({show(rest[1:])})（{_r(r0, 1)}）。")
            rest = rest[1:]
        lines = fold(lines, MAX_LINES - 1)
        lines.append(f"last({show(rest)}) = {show(rest[0])}（{_r(r0, 0)}）。")
        return rest[0], lines

    def desc(self, p, qa):
        return "取最后一个元素"

    def near(self, L, p, qa, v):
        return [L[0], L[-2] if len(L) > 1 else L[0], L[1] if len(L) > 1 else L[0]]


class Member(Op):
    name, fname, out = "member", "member", "bool"

    def rules(self, p):
        return ["member(X, [X|T])：如果 X 等于表头，则 X 在列表中。", "member(X, [H|T])：否则，如果 X 在 T 中，则 X 在列表中。",
                "空列表中没有任何元素。"]

    def qargs(self, rng, L, p):
        if rng.random() < 0.5:
            return [rng.choice(L)]
        pool = [x for x in range(0, 20) if x not in L] if isinstance(L[0], int) else [a for a in ATOMS if a not in L]
        return [rng.choice(pool)]

    def call(self, L, p, qa):
        return f"member({show(qa[0])}, {show(L)})"

    def trace(self, L, p, qa, r0):
        (x,) = qa
        notes = []
        for i, y in enumerate(L, 1):
            if y == x:
                notes.append(f"第{i}个元素是 {show(y)}，等于 {show(x)}（{_r(r0, 0)}）")
                return True, [*_walk(notes, 4), f"所以 {show(x)} 在列表中。"]
            notes.append(f"第{i}个元素 {show(y)} ≠ {show(x)}（{_r(r0, 1)}）")
        return False, [*_walk(notes, 4), f"到达空列表（{_r(r0, 2)}），所以 {show(x)} 不在列表中。"]

    def desc(self, p, qa):
        return f"判断 {show(qa[0])} 是否在其中"


class Palindrome(Op):
    name, fname, out = "palindrome", "palindrome", "bool"

    def rules(self, p):
        return ["空列表和只有一个元素的列表是回文。",
                "如果列表的第一个元素和最后一个元素相同，并且去掉这两个元素后的子列表也是回文，那么这个列表是回文。",
                "如果第一个元素和最后一个元素不同，那么这个列表不是回文。"]

    def trace(self, L, p, qa, r0):
        rest, notes = list(L), []
        while len(rest) > 1:
            a, b = rest[0], rest[-1]
            if a != b:
                notes.append(f"{show(rest)} 的首尾 {show(a)} ≠ {show(b)}（{_r(r0, 2)}）")
                return False, [*_walk(notes, 3), f"所以 {show(L)} 不是回文。"]
            notes.append(f"{show(rest)} 的首尾都是 {show(a)}，去掉首尾（{_r(r0, 1)}）")
            rest = rest[1:-1]
        notes.append(f"剩下 {show(rest)}，是回文（{_r(r0, 0)}）")
        return True, [*_walk(notes, 3), f"所以 {show(L)} 是回文。"]

    def desc(self, p, qa):
        return "判断是否回文"


OPS = {op.name: op for op in (Reverse(), Sort(), Filter(), Map(), Dedup(), Delete(), Insert(), Flatten(), Split(),
                              Append(), Merge(), Sum(), Length(), Extreme(), Nth(), Last(), Member(), Palindrome())}
OP_WEIGHTS = {"reverse": 4, "sort": 4, "filter": 4, "map": 4, "dedup": 3, "delete": 3, "insert": 2, "flatten": 2,
              "split": 2, "append": 4, "merge": 2, "sum": 3, "length": 3, "extreme": 3, "nth": 3, "last": 2,
              "member": 3, "palindrome": 2}
_OP_NAMES = list(OP_WEIGHTS)
_OP_W = [OP_WEIGHTS[k] for k in _OP_NAMES]
# a second operation that makes sense after a list-valued first one (the "先…再…" questions)
_THEN = ["reverse", "sort", "filter", "map", "dedup", "sum", "length", "extreme", "last", "split", "nth"]

INTROS = ["下面是一些对列表进行操作的逻辑程序，每个操作由以下规则定义：", "考虑以下列表操作，它们的规则如下：",
          "有一组用于处理列表的递归函数。以下是这些函数的逻辑描述：", "已知如下列表处理规则（[H|T] 表示表头为 H、剩余部分为 T 的列表）：",
          "给定一系列列表操作，其定义如下：", "以下是关于列表操作的规则："]


# ================================================================ inputs


def _draw_list(rng: random.Random, d: Difficulty, op: Op, atoms: bool) -> list:
    n = rng.randint(max(3, d.entities - 1), d.entities + 1)
    if op.nested:
        base = list(range(1, 10)) if not atoms else ATOMS[:10]
        flat = rng.sample(base, min(n + 1, len(base)))
        out, i = [], 0
        while i < len(flat):
            r = rng.random()
            if r < 0.35 and i + 1 < len(flat):
                out.append(flat[i:i + 2])
                i += 2
            elif r < 0.45 and i + 2 < len(flat) and d.depth >= 2:
                out.append([flat[i], [flat[i + 1], flat[i + 2]]])
                i += 3
            else:
                out.append(flat[i])
                i += 1
        if not any(isinstance(x, list) for x in out):
            out = [out[0], out[1:3], *out[3:]]
        return out
    if atoms and not op.numeric:
        pool = ATOMS[:n + 2]
    else:
        pool = list(range(1, 10 + 2 * d.entities))
    if op.needs_dups or rng.random() < 0.2:
        core = rng.sample(pool, max(2, n - 2))
        return [rng.choice(core) for _ in range(n)] if rng.random() < 0.5 else _with_dups(rng, core, n)
    return rng.sample(pool, n)


def _with_dups(rng, core, n):
    out = list(core)
    while len(out) < n:
        out.insert(rng.randrange(len(out) + 1), rng.choice(core))
    return out


def _draw_input(rng: random.Random, d: Difficulty, op: Op, atoms: bool, p: dict):
    if op.name == "palindrome":
        half = _draw_list(rng, d, op, atoms)[: max(2, d.entities // 2 + 1)]
        mid = [rng.choice(half)] if rng.random() < 0.5 else []
        pal = half + mid + half[::-1]
        if rng.random() < 0.5:
            j = rng.randrange(len(pal) // 2)
            pool = [x for x in (ATOMS if atoms else range(1, 20)) if x != pal[j]]
            pal[j] = rng.choice(pool)
        return pal
    if op.name == "merge":
        L = sorted(_draw_list(rng, d, op, atoms))
        a, b = [L[0]], [L[-1]]
        for x in L[1:-1]:
            (a if rng.random() < 0.5 else b).append(x)
        return [sorted(a), sorted(b)]
    if op.arity == 2:
        L = _draw_list(rng, d, op, atoms)
        cut = rng.randint(1, len(L) - 1)
        return [L[:cut], L[cut:]]
    return _draw_list(rng, d, op, atoms)


# ================================================================ generation


def generate(rng: random.Random, difficulty: Difficulty, style: Style) -> Puzzle:
    first = OPS[rng.choices(_OP_NAMES, _OP_W)[0]]
    ops = [first]
    if first.out == "list" and (difficulty.depth >= 2 and rng.random() < 0.25 * difficulty.depth):
        second = OPS[rng.choice([n for n in _THEN if n != first.name])]
        ops.append(second)
    elif rng.random() < 0.35:
        other = OPS[rng.choices(_OP_NAMES, _OP_W)[0]]
        if other.name != first.name:
            ops.append(other)
    params = {op.name: op.setup(rng) for op in ops}
    r0s, rules = {}, []
    for op in ops:
        r0s[op.name] = len(rules) + 1
        lines = op.rules(params[op.name])
        if len(ops) > 1:
            lines = [f"{_label(op, params[op.name])}：{s}" for s in lines]
        rules += lines
    atoms = rng.random() < 0.35
    intro = INTROS[style.intro % len(INTROS)]
    if len(ops) == 1 and rng.random() < 0.6:
        holes = ["K"] if first.name == "nth" else ["X", "K"]
        intro = f"有一个函数 {_label(first, params[first.name])}，它对列表进行“{first.desc(params[first.name], holes)}”的操作。" \
            + ("以下是该函数的逻辑描述：" if rng.random() < 0.5 else "规则如下：")
    problem = problem_text(intro, rules, style)
    world = {"ops": [op.name for op in ops], "params": params, "atoms": atoms}
    questions: list[SynthQuestion] = []
    compose = len(ops) == 2 and ops[0].out == "list" and ops[1].arity == 1
    def draw() -> SynthQuestion:
        chain = [rng.choice(ops)]
        if compose and rng.random() < 0.2 + 0.2 * difficulty.depth:
            chain = list(ops)
        return _question(rng, difficulty, chain, params, r0s, atoms)

    questions = collect_questions(draw, rng.choice([1, 2, 3, 4, 4, 4]))
    return Puzzle("lists", problem, questions, world=world)


def _label(op: Op, p: dict) -> str:
    return op.call([], p, ["K", "X"]).split("(")[0]  # a parametrised op's name depends on its parameters


def _run(chain: list[Op], params: dict, r0s: dict, L, qas: list[list]):
    v, steps = L, []
    for i, op in enumerate(chain):
        v, s = op.trace(v, params[op.name], qas[i], r0s[op.name])
        if len(chain) > 1:
            s = [f"第{'一二三'[i]}步，{op.desc(params[op.name], qas[i])}：{s[0]}", *s[1:]]
        steps += s
    if len(steps) > 12:
        steps = fold(steps, 12)
    return v, steps


def _question(rng, d: Difficulty, chain: list[Op], params: dict, r0s: dict, atoms: bool) -> SynthQuestion:
    op0 = chain[0]
    L = _draw_input(rng, d, op0, atoms, params[op0.name])
    qas, v = [], L
    for op in chain:  # qargs may depend on the intermediate list
        if op.out != "list" and op is not chain[-1]:
            raise Rejected("value op mid-chain")
        if op.arity == 1 and (not isinstance(v, list) or not v or (op.numeric and not all(isinstance(x, int) for x in v))):
            raise Rejected("op does not apply")
        if op.name in ("flatten",) and op is not op0:
            raise Rejected("flatten only first")
        qa = op.qargs(rng, v, params[op.name])
        qas.append(qa)
        v = _apply_direct(op.name, params[op.name], v, qa)  # only to draw the next op's arguments
    if chain[-1].name == "extreme" and not v:
        raise Rejected("empty")
    value, steps = _run(chain, params, r0s, L, qas)
    last = chain[-1]
    ops_meta = [[op.name, params[op.name], qa] for op, qa in zip(chain, qas, strict=True)]
    meta = {"ops": ops_meta, "input": L, "post": None}
    subject = _subject(chain, params, L, qas, rng)

    if last.name == "palindrome" and len(chain) == 1 and rng.random() < 0.35:
        return _pick_palindrome(rng, d, last, params, r0s, atoms, L, value)
    if last.out == "bool":
        options, answer = yes_no(rng, value)
        meta["claims"] = [[True, o == "是"] for o in options]
        body = _ask_bool(last, L, qas[-1], rng) if len(chain) == 1 else f"{subject}为真吗？"
        return SynthQuestion(body, options, answer, steps, meta)

    r = rng.random()
    if last.out == "list" and r < 0.1 and value:  # 是/否: an element in the result
        x = rng.choice(value) if rng.random() < 0.5 else rng.choice(_flat_items(L))
        truth = x in value
        options, answer = yes_no(rng, truth)
        meta["post"] = ["member", x]
        meta["claims"] = [[True, o == "是"] for o in options]
        steps = [*steps, f"{show(x)} {'在' if truth else '不在'}结果 {show(value)} 中。"]
        return SynthQuestion(f"{subject}中是否包含 {show(x)}？", options, answer, steps, meta)
    if last.out == "list" and r < 0.18:  # the length of the result
        meta["post"] = "len"
        n = len(value)
        steps = [*steps, f"结果 {show(value)} 共有 {n} 个元素。"]
        near = [n + 1, n - 1, len(_flat_items(L)), n + 2]
        return _options(rng, d, f"{subject}的长度是多少？", n, near, [n + k for k in (-3, -2, 3, 4)],
                        steps, meta)
    near = [x for x in last.near(v_in(chain, params, L, qas), params[last.name], qas[-1], value)]
    if len(chain) > 1:
        near += _chain_near(chain, params, L, qas)
    far = _far(rng, value, L)
    if r < 0.3:  # 是/否 on one claimed result
        wrong = [x for x in near + far if x != value]
        shown = value if rng.random() < 0.5 or not wrong else wrong[0]
        options, answer = yes_no(rng, shown == value)
        meta["claims"] = [[shown, o == "是"] for o in options]
        if shown != value:
            steps = [*steps, f"{show(value)} 与 {show(shown)} 不同，所以说法不成立。"]
        q = f"{subject}是否为 {show(shown)}？" if rng.random() < 0.6 else f"{subject}是 {show(shown)} 吗？"
        return SynthQuestion(q, options, answer, steps, meta)
    ask = f"{subject}是什么？"
    if len(chain) == 1 and last.out == "value":
        ask = _ask_value(last, params[last.name], L, qas[-1], rng)
    return _options(rng, d, ask, value, near, far, steps, meta)


def _pick_palindrome(rng, d, op, params, r0s, atoms, L, is_pal) -> SynthQuestion:
    """"以下哪个列表是回文？": one palindrome among near misses (one end changed, a middle pair swapped)."""
    pal = L if is_pal else L[: len(L) // 2] + L[: (len(L) + 1) // 2][::-1]
    near = []
    for j in range(len(pal) // 2):
        w = pal[:]
        pool = [x for x in (ATOMS if atoms else range(1, 20)) if x != w[j]]
        w[j] = rng.choice(pool)
        near.append(w)
    if len(pal) > 3:
        w = pal[:]
        w[0], w[1] = w[1], w[0]
        if w != w[::-1]:
            near.append(w)
    far = [rng.sample(pal, len(pal)) for _ in range(4)]
    table = {show(x): x for x in near + far if x != x[::-1]}
    n = n_options(rng)
    ds = pick_distractors(rng, [show(x) for x in near if show(x) in table], [show(x) for x in far if show(x) in table],
                          n - 1, d.close)
    options, answer = make_options(rng, show(pal), ds, n)
    inputs = [pal if i == answer else table[o] for i, o in enumerate(options)]
    steps = []
    for x in inputs:
        ok, lines = op.trace(x, {}, [], r0s[op.name])
        steps.append(lines[-1])
    meta = {"ops": [[op.name, {}, []]], "inputs": inputs, "post": None, "claims": [[True, True] for _ in inputs]}
    return SynthQuestion(rng.choice(["以下哪个列表是回文？", "下列哪个列表是回文列表？"]), options, answer, steps, meta)


def v_in(chain, params, L, qas):
    """The input of the last op of the chain (the list it was applied to)."""
    v = L
    for op, qa in zip(chain[:-1], qas[:-1], strict=True):
        v = _apply_direct(op.name, params[op.name], v, qa)
    return v


def _chain_near(chain, params, L, qas) -> list:
    """Near misses of a composition: the first op's near misses fed on, the ops in the wrong order,
    or the second op applied to the raw input."""
    a, b = chain
    pa, pb = params[a.name], params[b.name]
    mid = _apply_direct(a.name, pa, L, qas[0])
    tries = [lambda w=w: _apply_direct(b.name, pb, w, qas[1]) for w in a.near(L, pa, qas[0], mid)[:3]]
    if a.arity == 1 and b.arity == 1:
        tries.append(lambda: _apply_direct(b.name, pb, L, qas[1]))
        if b.out == "list":
            tries.append(lambda: _apply_direct(a.name, pa, _apply_direct(b.name, pb, L, qas[1]), qas[0]))
    out = [mid] if b.out == "list" else []
    for f in tries:
        try:
            out.append(f())
        except (IndexError, ValueError, TypeError):
            pass
    return out


def _flat_items(L) -> list:
    out = []
    for x in L:
        out += _flat_items(x) if isinstance(x, list) else [x]
    return out


def _far(rng, value, L) -> list:
    if isinstance(value, list):
        out = []
        for _ in range(6):
            w = value[:]
            rng.shuffle(w)
            out.append(w)
        items = _flat_items(L)
        out.append(rng.sample(items, min(len(items), max(1, len(value)))))
        return out
    if isinstance(value, int):
        return [value + k for k in (-3, -2, 2, 3, 5) if value + k >= 0] + [x for x in L if isinstance(x, int)]
    return _flat_items(L)


def _options(rng, d, body, value, near, far, steps, meta) -> SynthQuestion:
    n = n_options(rng)
    table = {}
    for x in near + far:
        table.setdefault(show(x), x)
    true = show(value)
    table.pop(true, None)
    ds = pick_distractors(rng, [show(x) for x in near if show(x) in table], [show(x) for x in far if show(x) in table],
                          n - 1, d.close)
    options, answer = make_options(rng, true, ds, n)
    meta["claims"] = [[value if i == answer else table[o], True] for i, o in enumerate(options)]
    return SynthQuestion(body, options, answer, steps, meta)


def _after(phrase: str) -> str:
    return phrase + (" 后" if phrase[-1].isascii() else "后")


def _subject(chain, params, L, qas, rng) -> str:
    """A noun phrase for the result: "reverse([1, 2]) 的结果", "对列表 [1, 2] 反转后的结果" ..."""
    op = chain[0]
    p = params[op.name]
    if len(chain) == 2:
        b = chain[1]
        head = (f"将列表 {show(L[0])} 和 {show(L[1])} {op.desc(p, qas[0])}" if op.arity == 2
                else f"对列表 {show(L)} {op.desc(p, qas[0])}")
        return f"先{head}，再对结果{b.desc(params[b.name], qas[1])}，得到的结果"
    if op.arity == 2:
        return f"将列表 {show(L[0])} 和 {show(L[1])} {_after(op.desc(p, qas[0]))}的结果"
    r = rng.random()
    if r < 0.3:
        return f"{op.call(L, p, qas[0])} 的结果"
    if r < 0.45 and not qas[0]:
        return f"对于输入列表 {show(L)}，函数 {_label(op, p)} 返回的结果"
    return f"对列表 {show(L)} {_after(op.desc(p, qas[0]))}的结果"


def _ask_value(op, p, L, qa, rng) -> str:
    if op.name == "sum":
        return rng.choice([f"列表 {show(L)} 中所有元素的和是多少？", f"sum_list({show(L)}) 的值是多少？"])
    if op.name == "length":
        return rng.choice([f"列表 {show(L)} 的长度是多少？", f"考虑列表{show(L)}，该列表的长度是多少？"])
    if op.name == "extreme":
        return f"列表 {show(L)} 中{'最大' if p['max'] else '最小'}的元素是什么？"
    if op.name == "nth":
        return f"列表 {show(L)} 的第 {qa[0]} 个元素（从 {p['base']} 开始计数）是什么？"
    if op.name == "last":
        return rng.choice([f"在列表 {show(L)} 中，最后一个元素是什么？", f"last({show(L)}) 的结果是什么？"])
    raise ValueError(op.name)


def _ask_bool(op, L, qa, rng) -> str:
    if op.name == "member":
        return rng.choice([f"{show(qa[0])} 是否在列表 {show(L)} 中？", f"member({show(qa[0])}, {show(L)}) 是否成立？"])
    return rng.choice([f"列表 {show(L)} 是回文吗？", f"{show(L)} 是否是回文列表？"])


# ================================================================ brute-force checker (plain Python lists)


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


def _apply_direct(name: str, p: dict, L, qa: list):
    if name == "reverse":
        return L[::-1]
    if name == "sort":
        return sorted(L, reverse=p["desc"])
    if name == "filter":
        return [x for x in L if x % 2 == (1 if p["keep"] == "odd" else 0)]
    if name == "map":
        return [x ** 2 if p["f"] == "square" else (2 * x if p["f"] == "double" else x + p["k"]) for x in L]
    if name == "dedup":
        return [x for i, x in enumerate(L) if x not in L[:i]]
    if name == "delete":
        return [x for x in L if x != qa[0]]
    if name == "insert":
        i = qa[1] - p["base"]
        return L[:i] + [qa[0]] + L[i:]
    if name == "flatten":
        return _flatten_direct(L)
    if name == "split":
        return L[0::2] if p["odd"] else L[1::2]
    if name == "append":
        return L[0] + L[1]
    if name == "merge":
        return sorted(L[0] + L[1])
    if name == "sum":
        return sum(L)
    if name == "length":
        return len(L)
    if name == "extreme":
        return max(L) if p["max"] else min(L)
    if name == "nth":
        return L[qa[0] - p["base"]]
    if name == "last":
        return L[-1]
    if name == "member":
        return qa[0] in L
    if name == "palindrome":
        return L == L[::-1]
    raise ValueError(name)


def check(puzzle: Puzzle, question_index: int) -> list[bool]:
    """Truth of each option: the stored query recomputed with Python list operations, none of the tracer."""
    meta = puzzle.questions[question_index].meta
    if "inputs" in meta:  # one input per option ("以下哪个列表是回文？")
        name, p, qa = meta["ops"][0]
        return [(_apply_direct(name, p, x, qa) is True) == asserted
                for x, (_, asserted) in zip(meta["inputs"], meta["claims"], strict=True)]
    v = meta["input"]
    for name, p, qa in meta["ops"]:
        v = _apply_direct(name, p, v, qa)
    post = meta["post"]
    if post == "len":
        v = len(v)
    elif post is not None:
        v = post[1] in v
    return [(v == value and type(v) is type(value)) == asserted for value, asserted in meta["claims"]]
