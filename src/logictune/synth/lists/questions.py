"""The questions of a list puzzle: drawing inputs an operation applies to, running the chain through the
tracers, and the options (near misses of the result, the composition's wrong orders, shuffles)."""

from __future__ import annotations

import random

from ..core import (
    Difficulty,
    Rejected,
    SynthQuestion,
    fold,
    make_options,
    n_options,
    pick_distractors,
    yes_no,
)
from .op import ATOMS, ListClaim, Op, show


def _draw_list(rng: random.Random, d: Difficulty, op: Op, atoms: bool) -> list:
    n = rng.randint(max(3, d.entities - 1), d.entities + 1)
    if op.nested:
        base = list(range(1, 10)) if not atoms else ATOMS[:10]
        flat = rng.sample(base, min(n + 1, len(base)))
        out, i = [], 0
        while i < len(flat):
            r = rng.random()
            if r < 0.35 and i + 1 < len(flat):
                out.append(flat[i:i + 2])
                i += 2
            elif r < 0.45 and i + 2 < len(flat) and d.depth >= 2:
                out.append([flat[i], [flat[i + 1], flat[i + 2]]])
                i += 3
            else:
                out.append(flat[i])
                i += 1
        if not any(isinstance(x, list) for x in out):
            out = [out[0], out[1:3], *out[3:]]
        return out
    if atoms and not op.numeric:
        pool = ATOMS[:n + 2]
    else:
        pool = list(range(1, 10 + 2 * d.entities))
    if op.needs_dups or rng.random() < 0.2:
        core = rng.sample(pool, max(2, n - 2))
        return [rng.choice(core) for _ in range(n)] if rng.random() < 0.5 else _with_dups(rng, core, n)
    return rng.sample(pool, n)


def _with_dups(rng, core, n):
    out = list(core)
    while len(out) < n:
        out.insert(rng.randrange(len(out) + 1), rng.choice(core))
    return out


def _draw_input(rng: random.Random, d: Difficulty, op: Op, atoms: bool, p: dict):
    if op.name == "palindrome":
        half = _draw_list(rng, d, op, atoms)[: max(2, d.entities // 2 + 1)]
        mid = [rng.choice(half)] if rng.random() < 0.5 else []
        pal = half + mid + half[::-1]
        if rng.random() < 0.5:
            j = rng.randrange(len(pal) // 2)
            pool = [x for x in (ATOMS if atoms else range(1, 20)) if x != pal[j]]
            pal[j] = rng.choice(pool)
        return pal
    if op.name == "merge":
        L = sorted(_draw_list(rng, d, op, atoms))
        a, b = [L[0]], [L[-1]]
        for x in L[1:-1]:
            (a if rng.random() < 0.5 else b).append(x)
        return [sorted(a), sorted(b)]
    if op.arity == 2:
        L = _draw_list(rng, d, op, atoms)
        cut = rng.randint(1, len(L) - 1)
        return [L[:cut], L[cut:]]
    return _draw_list(rng, d, op, atoms)


# ================================================================ generation


def run(chain: list[Op], params: dict, r0s: dict, L, qas: list[list]):
    v, steps = L, []
    for i, op in enumerate(chain):
        v, s = op.trace(v, params[op.name], qas[i], r0s[op.name])
        if len(chain) > 1:
            s = [f"第{'一二三'[i]}步，{op.desc(params[op.name], qas[i])}：{s[0]}", *s[1:]]
        steps += s
    if len(steps) > 12:
        steps = fold(steps, 12)
    return v, steps


def question(rng, d: Difficulty, chain: list[Op], params: dict, r0s: dict, atoms: bool) -> SynthQuestion:
    op0 = chain[0]
    L = _draw_input(rng, d, op0, atoms, params[op0.name])
    qas, v = [], L
    for op in chain:  # qargs may depend on the intermediate list
        if op.out != "list" and op is not chain[-1]:
            raise Rejected("value op mid-chain")
        if op.arity == 1 and (not isinstance(v, list) or not v or (op.numeric and not all(isinstance(x, int) for x in v))):
            raise Rejected("op does not apply")
        if op.name in ("flatten",) and op is not op0:
            raise Rejected("flatten only first")
        qa = op.qargs(rng, v, params[op.name])
        qas.append(qa)
        v = op.apply(params[op.name], v, qa)  # only to draw the next op's arguments
    if chain[-1].name == "extreme" and not v:
        raise Rejected("empty")
    value, steps = run(chain, params, r0s, L, qas)
    last = chain[-1]
    ops_meta = [[op.name, params[op.name], qa] for op, qa in zip(chain, qas, strict=True)]
    meta = {"ops": ops_meta, "input": L, "post": None}
    subject = _subject(chain, params, L, qas, rng)

    if last.name == "palindrome" and len(chain) == 1 and rng.random() < 0.35:
        return _pick_palindrome(rng, d, last, params, r0s, atoms, L, value)
    if last.out == "bool":
        options, answer = yes_no(rng, value)
        meta["claims"] = [ListClaim(True, o == "是") for o in options]
        body = last.ask_bool(L, qas[-1], rng) if len(chain) == 1 else f"{subject}为真吗？"
        return SynthQuestion(body, options, answer, steps, meta)

    r = rng.random()
    if last.out == "list" and r < 0.1 and value:  # 是/否: an element in the result
        x = rng.choice(value) if rng.random() < 0.5 else rng.choice(_flat_items(L))
        truth = x in value
        options, answer = yes_no(rng, truth)
        meta["post"] = ["member", x]
        meta["claims"] = [ListClaim(True, o == "是") for o in options]
        steps = [*steps, f"{show(x)} {'在' if truth else '不在'}结果 {show(value)} 中。"]
        return SynthQuestion(f"{subject}中是否包含 {show(x)}？", options, answer, steps, meta)
    if last.out == "list" and r < 0.18:  # the length of the result
        meta["post"] = "len"
        n = len(value)
        steps = [*steps, f"结果 {show(value)} 共有 {n} 个元素。"]
        near = [n + 1, n - 1, len(_flat_items(L)), n + 2]
        return _options(rng, d, f"{subject}的长度是多少？", n, near, [n + k for k in (-3, -2, 3, 4)],
                        steps, meta)
    near = [x for x in last.near(v_in(chain, params, L, qas), params[last.name], qas[-1], value)]
    if len(chain) > 1:
        near += _chain_near(chain, params, L, qas)
    far = _far(rng, value, L)
    if r < 0.3:  # 是/否 on one claimed result
        wrong = [x for x in near + far if x != value]
        shown = value if rng.random() < 0.5 or not wrong else wrong[0]
        options, answer = yes_no(rng, shown == value)
        meta["claims"] = [ListClaim(shown, o == "是") for o in options]
        if shown != value:
            steps = [*steps, f"{show(value)} 与 {show(shown)} 不同，所以说法不成立。"]
        q = f"{subject}是否为 {show(shown)}？" if rng.random() < 0.6 else f"{subject}是 {show(shown)} 吗？"
        return SynthQuestion(q, options, answer, steps, meta)
    ask = f"{subject}是什么？"
    if len(chain) == 1 and last.out == "value":
        ask = last.ask_value(params[last.name], L, qas[-1], rng)
    return _options(rng, d, ask, value, near, far, steps, meta)


def _pick_palindrome(rng, d, op, params, r0s, atoms, L, is_pal) -> SynthQuestion:
    """"以下哪个列表是回文？": one palindrome among near misses (one end changed, a middle pair swapped)."""
    pal = L if is_pal else L[: len(L) // 2] + L[: (len(L) + 1) // 2][::-1]
    near = []
    for j in range(len(pal) // 2):
        w = pal[:]
        pool = [x for x in (ATOMS if atoms else range(1, 20)) if x != w[j]]
        w[j] = rng.choice(pool)
        near.append(w)
    if len(pal) > 3:
        w = pal[:]
        w[0], w[1] = w[1], w[0]
        if w != w[::-1]:
            near.append(w)
    far = [rng.sample(pal, len(pal)) for _ in range(4)]
    table = {show(x): x for x in near + far if x != x[::-1]}
    n = n_options(rng)
    ds = pick_distractors(rng, [show(x) for x in near if show(x) in table], [show(x) for x in far if show(x) in table],
                          n - 1, d.close)
    options, answer = make_options(rng, show(pal), ds, n)
    inputs = [pal if i == answer else table[o] for i, o in enumerate(options)]
    steps = []
    for x in inputs:
        ok, lines = op.trace(x, {}, [], r0s[op.name])
        steps.append(lines[-1])
    meta = {"ops": [[op.name, {}, []]], "inputs": inputs, "post": None, "claims": [ListClaim(True, True) for _ in inputs]}
    return SynthQuestion(rng.choice(["以下哪个列表是回文？", "下列哪个列表是回文列表？"]), options, answer, steps, meta)


def v_in(chain, params, L, qas):
    """The input of the last op of the chain (the list it was applied to)."""
    v = L
    for op, qa in zip(chain[:-1], qas[:-1], strict=True):
        v = op.apply(params[op.name], v, qa)
    return v


def _chain_near(chain, params, L, qas) -> list:
    """Near misses of a composition: the first op's near misses fed on, the ops in the wrong order,
    or the second op applied to the raw input."""
    a, b = chain
    pa, pb = params[a.name], params[b.name]
    mid = a.apply(pa, L, qas[0])
    tries = [lambda w=w: b.apply(pb, w, qas[1]) for w in a.near(L, pa, qas[0], mid)[:3]]
    if a.arity == 1 and b.arity == 1:
        tries.append(lambda: b.apply(pb, L, qas[1]))
        if b.out == "list":
            tries.append(lambda: a.apply(pa, b.apply(pb, L, qas[1]), qas[0]))
    out = [mid] if b.out == "list" else []
    for f in tries:
        try:
            out.append(f())
        except (IndexError, ValueError, TypeError):
            pass
    return out


def _flat_items(L) -> list:
    out = []
    for x in L:
        out += _flat_items(x) if isinstance(x, list) else [x]
    return out


def _far(rng, value, L) -> list:
    if isinstance(value, list):
        out = []
        for _ in range(6):
            w = value[:]
            rng.shuffle(w)
            out.append(w)
        items = _flat_items(L)
        out.append(rng.sample(items, min(len(items), max(1, len(value)))))
        return out
    if isinstance(value, int):
        return [value + k for k in (-3, -2, 2, 3, 5) if value + k >= 0] + [x for x in L if isinstance(x, int)]
    return _flat_items(L)


def _options(rng, d, body, value, near, far, steps, meta) -> SynthQuestion:
    n = n_options(rng)
    table = {}
    for x in near + far:
        table.setdefault(show(x), x)
    true = show(value)
    table.pop(true, None)
    ds = pick_distractors(rng, [show(x) for x in near if show(x) in table], [show(x) for x in far if show(x) in table],
                          n - 1, d.close)
    options, answer = make_options(rng, true, ds, n)
    meta["claims"] = [ListClaim(value if i == answer else table[o], True) for i, o in enumerate(options)]
    return SynthQuestion(body, options, answer, steps, meta)


def _after(phrase: str) -> str:
    return phrase + (" 后" if phrase[-1].isascii() else "后")


def _subject(chain, params, L, qas, rng) -> str:
    """A noun phrase for the result: "reverse([1, 2]) 的结果", "对列表 [1, 2] 反转后的结果" ..."""
    op = chain[0]
    p = params[op.name]
    if len(chain) == 2:
        b = chain[1]
        head = (f"将列表 {show(L[0])} 和 {show(L[1])} {op.desc(p, qas[0])}" if op.arity == 2
                else f"对列表 {show(L)} {op.desc(p, qas[0])}")
        return f"先{head}，再对结果{b.desc(params[b.name], qas[1])}，得到的结果"
    if op.arity == 2:
        return f"将列表 {show(L[0])} 和 {show(L[1])} {_after(op.desc(p, qas[0]))}的结果"
    r = rng.random()
    if r < 0.3:
        return f"{op.call(L, p, qas[0])} 的结果"
    if r < 0.45 and not qas[0]:
        return f"对于输入列表 {show(L)}，函数 {op.label(p)} 返回的结果"
    return f"对列表 {show(L)} {_after(op.desc(p, qas[0]))}的结果"


