"""What every puzzle family shares: the puzzle types, a forward-chaining solver with derivation traces,
option building with balanced letters, and the varied surface style of the real data.

A family module or package (``synth/<family>``) exposes::

    generate(rng: random.Random, difficulty: Difficulty, style: Style) -> Puzzle
    check(puzzle: Puzzle, question_index: int) -> list[bool]   # brute force, one truth value per option

and its program renderer (``synth/programs/<family>.py``) ``render(puzzle, question_index, rng) -> str``;
:class:`Family` holds the three side by side (``synth.family_interface(name)``), and generation, the checks and
the program rationales all go through it.

``generate`` builds a small closed-world logic program (facts + Horn rules, or a function defined by
rules), solves it and writes questions whose options were each checked against the solver.
``check`` re-derives the truth of every option by enumerating the model of facts, with none of the
chaining code, so the two can be compared seed by seed in the tests.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

LETTERS = "ABCDE"

# ---------------------------------------------------------------- puzzles


@dataclass
class SynthQuestion:
    body: str  # the question text without its "选择题 N：" header
    options: list[str]
    answer: int  # index of the one true option
    steps: list[str]  # the derivation, one sentence a step, in order
    meta: dict = field(default_factory=dict)  # what ``check`` needs: the query and each option's claim


@dataclass
class Puzzle:
    family: str
    problem: str
    questions: list[SynthQuestion]
    world: dict = field(default_factory=dict)  # the ground facts / parameters, JSON-serialisable
    colon: str = "："  # of the "选择题 N：" headers; set from the puzzle's style


@dataclass(frozen=True)
class Family:
    """One family's interface: the generator, the brute-force checker and the program renderer."""

    name: str
    generate: Callable[[random.Random, Difficulty, Style], Puzzle]
    check: Callable[[Puzzle, int], list[bool]]
    render_program: Callable[[Puzzle, int, random.Random], str]


class Rejected(Exception):
    """A question that could not be made well (no distinct distractors, two true options, ...)."""


# ---------------------------------------------------------------- difficulty


@dataclass(frozen=True)
class Difficulty:
    entities: int = 5  # people, nodes, animals, list length ...
    depth: int = 2  # rule depth / chain length a question needs
    close: float = 0.5  # share of distractors that are near misses rather than random


DIFFICULTIES = {
    "easy": Difficulty(entities=4, depth=1, close=0.3),
    "medium": Difficulty(entities=5, depth=2, close=0.5),
    "hard": Difficulty(entities=7, depth=3, close=0.8),
}


def pick_difficulty(name: str, rng: random.Random) -> Difficulty:
    """``easy``/``medium``/``hard`` as named; ``mixed`` draws one of them per puzzle."""
    if name == "mixed":
        return DIFFICULTIES[rng.choice(["easy", "medium", "medium", "hard"])]
    if name not in DIFFICULTIES:
        raise ValueError(f"unknown difficulty {name!r}; choose easy, medium, hard or mixed")
    return DIFFICULTIES[name]


# ---------------------------------------------------------------- surface style

CHINESE_NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "周杰", "吴倩", "徐明", "孙丽",
                 "马超", "朱婷", "胡军", "郭涛", "林琳", "何平", "高峰", "罗兰"]
LATIN_NAMES = ["Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Ivy", "Jack", "Kate", "Leo",
               "Mary", "Nick", "Olivia", "Paul", "Rose", "Sam", "Tom", "Vera", "John", "Mike", "Jim", "Anna"]


@dataclass(frozen=True)
class Style:
    """How one puzzle is dressed: the real data mixes all of these."""

    colon: str = "："  # "：" (most) or ":"
    bullet: str = "num"  # "num" -> "1. ", "dash" -> "- "
    latin: bool = False  # Latin names instead of Chinese ones
    intro: int = 0  # which of a family's openings to use
    outro: int = 0  # which closing line ("根据以上信息，回答以下选择题：" ...)

    def header(self, n: int) -> str:
        return f"选择题 {n}{self.colon}"

    def names(self, rng: random.Random, k: int) -> list[str]:
        return rng.sample(LATIN_NAMES if self.latin else CHINESE_NAMES, k)

    def listing(self, lines: Sequence[str]) -> str:
        if self.bullet == "dash":
            return "\n".join(f"- {s}" for s in lines)
        return "\n".join(f"{i}. {s}" for i, s in enumerate(lines, 1))


OUTROS = ["根据以上信息，回答以下选择题：", "根据上述信息，回答以下选择题：", "请根据以上规则回答以下选择题：",
          "回答以下选择题："]


def random_style(rng: random.Random) -> Style:
    # Full-width colons outnumber ASCII ones about 12 to 1 in the real question headers.
    return Style(colon="：" if rng.random() < 0.9 else ":", bullet="num" if rng.random() < 0.7 else "dash",
                 latin=rng.random() < 0.5, intro=rng.randrange(8), outro=rng.randrange(len(OUTROS)))


def problem_text(intro: str, facts: Sequence[str], style: Style, extra: str = "") -> str:
    """The problem statement: an opening line, the numbered facts, and the closing line."""
    parts = [intro, style.listing(facts)]
    if extra:
        parts.append(extra)
    parts.append(OUTROS[style.outro % len(OUTROS)])
    return "\n\n".join(parts)


def collect_questions(draw: Callable[[], SynthQuestion], attempts: int, want: int | None = None,
                      same: Callable[[SynthQuestion, SynthQuestion], bool] | None = None) -> list[SynthQuestion]:
    """Up to ``want`` distinct questions from ``attempts`` draws; a draw that raises Rejected is skipped.

    Raises Rejected when no draw gave a question, so the caller's puzzle is redrawn.
    """
    same = same or (lambda a, b: a.body == b.body)
    questions: list[SynthQuestion] = []
    for _ in range(attempts):
        if want is not None and len(questions) == want:
            break
        try:
            q = draw()
        except Rejected:
            continue
        if not any(same(q, other) for other in questions):
            questions.append(q)
    if not questions:
        raise Rejected("no question")
    return questions


# ---------------------------------------------------------------- text helpers the families share

MAX_LINES = 10  # trace lines before a tracer folds neighbours together


def fold(lines: list[str], limit: int = MAX_LINES) -> list[str]:
    """Keep a long trace to ``limit`` lines by joining neighbours with "；" (nothing is dropped)."""
    if len(lines) <= limit:
        return lines
    size = -(-len(lines) // limit)
    return ["；".join(s.rstrip("。") for s in lines[i:i + size]) + "。" for i in range(0, len(lines), size)]


def join_names(xs: Iterable[str]) -> str:
    """A list as the real data writes it: "A", "A和B", "A、B和C"."""
    xs = list(xs)
    return xs[0] if len(xs) == 1 else "、".join(xs[:-1]) + "和" + xs[-1]


# ---------------------------------------------------------------- options

# Options per question, as in the real data: 4 (~65 %), 2 (~33 %, mostly 是/否), rarely 3 or 5.
def n_options(rng: random.Random) -> int:
    r = rng.random()
    return 4 if r < 0.92 else (3 if r < 0.96 else 5)


def make_options(rng: random.Random, true: str, distractors: Iterable[str], n: int) -> tuple[list[str], int]:
    """``n`` options: ``true`` at a uniformly drawn position (balanced letters) among distinct distractors.

    Raises :class:`Rejected` when there are not enough distinct distractors.
    """
    pool = []
    for d in distractors:
        if d != true and d not in pool:
            pool.append(d)
    if len(pool) < n - 1:
        raise Rejected(f"only {len(pool)} distinct distractors for {n} options")
    chosen = pool[: n - 1]
    rng.shuffle(chosen)
    answer = rng.randrange(n)
    return chosen[:answer] + [true] + chosen[answer:], answer


def yes_no(rng: random.Random, truth: bool) -> tuple[list[str], int]:
    """The real data's two-option form: ["是", "否"] (sometimes ["否", "是"] so B is not always 否)."""
    options = ["是", "否"] if rng.random() < 0.7 else ["否", "是"]
    return options, options.index("是" if truth else "否")


def pick_distractors(rng: random.Random, near: Sequence[str], far: Sequence[str], k: int, close: float) -> list[str]:
    """``k`` distractors, a ``close`` share of them near misses, the rest from anywhere; near ones first."""
    near, far = list(dict.fromkeys(near)), [x for x in dict.fromkeys(far) if x not in near]
    rng.shuffle(near)
    rng.shuffle(far)
    n_near = min(len(near), max(1, round(k * close))) if near else 0
    out = near[:n_near] + far[: k - n_near]
    out += [x for x in near[n_near:] if x not in out][: k - len(out)]
    return out


# ---------------------------------------------------------------- rationale


def rationale(steps: Sequence[str], options: Sequence[str], answer: int) -> str:
    """Numbered steps, then the option that matches, then ``答案是：X`` as the last line."""
    lines = [f"{i}. {s}" for i, s in enumerate(steps, 1)]
    lines.append(f"{len(steps) + 1}. 因此正确选项是{LETTERS[answer]}（{options[answer]}）。")
    lines.append(f"答案是：{LETTERS[answer]}")
    return "\n".join(lines)


# ---------------------------------------------------------------- forward chaining

Fact = tuple  # ("parent", "Tom", "Bob"): a predicate and its arguments


def is_var(term: object) -> bool:
    return isinstance(term, str) and term.startswith("?")


@dataclass(frozen=True)
class Rule:
    """``head :- body``; variables are strings starting with "?". ``test`` may veto a binding (x != y)."""

    head: Fact
    body: tuple[Fact, ...]
    test: Callable[[dict], bool] | None = None


def unify(pattern: Fact, fact: Fact, binding: dict) -> dict | None:
    """``binding`` extended so that ``pattern`` equals ``fact``, or None when they cannot agree."""
    if len(pattern) != len(fact):
        return None
    out = dict(binding)
    for p, f in zip(pattern, fact, strict=True):
        if is_var(p):
            if p in out and out[p] != f:
                return None
            out[p] = f
        elif p != f:
            return None
    return out


def _bindings(body: Sequence[Fact], by_pred: dict, binding: dict) -> Iterable[dict]:
    if not body:
        yield binding
        return
    first, rest = body[0], body[1:]
    for fact in by_pred.get(first[0], ()):
        b = unify(first, fact, binding)
        if b is not None:
            yield from _bindings(rest, by_pred, b)


def ground(pattern: Fact, binding: dict) -> Fact:
    """``pattern`` with its bound variables replaced by their values."""
    return tuple(binding.get(t, t) if is_var(t) else t for t in pattern)


def forward_chain(facts: Iterable[Fact], rules: Sequence[Rule], max_rounds: int = 50,
                  indexed: bool = False) -> dict[Fact, tuple]:
    """The closure of ``facts`` under ``rules``: every derivable fact mapped to how it was first derived.

    A given fact maps to ``()``; a derived one to ``(rule_index, premises)``. Derivations are kept from
    the earliest round, so each proof is a shortest one in rounds (and the trace stays short).
    ``indexed`` joins through an index on the facts' arguments (see :func:`_forward_chain_indexed`):
    the same result and the same derivations, several times faster on larger programs.
    """
    if indexed:
        return _forward_chain_indexed(facts, rules, max_rounds)
    known: dict[Fact, tuple] = {tuple(f): () for f in facts}
    for _ in range(max_rounds):
        by_pred: dict[str, list[Fact]] = {}
        for f in known:
            by_pred.setdefault(f[0], []).append(f)
        new: dict[Fact, tuple] = {}
        for ri, rule in enumerate(rules):
            for b in _bindings(rule.body, by_pred, {}):
                if rule.test is not None and not rule.test(b):
                    continue
                head = ground(rule.head, b)
                if head not in known and head not in new:
                    new[head] = (ri, tuple(ground(p, b) for p in rule.body))
        if not new:
            return known
        known.update(new)
    raise RuntimeError("forward chaining did not reach a fixpoint")


_UNBOUND = object()


def _compile(goal: Fact) -> tuple:
    """A body goal as (predicate, length, ((position, term, is-variable), ...)) for fast matching."""
    return goal[0], len(goal), tuple((i, t, is_var(t)) for i, t in enumerate(goal) if i > 0)


def _solutions(goals: Sequence[tuple], index: dict, binding: dict, fresh_from: dict | None,
               fresh: bool) -> Iterable[dict]:
    """Bindings of ``goals`` against ``index``, in the order of the plain join. ``fresh_from[key]`` is where
    the facts added in the previous round start in ``index[key]`` (``None`` in the first round: all are
    fresh); a binding whose premises are all older only re-derives known facts, so the last goal skips
    the old facts when no earlier premise was fresh."""
    if not goals:
        yield binding
        return
    (pred, n, spec), rest = goals[0], goals[1:]
    key = pred
    for pos, term, var in spec:  # only the facts that agree on the first bound argument
        v = binding.get(term, _UNBOUND) if var else term
        if v is not _UNBOUND:
            key = (pred, pos, v)
            break
    candidates = index.get(key, ())
    start = 0 if fresh_from is None else fresh_from.get(key, len(candidates))
    for j in range(0 if fresh or rest else start, len(candidates)):
        fact = candidates[j]
        if len(fact) != n:
            continue
        b = binding
        for pos, term, var in spec:
            f = fact[pos]
            if var:
                cur = b.get(term, _UNBOUND)
                if cur is _UNBOUND:
                    if b is binding:
                        b = dict(binding)
                    b[term] = f
                elif cur != f:
                    break
            elif term != f:
                break
        else:
            if rest:
                yield from _solutions(rest, index, b, fresh_from, fresh or j >= start)
            else:
                yield b


def _forward_chain_indexed(facts: Iterable[Fact], rules: Sequence[Rule], max_rounds: int) -> dict[Fact, tuple]:
    """:func:`forward_chain` with an argument index kept up to date between rounds. A goal's candidates are
    the facts that share its first bound argument, in the order the plain join meets them, and only
    bindings that could derive something new are skipped (see :func:`_solutions`), so the first binding
    that derives a fact, and hence every derivation, is the same as without the index."""
    known: dict[Fact, tuple] = {}
    index: dict = {}

    def add(f: Fact, fresh_from: dict) -> None:
        pred = f[0]
        for pos in range(len(f)):
            key = (pred, pos, f[pos]) if pos else pred
            facts_at = index.get(key)
            if facts_at is None:
                facts_at = index[key] = []
            if key not in fresh_from:
                fresh_from[key] = len(facts_at)
            facts_at.append(f)

    for f in facts:
        f = tuple(f)
        if f not in known:
            known[f] = ()
            add(f, {})
    compiled = [(tuple(_compile(g) for g in r.body), tuple((t, is_var(t)) for t in r.head),
                 tuple(tuple((t, is_var(t)) for t in g) for g in r.body), r) for r in rules]
    fresh_from: dict | None = None
    for _ in range(max_rounds):
        new: dict[Fact, tuple] = {}
        for ri, (goals, head_spec, body_spec, rule) in enumerate(compiled):
            if fresh_from is not None and not any(g[0] in fresh_from for g in goals):
                continue  # no premise can be fresh: every binding re-derives known facts
            for b in _solutions(goals, index, {}, fresh_from, fresh_from is None):
                if rule.test is not None and not rule.test(b):
                    continue
                head = tuple(b.get(t, t) if var else t for t, var in head_spec)
                if head not in known and head not in new:
                    new[head] = (ri, tuple(tuple(b.get(t, t) if var else t for t, var in g) for g in body_spec))
        if not new:
            return known
        known.update(new)
        fresh_from = {}
        for f in new:
            add(f, fresh_from)
    raise RuntimeError("forward chaining did not reach a fixpoint")


def proof(fact: Fact, derivations: dict[Fact, tuple]) -> list[tuple[Fact, tuple]]:
    """The derivation of ``fact`` as a list of (fact, premises), premises before what they prove."""
    out: list[tuple[Fact, tuple]] = []
    seen: set[Fact] = set()

    def visit(f: Fact) -> None:
        if f in seen:
            return
        seen.add(f)
        how = derivations[f]
        if how:
            for p in how[1]:
                visit(p)
            out.append((f, how[1]))

    visit(fact)
    return out


def proof_steps(fact: Fact, derivations: dict[Fact, tuple], say: Callable[[Fact], str]) -> list[str]:
    """The derivation of ``fact`` in words: "由A且B，可知C。" one step per derived fact."""
    if derivations[fact] == ():  # given, not derived: the step is to point at it
        return [f"已知{say(fact)}。"]
    steps = []
    for f, premises in proof(fact, derivations):
        steps.append(f"由{'，且'.join(say(p) for p in premises)}，可知{say(f)}。")
    return steps
