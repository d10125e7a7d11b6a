"""Divisibility predicates: primes (and the smallest prime factor), proper-divisor sums and perfect
numbers."""

from __future__ import annotations

from ..programs.kit import Names, block
from .kind import Function, Kind, pick_intro


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


def _c_is_prime(n: int) -> bool:
    return n >= 2 and all(n % k for k in range(2, n))


_ODD_COMPOSITES = [9, 15, 21, 25, 27, 33, 35, 39, 45, 49, 51, 55, 57, 63, 65, 69, 75, 77, 81, 85, 87, 91, 93, 95,
                   99, 111, 115, 117, 119, 121, 133, 143, 161, 169, 187, 203, 209, 221]
_PRIMES = [p for p in range(2, 230) if all(p % k for k in range(2, int(p ** 0.5) + 1))]


class Prime(Kind):
    name, fns, yes_no_fns = "prime", ("spf",), ("is_prime",)

    def intro(self, world, style):
        return pick_intro(style, ["质数是指大于1的自然数，除了1和它本身外，不能被其他自然数整除。判断质数的规则如下：",
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
    name, fns, yes_no_fns = "perfect", ("divisor_sum",), ("is_perfect",)

    def intro(self, world, style):
        return pick_intro(style, ["在数学中，一个“完全数”是指它的所有真因数之和等于它本身的数。相关规则如下：",
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


# ---------------------------------------------------------------- programs


def _is_prime_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    f = nm("is_prime", "prime", "check_prime")
    if loop:
        return f, block(f"def {f}(n):", "    if n < 2:", "        return False", "    k = 2", "    while k * k <= n:",
                        "        if n % k == 0:", "            return False", "        k += 1", "    return True")
    return f, block(f"def {f}(n):", "    return n >= 2 and all(n % k != 0 for k in range(2, int(n ** 0.5) + 1))")


def _spf_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    f = nm("spf", "smallest_factor", "least_prime_factor")
    return f, block(f"def {f}(n):", "    k = 2", "    while n % k != 0:", "        k += 1", "    return k")


def _divisor_sum_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    d = nm("divisor_sum", "proper_sum", "sum_divisors")
    return d, block(f"def {d}(n):", "    return sum(k for k in range(1, n) if n % k == 0)  # 真因数之和")


def _is_perfect_code(w: dict, nm: Names, loop: bool) -> tuple[str, str]:
    d, code = _divisor_sum_code(w, nm, loop)
    f = nm("is_perfect", "perfect", "check_perfect")
    return f, code + "\n\n" + block(f"def {f}(n):", f"    return {d}(n) == n")


KINDS = (Prime(), Perfect())
FUNCTIONS = (
    Function("is_prime", _t_is_prime, lambda w, a: _c_is_prime(a[0]), _is_prime_code),
    Function("spf", _t_spf, lambda w, a: min(k for k in range(2, a[0] + 1) if a[0] % k == 0), _spf_code),
    Function("divisor_sum", _t_divisor_sum, lambda w, a: sum(k for k in range(1, a[0]) if a[0] % k == 0),
             _divisor_sum_code),
    Function("is_perfect", _t_is_perfect, lambda w, a: sum(k for k in range(1, a[0]) if a[0] % k == 0) == a[0],
             _is_perfect_code),
)
