"""A rules puzzle's world: the vocabulary (food-web animals and plants, the taxonomy and its traits, the
people themes, intros), :class:`World` (facts, Horn rules, how each predicate reads, what is worth asking)
and the draw of each sub-kind: :func:`draw_food`, :func:`draw_isa`, :func:`draw_people`."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..core import (
    Difficulty,
    Fact,
    Rejected,
    Rule,
    Style,
    is_var,
    join_names,
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


def draw_food(rng: random.Random, d: Difficulty) -> World:
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


def draw_isa(rng: random.Random, d: Difficulty, style: Style) -> World:
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


def draw_people(rng: random.Random, d: Difficulty, style: Style) -> World:
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
