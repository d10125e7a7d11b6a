"""Program rationales for synthetic questions: a short Python program per question, in the style the small
model should learn (facts as plain data, rules as small functions, the question computed, each option
checked, the letter printed), rendered by the family's module here from the puzzle's world and the
question's claims.

Every program is run in the sandbox when it is made and must print its question's key: one that does not
is a renderer bug and raises :class:`ProgramMismatch` (never dropped quietly).
"""

from __future__ import annotations

import ast
import random
from collections.abc import Sequence
from dataclasses import dataclass

from ... import programs as answers
from ... import prompts, sandbox
from .. import FAMILIES, family_interface
from ..core import LETTERS, Puzzle

RENDERED = FAMILIES  # every family registers a program renderer (see synth.family_interface)


def render(puzzle: Puzzle, question_index: int, rng: random.Random) -> str:
    """The program for one question of ``puzzle``; ``rng`` picks its surface (names, order, loop forms)."""
    return family_interface(puzzle.family).render_program(puzzle, question_index, rng)


def program_rng(puzzle_id: str, question_index: int) -> random.Random:
    """The surface stream of one question's program: fixed by its id, whatever else was rendered."""
    return random.Random(f"program:{puzzle_id}:{question_index}")


@dataclass(frozen=True)
class Job:
    """One rendered program and what it must print."""

    family: str
    where: str  # how to find it again: the seed, the puzzle id, the question
    code: str
    options: list[str]
    answer: str  # the key's letter


class ProgramMismatch(AssertionError):
    """A rendered program that did not print its key (or is a constant guess): a bug in its renderer."""

    def __init__(self, job: Job, result: sandbox.Result | None, matched: str | None, why: str):
        self.job, self.result, self.matched = job, result, matched
        out = "" if result is None else f"\nstatus: {result.status}\nstdout: {result.stdout[-500:]!r}\n" \
                                        f"stderr: {result.stderr[-1500:]}"
        super().__init__(f"{job.family} program ({job.where}): {why}; key {job.answer}, matched {matched}\n"
                         f"options: {job.options}{out}\n--- program ---\n{job.code}")


def verify(jobs: Sequence[Job], workers: int = 2, timeout: float = 10.0) -> list[sandbox.Result]:
    """Run every program in the sandbox; raise :class:`ProgramMismatch` at the first (in order) that is a
    guess or whose output does not match its key's option."""
    for job in jobs:  # decided on the AST: no need to run a guess to reject it
        if answers.is_guess(job.code):
            raise ProgramMismatch(job, None, None, "a constant guess")
    limits = sandbox.Limits(timeout=timeout, cpu_seconds=max(1, int(timeout)))
    with sandbox.Pool(workers=workers, limits=limits) as pool:
        futures = [pool.submit(job.code) for job in jobs]
        results = []
        for job, future in zip(jobs, futures, strict=True):
            result = future.result()
            # read as predict reads the letter prompt, which these programs are trained under
            matched = (answers.match_output(result.stdout, job.options, letter_first=True)
                       if result.status == "ok" else None)
            if matched != job.answer:
                raise ProgramMismatch(job, result, matched, f"sandbox status {result.status}")
            results.append(result)
    return results


def jobs_for(puzzles: Sequence[Puzzle], ids: Sequence[str], where: str = "") -> list[Job]:
    """A job per question of every puzzle, rendered from ``program_rng(id, question)``."""
    out = []
    for puzzle, pid in zip(puzzles, ids, strict=True):
        for qi, q in enumerate(puzzle.questions):
            code = render(puzzle, qi, program_rng(pid, qi))
            out.append(Job(puzzle.family, f"{where}{pid} question {qi}", code, list(q.options), LETTERS[q.answer]))
    return out


def rows(puzzles: Sequence[Puzzle], ids: Sequence[str], seed: int, workers: int = 2) -> list[dict]:
    """Verified program rationales in the rationale row format (``method: program``), in question order."""
    jobs = jobs_for(puzzles, ids, where=f"seed {seed}, ")
    verify(jobs, workers=workers)
    out, k = [], 0
    for puzzle, pid in zip(puzzles, ids, strict=True):
        for qi in range(len(puzzle.questions)):
            job = jobs[k]
            out.append({"id": pid, "question_index": qi, "rationale": prompts.program_completion(job.code),
                        "answer": job.answer, "source": "synth", "method": "program", "family": puzzle.family})
            k += 1
    return out


# ---------------------------------------------------------------- measures


class _Shape(ast.NodeTransformer):
    """Names, strings and numbers blanked: what is left is the program's structure."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.copy_location(ast.Name(id="_", ctx=node.ctx), node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        return ast.copy_location(ast.arg(arg="_"), node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        node.name = "_"
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.copy_location(ast.Constant(value=type(node.value).__name__), node)

    def visit_List(self, node: ast.List) -> ast.AST:  # a data list's length is data, not structure
        if node.elts and all(isinstance(e, (ast.Constant, ast.Tuple, ast.List)) for e in node.elts):
            return ast.copy_location(ast.List(elts=[self.visit(node.elts[0])], ctx=node.ctx), node)
        return self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        if node.keys and all(isinstance(k, ast.Constant) for k in node.keys):
            return ast.copy_location(ast.Dict(keys=[self.visit(node.keys[0])], values=[self.visit(node.values[0])]),
                                     node)
        return self.generic_visit(node)


def ast_shape(code: str) -> str:
    """The program's AST with names, constants and data lengths normalised: two programs that differ only
    in their facts or identifiers have the same shape."""
    return ast.dump(_Shape().visit(ast.parse(code)))


__all__ = ["Job", "ProgramMismatch", "RENDERED", "ast_shape", "jobs_for", "program_rng", "render", "rows", "verify"]
