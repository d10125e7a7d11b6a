"""A graph puzzle's world: the path rules, the node vocabulary, each theme's wording, the drawn graph
(:func:`draw_graph`) and, solved, the :class:`SolvedGraph` the questions are asked about."""

from __future__ import annotations

import random

from ..core import (
    Rejected,
    Rule,
    Style,
    join_names,
)

X, Y, Z = "?x", "?y", "?z"
PATH_RULES = [
    Rule(("path", X, Y), (("edge", X, Y),)),
    Rule(("path", X, Z), (("edge", X, Y), ("path", Y, Z))),
]
LINK_RULES = [Rule(("edge", X, Y), (("link", X, Y),)), Rule(("edge", Y, X), (("link", X, Y),)), *PATH_RULES]

CITIES_CN = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆", "天津", "苏州", "长沙", "郑州",
             "青岛", "厦门"]
CITIES_LATIN = ["Paris", "Berlin", "Metz", "Nancy", "Forbach", "Lyon", "Milan", "Vienna", "Prague", "Munich", "Zurich",
                "Brussels", "Ghent", "Bruges", "Antwerp", "Namur"]
CONTAINERS = ["房间", "衣柜", "箱子", "抽屉", "书包", "盒子", "钱包", "信封"]  # biggest first
ITEMS = ["钥匙", "戒指", "硬币", "纸条", "照片", "邮票"]
COURSES_CN = ["离散数学", "高等数学", "程序设计", "线性代数", "数据结构", "算法设计", "数据库", "操作系统", "计算机网络", "编译原理",
              "人工智能", "机器学习"]  # in an order that prerequisites respect
COURSES_LATIN = ["MATH101", "CS101", "MATH102", "CS102", "CS201", "MATH201", "CS202", "CS210", "CS301", "CS310",
                 "CS320", "CS401"]

# theme -> wording. edge/path take {a} {b}; which/not fix one end ({s} or {t}) and ask over the other.
THEMES = {
    "node": {
        "intro": ["在一张有向图中，存在以下边：", "考虑一个有向图，其中的边如下：", "有一些点通过有向边相连，具体的连接关系如下："],
        "edge": ["从节点{a}到节点{b}有一条边", "节点{a}有一条边指向节点{b}", "点{a}通过一条边连接到点{b}"],
        "path": "从{a}能到达{b}", "noun": "节点", "dir": "fwd", "route": True,
        "extra": "可以沿着边从一个节点走到另一个节点，也可以经过中间节点间接到达其他节点。",
        "yn": ["从{a}能到达{b}吗？", "是否存在从节点{a}到节点{b}的路径？", "从{a}到{b}是否存在路径？"],
        "which": "从{s}出发可以到达以下哪个节点？", "not": "以下哪个节点无法从{s}到达？",
        "count": "从{s}出发一共可以到达几个其他节点？", "short": "从{a}到{b}最少需要经过几条边？",
        "route_q": ["从{a}到{b}的路径是哪条？", "以下哪条是从{a}到{b}的有效路径？"],
    },
    "road": {
        "intro": ["以下是某地区城市之间的单向道路：", "某地区的城市之间有以下直接道路（单向）："],
        "edge": ["{a}直接通往{b}", "从{a}有一条单向道路通往{b}"],
        "path": "从{a}可以到达{b}", "noun": "城市", "dir": "fwd", "route": True,
        "extra": "道路是单向的；经过其他城市中转也算可以到达。",
        "yn": ["从{a}是否有直接或间接的道路可以到达{b}？", "从{a}可以到达{b}吗？"],
        "which": "从{s}出发可以到达以下哪个城市？", "not": "从{s}出发无法到达以下哪个城市？",
        "count": "从{s}出发一共可以到达几个其他城市？", "short": "从{a}到{b}最少需要走几段道路？",
        "route_q": ["从{a}到{b}应该走哪条路线？", "以下哪条是从{a}到{b}的可行路线？"],
    },
    "train": {
        "intro": ["以下是几个城市间的直达火车连接信息：", "已知以下城市之间有直达火车（双向）："],
        "edge": ["{a}和{b}之间有直达火车", "{a}和{b}有直达连接"],
        "arc": "可以从{a}直达{b}",
        "path": "从{a}可以通过直达或换乘到达{b}", "noun": "城市", "dir": "fwd", "route": True,
        "extra": "直达连接是双向的；可以在中间城市换乘。",
        "yn": ["是否可以从{a}通过直达或换乘去到{b}？", "从{a}乘火车能到达{b}吗？"],
        "which": "从{s}出发，通过直达或换乘可以到达以下哪个城市？", "not": "从{s}出发，无论怎样换乘都无法到达以下哪个城市？",
        "count": "从{s}出发，通过直达或换乘一共可以到达几个其他城市？", "short": "从{a}到{b}最少需要乘坐几段直达火车？",
        "route_q": ["从{a}到{b}可以怎样乘车？", "以下哪条是从{a}到{b}的可行乘车路线？"],
    },
    "stack": {
        "intro": ["有一组积木堆在桌子上，已知：", "桌上有几堆积木，积木之间的位置关系如下："],
        "edge": ["积木{a}直接放在积木{b}上", "积木{a}在积木{b}上"],
        "path": "{a}在{b}的上方", "noun": "积木", "dir": "bwd", "route": False,
        "extra": "一个积木在另一个积木的上方，是指直接放在它上面，或者间接放在它上面。",
        "yn": ["积木{a}在积木{b}的上方吗？", "{a}是否在{b}的上方？"],
        "which": "以下哪个积木在{t}的上方？", "not": "以下哪个积木不在{t}的上方？",
        "count": "{t}的上方一共有几块积木？",
    },
    "inside": {
        "intro": ["关于一些东西放在哪里，已知：", "家里的一些物品的存放情况如下："],
        "edge": ["{a}放在{b}里面", "{a}在{b}里面"],
        "path": "{a}在{b}里面", "noun": "东西", "dir": "bwd", "route": False,
        "extra": "如果A在B里面，B又在C里面，那么A也在C里面。",
        "yn": ["{a}在{b}里面吗？", "{a}是否在{b}里面？"],
        "which": "以下哪样东西在{t}里面？", "not": "以下哪样东西不在{t}里面？",
        "count": "{t}里面（直接或间接）一共有几样东西？",
    },
    "course": {
        "intro": ["某专业的课程之间有以下先修关系：", "以下是课程的前提条件："],
        "edge": ["{a}是{b}的先修课程", "{b}的前提条件是{a}"],
        "path": "修{b}之前必须先修{a}", "noun": "课程", "dir": "bwd", "route": False,
        "extra": "先修关系可以传递：如果A是B的先修课程，B是C的先修课程，那么修C之前也必须先修A。",
        "yn": ["修{b}之前是否必须先修{a}？", "要修{b}，必须先修{a}吗？"],
        "which": "修{t}之前必须先修以下哪门课程？", "not": "以下哪门课程不是修{t}之前必须先修的？",
        "count": "修{t}之前一共必须先修几门课程？",
    },
}
THEME_NAMES = list(THEMES)


# ---------------------------------------------------------------- graphs


def draw_graph(rng: random.Random, theme: str, n: int, style: Style) -> tuple[list[str], list[tuple[str, str]]]:
    """Node names and edges (a, b) of one random graph of ``theme``."""
    if theme == "node":
        letters = "abcdefghij" if rng.random() < 0.6 else "ABCDEFGHIJ"
        nodes = list(letters[:n])
    elif theme in ("road", "train"):
        nodes = rng.sample(CITIES_LATIN if style.latin else CITIES_CN, n)
    elif theme == "stack":
        nodes = [f"b{i}" for i in range(1, n + 1)]
    elif theme == "inside":
        k = min(n - rng.randint(1, 2), len(CONTAINERS))
        cont = sorted(rng.sample(CONTAINERS, k), key=CONTAINERS.index)
        nodes = cont + rng.sample(ITEMS, n - k)
    else:
        pool = COURSES_LATIN if style.latin else COURSES_CN
        nodes = sorted(rng.sample(pool, n), key=pool.index)
    edges: list[tuple[str, str]] = []
    if theme == "stack":  # a few piles; b_i directly on b_j along each pile, top first
        order = nodes[:]
        rng.shuffle(order)
        cuts = sorted(rng.sample(range(1, n), rng.choice([1, 1, 2])))
        piles = [order[i:j] for i, j in zip([0, *cuts], [*cuts, n], strict=True)]
        edges = [(p[i], p[i + 1]) for p in piles for i in range(len(p) - 1)]
    elif theme == "inside":  # a tree: each thing inside one bigger container (or nowhere)
        k = sum(1 for x in nodes if x in CONTAINERS)
        for j in range(1, n):
            if rng.random() < 0.85:
                edges.append((nodes[j], nodes[rng.randrange(min(j, k))]))
    else:
        order = nodes[:] if theme == "course" else rng.sample(nodes, n)
        for j in range(1, n):
            if rng.random() < 0.85:
                edges.append((order[rng.randrange(j)], order[j]))
            if j >= 2 and rng.random() < 0.3:
                i = rng.randrange(j)
                if (order[i], order[j]) not in edges:
                    edges.append((order[i], order[j]))
        if theme in ("node", "road") and rng.random() < 0.2:  # one edge against the order: a cycle
            i, j = sorted(rng.sample(range(n), 2))
            if (order[j], order[i]) not in edges and (order[i], order[j]) not in edges:
                edges.append((order[j], order[i]))
    if len(edges) < 2:
        raise Rejected("too few edges")
    rng.shuffle(edges)
    nodes = [x for x in nodes if any(x in e for e in edges)]  # every node is named in some fact
    return nodes, edges


# ---------------------------------------------------------------- the solved graph


class SolvedGraph:
    """The drawn graph with its derived edge and path facts, and the draw the question makers share."""

    def __init__(self, rng, difficulty, theme, nodes, edges, derived, edge_form):
        self.rng, self.difficulty, self.theme = rng, difficulty, theme
        self.t = THEMES[theme]
        self.nodes, self.edges, self.derived = nodes, edges, derived
        self.edge_form = edge_form
        self.undirected = theme == "train"
        self.succ = {x: [y for y in nodes if ("edge", x, y) in derived] for x in nodes}
        self.pred = {x: [y for y in nodes if ("edge", y, x) in derived] for x in nodes}

    def edge_text(self, a, b) -> str:
        return self.edge_form.format(a=a, b=b)

    def say(self, f) -> str:
        if f[0] == "link":
            return self.edge_text(f[1], f[2])
        if f[0] == "edge":
            return self.t["arc"].format(a=f[1], b=f[2]) if self.undirected else self.edge_text(f[1], f[2])
        return self.t["path"].format(a=f[1], b=f[2])

    def reach(self, s) -> list[str]:
        """Everything reachable from ``s`` (the solver's path facts), in node order."""
        return [y for y in self.nodes if ("path", s, y) in self.derived and y != s]

    def reached_by(self, t) -> list[str]:
        return [x for x in self.nodes if ("path", x, t) in self.derived and x != t]

    def dist(self, a, b) -> int:
        """Edges on the solver's first (shortest) derivation of path(a, b)."""
        f, k = ("path", a, b), 0
        while True:
            premises = self.derived[f][1]
            k += 1
            if len(premises) == 1:
                return k
            f = premises[1]

    def layers(self, s, fwd: bool, stop=None) -> tuple[list[str], list[str]]:
        """Closed-world listing from ``s``, one step per layer: (steps, everything found)."""
        nxt = self.succ if fwd else self.pred
        seen, frontier, steps, found = {s}, [s], [], []
        while frontier:
            layer, why = [], []
            for u in frontier:
                for v in nxt[u]:
                    if v not in seen:
                        seen.add(v)
                        layer.append(v)
                        why.append(self.say(("edge", u, v) if fwd else ("edge", v, u)))
            if not layer:
                break
            found += layer
            claim = self.say(("path", s, join_names(layer)) if fwd else ("path", join_names(layer), s))
            steps.append(f"由{'，'.join(why)}，可知{claim}。")
            if stop is not None and stop in layer:
                return steps, found
            frontier = layer
        if not found:
            steps.append(f"已知事实中没有以{s}为{'起点' if fwd else '终点'}的连接，所以满足条件的{self.t['noun']}一个也没有。")
        else:
            claim = self.say(("path", s, join_names(found)) if fwd else ("path", join_names(found), s))
            steps.append(f"再没有新的{self.t['noun']}可以加入，所以只有：{claim}。")
        return steps, found
