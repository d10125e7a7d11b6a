"""Programs for numeric functions defined by rules: the problem's rules as one small Python function each
(recursive where the rules recurse, sometimes as the equivalent loop), the asked value computed, and the
option holding it chosen (or 是/否, or the one option the predicate holds for)."""

from __future__ import annotations

import random

from ..core import Puzzle
from ..numeric import _ROOTS, _peano
from .kit import Names, block, is_yes_no, lit, options_line, program, select, select_equal, select_yes_no

BOOL_FNS = ("is_prime", "is_perfect")


def _lin(p: int, q: int, x: str = "x") -> str:
    """p*x + q as code, written the way the rule states it."""
    term = "" if p == 0 else (x if p == 1 else f"{p} * {x}")
    if not term:
        return str(q)
    return term if q == 0 else f"{term} {'+' if q > 0 else '-'} {abs(q)}"


_F2_CODE = {"add": "x + y", "sub": "x - y", "mul": "x * y", "dbl": "2 * x + y", "max": "max(x, y)"}


def _functions(fn: str, w: dict, nm: Names, rng: random.Random) -> tuple[str, str]:
    """(the name to call, the definitions) of the rules behind ``fn``."""
    loop = rng.random() < 0.4  # the recursion written as the loop it unrolls to
    if fn in ("gcd", "lcm"):
        g = nm("gcd", "gcd_of", "common_divisor")
        if w["gcd"] == "mod":
            body = (["    while b != 0:", "        a, b = b, a % b", "    return a"] if loop else
                    ["    if b == 0:  # 规则1", "        return a", f"    return {g}(b, a % b)  # 规则2"])
        else:
            body = (["    while a != b:", "        if a > b:", "            a = a - b", "        else:",
                     "            b = b - a", "    return a"] if loop else
                    ["    if a == b:  # 规则1", "        return a", "    if a > b:  # 规则2",
                     f"        return {g}(a - b, b)", f"    return {g}(a, b - a)  # 规则3"])
        code = block(f"def {g}(a, b):", *body)
        if fn == "gcd":
            return g, code
        lcm = nm("lcm", "lcm_of", "common_multiple")
        return lcm, code + "\n\n" + block(f"def {lcm}(a, b):", f"    return a // {g}(a, b) * b")
    if fn == "factorial":
        f, base = nm("factorial", "fact", "fac"), w["base"]
        if loop:
            return f, block(f"def {f}(n):", "    v = 1", f"    for k in range({base + 1}, n + 1):", "        v = k * v",
                            "    return v")
        return f, block(f"def {f}(n):", f"    if n == {base}:", "        return 1", f"    return n * {f}(n - 1)")
    if fn == "power":
        f = nm("power", "pow_rule", "mypow")
        if loop:
            return f, block(f"def {f}(x, n):", "    v = 1", "    for _ in range(n):", "        v = x * v", "    return v")
        return f, block(f"def {f}(x, n):", "    if n == 0:", "        return 1", f"    return x * {f}(x, n - 1)")
    if fn == "fib":
        f, s, (a, b) = nm("F", "fib", "fibonacci"), w["fib_start"], w["fib_vals"]
        if loop:
            return f, block(f"def {f}(n):", f"    seq = {{{s}: {a}, {s + 1}: {b}}}", f"    for k in range({s + 2}, n + 1):",
                            "        seq[k] = seq[k - 1] + seq[k - 2]", "    return seq[n]")
        return f, block(f"def {f}(n):", f"    if n == {s}:", f"        return {a}", f"    if n == {s + 1}:",
                        f"        return {b}", f"    return {f}(n - 1) + {f}(n - 2)")
    if fn == "sum":
        f = nm("sum_range", "range_sum", "total")
        if loop:
            return f, block(f"def {f}(a, b):", "    v = 0", "    while a <= b:", "        v, a = v + a, a + 1",
                            "    return v")
        return f, block(f"def {f}(a, b):", "    if a > b:", "        return 0", f"    return a + {f}(a + 1, b)")
    if fn == "digits":
        f = nm("ds", "digit_sum", "digits_total")
        if loop:
            return f, block(f"def {f}(n):", "    v = 0", "    while n >= 10:", "        v, n = v + n % 10, n // 10",
                            "    return v + n")
        return f, block(f"def {f}(n):", "    if n < 10:", "        return n", f"    return n % 10 + {f}(n // 10)")
    if fn in ("is_prime", "spf"):
        if fn == "spf":
            f = nm("spf", "smallest_factor", "least_prime_factor")
            return f, block(f"def {f}(n):", "    k = 2", "    while n % k != 0:", "        k += 1", "    return k")
        f = nm("is_prime", "prime", "check_prime")
        if loop:
            return f, block(f"def {f}(n):", "    if n < 2:", "        return False", "    k = 2", "    while k * k <= n:",
                            "        if n % k == 0:", "            return False", "        k += 1", "    return True")
        return f, block(f"def {f}(n):", "    return n >= 2 and all(n % k != 0 for k in range(2, int(n ** 0.5) + 1))")
    if fn in ("divisor_sum", "is_perfect"):
        d = nm("divisor_sum", "proper_sum", "sum_divisors")
        code = block(f"def {d}(n):", "    return sum(k for k in range(1, n) if n % k == 0)  # 真因数之和")
        if fn == "divisor_sum":
            return d, code
        f = nm("is_perfect", "perfect", "check_perfect")
        return f, code + "\n\n" + block(f"def {f}(n):", f"    return {d}(n) == n")
    if fn in ("disc", "nroots"):
        d = nm("disc", "discriminant", "delta")
        code = block(f"def {d}(a, b, c):", "    return b * b - 4 * a * c")
        if fn == "disc":
            return d, code
        f = nm("solutions", "roots", "real_roots")
        return f, code + "\n\n" + block(f"def {f}(a, b, c):", f"    d = {d}(a, b, c)",
                                        f"    if d == 0:\n        return {lit(_ROOTS[1])}",
                                        f"    if d > 0:\n        return {lit(_ROOTS[2])}", f"    return {lit(_ROOTS[0])}")
    if fn == "binary":
        f = nm("to_binary", "binary", "bin_str")
        if loop:
            return f, block(f"def {f}(n):", '    bits = ""', "    while n > 1:", "        bits = str(n % 2) + bits",
                            "        n //= 2", "    return str(n) + bits")
        return f, block(f"def {f}(n):", "    if n <= 1:", "        return str(n)", f"    return {f}(n // 2) + str(n % 2)")
    if fn == "from_binary":
        f = nm("from_binary", "to_decimal", "bin_value")
        return f, block(f"def {f}(s):", "    v = 0", "    for ch in s:", "        v = v * 2 + int(ch)", "    return v")
    if fn == "peano_add":
        f = nm("add", "peano_add", "plus")
        return f, block(f"def {f}(x, y):", '    if x == "0":  # add(0, Y, Y)', "        return y",
                        f'    return "s(" + {f}(x[2:-1], y) + ")"  # add(s(X), Y, s(Z))')
    if fn == "peano_value":
        f = nm("value", "to_int", "count_s")
        if loop:
            return f, block(f"def {f}(t):", '    return t.count("s")')
        return f, block(f"def {f}(t):", '    if t == "0":', "        return 0", f"    return 1 + {f}(t[2:-1])")
    if fn == "piecewise":
        f, (t1, t2) = nm("f", "piecewise", "fx"), w["ts"]
        (p1, q1), (p2, q2), (p3, q3) = w["pieces"]
        return f, block(f"def {f}(x):", f"    if x < {t1}:", f"        return {_lin(p1, q1)}", f"    if x < {t2}:",
                        f"        return {_lin(p2, q2)}", f"    return {_lin(p3, q3)}")
    if fn == "f2":
        f, (a, b) = nm("f", "f2", "fxy"), w["ab"]
        e1, e2, e3 = (_F2_CODE[e] for e in w["exprs"])
        return f, block(f"def {f}(x, y):", f"    if x >= {a} and y >= {b}:", f"        return {e1}",
                        f"    if x >= {a}:  # y < {b}", f"        return {e2}", f"    return {e3}  # x < {a}")
    if fn == "grade":
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
    if fn in ("quot", "rem"):
        f = nm("divide", "div_rem", "divmod_rule")
        return f, block(f"def {f}(a, b):", "    # 返回 (商, 余数)", "    if a < b:", "        return 0, a",
                        f"    q, r = {f}(a - b, b)", "    return q + 1, r")
    raise ValueError(f"numeric function {fn!r}")


def _call(fn: str, name: str, args: list) -> str:
    if fn == "peano_add":
        args = [_peano(k) for k in args]
    elif fn == "peano_value":
        args = [_peano(args[0])]
    call = f"{name}({', '.join(lit(a) for a in args)})"
    if fn in ("quot", "rem"):
        call += "[0]" if fn == "quot" else "[1]"
    return call


def _shown(fn: str, v):
    """A claimed value as the program's function returns it."""
    if fn == "nroots":
        return _ROOTS[v]
    if fn == "peano_add":
        return _peano(v)
    return v


def render(puzzle: Puzzle, qi: int, rng: random.Random) -> str:
    w, q = puzzle.world, puzzle.questions[qi]
    fn, claims = q.meta["fn"], q.meta["claims"]
    nm = Names(rng)
    name, rules = _functions(fn, w, nm, rng)
    opts, opts_line = options_line(nm, q.options)
    args = claims[0][0]
    if fn in BOOL_FNS and not is_yes_no(q.options):  # which of these numbers has the property
        ask, tail = None, select(rng, nm, opts, f"{name}(int({{o}}))")
    elif fn in BOOL_FNS:
        ask, tail = None, select_yes_no(rng, nm, opts, _call(fn, name, args))
    elif is_yes_no(q.options):
        value = nm("value", "result", "v")
        ask = f"{value} = {_call(fn, name, args)}"
        tail = select_yes_no(rng, nm, opts, f"{value} == {lit(_shown(fn, claims[0][1]))}")
    else:
        value = nm("value", "result", "v")
        ask = f"{value} = {_call(fn, name, args)}"
        if isinstance(_shown(fn, claims[0][1]), str):
            tail = select_equal(rng, nm, opts, value)
        elif rng.random() < 0.5:
            tail = select_equal(rng, nm, opts, f"str({value})")
        else:
            tail = select(rng, nm, opts, f"int({{o}}) == {value}")
    if rng.random() < 0.3:
        return program(opts_line, rules, block(ask, tail))
    return program(rules, block(opts_line, ask, tail))
