"""Closed-world facts and if-then (Horn) rules: who eats whom, is-a hierarchies with inherited traits,
and people whose properties follow from rules with conjunctive bodies.

Sub-kinds, one drawn per puzzle:

* ``food``: ``eats(X, Y)`` facts of a food web; "如果X吃Y，那么X是Y的天敌" and its recursive form
  ("X吃Y且Y是Z的天敌 → X是Z的天敌"), or "X吃Y且Y吃Z → X是Z的捕食者"; with plants, "吃植物的是食草动物",
  "吃食草动物的是食肉动物".
* ``isa``: a taxonomy ("猫是哺乳动物", "Tom是猫"), traits of classes ("动物会呼吸"), with
  ``isa(X, Z) :- isa(X, Y), isa(Y, Z)`` and ``has(X, P) :- isa(X, Y), has(Y, P)``.
* ``people``: base properties given per person, derived properties by layered rules
  ("如果一个人读书且富有，那么这个人快乐"), chains as deep as ``Difficulty.depth``.

Closed world: what cannot be derived is false. The solver is :func:`core.forward_chain`; a false claim
is explained by the rule conditions that fail. Checker: a separate naive fixpoint that substitutes every
combination of constants into every rule (no shared matching code), then tests each option's claim.
"""

from __future__ import annotations

import functools
import itertools
import random
from dataclasses import dataclass, field

from .core import (
    Difficulty,
    Fact,
    Puzzle,
    Rejected,
    Rule,
    Style,
    SynthQuestion,
    collect_questions,
    forward_chain,
    ground,
    is_var,
    join_names,
    make_options,
    n_options,
    pick_distractors,
    problem_text,
    proof,
    unify,
    yes_no,
)

# ---------------------------------------------------------------- vocabulary

# roughly from prey to predator, so the drawn web reads plausibly (higher ones eat lower ones)
ANIMALS = ["蚂蚱", "苍蝇", "虾", "蜘蛛", "青蛙", "鱼", "老鼠", "麻雀", "松鼠", "兔子", "鸡", "蜥蜴", "羊", "鹿",
           "蛇", "狐狸", "猫头鹰", "鹰", "狼", "豹子", "鳄鱼", "熊", "老虎", "狮子"]
PLANTS = ["草", "谷物", "树叶", "浮游植物", "水果"]
ENEMY_WORDS = [("{0}是{1}的天敌", "{0}不是{1}的天敌"),
               ("{0}在食物链中位于{1}之上", "{0}在食物链中不位于{1}之上"),
               ("{0}间接以{1}为食", "{0}不以{1}为食")]

# class -> parent; traits per class
TAXONOMY = {
    "动物": "生物", "植物": "生物",
    "哺乳动物": "动物", "鸟类": "动物", "鱼类": "动物", "爬行动物": "动物", "昆虫": "动物",
    "猫": "哺乳动物", "狗": "哺乳动物", "马": "哺乳动物", "鲸": "哺乳动物", "猫科动物": "哺乳动物",
    "金丝雀": "鸟类", "企鹅": "鸟类", "鹰": "鸟类", "鹦鹉": "鸟类",
    "鲨鱼": "鱼类", "金鱼": "鱼类", "蛇": "爬行动物", "乌龟": "爬行动物",
    "蜜蜂": "昆虫", "蚂蚁": "昆虫", "树": "植物", "花": "植物",
    "老虎": "猫科动物", "狮子": "猫科动物", "波斯猫": "猫", "牧羊犬": "狗", "帝企鹅": "企鹅",
}
TRAITS = {
    "生物": ["需要水", "会生长"], "动物": ["会呼吸", "会移动"], "植物": ["能进行光合作用", "有根"],
    "哺乳动物": ["有毛发", "是温血的"], "鸟类": ["有羽毛", "会下蛋"], "鱼类": ["会游泳", "有鳃"],
    "爬行动物": ["有鳞片"], "昆虫": ["有六条腿"], "猫": ["会抓老鼠"], "狗": ["会叫"], "马": ["会奔跑"],
    "鲸": ["生活在海里"], "猫科动物": ["有锋利的爪子"], "金丝雀": ["会唱歌"], "企鹅": ["生活在南极"],
    "鹰": ["视力敏锐"], "鹦鹉": ["会学舌"], "鲨鱼": ["有锋利的牙齿"], "金鱼": ["是宠物"], "蛇": ["没有腿"],
    "乌龟": ["有硬壳"], "蜜蜂": ["会采蜜"], "蚂蚁": ["力气很大"], "树": ["有树干"], "花": ["会开花"],
    "老虎": ["有条纹"], "狮子": ["有鬃毛"], "波斯猫": ["毛很长"], "牧羊犬": ["会放羊"], "帝企鹅": ["个子很高"],
}

# people themes: (base properties, derived properties); each "{0}…" with the subject first
THEMES = {
    "社区": (["{0}读书", "{0}富有", "{0}善良", "{0}勤奋", "{0}喜欢音乐", "{0}住在城里", "{0}会做饭"],
             ["{0}是作者", "{0}快乐", "{0}受欢迎", "{0}成功", "{0}聪明", "{0}会弹吉他", "{0}有很多朋友",
              "{0}是好邻居", "{0}令人兴奋"]),
    "魔法学院": (["{0}是巫师", "{0}有魔杖", "{0}读过咒语书", "{0}是学徒", "{0}住在城堡里", "{0}养了猫头鹰"],
             ["{0}会施法", "{0}会飞行", "{0}很强大", "{0}受人尊敬", "{0}能打败巨龙", "{0}是大法师",
              "{0}会变形术", "{0}是导师"]),
    "学校": (["{0}每天锻炼", "{0}早睡早起", "{0}认真听课", "{0}喜欢数学", "{0}参加比赛", "{0}按时完成作业"],
           ["{0}身体健康", "{0}成绩优秀", "{0}精力充沛", "{0}获得奖学金", "{0}是班长", "{0}是好学生",
            "{0}受老师表扬", "{0}考上名校"]),
    "爱好": (["{0}喜欢猫", "{0}喜欢狗", "{0}喜欢画画", "{0}喜欢旅行", "{0}喜欢唱歌", "{0}喜欢读诗"],
           ["{0}是动物爱好者", "{0}有艺术气质", "{0}心情愉快", "{0}很开朗", "{0}见多识广", "{0}有很多朋友",
            "{0}适合当老师", "{0}快乐"]),
}

INTROS = {
    "food": ["有一些生物，它们之间的食物链关系如下：", "考虑以下关于动物之间捕食关系的事实和规则：",
             "在一个生态系统中，已知以下信息：", "下面是一个食物网的描述："],
    "isa": ["有一个动物分类系统，以下是已知的信息：", "考虑以下关于类别和特征的陈述：",
            "下面是一个简单的分类知识库：", "已知以下事实和规则："],
    "people": ["在{theme}中，我们知道以下信息：", "考虑以下陈述和规则：", "有一些人的特点描述如下：",
               "在某个{theme}里，已知以下事实和规则："],
}
CLOSED_WORLD = ["注意：不能由以上事实和规则推出的结论都视为不成立（闭世界假设）。",
                "假设所有未提及或无法推出的事实都为假。", ""]


def _negate(rest: str) -> str:
    """The negation of a predicate phrase ("是作者" -> "不是作者", "有魔杖" -> "没有魔杖")."""
    for pre, neg in (("是", "不是"), ("会", "不会"), ("有", "没有"), ("能", "不能"), ("没有", "有")):
        if rest.startswith(pre) and not (pre == "有" and rest.startswith("有很多")):
            return neg + rest[len(pre):]
    if rest.startswith("有很多"):
        return "没有很多" + rest[3:]
    if rest.startswith("很"):
        return "不" + rest[1:]
    return "不" + rest


# ---------------------------------------------------------------- a world


@dataclass
class World:
    kind: str
    facts: list[Fact]
    rules: list[Rule]
    rule_texts: list[str]
    templates: dict  # pred -> (positive "{0}…{1}", negative)
    some: str  # how an unbound variable reads ("某种动物")
    who: str  # how the asked-for entity reads ("哪种动物")
    subjects: list[str]  # entities questions ask about
    ask: list[str]  # predicates worth asking about (derived ones)
    objects: dict = field(default_factory=dict)  # pred -> candidate second arguments
    individuals: list[str] = field(default_factory=list)  # isa: named individuals ("Tom是一只猫")
    fact_lines: list[str] = field(default_factory=list)
    intro: str = ""

    def say(self, f: Fact, words: dict | None = None, neg: bool = False) -> str:
        args = [(words or {}).get(a, self.some) if is_var(a) else a for a in f[1:]]
        if f[0] == "has":
            return args[0] + (_negate(args[1]) if neg else args[1])
        return self.templates[f[0]][1 if neg else 0].format(*args)


def _food(rng: random.Random, d: Difficulty) -> World:
    n = max(4, min(d.entities + rng.randint(0, 1), 8))
    levels = max(2, min(n - 1, d.depth + 2))
    ranked = sorted(rng.sample(ANIMALS, n), key=ANIMALS.index)
    with_plants = rng.random() < 0.5
    # levels[0] is the bottom of the web; contiguous runs of the ranking, every level non-empty
    cuts = sorted(rng.sample(range(1, n), levels - 1))
    level_of = {a: sum(i >= c for c in cuts) for i, a in enumerate(ranked)}
    animals = ranked[:]
    rng.shuffle(animals)
    by_level = [[a for a in animals if level_of[a] == k] for k in range(levels)]
    facts: list[Fact] = []
    plants = rng.sample(PLANTS, rng.randint(1, 2)) if with_plants else []
    for a in animals:
        k = level_of[a]
        if k == 0:
            for p in plants:
                if rng.random() < 0.7 or p == plants[0]:
                    facts.append(("eats", a, p))
            continue
        prey = [rng.choice(by_level[k - 1])]
        lower = [x for j in range(k) for x in by_level[j] if x not in prey]
        if lower and rng.random() < 0.5:
            prey.append(rng.choice(lower))
        facts += [("eats", a, p) for p in prey]
    pos, neg = rng.choice(ENEMY_WORDS)
    templates = {"eats": ("{0}吃{1}", "{0}不吃{1}"), "enemy": (pos, neg),
                 "predator": ("{0}是{1}的捕食者", "{0}不是{1}的捕食者"),
                 "plant": ("{0}是植物", "{0}不是植物"), "herbivore": ("{0}是食草动物", "{0}不是食草动物"),
                 "carnivore": ("{0}是食肉动物", "{0}不是食肉动物")}
    rules, texts, ask = [], [], []
    if rng.random() < 0.65:
        rules += [Rule(("enemy", "?x", "?y"), (("eats", "?x", "?y"),)),
                  Rule(("enemy", "?x", "?z"), (("eats", "?x", "?y"), ("enemy", "?y", "?z")))]
        texts += [f"如果X吃Y，那么{pos.format('X', 'Y')}。",
                  f"如果X吃Y，且{pos.format('Y', 'Z')}，那么{pos.format('X', 'Z')}。"]
        ask.append("enemy")
    else:
        rules.append(Rule(("predator", "?x", "?z"), (("eats", "?x", "?y"), ("eats", "?y", "?z"))))
        texts.append("如果X吃Y且Y吃Z，那么X是Z的捕食者。")
        ask.append("predator")
    if plants:
        facts += [("plant", p) for p in plants]
        rules += [Rule(("herbivore", "?x"), (("eats", "?x", "?y"), ("plant", "?y"))),
                  Rule(("carnivore", "?x"), (("eats", "?x", "?y"), ("herbivore", "?y")))]
        texts += ["如果X吃Y，且Y是植物，那么X是食草动物。", "如果X吃Y，且Y是食草动物，那么X是食肉动物。"]
        ask += ["herbivore", "carnivore"]
    # "狮子吃斑马和羚羊": the eats facts grouped by eater, as the real data writes them
    lines = []
    eaters = [a for a in animals if any(f[0] == "eats" and f[1] == a for f in facts)]
    rng.shuffle(eaters)
    for a in eaters:
        prey = [f[2] for f in facts if f[0] == "eats" and f[1] == a]
        if rng.random() < 0.6:
            lines.append(f"{a}吃{join_names(prey)}。")
        else:
            lines += [f"{a}吃{p}。" for p in prey]
    lines += [f"{p}是植物。" for p in plants]
    return World("food", facts, rules, texts, templates, "某种生物", "哪种动物", animals, ask,
                 objects={"enemy": animals + plants, "predator": animals + plants}, fact_lines=lines,
                 intro=INTROS["food"][rng.randrange(4)])


def _isa(rng: random.Random, d: Difficulty, style: Style) -> World:
    # pick leaves whose chains to the top are long enough, and everything above them
    leaves = [c for c in TAXONOMY if c not in TAXONOMY.values()]
    k = max(2, min(d.entities // 2, 3))
    chosen = rng.sample(leaves, k)
    classes: list[str] = []
    for c in chosen:
        x = c
        while x in TAXONOMY and x not in classes:
            classes.append(x)
            x = TAXONOMY[x]
        if x not in TAXONOMY and x not in classes:
            classes.append(x)
    # cut the top so chains stay about depth + 2 long
    if rng.random() < 0.8:  # the root adds a level to every chain; keep it only sometimes
        classes = [c for c in classes if c != "生物"]
    names = style.names(rng, max(2, min(d.entities - k + 2, 4)))
    facts: list[Fact] = [("isa", c, TAXONOMY[c]) for c in classes if TAXONOMY.get(c) in classes]
    holders = [c for c in classes if c in TRAITS and (c in chosen or rng.random() < 0.7)]
    for c in holders:
        for t in TRAITS[c][: 1 if rng.random() < 0.75 else 2]:
            facts.append(("has", c, t))
    inds = []
    for nm in names:
        c = rng.choice(chosen if rng.random() < 0.8 else classes[:-1] or chosen)
        facts.append(("isa", nm, c))
        inds.append(nm)
    rules = [Rule(("isa", "?x", "?z"), (("isa", "?x", "?y"), ("isa", "?y", "?z"))),
             Rule(("has", "?x", "?p"), (("isa", "?x", "?y"), ("has", "?y", "?p")))]
    texts = ["如果X是Y，且Y是Z，那么X也是Z。", "如果X是Y，且Y具有某个特征，那么X也具有这个特征。"]
    w = World("isa", facts, rules, texts, {"isa": ("{0}是{1}", "{0}不是{1}")}, "某一类", "以下哪一个", inds + classes, ["isa", "has"],
              objects={"isa": classes, "has": [t for c in holders for t in TRAITS[c]]}, individuals=inds,
              intro=INTROS["isa"][rng.randrange(4)])
    lines = [w.say(f) + "。" for f in facts]
    rng.shuffle(lines)
    w.fact_lines = lines
    return w


def _people(rng: random.Random, d: Difficulty, style: Style) -> World:
    theme = rng.choice(list(THEMES))
    base_pool, derived_pool = THEMES[theme]
    n_base = rng.randint(3, 4)
    base = rng.sample(base_pool, n_base)
    depth = max(1, min(d.depth + rng.randint(0, 1), 4))
    n_derived = min(len(derived_pool), depth + rng.randint(1, 2))
    derived = rng.sample(derived_pool, n_derived)
    # layer of each derived predicate: the first ``depth`` form a chain, the rest hang anywhere
    layer = {b: 0 for b in base}
    for i, p in enumerate(derived):
        layer[p] = i + 1 if i < depth else rng.randint(1, depth)
    preds = base + derived
    pid = {p: f"p{i}" for i, p in enumerate(preds)}
    templates = {pid[p]: (p, "{0}" + _negate(p[3:])) for p in preds}
    rules, texts = [], []
    for p in derived:
        below = [q for q in preds if layer[q] == layer[p] - 1]
        lower = [q for q in preds if layer[q] < layer[p]]
        for _ in range(1 if rng.random() < 0.8 else 2):  # sometimes two rules: a disjunction
            body = [rng.choice(below)]
            if rng.random() < 0.55:
                extra = [q for q in lower if q not in body]
                if extra:
                    body.append(rng.choice(extra))
            rng.shuffle(body)
            rule = Rule((pid[p], "?x"), tuple((pid[q], "?x") for q in body))
            if rule in rules:
                continue
            rules.append(rule)
            cond = "且".join(q[3:] for q in body)
            texts.append(rng.choice([f"如果一个人{cond}，那么这个人{p[3:]}。", f"如果一个人{cond}，那么他{p[3:]}。",
                                     f"一个人如果{cond}，那么这个人{p[3:]}。"]))
    people = style.names(rng, max(3, min(d.entities, 6)))
    facts: list[Fact] = []
    for person in people:
        for b in base:
            if rng.random() < 0.45:
                facts.append((pid[b], person))
    if not facts:
        raise Rejected("no facts")
    # sometimes a derived property is also given outright for someone ("Robin是快乐的")
    if rng.random() < 0.3:
        facts.append((pid[rng.choice(derived)], rng.choice(people)))
    lines = []
    for b in preds:
        who = [f[1] for f in facts if f[0] == pid[b]]
        if len(who) > 1 and rng.random() < 0.5:
            lines.append(b.format(f"{join_names(who)}都") + "。")
        else:
            lines += [b.format(x) + "。" for x in who]
    intro = INTROS["people"][rng.randrange(4)].format(theme=theme if theme != "爱好" else "一个兴趣小组")
    return World("people", facts, rules, texts, templates, "某人", "谁", people, [pid[p] for p in derived],
                 fact_lines=lines, intro=intro)


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


def _candidates(r: Reasoner) -> list[Fact]:
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


def _ask_yes_no(rng, d, r: Reasoner, cands) -> SynthQuestion:
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


def _ask_which(rng, d, r: Reasoner, cands, negative: bool) -> SynthQuestion:
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


def _ask_statement(rng, d, r: Reasoner, cands) -> SynthQuestion:
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


def _ask_set(rng, d, r: Reasoner, cands) -> SynthQuestion:
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


def generate(rng: random.Random, difficulty: Difficulty, style: Style) -> Puzzle:
    kind = rng.choices(["food", "isa", "people"], [3, 3, 4])[0]
    if kind == "food":
        w = _food(rng, difficulty)
    elif kind == "isa":
        w = _isa(rng, difficulty, style)
    else:
        w = _people(rng, difficulty, style)
    r = Reasoner(w)
    cands = _candidates(r)
    numbered = [f"规则{i}：{t}" for i, t in enumerate(w.rule_texts, 1)]
    cw = rng.choice(CLOSED_WORLD)
    if rng.random() < 0.5:
        problem = problem_text(w.intro, w.fact_lines, style, "\n".join(numbered + ([cw] if cw else [])))
    else:
        problem = problem_text(w.intro, w.fact_lines + numbered, style, cw)
    makers = [(_ask_yes_no, 4), (_ask_which, 3), (_ask_statement, 2), (_ask_set, 1), ("not", 1)]
    # questions per problem as in the real data: mostly 4, else 1-3
    target = rng.choices([1, 2, 3, 4], [2, 2, 1, 5])[0]

    def draw() -> SynthQuestion:
        maker = rng.choices([m for m, _ in makers], [wt for _, wt in makers])[0]
        if maker == "not":
            return _ask_which(rng, difficulty, r, cands, True)
        if maker is _ask_which:
            return _ask_which(rng, difficulty, r, cands, False)
        return maker(rng, difficulty, r, cands)

    def same(a: SynthQuestion, b: SynthQuestion) -> bool:
        return a.body == b.body or sorted(map(str, a.meta["claims"])) == sorted(map(str, b.meta["claims"]))

    questions = collect_questions(draw, 2 * target, target, same)
    world = {"kind": kind, "facts": [list(f) for f in w.facts],
             "rules": [[list(ru.head), [list(c) for c in ru.body]] for ru in w.rules],
             "say": {pred: pos for pred, (pos, _) in w.templates.items()}}
    return Puzzle("rules", problem, questions, world=world)


# ---------------------------------------------------------------- brute-force checker


def least_model(facts: list, rules: list) -> set:
    """Naive fixpoint: every rule, every assignment of constants to its variables, until nothing is new.

    A variable ranges over the constants seen at its positions in the current model (those are the only
    values that can make its body atoms true), so the enumeration stays small without any matching.
    """
    model = {tuple(f) for f in facts}
    while True:
        new = set()
        for head, body in rules:
            variables = sorted({t for atom in body for t in atom[1:] if t.startswith("?")})
            domains = []
            for v in variables:
                dom = None
                for atom in body:
                    for i, t in enumerate(atom[1:], 1):
                        if t == v:
                            seen = {f[i] for f in model if f[0] == atom[0] and len(f) == len(atom)}
                            dom = seen if dom is None else dom & seen
                domains.append(sorted(dom or ()))
            for values in itertools.product(*domains):
                env = dict(zip(variables, values, strict=True))
                if all(tuple(env.get(t, t) for t in atom) in model for atom in body):
                    g = tuple(env.get(t, t) for t in head)
                    if g not in model:
                        new.add(g)
        if not new:
            return model
        model |= new


def _frozen(x):
    return tuple(_frozen(y) for y in x) if isinstance(x, list | tuple) else x


@functools.lru_cache(maxsize=32)
def _cached_model(facts: tuple, rules: tuple) -> frozenset:
    # generation checks every question of a puzzle over one world: build its model once
    return frozenset(least_model(facts, rules))


def check(puzzle: Puzzle, question_index: int) -> list[bool]:
    model = _cached_model(_frozen(puzzle.world["facts"]), _frozen(puzzle.world["rules"]))
    out = []
    for claim in puzzle.questions[question_index].meta["claims"]:
        if claim[0] == "fact":
            out.append((tuple(claim[1]) in model) == claim[2])
        elif claim[0] == "set":
            pat, dom, members = claim[1], claim[2], claim[3]
            got = {x for x in dom if tuple(x if t == "?x" else t for t in pat) in model}
            out.append(got == set(members))
        else:
            raise ValueError(claim[0])
    return out
