"""Kinship: parent lines ("A是B、C和D的父亲", "B的母亲是A"), gender lines, then questions about relations,
each relation defined here again over the parent and gender facts read from the text."""

from __future__ import annotations

import re

from . import Unread, listed, yes_no

WORDS = {"父亲或母亲": "parent", "父亲": "father", "母亲": "mother", "子女": "child", "儿子": "son", "女儿": "daughter",
         "祖父母": "grandparent", "祖父": "grandfather", "祖母": "grandmother", "孙辈": "grandchild", "孙子": "grandson",
         "孙女": "granddaughter", "兄弟姐妹": "sibling", "兄弟": "brother", "姐妹": "sister", "叔叔": "uncle",
         "姑姑": "aunt", "阿姨": "aunt", "姑妈或姨妈": "aunt", "表亲": "cousin", "祖先": "ancestor"}
W = "|".join(sorted(WORDS, key=len, reverse=True))
NONE = "没有符合条件的人"
GENERATIONS = {"第一代": 1, "第二代": 2, "第三代": 3, "第四代": 4}


class Family:
    def __init__(self, problem: str):
        self.parent: set[tuple[str, str]] = set()
        self.male: set[str] = set()
        self.female: set[str] = set()
        for line in listed(problem):
            self._line(line)
        self.people = {p for pair in self.parent for p in pair} | self.male | self.female
        if self.male & self.female:
            raise Unread("a person of both genders")

    def _line(self, line: str) -> None:
        if line.startswith("如果"):
            return  # a definition: the relations below are the usual ones
        if m := re.fullmatch(r"(男|女)性成员包括：(.+)", line):
            (self.male if m[1] == "男" else self.female).update(m[2].split("、"))
        elif m := re.fullmatch(r"(.+?)是(男|女)性", line):
            (self.male if m[2] == "男" else self.female).add(m[1])
        elif m := re.fullmatch(r"(.+?)是(.+)的(父亲|母亲)", line):
            self._parent(m[1], split_names(m[2]), m[3])
        elif m := re.fullmatch(r"(.+?)的(父亲|母亲)是(.+)", line):
            self._parent(m[3], [m[1]], m[2])
        else:
            raise Unread(f"fact line {line!r}")

    def _parent(self, p: str, kids: list[str], word: str) -> None:
        (self.male if word == "父亲" else self.female).add(p)
        self.parent |= {(p, k) for k in kids}

    def parents(self, y: str) -> set[str]:
        return {a for a, b in self.parent if b == y}

    def holds(self, rel: str, x: str, y: str) -> bool:
        par, male = self.parents, self.male
        sex = {"father": True, "mother": False, "son": True, "daughter": False, "grandfather": True,
               "grandmother": False, "grandson": True, "granddaughter": False, "brother": True, "sister": False,
               "uncle": True, "aunt": False}
        if rel in sex and (x in male) != sex[rel]:
            return False
        base = {"father": "parent", "mother": "parent", "son": "child", "daughter": "child",
                "grandfather": "grandparent", "grandmother": "grandparent", "grandson": "grandchild",
                "granddaughter": "grandchild", "brother": "sibling", "sister": "sibling", "aunt": "uncle"}.get(rel, rel)
        if base == "parent":
            return x in par(y)
        if base == "child":
            return y in par(x)
        if base == "grandparent":
            return any(x in par(z) for z in par(y))
        if base == "grandchild":
            return any(y in par(z) for z in par(x))
        if base == "sibling":
            return x != y and bool(par(x) & par(y))
        if base == "uncle":
            return any(self.holds("sibling", x, z) for z in par(y))
        if base == "cousin":
            return any(self.holds("sibling", a, b) for a in par(x) for b in par(y))
        if base == "ancestor":
            return bool(self.chains(x, y))
        raise Unread(rel)

    def chains(self, x: str, y: str) -> set[int]:
        """Lengths of every parent chain from x down to y."""
        out, todo = set(), [(y, 0)]
        while todo:
            z, k = todo.pop()
            for p in self.parents(z):
                if p == x:
                    out.add(k + 1)
                todo.append((p, k + 1))
        return out


def split_names(text: str) -> list[str]:
    return re.split(r"、|和", text)


def _names(f: Family, text: str) -> set[str] | None:
    if text == NONE:
        return set()
    names = split_names(text)
    return set(names) if all(n in f.people for n in names) else None


def _sentence(f: Family, text: str) -> bool:
    m = re.fullmatch(rf"(.+?)是(.+?)的({W})", text) or re.fullmatch(rf"(.+?)和(.+?)是({W})", text)
    if not m or m[1] not in f.people or m[2] not in f.people:
        raise Unread(f"relation sentence {text!r}")
    return f.holds(WORDS[m[3]], m[1], m[2])


def read(problem: str, q: str, options: list[str]) -> list[bool]:
    f = Family(problem)
    people = f.people
    if m := re.fullmatch(rf"(?:谁是(.+)的({W})|(.+)的({W})是谁)？", q):
        y, rel = (m[1], m[2]) if m[1] else (m[3], m[4])
        truth = {x for x in people if f.holds(WORDS[rel], x, y)}
        return [_names(f, o) == truth for o in options]
    if m := re.fullmatch(rf"(.+)是谁的({W})？", q):
        truth = {y for y in people if f.holds(WORDS[m[2]], m[1], y)}
        return [_names(f, o) == truth for o in options]
    if m := re.fullmatch(r"(.+)是(.+)的第几代祖先？", q):
        ks = f.chains(m[1], m[2])
        return [(GENERATIONS[o] in ks) if o in GENERATIONS else (o == f"{m[1]}不是{m[2]}的祖先" and not ks)
                for o in options]
    if m := re.fullmatch(rf"(.+?)(?:有({W})吗|是否有({W}))？", q):
        if m[1] in people:
            return yes_no(options, any(f.holds(WORDS[m[2] or m[3]], x, m[1]) for x in people))
    if m := re.fullmatch(rf"(.+?)(?:有几个|一共有多少个)({W})？", q):
        k = sum(1 for x in people if f.holds(WORDS[m[2]], x, m[1]))
        return [o == f"{k}个" for o in options]
    if m := re.fullmatch(r"(.+?)(?:是|和)(.+?)(?:的什么人|的哪种亲属|是什么关系)？", q):
        x, y = m[1], m[2]
        if x in people and y in people:
            if all(o in WORDS for o in options):
                return [f.holds(WORDS[o], x, y) for o in options]
            return [_sentence(f, o) for o in options]
    if q in ("以下哪个说法正确？", "以下哪个说法是正确的？", "下列说法中正确的是哪一个？"):
        return [_sentence(f, o) for o in options]
    if m := re.fullmatch(rf"(.+?)(?:是否是|是)(.+?)的({W})吗？|(.+?)是否是(.+?)的({W})？", q):
        x, y, w = (m[1], m[2], m[3]) if m[1] else (m[4], m[5], m[6])
        return yes_no(options, f.holds(WORDS[w], x, y))
    if m := re.fullmatch(rf"(.+?)和(.+?)(?:是|是否是)({W})(?:吗)?？", q):
        return yes_no(options, f.holds(WORDS[m[3]], m[1], m[2]))
    raise Unread(q)
