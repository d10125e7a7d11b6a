"""The questions a graph puzzle asks: can a reach b, which node can (not) be reached, how many can, how
many edges at least, which route is valid; a "no" explained by listing what can be reached."""

from __future__ import annotations

from ..core import (
    Rejected,
    SynthQuestion,
    join_names,
    make_options,
    n_options,
    pick_distractors,
    proof_steps,
    yes_no,
)
from .world import SolvedGraph


def ask_yes_no(ctx: SolvedGraph) -> SynthQuestion:
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


def _anchor(ctx: SolvedGraph):
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


def ask_which(ctx: SolvedGraph) -> SynthQuestion:
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


def ask_not(ctx: SolvedGraph) -> SynthQuestion:
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


def ask_count(ctx: SolvedGraph) -> SynthQuestion:
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


def ask_shortest(ctx: SolvedGraph) -> SynthQuestion:
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


def _route_of(ctx: SolvedGraph, a, b) -> list[str]:
    """The nodes of the solver's (shortest) derivation of path(a, b)."""
    route, f = [a], ("path", a, b)
    while True:
        premises = ctx.derived[f][1]
        route.append(premises[0][2])
        if len(premises) == 1:
            return route
        f = premises[1]


def ask_route(ctx: SolvedGraph) -> SynthQuestion:
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
