"""Truth-tellers and liars: knights always tell the truth, knaves always lie ("骑士总是说真话，无赖总是说谎").

2-4 people each say one thing ("B是无赖", "我们俩都是骑士", "B和C中恰有一个是骑士" ...). Only puzzles that
the solver settles completely are kept: it assumes one person's type, propagates what every statement
then forces, and when that runs into a contradiction it fixes the opposite type ("假设A是骑士，则…矛盾；
所以A是无赖"), until everyone is known. Each step is forced, so the assignment it reaches is the only
consistent one. Checker: all 2^n assignments, keeping those where each speaker's type equals the truth
of what they said.

Statements (JSON lists): ["is", B, knight?], ["both", B, C, knight?], ["one", B, C] (exactly one is a
knight), ["same", B, C], ["either", B, C] (at least one knight), ["count", k] (exactly k knights), and
for options only ["all", [[name, knight?], ...]].
"""

from __future__ import annotations

import itertools
import random

from .core import (
    Difficulty,
    Puzzle,
    Rejected,
    Style,
    SynthQuestion,
    collect_questions,
    make_options,
    n_options,
    pick_distractors,
    problem_text,
    yes_no,
)

# (knight word, knave word, the rule as the problem states it)
ROLES = [
    ("骑士", "无赖", "骑士总是说真话，无赖总是说谎"),
    ("诚实者", "说谎者", "诚实者总是说真话，说谎者总是说假话"),
    ("天使", "恶魔", "天使总是说真话，恶魔总是说谎"),
    ("老实人", "骗子", "老实人只说真话，骗子只说假话"),
]
INTROS = [
    "在一座岛上，所有居民要么是{k}要么是{n}。{rule}。岛上有{count}个人：{names}。以下是他们说的话：",
    "有{count}个人：{names}。每个人要么是{k}，要么是{n}，{rule}。他们各自说了一句话：",
    "某个村庄里只住着{k}和{n}：{rule}。你遇到了{names}这{count}个人，他们说：",
    "考虑以下逻辑谜题：{names}中每个人都是{k}或{n}之一（{rule}）。已知他们的陈述如下：",
]
CN_NUM = "零一两三四五六七八九"


def _eval(stmt: list, a: dict) -> bool:
    kind = stmt[0]
    if kind == "is":
        return a[stmt[1]] == stmt[2]
    if kind == "both":
        return a[stmt[1]] == stmt[3] and a[stmt[2]] == stmt[3]
    if kind == "one":
        return a[stmt[1]] != a[stmt[2]]
    if kind == "same":
        return a[stmt[1]] == a[stmt[2]]
    if kind == "either":
        return a[stmt[1]] or a[stmt[2]]
    if kind == "count":
        return sum(a.values()) == stmt[1]
    if kind == "all":
        return all(a[x] == v for x, v in stmt[1])
    raise ValueError(kind)


def _vars(stmt: list, names: list[str]) -> list[str]:
    if stmt[0] in ("count",):
        return list(names)
    if stmt[0] == "all":
        return [x for x, _ in stmt[1]]
    return [x for x in stmt[1:3] if isinstance(x, str)]


class Words:
    def __init__(self, role: tuple, names: list[str]):
        self.k, self.n, self.rule = role
        self.names = names

    def role(self, v: bool) -> str:
        return self.k if v else self.n

    def text(self, stmt: list, speaker: str | None = None) -> str:
        """The statement as said by ``speaker`` ("我" for the speaker), or as a plain claim."""
        def me(x: str) -> str:
            return "我" if x == speaker else x

        kind = stmt[0]
        if kind == "is":
            return f"{me(stmt[1])}是{self.role(stmt[2])}"
        if kind == "both":
            b, c = stmt[1], stmt[2]
            if speaker in (b, c) and len(self.names) == 2:
                return f"我们俩都是{self.role(stmt[3])}"
            return f"{me(b)}和{me(c)}都是{self.role(stmt[3])}"
        if kind == "one":
            return f"{me(stmt[1])}和{me(stmt[2])}中恰有一个是{self.k}"
        if kind == "same":
            return f"{me(stmt[1])}和{me(stmt[2])}是同一类人"
        if kind == "either":
            return f"{me(stmt[1])}和{me(stmt[2])}中至少有一个是{self.k}"
        if kind == "count":
            if stmt[1] == 0:
                return f"我们当中没有{self.k}"
            return f"我们当中恰好有{CN_NUM[stmt[1]]}个{self.k}"
        if kind == "all":
            return "，".join(f"{x}是{self.role(v)}" for x, v in stmt[1])
        raise ValueError(kind)


# ---------------------------------------------------------------- solver with a trace


def _propagate(state: dict, said: list, names: list, w: Words) -> tuple[bool, list[str]]:
    """Fill in what the statements force. Returns (consistent, the deductions in words)."""
    notes: list[str] = []
    changed = True
    while changed:
        changed = False
        for speaker, stmt in said:
            vs = list(dict.fromkeys([speaker, *_vars(stmt, names)]))
            unknown = [v for v in vs if state[v] is None]
            fits = []
            for values in itertools.product((True, False), repeat=len(unknown)):
                a = dict(state)
                a.update(zip(unknown, values, strict=True))
                if _eval(stmt, a) == a[speaker]:
                    fits.append(values)
            said_text = w.text(stmt, speaker)
            if not fits:
                if state[speaker] is not None and not unknown:
                    notes.append(f"{speaker}是{w.role(state[speaker])}，但“{said_text}”为"
                                 f"{'假' if state[speaker] else '真'}，矛盾")
                elif state[speaker] is not None:
                    notes.append(f"{speaker}是{w.role(state[speaker])}，“{said_text}”应为"
                                 f"{'真' if state[speaker] else '假'}，但这与已知不符，矛盾")
                else:
                    notes.append(f"{speaker}说“{said_text}”，无论{speaker}是{w.k}还是{w.n}都矛盾")
                return False, notes
            forced = [(v, fits[0][i]) for i, v in enumerate(unknown) if all(f[i] == fits[0][i] for f in fits)]
            if not forced:
                continue
            for v, val in forced:
                state[v] = val
            got = "、".join(f"{v}是{w.role(val)}" for v, val in forced)
            if any(v == speaker for v, _ in forced):
                truth = forced[[v for v, _ in forced].index(speaker)][1]
                notes.append(f"{speaker}说“{said_text}”，这句话只能为{'真' if truth else '假'}，所以{got}")
            else:
                notes.append(f"{speaker}是{w.role(state[speaker])}，所以“{said_text}”为"
                             f"{'真' if state[speaker] else '假'}，可知{got}")
            changed = True
    return True, notes


def solve(names: list[str], said: list, w: Words) -> tuple[dict, list[str]] | None:
    """The forced assignment and the case analysis that reaches it, or None if the solver gets stuck."""
    state: dict = {x: None for x in names}
    steps: list[str] = []
    ok, notes = _propagate(state, said, names, w)
    if not ok:
        return None
    steps += [n + "。" for n in notes]
    while any(v is None for v in state.values()):
        best = None
        for x in names:
            if state[x] is not None:
                continue
            for val in (True, False):
                trial = dict(state)
                trial[x] = val
                ok, notes = _propagate(trial, said, names, w)
                if not ok and (best is None or len(notes) < len(best[2])):
                    best = (x, val, notes)
        if best is None:
            return None  # would need nested case analysis: keep only puzzles with short proofs
        x, val, notes = best
        steps.append(f"假设{x}是{w.role(val)}：{'；'.join(notes)}。所以{x}不是{w.role(val)}，而是{w.role(not val)}。")
        state[x] = not val
        ok, notes = _propagate(state, said, names, w)
        if not ok:
            return None  # no consistent assignment at all
        if notes:
            steps.append("；".join(notes) + "。")
    return state, steps


# ---------------------------------------------------------------- questions


def _statements(rng: random.Random, speaker: str, names: list[str]) -> list:
    others = [x for x in names if x != speaker]
    b = rng.choice(others)
    pair = rng.sample(names, 2) if len(others) < 2 or rng.random() < 0.4 else rng.sample(others, 2)
    pair = sorted(pair, key=names.index)
    opts = [["is", b, rng.random() < 0.5], ["both", *pair, rng.random() < 0.6], ["one", *pair],
            ["same", *pair], ["either", *pair]]
    if len(names) >= 3:
        opts.append(["count", rng.randint(0, len(names))])
    return opts


def generate(rng: random.Random, difficulty: Difficulty, style: Style) -> Puzzle:
    n = max(2, min(4, difficulty.entities - 2 + rng.randint(0, 1)))
    names = style.names(rng, n)
    w = Words(rng.choice(ROLES), names)
    assigns = [dict(zip(names, vs, strict=True)) for vs in itertools.product((True, False), repeat=n)]
    for _ in range(40):
        said = [(x, rng.choice(_statements(rng, x, names))) for x in names]
        if sum(all(_eval(st, a) == a[x] for x, st in said) for a in assigns) != 1:
            continue  # a quick filter; the solver below proves what it finds
        got = solve(names, said, w)
        if got is not None:
            break
    else:
        raise Rejected("no puzzle with a unique, directly provable answer")
    truth, steps = got
    intro = INTROS[style.intro % len(INTROS)].format(k=w.k, n=w.n, rule=w.rule, count=CN_NUM[n],
                                                     names="、".join(names))
    lines = [f"{x}说{rng.choice(['：', ':', '：'])}“{w.text(s, x)}。”" for x, s in said]
    problem = problem_text(intro, lines, style)
    solution = "，".join(f"{x}是{w.role(truth[x])}" for x in names)
    steps = [*steps, f"综上：{solution}。"]
    makers = [_ask_role, _ask_statement, _ask_count, _ask_all, _ask_said]
    target = rng.choices([1, 2, 3, 4], [3, 2, 1, 4])[0]
    questions = collect_questions(
        lambda: rng.choices(makers, [4, 3, 2, 2, 2])[0](rng, difficulty, w, names, truth, said, steps),
        2 * target, target)
    return Puzzle("truth", problem, questions,
                  world={"names": names, "said": [[x, s] for x, s in said], "roles": [w.k, w.n]})


def _ask_role(rng, d, w: Words, names, truth, said, steps) -> SynthQuestion:
    x = rng.choice(names)
    if rng.random() < 0.5:
        options = [w.k, w.n] if rng.random() < 0.7 else [w.n, w.k]
        answer = options.index(w.role(truth[x]))
        claims = [["yn", ["is", x, o == w.k], True] for o in options]
        body = f"{x}是{w.k}还是{w.n}？"
    else:
        asked = rng.random() < 0.5
        options, answer = yes_no(rng, truth[x] == asked)
        claims = [["yn", ["is", x, asked], o == "是"] for o in options]
        body = rng.choice([f"{x}是{w.role(asked)}吗？", f"根据以上信息，{x}是否是{w.role(asked)}？"])
    return SynthQuestion(body, options, answer, [*steps, f"所以{x}是{w.role(truth[x])}。"], meta={"claims": claims})


def _ask_said(rng, d, w: Words, names, truth, said, steps) -> SynthQuestion:
    x, stmt = rng.choice(said)
    options, answer = yes_no(rng, truth[x])
    body = rng.choice([f"{x}说的“{w.text(stmt, x)}”是真话吗？", f"{x}的陈述是真的吗？"])
    last = f"{x}是{w.role(truth[x])}，所以{x}说的是{'真话' if truth[x] else '假话'}。"
    return SynthQuestion(body, options, answer, [*steps, last],
                         meta={"claims": [["yn", ["is", x, True], o == "是"] for o in options]})


def _claims_pool(w: Words, names, truth):
    out = [["is", x, v] for x in names for v in (True, False)]
    for b, c in itertools.combinations(names, 2):
        out += [["both", b, c, True], ["both", b, c, False], ["one", b, c], ["same", b, c]]
    return out


def _ask_statement(rng, d, w: Words, names, truth, said, steps) -> SynthQuestion:
    n = n_options(rng)
    pool = _claims_pool(w, names, truth)
    trues = [s for s in pool if _eval(s, truth)]
    falses = [s for s in pool if not _eval(s, truth)]
    true = rng.choice(trues)
    text = {w.text(s) + "。": s for s in pool}
    near = [w.text(s) + "。" for s in falses if s[0] == "is" or (s[0] == "both" and len(names) == 2)]
    picks = pick_distractors(rng, near, [w.text(s) + "。" for s in falses], n - 1, d.close)
    options, answer = make_options(rng, w.text(true) + "。", picks, n)
    check = [f"“{o[:-1]}”{'正确' if i == answer else '错误'}" for i, o in enumerate(options)]
    return SynthQuestion(rng.choice(["以下哪个说法正确？", "下列哪项描述是正确的？", "根据以上信息，以下哪项为真？"]),
                         options, answer, [*steps, "逐项检验：" + "，".join(check) + "。"],
                         meta={"claims": [["yn", text[o], True] for o in options]})


def _ask_count(rng, d, w: Words, names, truth, said, steps) -> SynthQuestion:
    k = sum(truth.values())
    n = min(n_options(rng), len(names) + 1)
    near = [str(x) for x in (k - 1, k + 1) if 0 <= x <= len(names)]
    picks = pick_distractors(rng, near, [str(x) for x in range(len(names) + 1)], n - 1, d.close)
    options, answer = make_options(rng, str(k), picks, n)
    knights = [x for x in names if truth[x]]
    last = f"{w.k}有：{'、'.join(knights)}，共{k}个。" if knights else f"没有人是{w.k}，共0个。"
    return SynthQuestion(rng.choice([f"有几个{w.k}？", f"这{CN_NUM[len(names)]}个人中共有几个{w.k}？"]), options,
                         answer, [*steps, last], meta={"claims": [["yn", ["count", int(o)], True] for o in options]})


def _ask_all(rng, d, w: Words, names, truth, said, steps) -> SynthQuestion:
    n = min(n_options(rng), 2 ** len(names))
    assigns = [dict(zip(names, vs, strict=True)) for vs in itertools.product((True, False), repeat=len(names))]

    def text(a):
        return "，".join(f"{x}是{w.role(a[x])}" for x in names)

    near = [text(a) for a in assigns if sum(a[x] != truth[x] for x in names) == 1]
    picks = pick_distractors(rng, near, [text(a) for a in assigns if a != truth], n - 1, d.close)
    options, answer = make_options(rng, text(truth), picks, n)
    by_text = {text(a): a for a in assigns}
    return SynthQuestion(f"{'、'.join(names)}分别是什么身份？", options, answer, steps,
                         meta={"claims": [["yn", ["all", [[x, by_text[o][x]] for x in names]], True]
                                          for o in options]})


# ---------------------------------------------------------------- brute-force checker


def check(puzzle: Puzzle, question_index: int) -> list[bool]:
    """Every assignment of knight/knave; keep those where each speaker's type equals their statement's truth."""
    names, said = puzzle.world["names"], puzzle.world["said"]

    def holds(s, a) -> bool:  # written apart from the solver's evaluator on purpose
        k = s[0]
        if k == "is":
            return a[s[1]] is s[2]
        if k == "both":
            return a[s[1]] is s[3] and a[s[2]] is s[3]
        if k == "one":
            return [a[s[1]], a[s[2]]].count(True) == 1
        if k == "same":
            return a[s[1]] is a[s[2]]
        if k == "either":
            return True in (a[s[1]], a[s[2]])
        if k == "count":
            return [a[x] for x in names].count(True) == s[1]
        if k == "all":
            return all(a[x] is v for x, v in s[1])
        raise ValueError(k)

    models = []
    for bits in range(2 ** len(names)):
        a = {x: bool(bits >> i & 1) for i, x in enumerate(names)}
        if all(a[x] is holds(s, a) for x, s in said):
            models.append(a)
    out = []
    for kind, stmt, want in puzzle.questions[question_index].meta["claims"]:
        assert kind == "yn"
        out.append(bool(models) and all(holds(stmt, m) is want for m in models))
    return out
