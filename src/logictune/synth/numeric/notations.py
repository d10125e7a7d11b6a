"""Number notations: decimal to binary and back, and Peano numerals (0, s(0), s(s(0)) …) with their
addition."""

from __future__ import annotations

from ..core import MAX_LINES, fold
from ..programs.kit import Names, block
from .kind import Function, Kind, pick_intro


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


def peano(k: int) -> str:
    """The Peano numeral of ``k``: "s(s(0))" for 2."""
    return "s(" * k + "0" + ")" * k


def _t_peano_add(world, args):
    x, y = args
    lines = []
    for k in range(x, 0, -1):
        lines.append(f"add({peano(k)}, {peano(y)}, Z) 需要先求 add({peano(k - 1)}, {peano(y)}, Z')，"
                     f"Z = s(Z')（规则3）。")
    lines.append(f"add(0, {peano(y)}, {peano(y)})（规则2）。")
    lines = fold(lines, MAX_LINES - 1)
    lines.append(f"回代 {x} 层 s( )：Z = {peano(x + y)}。")
    return x + y, lines


def _t_peano_value(world, args):
    (k,) = args
    return k, [f"{peano(k)} 中 s 出现了 {k} 次，从 0 出发每个 s 加 1（规则1），表示 {k}。"]


class Binary(Kind):
    name, fns = "binary", ("binary", "from_binary")

    def intro(self, world, style):
        return pick_intro(style, ["考虑一个算法将十进制数转换为二进制形式，规则如下：",
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
        return pick_intro(style, ["下面用后继函数 s 表示自然数（皮亚诺数），并定义加法 add(X, Y, Z)（表示 X + Y = Z）：",
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
        return peano(v) if fn == "peano_add" else str(v)

    def ask(self, world, fn, args, rng):
        if fn == "peano_value":
            return f"{peano(args[0])} 表示的自然数是几？"
        x, y = args
        return rng.choice([f"查询 add({peano(x)}, {peano(y)}, Z) 时，Z 是什么？", f"{peano(x)} 加 {peano(y)} 的结果是什么？"])

    def ask_yn(self, world, fn, args, shown, rng):
        if fn == "peano_value":
            return f"{peano(args[0])} 表示的自然数是 {shown} 吗？"
        x, y = args
        return f"add({peano(x)}, {peano(y)}, {shown}) 是否成立？"

    def conclude(self, world, fn, args, v):
        return ""


# ---------------------------------------------------------------- programs


def _binary_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    f = nm("to_binary", "binary", "bin_str")
    if loop:
        return f, block(f"def {f}(n):", '    bits = ""', "    while n > 1:", "        bits = str(n % 2) + bits",
                        "        n //= 2", "    return str(n) + bits")
    return f, block(f"def {f}(n):", "    if n <= 1:", "        return str(n)", f"    return {f}(n // 2) + str(n % 2)")


def _from_binary_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    f = nm("from_binary", "to_decimal", "bin_value")
    return f, block(f"def {f}(s):", "    v = 0", "    for ch in s:", "        v = v * 2 + int(ch)", "    return v")


def _peano_add_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    f = nm("add", "peano_add", "plus")
    return f, block(f"def {f}(x, y):", '    if x == "0":  # add(0, Y, Y)', "        return y",
                    f'    return "s(" + {f}(x[2:-1], y) + ")"  # add(s(X), Y, s(Z))')


def _peano_value_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    f = nm("value", "to_int", "count_s")
    if loop:
        return f, block(f"def {f}(t):", '    return t.count("s")')
    return f, block(f"def {f}(t):", '    if t == "0":', "        return 0", f"    return 1 + {f}(t[2:-1])")


def _peano_args(args: list) -> list:
    return [peano(k) for k in args]


KINDS = (Binary(), Peano())
FUNCTIONS = (
    Function("binary", _t_binary, lambda w, a: bin(a[0])[2:], _binary_code),
    Function("from_binary", _t_from_binary, lambda w, a: int(a[0], 2), _from_binary_code),
    Function("peano_add", _t_peano_add, lambda w, a: a[0] + a[1], _peano_add_code, code_args=_peano_args,
             code_value=peano),
    Function("peano_value", _t_peano_value, lambda w, a: a[0], _peano_value_code, code_args=_peano_args),
)
