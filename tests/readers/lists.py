"""List operations: the question names an operation by its call ("reverse([1, 2])"), by its described
effect ("对列表 [1, 2] 反转后") or as a composition ("先…，再对结果…"); parameters a call does not show (sort
direction, where positions start) come from the rule sentences. Each operation is plain Python here."""

from __future__ import annotations

import ast
import re

from . import Unread, yes_no

LIST = r"\[(?:[^\[\]]|\[(?:[^\[\]]|\[[^\[\]]*\])*\])*\]"
ITEM = rf"(?:{LIST}|-?\d+|[a-z])"


def parse(text: str):
    """A list, number or atom as written ("[a, [1, 2]]", "3", "b"); None when it is none of them."""
    try:
        return ast.literal_eval(re.sub(r"\b([a-z])\b", r"'\1'", text.strip()))
    except (ValueError, SyntaxError):
        return None


def flat(x) -> list:
    return [z for y in x for z in (flat(y) if isinstance(y, list) else [y])]


def dedup(x) -> list:
    out = []
    for y in x:
        if y not in out:
            out.append(y)
    return out


def _plain(problem: str) -> dict:
    """Operations named by their call, with no argument besides the list(s)."""
    desc = "按从大到小排序" in problem
    ops = {"reverse": lambda x: x[::-1], "isort": lambda x: sorted(x, reverse=desc),
           "keep_odd": lambda x: [y for y in x if y % 2], "keep_even": lambda x: [y for y in x if y % 2 == 0],
           "square_all": lambda x: [y * y for y in x], "double_all": lambda x: [2 * y for y in x],
           "remove_duplicates": dedup, "flatten": flat, "odd_positions": lambda x: x[0::2],
           "even_positions": lambda x: x[1::2], "append": lambda a, b: a + b, "merge": lambda a, b: sorted(a + b),
           "sum_list": sum, "length": len, "max_list": max, "min_list": min, "last": lambda x: x[-1],
           "palindrome": lambda x: x == x[::-1]}
    for k in range(1, 10):
        ops[f"add_{k}"] = lambda x, k=k: [y + k for y in x]
    return ops


def _base(problem: str, op: str) -> int:
    m = re.search(rf"{op}.{{0,40}}?位置从 (\d) 开始计数|位置从 (\d) 开始计数：{op}", problem)
    if not m:
        raise Unread(f"no base for {op}")
    return int(m[1] or m[2])


def _insert(x, k, item, base):
    i = k - base
    return x[:i] + [item] + x[i:]


def _call(problem: str, text: str):
    """The value of a call written in the question ("insert_at([1, 2], 2, 5)")."""
    m = re.fullmatch(r"([a-z_0-9]+)\((.*)\)", text)
    if not m:
        raise Unread(f"call {text!r}")
    name, args = m[1], parse(f"[{m[2]}]")
    if args is None:
        raise Unread(f"arguments {text!r}")
    plain = _plain(problem)
    if name in plain:
        return plain[name](*args)
    if name == "delete_all":
        return [y for y in args[0] if y != args[1]]
    if name == "insert_at":
        return _insert(args[0], args[1], args[2], _base(problem, "insert_at"))
    if name == "nth":
        return args[1][args[0] - _base(problem, "nth")]
    if name == "member":
        return args[0] in args[1]
    raise Unread(f"call {name}")


# described effects: (pattern, function of (list, match))
DESCS = [
    ("反转", lambda x, m: x[::-1]), ("从小到大排序", lambda x, m: sorted(x)),
    ("从大到小排序", lambda x, m: sorted(x, reverse=True)),
    (r"删除所有偶数（只保留奇数）", lambda x, m: [y for y in x if y % 2]),
    (r"删除所有奇数（只保留偶数）", lambda x, m: [y for y in x if y % 2 == 0]),
    ("把每个元素平方", lambda x, m: [y * y for y in x]), ("把每个元素乘以 2", lambda x, m: [2 * y for y in x]),
    (r"把每个元素加上 (\d+)", lambda x, m: [y + int(m[1]) for y in x]),
    (r"删除重复元素（保留第一次出现的）", lambda x, m: dedup(x)),
    (rf"删除所有的 ({ITEM})", lambda x, m: [y for y in x if y != parse(m[1])]),
    (rf"在第 (\d+) 个位置（从 (\d) 开始计数）插入 ({ITEM})", lambda x, m: _insert(x, int(m[1]), parse(m[3]), int(m[2]))),
    (r"展开（扁平化）", lambda x, m: flat(x)),
    (r"删除每第二个元素（只保留第1、3、5…个）", lambda x, m: x[0::2]),
    (r"只保留偶数位置（第2、4、6…个）的元素", lambda x, m: x[1::2]),
    ("连接", lambda x, m: x[0] + x[1]), (r"合并（两个列表都已从小到大排好序）", lambda x, m: sorted(x[0] + x[1])),
    ("求和", lambda x, m: sum(x)), ("求长度", lambda x, m: len(x)), ("求最大值", lambda x, m: max(x)),
    ("求最小值", lambda x, m: min(x)), (r"取第 (\d+) 个元素（从 (\d) 开始计数）", lambda x, m: x[int(m[1]) - int(m[2])]),
    ("取最后一个元素", lambda x, m: x[-1]), (rf"判断 ({ITEM}) 是否在其中", lambda x, m: parse(m[1]) in x),
    ("判断是否回文", lambda x, m: x == x[::-1]),
]


def _effect(desc: str, x):
    for pat, f in DESCS:
        m = re.fullmatch(pat, desc)
        if m:
            return f(x, m)
    raise Unread(f"effect {desc!r}")


def _subject(problem: str, s: str):
    """The value a "…的结果" phrase names."""
    L = f"({LIST})"
    if m := re.fullmatch(rf"先(?:对列表 {L}|将列表 {L} 和 {L}) (.+?)，再对结果(.+)，得到的结果", s):
        x = parse(m[1]) if m[1] else [parse(m[2]), parse(m[3])]
        return _effect(m[5], _effect(m[4], x))
    if m := re.fullmatch(rf"将列表 {L} 和 {L} (.+?) ?后的结果", s):
        return _effect(m[3], [parse(m[1]), parse(m[2])])
    if m := re.fullmatch(rf"对列表 {L} (.+?) ?后的结果", s):
        return _effect(m[2], parse(m[1]))
    if m := re.fullmatch(rf"对于输入列表 {L}，函数 ([a-z_0-9]+) 返回的结果", s):
        return _call(problem, f"{m[2]}({m[1]})")
    if m := re.fullmatch(r"(.+) 的结果", s):
        return _call(problem, m[1])
    raise Unread(f"subject {s!r}")


def _equal(option: str, value) -> bool:
    got = parse(option)
    return got is not None and type(got) is type(value) and got == value


def read(problem: str, q: str, options: list[str]) -> list[bool]:
    L = f"({LIST})"
    if q in ("以下哪个列表是回文？", "下列哪个列表是回文列表？"):
        return [isinstance(parse(o), list) and parse(o) == parse(o)[::-1] for o in options]
    value_forms = [
        (rf"列表 {L} 中所有元素的和是多少？", lambda m: sum(parse(m[1]))),
        (rf"sum_list\({L}\) 的值是多少？", lambda m: sum(parse(m[1]))),
        (rf"(?:列表 {L} |考虑列表{L}，该列表)的长度是多少？", lambda m: len(parse(m[1] or m[2]))),
        (rf"列表 {L} 中(最大|最小)的元素是什么？", lambda m: (max if m[2] == "最大" else min)(parse(m[1]))),
        (rf"列表 {L} 的第 (\d+) 个元素（从 (\d) 开始计数）是什么？", lambda m: parse(m[1])[int(m[2]) - int(m[3])]),
        (rf"(?:在列表 {L} 中，最后一个元素|last\({L}\) 的结果)是什么？", lambda m: parse(m[1] or m[2])[-1]),
        (rf"({ITEM}) 是否在列表 {L} 中？", lambda m: parse(m[1]) in parse(m[2])),
        (rf"member\(({ITEM}), {L}\) 是否成立？", lambda m: parse(m[1]) in parse(m[2])),
        (rf"(?:列表 {L} 是回文吗|{L} 是否是回文列表)？", lambda m: (lambda x: x == x[::-1])(parse(m[1] or m[2]))),
    ]
    for pat, f in value_forms:
        if m := re.fullmatch(pat, q):
            v = f(m)
            return yes_no(options, v) if isinstance(v, bool) else [_equal(o, v) for o in options]
    m = re.fullmatch(rf"(.+的结果)(是什么|是否为 ({ITEM})|是 ({ITEM}) 吗|中是否包含 ({ITEM})|的长度是多少|为真吗)？", q)
    if not m:
        raise Unread(q)
    v = _subject(problem, m[1])
    tail = m[2]
    if tail == "是什么":
        return [_equal(o, v) for o in options]
    if tail == "的长度是多少":
        return [_equal(o, len(v)) for o in options]
    if tail == "为真吗":
        return yes_no(options, v is True)
    if m[5] is not None:
        return yes_no(options, parse(m[5]) in v)
    return yes_no(options, parse(m[3] or m[4]) == v)
