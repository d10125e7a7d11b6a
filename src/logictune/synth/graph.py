"""Graphs and reachability: directed edges, direct train connections, blocks stacked on blocks, things inside
things, course prerequisites. Questions need the transitive closure: can a reach e, which node can (not)
be reached, which route is valid, how many edges at least.

Program: ``edge(X, Y)`` facts (an undirected ``link(X, Y)`` gives edges both ways) and
``path(X, Y) :- edge(X, Y)``, ``path(X, Z) :- edge(X, Y), path(Y, Z)``; the solver is
:func:`core.forward_chain`, whose first derivation of a path is a shortest one. A "no" is explained by
listing, layer by layer, everything that can be reached (closed world) and noting the target is not there.
Checker: every simple path enumerated by a depth-first walk over the edge list, with none of the chaining.
"""

from __future__ import annotations

import random

from .core import (
    Difficulty,
    Puzzle,
    Rejected,
    Rule,
    Style,
    SynthQuestion,
    collect_questions,
    forward_chain,
    join_names,
    make_options,
    n_options,
    pick_distractors,
    problem_text,
    proof_steps,
    yes_no,
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


def _graph(rng: random.Random, theme: str, n: int, style: Style) -> tuple[list[str], list[tuple[str, str]]]:
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


# ---------------------------------------------------------------- generator


class _Ctx:
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


def generate(rng: random.Random, difficulty: Difficulty, style: Style) -> Puzzle:
    theme = rng.choice(["node", "node", "road", "train", "train", "stack", "inside", "course"])
    t = THEMES[theme]
    n = max(4, min(difficulty.entities + rng.randint(1, 3), 10))
    nodes, edges = _graph(rng, theme, n, style)
    base = "link" if theme == "train" else "edge"
    derived = forward_chain([(base, a, b) for a, b in edges], LINK_RULES if theme == "train" else PATH_RULES,
                            indexed=True)
    edge_form = rng.choice(t["edge"])
    ctx = _Ctx(rng, difficulty, theme, nodes, edges, derived, edge_form)

    makers = [_ask_yes_no, _ask_yes_no, _ask_which, _ask_not, _ask_count]
    if t["route"]:
        makers += [_ask_route, _ask_route, _ask_shortest]
    want = rng.choice([1, 2, 3, 4, 4])
    questions = collect_questions(lambda: rng.choice(makers)(ctx), 3 * want, want)
    facts = [ctx.edge_text(a, b) + "。" for a, b in edges]
    intro = t["intro"][style.intro % len(t["intro"])]
    problem = problem_text(intro, facts, style, t["extra"] if rng.random() < 0.6 else "")
    world = {"nodes": nodes, "edges": [list(e) for e in edges], "undirected": ctx.undirected, "theme": theme,
             "edge_form": edge_form}
    return Puzzle("graph", problem, questions, world=world)


def _ask_yes_no(ctx: _Ctx) -> SynthQuestion:
    rng = ctx.rng
    a, b = rng.sample(ctx.nodes, 2)
    truth = ("path", a, b) in ctx.derived
    if truth and ctx.dist(a, b) < ctx.difficulty.depth and rng.random() < 0.7:
        raise Rejected("too shallow")
    if not truth and ("path", b, a) not in ctx.derived and rng.random() < ctx.difficulty.close / 2:
        raise Rejected("prefer near misses: the reverse direction")
    options, answer = yes_no(rng, truth)
    if truth:
        steps = proof_steps(("path", a, b), ctx.derived, ctx.say)
    elif ctx.t["dir"] == "fwd":
        steps, _ = ctx.layers(a, True)
        steps.append(f"{b}不在其中，所以“{ctx.say(('path', a, b))}”不成立。")
    else:
        steps, _ = ctx.layers(b, False)
        steps.append(f"{a}不在其中，所以“{ctx.say(('path', a, b))}”不成立。")
    body = rng.choice(ctx.t["yn"]).format(a=a, b=b)
    return SynthQuestion(body, options, answer, steps, meta={"claims": [["path", a, b, o == "是"] for o in options]})


def _anchor(ctx: _Ctx):
    """(anchor, the nodes related to it, the rest) for a which-question, per the theme's direction."""
    rng = ctx.rng
    fwd = ctx.t["dir"] == "fwd"
    cands = [x for x in ctx.nodes if (ctx.reach(x) if fwd else ctx.reached_by(x))]
    if not cands:
        raise Rejected("nothing reachable")
    s = rng.choice(cands)
    related = ctx.reach(s) if fwd else ctx.reached_by(s)
    rest = [x for x in ctx.nodes if x not in related and x != s]
    return s, fwd, related, rest


def _claim(fwd: bool, s: str, x: str, asserted: bool) -> list:
    return ["path", s, x, asserted] if fwd else ["path", x, s, asserted]


def _ask_which(ctx: _Ctx) -> SynthQuestion:
    rng = ctx.rng
    s, fwd, related, rest = _anchor(ctx)
    n = n_options(rng)
    if len(rest) < n - 1:
        raise Rejected("too few unrelated nodes")
    deep = [x for x in related if (ctx.dist(s, x) if fwd else ctx.dist(x, s)) >= ctx.difficulty.depth]
    true = rng.choice(deep or related)
    # near misses: nodes related the other way round, or one edge away from a related node
    near = [x for x in rest if (("path", x, s) if fwd else ("path", s, x)) in ctx.derived
            or any(y in related for y in ctx.pred[x] + ctx.succ[x])]
    options, answer = make_options(rng, true, pick_distractors(rng, near, rest, n - 1, ctx.difficulty.close), n)
    steps, found = ctx.layers(s, fwd)
    if len(steps) > 4:  # a long listing: the proof of the answer says it more briefly
        steps = proof_steps(("path", s, true) if fwd else ("path", true, s), ctx.derived, ctx.say) + steps[-1:]
    others = [o for o in options if o != true]
    steps.append(f"选项中只有{true}在其中，{join_names(others)}都不在。")
    key = "s" if fwd else "t"
    return SynthQuestion(ctx.t["which"].format(**{key: s}), options, answer, steps,
                         meta={"claims": [_claim(fwd, s, o, True) for o in options]})


def _ask_not(ctx: _Ctx) -> SynthQuestion:
    rng = ctx.rng
    s, fwd, related, rest = _anchor(ctx)
    n = n_options(rng)
    if len(related) < n - 1 or not rest:
        raise Rejected("too few related nodes")
    true = rng.choice(rest)
    far = sorted(related, key=lambda x: -(ctx.dist(s, x) if fwd else ctx.dist(x, s)))
    near = far[: max(1, len(far) // 2)]
    options, answer = make_options(rng, true, pick_distractors(rng, near, related, n - 1, ctx.difficulty.close), n)
    steps, _ = ctx.layers(s, fwd)
    steps.append(f"{true}不在其中，所以选{true}。")
    key = "s" if fwd else "t"
    return SynthQuestion(ctx.t["not"].format(**{key: s}), options, answer, steps,
                         meta={"claims": [_claim(fwd, s, o, False) for o in options]})


def _ask_count(ctx: _Ctx) -> SynthQuestion:
    rng = ctx.rng
    fwd = ctx.t["dir"] == "fwd"
    s = rng.choice(ctx.nodes)
    k = len(ctx.reach(s) if fwd else ctx.reached_by(s))
    if k == 0 and rng.random() < 0.7:
        raise Rejected("zero counts are rarer")
    n = n_options(rng)
    near = [str(v) for v in (k - 1, k + 1) if v >= 0]
    far = [str(v) for v in range(0, len(ctx.nodes)) if v != k]
    options, answer = make_options(rng, str(k), pick_distractors(rng, near, far, n - 1, ctx.difficulty.close), n)
    steps, found = ctx.layers(s, fwd)
    assert len(found) == k
    steps.append(f"数一数，共{k}个。")
    key = "s" if fwd else "t"
    return SynthQuestion(ctx.t["count"].format(**{key: s}), options, answer, steps,
                         meta={"claims": [["count", s, int(o), fwd] for o in options]})


def _ask_shortest(ctx: _Ctx) -> SynthQuestion:
    rng = ctx.rng
    pairs = [(a, b) for a in ctx.nodes for b in ctx.reach(a)]
    if not pairs:
        raise Rejected("nothing reachable")
    a, b = rng.choice(pairs)
    k = ctx.dist(a, b)
    if k < 2 and rng.random() < 0.7:
        raise Rejected("too short")
    n = n_options(rng)
    near = [str(v) for v in (k - 1, k + 1) if v >= 1]
    far = [str(v) for v in range(1, len(ctx.nodes)) if v != k]
    options, answer = make_options(rng, str(k), pick_distractors(rng, near, far, n - 1, ctx.difficulty.close), n)
    steps, found = ctx.layers(a, True, stop=b)
    if len(steps) != k:
        raise AssertionError("the layers and the shortest derivation disagree")
    steps.append(f"{b}第一次出现在第{k}层，所以最少需要{k}步。")
    return SynthQuestion(ctx.t["short"].format(a=a, b=b), options, answer, steps,
                         meta={"claims": [["dist", a, b, int(o)] for o in options]})


def _route_of(ctx: _Ctx, a, b) -> list[str]:
    """The nodes of the solver's (shortest) derivation of path(a, b)."""
    route, f = [a], ("path", a, b)
    while True:
        premises = ctx.derived[f][1]
        route.append(premises[0][2])
        if len(premises) == 1:
            return route
        f = premises[1]


def _ask_route(ctx: _Ctx) -> SynthQuestion:
    rng = ctx.rng
    pairs = [(a, b) for a in ctx.nodes for b in ctx.reach(a) if ctx.dist(a, b) >= 2]
    if not pairs:
        raise Rejected("no long route")
    a, b = rng.choice(pairs)
    route = _route_of(ctx, a, b)
    arrow = rng.choice(["→", " → ", "->", " -> "])

    def valid(r):
        return all(("edge", u, v) in ctx.derived for u, v in zip(r, r[1:], strict=False))

    cands: list[list[str]] = []
    near: list[list[str]] = []
    inner = list(range(1, len(route) - 1))
    for i in inner:  # one stop swapped for another node
        for w in ctx.nodes:
            if w not in route:
                r = route[:i] + [w] + route[i + 1:]
                (near if w in ctx.succ[route[i - 1]] or w in ctx.pred[route[i + 1]] else cands).append(r)
    for i in inner:  # one stop left out
        near.append(route[:i] + route[i + 1:])
    if not ctx.undirected:
        near.append([a] + route[1:-1][::-1] + [b])
    for w in ctx.nodes:  # a detour through one more node
        if w not in route:
            cands.append(route[:-1] + [w, b])
    bad_near = [arrow.join(r) for r in near if not valid(r) and len(set(r)) == len(r)]
    bad_far = [arrow.join(r) for r in cands if not valid(r) and len(set(r)) == len(r)]
    n = n_options(rng)
    options, answer = make_options(rng, arrow.join(route),
                                   pick_distractors(rng, bad_near, bad_far, n - 1, ctx.difficulty.close), n)
    routes = [o.split(arrow) for o in options]
    steps = [f"{'，'.join(ctx.edge_text(u, v) if not ctx.undirected or (u, v) in ctx.edges else ctx.edge_text(v, u) for u, v in zip(route, route[1:], strict=False))}，"  # noqa: E501
             f"所以{arrow.join(route)}的每一段都有直接连接。"]
    for o, r in zip(options, routes, strict=True):
        if r != route:
            u, v = next((u, v) for u, v in zip(r, r[1:], strict=False) if ("edge", u, v) not in ctx.derived)
            steps.append(f"{o}中，{u}到{v}没有直接连接。")
    body = rng.choice(ctx.t["route_q"]).format(a=a, b=b)
    # a, b ride along: a route must also start at a and end at b, not just be made of real edges
    return SynthQuestion(body, options, answer, steps, meta={"claims": [["route", r, a, b] for r in routes]})


# ---------------------------------------------------------------- brute-force checker


def check(puzzle: Puzzle, question_index: int) -> list[bool]:
    """Truth of each option, from every simple path of the graph found by a depth-first walk."""
    w = puzzle.world
    nodes = w["nodes"]
    arcs = [tuple(e) for e in w["edges"]]
    if w["undirected"]:
        arcs += [(b, a) for a, b in arcs]

    def lengths(a, b) -> list[int]:
        """Lengths of every simple walk a -> ... -> b with at least one edge (b may equal a: a cycle)."""
        out = []

        def walk(u, visited, k):
            for x, y in arcs:
                if x != u:
                    continue
                if y == b:
                    out.append(k + 1)
                if y not in visited:
                    walk(y, visited + [y], k + 1)

        walk(a, [a], 0)
        return out

    def holds(claim) -> bool:
        kind = claim[0]
        if kind == "path":
            _, a, b, asserted = claim
            return bool(lengths(a, b)) == asserted
        if kind == "count":
            _, s, k, fwd = claim
            return sum(1 for x in nodes if x != s and (lengths(s, x) if fwd else lengths(x, s))) == k
        if kind == "dist":
            _, a, b, k = claim
            ls = lengths(a, b)
            return bool(ls) and min(ls) == k
        if kind == "route":
            _, r, a, b = claim
            return (r[0] == a and r[-1] == b and len(set(r)) == len(r)
                    and all((u, v) in arcs for u, v in zip(r, r[1:], strict=False)))
        raise ValueError(kind)

    return [holds(c) for c in puzzle.questions[question_index].meta["claims"]]
