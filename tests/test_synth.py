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


# The README's claim: options follow the real data (1,163 training questions: 65.6 % four options, 33.3 % two,
# 1.1 % three or five), and the answer letters are balanced.
REAL_SHARES = {4: 0.656, 2: 0.333}
SHARE_TOL = 0.08


@pytest.fixture(scope="module")
def mixed_set():
    return synth.generate(3000, seed=5)


def test_option_counts_follow_the_real_shares_and_are_distinct(mixed_set):
    qs = [q for p in mixed_set.problems for q in p.questions]
    sizes = Counter(len(q.options) for q in qs)
    assert len(qs) >= 3000
    for k, share in REAL_SHARES.items():
        assert abs(sizes[k] / len(qs) - share) <= SHARE_TOL, (k, sizes)
    assert (sizes[3] + sizes[5]) / len(qs) <= 0.06, sizes  # "rarely 3 or 5"
    assert set(sizes) <= {2, 3, 4, 5}
    two = [q for q in qs if len(q.options) == 2]
    assert sum(sorted(q.options) == ["否", "是"] for q in two) / len(two) >= 0.9  # the two-option form is 是/否
    for q in qs:
        assert len(set(q.options)) == len(q.options), q.options


@pytest.mark.parametrize("n_opts", [2, 4])
def test_answer_letters_are_balanced(mixed_set, n_opts):
    letters = Counter(q.answer for p in mixed_set.problems for q in p.questions if len(q.options) == n_opts)
    total = sum(letters.values())
    assert total >= 900 and set(letters) == set(data.LETTERS[:n_opts])
    tol = 0.04 if n_opts == 4 else 0.06  # about 3.5 standard errors of a share at these counts
    assert all(abs(k / total - 1 / n_opts) <= tol for k in letters.values()), letters


def _effort(s) -> tuple[float, float]:
    """(mean rationale lines a question, mean problem length in characters) of a synth set."""
    return (sum(len(r["rationale"].splitlines()) for r in s.rationales) / len(s.rationales),
            sum(len(p.problem) for p in s.problems) / len(s.problems))


@pytest.mark.parametrize("family", synth.FAMILIES)
def test_difficulty_knob_makes_every_family_harder(family):
    easy = _effort(synth.generate(300, seed=1, families=[family], difficulty="easy"))
    hard = _effort(synth.generate(300, seed=1, families=[family], difficulty="hard"))
    # longer derivations or bigger worlds (more entities), and neither notably smaller
    assert all(h >= 0.97 * e for h, e in zip(hard, easy, strict=True)), (easy, hard)
    assert any(h >= 1.05 * e for h, e in zip(hard, easy, strict=True)), (easy, hard)


def test_unknown_difficulty_is_refused():
    with pytest.raises(ValueError, match="difficulty"):
        synth.generate(10, seed=1, difficulty="brutal")


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
    # both colons, full-width the most (the real headers: about 12 to 1)
    assert set(headers) == {"：", ":"} and 0.05 <= headers[":"] / sum(headers.values()) <= 0.15, headers
    family = {r["id"]: r["family"] for r in out.rationales}
    named = [p.problem for p in out.problems if family[p.id] in ("kinship", "truth")]
    latin = sum(bool(re.search(r"[A-Z][a-z]+", t)) for t in named) / len(named)
    assert len(named) >= 50 and 0.25 <= latin <= 0.75, latin  # Chinese and Latin names, both common
    sizes = Counter(len(p.questions) for p in out.problems)
    assert set(sizes) == {1, 2, 3, 4} and max(sizes.values()) / len(out.problems) <= 0.6, sizes


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
