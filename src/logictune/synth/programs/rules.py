"""Programs for facts and if-then rules (closed world): the given facts as data, the rules as functions
(the food web's and taxonomy's recursive relations) or as (conditions, conclusion) pairs closed under by a
loop (people's properties), then the asked fact, subject, statement or set. What cannot be derived is
false, as the problem says."""

from __future__ import annotations

import random

from ..core import Puzzle
from ..rules import ENEMY_WORDS
from .kit import (
    Names,
    block,
    is_yes_no,
    lit,
    members_fn,
    options_line,
    program,
    select,
    select_yes_no,
    shuffled,
)

ENEMY_NAMES = {ENEMY_WORDS[0][0]: ("enemy", "is_enemy", "natural_enemy"),
               ENEMY_WORDS[1][0]: ("above", "higher_in_chain", "is_above"),
               ENEMY_WORDS[2][0]: ("eats_indirectly", "feeds_on", "preys_on")}


class _Food:
    def __init__(self, w: dict, nm: Names, rng: random.Random):
        facts = w["facts"]
        self.eats = nm("eats", "food", "diet")
        self.plants = nm("plants", "plant_list", "greens")
        self.fn = {"enemy": nm(*ENEMY_NAMES.get(w["say"].get("enemy"), ("enemy",))), "predator": nm("predator", "is_predator", "hunts"),
                   "herbivore": nm("herbivore", "is_herbivore", "eats_plants"),
                   "carnivore": nm("carnivore", "is_carnivore", "eats_herbivores")}
        eats = [tuple(f[1:]) for f in facts if f[0] == "eats"]
        plants = [f[1] for f in facts if f[0] == "plant"]
        self.data = block("# (x, y): x吃y" if rng.random() < 0.6 else None,
                          f"{self.eats} = {lit(shuffled(rng, eats))}",
                          f"{self.plants} = {lit(plants)}" if plants else None)
        e, defs = self.eats, []
        rule_preds = {r[0][0] for r in w["rules"]}
        if "enemy" in rule_preds:
            f = self.fn["enemy"]
            if rng.random() < 0.5:
                defs.append(block(f"def {f}(x, z):", f"    # 规则：x吃z；或者x吃y，且{w['say']['enemy'].format('y', 'z')}",
                                  f"    return (x, z) in {e} or any(a == x and {f}(y, z) for a, y in {e})"))
            else:
                defs.append(block(f"def {f}(x, z):", f"    for a, y in {e}:", "        if a == x and (y == z or "
                                  f"{f}(y, z)):", "            return True", "    return False"))
        if "predator" in rule_preds:
            defs.append(block(f"def {self.fn['predator']}(x, z):", "    # x吃y且y吃z",
                              f"    return any(a == x and (y, z) in {e} for a, y in {e})"))
        if "herbivore" in rule_preds:
            h = self.fn["herbivore"]
            defs.append(block(f"def {h}(x):", f"    return any(a == x and y in {self.plants} for a, y in {e})"))
            defs.append(block(f"def {self.fn['carnivore']}(x):", f"    return any(a == x and {h}(y) for a, y in {e})"))
        self.rules = "\n\n".join(defs)

    def code(self, fact: list, x: str | None = None) -> str:
        args = [x if x is not None and i == 0 else lit(a) for i, a in enumerate(fact[1:])]
        return f"{self.fn[fact[0]]}({', '.join(args)})"


class _Isa:
    def __init__(self, w: dict, nm: Names, rng: random.Random):
        facts = w["facts"]
        self.isa, self.traits = nm("isa", "is_a_pairs", "kinds"), nm("traits", "features", "has_pairs")
        self.fn_isa, self.fn_has = nm("is_a", "belongs_to", "isa_all"), nm("has", "has_trait", "with_feature")
        self.data = block(f"{self.isa} = {lit(shuffled(rng, [tuple(f[1:]) for f in facts if f[0] == 'isa']))}"
                          + ("  # (x, y): x是y" if rng.random() < 0.5 else ""),
                          f"{self.traits} = {lit(shuffled(rng, [tuple(f[1:]) for f in facts if f[0] == 'has']))}"
                          + ("  # (x, t): x具有特征t" if rng.random() < 0.5 else ""))
        i = self.isa
        self.rules = "\n\n".join([
            block(f"def {self.fn_isa}(x, z):", "    # 规则1：x是y且y是z，则x是z",
                  f"    return (x, z) in {i} or any(a == x and {self.fn_isa}(y, z) for a, y in {i})"),
            block(f"def {self.fn_has}(x, t):", "    # 规则2：x是y且y具有特征t，则x具有t",
                  f"    return (x, t) in {self.traits} or any(a == x and {self.fn_has}(y, t) for a, y in {i})")])

    def code(self, fact: list, x: str | None = None) -> str:
        fn = self.fn_isa if fact[0] == "isa" else self.fn_has
        return f"{fn}({x if x is not None else lit(fact[1])}, {lit(fact[2])})"


class _People:
    def __init__(self, w: dict, nm: Names, rng: random.Random):
        word = {pred: t[3:] for pred, t in w["say"].items()}  # "{0}读书" -> "读书"
        given: dict[str, list[str]] = {}
        for pred, person in w["facts"]:
            given.setdefault(person, []).append(word[pred])
        self.facts, self.rule_list = nm("facts", "known", "given"), nm("rules", "if_then", "rule_list")
        self.fn = nm("properties", "derive", "traits_of")
        self.word = word
        rules = [([word[c[0]] for c in body], word[head[0]]) for head, body in w["rules"]]
        lines = [f"{self.facts} = {{"] + [f"    {lit(p)}: {lit(v)}," for p, v in shuffled(rng, given.items())] + ["}"]
        self.data = block(*lines, "# (条件, 结论)：满足全部条件就得到结论", f"{self.rule_list} = [",
                          *[f"    ({lit(b)}, {lit(h)})," for b, h in rules], "]")
        have = nm("have", "props", "known_set")
        self.rules = block(f"def {self.fn}(person):", f"    {have} = set({self.facts}.get(person, []))",
                           "    changed = True", "    while changed:  # 反复应用规则，直到推不出新的结论",
                           "        changed = False", f"        for body, head in {self.rule_list}:",
                           f"            if head not in {have} and all(c in {have} for c in body):",
                           f"                {have}.add(head)", "                changed = True", f"    return {have}")

    def code(self, fact: list, x: str | None = None) -> str:
        return f"{lit(self.word[fact[0]])} in {self.fn}({x if x is not None else lit(fact[1])})"


KINDS = {"food": _Food, "isa": _Isa, "people": _People}


def render(puzzle: Puzzle, qi: int, rng: random.Random) -> str:
    w, q = puzzle.world, puzzle.questions[qi]
    nm = Names(rng)
    kind = KINDS[w["kind"]](w, nm, rng)
    opts, opts_line = options_line(nm, q.options)
    claims = q.meta["claims"]
    rules = kind.rules
    if claims[0][0] == "set":
        _, pat, dom, _ = claims[0]
        found = nm("found", "all_true", "matching")
        split, split_def = members_fn(nm)
        rules += "\n\n" + split_def
        ask = f"{found} = {{x for x in {lit(dom)} if {kind.code(pat, 'x')}}}"
        tail = select(rng, nm, opts, f"{split}({{o}}) == {found}")
    elif is_yes_no(q.options):
        ask, tail = None, select_yes_no(rng, nm, opts, kind.code(claims[0][1]))
    elif all(c[1][1] == o for c, o in zip(claims, q.options, strict=True)):  # which subject (or which not)
        negative = not claims[0][2]
        cond = kind.code(claims[0][1], "{o}")
        ask, tail = None, select(rng, nm, opts, f"not {cond}" if negative else cond)
    else:  # which statement: each option's claim tested
        tests = nm("tests", "checks", "is_true")
        items = [f"    {lit(o)}: {kind.code(c[1])}," for o, c in zip(q.options, claims, strict=True)]
        ask = block(f"{tests} = {{", *items, "}")
        tail = select(rng, nm, opts, f"{tests}[{{o}}]")
    if rng.random() < 0.3:
        return program(opts_line, kind.data, rules, block(ask, tail))
    return program(kind.data, rules, block(opts_line, ask, tail))
