"""Divisors: gcd (by subtraction or by remainders), lcm via gcd, and division with remainder by repeated
subtraction."""

from __future__ import annotations

import math

from ..core import MAX_LINES, Rejected, fold
from ..programs.kit import Names, block
from .kind import Function, Kind, pick_intro, rng_pair


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


class Gcd(Kind):
    name, fns = "gcd", ("gcd",)

    def setup(self, rng, d):
        return {"gcd": rng.choice(["sub", "mod"])}

    def intro(self, world, style):
        return pick_intro(style, ["下面是计算两个正整数最大公约数（GCD）的一组规则：",
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
            a, b = rng_pair(rng, d, 4 + 3 * d.entities)
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
        return pick_intro(style, ["有一组程序可以用来计算两个数的最小公倍数（LCM）。该程序使用了最大公约数（GCD）来帮助计算：",
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


class Div(Kind):
    name, fns = "div", ("quot", "rem")

    def intro(self, world, style):
        return pick_intro(style, ["有一个程序用反复相减的方法计算整数除法的商和余数，规则如下：",
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


# ---------------------------------------------------------------- programs


def _gcd_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    g = nm("gcd", "gcd_of", "common_divisor")
    if w["gcd"] == "mod":
        body = (["    while b != 0:", "        a, b = b, a % b", "    return a"] if loop else
                ["    if b == 0:  # 规则1", "        return a", f"    return {g}(b, a % b)  # 规则2"])
    else:
        body = (["    while a != b:", "        if a > b:", "            a = a - b", "        else:",
                 "            b = b - a", "    return a"] if loop else
                ["    if a == b:  # 规则1", "        return a", "    if a > b:  # 规则2",
                 f"        return {g}(a - b, b)", f"    return {g}(a, b - a)  # 规则3"])
    return g, block(f"def {g}(a, b):", *body)


def _lcm_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    g, code = _gcd_code(w, nm, loop)
    lcm = nm("lcm", "lcm_of", "common_multiple")
    return lcm, code + "\n\n" + block(f"def {lcm}(a, b):", f"    return a // {g}(a, b) * b")


def _div_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    f = nm("divide", "div_rem", "divmod_rule")
    return f, block(f"def {f}(a, b):", "    # 返回 (商, 余数)", "    if a < b:", "        return 0, a",
                    f"    q, r = {f}(a - b, b)", "    return q + 1, r")


KINDS = (Gcd(), Lcm(), Div())
FUNCTIONS = (
    Function("gcd", _t_gcd, lambda w, a: math.gcd(*a), _gcd_code),
    Function("lcm", _t_lcm, lambda w, a: a[0] * a[1] // math.gcd(*a), _lcm_code),
    Function("quot", lambda w, a: _t_div(w, a, 0), lambda w, a: divmod(*a)[0], _div_code, code_pick="[0]"),
    Function("rem", lambda w, a: _t_div(w, a, 1), lambda w, a: divmod(*a)[1], _div_code, code_pick="[1]"),
)
