"""Orderings: "A比B高" lines fix a chain; questions ask the extreme, one comparison, a true statement, a rank."""

from __future__ import annotations

import re

from . import Unread, listed, yes_no

# (fact pattern over a and b, the rank word of "按“…”从前往后", the top word, the bottom word)
RELS = [
    (r"(?P<a>.+?)比(?P<b>.+?)年龄大", "年长", "年龄最大", "年龄最小"),
    (r"(?P<a>.+?)跑得比(?P<b>.+?)快", "快", "跑得最快", "跑得最慢"),
    (r"(?P<a>.+?)在(?P<b>.+?)的西边", "西", "最西边", "最东边"),
    (r"(?P<a>.+?)比(?P<b>.+?)早到", "早", "最早到", "最晚到"),
    (r"(?P<a>.+?)比(?P<b>.+?)高", "高", "最高", "最矮"),
    (r"(?P<a>.+?)比(?P<b>.+?)大", "大", "最大", "最小"),
]


def _facts(problem: str):
    lines = listed(problem)
    for rel in RELS:
        pairs = [re.fullmatch(rel[0], x) for x in lines]
        if lines and all(pairs):
            return rel, [(m["a"], m["b"]) for m in pairs]
    raise Unread("no relation fits every fact line")


def _above(pairs) -> dict[str, set[str]]:
    """x -> everyone x is (transitively) above, by a walk down the given pairs."""
    names = {x for p in pairs for x in p}
    down = {x: [b for a, b in pairs if a == x] for x in names}
    out = {}
    for x in names:
        seen, todo = set(), list(down[x])
        while todo:
            y = todo.pop()
            if y not in seen:
                seen.add(y)
                todo += down[y]
        out[x] = seen
    return out


def _claim(rel, text: str, above) -> bool:
    m = re.fullmatch(rel[0], text)
    if not m or m["a"] not in above or m["b"] not in above:
        raise Unread(f"not a comparison: {text!r}")
    return m["b"] in above[m["a"]]


def read(problem: str, q: str, options: list[str]) -> list[bool]:
    rel, pairs = _facts(problem)
    above = _above(pairs)
    chain = sorted(above, key=lambda x: -len(above[x]))  # a total order: the top is above everyone
    if [len(above[x]) for x in chain] != list(range(len(chain) - 1, -1, -1)):
        raise Unread("the facts do not fix one order")
    for word, who in ((rel[2], chain[0]), (rel[3], chain[-1])):
        if q in (f"谁{word}？", f"哪个地点在{word}？"):
            return [o == who for o in options]
    m = re.fullmatch(r"按“(.+)”从前往后排列，排在第(\d+)位的是谁？", q)
    if m and m[1] == rel[1]:
        return [o == chain[int(m[2]) - 1] for o in options]
    if q == "以下哪个说法是正确的？":
        return [_claim(rel, o, above) for o in options]
    m = re.fullmatch(r"(?:根据以上信息，)?(.+?)(?:吗|是否正确)？", q)
    if m:
        return yes_no(options, _claim(rel, m[1], above))
    raise Unread(q)
