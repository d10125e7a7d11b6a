"""Closed-world facts and if-then rules, in three worlds: a food web ("狼吃羊", rules over eating), an is-a
taxonomy ("猫是哺乳动物", traits inherited down it) and people with properties ("如果一个人A且B，那么这个人C").
The food and people rules are parsed from their sentences into Horn clauses and run to a fixpoint here; the
taxonomy's two rules (is-a is transitive, traits are inherited) are its meaning. What cannot be derived is false."""

from __future__ import annotations

import itertools
import re

from . import Unread, listed, yes_no

WHO = ["以下哪个人", "以下哪一个", "以下哪个", "哪种动物", "谁"]
STATEMENT_QS = ("以下哪项是正确的？", "根据以上信息，下列哪个说法正确？", "以下哪个陈述是真的？")
SET_Q = re.compile(r"以下哪一组恰好是所有满足“(.+)”的X？")

# food-web atoms: (pattern, predicate, positive?); negative forms first so "不吃" is not read as "吃"
FOOD = [(r"(.+)在食物链中不位于(.+)之上", "above", False), (r"(.+)在食物链中位于(.+)之上", "above", True),
        (r"(.+)不以(.+)为食", "feeds", False), (r"(.+)间接以(.+)为食", "feeds", True),
        (r"(.+)不是(.+)的天敌", "enemy", False), (r"(.+)是(.+)的天敌", "enemy", True),
        (r"(.+)不是(.+)的捕食者", "predator", False), (r"(.+)是(.+)的捕食者", "predator", True),
        (r"(.+)不是(植物|食草动物|食肉动物)", "kind", False), (r"(.+)是(植物|食草动物|食肉动物)", "kind", True),
        (r"(.+)不吃(.+)", "eats", False), (r"(.+)吃(.+)", "eats", True)]


def neg(p: str) -> str:
    """How Chinese negates a predicate phrase: 是->不是, 会->不会, 有->没有, 能->不能, 没有->有, 很X->不X, else 不X."""
    if p.startswith("有很多"):
        return "没" + p
    for pre, out in (("没有", "有"), ("是", "不是"), ("会", "不会"), ("有", "没有"), ("能", "不能"), ("很", "不")):
        if p.startswith(pre):
            return out + p[len(pre):]
    return "不" + p


def fixpoint(facts: set, rules: list) -> set:
    """Naive bottom-up evaluation: every rule under every binding of its variables to known constants."""
    model = set(facts)
    while True:
        consts = sorted({a for f in model for a in f[1:]})
        new = set()
        for head, body in rules:
            vs = sorted({t for atom in body for t in atom[1:] if t in "XYZ"})
            for values in itertools.product(consts, repeat=len(vs)):
                env = dict(zip(vs, values, strict=True))
                if all(tuple(env.get(t, t) for t in atom) in model for atom in body):
                    new.add(tuple(env.get(t, t) for t in head))
        if new <= model:
            return model
        model |= new


def _split(text: str) -> list[str]:
    return re.split(r"、|和", text)


class Food:
    def __init__(self, facts: list[str], rules: list[str]):
        base = set()
        for line in facts:
            pred, args, pos = self.atom(line)
            if not pos:
                raise Unread(line)
            for obj in _split(args[1]) if pred == "eats" else [args[1]]:
                base.add((pred, args[0], obj))
        parsed = []
        for r in rules:
            m = re.fullmatch(r"如果(.+)，那么(.+)", r.rstrip("。"))
            if not m:
                raise Unread(r)
            body = [self.atom(c) for c in re.split(r"，且|且", m[1])]
            head = self.atom(m[2])
            parsed.append(((head[0], *head[1]), [(p, *a) for p, a, _ in body]))
        self.model = fixpoint(base, parsed)
        self.entities = {a for f in base for a in f[1:] if a not in ("植物", "食草动物", "食肉动物")}

    @staticmethod
    def atom(text: str):
        for pat, pred, pos in FOOD:
            m = re.fullmatch(pat, text)
            if m:
                return pred, (m[1], m[2]), pos
        raise Unread(f"food atom {text!r}")

    def claim(self, text: str) -> bool:
        pred, args, pos = self.atom(text)
        return ((pred, *args) in self.model) == pos


class Taxonomy:
    def __init__(self, facts: list[str]):
        pairs = [re.fullmatch(r"(.+?)是(.+)", x) for x in facts]
        self.entities = {m[i] for m in pairs if m for i in (1, 2)}
        self.up: dict[str, set[str]] = {}
        self.traits: dict[str, set[str]] = {}
        for line, m in zip(facts, pairs, strict=True):
            if m and m[2] in self.entities:  # "猫是哺乳动物"; "哺乳动物是温血的" is a trait
                self.up.setdefault(m[1], set()).add(m[2])
            else:
                subject = max((e for e in self.entities if line.startswith(e)), key=len, default=None)
                if subject is None:
                    raise Unread(line)
                self.traits.setdefault(subject, set()).add(line[len(subject):])
        self.known = {t for ts in self.traits.values() for t in ts}

    def ancestors(self, x: str) -> set[str]:
        out, todo = set(), [x]
        while todo:
            for y in self.up.get(todo.pop(), ()):
                if y not in out:
                    out.add(y)
                    todo.append(y)
        return out

    def has(self, x: str, t: str) -> bool:
        return any(t in self.traits.get(c, ()) for c in {x} | self.ancestors(x))

    def claim(self, text: str) -> bool:
        subject = max((e for e in self.entities if text.startswith(e)), key=len, default=None)
        if subject is None:
            raise Unread(f"no subject in {text!r}")
        rest = text[len(subject):]
        if rest.startswith("是") and rest[1:] in self.entities:
            return rest[1:] in self.ancestors(subject)
        if rest.startswith("不是") and rest[2:] in self.entities:
            return rest[2:] not in self.ancestors(subject)
        if rest in self.known:
            return self.has(subject, rest)
        for t in self.known:
            if neg(t) == rest:
                return not self.has(subject, t)
        return self.has(subject, rest)  # a trait nobody has: false in a closed world


class People:
    def __init__(self, facts: list[str], rules: list[str]):
        parsed, phrases = [], set()
        for r in rules:
            m = re.fullmatch(r"(?:如果一个人|一个人如果)(.+)，那么(?:这个人|他)(.+)", r.rstrip("。"))
            if not m:
                raise Unread(r)
            body = m[1].split("且")
            phrases |= {*body, m[2]}
            parsed.append(((m[2], "X"), [(b, "X") for b in body]))
        groups = [re.fullmatch(r"(.+)都(.+)", x) for x in facts]
        phrases |= {m[2] for m in groups if m}
        self.phrases = phrases
        base = set()
        for line, m in zip(facts, groups, strict=True):
            if m:
                base |= {(m[2], x) for x in _split(m[1])}
                continue
            p = max((p for p in phrases if line.endswith(p) and len(p) < len(line)), key=len, default=None)
            if p is None:  # a property no rule or group names: the subject is the name in front
                m2 = re.match(r"[A-Z][a-z]+|[\u4e00-\u9fff]{2}", line)
                if not m2:
                    raise Unread(line)
                p = line[m2.end():]
            base.add((p, line[: len(line) - len(p)]))
        self.model = fixpoint(base, parsed)
        self.entities = {f[1] for f in base}

    def claim(self, text: str) -> bool:
        forms = [(p, True) for p in self.phrases] + [(neg(p), False) for p in self.phrases]
        hits = [(p, pos) for p, pos in forms if text.endswith(p) and len(p) < len(text)]
        if not hits:
            raise Unread(f"no property in {text!r}")
        p, pos = max(hits, key=lambda h: len(h[0]))  # "没有很多朋友" is the negation, not "没" + a phrase
        prop = p if pos else next(x for x in self.phrases if neg(x) == p)
        return ((prop, text[: len(text) - len(p)]) in self.model) == pos


def _world(problem: str):
    rules = []
    for line in problem.splitlines():  # rules come numbered in the list or as lines of their own
        m = re.match(r"^(?:(?:\d+\.|-)\s+)?规则\d+：(.+)$", line.strip())
        if m:
            rules.append(m[1])
    facts = [x for x in listed(problem) if not x.startswith("规则")]
    if any(re.fullmatch(r"(.+)吃(.+)", x) for x in facts):
        return Food(facts, rules)
    if any("如果X是Y，且Y是Z" in r for r in rules):
        return Taxonomy(facts)
    return People(facts, rules)


def read(problem: str, q: str, options: list[str]) -> list[bool]:
    w = _world(problem)
    if q in STATEMENT_QS:
        return [w.claim(o.rstrip("。")) for o in options]
    m = SET_Q.fullmatch(q)
    pattern = m[1] if m else None
    if pattern is None and "哪些" in q:
        pattern = q.rstrip("？").replace("哪些人", "X").replace("哪些", "X")
    if pattern is not None:
        truth = {e for e in w.entities if w.claim(pattern.replace("X", e))}
        return [set(_split(o)) == truth for o in options]
    for who in WHO:
        if q.endswith("？") and who in q and not q.endswith("吗？") and "是否正确" not in q:
            return [w.claim(q.rstrip("？").replace(who, o, 1)) for o in options]
    m = re.fullmatch(r"(?:根据以上信息，)?(.+)吗？|“(.+)”是否正确？", q)
    if m:
        return yes_no(options, w.claim(m[1] or m[2]))
    raise Unread(q)
