"""Orderings and comparisons: "A 比 B 高" facts that fix a total order, questions that need the
transitive chain (who is tallest, is X taller than Y, who is n-th, which statement is right).

Program: ``gt(X, Y)`` facts for adjacent pairs, and ``gt(X, Z) :- gt(X, Y), gt(Y, Z)``.
Checker: every permutation of the entities that satisfies the given facts; a claim is true when it
holds in all of them (closed world: the facts fix exactly one).
"""

from __future__ import annotations

import functools
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
    make_options,
    n_options,
    pick_distractors,
    problem_text,
    proof_steps,
    yes_no,
)

# relation: (fact "{a}…{b}", word for the top, word for the bottom, subject noun, rank word)
RELATIONS = [
    ("{a}比{b}高", "最高", "最矮", "人", "高"),
    ("{a}比{b}年龄大", "年龄最大", "年龄最小", "人", "年长"),
    ("{a}跑得比{b}快", "跑得最快", "跑得最慢", "人", "快"),
    ("{a}在{b}的西边", "最西边", "最东边", "地点", "西"),
    ("{a}比{b}早到", "最早到", "最晚到", "人", "早"),
    ("{a}比{b}大", "最大", "最小", "动物", "大"),
]
ANIMALS = ["大象", "马", "牛", "驴", "狗", "猫", "狐狸", "兔子", "老鼠", "猴子", "狮子", "羊"]
PLACES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆"]
INTROS = ["考虑以下关于{noun}之间比较关系的描述：", "已知以下{noun}之间的关系：", "下面是一些关于{noun}的已知信息：",
          "有几个{noun}，他们之间的比较关系如下："]
RULE = Rule(("gt", "?x", "?z"), (("gt", "?x", "?y"), ("gt", "?y", "?z")))


def _say(rel: tuple):
    return lambda f: rel[0].format(a=f[1], b=f[2])


def generate(rng: random.Random, difficulty: Difficulty, style: Style) -> Puzzle:
    rel = rng.choice(RELATIONS)
    n = max(3, min(difficulty.entities + rng.randint(-1, 1), 8))
    pool = {"动物": ANIMALS, "地点": PLACES}.get(rel[3])
    names = rng.sample(pool, n) if pool else style.names(rng, n)
    order = names[:]  # order[0] is the top
    rng.shuffle(order)
    pairs = [(order[i], order[i + 1]) for i in range(n - 1)]
    rng.shuffle(pairs)
    facts = [("gt", a, b) for a, b in pairs]
    derived = forward_chain(facts, [RULE], indexed=True)
    say = _say(rel)
    fact_lines = [say(f) for f in facts]
    problem = problem_text(INTROS[style.intro % len(INTROS)].format(noun=rel[3]), fact_lines, style)

    makers = [_ask_top, _ask_pair, _ask_statement, _ask_rank]
    questions = collect_questions(lambda: rng.choice(makers)(rng, difficulty, rel, order, derived, say),
                                  rng.choice([1, 2, 3, 4, 4]))
    return Puzzle("ordering", problem, questions,
                  world={"names": names, "facts": [list(p) for p in pairs], "relation": rel[0]})


def _ask_top(rng, difficulty, rel, order, derived, say) -> SynthQuestion:
    top = rng.random() < 0.5
    who = order[0] if top else order[-1]
    word = rel[1] if top else rel[2]
    others = [x for x in order if x != who]
    near = [order[1]] if top else [order[-2]]
    options, answer = make_options(rng, who, pick_distractors(rng, near, others, 3, difficulty.close), n_options(rng))
    # The chain from top to bottom passes through everyone: its proof orders all of them.
    steps = proof_steps(("gt", order[0], order[-1]), derived, say)
    steps.append(f"把所有关系连起来，按“{rel[4]}”从前到后的顺序是：{' > '.join(order)}。")
    steps.append(f"所以{word}的是{who}。")
    return SynthQuestion(f"谁{word}？" if rel[3] != "地点" else f"哪个地点在{word}？", options, answer, steps,
                         meta={"claims": [["extreme", o, top] for o in options]})


def _ask_pair(rng, difficulty, rel, order, derived, say) -> SynthQuestion:
    i, j = sorted(rng.sample(range(len(order)), 2))
    if j - i < min(difficulty.depth, len(order) - 1) and rng.random() < 0.7:
        raise Rejected("too shallow")
    a, b = (order[i], order[j]) if rng.random() < 0.5 else (order[j], order[i])
    truth = ("gt", a, b) in derived
    options, answer = yes_no(rng, truth)
    claim = rel[0].format(a=a, b=b)
    if truth:
        steps = proof_steps(("gt", a, b), derived, say)
    else:
        steps = proof_steps(("gt", b, a), derived, say)
        steps.append(f"所以“{claim}”不成立。")
    return SynthQuestion(f"{claim}吗？" if rng.random() < 0.5 else f"根据以上信息，{claim}是否正确？", options, answer,
                         steps, meta={"claims": [["gt", a, b, o == "是"] for o in options]})


def _ask_statement(rng, difficulty, rel, order, derived, say) -> SynthQuestion:
    n = n_options(rng)
    i, j = sorted(rng.sample(range(len(order)), 2))
    true = (order[i], order[j])
    false_pairs = [(order[q], order[p]) for p in range(len(order)) for q in range(p + 1, len(order))]
    near = [(b, a) for a, b in [true]] + [p for p in false_pairs if abs(order.index(p[0]) - order.index(p[1])) == 1]
    texts = {rel[0].format(a=a, b=b): (a, b) for a, b in [true, *false_pairs]}
    distractors = pick_distractors(rng, [rel[0].format(a=a, b=b) for a, b in near],
                                   [rel[0].format(a=a, b=b) for a, b in false_pairs], n - 1, difficulty.close)
    options, answer = make_options(rng, rel[0].format(a=true[0], b=true[1]), distractors, n)
    steps = proof_steps(("gt", *true), derived, say)
    return SynthQuestion("以下哪个说法是正确的？", options, answer, steps,
                         meta={"claims": [["gt", *texts[o], True] for o in options]})


def _ask_rank(rng, difficulty, rel, order, derived, say) -> SynthQuestion:
    k = rng.randrange(len(order))
    who = order[k]
    near = [order[x] for x in (k - 1, k + 1) if 0 <= x < len(order)]
    options, answer = make_options(rng, who, pick_distractors(rng, near, order, 3, difficulty.close), n_options(rng))
    steps = proof_steps(("gt", order[0], order[-1]), derived, say)
    steps.append(f"把所有关系连起来，顺序是：{' > '.join(order)}（按“{rel[4]}”从前到后）。")
    steps.append(f"排在第{k + 1}位的是{who}。")
    return SynthQuestion(f"按“{rel[4]}”从前往后排列，排在第{k + 1}位的是谁？", options, answer, steps,
                         meta={"claims": [["rank", o, k] for o in options]})


# ---------------------------------------------------------------- brute-force checker


@functools.lru_cache(maxsize=32)
def _orders(names: tuple, facts: tuple) -> list[tuple]:
    """Every order of ``names`` (first = most) in which each fact's a comes before its b.

    Built left to right, a name placed only once everything the facts put before it is placed: the same
    set as filtering all permutations, without walking the 8! that break a fact early. Cached because
    generation checks every question of a puzzle over one world."""
    before = {x: {a for a, b in facts if b == x} for x in names}
    out: list[tuple] = []

    def extend(prefix: list, placed: set) -> None:
        if len(prefix) == len(names):
            out.append(tuple(prefix))
            return
        for x in names:
            if x not in placed and before[x] <= placed:
                extend(prefix + [x], placed | {x})

    extend([], set())
    return out


def check(puzzle: Puzzle, question_index: int) -> list[bool]:
    """Truth of each option of one question, over every order consistent with the facts."""
    models = _orders(tuple(puzzle.world["names"]), tuple(tuple(f) for f in puzzle.world["facts"]))

    def holds(claim) -> bool:
        kind = claim[0]
        if kind == "extreme":
            return all((m[0] if claim[2] else m[-1]) == claim[1] for m in models)
        if kind == "gt":  # ["gt", a, b, asserted]: the option says the comparison is (not) so
            truth = all(m.index(claim[1]) < m.index(claim[2]) for m in models)
            return truth == claim[3]
        if kind == "rank":
            return all(m[claim[2]] == claim[1] for m in models)
        raise ValueError(kind)

    return [holds(c) for c in puzzle.questions[question_index].meta["claims"]]
