"""Numeric functions defined by rules: gcd (by subtraction or by remainders), lcm via gcd, factorial,
power, Fibonacci, sums, digit sums, primes, perfect numbers, a quadratic's discriminant, binary
numbers, Peano successor arithmetic, piecewise functions, grading rules, division with remainder.

Program: the numbered rules of one function (a base case and a recursive case, or ranges). The solver
applies them step by step and keeps the trace (``gcd(48, 18) = gcd(18, 12)（规则2）`` ...).
Checker: Python's own arithmetic (``math.gcd``, ``math.factorial``, ``pow``, trial division ...) on the
query stored in ``q.meta``; it shares no code with the step tracer.

``q.meta = {"fn": name, "claims": [[args, value, asserted], ...]}``: option i is true when
``(fn(world, args) == value) == asserted`` (a value option asserts; "否" denies).
"""

from __future__ import annotations

import math
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


def _pick_intro(style: Style, intros: list[str]) -> str:
    return intros[style.intro % len(intros)]


# ================================================================ tracers (the rule-applying solver)
# Each returns (value, steps). They follow the problem's rules literally.


def _t_gcd(world, args):
    a, b = args
    lines = []
    if world["gcd"] == "mod":
        while b != 0:
            lines.append(f"gcd({a}, {b}) = gcd({b}, {a % b})（规则2，{a} 除以 {b} 的余数是 {a % b}）")
            a, b = b, a % b
        lines.append(f"gcd({a}, 0) = {a}（规则1）")
    else:
        while a != b:
            if a > b:
                lines.append(f"gcd({a}, {b}) = gcd({a - b}, {b})（规则2）")
                a = a - b
            else:
                lines.append(f"gcd({a}, {b}) = gcd({a}, {b - a})（规则3）")
                b = b - a
        lines.append(f"gcd({a}, {a}) = {a}（规则1）")
    return a, fold([s + "。" for s in lines])


def _t_lcm(world, args):
    g, steps = _t_gcd(world, args)
    a, b = args
    v = a // g * b
    steps = fold(steps, MAX_LINES - 1)
    steps.append(f"lcm({a}, {b}) = {a} ÷ {g} × {b} = {v}（最后一条规则）。")
    return v, steps


def _t_factorial(world, args):
    (n,) = args
    base = world["base"]
    v = 1
    lines = [f"{base}的阶乘是1（规则1）。"]
    for k in range(base + 1, n + 1):
        prev = v
        v = k * v
        lines.append(f"{k}的阶乘 = {k} × {k - 1}的阶乘 = {k} × {prev} = {v}（规则2）。")
    return v, fold(lines)


def _t_power(world, args):
    x, n = args
    v = 1
    lines = [f"{x}的0次幂是1（规则1）。"]
    for k in range(1, n + 1):
        prev = v
        v = x * v
        lines.append(f"{x}的{k}次幂 = {x} × {x}的{k - 1}次幂 = {x} × {prev} = {v}（规则2）。")
    return v, fold(lines)


def _t_fib(world, args):
    (n,) = args
    s = world["fib_start"]
    f0, f1 = world["fib_vals"]
    lines = [f"F({s}) = {f0}（规则1），F({s + 1}) = {f1}（规则2）。"]
    vals = {s: f0, s + 1: f1}
    for k in range(s + 2, n + 1):
        vals[k] = vals[k - 1] + vals[k - 2]
        lines.append(f"F({k}) = F({k - 1}) + F({k - 2}) = {vals[k - 1]} + {vals[k - 2]} = {vals[k]}（规则3）。")
    return vals[n], fold(lines)


def _t_sum(world, args):
    a, b = args
    lines = [f"sum({b + 1}, {b}) = 0，因为 {b + 1} 大于 {b}（规则1）。"]
    v = 0
    for k in range(b, a - 1, -1):
        prev = v
        v = k + v
        lines.append(f"sum({k}, {b}) = {k} + sum({k + 1}, {b}) = {k} + {prev} = {v}（规则2）。")
    return v, fold(lines)


def _t_digits(world, args):
    (n,) = args
    lines, parts, m = [], [], n
    while m >= 10:
        lines.append(f"{m} ≥ 10：ds({m}) = {m % 10} + ds({m // 10})（规则2）。")
        parts.append(m % 10)
        m //= 10
    lines.append(f"{m} < 10：ds({m}) = {m}（规则1）。")
    parts.append(m)
    v = sum(parts)
    lines.append(f"合起来：ds({n}) = {' + '.join(map(str, parts))} = {v}。")
    return v, lines


def _t_is_prime(world, args):
    (n,) = args
    if n < 2:
        return False, [f"{n} 小于 2，按规则1不是质数。"]
    if n == 2:
        return True, ["2 是质数（规则2）。"]
    k = 2
    while k * k <= n:
        if n % k == 0:
            return False, [f"{n} ÷ {k} = {n // k}，能被 {k} 整除，按规则3 {n} 不是质数。"]
        k += 1
    if k == 2:
        return True, [f"{n} 大于 2，且 2 到 √{n} 之间没有整数，按规则2 {n} 是质数。"]
    return True, [f"{k - 1} × {k - 1} ≤ {n} < {k} × {k}，而 {n} 不能被 2 到 {k - 1} 中的任何整数整除，按规则2 {n} 是质数。"]


def _t_spf(world, args):
    (n,) = args
    k = 2
    tried = []
    while n % k:
        tried.append(k)
        k += 1
    lines = []
    if tried:
        lines.append(f"{n} 不能被 {'、'.join(map(str, tried[-8:]))} 整除。" if len(tried) <= 8
                     else f"{n} 不能被 2 到 {tried[-1]} 中的任何整数整除。")
    lines.append(f"{n} ÷ {k} = {n // k}，能整除，所以 {n} 的最小质因数是 {k}。")
    return k, lines


def _t_divisor_sum(world, args):
    (n,) = args
    ds = [d for d in range(1, n) if n % d == 0]
    v = sum(ds)
    return v, [f"{n} 的真因数（除它本身外的正因数）是：{'、'.join(map(str, ds)) or '无'}（规则1）。",
               f"它们的和是 {' + '.join(map(str, ds)) or '0'} = {v}。"]


def _t_is_perfect(world, args):
    (n,) = args
    v, lines = _t_divisor_sum(world, args)
    ok = v == n
    lines.append(f"{n} 的真因数之和是 {v}，{'等于' if ok else '不等于'} {n}，按规则2 {n} {'是' if ok else '不是'}完全数。")
    return ok, lines


def _t_disc(world, args):
    a, b, c = args
    d = b * b - 4 * a * c
    bs, cs = (f"({b})" if b < 0 else str(b)), (f"({c})" if c < 0 else str(c))
    ac = f"({4 * a * c})" if a * c < 0 else str(4 * a * c)
    return d, [f"B^2 - 4AC = {bs}^2 - 4 × {a} × {cs} = {b * b} - {ac} = {d}。"]


def _t_nroots(world, args):
    d, lines = _t_disc(world, args)
    if d > 0:
        lines.append(f"{d} > 0，按规则2方程有两个不同的实数解。")
        return 2, lines
    if d == 0:
        lines.append("判别式等于 0，按规则1方程有一个实数解。")
        return 1, lines
    lines.append(f"{d} < 0，按规则3方程没有实数解（有两个不同的复数解）。")
    return 0, lines


def _t_binary(world, args):
    (n,) = args
    lines, bits, m = [], [], n
    while m > 1:
        lines.append(f"{m} ÷ 2 = {m // 2} 余 {m % 2}（规则2）。")
        bits.append(m % 2)
        m //= 2
    lines.append(f"{m} 的二进制表示是 {m}（规则1）。")
    bits.append(m)
    v = "".join(str(x) for x in reversed(bits))
    lines = fold(lines, MAX_LINES - 1)
    lines.append(f"把最后的商和余数从下往上依次写出：{v}。")
    return v, lines


def _t_from_binary(world, args):
    (s,) = args
    v = 0
    lines = []
    for ch in s:
        prev = v
        v = prev * 2 + int(ch)
        lines.append(f"{prev} × 2 + {ch} = {v}")
    return v, fold([f"从最高位起，每次把已得结果乘 2 再加下一位：{'；'.join(lines)}。"])


def _peano(k: int) -> str:
    return "s(" * k + "0" + ")" * k


def _t_peano_add(world, args):
    x, y = args
    lines = []
    for k in range(x, 0, -1):
        lines.append(f"add({_peano(k)}, {_peano(y)}, Z) 需要先求 add({_peano(k - 1)}, {_peano(y)}, Z')，"
                     f"Z = s(Z')（规则3）。")
    lines.append(f"add(0, {_peano(y)}, {_peano(y)})（规则2）。")
    lines = fold(lines, MAX_LINES - 1)
    lines.append(f"回代 {x} 层 s( )：Z = {_peano(x + y)}。")
    return x + y, lines


def _t_peano_value(world, args):
    (k,) = args
    return k, [f"{_peano(k)} 中 s 出现了 {k} 次，从 0 出发每个 s 加 1（规则1），表示 {k}。"]


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


def _t_div(world, args, want: int):
    a, b = args
    lines, q, r = [], 0, a
    while r >= b:
        lines.append(f"{r} ≥ {b}，按规则2：{r} - {b} = {r - b}，商加 1。")
        r -= b
        q += 1
    lines = fold(lines, MAX_LINES - 1)
    lines.append(f"{r} < {b}，按规则1停止：商为 {q}，余数为 {r}。")
    return (q, r)[want], lines


TRACE = {
    "gcd": _t_gcd, "lcm": _t_lcm, "factorial": _t_factorial, "power": _t_power, "fib": _t_fib, "sum": _t_sum,
    "digits": _t_digits, "is_prime": _t_is_prime, "spf": _t_spf, "divisor_sum": _t_divisor_sum,
    "is_perfect": _t_is_perfect, "disc": _t_disc, "nroots": _t_nroots, "binary": _t_binary,
    "from_binary": _t_from_binary, "peano_add": _t_peano_add, "peano_value": _t_peano_value,
    "piecewise": _t_piecewise, "f2": _t_f2, "grade": _t_grade,
    "quot": lambda w, a: _t_div(w, a, 0), "rem": lambda w, a: _t_div(w, a, 1),
}


# ================================================================ the kinds: rules, inputs, questions


def _rng_pair(rng: random.Random, d: Difficulty, hi: int) -> list[int]:
    g = rng.choice([1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12])
    while True:
        x, y = rng.randint(1, hi), rng.randint(1, hi)
        if x != y or rng.random() < 0.1:
            return [g * x, g * y]


class Kind:
    """One function family: its rules and intro, what inputs look like, and the questions it asks."""

    name = ""
    fns: tuple[str, ...] = ()  # value queries this kind asks (the first is the main one)

    def setup(self, rng: random.Random, d: Difficulty) -> dict:
        return {}

    def intro(self, world: dict, style: Style) -> str:
        raise NotImplementedError

    def rules(self, world: dict) -> list[str]:
        raise NotImplementedError

    def draw(self, rng: random.Random, d: Difficulty, world: dict, fn: str) -> list:
        raise NotImplementedError

    def near(self, world: dict, fn: str, args: list, v) -> list:
        return [v + 1, v - 1] if isinstance(v, int) and not isinstance(v, bool) else []

    def far(self, rng: random.Random, world: dict, fn: str, args: list, v) -> list:
        if isinstance(v, bool) or not isinstance(v, int):
            return []
        span = max(3, abs(v) // 3)
        return [v + rng.randint(-span, span) for _ in range(8)]

    def render(self, world: dict, fn: str, v) -> str:
        return str(v)

    def ask(self, world: dict, fn: str, args: list, rng: random.Random) -> str:
        raise NotImplementedError

    def ask_yn(self, world: dict, fn: str, args: list, shown: str, rng: random.Random) -> str:
        raise NotImplementedError

    def conclude(self, world: dict, fn: str, args: list, v) -> str:
        return f"所以结果是{self.render(world, fn, v)}。"

    def pick_question(self, rng, d, world):  # an optional "which of these ..." question
        return None


class Gcd(Kind):
    name, fns = "gcd", ("gcd",)

    def setup(self, rng, d):
        return {"gcd": rng.choice(["sub", "mod"])}

    def intro(self, world, style):
        return _pick_intro(style, ["下面是计算两个正整数最大公约数（GCD）的一组规则：",
                                   "有一个递归程序用来计算两个数的最大公约数，具体规则如下：",
                                   "考虑以下求最大公约数 gcd(A, B) 的规则：",
                                   "已知如下关于最大公约数的规则："])

    def rules(self, world):
        if world["gcd"] == "mod":
            return ["如果 B 等于 0，则 A 和 B 的最大公约数是 A，即 gcd(A, 0) = A。",
                    "否则，gcd(A, B) 等于 B 与 A 除以 B 的余数的最大公约数，即 gcd(A, B) = gcd(B, A mod B)。"]
        return ["如果两个数相等，则它们的最大公约数就是这个数，即 gcd(A, A) = A。",
                "如果第一个数大于第二个数，则用第一个数减去第二个数，即 gcd(A, B) = gcd(A - B, B)。",
                "如果第一个数小于第二个数，则用第二个数减去第一个数，即 gcd(A, B) = gcd(A, B - A)。"]

    def draw(self, rng, d, world, fn):
        for _ in range(30):
            a, b = _rng_pair(rng, d, 4 + 3 * d.entities)
            if world["gcd"] == "mod" or (max(a, b) // min(a, b) <= 8 and _sub_steps(a, b) <= 14):
                return [a, b]
        raise Rejected("no short gcd")

    def near(self, world, fn, args, v):
        a, b = args
        out = [min(a, b), abs(a - b), v * 2, 1, v // 2 or 3]
        out += [k for k in range(2, min(a, b) + 1) if a % k == 0 and b % k == 0 and k != v][:2]
        return out

    def ask(self, world, fn, args, rng):
        a, b = args
        return rng.choice([f"{a} 和 {b} 的最大公约数是多少？", f"gcd({a}, {b}) 的值是多少？",
                           f"求两个整数 {a} 和 {b} 的最大公约数是多少？"])

    def ask_yn(self, world, fn, args, shown, rng):
        a, b = args
        return rng.choice([f"gcd({a}, {b}) 是否等于 {shown}？", f"{a} 和 {b} 的最大公约数是 {shown} 吗？",
                           f"是不是两个数 {a} 和 {b} 的最大公约数为 {shown}？"])

    def conclude(self, world, fn, args, v):
        return f"所以 {args[0]} 和 {args[1]} 的最大公约数是 {v}。"


def _sub_steps(a: int, b: int) -> int:
    n = 0
    while a != b:
        a, b = (a - b, b) if a > b else (a, b - a)
        n += 1
    return n


class Lcm(Gcd):
    name, fns = "lcm", ("lcm",)

    def intro(self, world, style):
        return _pick_intro(style, ["有一组程序可以用来计算两个数的最小公倍数（LCM）。该程序使用了最大公约数（GCD）来帮助计算：",
                                   "下面的规则先求最大公约数，再由它求最小公倍数：",
                                   "考虑以下计算最小公倍数 lcm(A, B) 的规则："])

    def rules(self, world):
        return [*super().rules(world), "两个数的最小公倍数等于 A 除以 gcd(A, B) 再乘以 B，即 lcm(A, B) = A ÷ gcd(A, B) × B。"]

    def draw(self, rng, d, world, fn):
        for _ in range(30):
            a, b = super().draw(rng, d, world, fn)
            if a * b <= 2000 and a != b:
                return [a, b]
        raise Rejected("no lcm pair")

    def near(self, world, fn, args, v):
        a, b = args
        g = math.gcd(a, b)
        return [a * b, g, max(a, b), v * 2, v + g, v - g, v // 2]

    def ask(self, world, fn, args, rng):
        a, b = args
        return rng.choice([f"{a} 和 {b} 的最小公倍数是多少？", f"lcm({a}, {b}) 的值是多少？"])

    def ask_yn(self, world, fn, args, shown, rng):
        a, b = args
        return rng.choice([f"{a} 和 {b} 的最小公倍数是 {shown}，这个说法正确吗？", f"lcm({a}, {b}) 是否等于 {shown}？"])

    def conclude(self, world, fn, args, v):
        return f"所以 {args[0]} 和 {args[1]} 的最小公倍数是 {v}。"


class Factorial(Kind):
    name, fns = "factorial", ("factorial",)

    def setup(self, rng, d):
        return {"base": rng.choice([0, 0, 1])}

    def intro(self, world, style):
        return _pick_intro(style, ["下面是一道关于计算阶乘的选择题：\n\n已知如下规则：",
                                   "有一个递归算法用于计算一个数字的阶乘。该算法使用如下规则：",
                                   "考虑以下定义阶乘的规则：", "已知阶乘按如下规则计算："])

    def rules(self, world):
        b = world["base"]
        return [f"{b} 的阶乘是 1。", f"对于任意大于 {b} 的整数 N，N 的阶乘等于 N 乘以 N-1 的阶乘。"]

    def draw(self, rng, d, world, fn):
        return [rng.randint(max(2, world["base"] + 1), 4 + 2 * d.depth)]

    def near(self, world, fn, args, v):
        (n,) = args
        return [math.factorial(n - 1), math.factorial(n + 1), v + n, v - n, n * (n - 1), n * (n + 1) // 2, v * 2]

    def far(self, rng, world, fn, args, v):
        (n,) = args
        return [math.factorial(k) for k in range(2, n + 3) if k != n] + [v + rng.randint(1, 9) * 10]

    def ask(self, world, fn, args, rng):
        return rng.choice([f"{args[0]} 的阶乘是多少？", f"{args[0]}的阶乘的值是多少？", f"计算 {args[0]}! 的结果是？"])

    def ask_yn(self, world, fn, args, shown, rng):
        return rng.choice([f"{args[0]} 的阶乘是 {shown} 吗？", f"{args[0]} 的阶乘是否等于 {shown}？"])

    def conclude(self, world, fn, args, v):
        return f"所以 {args[0]} 的阶乘是 {v}。"


class Power(Kind):
    name, fns = "power", ("power",)

    def intro(self, world, style):
        return _pick_intro(style, ["有一个递归程序用来计算 X 的 N 次幂，规则如下：", "考虑以下计算幂的规则：",
                                   "已知如下关于求幂 power(X, N) 的规则："])

    def rules(self, world):
        return ["任何数 X 的 0 次幂都是 1。", "当 N 大于 0 时，X 的 N 次幂等于 X 乘以 X 的 N-1 次幂。"]

    def draw(self, rng, d, world, fn):
        x = rng.randint(2, 5)
        top = {2: 10, 3: 6, 4: 5, 5: 4}[x]
        return [x, rng.randint(2, min(top, 3 + 2 * d.depth))]

    def near(self, world, fn, args, v):
        x, n = args
        return [x ** (n - 1), x ** (n + 1), x * n, (x + 1) ** n, n ** x, v + x, v - x]

    def ask(self, world, fn, args, rng):
        x, n = args
        return rng.choice([f"{x} 的 {n} 次幂是多少？", f"power({x}, {n}) 的结果是多少？"])

    def ask_yn(self, world, fn, args, shown, rng):
        x, n = args
        return rng.choice([f"{x} 的 {n} 次幂是 {shown} 吗？", f"power({x}, {n}) 是否等于 {shown}？"])

    def conclude(self, world, fn, args, v):
        return f"所以 {args[0]} 的 {args[1]} 次幂是 {v}。"


class Fib(Kind):
    name, fns = "fib", ("fib",)

    def setup(self, rng, d):
        start, vals = rng.choice([(0, [1, 1]), (1, [1, 1]), (0, [0, 1])])
        return {"fib_start": start, "fib_vals": vals}

    def intro(self, world, style):
        return _pick_intro(style, ["有一个函数用来计算斐波那契数列中的第N个数字。斐波那契数列定义如下：",
                                   "考虑以下斐波那契数列 F(N) 的定义：", "已知如下关于斐波那契数列的规则："])

    def rules(self, world):
        s, (a, b) = world["fib_start"], world["fib_vals"]
        return [f"斐波那契数列的第{s}个数字是{a}，即 F({s}) = {a}。", f"斐波那契数列的第{s + 1}个数字是{b}，即 F({s + 1}) = {b}。",
                f"对于大于{s + 1}的整数N，第N个数字是第N-1个数字和第N-2个数字之和，即 F(N) = F(N-1) + F(N-2)。"]

    def draw(self, rng, d, world, fn):
        s = world["fib_start"]
        return [rng.randint(s + 3, s + 5 + 2 * d.depth)]

    def near(self, world, fn, args, v):
        (n,) = args
        return [_fib_plain(world, n - 1), _fib_plain(world, n + 1), _fib_plain(world, n - 2), v + 1, v - 1,
                _fib_plain({"fib_start": 0, "fib_vals": [0, 1]}, n)]

    def ask(self, world, fn, args, rng):
        return rng.choice([f"斐波那契数列中的第{args[0]}个数字是什么？", f"F({args[0]}) 的值是多少？"])

    def ask_yn(self, world, fn, args, shown, rng):
        return rng.choice([f"斐波那契数列中的第{args[0]}个数字是{shown}吗？", f"F({args[0]}) 是否等于 {shown}？"])

    def conclude(self, world, fn, args, v):
        return f"所以 F({args[0]}) = {v}。"


def _fib_plain(world, n):  # distractor values only
    s, (a, b) = world["fib_start"], world["fib_vals"]
    for _ in range(n - s):
        a, b = b, a + b
    return a


class Sum(Kind):
    name, fns = "sum", ("sum",)

    def setup(self, rng, d):
        return {"from_one": rng.random() < 0.5}

    def intro(self, world, style):
        if world["from_one"]:
            return _pick_intro(style, ["有一个递归函数 sum(A, B) 计算从 A 到 B 的所有整数之和。我们用它求从 1 到 N 的累加和，规则如下：",
                                       "考虑以下计算连续整数之和 sum(A, B) 的规则：",
                                       "思考一个自然数的累加问题：从 1 加到 N。计算用到的规则如下："])
        return _pick_intro(style, ["有一个函数 sum(A, B) 计算两个数之间（含两端）所有整数的和，规则如下：",
                                   "考虑以下计算 A 到 B 之间所有整数之和的规则：", "已知如下求和规则："])

    def rules(self, world):
        return ["如果 A 大于 B，则 sum(A, B) = 0。", "否则，sum(A, B) 等于 A 加上 sum(A+1, B)。"]

    def draw(self, rng, d, world, fn):
        if world["from_one"]:
            return [1, rng.randint(3, 5 + 3 * d.depth)]
        a = rng.randint(2, 4 + 2 * d.entities)
        return [a, a + rng.randint(2, 2 + 2 * d.depth)]

    def near(self, world, fn, args, v):
        a, b = args
        return [v - b, v + b + 1, v - a, v + a - 1, v + 1, v - 1, a * b]

    def ask(self, world, fn, args, rng):
        a, b = args
        if a == 1 and rng.random() < 0.6:
            return rng.choice([f"从 1 到 {b} 的所有整数的累加和是多少？", f"计算从1到{b}的所有整数的和是多少？"])
        return rng.choice([f"sum({a}, {b}) 的值是多少？", f"从 {a} 到 {b}（含两端）所有整数的和是多少？"])

    def ask_yn(self, world, fn, args, shown, rng):
        a, b = args
        return rng.choice([f"sum({a}, {b}) 的值是 {shown} 吗？", f"从 {a} 到 {b} 所有整数的和是否等于 {shown}？"])

    def conclude(self, world, fn, args, v):
        return f"所以 sum({args[0]}, {args[1]}) = {v}。"


class Digits(Kind):
    name, fns = "digits", ("digits",)

    def intro(self, world, style):
        return _pick_intro(style, ["有一个递归函数 ds(N) 计算一个非负整数的各位数字之和，规则如下：",
                                   "考虑以下求数字各位数字之和的规则：", "已知如下关于数字之和 ds(N) 的规则："])

    def rules(self, world):
        return ["如果 N 小于 10，则 ds(N) = N。", "否则，ds(N) 等于 N 除以 10 的余数加上 ds(N 除以 10 的商)。"]

    def draw(self, rng, d, world, fn):
        k = rng.randint(2, 2 + d.depth)
        return [rng.randint(10 ** (k - 1), 10 ** k - 1)]

    def near(self, world, fn, args, v):
        (n,) = args
        digs = [int(c) for c in str(n)]
        prod = math.prod(digs)
        return [v + 1, v - 1, v - digs[-1], v - digs[0], prod, len(digs), v + 10]

    def ask(self, world, fn, args, rng):
        return rng.choice([f"数字 {args[0]} 的各位数字之和是多少？", f"ds({args[0]}) 的值是多少？"])

    def ask_yn(self, world, fn, args, shown, rng):
        return rng.choice([f"ds({args[0]}) 是否等于 {shown}？", f"数字 {args[0]} 的各位数字之和是 {shown} 吗？"])

    def conclude(self, world, fn, args, v):
        return f"所以 ds({args[0]}) = {v}。"


_ODD_COMPOSITES = [9, 15, 21, 25, 27, 33, 35, 39, 45, 49, 51, 55, 57, 63, 65, 69, 75, 77, 81, 85, 87, 91, 93, 95,
                   99, 111, 115, 117, 119, 121, 133, 143, 161, 169, 187, 203, 209, 221]
_PRIMES = [p for p in range(2, 230) if all(p % k for k in range(2, int(p ** 0.5) + 1))]


class Prime(Kind):
    name, fns = "prime", ("spf",)

    def intro(self, world, style):
        return _pick_intro(style, ["质数是指大于1的自然数，除了1和它本身外，不能被其他自然数整除。判断质数的规则如下：",
                                   "有一个函数用来检查一个数是否为质数，规则如下：", "考虑以下关于质数（素数）的规则："])

    def rules(self, world):
        return ["小于 2 的数不是质数。", "2 是质数；大于 2 的数 N，如果不能被 2 到 √N 之间的任何整数整除，则 N 是质数。",
                "如果 N 能被某个大于 1 且小于 N 的整数整除，则 N 不是质数，能整除它的最小的那个数是 N 的最小质因数。"]

    def draw(self, rng, d, world, fn):
        hi = 40 + 30 * d.entities
        if fn == "is_prime":
            pool = _PRIMES if rng.random() < 0.5 else _ODD_COMPOSITES + [4, 6, 8, 10, 12, 14, 1]
            return [rng.choice([n for n in pool if n <= hi])]
        return [rng.choice([n for n in _ODD_COMPOSITES if n <= hi] + [rng.randrange(4, hi, 2)])]

    def near(self, world, fn, args, v):
        (n,) = args
        return [n // v, 2, 3, 5, 7, v + 2, 1, n]

    def ask(self, world, fn, args, rng):
        return f"{args[0]} 的最小质因数是多少？"

    def ask_yn(self, world, fn, args, shown, rng):
        if fn == "is_prime":
            return rng.choice([f"数字{args[0]}是质数吗？", f"{args[0]} 是否是质数？"])
        return f"{args[0]} 的最小质因数是 {shown} 吗？"

    def conclude(self, world, fn, args, v):
        return ""

    def pick_question(self, rng, d, world):
        hi = 40 + 30 * d.entities
        p = rng.choice([n for n in _PRIMES if 10 < n <= hi])
        return "is_prime", "以下哪个数是质数？", p, [n for n in _ODD_COMPOSITES if n <= hi + 20], \
            [n for n in range(4, hi) if n % 2 == 0]


class Perfect(Kind):
    name, fns = "perfect", ("divisor_sum",)

    def intro(self, world, style):
        return _pick_intro(style, ["在数学中，一个“完全数”是指它的所有真因数之和等于它本身的数。相关规则如下：",
                                   "考虑以下关于完全数的规则：", "有一个程序判断一个数是否为完全数，它依据以下规则："])

    def rules(self, world):
        return ["一个数的真因数是除了它本身以外的所有正因数。", "如果一个数的所有真因数之和等于它本身，则它是完全数。"]

    def draw(self, rng, d, world, fn):
        if fn == "is_perfect" and rng.random() < 0.5:
            return [rng.choice([6, 28])]
        return [rng.choice([8, 10, 12, 14, 15, 16, 18, 20, 21, 24, 27, 30, 32, 36, 40])]

    def near(self, world, fn, args, v):
        (n,) = args
        return [v + n, v - 1, v + 1, n, v - 2]

    def ask(self, world, fn, args, rng):
        return f"{args[0]} 的所有真因数之和是多少？"

    def ask_yn(self, world, fn, args, shown, rng):
        if fn == "is_perfect":
            return rng.choice([f"数{args[0]}是完全数吗？", f"{args[0]} 是否是完全数？"])
        return f"{args[0]} 的真因数之和是 {shown} 吗？"

    def conclude(self, world, fn, args, v):
        return "" if fn == "is_perfect" else f"所以 {args[0]} 的真因数之和是 {v}。"

    def pick_question(self, rng, d, world):
        return "is_perfect", "以下哪个数是完全数？", rng.choice([6, 28]), \
            [8, 12, 18, 20, 24, 30, 27], [4, 9, 10, 14, 15, 16, 21, 22, 25, 26, 32]


_ROOTS = {0: "没有实数解", 1: "有一个实数解", 2: "有两个不同的实数解"}


class Quadratic(Kind):
    name, fns = "quadratic", ("nroots", "disc")

    def intro(self, world, style):
        return _pick_intro(style, ["有一个方程 AX^2 + BX + C = 0 的系数分别为A, B和C，下面是一些已知的规则：",
                                   "考虑一元二次方程 AX^2 + BX + C = 0（A 不为 0），其解的个数由以下规则确定：",
                                   "已知如下关于二次方程实数解的规则："])

    def rules(self, world):
        return ["如果B^2 - 4AC = 0，则方程有一个实数解。", "如果B^2 - 4AC > 0，则方程有两个不同的实数解。",
                "如果B^2 - 4AC < 0，则方程没有实数解（有两个不同的复数解）。"]

    def draw(self, rng, d, world, fn):
        a = rng.randint(1, 2 + d.depth)
        r = rng.random()
        if r < 0.3:  # a zero discriminant: B = 2k, AC = k^2
            k = rng.randint(1, 6)
            divs = [x for x in range(1, k * k + 1) if (k * k) % x == 0]
            a = rng.choice(divs)
            return [a, 2 * k, k * k // a] if rng.random() < 0.5 else [a, -2 * k, k * k // a]
        return [a, rng.randint(-9, 9), rng.randint(-5 - d.entities, 5 + d.entities)]

    def near(self, world, fn, args, v):
        a, b, c = args
        if fn == "nroots":
            return [0, 1, 2]
        return [b * b + 4 * a * c, b * b - 2 * a * c, 4 * a * c - b * b, b - 4 * a * c, b * b - 4 * a - c, 2 * b - 4 * a * c]

    def far(self, rng, world, fn, args, v):
        return [] if fn == "nroots" else super().far(rng, world, fn, args, v)

    def render(self, world, fn, v):
        return _ROOTS[v] if fn == "nroots" else str(v)

    def ask(self, world, fn, args, rng):
        a, b, c = args
        if fn == "nroots":
            return f"当系数A={a}, B={b}, C={c}时，方程有几个实数解？"
        return f"当系数A={a}, B={b}, C={c}时，B^2 - 4AC 的值是多少？"

    def ask_yn(self, world, fn, args, shown, rng):
        a, b, c = args
        if fn == "nroots":
            return f"当系数A={a}, B={b}, C={c}时，方程{shown}吗？"
        return f"当系数A={a}, B={b}, C={c}时，B^2 - 4AC 是否等于 {shown}？"

    def conclude(self, world, fn, args, v):
        return ""


class Binary(Kind):
    name, fns = "binary", ("binary", "from_binary")

    def intro(self, world, style):
        return _pick_intro(style, ["考虑一个算法将十进制数转换为二进制形式，规则如下：",
                                   "有一个递归程序把非负整数转换成二进制表示，它使用以下规则：",
                                   "已知如下关于十进制与二进制转换的规则："])

    def rules(self, world):
        return ["0 的二进制表示是 0，1 的二进制表示是 1。",
                "对于大于 1 的数 N，N 的二进制表示是 N 除以 2 的商的二进制表示，后面接上 N 除以 2 的余数。",
                "反过来，二进制数从最高位起，每次把已得结果乘以 2 再加上下一位，得到它的十进制值。"]

    def draw(self, rng, d, world, fn):
        n = rng.randint(3, 8 * 2 ** d.depth + 7)
        return [n] if fn == "binary" else [format(n, "b")]

    def near(self, world, fn, args, v):
        if fn == "from_binary":
            s = args[0]
            return [v + 1, v - 1, int(s[::-1], 2), v * 2, v // 2, int(s[1:] or "0", 2)]
        n = args[0]
        flips = [v[:i] + ("1" if v[i] == "0" else "0") + v[i + 1:] for i in range(1, len(v))]
        return [v[::-1], format(n + 1, "b"), format(n - 1, "b"), v[:-1], v + "0", *flips]

    def far(self, rng, world, fn, args, v):
        if fn == "from_binary":
            return super().far(rng, world, fn, args, v)
        n = args[0]
        return [format(rng.randint(max(1, n // 2), n * 2), "b") for _ in range(8)]

    def ask(self, world, fn, args, rng):
        if fn == "from_binary":
            return f"二进制数 {args[0]} 对应的十进制数是多少？"
        return rng.choice([f"当给定十进制数 {args[0]} 时，其对应的二进制形式是多少？", f"十进制数 {args[0]} 转换为二进制的结果是什么？"])

    def ask_yn(self, world, fn, args, shown, rng):
        if fn == "from_binary":
            return f"二进制数 {args[0]} 对应的十进制数是否是 {shown}？"
        return f"十进制数 {args[0]} 转换为二进制的结果是否是 '{shown}'？"

    def conclude(self, world, fn, args, v):
        return f"所以十进制数 {args[0]} 的二进制形式是 {v}。" if fn == "binary" else f"所以二进制数 {args[0]} 是十进制的 {v}。"


class Peano(Kind):
    name, fns = "peano", ("peano_add", "peano_value")

    def intro(self, world, style):
        return _pick_intro(style, ["下面用后继函数 s 表示自然数（皮亚诺数），并定义加法 add(X, Y, Z)（表示 X + Y = Z）：",
                                   "考虑以下用 0 和后继 s( ) 表示自然数的程序：", "有一个逻辑程序用 succ 的形式 s(X) 表示自然数，规则如下："])

    def rules(self, world):
        return ["0 是自然数；s(X) 表示 X 的后继，即 X + 1，例如 s(s(0)) 表示 2。", "add(0, Y, Y)：0 加 Y 等于 Y。",
                "add(s(X), Y, s(Z))：如果 X 加 Y 等于 Z，则 s(X) 加 Y 等于 s(Z)。"]

    def draw(self, rng, d, world, fn):
        if fn == "peano_value":
            return [rng.randint(2, 4 + d.depth * 2)]
        return [rng.randint(1, 2 + d.depth), rng.randint(0, 2 + d.depth)]

    def near(self, world, fn, args, v):
        out = [v + 1, v - 1]
        if fn == "peano_add":
            x, y = args
            out += [x, y, x * y, v + 2]
        return [k for k in out if k >= 0]

    def far(self, rng, world, fn, args, v):
        return [rng.randint(0, v + 3) for _ in range(8)]

    def render(self, world, fn, v):
        return _peano(v) if fn == "peano_add" else str(v)

    def ask(self, world, fn, args, rng):
        if fn == "peano_value":
            return f"{_peano(args[0])} 表示的自然数是几？"
        x, y = args
        return rng.choice([f"查询 add({_peano(x)}, {_peano(y)}, Z) 时，Z 是什么？", f"{_peano(x)} 加 {_peano(y)} 的结果是什么？"])

    def ask_yn(self, world, fn, args, shown, rng):
        if fn == "peano_value":
            return f"{_peano(args[0])} 表示的自然数是 {shown} 吗？"
        x, y = args
        return f"add({_peano(x)}, {_peano(y)}, {shown}) 是否成立？"

    def conclude(self, world, fn, args, v):
        return ""


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
        return _pick_intro(style, ["有一个分段函数 f(X)，它根据 X 的取值范围使用不同的规则：",
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
        return _pick_intro(style, ["有一个函数 f(X, Y)，它根据 X 和 Y 的范围按以下规则计算：",
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
        return _pick_intro(style, ["某次考试按照分数评定等级，评分规则如下：", "有一个程序根据学生的分数给出等级，规则如下：",
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


class Div(Kind):
    name, fns = "div", ("quot", "rem")

    def intro(self, world, style):
        return _pick_intro(style, ["有一个程序用反复相减的方法计算整数除法的商和余数，规则如下：",
                                   "考虑以下计算 A 除以 B 的商和余数的规则（A、B 为正整数）：", "已知如下关于带余除法的规则："])

    def rules(self, world):
        return ["如果 A 小于 B，则 A 除以 B 的商为 0，余数为 A。",
                "如果 A 大于或等于 B，则 A 除以 B 的商等于 (A - B) 除以 B 的商加 1，余数等于 (A - B) 除以 B 的余数。"]

    def draw(self, rng, d, world, fn):
        b = rng.randint(2, 3 + d.entities)
        return [b * rng.randint(1, 3 + 2 * d.depth) + rng.randint(0, b - 1), b]

    def near(self, world, fn, args, v):
        a, b = args
        q, r = a // b, a % b
        return [q, r, q + 1, q - 1, r + 1, r + b, b - r]

    def ask(self, world, fn, args, rng):
        return f"{args[0]} 除以 {args[1]} 的{'商' if fn == 'quot' else '余数'}是多少？"

    def ask_yn(self, world, fn, args, shown, rng):
        return f"{args[0]} 除以 {args[1]} 的{'商' if fn == 'quot' else '余数'}是 {shown} 吗？"

    def conclude(self, world, fn, args, v):
        return ""


KINDS = {k.name: k for k in (Gcd(), Lcm(), Factorial(), Power(), Fib(), Sum(), Digits(), Prime(), Perfect(),
                             Quadratic(), Binary(), Peano(), Piecewise(), F2(), Grade(), Div())}
# relative frequency in the real data: gcd/factorial/sums dominate, exotic ones are rarer
KIND_WEIGHTS = {"gcd": 5, "lcm": 2, "factorial": 4, "power": 2, "fib": 2, "sum": 3, "digits": 2, "prime": 3,
                "perfect": 1, "quadratic": 2, "binary": 2, "peano": 2, "piecewise": 3, "f2": 2, "grade": 3, "div": 2}
_KIND_NAMES = list(KIND_WEIGHTS)
_KIND_W = [KIND_WEIGHTS[k] for k in _KIND_NAMES]
# extra yes/no-only queries a kind asks besides its value ones
_YN_ONLY = {"prime": "is_prime", "perfect": "is_perfect"}


# ================================================================ generation


def generate(rng: random.Random, difficulty: Difficulty, style: Style) -> Puzzle:
    kind = KINDS[rng.choices(_KIND_NAMES, _KIND_W)[0]]
    world = {"kind": kind.name, **kind.setup(rng, difficulty)}
    problem = problem_text(kind.intro(world, style), kind.rules(world), style)
    questions = collect_questions(lambda: _question(rng, difficulty, kind, world), rng.choice([1, 2, 3, 4, 4, 4]))
    return Puzzle("numeric", problem, questions, world=world)


def _question(rng, d, kind: Kind, world: dict) -> SynthQuestion:
    r = rng.random()
    if r < 0.15:
        pick = kind.pick_question(rng, d, world)
        if pick is not None:
            return _pick(rng, d, kind, world, *pick)
    fns = list(kind.fns) + ([_YN_ONLY[kind.name]] if kind.name in _YN_ONLY else [])
    fn = rng.choice(fns)
    args = kind.draw(rng, d, world, fn)
    v, steps = TRACE[fn](world, args)
    end = kind.conclude(world, fn, args, v)
    if end:
        steps = [*steps, end]
    if isinstance(v, bool):
        options, answer = yes_no(rng, v)
        claims = [[args, True, o == "是"] for o in options]
        return SynthQuestion(kind.ask_yn(world, fn, args, "", rng), options, answer, steps,
                             meta={"fn": fn, "claims": claims})
    if r < 0.3:  # 是/否 about one claimed value, true half the time
        shown_v = v
        if rng.random() < 0.5:
            wrong = [x for x in _near_far(rng, d, kind, world, fn, args, v) if x != v]
            if not wrong:
                raise Rejected("no wrong value")
            shown_v = wrong[0]
        shown = kind.render(world, fn, shown_v)
        options, answer = yes_no(rng, shown_v == v)
        claims = [[args, shown_v, o == "是"] for o in options]
        if shown_v != v:
            steps = [*steps, f"{kind.render(world, fn, v)} 不等于 {shown}，所以题中的说法不成立。"]
        return SynthQuestion(kind.ask_yn(world, fn, args, shown, rng), options, answer, steps,
                             meta={"fn": fn, "claims": claims})
    n = 3 if fn == "nroots" else n_options(rng)
    if fn == "grade":
        n = min(n, len(world["grades"]))
    true = kind.render(world, fn, v)
    by_text = {}
    for x in _near_far(rng, d, kind, world, fn, args, v, n - 1):
        by_text.setdefault(kind.render(world, fn, x), x)
    by_text.pop(true, None)
    options, answer = make_options(rng, true, list(by_text), n)
    claims = [[args, v if i == answer else by_text[o], True] for i, o in enumerate(options)]
    return SynthQuestion(kind.ask(world, fn, args, rng), options, answer, steps, meta={"fn": fn, "claims": claims})


def _near_far(rng, d, kind, world, fn, args, v, k: int = 1) -> list:
    near = [x for x in kind.near(world, fn, args, v) if x != v and (isinstance(x, str) or x >= 0 or v < 0)]
    far = [x for x in kind.far(rng, world, fn, args, v) if x != v and (isinstance(x, str) or x >= 0 or v < 0)]
    # pick_distractors works on strings; keep a value per string (rendering is one-to-one)
    table = {}
    for x in near + far:
        table.setdefault(repr(x), x)
    out = pick_distractors(rng, [repr(x) for x in near], [repr(x) for x in far], max(k, 1) + 2, d.close)
    return [table[s] for s in out]


def _pick(rng, d, kind: Kind, world: dict, fn: str, body: str, true_n: int, near: list, far: list) -> SynthQuestion:
    n = n_options(rng)
    ds = pick_distractors(rng, [str(x) for x in near if x != true_n], [str(x) for x in far if x != true_n], n - 1,
                          d.close)
    options, answer = make_options(rng, str(true_n), ds, n)
    steps = []
    for o in options:
        val, lines = TRACE[fn](world, [int(o)])
        steps.append(lines[-1])
    steps.append(f"只有 {true_n} 满足条件。")
    claims = [[[int(o)], True, True] for o in options]
    return SynthQuestion(body, options, answer, steps, meta={"fn": fn, "claims": claims})


# ================================================================ brute-force checker (plain Python arithmetic)


def _c_is_prime(n: int) -> bool:
    return n >= 2 and all(n % k for k in range(2, n))


def _c_piecewise(world, x):
    t1, t2 = world["ts"]
    p, q = world["pieces"][sum(x >= t for t in (t1, t2))]
    return p * x + q


def _c_f2(world, x, y):
    a, b = world["ab"]
    e = world["exprs"][2 if x < a else (1 if y < b else 0)]
    return {"add": x + y, "sub": x - y, "mul": x * y, "dbl": x + x + y, "max": x if x > y else y}[e]


def _c_fib(world, n):
    seq = list(world["fib_vals"])
    while len(seq) <= n - world["fib_start"]:
        seq.append(seq[-1] + seq[-2])
    return seq[n - world["fib_start"]]


def _c_grade(world, x):
    for t, g in zip(world["ts"], world["grades"], strict=False):
        if x >= t:
            return g
    return world["grades"][-1]


TRUTH = {
    "gcd": lambda w, a: math.gcd(*a),
    "lcm": lambda w, a: a[0] * a[1] // math.gcd(*a),
    "factorial": lambda w, a: math.factorial(a[0]),
    "power": lambda w, a: pow(a[0], a[1]),
    "fib": lambda w, a: _c_fib(w, a[0]),
    "sum": lambda w, a: sum(range(a[0], a[1] + 1)),
    "digits": lambda w, a: sum(int(c) for c in str(a[0])),
    "is_prime": lambda w, a: _c_is_prime(a[0]),
    "spf": lambda w, a: min(k for k in range(2, a[0] + 1) if a[0] % k == 0),
    "divisor_sum": lambda w, a: sum(k for k in range(1, a[0]) if a[0] % k == 0),
    "is_perfect": lambda w, a: sum(k for k in range(1, a[0]) if a[0] % k == 0) == a[0],
    "disc": lambda w, a: a[1] ** 2 - 4 * a[0] * a[2],
    "nroots": lambda w, a: len({(-a[1] + s * math.sqrt(a[1] ** 2 - 4 * a[0] * a[2])) / (2 * a[0]) for s in (1, -1)})
    if a[1] ** 2 >= 4 * a[0] * a[2] else 0,
    "binary": lambda w, a: bin(a[0])[2:],
    "from_binary": lambda w, a: int(a[0], 2),
    "peano_add": lambda w, a: a[0] + a[1],
    "peano_value": lambda w, a: a[0],
    "piecewise": lambda w, a: _c_piecewise(w, a[0]),
    "f2": lambda w, a: _c_f2(w, *a),
    "grade": lambda w, a: _c_grade(w, a[0]),
    "quot": lambda w, a: divmod(*a)[0],
    "rem": lambda w, a: divmod(*a)[1],
}


def check(puzzle: Puzzle, question_index: int) -> list[bool]:
    """Truth of each option: the stored query recomputed with Python's arithmetic, none of the tracer."""
    meta = puzzle.questions[question_index].meta
    f = TRUTH[meta["fn"]]
    return [(f(puzzle.world, args) == value) == asserted for args, value, asserted in meta["claims"]]
