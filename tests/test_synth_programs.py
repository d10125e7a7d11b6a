"""Program rationales for synthetic questions: every one prints its key in the sandbox, none is a guess,
their surface varies, and `synth --programs` writes them as rationale rows."""

from __future__ import annotations

import contextlib
import io
import json
import random
from collections import Counter

import pytest
from typer.testing import CliRunner

from logictune import data, prompts, synth
from logictune import programs as answers
from logictune.cli import app
from logictune.synth import FAMILIES, make_puzzle
from logictune.synth import programs as P
from logictune.synth.programs import kit

runner = CliRunner()


def _jobs(family: str, seeds) -> list[P.Job]:
    puzzles = [make_puzzle(family, random.Random(f"test:{family}:{s}")) for s in seeds]
    return P.jobs_for(puzzles, [f"s{s}" for s in seeds], where=f"{family} ")


def test_every_family_has_a_program_renderer():
    assert set(P.RENDERED) == set(FAMILIES)
    for family in FAMILIES:
        interface = synth.family_interface(family)
        assert (interface.name, callable(interface.generate), callable(interface.check),
                callable(interface.render_program)) == (family, True, True, True)


def test_program_renderers_use_only_the_families_public_names():
    # A renderer that reaches into a family's private helpers breaks when the family is reorganised:
    # what it needs belongs to the family's interface (its registry records, public constants).
    import ast
    from pathlib import Path

    for path in sorted(Path(P.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module in FAMILIES:
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from synth.{node.module}"


@pytest.mark.parametrize("family", FAMILIES)
def test_a_sample_of_programs_prints_the_key_in_the_sandbox(family):
    # Two puzzles a family in the normal suite; the 200-seed sweep below is the full check.
    jobs = _jobs(family, range(2))
    results = P.verify(jobs)
    assert len(results) == len(jobs) > 0
    for job, res in zip(jobs, results, strict=True):
        assert res.status == "ok" and answers.match_output(res.stdout, job.options) == job.answer
        assert not answers.is_guess(job.code)


@pytest.mark.parametrize("family", FAMILIES)
def test_program_shapes_vary_within_a_family(family):
    # Rendering only (no sandbox): names, fact order and loop/comprehension forms differ between seeds.
    jobs = _jobs(family, range(30))
    shapes = Counter(P.ast_shape(j.code) for j in jobs)
    assert len(shapes) > 5, family
    assert len({j.code for j in jobs}) == len(jobs)


def test_shape_ignores_names_and_data_but_not_structure():
    a = 'facts = [("a", "b"), ("b", "c")]\nx = facts[0]\nprint("ABCDE"[0 if x else 1])\n'
    b = 'pairs = [("q", "r")]\ny = pairs[1]\nprint("ABCDE"[0 if y else 2])\n'
    c = 'pairs = [("q", "r")]\nfor y in pairs:\n    print("ABCDE"[0 if y else 2])\n'
    assert P.ast_shape(a) == P.ast_shape(b) != P.ast_shape(c)


def test_a_program_that_misses_its_key_raises_with_family_place_and_code():
    good = _jobs("ordering", [0])[0]
    wrong = P.Job(good.family, "seed 9, synth_9_000003 question 1", good.code, good.options,
                  next(x for x in "ABCDE"[: len(good.options)] if x != good.answer))
    with pytest.raises(P.ProgramMismatch) as err:
        P.verify([good, wrong])
    text = str(err.value)
    assert "ordering" in text and "seed 9, synth_9_000003 question 1" in text and good.code in text
    crash = P.Job("lists", "seed 1", "print(undefined_name)\n", ["是", "否"], "A")
    with pytest.raises(P.ProgramMismatch, match="status error"):
        P.verify([crash])


def test_a_constant_program_is_rejected_even_when_it_prints_the_key():
    guess = P.Job("truth", "seed 2", 'print("A")\n', ["是", "否"], "A")
    with pytest.raises(P.ProgramMismatch, match="guess"):
        P.verify([guess])


def _run_here(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<program>", "exec"), {})
    return out.getvalue()


@pytest.mark.parametrize("options", [["C", "D", "A", "F"], ["c", "i", "d", "b"], ["3", "1", "2", "4"]])
def test_the_letter_is_unambiguous_when_options_are_letters(options):
    # A lone "B" would be read as an option's text when the options are letters: the program prints "B. text".
    for seed in range(12):
        rng = random.Random(seed)
        nm = kit.Names(rng)
        var, line = kit.options_line(nm, options)
        code = kit.program(line, f"value = {kit.lit(options[1])}", kit.select_equal(rng, nm, var, "value"))
        assert answers.match_output(_run_here(code), options) == "B", code


def test_generate_with_programs_is_deterministic_and_in_question_order():
    a = synth.generate(6, seed=5, families=["truth", "translation"], programs=True)
    b = synth.generate(6, seed=5, families=["truth", "translation"], programs=True)
    assert a.programs == b.programs and len(a.programs) == len(a.rationales)
    for prog, rat in zip(a.programs, a.rationales, strict=True):
        assert (prog["id"], prog["question_index"], prog["answer"], prog["family"]) == \
            (rat["id"], rat["question_index"], rat["answer"], rat["family"])
    assert synth.generate(6, seed=5, families=["truth"]).programs == []


def test_cli_writes_program_rows(tmp_path):
    out, progs = tmp_path / "p.jsonl", tmp_path / "prog.jsonl"
    res = runner.invoke(app, ["synth", "--n", "16", "--seed", "4", "--families", "ordering,graph,numeric",
                              "--out", str(out), "--programs", str(progs)], terminal_width=200)
    assert res.exit_code == 0, res.output
    problems = {p.id: p for p in data.load_problems(out)}
    rows = [json.loads(x) for x in progs.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == sum(len(p.questions) for p in problems.values()) >= 16
    for row in rows:
        assert set(row) == {"id", "question_index", "rationale", "answer", "source", "method", "family"}
        assert (row["source"], row["method"]) == ("synth", "program")
        q = problems[row["id"]].questions[row["question_index"]]
        assert row["answer"] == q.answer and row["family"] in ("ordering", "graph", "numeric")
        code = answers.extract_code(row["rationale"])
        assert row["rationale"] == prompts.program_completion(code) and not answers.is_guess(code)
    assert "printed their key" in res.output


@pytest.mark.sweep
@pytest.mark.parametrize("family", FAMILIES)
def test_every_program_over_200_seeds_prints_its_key(family):
    jobs = _jobs(family, range(200))
    results = P.verify(jobs)  # raises, naming the family, seed and program, at the first that misses
    assert all(r.status == "ok" for r in results) and len(results) == len(jobs)
    shapes = Counter(P.ast_shape(j.code) for j in jobs)
    assert len(shapes) > 1
    assert not any(answers.is_guess(j.code) for j in jobs)
