"""Kinship: a family tree given as "A 是 B 的父亲/母亲" and gender facts, relations defined by Horn rules
(grandparent, sibling, uncle/aunt, cousin, ancestor, child, grandchild ...), questions that need them.

Program: ``parent(X, Y)``, ``male(X)``, ``female(X)`` facts and the rules in ``RULES`` below (``X≠Y`` for
siblings is a rule test). The solver is :func:`core.forward_chain`; positive answers are explained by the
proof, negative and "who are all ..." answers by walking the closed world (parents, their siblings ...).
Checker: each relation re-defined directly over the parent/gender facts by enumerating people (ancestor by
a depth-first walk over parent chains), with none of the chaining code.
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

MALE_CN = ["约翰", "彼得", "汤姆", "杰克", "比尔", "大卫", "鲍勃", "詹姆斯", "乔治", "亨利", "马克", "保罗", "张伟", "刘洋",
           "杨磊", "黄勇", "周杰", "徐明", "马超", "胡军"]
FEMALE_CN = ["玛丽", "安娜", "露西", "艾米", "简", "苏珊", "莉莉", "凯特", "爱丽丝", "南希", "海伦", "朱莉", "王芳", "李娜",
             "陈静", "赵敏", "吴倩", "孙丽", "朱婷", "林琳"]
MALE_LATIN = ["Bob", "David", "Frank", "Henry", "Jack", "Leo", "Nick", "Paul", "Sam", "Tom", "John", "Mike", "Jim",
              "Fred", "George", "Peter", "Mark", "Adam", "Homer", "Bart"]
FEMALE_LATIN = ["Alice", "Carol", "Emma", "Grace", "Ivy", "Kate", "Mary", "Olivia", "Rose", "Vera", "Anna", "Lisa",
                "Jane", "Sarah", "Nancy", "Helen", "Marge", "Selma", "Patty", "Maggie"]

INTROS = ["有一个家庭关系如下：", "在一个家族中，有几代人和他们的关系如下：", "已知家谱关系如下：",
          "在一个大家族中，已知下列关系：", "有一个家族，其中有父母和他们的孩子，以及祖父母和他们的孙辈。以下是已知的关系：",
          "以下是一个家族中成员之间的关系："]
GENDER_INTROS = ["以下是已知的家庭成员性别：", "家庭成员的性别如下：", "已知性别信息："]
DEF_INTROS = ["关系定义如下：", "已知以下关系定义：", "其中各种关系的定义为："]

M, F = "?m", "?f"
X, Y, Z, A, B = "?x", "?y", "?z", "?a", "?b"


def _ne(x: str, y: str):
    return lambda b: b[x] != b[y]


# (head, body, test): the solver's program; body order puts the most selective goal first.
RULES = [
    Rule(("father", X, Y), (("parent", X, Y), ("male", X))),
    Rule(("mother", X, Y), (("parent", X, Y), ("female", X))),
    Rule(("child", X, Y), (("parent", Y, X),)),
    Rule(("son", X, Y), (("child", X, Y), ("male", X))),
    Rule(("daughter", X, Y), (("child", X, Y), ("female", X))),
    Rule(("grandparent", X, Z), (("parent", X, Y), ("parent", Y, Z))),
    Rule(("grandfather", X, Y), (("grandparent", X, Y), ("male", X))),
    Rule(("grandmother", X, Y), (("grandparent", X, Y), ("female", X))),
    Rule(("grandchild", X, Y), (("grandparent", Y, X),)),
    Rule(("grandson", X, Y), (("grandparent", Y, X), ("male", X))),
    Rule(("granddaughter", X, Y), (("grandparent", Y, X), ("female", X))),
    Rule(("sibling", X, Y), (("parent", Z, X), ("parent", Z, Y)), _ne(X, Y)),
    Rule(("brother", X, Y), (("sibling", X, Y), ("male", X))),
    Rule(("sister", X, Y), (("sibling", X, Y), ("female", X))),
    Rule(("uncle", X, Y), (("parent", Z, Y), ("sibling", X, Z), ("male", X))),
    Rule(("aunt", X, Y), (("parent", Z, Y), ("sibling", X, Z), ("female", X))),
    Rule(("cousin", X, Y), (("sibling", A, B), ("parent", A, X), ("parent", B, Y))),
    Rule(("ancestor", X, Y), (("parent", X, Y),)),
    Rule(("ancestor", X, Z), (("parent", X, Y), ("ancestor", Y, Z))),
]

ANCESTOR = RULES[-2:]


def solve(facts: list, ancestors: bool = True) -> dict:
    """The closure under the rules (the recursive ancestor rules only when asked for) by core.forward_chain."""
    return forward_chain(facts, RULES if ancestors else RULES[:-2], indexed=True)


# relation -> its Chinese word (aunt's word is chosen per puzzle)
WORDS = {"parent": "父亲或母亲", "father": "父亲", "mother": "母亲", "child": "子女", "son": "儿子", "daughter": "女儿",
         "grandparent": "祖父母", "grandfather": "祖父", "grandmother": "祖母", "grandchild": "孙辈", "grandson": "孙子",
         "granddaughter": "孙女", "sibling": "兄弟姐妹", "brother": "兄弟", "sister": "姐妹", "uncle": "叔叔",
         "aunt": "姑姑", "cousin": "表亲", "ancestor": "祖先"}
# mutually exclusive relations between two people of one tree: "X 是 Y 的什么人"
SPECIFIC = ["father", "mother", "son", "daughter", "brother", "sister", "grandfather", "grandmother", "grandson",
            "granddaughter", "uncle", "aunt", "cousin"]
# near misses for a relation: the same kind with the other gender, the inverse, a neighbour generation
NEAR = {"father": ["mother", "grandfather", "uncle", "son"], "mother": ["father", "grandmother", "aunt", "daughter"],
        "son": ["daughter", "father", "grandson", "brother"], "daughter": ["son", "mother", "granddaughter", "sister"],
        "brother": ["sister", "cousin", "uncle", "son"], "sister": ["brother", "cousin", "aunt", "daughter"],
        "grandfather": ["grandmother", "father", "uncle", "grandson"],
        "grandmother": ["grandfather", "mother", "aunt", "granddaughter"],
        "grandson": ["granddaughter", "son", "grandfather", "cousin"],
        "granddaughter": ["grandson", "daughter", "grandmother", "cousin"],
        "uncle": ["aunt", "father", "brother", "cousin"], "aunt": ["uncle", "mother", "sister", "cousin"],
        "cousin": ["sibling", "brother", "sister", "uncle"], "sibling": ["cousin", "uncle", "aunt"],
        "grandparent": ["parent", "ancestor", "uncle"], "grandchild": ["child", "cousin", "sibling"],
        "parent": ["grandparent", "uncle", "aunt"], "child": ["grandchild", "sibling"],
        "ancestor": ["uncle", "aunt", "sibling", "cousin"]}
DEFS = {
    "grandparent": "如果X是Z的父亲或母亲，并且Z是Y的父亲或母亲，那么X是Y的祖父母。",
    "grandfather": "如果X是Y的祖父母，并且X是男性，那么X是Y的祖父。",
    "grandmother": "如果X是Y的祖父母，并且X是女性，那么X是Y的祖母。",
    "sibling": "如果两个不同的人有一个共同的父亲或母亲，那么他们是兄弟姐妹。",
    "brother": "如果X和Y是兄弟姐妹，并且X是男性，那么X是Y的兄弟。",
    "sister": "如果X和Y是兄弟姐妹，并且X是女性，那么X是Y的姐妹。",
    "uncle": "如果X与Y的父亲或母亲是兄弟姐妹，并且X是男性，那么X是Y的叔叔。",
    "aunt": "如果X与Y的父亲或母亲是兄弟姐妹，并且X是女性，那么X是Y的{aunt}。",
    "cousin": "如果X的父亲或母亲与Y的父亲或母亲是兄弟姐妹，那么X和Y是表亲。",
    "ancestor": "如果X是Y的父亲或母亲，那么X是Y的祖先；如果X是Z的父亲或母亲，并且Z是Y的祖先，那么X也是Y的祖先。",
    "child": "如果Y是X的父亲或母亲，那么X是Y的子女；男性子女是儿子，女性子女是女儿。",
    "grandchild": "如果Y是X的祖父母，那么X是Y的孙辈；男性孙辈是孙子，女性孙辈是孙女。",
}
DEF_OF = {"grandfather": ["grandparent", "grandfather"], "grandmother": ["grandparent", "grandmother"],
          "brother": ["sibling", "brother"], "sister": ["sibling", "sister"], "son": ["child"], "daughter": ["child"],
          "grandson": ["grandparent", "grandchild"], "granddaughter": ["grandparent", "grandchild"],
          "grandchild": ["grandparent", "grandchild"], "uncle": ["sibling", "uncle"],
          "aunt": ["sibling", "aunt"], "cousin": ["sibling", "cousin"], "ancestor": ["ancestor"],
          "grandparent": ["grandparent"], "sibling": ["sibling"], "child": ["child"]}
MUST_DEFINE = {"uncle", "aunt", "cousin", "ancestor"}
# relations a question may ask about, by rule depth
BY_DEPTH = {1: ["father", "mother", "son", "daughter", "sibling", "brother", "sister", "grandfather", "grandmother",
                "child"],
            2: ["grandfather", "grandmother", "grandparent", "grandson", "granddaughter", "grandchild", "uncle", "aunt",
                "cousin", "brother", "sister", "sibling"],
            3: ["uncle", "aunt", "cousin", "ancestor", "grandson", "granddaughter", "grandchild", "grandfather",
                "grandmother"]}
GENDERED = {"father": "男性", "mother": "女性", "son": "男性", "daughter": "女性", "grandfather": "男性",
            "grandmother": "女性", "grandson": "男性", "granddaughter": "女性", "brother": "男性", "sister": "女性"}
COUNTABLE = ["child", "son", "daughter", "grandchild", "grandson", "granddaughter", "sibling", "brother", "sister",
             "cousin"]


# ---------------------------------------------------------------- the family tree


def _tree(rng: random.Random, difficulty: Difficulty):
    """People (name order = birth order), gender, generation and parent pairs of one random family tree."""
    generations = 3 if difficulty.depth < 3 else 4
    target = max(7, min(difficulty.entities + 4 + rng.randint(-1, 1), 14))
    genders: list[str] = []  # "m"/"f" per person index
    gen: list[int] = []
    parents: list[tuple[int, int]] = []

    def person(g: int, sex: str | None = None) -> int:
        genders.append(sex or rng.choice("mf"))
        gen.append(g)
        return len(genders) - 1

    founder = person(0)
    units = [[founder] + ([person(0, "f" if genders[founder] == "m" else "m")] if rng.random() < 0.75 else [])]
    while units and len(genders) < target:
        unit = units.pop(0)
        g = gen[unit[0]] + 1
        kids = [person(g) for _ in range(rng.choice([1, 2, 2, 3, 3]))]
        for p in unit:
            parents += [(p, k) for k in kids]
        if g < generations - 1:
            for k in kids:
                if rng.random() < 0.75:
                    spouse = [person(g, "f" if genders[k] == "m" else "m")] if rng.random() < 0.6 else []
                    units.append([k] + spouse)
    if max(gen) < generations - 1 or len(genders) < 6:
        raise Rejected("tree too small")
    return genders, gen, parents


def _names(rng: random.Random, style: Style, genders: list[str]) -> list[str]:
    males, females = (MALE_LATIN, FEMALE_LATIN) if style.latin else (MALE_CN, FEMALE_CN)
    m = iter(rng.sample(males, genders.count("m")))
    f = iter(rng.sample(females, genders.count("f")))
    return [next(m) if s == "m" else next(f) for s in genders]


# ---------------------------------------------------------------- generator


class _Ctx:
    def __init__(self, rng, difficulty, people, male, parent_pairs, derived, aunt_word):
        self.rng, self.difficulty = rng, difficulty
        self.people, self.male = people, male
        self.derived = derived
        self.aunt = aunt_word
        self.parents_of = {p: [a for a, b in parent_pairs if b == p] for p in people}
        self.by_rel: dict[str, list[tuple]] = {}
        for f in derived:
            if len(f) == 3:
                self.by_rel.setdefault(f[0], []).append(f)
        self.used: set[str] = set()  # relations the questions rely on (their definitions get stated)
        self.ancestors = True  # whether the ancestor closure was derived

    def word(self, rel: str) -> str:
        return self.aunt if rel == "aunt" else WORDS[rel]

    def holds(self, rel, x, y) -> bool:
        return (rel, x, y) in self.derived

    def of(self, rel, y) -> list[str]:
        """Everyone who is ``rel`` of ``y``, in name order."""
        return [p for p in self.people if (rel, p, y) in self.derived]

    def whose(self, rel, x) -> list[str]:
        return [p for p in self.people if (rel, x, p) in self.derived]

    def say(self, f) -> str:
        pred = f[0]
        if pred == "male":
            return f"{f[1]}是男性"
        if pred == "female":
            return f"{f[1]}是女性"
        if pred == "parent":
            return f"{f[1]}是{f[2]}的{'父亲' if f[1] in self.male else '母亲'}"
        if pred == "sibling":
            return f"{f[1]}和{f[2]}是兄弟姐妹"
        if pred == "cousin":
            return f"{f[1]}和{f[2]}是表亲"
        return f"{f[1]}是{f[2]}的{self.word(pred)}"

    def prove(self, rel, x, y) -> list[str]:
        return proof_steps((rel, x, y), self.derived, self.say)

    def closed(self, rel, y) -> list[str]:
        """A closed-world walk that lists everyone who is ``rel`` of ``y`` (and so who is not)."""
        w = self.word(rel)
        found = self.of(rel, y)
        result = f"所以{y}的{w}是{join_names(found)}。" if found else f"所以{y}没有{w}。"
        pars = self.parents_of[y]
        if len(pars) == 1:
            p_line = f"{y}的{'父亲' if pars[0] in self.male else '母亲'}是{pars[0]}（没有其他已知的父母）。"
        else:
            p_line = f"{y}的父母是{join_names(pars)}。" if pars else f"已知事实中没有{y}的父亲或母亲。"
        steps: list[str] = []
        base = rel
        for suffix, b in (("father", "parent"), ("mother", "parent"), ("son", "child"), ("daughter", "child"),
                          ("grandfather", "grandparent"), ("grandmother", "grandparent"), ("grandson", "grandchild"),
                          ("granddaughter", "grandchild"), ("brother", "sibling"), ("sister", "sibling"),
                          ("uncle", "uncle"), ("aunt", "aunt")):
            if rel == suffix:
                base = b
        if base == "parent":
            steps.append(p_line)
        elif base == "child":
            kids = self.of("child", y)
            steps.append(f"{y}是{join_names(kids)}的父亲或母亲，所以{y}的子女是{join_names(kids)}。" if kids
                         else f"已知事实中{y}不是任何人的父亲或母亲，{y}没有子女。")
        elif base == "grandparent":
            steps.append(p_line)
            for p in pars:
                gp = self.parents_of[p]
                steps.append(f"{p}的父母是{join_names(gp)}。" if gp else f"已知事实中没有{p}的父亲或母亲。")
        elif base == "grandchild":
            kids = self.of("child", y)
            steps.append(f"{y}的子女是{join_names(kids)}。" if kids else f"{y}没有子女。")
            for k in kids:
                gk = self.of("child", k)
                steps.append(f"{k}的子女是{join_names(gk)}。" if gk else f"{k}没有子女。")
        elif base == "sibling":
            steps.append(p_line)
            for p in pars:
                steps.append(f"{p}的子女是{join_names(self.of('child', p))}。")
            sib = self.of("sibling", y)
            steps.append(f"除去{y}本人，{y}的兄弟姐妹是{join_names(sib)}。" if sib else f"除去{y}本人，{y}没有兄弟姐妹。")
        elif base in ("uncle", "aunt"):
            steps.append(p_line)
            for p in pars:
                s = self.of("sibling", p)
                steps.append(f"{p}的兄弟姐妹是{join_names(s)}。" if s else f"{p}没有兄弟姐妹。")
        elif base == "cousin":
            steps.append(p_line)
            for p in pars:
                for s in self.of("sibling", p):
                    ks = self.of("child", s)
                    steps.append(f"{p}的兄弟姐妹{s}的子女是{join_names(ks)}。" if ks else f"{p}的兄弟姐妹{s}没有子女。")
                if not self.of("sibling", p):
                    steps.append(f"{p}没有兄弟姐妹。")
        elif base == "ancestor":
            frontier, seen = [y], []
            while frontier:
                nxt = []
                for q in frontier:
                    ps = self.parents_of[q]
                    if ps:
                        steps.append(f"{q}的父母是{join_names(ps)}。")
                    nxt += [p for p in ps if p not in nxt and p not in seen]
                seen += nxt
                frontier = nxt
            if not steps:
                steps.append(p_line)
        if base in ("uncle", "aunt"):
            if any(self.of("sibling", p) for p in pars):
                steps.append(f"其中{'男性' if rel == 'uncle' else '女性'}的才是{w}，" + result)
            else:
                steps.append(result)
        elif rel in GENDERED and not self.of(base, y):
            steps.append(result)
        elif rel in GENDERED:
            sex = GENDERED[rel]
            steps.append(f"其中{sex}是{join_names(found)}，" + result if found else f"其中没有{sex}，" + result)
        elif rel != "sibling":
            steps.append(result)
        return steps


def generate(rng: random.Random, difficulty: Difficulty, style: Style) -> Puzzle:
    genders, gen, pairs = _tree(rng, difficulty)
    names = _names(rng, style, genders)
    # Name order in the puzzle: a shuffle, so the eldest is not always listed first.
    order = names[:]
    rng.shuffle(order)
    male = [names[i] for i, s in enumerate(genders) if s == "m"]
    parent_pairs = [(names[a], names[b]) for a, b in pairs]
    facts = [("parent", a, b) for a, b in parent_pairs]
    facts += [("male" if s == "m" else "female", names[i]) for i, s in enumerate(genders)]
    # The ancestor closure is the deepest part of the program: only hard puzzles and some others ask for it.
    ancestors = difficulty.depth >= 3 or rng.random() < 0.25
    derived = solve(facts, ancestors)
    ctx = _Ctx(rng, difficulty, order, set(male), parent_pairs, derived, rng.choice(["姑姑", "阿姨", "姑妈或姨妈"]))
    ctx.ancestors = ancestors

    makers = [_ask_who, _ask_who, _ask_yes_no, _ask_yes_no, _ask_what, _ask_statement, _ask_count, _ask_whose,
              _ask_has] + ([_ask_generation] if ancestors else [])
    want = rng.choice([1, 2, 3, 4, 4])
    questions = collect_questions(lambda: rng.choice(makers)(ctx), 3 * want, want)
    problem = problem_text(INTROS[style.intro % len(INTROS)], _fact_lines(rng, names, male, parent_pairs),
                           style, _extra(rng, ctx, names, male, parent_pairs))
    world = {"people": order, "male": sorted(male), "parent": [list(p) for p in parent_pairs], "aunt": ctx.aunt}
    return Puzzle("kinship", problem, questions, world=world)


def _fact_lines(rng, names, male, parent_pairs) -> list[str]:
    form = rng.randrange(3)
    lines = []
    if form == 0:  # grouped by parent: "A 是 B、C 和 D 的父亲。"
        for p in names:
            kids = [b for a, b in parent_pairs if a == p]
            if kids:
                lines.append(f"{p}是{join_names(kids)}的{'父亲' if p in male else '母亲'}。")
    else:
        for a, b in parent_pairs:
            w = "父亲" if a in male else "母亲"
            lines.append(f"{a}是{b}的{w}。" if form == 1 else f"{b}的{w}是{a}。")
        rng.shuffle(lines)
    return lines


def _extra(rng, ctx: _Ctx, names, male, parent_pairs) -> str:
    parts = []
    is_parent = {a for a, _ in parent_pairs}
    everyone = rng.random() < 0.4
    shown = [p for p in names if everyone or p not in is_parent]
    if shown:
        if rng.random() < 0.5:
            ms = [p for p in shown if p in male]
            fs = [p for p in shown if p not in male]
            lines = ([f"男性成员包括：{'、'.join(ms)}。"] if ms else []) + ([f"女性成员包括：{'、'.join(fs)}。"] if fs else [])
        else:
            lines = [f"{p}是{'男性' if p in male else '女性'}。" for p in shown]
        parts.append(rng.choice(GENDER_INTROS) + "\n" + "\n".join(f"- {s}" for s in lines))
    defs = []
    for rel in sorted(ctx.used, key=list(DEF_OF).index):
        if rel in MUST_DEFINE or rng.random() < 0.5:
            for d in DEF_OF[rel]:
                text = DEFS[d].format(aunt=ctx.aunt)
                if text not in defs:
                    defs.append(text)
    if defs:
        parts.append(rng.choice(DEF_INTROS) + "\n" + "\n".join(f"- {s}" for s in defs))
    return "\n\n".join(parts)


def _pick_rel(ctx: _Ctx) -> str:
    depth = max(1, min(ctx.difficulty.depth, 3))
    rels = BY_DEPTH[depth] + (BY_DEPTH[depth - 1] if depth > 1 and ctx.rng.random() < 0.3 else [])
    rel = ctx.rng.choice(rels)
    if rel == "ancestor" and not ctx.ancestors:
        raise Rejected("ancestors not derived")
    return rel


def _near_rels(ctx: _Ctx, rel) -> list[str]:
    return [r for r in NEAR.get(rel, []) if r != "ancestor" or ctx.ancestors]


def _near_people(ctx: _Ctx, rel, y) -> list[str]:
    out = []
    for r in _near_rels(ctx, rel):
        out += [p for p in ctx.of(r, y) if p not in out]
    return out


def _use(ctx: _Ctx, *rels):
    for r in rels:
        if r in DEF_OF:
            ctx.used.add(r)


def _ask_who(ctx: _Ctx) -> SynthQuestion:
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


def _ask_whose(ctx: _Ctx) -> SynthQuestion:
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


def _pair_for(ctx: _Ctx, rel, want: bool):
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


def _explain_pair(ctx: _Ctx, rel, x, y, truth: bool) -> list[str]:
    if truth:
        return ctx.prove(rel, x, y)
    steps = ctx.closed(rel, y)
    actual = [r for r in SPECIFIC if ctx.holds(r, x, y)]
    if actual and len(steps) < 6:
        steps = ctx.prove(actual[0], x, y) + steps
    steps.append(f"{x}不在其中，所以{x}不是{y}的{ctx.word(rel)}。" if rel not in ("sibling", "cousin")
                 else f"{x}不在其中，所以{x}和{y}不是{ctx.word(rel)}。")
    return steps


def _ask_yes_no(ctx: _Ctx) -> SynthQuestion:
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


def _ask_has(ctx: _Ctx) -> SynthQuestion:
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


def _rel_sentence(ctx: _Ctx, rel, x, y) -> str:
    if rel in ("sibling", "cousin"):
        return f"{x}和{y}是{ctx.word(rel)}"
    return f"{x}是{y}的{ctx.word(rel)}"


def _ask_what(ctx: _Ctx) -> SynthQuestion:
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


def _ask_statement(ctx: _Ctx) -> SynthQuestion:
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


def _ask_count(ctx: _Ctx) -> SynthQuestion:
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


def _ask_generation(ctx: _Ctx) -> SynthQuestion:
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


def check(puzzle: Puzzle, question_index: int) -> list[bool]:
    """Truth of each option, every relation re-defined over the parent/gender facts by enumeration."""
    people = puzzle.world["people"]
    male = set(puzzle.world["male"])
    par = {tuple(p) for p in puzzle.world["parent"]}

    def parent(a, b):
        return (a, b) in par

    def sibling(a, b):
        return a != b and any(parent(z, a) and parent(z, b) for z in people)

    def grandparent(a, b):
        return any(parent(a, z) and parent(z, b) for z in people)

    def chains(a, b, seen=()):  # lengths of every parent chain from a down to b
        out = []
        for z in people:
            if parent(a, z) and z not in seen:
                if z == b:
                    out.append(1)
                out += [n + 1 for n in chains(z, b, (*seen, z))]
        return out

    base = {
        "parent": parent,
        "father": lambda a, b: parent(a, b) and a in male,
        "mother": lambda a, b: parent(a, b) and a not in male,
        "child": lambda a, b: parent(b, a),
        "son": lambda a, b: parent(b, a) and a in male,
        "daughter": lambda a, b: parent(b, a) and a not in male,
        "grandparent": grandparent,
        "grandfather": lambda a, b: grandparent(a, b) and a in male,
        "grandmother": lambda a, b: grandparent(a, b) and a not in male,
        "grandchild": lambda a, b: grandparent(b, a),
        "grandson": lambda a, b: grandparent(b, a) and a in male,
        "granddaughter": lambda a, b: grandparent(b, a) and a not in male,
        "sibling": sibling,
        "brother": lambda a, b: sibling(a, b) and a in male,
        "sister": lambda a, b: sibling(a, b) and a not in male,
        "uncle": lambda a, b: a in male and any(parent(z, b) and sibling(a, z) for z in people),
        "aunt": lambda a, b: a not in male and any(parent(z, b) and sibling(a, z) for z in people),
        "cousin": lambda a, b: any(parent(p, a) and parent(q, b) and sibling(p, q) for p in people for q in people),
        "ancestor": lambda a, b: bool(chains(a, b)),
    }

    def holds(claim) -> bool:
        kind = claim[0]
        if kind == "holds":
            _, rel, x, y, asserted = claim
            return base[rel](x, y) == asserted
        if kind == "set":
            _, rel, anchor, members, inverse = claim
            if inverse:
                actual = {p for p in people if base[rel](anchor, p)}
            else:
                actual = {p for p in people if base[rel](p, anchor)}
            return actual == set(members)
        if kind == "count":
            _, rel, y, n = claim
            return sum(base[rel](p, y) for p in people) == n
        if kind == "exists":
            _, rel, y, asserted = claim
            return any(base[rel](p, y) for p in people) == asserted
        if kind == "gen":
            _, x, y, k = claim
            lengths = chains(x, y)
            return (not lengths) if k == 0 else (bool(lengths) and min(lengths) == k)
        raise ValueError(kind)

    return [holds(c) for c in puzzle.questions[question_index].meta["claims"]]
