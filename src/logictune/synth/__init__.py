"""Synthetic puzzles in the real data's own families, with proven answers and the solver's rationale.

``generate(n, seed)`` returns problems in the competition format and, for every question, a rationale
(numbered steps from the solver's trace, ending in ``答案是：X``) in the format ``train --rationales`` reads;
with ``programs=True`` also a program rationale per question (see :mod:`.programs`), each run in the sandbox
and checked to print its key. The same seed gives the same output, byte for byte.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..data import LETTERS, Problem, Question
from .core import Family, Puzzle, Rejected, pick_difficulty, random_style, rationale

# family -> relative weight in a mixed set, roughly the family's share of real training questions
# (see `logictune data families`), so a synthetic mix looks like the data it is meant to teach.
FAMILY_WEIGHTS = {
    "numeric": 26,  # census of the real training questions: 28.0 %
    "lists": 14,  # 13.1 %
    "graph": 17,  # 18.1 %
    "rules": 18,  # 17.9 %
    "kinship": 7,  # 5.1 %
    "ordering": 7,  # 5.5 %
    "truth": 2,  # 0.3 %: a little more than its share, so the family is seen at all
    "translation": 2,  # 0.3 %
}
FAMILIES = tuple(FAMILY_WEIGHTS)


def family_module(name: str):
    if name not in FAMILY_WEIGHTS:
        raise ValueError(f"unknown family {name!r}; available: {', '.join(FAMILIES)}")
    return importlib.import_module(f"{__name__}.{name}")


def family_interface(name: str) -> Family:
    """The registry: ``name``'s generator, checker and program renderer. Read afresh from the modules on
    each call (imports are cached), so a test that patches a family module's function is seen."""
    mod = family_module(name)
    renderer = importlib.import_module(f"{__name__}.programs.{name}")
    return Family(name, mod.generate, mod.check, renderer.render)


@dataclass
class SynthSet:
    problems: list[Problem]
    rationales: list[dict]  # {"id", "question_index", "rationale", "answer", "source": "synth", "family"}
    puzzles: list[Puzzle]
    programs: list[dict] = field(default_factory=list)  # as rationales, "method": "program"; when asked for


def proven_questions(fam: Family, puzzle: Puzzle) -> list:
    """The questions of ``puzzle`` whose options the family's brute-force ``check`` finds exactly one true
    option in, the key; any other (a distractor that is also true, a key that is false) is thrown away.
    This is the generation-time guard; the generator's own solver is not trusted to have got it right."""
    kept = []
    for qi, q in enumerate(puzzle.questions):
        truth = fam.check(puzzle, qi)
        if sum(truth) == 1 and truth[q.answer]:
            kept.append(q)
    return kept


def make_puzzle(family: str, rng: random.Random, difficulty: str = "mixed", tries: int = 20) -> Puzzle:
    """One puzzle of ``family``; a draw the generator rejects, or whose every question fails the family's
    checker (:func:`proven_questions`), is redrawn from the same stream."""
    fam = family_interface(family)
    for _ in range(tries):
        style = random_style(rng)
        try:
            puzzle = fam.generate(rng, pick_difficulty(difficulty, rng), style)
        except Rejected:
            continue
        puzzle.questions = proven_questions(fam, puzzle)
        if puzzle.questions:
            puzzle.colon = style.colon
            return puzzle
    raise RuntimeError(f"{family}: no valid puzzle in {tries} draws")


def generate(n: int, seed: int = 0, families: Sequence[str] | None = None, difficulty: str = "mixed",
             id_prefix: str = "synth", programs: bool = False, workers: int = 2) -> SynthSet:
    """About ``n`` questions (whole puzzles, so it may overshoot by a few), deterministic in ``seed``.

    ``programs``: also render every question's program and run them in the sandbox (``workers`` at once);
    a program that does not print its key raises :class:`.programs.ProgramMismatch`."""
    names = list(families) if families else list(FAMILIES)
    for name in names:
        family_interface(name)  # fail early on a typo
    weights = [FAMILY_WEIGHTS[f] for f in names]
    mix = random.Random(f"mix:{seed}")
    out = SynthSet([], [], [])
    count, k = 0, 0
    while count < n:
        family = mix.choices(names, weights)[0]
        # One stream per puzzle: puzzle k is the same whatever families came before it.
        puzzle = make_puzzle(family, random.Random(f"{seed}:{k}:{family}"), difficulty)
        pid = f"{id_prefix}_{seed}_{k:06d}"
        questions = []
        for qi, q in enumerate(puzzle.questions):
            header = f"选择题 {qi + 1}{puzzle.colon}"
            letter = LETTERS[q.answer]
            questions.append(Question(question=f"{header}\n{q.body}", options=q.options, answer=letter))
            out.rationales.append({"id": pid, "question_index": qi,
                                   "rationale": rationale(q.steps, q.options, q.answer),
                                   "answer": letter, "source": "synth", "family": family})
        out.problems.append(Problem(id=pid, problem=puzzle.problem, questions=questions))
        out.puzzles.append(puzzle)
        count += len(questions)
        k += 1
    if programs:
        from .programs import rows

        out.programs = rows(out.puzzles, [p.id for p in out.problems], seed, workers=workers)
    return out


__all__ = ["FAMILIES", "FAMILY_WEIGHTS", "Family", "SynthSet", "family_interface", "family_module", "generate", "make_puzzle",
           "proven_questions", "Rejected"]
