"""Functions defined by ranges of their input: a piecewise linear f(X), a two-argument f(X, Y) and
grading rules."""

from __future__ import annotations

from ..core import fold
from ..programs.kit import Names, block, lit
from .kind import Function, Kind, pick_intro


def _fmt_lin(p: int, q: int) -> str:
    """p*X + q as text: "2X + 1", "X - 3", "3X", "5"."""
    head = "" if p == 0 else ("X" if p == 1 else f"{p}X")
    if not head:
        return str(q)
    return head if q == 0 else (f"{head} + {q}" if q > 0 else f"{head} - {-q}")


def _piece_conds(ts: list[int]) -> list[str]:
    t1, t2 = ts
    return [f"X < {t1}", f"{t1} ≤ X < {t2}", f"X ≥ {t2}"]


def _t_piecewise(world, args):
    (x,) = args
    conds = _piece_conds(world["ts"])
    t1, t2 = world["ts"]
    i = 0 if x < t1 else (1 if x < t2 else 2)
    p, q = world["pieces"][i]
    v = p * x + q
    xs = f"({x})" if x < 0 else str(x)
    term = "" if p == 0 else (xs if p == 1 else f"{p} × {xs}")
    expr = str(q) if not term else (term if q == 0 else f"{term} {'+' if q > 0 else '-'} {abs(q)}")
    return v, [f"X = {x}，满足 {conds[i]}，适用规则{i + 1}：f(X) = {_fmt_lin(p, q)}。",
               f"f({x}) = {expr} = {v}。" if p else f"f({x}) = {v}。"]


_F2_EXPRS = {"add": "X + Y", "sub": "X - Y", "mul": "X × Y", "dbl": "2X + Y", "max": "X 与 Y 中较大的数"}


def _f2_apply(e: str, x: int, y: int) -> int:  # the tracer's arithmetic
    return {"add": x + y, "sub": x - y, "mul": x * y, "dbl": 2 * x + y, "max": max(x, y)}[e]


def _f2_conds(world) -> list[str]:
    a, b = world["ab"]
    return [f"X ≥ {a} 且 Y ≥ {b}", f"X ≥ {a} 且 Y < {b}", f"X < {a}"]


def _t_f2(world, args):
    x, y = args
    a, b = world["ab"]
    i = 2 if x < a else (0 if y >= b else 1)
    e = world["exprs"][i]
    v = _f2_apply(e, x, y)
    return v, [f"X = {x}，Y = {y}，满足 {_f2_conds(world)[i]}，适用规则{i + 1}：f(X, Y) = {_F2_EXPRS[e]}。",
               f"所以 f({x}, {y}) = {v}。"]


def _t_grade(world, args):
    (x,) = args
    ts, gs = world["ts"], world["grades"]
    lines = []
    for i, t in enumerate(ts):
        if x >= t:
            lines.append(f"{x} ≥ {t}，适用规则{i + 1}，等级为{gs[i]}。")
            return gs[i], lines
        lines.append(f"{x} < {t}，规则{i + 1}不适用。")
    lines.append(f"适用规则{len(ts) + 1}，等级为{gs[-1]}。")
    return gs[-1], fold(lines)


def _c_piecewise(world, x):
    t1, t2 = world["ts"]
    p, q = world["pieces"][sum(x >= t for t in (t1, t2))]
    return p * x + q


def _c_f2(world, x, y):
    a, b = world["ab"]
    e = world["exprs"][2 if x < a else (1 if y < b else 0)]
    return {"add": x + y, "sub": x - y, "mul": x * y, "dbl": x + x + y, "max": x if x > y else y}[e]


def _c_grade(world, x):
    for t, g in zip(world["ts"], world["grades"], strict=False):
        if x >= t:
            return g
    return world["grades"][-1]


class Piecewise(Kind):
    name, fns = "piecewise", ("piecewise",)

    def setup(self, rng, d):
        t1 = rng.randint(0, 5)
        t2 = t1 + rng.randint(3, 6)
        pieces = []
        for _ in range(3):
            p, q = rng.choice([0, 1, 1, 2, 3]), rng.randint(-5, 6)
            pieces.append([p, q if (p, q) != (0, 0) else 1])
        return {"ts": [t1, t2], "pieces": pieces}

    def intro(self, world, style):
        return pick_intro(style, ["有一个分段函数 f(X)，它根据 X 的取值范围使用不同的规则：",
                                   "考虑以下定义函数 f(X) 的规则：", "已知如下函数规则，每条规则适用于一个取值范围："])

    def rules(self, world):
        return [f"如果 {c}，则 f(X) = {_fmt_lin(*pq)}。" for c, pq in zip(_piece_conds(world["ts"]), world["pieces"],
                                                                         strict=True)]

    def draw(self, rng, d, world, fn):
        t1, t2 = world["ts"]
        if rng.random() < 0.35:
            return [rng.choice([t1, t2])]  # on a boundary
        return [rng.randint(t1 - 4, t2 + 4)]

    def near(self, world, fn, args, v):
        (x,) = args
        return [p * x + q for p, q in world["pieces"]] + [v + 1, v - 1]

    def ask(self, world, fn, args, rng):
        return rng.choice([f"f({args[0]}) 的值是多少？", f"当 X = {args[0]} 时，f(X) 等于多少？"])

    def ask_yn(self, world, fn, args, shown, rng):
        return f"f({args[0]}) 是否等于 {shown}？"

    def conclude(self, world, fn, args, v):
        return ""


class F2(Kind):
    name, fns = "f2", ("f2",)

    def setup(self, rng, d):
        return {"ab": [rng.randint(2, 8), rng.randint(2, 8)], "exprs": rng.sample(sorted(_F2_EXPRS), 3)}

    def intro(self, world, style):
        return pick_intro(style, ["有一个函数 f(X, Y)，它根据 X 和 Y 的范围按以下规则计算：",
                                   "考虑以下定义二元函数 f(X, Y) 的规则：", "已知如下规则："])

    def rules(self, world):
        return [f"如果 {c}，则 f(X, Y) = {_F2_EXPRS[e]}。" for c, e in zip(_f2_conds(world), world["exprs"], strict=True)]

    def draw(self, rng, d, world, fn):
        a, b = world["ab"]
        x = rng.choice([a, a - 1, rng.randint(1, a + 5)])
        return [max(0, x), rng.choice([b, max(0, b - 1), rng.randint(0, b + 5)])]

    def near(self, world, fn, args, v):
        x, y = args
        return [_f2_apply(e, x, y) for e in sorted(_F2_EXPRS)] + [v + 1, v - 1]

    def ask(self, world, fn, args, rng):
        return f"f({args[0]}, {args[1]}) 的值是多少？"

    def ask_yn(self, world, fn, args, shown, rng):
        return f"f({args[0]}, {args[1]}) 是否等于 {shown}？"

    def conclude(self, world, fn, args, v):
        return ""


_GRADE_SETS = [["优秀", "良好", "及格", "不及格"], ["A", "B", "C", "D"], ["A", "B", "C", "D", "F"],
               ["一等奖", "二等奖", "三等奖", "优秀奖"]]


class Grade(Kind):
    name, fns = "grade", ("grade",)

    def setup(self, rng, d):
        grades = rng.choice(_GRADE_SETS)
        ts = sorted(rng.sample(range(50, 96, 5), len(grades) - 1), reverse=True)
        return {"grades": grades, "ts": ts}

    def intro(self, world, style):
        return pick_intro(style, ["某次考试按照分数评定等级，评分规则如下：", "有一个程序根据学生的分数给出等级，规则如下：",
                                   "考虑以下评分规则（分数为 0 到 100 的整数）："])

    def rules(self, world):
        ts, gs = world["ts"], world["grades"]
        out = [f"分数大于或等于 {ts[0]}，等级为{gs[0]}。"]
        out += [f"分数大于或等于 {ts[i]} 且小于 {ts[i - 1]}，等级为{gs[i]}。" for i in range(1, len(ts))]
        out.append(f"分数小于 {ts[-1]}，等级为{gs[-1]}。")
        return out

    def draw(self, rng, d, world, fn):
        if rng.random() < 0.35:
            return [rng.choice(world["ts"])]
        return [rng.randint(max(0, world["ts"][-1] - 15), 100)]

    def near(self, world, fn, args, v):
        gs = world["grades"]
        i = gs.index(v)
        return [gs[k] for k in (i - 1, i + 1) if 0 <= k < len(gs)]

    def far(self, rng, world, fn, args, v):
        return list(world["grades"])

    def ask(self, world, fn, args, rng):
        return rng.choice([f"分数为 {args[0]} 的学生等级是什么？", f"某学生得了 {args[0]} 分，他的等级是？"])

    def ask_yn(self, world, fn, args, shown, rng):
        return f"分数为 {args[0]} 的学生等级是{shown}吗？"

    def conclude(self, world, fn, args, v):
        return ""


# ---------------------------------------------------------------- programs


def _lin(p: int, q: int, x: str = "x") -> str:
    """p*x + q as code, written the way the rule states it."""
    term = "" if p == 0 else (x if p == 1 else f"{p} * {x}")
    if not term:
        return str(q)
    return term if q == 0 else f"{term} {'+' if q > 0 else '-'} {abs(q)}"


_F2_CODE = {"add": "x + y", "sub": "x - y", "mul": "x * y", "dbl": "2 * x + y", "max": "max(x, y)"}


def _piecewise_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    f, (t1, t2) = nm("f", "piecewise", "fx"), w["ts"]
    (p1, q1), (p2, q2), (p3, q3) = w["pieces"]
    return f, block(f"def {f}(x):", f"    if x < {t1}:", f"        return {_lin(p1, q1)}", f"    if x < {t2}:",
                    f"        return {_lin(p2, q2)}", f"    return {_lin(p3, q3)}")


def _f2_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    f, (a, b) = nm("f", "f2", "fxy"), w["ab"]
    e1, e2, e3 = (_F2_CODE[e] for e in w["exprs"])
    return f, block(f"def {f}(x, y):", f"    if x >= {a} and y >= {b}:", f"        return {e1}",
                    f"    if x >= {a}:  # y < {b}", f"        return {e2}", f"    return {e3}  # x < {a}")


def _grade_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    f, ts, gs = nm("grade", "level", "rank_of"), w["ts"], w["grades"]
    if loop:
        table = nm("rules", "thresholds", "levels")
        return f, block(f"{table} = {lit([(t, g) for t, g in zip(ts, gs, strict=False)])}",
                        f"\ndef {f}(score):", f"    for low, g in {table}:", "        if score >= low:",
                        "            return g", f"    return {lit(gs[-1])}")
    lines = [f"def {f}(score):"]
    for t, g in zip(ts, gs, strict=False):
        lines += [f"    if score >= {t}:", f"        return {lit(g)}"]
    return f, block(*lines, f"    return {lit(gs[-1])}")


KINDS = (Piecewise(), F2(), Grade())
FUNCTIONS = (
    Function("piecewise", _t_piecewise, lambda w, a: _c_piecewise(w, a[0]), _piecewise_code),
    Function("f2", _t_f2, lambda w, a: _c_f2(w, *a), _f2_code),
    Function("grade", _t_grade, lambda w, a: _c_grade(w, a[0]), _grade_code),
)
