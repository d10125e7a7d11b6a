"""Few-shot retrieval: the K solved questions of a pool most similar to the one asked, by BM25 (rank_bm25).

Chinese has no spaces and a segmenter would be one more model to ship, so the terms are characters and
character bigrams, the usual BM25 terms for Chinese without one. A question's text is its problem
statement, the question and its options. Train (``few_shot``) and predict (``--few-shot``) both call
:meth:`ShotPool.shots` on a pool read from the same file, so a question gets the same shots, in the same
order, and so the same rendered prompt, in both. A question never gets a shot from its own problem (same id
or same statement): that would hand it its answer, or its sibling questions' answers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from rank_bm25 import BM25Okapi

from . import data, prompts


def terms(text: str) -> list[str]:
    """Characters and character bigrams, whitespace dropped."""
    chars = [c for c in text if not c.isspace()]
    return chars + [a + b for a, b in zip(chars, chars[1:], strict=False)]


def _statement(problem: data.Problem) -> str:
    return " ".join(problem.problem.split())


def _question_text(question: data.Question) -> str:
    return question.body + "\n" + "\n".join(question.options)


class ShotPool:
    """The labelled questions of ``problems``, indexed once; :meth:`shots` ranks them for a question."""

    def __init__(self, problems: Sequence[data.Problem]):
        self.entries = [(p, i) for p in problems for i, q in enumerate(p.questions) if q.answer]
        if not self.entries:
            raise ValueError("the few-shot pool holds no question with an answer")
        self._statements = [_statement(p) for p, _ in self.entries]
        docs = [terms(s) + terms(_question_text(p.questions[i]))
                for s, (p, i) in zip(self._statements, self.entries, strict=True)]
        self._bm25 = BM25Okapi(docs)
        self._by_statement: dict[str, np.ndarray] = {}

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> ShotPool:
        return cls(data.load_problems(path))

    def scores(self, problem: data.Problem, index: int) -> np.ndarray:
        # BM25 sums over the query's terms, so the statement's part (most of the query, shared by the
        # problem's questions) is computed once per problem.
        statement = _statement(problem)
        if statement not in self._by_statement:
            self._by_statement = {statement: self._bm25.get_scores(terms(statement))}
        return self._by_statement[statement] + self._bm25.get_scores(terms(_question_text(problem.questions[index])))

    def shots(self, problem: data.Problem, index: int, k: int) -> list[prompts.Shot]:
        """The ``k`` most similar solved questions, most similar first; ties go to the earlier in the pool."""
        if k <= 0:
            return []
        scores = self.scores(problem, index)
        own = _statement(problem)
        out: list[prompts.Shot] = []
        for j in sorted(range(len(self.entries)), key=lambda j: (-scores[j], j)):
            p, i = self.entries[j]
            if p.id == problem.id or self._statements[j] == own:
                continue
            out.append(prompts.Shot(p, p.questions[i], p.questions[i].answer))
            if len(out) == k:
                break
        return out
