"""The questions a rules puzzle asks: :class:`Reasoner` (the solved world, and proofs and refutations in
words) and the question makers: is this so, which one (not), which statement is true, exactly which set."""

from __future__ import annotations

from ..core import (
    Fact,
    Rejected,
    SynthQuestion,
    forward_chain,
    ground,
    is_var,
    join_names,
    make_options,
    n_options,
    pick_distractors,
    proof,
    unify,
    yes_no,
)
from .world import TAXONOMY, World

# ---------------------------------------------------------------- reasoning in words


class Reasoner:
    def __init__(self, w: World):
        self.w = w
        self.model = forward_chain(w.facts, w.rules, indexed=True)
        self._near: dict[Fact, int] = {}
        self._depth: dict[Fact, int] = {}
        self.by_pred: dict[str, list[Fact]] = {}
        self.keys: set = set()  # (pred, position, constant) of every fact in the model
        for f in self.model:
            self.by_pred.setdefault(f[0], []).append(f)
            self.keys.update((f[0], i, a) for i, a in enumerate(f[1:], 1))

    def depth(self, f: Fact) -> int:
        if f not in self._depth:
            self._depth[f] = len(proof(f, self.model))
        return self._depth[f]

    def holds(self, f: Fact) -> bool:
        return f in self.model

    def given(self, f: Fact) -> bool:
        return self.model.get(f) == ()

    def prove(self, f: Fact) -> list[str]:
        if self.given(f):
            return [f"已知：{self.w.say(f)}。"]
        steps = []
        for g, premises in proof(f, self.model):
            ri = self.model[g][0]
            steps.append(f"由{'，且'.join(self.w.say(p) for p in premises)}，根据规则{ri + 1}，可知{self.w.say(g)}。")
        return steps

    def last(self, f: Fact) -> str:
        """One line: how ``f`` holds (its last derivation step)."""
        return self.prove(f)[-1]

    def near(self, f: Fact) -> int:
        """How close a false ``f`` comes to being derived: body conditions met by the rules for it."""
        if f in self._near:
            return self._near[f]
        best = 0
        for rule in self.w.rules:
            b = unify(rule.head, f, {})
            if b is None:
                continue
            for cond in rule.body:
                g = ground(cond, b)
                if g in self.model or all(t[0] == "?" or (g[0], i, t) in self.keys for i, t in enumerate(g[1:], 1)):
                    best += 1
        self._near[f] = best
        return best

    def refute(self, f: Fact, short: bool = False) -> list[str]:
        """Why ``f`` is not derivable: which conditions of the rules that could give it fail."""
        w, steps = self.w, []
        for ri, rule in enumerate(w.rules):
            b = unify(rule.head, f, {})
            if b is None:
                continue
            body = [ground(c, b) for c in rule.body]
            free = [c for c in body if any(is_var(t) for t in c)]
            if not free:
                bad = [c for c in body if c not in self.model]
                steps.append(f"规则{ri + 1}要求{'且'.join(w.say(c) for c in body)}，但{'、'.join(w.say(c, neg=False) for c in bad)}"
                             f"不成立。")
                continue
            first = free[0]
            cands = [h for h in self.by_pred.get(first[0], ()) if unify(first, h, {}) is not None]
            if not cands:
                steps.append(f"规则{ri + 1}要求{w.say(first)}，但没有这样的事实。")
                continue
            fails = []
            for h in sorted(cands):
                bb = unify(first, h, {})
                rest = [ground(c, bb) for c in body if c != first]
                missing = [c for c in rest if c not in self.model]
                fails.append(w.say(missing[0]) if missing else w.say(h))
            steps.append(f"规则{ri + 1}要求{'且'.join(w.say(c) for c in body)}，但{'；'.join(fails)}都不成立。")
        if short:
            return steps[:1] or [f"没有任何事实或规则能推出{w.say(f)}。"]
        steps.append(f"没有其他事实或规则能推出“{w.say(f)}”，根据闭世界假设，{w.say(f, neg=True)}。")
        return steps


# ---------------------------------------------------------------- questions


def candidates(r: Reasoner) -> list[Fact]:
    """Ground facts of the asked predicates: every subject (and object) combination."""
    w, out = r.w, []
    for pred in w.ask:
        objs = w.objects.get(pred)
        subs = w.subjects if pred != "isa" else w.individuals + [c for c in w.subjects if c in TAXONOMY]
        for s in subs:
            if objs is None:
                out.append((pred, s))
            else:
                out += [(pred, s, o) for o in objs if o != s]
    return out


def ask_yes_no(rng, d, r: Reasoner, cands) -> SynthQuestion:
    want = rng.random() < 0.5
    pool = [f for f in cands if r.holds(f) == want and not (want and r.given(f))]
    if not pool:
        raise Rejected("no fact of that truth")
    if want:
        deep = max(r.depth(f) for f in pool)
        pool = [f for f in pool if r.depth(f) >= min(deep, d.depth)]
    elif rng.random() < d.close:
        pool = rng.sample(pool, min(len(pool), 12))
        top = max(r.near(f) for f in pool)
        pool = [f for f in pool if r.near(f) == top]
    f = rng.choice(pool)
    options, answer = yes_no(rng, want)
    claim = r.w.say(f)
    body = rng.choice([f"{claim}吗？", f"根据以上信息，{claim}吗？", f"“{claim}”是否正确？"])
    steps = r.prove(f) if want else r.refute(f)
    steps.append(f"所以{claim}。" if want else f"所以“{claim}”不成立。")
    return SynthQuestion(body, options, answer, steps,
                         meta={"claims": [["fact", list(f), o == "是"] for o in options]})


def _pattern_groups(r: Reasoner, cands):
    """Questions of the form "which X: p(X, o)": pattern -> (true subjects, false subjects)."""
    groups: dict[tuple, tuple[list, list]] = {}
    for f in cands:
        pat = (f[0], "?x", *f[2:])
        t, fl = groups.setdefault(pat, ([], []))
        (t if r.holds(f) else fl).append(f[1])
    return groups


def ask_which(rng, d, r: Reasoner, cands, negative: bool) -> SynthQuestion:
    n = n_options(rng)
    groups = [(p, t, f) for p, (t, f) in _pattern_groups(r, cands).items()
              if (len(f) >= 1 and len(t) >= n - 1 if negative else len(t) >= 1 and len(f) >= n - 1)]
    if not groups:
        raise Rejected("no pattern with enough options")
    pat, yes, no = rng.choice(groups)
    if negative:
        yes, no = no, yes
    derived_yes = [x for x in yes if negative or not r.given(ground(pat, {"?x": x}))]
    true = rng.choice(derived_yes or yes)
    near = sorted(no, key=lambda x: -r.near(ground(pat, {"?x": x})))[:2] if not negative else []
    distractors = pick_distractors(rng, near, no, n - 1, d.close)
    options, answer = make_options(rng, true, distractors, n)
    w = r.w
    who = rng.choice([w.who, "以下哪个" if w.kind != "people" else "以下哪个人"])
    body = w.say(pat, {"?x": who}, neg=negative) + "？"
    if negative:
        steps = [r.last(ground(pat, {"?x": o})) for o in options if o != true]
        steps += r.refute(ground(pat, {"?x": true}))
        steps.append(f"所以{w.say(pat, {'?x': true}, neg=True)}。")
    else:
        steps = r.prove(ground(pat, {"?x": true}))
        others = [o for o in options if o != true]
        steps += r.refute(ground(pat, {"?x": others[0]}), short=True)
        steps.append(f"{join_names(others)}都无法推出“{w.say(pat, {'?x': '……'})}”，闭世界下不成立；所以答案是{true}。")
    claims = [["fact", list(ground(pat, {"?x": o})), not negative] for o in options]
    return SynthQuestion(body, options, answer, steps, meta={"claims": claims})


def ask_statement(rng, d, r: Reasoner, cands) -> SynthQuestion:
    n = n_options(rng)
    trues = [f for f in cands if r.holds(f) and not r.given(f)]
    falses = [f for f in cands if not r.holds(f)]
    if not trues or len(falses) < n - 1:
        raise Rejected("not enough statements")
    true = rng.choice(trues)
    near = sorted(rng.sample(falses, min(len(falses), 12)), key=lambda f: -r.near(f))[: n + 1]
    text = {r.w.say(f) + "。": f for f in [true, *falses]}
    picks = pick_distractors(rng, [r.w.say(f) + "。" for f in near], [r.w.say(f) + "。" for f in falses], n - 1,
                             d.close)
    options, answer = make_options(rng, r.w.say(true) + "。", picks, n)
    steps = r.prove(true)
    for o in options:
        if o != options[answer]:
            steps += r.refute(text[o], short=True)
    return SynthQuestion(rng.choice(["以下哪项是正确的？", "根据以上信息，下列哪个说法正确？", "以下哪个陈述是真的？"]),
                         options, answer, steps, meta={"claims": [["fact", list(text[o]), True] for o in options]})


def ask_set(rng, d, r: Reasoner, cands) -> SynthQuestion:
    groups = [(p, t, f) for p, (t, f) in _pattern_groups(r, cands).items() if 1 <= len(t) <= 4 and len(t) + len(f) >= 3]
    if not groups:
        raise Rejected("no set question")
    pat, yes, no = rng.choice(groups)
    dom = yes + no
    true = sorted(yes, key=dom.index)

    variants = []
    for x in no:
        variants.append(true + [x])
    if len(true) > 1:
        variants += [[y for y in true if y != x] for x in true]
    for x in no:
        if len(true) >= 1:
            variants.append([y for y in true if y != true[0]] + [x])
    variants = [v for v in variants if v]
    seen, opts = {}, []
    for v in variants:
        key = tuple(sorted(v, key=dom.index))
        if key != tuple(true) and key not in seen:
            seen[key] = True
            opts.append(key)
    n = n_options(rng)
    rng.shuffle(opts)
    if len(opts) < n - 1:
        raise Rejected("too few set variants")
    chosen = opts[: n - 1]
    true_text = join_names(true)
    texts = {true_text: tuple(true)}
    for c in chosen:
        texts.setdefault(join_names(c), c)
    options, answer = make_options(rng, true_text, [join_names(c) for c in chosen], n)
    w = r.w
    body = rng.choice([f"{w.say(pat, {'?x': '哪些' + ('人' if w.kind == 'people' else '')})}？",
                       f"以下哪一组恰好是所有满足“{w.say(pat, {'?x': 'X'})}”的X？"])
    steps = [r.last(ground(pat, {"?x": x})) for x in true]
    if no:
        steps.append(f"{join_names(no)}都无法推出“{w.say(pat, {'?x': '……'})}”，根据闭世界假设不成立。")
    return SynthQuestion(body, options, answer, steps,
                         meta={"claims": [["set", list(pat), dom, list(texts[o])] for o in options]})
