"""Operations that ask for a value of a list: sum, length, max/min, the n-th and the last element,
membership, palindromes."""

from __future__ import annotations

from ..core import MAX_LINES, fold
from ..programs.kit import block, lit
from .op import ATOMS, Op, rule_ref, show, walk


class Sum(Op):
    name, fname, out, numeric = "sum", "sum_list", "value", True

    def rules(self, p):
        return ["空列表的和是 0。", "[H|T] 的和等于 H 加上 T 的和。"]

    def trace(self, L, p, qa, r0):
        v, notes = 0, []
        for x in reversed(L):
            notes.append(f"{x} + {v} = {x + v}")
            v += x
        return v, [f"空列表的和是 0（{rule_ref(r0, 0)}），从最后一个元素往前依次加（{rule_ref(r0, 1)}）：", *walk(notes, 4),
                   f"所以和是 {v}。"]

    def desc(self, p, qa):
        return "求和"

    def near(self, L, p, qa, v):
        return [v + 1, v - 1, v - L[-1], v - L[0], v + max(L), len(L), v - min(L)]

    def apply(self, p, L, qa):
        return sum(L)

    def code(self, f: str, p: dict, loop: bool) -> str:
        if loop:
            return block(f"def {f}(L):", "    total = 0", "    for x in L:", "        total += x", "    return total")
        return block(f"def {f}(L):", "    if not L:", "        return 0", f"    return L[0] + {f}(L[1:])")

    def ask_value(self, p, L, qa, rng) -> str:
        return rng.choice([f"列表 {show(L)} 中所有元素的和是多少？", f"sum_list({show(L)}) 的值是多少？"])


class Length(Op):
    name, fname, out = "length", "length", "value"

    def rules(self, p):
        return ["空列表的长度是 0。", "[H|T] 的长度等于 T 的长度加 1（表头 H 即使是一个子列表，也只算一个元素）。"]

    def trace(self, L, p, qa, r0):
        n, notes = 0, []
        for x in L:
            n += 1
            notes.append(f"{show(x)} 计 {n}")
        return n, [f"每去掉一个表头长度加 1（{rule_ref(r0, 1)}）：", *walk(notes, 5),
                   f"到达空列表（{rule_ref(r0, 0)}），长度是 {n}。"]

    def desc(self, p, qa):
        return "求长度"

    def near(self, L, p, qa, v):
        flat = sum(len(x) if isinstance(x, list) else 1 for x in L)
        return [v + 1, v - 1, flat, v + 2, len({show(x) for x in L})]

    def apply(self, p, L, qa):
        return len(L)

    def code(self, f: str, p: dict, loop: bool) -> str:
        if loop:
            return block(f"def {f}(L):", "    n = 0", "    for _ in L:", "        n += 1", "    return n")
        return block(f"def {f}(L):", "    if not L:", "        return 0", f"    return 1 + {f}(L[1:])")

    def ask_value(self, p, L, qa, rng) -> str:
        return rng.choice([f"列表 {show(L)} 的长度是多少？", f"考虑列表{show(L)}，该列表的长度是多少？"])


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
        cur, notes = L[-1], [f"最后一个元素 {L[-1]} 单独成表，{'最大' if p['max'] else '最小'}值是 {L[-1]}（{rule_ref(r0, 0)}）"]
        for x in reversed(L[:-1]):
            new = (x if x > cur else cur) if p["max"] else (x if x < cur else cur)
            notes.append(f"比较 {x} 和 {cur}，取 {new}")
            cur = new
        return cur, [*walk(notes, 3), f"逐层返回（{rule_ref(r0, 1)}），结果是 {cur}。"]

    def desc(self, p, qa):
        return "求最大值" if p["max"] else "求最小值"

    def near(self, L, p, qa, v):
        s = sorted(set(L))
        return [s[-2] if p["max"] and len(s) > 1 else s[min(1, len(s) - 1)], s[0] if p["max"] else s[-1], L[0], L[-1], v + 1]

    def apply(self, p, L, qa):
        return max(L) if p["max"] else min(L)

    def code(self, f: str, p: dict, loop: bool) -> str:
        pick = "max" if p["max"] else "min"
        if loop:
            return block(f"def {f}(L):", "    best = L[0]", "    for x in L[1:]:",
                         f"        best = {pick}(best, x)", "    return best")
        return block(f"def {f}(L):", "    if len(L) == 1:", "        return L[0]", f"    return {pick}(L[0], {f}(L[1:]))")

    def ask_value(self, p, L, qa, rng) -> str:
        return f"列表 {show(L)} 中{'最大' if p['max'] else '最小'}的元素是什么？"


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
            lines.append(f"nth({k}, {show(rest)}) = nth({k - 1}, {show(rest[1:])})（{rule_ref(r0, 1)}）")
            rest = rest[1:]
            k -= 1
        lines = fold([s + "。" for s in lines], MAX_LINES - 1)
        lines.append(f"nth({k}, {show(rest)}) = {show(rest[0])}（{rule_ref(r0, 0)}）。")
        return rest[0], lines

    def desc(self, p, qa):
        return f"取第 {qa[0]} 个元素（从 {p['base']} 开始计数）"

    def near(self, L, p, qa, v):
        i = qa[0] - p["base"]
        return [L[j] for j in (i - 1, i + 1, len(L) - 1 - i) if 0 <= j < len(L)]

    def apply(self, p, L, qa):
        return L[qa[0] - p["base"]]

    def code(self, f: str, p: dict, loop: bool) -> str:
        b = p["base"]
        if loop:
            return block(f"def {f}(k, L):", f"    return L[k - {b}]" if b else "    return L[k]")
        return block(f"def {f}(k, L):", f"    if k == {b}:", "        return L[0]", f"    return {f}(k - 1, L[1:])")

    def code_call(self, f: str, arg: str, qa: list) -> str:
        return f"{f}({qa[0]}, {arg})"

    def ask_value(self, p, L, qa, rng) -> str:
        return f"列表 {show(L)} 的第 {qa[0]} 个元素（从 {p['base']} 开始计数）是什么？"


class Last(Op):
    name, fname, out = "last", "last", "value"

    def rules(self, p):
        return ["last([X]) = X：只有一个元素的列表，最后一个元素就是它。", "last([H|T]) = last(T)：否则去掉表头，继续找。"]

    def trace(self, L, p, qa, r0):
        rest, lines = list(L), []
        while len(rest) > 1:
            lines.append(f"last({show(rest)}) = last({show(rest[1:])})（{rule_ref(r0, 1)}）。")
            rest = rest[1:]
        lines = fold(lines, MAX_LINES - 1)
        lines.append(f"last({show(rest)}) = {show(rest[0])}（{rule_ref(r0, 0)}）。")
        return rest[0], lines

    def desc(self, p, qa):
        return "取最后一个元素"

    def near(self, L, p, qa, v):
        return [L[0], L[-2] if len(L) > 1 else L[0], L[1] if len(L) > 1 else L[0]]

    def apply(self, p, L, qa):
        return L[-1]

    def code(self, f: str, p: dict, loop: bool) -> str:
        if loop:
            return block(f"def {f}(L):", "    return L[-1]")
        return block(f"def {f}(L):", "    if len(L) == 1:", "        return L[0]", f"    return {f}(L[1:])")

    def ask_value(self, p, L, qa, rng) -> str:
        return rng.choice([f"在列表 {show(L)} 中，最后一个元素是什么？", f"last({show(L)}) 的结果是什么？"])


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
                notes.append(f"第{i}个元素是 {show(y)}，等于 {show(x)}（{rule_ref(r0, 0)}）")
                return True, [*walk(notes, 4), f"所以 {show(x)} 在列表中。"]
            notes.append(f"第{i}个元素 {show(y)} ≠ {show(x)}（{rule_ref(r0, 1)}）")
        return False, [*walk(notes, 4), f"到达空列表（{rule_ref(r0, 2)}），所以 {show(x)} 不在列表中。"]

    def desc(self, p, qa):
        return f"判断 {show(qa[0])} 是否在其中"

    def apply(self, p, L, qa):
        return qa[0] in L

    def code(self, f: str, p: dict, loop: bool) -> str:
        if loop:
            return block(f"def {f}(x, L):", "    for h in L:", "        if h == x:", "            return True",
                         "    return False")
        return block(f"def {f}(x, L):", "    if not L:", "        return False", f"    return L[0] == x or {f}(x, L[1:])")

    def code_call(self, f: str, arg: str, qa: list) -> str:
        return f"{f}({lit(qa[0])}, {arg})"

    def ask_bool(self, L, qa, rng) -> str:
        return rng.choice([f"{show(qa[0])} 是否在列表 {show(L)} 中？", f"member({show(qa[0])}, {show(L)}) 是否成立？"])


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
                notes.append(f"{show(rest)} 的首尾 {show(a)} ≠ {show(b)}（{rule_ref(r0, 2)}）")
                return False, [*walk(notes, 3), f"所以 {show(L)} 不是回文。"]
            notes.append(f"{show(rest)} 的首尾都是 {show(a)}，去掉首尾（{rule_ref(r0, 1)}）")
            rest = rest[1:-1]
        notes.append(f"剩下 {show(rest)}，是回文（{rule_ref(r0, 0)}）")
        return True, [*walk(notes, 3), f"所以 {show(L)} 是回文。"]

    def desc(self, p, qa):
        return "判断是否回文"

    def apply(self, p, L, qa):
        return L == L[::-1]

    def code(self, f: str, p: dict, loop: bool) -> str:
        return block(f"def {f}(L):", "    if len(L) <= 1:", "        return True", "    if L[0] != L[-1]:",
                     "        return False", f"    return {f}(L[1:-1])")

    def ask_bool(self, L, qa, rng) -> str:
        return rng.choice([f"列表 {show(L)} 是回文吗？", f"{show(L)} 是否是回文列表？"])


OPS = (Sum(), Length(), Extreme(), Nth(), Last(), Member(), Palindrome())
