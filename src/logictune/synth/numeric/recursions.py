"""Functions defined by a base case and a recursive case: factorial, power, Fibonacci, sums of a range and
digit sums."""

from __future__ import annotations

import math

from ..core import fold
from ..programs.kit import Names, block
from .kind import Function, Kind, pick_intro


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


def _c_fib(world, n):
    seq = list(world["fib_vals"])
    while len(seq) <= n - world["fib_start"]:
        seq.append(seq[-1] + seq[-2])
    return seq[n - world["fib_start"]]


class Factorial(Kind):
    name, fns = "factorial", ("factorial",)

    def setup(self, rng, d):
        return {"base": rng.choice([0, 0, 1])}

    def intro(self, world, style):
        return pick_intro(style, ["下面是一道关于计算阶乘的选择题：\n\n已知如下规则：",
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
        return pick_intro(style, ["有一个递归程序用来计算 X 的 N 次幂，规则如下：", "考虑以下计算幂的规则：",
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
        return pick_intro(style, ["有一个函数用来计算斐波那契数列中的第N个数字。斐波那契数列定义如下：",
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
            return pick_intro(style, ["有一个递归函数 sum(A, B) 计算从 A 到 B 的所有整数之和。我们用它求从 1 到 N 的累加和，规则如下：",
                                       "考虑以下计算连续整数之和 sum(A, B) 的规则：",
                                       "思考一个自然数的累加问题：从 1 加到 N。计算用到的规则如下："])
        return pick_intro(style, ["有一个函数 sum(A, B) 计算两个数之间（含两端）所有整数的和，规则如下：",
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
        return pick_intro(style, ["有一个递归函数 ds(N) 计算一个非负整数的各位数字之和，规则如下：",
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


# ---------------------------------------------------------------- programs


def _factorial_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    f, base = nm("factorial", "fact", "fac"), w["base"]
    if loop:
        return f, block(f"def {f}(n):", "    v = 1", f"    for k in range({base + 1}, n + 1):", "        v = k * v",
                        "    return v")
    return f, block(f"def {f}(n):", f"    if n == {base}:", "        return 1", f"    return n * {f}(n - 1)")


def _power_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    f = nm("power", "pow_rule", "mypow")
    if loop:
        return f, block(f"def {f}(x, n):", "    v = 1", "    for _ in range(n):", "        v = x * v", "    return v")
    return f, block(f"def {f}(x, n):", "    if n == 0:", "        return 1", f"    return x * {f}(x, n - 1)")


def _fib_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    f, s, (a, b) = nm("F", "fib", "fibonacci"), w["fib_start"], w["fib_vals"]
    if loop:
        return f, block(f"def {f}(n):", f"    seq = {{{s}: {a}, {s + 1}: {b}}}", f"    for k in range({s + 2}, n + 1):",
                        "        seq[k] = seq[k - 1] + seq[k - 2]", "    return seq[n]")
    return f, block(f"def {f}(n):", f"    if n == {s}:", f"        return {a}", f"    if n == {s + 1}:",
                    f"        return {b}", f"    return {f}(n - 1) + {f}(n - 2)")


def _sum_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    f = nm("sum_range", "range_sum", "total")
    if loop:
        return f, block(f"def {f}(a, b):", "    v = 0", "    while a <= b:", "        v, a = v + a, a + 1",
                        "    return v")
    return f, block(f"def {f}(a, b):", "    if a > b:", "        return 0", f"    return a + {f}(a + 1, b)")


def _digits_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    f = nm("ds", "digit_sum", "digits_total")
    if loop:
        return f, block(f"def {f}(n):", "    v = 0", "    while n >= 10:", "        v, n = v + n % 10, n // 10",
                        "    return v + n")
    return f, block(f"def {f}(n):", "    if n < 10:", "        return n", f"    return n % 10 + {f}(n // 10)")


KINDS = (Factorial(), Power(), Fib(), Sum(), Digits())
FUNCTIONS = (
    Function("factorial", _t_factorial, lambda w, a: math.factorial(a[0]), _factorial_code),
    Function("power", _t_power, lambda w, a: pow(a[0], a[1]), _power_code),
    Function("fib", _t_fib, lambda w, a: _c_fib(w, a[0]), _fib_code),
    Function("sum", _t_sum, lambda w, a: sum(range(a[0], a[1] + 1)), _sum_code),
    Function("digits", _t_digits, lambda w, a: sum(int(c) for c in str(a[0])), _digits_code),
)
