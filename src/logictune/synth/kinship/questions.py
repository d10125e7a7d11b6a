"""The questions a kinship puzzle asks: who is X's …, whose … is X, is X Y's …, how many …, which
generation …; each explained from the proof or the closed world."""

from __future__ import annotations

from ..core import (
    Rejected,
    SynthQuestion,
    join_names,
    make_options,
    n_options,
    pick_distractors,
    yes_no,
)
from .world import BY_DEPTH, COUNTABLE, DEF_OF, NEAR, SPECIFIC, SolvedTree


def _pick_rel(ctx: SolvedTree) -> str:
    depth = max(1, min(ctx.difficulty.depth, 3))
    rels = BY_DEPTH[depth] + (BY_DEPTH[depth - 1] if depth > 1 and ctx.rng.random() < 0.3 else [])
    rel = ctx.rng.choice(rels)
    if rel == "ancestor" and not ctx.ancestors:
        raise Rejected("ancestors not derived")
    return rel


def _near_rels(ctx: SolvedTree, rel) -> list[str]:
    return [r for r in NEAR.get(rel, []) if r != "ancestor" or ctx.ancestors]


def _near_people(ctx: SolvedTree, rel, y) -> list[str]:
    out = []
    for r in _near_rels(ctx, rel):
        out += [p for p in ctx.of(r, y) if p not in out]
    return out


def _use(ctx: SolvedTree, *rels):
    for r in rels:
        if r in DEF_OF:
            ctx.used.add(r)


def ask_who(ctx: SolvedTree) -> SynthQuestion:
    """谁是 Y 的 R？ — the option naming exactly everyone who is R of Y (or 没有符合条件的人)."""
    rng = ctx.rng
    rel = _pick_rel(ctx)
    y = rng.choice(ctx.people)
    truth = ctx.of(rel, y)
    if not truth and rng.random() < 0.7:
        raise Rejected("empty answers are rarer")
    if len(truth) > 3:
        raise Rejected("too many")
    others = [p for p in ctx.people if p not in truth and p != y]
    near = [p for p in _near_people(ctx, rel, y) if p not in truth]
    n = n_options(rng)
    singles = pick_distractors(rng, near, others, n - 1, ctx.difficulty.close)
    cands: list[list[str]] = []
    if len(truth) >= 2:  # near misses: one of the true ones swapped for a wrong one
        for d in singles[:2]:
            cands.append(sorted(truth[1:] + [d], key=ctx.people.index))
            cands.append(sorted(truth[:-1] + [d], key=ctx.people.index))
    cands += [[d] for d in singles]
    if truth and rng.random() < 0.4:
        cands.insert(rng.randrange(len(cands) + 1), [])
    none = "没有符合条件的人"
    text = {(join_names(c) if c else none): c for c in cands}
    true_text = join_names(truth) if truth else none
    if true_text in text:
        raise Rejected("clash")
    options, answer = make_options(rng, true_text, list(text), n)
    members = [truth if o == true_text else text[o] for o in options]
    steps = ctx.closed(rel, y)
    _use(ctx, rel)
    body = rng.choice([f"谁是{y}的{ctx.word(rel)}？", f"{y}的{ctx.word(rel)}是谁？"])
    return SynthQuestion(body, options, answer, steps, meta={"claims": [["set", rel, y, m, False] for m in members]})


def ask_whose(ctx: SolvedTree) -> SynthQuestion:
    """X 是谁的 R？ — everyone X is R of."""
    rng = ctx.rng
    pool = [r for r in ["uncle", "aunt", "grandfather", "grandmother", "father", "mother", "brother", "sister"]
            if ctx.by_rel.get(r)]
    if not pool:
        raise Rejected("no relation to ask about")
    rel = rng.choice(pool)
    x = rng.choice(ctx.by_rel[rel])[1]
    truth = ctx.whose(rel, x)
    if len(truth) > 3:
        raise Rejected("too many")
    others = [p for p in ctx.people if p not in truth and p != x]
    near = []
    for r in _near_rels(ctx, rel):
        near += [p for p in ctx.whose(r, x) if p not in truth and p not in near]
    n = n_options(rng)
    singles = pick_distractors(rng, near, others, n - 1, ctx.difficulty.close)
    cands = [[d] for d in singles]
    if len(truth) >= 2:
        cands = [sorted(truth[1:] + [singles[0]], key=ctx.people.index)] + cands
    text = {join_names(c): c for c in cands}
    true_text = join_names(truth)
    options, answer = make_options(rng, true_text, list(text), n)
    members = [truth if o == true_text else text[o] for o in options]
    steps = []
    for y in truth:
        steps += [s for s in ctx.prove(rel, x, y) if s not in steps]
    steps.append(f"除此之外，{x}不是其他人的{ctx.word(rel)}，所以{x}是{join_names(truth)}的{ctx.word(rel)}。")
    _use(ctx, rel)
    return SynthQuestion(f"{x}是谁的{ctx.word(rel)}？", options, answer, steps,
                         meta={"claims": [["set", rel, x, m, True] for m in members]})


def _pair_for(ctx: SolvedTree, rel, want: bool):
    """(x, y) with rel(x, y) == want; a false pair is a near miss when the closeness knob says so."""
    rng = ctx.rng
    if want:
        facts = ctx.by_rel.get(rel)
        if not facts:
            raise Rejected("no such pair")
        f = rng.choice(facts)
        return f[1], f[2]
    if rng.random() < ctx.difficulty.close:
        near = [f for r in _near_rels(ctx, rel) for f in ctx.by_rel.get(r, []) if not ctx.holds(rel, f[1], f[2])]
        if near:
            f = rng.choice(near)
            return f[1], f[2]
    x, y = rng.sample(ctx.people, 2)
    if ctx.holds(rel, x, y):
        raise Rejected("happens to hold")
    return x, y


def _explain_pair(ctx: SolvedTree, rel, x, y, truth: bool) -> list[str]:
    if truth:
        return ctx.prove(rel, x, y)
    steps = ctx.closed(rel, y)
    actual = [r for r in SPECIFIC if ctx.holds(r, x, y)]
    if actual and len(steps) < 6:
        steps = ctx.prove(actual[0], x, y) + steps
    steps.append(f"{x}不在其中，所以{x}不是{y}的{ctx.word(rel)}。" if rel not in ("sibling", "cousin")
                 else f"{x}不在其中，所以{x}和{y}不是{ctx.word(rel)}。")
    return steps


def ask_yes_no(ctx: SolvedTree) -> SynthQuestion:
    rng = ctx.rng
    rel = _pick_rel(ctx)
    truth = rng.random() < 0.5
    x, y = _pair_for(ctx, rel, truth)
    w = ctx.word(rel)
    if rel in ("sibling", "cousin"):
        body = rng.choice([f"{x}和{y}是{w}吗？", f"{x}和{y}是否是{w}？"])
    else:
        body = rng.choice([f"{x}是{y}的{w}吗？", f"{x}是否是{y}的{w}？"])
    options, answer = yes_no(rng, truth)
    _use(ctx, rel)
    return SynthQuestion(body, options, answer, _explain_pair(ctx, rel, x, y, truth),
                         meta={"claims": [["holds", rel, x, y, o == "是"] for o in options]})


def ask_has(ctx: SolvedTree) -> SynthQuestion:
    """X 有兄弟姐妹吗？ — an existence question, 是/否."""
    rng = ctx.rng
    rel = rng.choice(["sibling", "brother", "sister", "uncle", "aunt", "cousin", "grandchild", "child"])
    y = rng.choice(ctx.people)
    found = ctx.of(rel, y)
    options, answer = yes_no(rng, bool(found))
    steps = ctx.closed(rel, y)
    _use(ctx, rel)
    return SynthQuestion(rng.choice([f"{y}有{ctx.word(rel)}吗？", f"{y}是否有{ctx.word(rel)}？"]), options, answer, steps,
                         meta={"claims": [["exists", rel, y, o == "是"] for o in options]})


def _rel_sentence(ctx: SolvedTree, rel, x, y) -> str:
    if rel in ("sibling", "cousin"):
        return f"{x}和{y}是{ctx.word(rel)}"
    return f"{x}是{y}的{ctx.word(rel)}"


def ask_what(ctx: SolvedTree) -> SynthQuestion:
    """X 是 Y 的什么人？ — one of the mutually exclusive specific relations."""
    rng = ctx.rng
    pool = [r for r in SPECIFIC if ctx.by_rel.get(r)]
    if not pool:
        raise Rejected("no relation to ask about")
    rel = rng.choice(pool)
    x, y = _pair_for(ctx, rel, True)
    true = [r for r in SPECIFIC if ctx.holds(r, x, y)]
    if true != [rel]:
        raise Rejected("not exactly one relation")
    n = n_options(rng)
    near = [r for r in NEAR[rel] if r in SPECIFIC]
    rels = [rel] + pick_distractors(rng, near, [r for r in SPECIFIC if r != rel], n - 1, ctx.difficulty.close)
    as_sentence = rng.random() < 0.4
    text = {(_rel_sentence(ctx, r, x, y) if as_sentence else ctx.word(r)): r for r in rels}
    options, answer = make_options(rng, next(iter(text)), list(text)[1:], n)
    body = f"{x}和{y}是什么关系？" if as_sentence else rng.choice([f"{x}是{y}的什么人？", f"{x}是{y}的哪种亲属？"])
    _use(ctx, rel)
    return SynthQuestion(body, options, answer, ctx.prove(rel, x, y),
                         meta={"claims": [["holds", text[o], x, y, True] for o in options]})


def ask_statement(ctx: SolvedTree) -> SynthQuestion:
    rng = ctx.rng
    n = n_options(rng)
    rel = _pick_rel(ctx)
    x, y = _pair_for(ctx, rel, True)
    false: list[tuple] = []
    near: list[tuple] = []
    for r in _near_rels(ctx, rel):  # the same pair with a neighbouring relation, or the relation on a near pair
        if not ctx.holds(r, x, y):
            near.append((r, x, y))
    for f in ctx.by_rel.get(rel, []):
        for p in ctx.people:
            if p not in (f[1], f[2]) and not ctx.holds(rel, f[1], p):
                false.append((rel, f[1], p))
    for _ in range(12):
        try:
            r = _pick_rel(ctx)
        except Rejected:
            continue
        a, b = rng.sample(ctx.people, 2)
        if not ctx.holds(r, a, b):
            false.append((r, a, b))
    texts = {}
    for c in [(rel, x, y)] + near + false:
        texts.setdefault(_rel_sentence(ctx, *c), c)
    true_text = _rel_sentence(ctx, rel, x, y)
    distractors = pick_distractors(rng, [_rel_sentence(ctx, *c) for c in near],
                                   [_rel_sentence(ctx, *c) for c in false], n - 1, ctx.difficulty.close)
    options, answer = make_options(rng, true_text, distractors, n)
    for o in options:
        _use(ctx, texts[o][0])
    return SynthQuestion(rng.choice(["以下哪个说法正确？", "以下哪个说法是正确的？", "下列说法中正确的是哪一个？"]), options, answer,
                         ctx.prove(rel, x, y), meta={"claims": [["holds", *texts[o], True] for o in options]})


def ask_count(ctx: SolvedTree) -> SynthQuestion:
    rng = ctx.rng
    rel = rng.choice(COUNTABLE)
    y = rng.choice(ctx.people)
    k = len(ctx.of(rel, y))
    if k == 0 and rng.random() < 0.6:
        raise Rejected("zero counts are rarer")
    n = n_options(rng)
    near = [str(v) for v in (k - 1, k + 1) if v >= 0]
    far = [str(v) for v in range(0, max(k + 4, 5)) if v != k]
    options, answer = make_options(rng, str(k), pick_distractors(rng, near, far, n - 1, ctx.difficulty.close), n)
    options = [f"{o}个" for o in options]
    _use(ctx, rel)
    return SynthQuestion(rng.choice([f"{y}有几个{ctx.word(rel)}？", f"{y}一共有多少个{ctx.word(rel)}？"]), options, answer,
                         ctx.closed(rel, y) + [f"数一数，共{k}个。"],
                         meta={"claims": [["count", rel, y, int(o[:-1])] for o in options]})


GEN_WORDS = ["第一代", "第二代", "第三代", "第四代"]


def ask_generation(ctx: SolvedTree) -> SynthQuestion:
    """X 是 Y 的第几代祖先？ — the length of the parent chain, or not an ancestor at all."""
    rng = ctx.rng
    if rng.random() < 0.75:
        x, y = _pair_for(ctx, "ancestor", True)
        k = len(ctx.prove("ancestor", x, y))  # one step per parent link
    else:
        x, y = _pair_for(ctx, "ancestor", False)
        k = 0
    none = f"{x}不是{y}的祖先"
    options = GEN_WORDS[:3] + [none] if k <= 3 else GEN_WORDS[1:4] + [none]
    if k > 4:
        raise Rejected("too deep")
    true_text = none if k == 0 else GEN_WORDS[k - 1]
    answer = options.index(true_text)
    steps = ctx.prove("ancestor", x, y) if k else _explain_pair(ctx, "ancestor", x, y, False)
    if k:
        steps.append(f"从{x}到{y}经过{k}层父母关系，所以{x}是{y}的{true_text}祖先。")
    ctx.used.add("ancestor")
    claims = [["gen", x, y, 0 if o == none else GEN_WORDS.index(o) + 1] for o in options]
    return SynthQuestion(f"{x}是{y}的第几代祖先？", options, answer, steps, meta={"claims": claims})


# ---------------------------------------------------------------- brute-force checker


