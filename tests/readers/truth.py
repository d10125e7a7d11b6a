"""Knights and knaves: every person says one thing; the reader tries all assignments of the two types and
keeps those where each speaker's type matches the truth of what they said."""

from __future__ import annotations

import itertools
import re

from . import Unread, listed, yes_no

ROLES = [("骑士", "无赖"), ("诚实者", "说谎者"), ("天使", "恶魔"), ("老实人", "骗子")]
NUMBERS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4}


def _claim(text: str, k: str, n: str, names: list[str], speaker: str | None):
    """``text`` as a function of an assignment (name -> is of type ``k``)."""
    def who(x: str) -> str:
        x = speaker if x == "我" and speaker else x
        if x not in names:
            raise Unread(f"not a person: {x!r} in {text!r}")
        return x

    role = f"({k}|{n})"
    if speaker and (m := re.fullmatch(f"我们俩都是{role}", text)):
        pair, want = names, m[1] == k
        return lambda a: all(a[x] == want for x in pair)
    if m := re.fullmatch(f"(.+?)和(.+?)都是{role}", text):
        b, c, want = who(m[1]), who(m[2]), m[3] == k
        return lambda a: a[b] == want and a[c] == want
    if m := re.fullmatch(f"(.+?)和(.+?)中恰有一个是{k}", text):
        b, c = who(m[1]), who(m[2])
        return lambda a: a[b] != a[c]
    if m := re.fullmatch(f"(.+?)和(.+?)中至少有一个是{k}", text):
        b, c = who(m[1]), who(m[2])
        return lambda a: a[b] or a[c]
    if m := re.fullmatch("(.+?)和(.+?)是同一类人", text):
        b, c = who(m[1]), who(m[2])
        return lambda a: a[b] == a[c]
    if speaker and text == f"我们当中没有{k}":
        return lambda a: not any(a.values())
    if speaker and (m := re.fullmatch(f"我们当中恰好有(.)个{k}", text)):
        count = NUMBERS[m[1]]
        return lambda a: sum(a.values()) == count
    if m := re.fullmatch(f"(.+?)是{role}", text):
        b, want = who(m[1]), m[2] == k
        return lambda a: a[b] == want
    raise Unread(f"statement {text!r}")


def _all(text: str, k: str, n: str, names: list[str]):
    parts = [_claim(p, k, n, names, None) for p in text.rstrip("。").split("，")]
    return lambda a: all(p(a) for p in parts)


def read(problem: str, q: str, options: list[str]) -> list[bool]:
    k, n = next(((k, n) for k, n in ROLES if k in problem and n in problem), (None, None))
    if k is None:
        raise Unread("no roles")
    said = [re.fullmatch(r"(.+?)说[：:]“(.+)。”", x) for x in listed(problem)]
    if not said or not all(said):
        raise Unread("statement lines")
    names = [m[1] for m in said]
    claims = [(m[1], _claim(m[2], k, n, names, m[1])) for m in said]
    models = [a for vs in itertools.product((True, False), repeat=len(names))
              for a in [dict(zip(names, vs, strict=True))] if all(c(a) == a[x] for x, c in claims)]

    def sure(f) -> bool:  # true in every consistent assignment (and there is one)
        return bool(models) and all(f(a) for a in models)

    if m := re.fullmatch(f"(.+)是{k}还是{n}？", q):
        return [sure(lambda a, o=o: a[m[1]] == (o == k)) for o in options]
    if m := re.fullmatch(f"(?:根据以上信息，)?(.+?)(?:是否是|是)({k}|{n})(?:吗)?？", q):
        return yes_no(options, sure(lambda a: a[m[1]] == (m[2] == k)))
    if m := re.fullmatch(r"(.+?)(?:说的“.+”是真话吗|的陈述是真的吗)？", q):
        return yes_no(options, sure(lambda a: a[m[1]]))
    if q in ("以下哪个说法正确？", "下列哪项描述是正确的？", "根据以上信息，以下哪项为真？"):
        return [sure(_claim(o.rstrip("。"), k, n, names, None)) for o in options]
    if re.fullmatch(f"(?:有几个{k}|这.个人中共有几个{k})？", q):
        return [sure(lambda a, o=o: sum(a.values()) == int(o)) for o in options]
    if q == "、".join(names) + "分别是什么身份？":
        return [sure(_all(o, k, n, names)) for o in options]
    raise Unread(q)
