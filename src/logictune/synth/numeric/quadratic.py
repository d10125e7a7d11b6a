"""A quadratic's discriminant and its number of real roots."""

from __future__ import annotations

import math

from ..programs.kit import Names, block, lit
from .kind import Function, Kind, pick_intro

# the options of "方程有几个实数解？", by the number of roots
ROOTS = {0: "没有实数解", 1: "有一个实数解", 2: "有两个不同的实数解"}


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


class Quadratic(Kind):
    name, fns = "quadratic", ("nroots", "disc")

    def intro(self, world, style):
        return pick_intro(style, ["有一个方程 AX^2 + BX + C = 0 的系数分别为A, B和C，下面是一些已知的规则：",
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
        return ROOTS[v] if fn == "nroots" else str(v)

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


# ---------------------------------------------------------------- programs


def _disc_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    d = nm("disc", "discriminant", "delta")
    return d, block(f"def {d}(a, b, c):", "    return b * b - 4 * a * c")


def _nroots_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    d, code = _disc_code(w, nm, loop)
    f = nm("solutions", "roots", "real_roots")
    return f, code + "\n\n" + block(f"def {f}(a, b, c):", f"    d = {d}(a, b, c)",
                                    f"    if d == 0:\n        return {lit(ROOTS[1])}",
                                    f"    if d > 0:\n        return {lit(ROOTS[2])}", f"    return {lit(ROOTS[0])}")


def _c_nroots(w, a) -> int:
    if a[1] ** 2 < 4 * a[0] * a[2]:
        return 0
    return len({(-a[1] + s * math.sqrt(a[1] ** 2 - 4 * a[0] * a[2])) / (2 * a[0]) for s in (1, -1)})


KINDS = (Quadratic(),)
FUNCTIONS = (
    Function("disc", _t_disc, lambda w, a: a[1] ** 2 - 4 * a[0] * a[2], _disc_code),
    Function("nroots", _t_nroots, _c_nroots, _nroots_code, code_value=ROOTS.__getitem__),
)
