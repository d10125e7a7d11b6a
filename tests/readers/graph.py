"""Graphs: edges, roads, trains (both ways), stacked blocks, things inside things, prerequisites. Every
theme reads as arcs a -> b whose transitive closure is the asked relation (a above b, a inside b, a before b)."""

from __future__ import annotations

import re
from collections import deque

from . import Unread, listed, yes_no

N = r"(?P<{}>[^，。？\s]+?)"


def _p(text: str) -> str:
    return "^" + text.replace("{a}", N.format("a")).replace("{b}", N.format("b")).replace(
        "{s}", N.format("s")) + "$"


# edge line -> arcs; "both" for the direct trains
EDGES = [
    ("从节点{a}到节点{b}有一条边", "ab"), ("节点{a}有一条边指向节点{b}", "ab"), ("点{a}通过一条边连接到点{b}", "ab"),
    ("从{a}有一条单向道路通往{b}", "ab"), ("{a}直接通往{b}", "ab"),
    ("{a}和{b}之间有直达火车", "both"), ("{a}和{b}有直达连接", "both"),
    ("积木{a}直接放在积木{b}上", "ab"), ("积木{a}在积木{b}上", "ab"),
    ("{a}放在{b}里面", "ab"), ("{a}在{b}里面", "ab"),
    ("{a}是{b}的先修课程", "ab"), ("{b}的前提条件是{a}", "ab"),
]

# question -> (kind, direction): "fwd" asks about what {s} reaches, "bwd" about what reaches {s}
YN = ["从{a}能到达{b}吗？", "是否存在从节点{a}到节点{b}的路径？", "从{a}到{b}是否存在路径？",
      "从{a}是否有直接或间接的道路可以到达{b}？", "从{a}可以到达{b}吗？", "是否可以从{a}通过直达或换乘去到{b}？",
      "从{a}乘火车能到达{b}吗？", "积木{a}在积木{b}的上方吗？", "{a}是否在{b}的上方？", "{a}在{b}里面吗？",
      "{a}是否在{b}里面？"]
YN_REVERSED = ["修{b}之前是否必须先修{a}？", "要修{b}，必须先修{a}吗？"]  # still: a before b
WHICH = [("从{s}出发可以到达以下哪个节点？", "fwd", True), ("从{s}出发可以到达以下哪个城市？", "fwd", True),
         ("从{s}出发，通过直达或换乘可以到达以下哪个城市？", "fwd", True), ("以下哪个积木在{s}的上方？", "bwd", True),
         ("以下哪样东西在{s}里面？", "bwd", True), ("修{s}之前必须先修以下哪门课程？", "bwd", True),
         ("以下哪个节点无法从{s}到达？", "fwd", False), ("从{s}出发无法到达以下哪个城市？", "fwd", False),
         ("从{s}出发，无论怎样换乘都无法到达以下哪个城市？", "fwd", False), ("以下哪个积木不在{s}的上方？", "bwd", False),
         ("以下哪样东西不在{s}里面？", "bwd", False), ("以下哪门课程不是修{s}之前必须先修的？", "bwd", False)]
COUNT = [("从{s}出发一共可以到达几个其他节点？", "fwd"), ("从{s}出发一共可以到达几个其他城市？", "fwd"),
         ("从{s}出发，通过直达或换乘一共可以到达几个其他城市？", "fwd"), ("{s}的上方一共有几块积木？", "bwd"),
         ("{s}里面（直接或间接）一共有几样东西？", "bwd"), ("修{s}之前一共必须先修几门课程？", "bwd")]
SHORTEST = ["从{a}到{b}最少需要经过几条边？", "从{a}到{b}最少需要走几段道路？", "从{a}到{b}最少需要乘坐几段直达火车？"]
ROUTE = ["从{a}到{b}的路径是哪条？", "以下哪条是从{a}到{b}的有效路径？", "从{a}到{b}应该走哪条路线？",
         "以下哪条是从{a}到{b}的可行路线？", "从{a}到{b}可以怎样乘车？", "以下哪条是从{a}到{b}的可行乘车路线？"]


def _arcs(problem: str) -> set[tuple[str, str]]:
    lines = listed(problem)
    for form, how in EDGES:
        ms = [re.match(_p(form), x) for x in lines]
        if lines and all(ms):
            arcs = {(m["a"], m["b"]) for m in ms}
            return arcs | {(b, a) for a, b in arcs} if how == "both" else arcs
    raise Unread("no edge form fits every line")


def _dist(arcs, a: str) -> dict[str, int]:
    """Fewest arcs from a to each node it reaches (a itself only through a cycle)."""
    out: dict[str, int] = {}
    todo = deque([(a, 0)])
    while todo:
        u, k = todo.popleft()
        for x, y in arcs:
            if x == u and y not in out:
                out[y] = k + 1
                todo.append((y, k + 1))
    return out


def _match(forms, q, nodes):
    """The first form that matches with every name a node (so "Prague乘火车" is not read as a name)."""
    for form in forms:
        m = re.match(_p(form), q)
        if m and all(v in nodes for v in m.groupdict().values()):
            return m
    return None


def read(problem: str, q: str, options: list[str]) -> list[bool]:
    arcs = _arcs(problem)
    nodes = {x for arc in arcs for x in arc}

    def path(a, b) -> bool:
        return b in _dist(arcs, a)

    m = _match(YN + YN_REVERSED, q, nodes)
    if m:
        return yes_no(options, path(m["a"], m["b"]))
    for form, way, positive in WHICH:
        m = _match([form], q, nodes)
        if m:
            s = m["s"]
            return [(path(s, o) if way == "fwd" else path(o, s)) == positive and o != s for o in options]
    for form, way in COUNT:
        m = _match([form], q, nodes)
        if m:
            s = m["s"]
            k = sum(1 for x in nodes if x != s and (path(s, x) if way == "fwd" else path(x, s)))
            return [o == str(k) for o in options]
    m = _match(SHORTEST, q, nodes)
    if m:
        return [o == str(_dist(arcs, m["a"]).get(m["b"])) for o in options]
    m = _match(ROUTE, q, nodes)
    if m:
        routes = [[x.strip() for x in re.split(r"→|->", o)] for o in options]
        return [r[0] == m["a"] and r[-1] == m["b"] and all((u, v) in arcs for u, v in zip(r, r[1:], strict=False))
                for r in routes]
    raise Unread(q)
