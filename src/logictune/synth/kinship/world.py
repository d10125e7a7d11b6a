"""A kinship puzzle's world: the names, the Horn rules of the relations and their words, the drawn family
tree and, solved, the :class:`SolvedTree` the questions are asked about."""

from __future__ import annotations

import random

from ..core import (
    Difficulty,
    Rejected,
    Rule,
    Style,
    forward_chain,
    join_names,
    proof_steps,
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


def draw_tree(rng: random.Random, difficulty: Difficulty):
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


def draw_names(rng: random.Random, style: Style, genders: list[str]) -> list[str]:
    males, females = (MALE_LATIN, FEMALE_LATIN) if style.latin else (MALE_CN, FEMALE_CN)
    m = iter(rng.sample(males, genders.count("m")))
    f = iter(rng.sample(females, genders.count("f")))
    return [next(m) if s == "m" else next(f) for s in genders]


class SolvedTree:
    """The drawn family tree with its derived relations, and the draw the question makers share."""

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

