"""Numeric functions stated as rules: the kind is recognised by its rule sentences, its parameters (Fibonacci's
start, a piecewise or two-argument function's ranges and formulas, grade thresholds, the factorial's base)
are read from them, and each function is computed here with plain arithmetic."""

from __future__ import annotations

import math
import re

from . import Unread, listed, yes_no

INT, BIN, PEANO = r"(-?\d+)", r"([01]+)", r"((?:s\()*0\)*)"


def P(form: str) -> re.Pattern:
    """A question form: {n} an integer, {b} a binary numeral, {s} a successor term, {v} the claimed value."""
    out = re.escape(form)
    for key, pat in (("n", INT), ("b", BIN), ("s", PEANO), ("v", r"(?P<v>.+?)")):
        out = out.replace(re.escape("{" + key + "}"), pat)
    return re.compile(out)


def _peano(n: int) -> str:
    return "s(" * n + "0" + ")" * n


def _value(term: str) -> int:
    return term.count("s(")


def _spf(n: int) -> int:
    return next(k for k in range(2, n + 1) if n % k == 0)


def _is_prime(n: int) -> bool:
    return n >= 2 and all(n % k for k in range(2, math.isqrt(n) + 1))


def _expr(text: str) -> str:
    """A rule's formula as Python over X and Y ("2X + 1" -> "2*X + 1", "X 与 Y 中较大的数" -> "max(X, Y)")."""
    text = text.replace("X 与 Y 中较大的数", "max(X, Y)").replace("×", "*")
    text = re.sub(r"(\d)([XY])", r"\1*\2", text)
    if not re.fullmatch(r"[\dXY+\-*() ,maxX]+", text):
        raise Unread(f"formula {text!r}")
    return text


def _cond(text: str) -> str:
    return text.replace("≤", "<=").replace("≥", ">=").replace("且", " and ")


def _cases(problem: str, head: str) -> list[tuple[str, str]]:
    """(condition, formula) of each "如果 COND，则 f(...) = EXPR" line."""
    out = []
    for line in listed(problem):
        m = re.fullmatch(rf"如果 (.+)，则 {re.escape(head)} = (.+)", line)
        if m:
            out.append((_cond(m[1]), _expr(m[2])))
    return out


def _apply(cases, **env) -> int:
    hits = [e for c, e in cases if eval(c, {}, env)]  # noqa: S307 - our own sanitised arithmetic
    if len(hits) != 1:
        raise Unread(f"{len(hits)} rules apply")
    return eval(hits[0], {"max": max}, env)  # noqa: S307


def _kind(problem: str) -> str:
    cues = [("lcm", "最小公倍数"), ("gcd", "最大公约数"), ("factorial", "阶乘"), ("power", "次幂"), ("fib", "斐波那契"),
            ("sum", "sum(A, B)"), ("digits", "ds(N)"), ("prime", "质数"), ("perfect", "完全数"), ("quadratic", "B^2 - 4AC"),
            ("binary", "二进制"), ("peano", "s(X)"), ("f2", "f(X, Y)"), ("piecewise", "f(X)"), ("grade", "等级"),
            ("div", "余数")]
    for name, cue in cues:
        if cue in problem:
            return name
    raise Unread("no numeric kind")


def _functions(problem: str) -> dict:
    """fn -> (question forms, how many int args, the function), for the kind the problem states."""
    kind = _kind(problem)
    if kind in ("gcd", "lcm"):
        f = math.gcd if kind == "gcd" else math.lcm
        word = "最大公约数" if kind == "gcd" else "最小公倍数"
        return {kind: ([f"{{n}} 和 {{n}} 的{word}是多少？", f"{kind}({{n}}, {{n}}) 的值是多少？",
                        f"求两个整数 {{n}} 和 {{n}} 的{word}是多少？", f"{kind}({{n}}, {{n}}) 是否等于 {{v}}？",
                        f"{{n}} 和 {{n}} 的{word}是 {{v}} 吗？", f"是不是两个数 {{n}} 和 {{n}} 的{word}为 {{v}}？",
                        f"{{n}} 和 {{n}} 的{word}是 {{v}}，这个说法正确吗？"], f)}
    if kind == "factorial":
        base = int(re.search(r"(\d+) 的阶乘是 1", problem)[1])

        def fact(n: int) -> int:
            return 1 if n == base else n * fact(n - 1)
        return {kind: (["{n} 的阶乘是多少？", "{n}的阶乘的值是多少？", "计算 {n}! 的结果是？", "{n} 的阶乘是 {v} 吗？",
                        "{n} 的阶乘是否等于 {v}？"], fact)}
    if kind == "power":
        return {kind: (["{n} 的 {n} 次幂是多少？", "power({n}, {n}) 的结果是多少？", "{n} 的 {n} 次幂是 {v} 吗？",
                        "power({n}, {n}) 是否等于 {v}？"], lambda x, n: x ** n)}
    if kind == "fib":
        (s, a), (_, b) = [(int(m[0]), int(m[1])) for m in re.findall(r"F\((\d+)\) = (\d+)", problem)[:2]]

        def fib(n: int) -> int:
            x, y = a, b
            for _ in range(n - s):
                x, y = y, x + y
            return x
        return {kind: (["斐波那契数列中的第{n}个数字是什么？", "F({n}) 的值是多少？", "斐波那契数列中的第{n}个数字是{v}吗？",
                        "F({n}) 是否等于 {v}？"], fib)}
    if kind == "sum":
        return {kind: (["从 {n} 到 {n} 的所有整数的累加和是多少？", "计算从{n}到{n}的所有整数的和是多少？", "sum({n}, {n}) 的值是多少？",
                        "从 {n} 到 {n}（含两端）所有整数的和是多少？", "sum({n}, {n}) 的值是 {v} 吗？",
                        "从 {n} 到 {n} 所有整数的和是否等于 {v}？"], lambda a, b: sum(range(a, b + 1)))}
    if kind == "digits":
        return {kind: (["数字 {n} 的各位数字之和是多少？", "ds({n}) 的值是多少？", "ds({n}) 是否等于 {v}？",
                        "数字 {n} 的各位数字之和是 {v} 吗？"], lambda n: sum(map(int, str(n))))}
    if kind == "prime":
        return {"spf": (["{n} 的最小质因数是多少？", "{n} 的最小质因数是 {v} 吗？"], _spf),
                "is_prime": (["数字{n}是质数吗？", "{n} 是否是质数？", "以下哪个数是质数？"], _is_prime)}
    if kind == "perfect":
        def dsum(n: int) -> int:
            return sum(k for k in range(1, n) if n % k == 0)
        return {"dsum": (["{n} 的所有真因数之和是多少？", "{n} 的真因数之和是 {v} 吗？"], dsum),
                "is_perfect": (["数{n}是完全数吗？", "{n} 是否是完全数？", "以下哪个数是完全数？"], lambda n: dsum(n) == n)}
    if kind == "quadratic":
        roots = {0: "没有实数解", 1: "有一个实数解", 2: "有两个不同的实数解"}

        def disc(a, b, c):
            return b * b - 4 * a * c
        head = "当系数A={n}, B={n}, C={n}时，"
        return {"disc": ([head + "B^2 - 4AC 的值是多少？", head + "B^2 - 4AC 是否等于 {v}？"], disc),
                "nroots": ([head + "方程有几个实数解？", head + "方程{v}吗？"],
                           lambda a, b, c: roots[(disc(a, b, c) > 0) + (disc(a, b, c) >= 0)])}
    if kind == "binary":
        return {"to_bin": (["当给定十进制数 {n} 时，其对应的二进制形式是多少？", "十进制数 {n} 转换为二进制的结果是什么？",
                            "十进制数 {n} 转换为二进制的结果是否是 '{v}'？"], lambda n: format(n, "b")),
                "from_bin": (["二进制数 {b} 对应的十进制数是多少？", "二进制数 {b} 对应的十进制数是否是 {v}？"],
                             lambda s: int(s, 2))}
    if kind == "peano":
        return {"value": (["{s} 表示的自然数是几？", "{s} 表示的自然数是 {v} 吗？"], _value),
                "add": (["查询 add({s}, {s}, Z) 时，Z 是什么？", "{s} 加 {s} 的结果是什么？", "add({s}, {s}, {v}) 是否成立？"],
                        lambda x, y: _peano(_value(x) + _value(y)))}
    if kind == "piecewise":
        cases = _cases(problem, "f(X)")
        return {kind: (["f({n}) 的值是多少？", "当 X = {n} 时，f(X) 等于多少？", "f({n}) 是否等于 {v}？"],
                       lambda x: _apply(cases, X=x))}
    if kind == "f2":
        cases = _cases(problem, "f(X, Y)")
        return {kind: (["f({n}, {n}) 的值是多少？", "f({n}, {n}) 是否等于 {v}？"], lambda x, y: _apply(cases, X=x, Y=y))}
    if kind == "grade":
        rules = []
        for line in listed(problem):
            m = re.fullmatch(r"分数(?:大于或等于 (\d+))?(?: 且)?(?:小于 (\d+))?，等级为(.+)", line)
            if m:
                rules.append((int(m[1]) if m[1] else -math.inf, int(m[2]) if m[2] else math.inf, m[3]))

        def grade(x: int) -> str:
            hits = [g for lo, hi, g in rules if lo <= x < hi]
            if len(hits) != 1:
                raise Unread(f"{len(hits)} grades for {x}")
            return hits[0]
        return {kind: (["分数为 {n} 的学生等级是什么？", "某学生得了 {n} 分，他的等级是？", "分数为 {n} 的学生等级是{v}吗？"], grade)}
    return {"quot": (["{n} 除以 {n} 的商是多少？", "{n} 除以 {n} 的商是 {v} 吗？"], lambda a, b: a // b),
            "rem": (["{n} 除以 {n} 的余数是多少？", "{n} 除以 {n} 的余数是 {v} 吗？"], lambda a, b: a % b)}


def read(problem: str, q: str, options: list[str]) -> list[bool]:
    for forms, f in _functions(problem).values():
        for form in forms:
            m = P(form).fullmatch(q)
            if not m:
                continue
            kinds = re.findall(r"\{([nbsv])\}", form)
            if not kinds:  # "以下哪个数是质数？": each option is an argument
                return [f(int(o)) is True for o in options]
            args = [int(x) if k == "n" else x for k, x in zip(kinds, m.groups(), strict=True) if k != "v"]
            value = f(*args)
            if isinstance(value, bool):
                return yes_no(options, value)
            if "v" in kinds:
                return yes_no(options, str(value) == m["v"])
            return [o == str(value) for o in options]
    raise Unread(q)
