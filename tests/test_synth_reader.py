"""Synthetic puzzles checked on what a model sees: an independent reader (tests/readers/) parses the rendered
problem, question and option texts back into facts and solves them with its own code, and must find exactly
one true option, the key. The generator's meta, world, templates and checkers are never consulted."""

from __future__ import annotations

import ast
import random
import re
from pathlib import Path

import pytest

from logictune import synth
from tests import readers

QUESTIONS = 1000  # per family; about 15 s for all eight on one core
READERS = Path(readers.__file__).parent


def _verdicts(family: str, problems, mutate_problem=None, mutate_question=None):
    """(question id, key, truth per option or the Unread message) for every question."""
    rng = random.Random(f"mutate:{family}")
    for p in problems:
        problem = mutate_problem(p.problem, rng) if mutate_problem else p.problem
        for qi, q in enumerate(p.questions):
            text = mutate_question(q.question) if mutate_question else q.question
            try:
                truth = readers.read(family, problem, text, q.options)
            except readers.Unread as e:
                truth = f"unread: {e}"
            yield f"{p.id}#{qi}", "ABCDE".index(q.answer), truth


def _proven(key: int, truth) -> bool:
    return isinstance(truth, list) and sum(truth) == 1 and truth[key]


@pytest.mark.parametrize("family", synth.FAMILIES)
def test_the_reader_finds_exactly_one_true_option_and_it_is_the_key(family):
    out = synth.generate(QUESTIONS, seed=2024, families=[family])
    bad, n = [], 0
    by_id = {p.id: p for p in out.problems}
    for qid, key, truth in _verdicts(family, out.problems):
        n += 1
        if not _proven(key, truth):
            p = by_id[qid.split("#")[0]]
            q = p.questions[int(qid.split("#")[1])]
            bad.append(f"{qid}: key {'ABCDE'[key]}, read {truth}\n{p.problem}\n{q.question} {q.options}")
    assert n >= QUESTIONS
    assert not bad, f"{len(bad)} of {n} questions not proven by the reader; first:\n" + "\n\n".join(bad[:3])


def _drop_a_fact(problem: str, rng: random.Random) -> str:
    """The problem with one of its listed facts left out, as a renderer that lost a line would write it."""
    lines = problem.split("\n")
    facts = [i for i, x in enumerate(lines) if readers.BULLET.match(x.strip()) and "规则" not in x and "如果" not in x]
    if not facts:
        return problem
    i = rng.choice(facts)
    return "\n".join(lines[:i] + lines[i + 1:])


def _bump_first_number(question: str) -> str:
    """The question with its first number one higher, as a renderer that misprinted an argument would write it."""
    head, _, body = question.partition("\n")
    return head + "\n" + re.sub(r"\d+", lambda m: str(int(m[0]) + 1), body, count=1)


# numeric and lists state their inputs in the question, the others in the problem's facts
MUTATIONS = {"numeric": (None, _bump_first_number), "lists": (None, _bump_first_number)}


@pytest.mark.parametrize("family", synth.FAMILIES)
def test_the_reader_notices_a_wrongly_rendered_puzzle(family):
    """Were the reader to answer from anything but the text, a changed text would not change its verdict."""
    out = synth.generate(300, seed=99, families=[family])
    mutate_problem, mutate_question = MUTATIONS.get(family, (_drop_a_fact, None))
    verdicts = list(_verdicts(family, out.problems, mutate_problem, mutate_question))
    flagged = sum(not _proven(key, truth) for _, key, truth in verdicts)
    # measured: 10 % (kinship, where most lines are genders a question may not need) to 94 % (truth)
    assert flagged / len(verdicts) >= 0.05, f"{family}: only {flagged} of {len(verdicts)} mutated questions flagged"


def test_the_reader_uses_none_of_the_generators_code():
    """Independence: the reader imports only the standard library and itself (no logictune at all)."""
    allowed = {"__future__", "ast", "importlib", "itertools", "math", "re", "collections"}
    for path in READERS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [] if node.level else [(node.module or "").split(".")[0]]
            else:
                continue
            assert set(names) <= allowed, f"{path.name} imports {names}"
    assert {p.stem for p in READERS.glob("*.py")} >= set(synth.FAMILIES)


def test_the_reader_solves_hand_written_puzzles():
    """The reader against answers worked out by hand, so its own solvers are checked too."""
    ordering = "已知以下人之间的关系：\n\n1. 甲比乙高\n2. 丙比甲高\n\n回答以下选择题："
    assert readers.read("ordering", ordering, "选择题 1：\n谁最矮？", ["甲", "乙", "丙"]) == [False, True, False]
    graph = "考虑一个有向图，其中的边如下：\n\n- 节点a有一条边指向节点b。\n- 节点b有一条边指向节点c。\n\n回答以下选择题："
    assert readers.read("graph", graph, "选择题 1：\n从a到c的路径是哪条？", ["a→b→c", "a→c", "b→c"]) == [True, False, False]
    truth = ("有两个人：A、B。每个人要么是骑士，要么是无赖，骑士总是说真话，无赖总是说谎。他们各自说了一句话：\n\n"
             "- A说：“B是无赖。”\n- B说：“A和B都是骑士。”\n\n回答以下选择题：")
    assert readers.read("truth", truth, "选择题 1：\nB是骑士还是无赖？", ["骑士", "无赖"]) == [False, True]
    kinship = "有一个家庭关系如下：\n\n1. 张三是李四的父亲。\n2. 李四是王五的母亲。\n\n回答以下选择题："
    assert readers.read("kinship", kinship, "选择题 1：\n张三是王五的什么人？", ["祖父", "父亲", "叔叔"]) == [True, False, False]
    with pytest.raises(readers.Unread):
        readers.read("ordering", ordering, "选择题 1：\n谁最聪明？", ["甲", "乙"])
