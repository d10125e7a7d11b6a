"""Synthetic puzzles: every family's answers agree with an independent brute-force checker, exactly one
option is true, rationales end in the key, letters are balanced, output is deterministic and valid."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from logictune import data, synth
from logictune.synth import core

SEEDS = 200


@pytest.mark.parametrize("family", synth.FAMILIES)
def test_brute_force_checker_agrees_with_generator(family):
    mod = synth.family_module(family)
    checked = 0
    for seed in range(SEEDS):
        puzzle = synth.make_puzzle(family, random.Random(f"check:{seed}"))
        assert puzzle.family == family
        for qi, q in enumerate(puzzle.questions):
            truth = mod.check(puzzle, qi)
            assert len(truth) == len(q.options), (seed, q.body)
            assert sum(truth) == 1, f"seed {seed}: {q.body} {q.options} -> {truth}"
            assert truth[q.answer], f"seed {seed}: key {q.answer} but checker says {truth}: {q.body} {q.options}"
            checked += 1
    assert checked >= SEEDS


@pytest.mark.parametrize("family", synth.FAMILIES)
def test_rationale_is_numbered_steps_ending_in_the_key(family):
    out = synth.generate(40, seed=3, families=[family])
    keys = {(p.id, i): q.answer for p in out.problems for i, q in enumerate(p.questions)}
    assert len(out.rationales) == len(keys)
    for r in out.rationales:
        lines = r["rationale"].splitlines()
        assert lines[-1] == f"答案是：{keys[(r['id'], r['question_index'])]}"
        assert r["answer"] == keys[(r["id"], r["question_index"])] and r["source"] == "synth"
        assert re.match(r"^1\. ", lines[0]) and len(lines) >= 3


def test_letters_balanced_over_four_option_questions():
    out = synth.generate(3000, seed=11)
    letters = Counter(q.answer for p in out.problems for q in p.questions if len(q.options) == 4)
    total = sum(letters.values())
    assert total >= 1000
    assert max(letters.values()) / total <= 0.40, letters
    assert set(letters) == set("ABCD")


def test_options_follow_the_real_distribution_and_are_distinct():
    out = synth.generate(1500, seed=5)
    sizes = Counter(len(q.options) for p in out.problems for q in p.questions)
    total = sum(sizes.values())
    assert sizes[4] / total > 0.4 and sizes[2] / total > 0.15, sizes
    for p in out.problems:
        for q in p.questions:
            assert len(set(q.options)) == len(q.options), (p.id, q.options)


def test_same_seed_same_bytes_and_data_check_passes(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (a, b):
        data.write_problems(synth.generate(300, seed=7).problems, path)
    assert a.read_bytes() == b.read_bytes()
    report = data.load_report(a)
    assert not report.errors and len(report.problems) > 50
    other = tmp_path / "c.jsonl"
    data.write_problems(synth.generate(300, seed=8).problems, other)
    assert other.read_bytes() != a.read_bytes()


def test_surface_varies_like_the_real_data():
    out = synth.generate(2000, seed=2)
    headers = Counter(q.question.split("\n")[0][-1] for p in out.problems for q in p.questions)
    assert headers["："] > headers[":"] > 0
    text = " ".join(p.problem for p in out.problems)
    assert re.search(r"[A-Z][a-z]+", text) and re.search(r"[张王李刘陈杨赵黄周吴]", text)
    assert Counter(len(p.questions) for p in out.problems).most_common()[0][1] < len(out.problems)


def test_difficulty_knob_changes_the_puzzles():
    easy = synth.generate(300, seed=1, families=["ordering"], difficulty="easy")
    hard = synth.generate(300, seed=1, families=["ordering"], difficulty="hard")

    def mean_steps(s):
        return sum(len(r["rationale"].splitlines()) for r in s.rationales) / len(s.rationales)

    assert mean_steps(hard) > mean_steps(easy)
    with pytest.raises(ValueError, match="difficulty"):
        synth.generate(10, seed=1, difficulty="brutal")


def test_unknown_family_is_named():
    with pytest.raises(ValueError, match="unknown family 'zebra'"):
        synth.generate(10, families=["zebra"])


def test_forward_chain_keeps_a_shortest_derivation():
    rule = core.Rule(("gt", "?x", "?z"), (("gt", "?x", "?y"), ("gt", "?y", "?z")))
    facts = [("gt", "a", "b"), ("gt", "b", "c"), ("gt", "c", "d")]
    derived = core.forward_chain(facts, [rule])
    assert ("gt", "a", "d") in derived and ("gt", "d", "a") not in derived
    assert len([f for f in derived if f[0] == "gt"]) == 6
    steps = core.proof_steps(("gt", "a", "d"), derived, lambda f: f"{f[1]}>{f[2]}")
    assert steps[-1].endswith("可知a>d。") and len(steps) == 2


def test_make_options_rejects_too_few_distractors():
    with pytest.raises(core.Rejected):
        core.make_options(random.Random(0), "x", ["y", "x", "y"], 4)


def test_indexed_chaining_gives_the_same_derivations_as_the_plain_one():
    from logictune.synth import kinship

    for seed in range(30):
        rng = random.Random(seed)
        people = [f"p{i}" for i in range(8)]
        facts = [("parent", rng.choice(people[:4]), c) for c in people[4:]] + [("parent", "p0", "p1")]
        facts += [("male" if rng.random() < 0.5 else "female", p) for p in people]
        plain = core.forward_chain(facts, kinship.RULES)
        assert core.forward_chain(facts, kinship.RULES, indexed=True) == plain


def test_a_given_fact_is_its_own_one_step_proof():
    derived = core.forward_chain([("gt", "a", "b")], [])
    assert core.proof_steps(("gt", "a", "b"), derived, lambda f: f"{f[1]}>{f[2]}") == ["已知a>b。"]


def test_graph_route_check_rejects_a_route_with_the_wrong_endpoints():
    from logictune.synth import graph

    tried = 0
    for seed in range(400):
        puzzle = synth.make_puzzle("graph", random.Random(f"route:{seed}"))
        for qi, q in enumerate(puzzle.questions):
            if q.meta["claims"][0][0] != "route":
                continue
            true_route = q.meta["claims"][q.answer][1]
            a, b = true_route[0], true_route[-1]
            # every prefix/suffix of the true route is made of real edges but starts or ends elsewhere
            q.meta["claims"] = [["route", true_route, a, b], ["route", true_route[:-1], a, b],
                                ["route", true_route[1:], a, b]]
            assert graph.check(puzzle, qi) == [True, False, False], (seed, true_route)
            tried += 1
    assert tried >= 20


@pytest.mark.parametrize("spoil", ["two_true", "key_false"])
def test_generation_throws_away_a_question_the_checker_does_not_prove(monkeypatch, spoil):
    mod = synth.family_module("ordering")
    real = mod.generate
    spoilt = []

    def generate(rng, difficulty, style):  # the generator's first question made wrong in its claims
        puzzle = real(rng, difficulty, style)
        q = puzzle.questions[0]
        other = (q.answer + 1) % len(q.options)
        src, dst = (q.answer, other) if spoil == "two_true" else (other, q.answer)
        q.meta["claims"][dst] = list(q.meta["claims"][src])
        spoilt.append(q)
        return puzzle

    monkeypatch.setattr(mod, "generate", generate)
    kept = 0
    for seed in range(40):
        puzzle = synth.make_puzzle("ordering", random.Random(f"spoil:{seed}"))
        assert not any(q is s for q in puzzle.questions for s in spoilt)
        for qi, q in enumerate(puzzle.questions):
            truth = mod.check(puzzle, qi)
            assert sum(truth) == 1 and truth[q.answer]
            kept += 1
    assert len(spoilt) >= 40 and kept >= 20
