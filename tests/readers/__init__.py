"""An independent reader of the synthetic puzzles: it parses the *rendered* problem, question and option
texts of each family back into facts and solves them with its own small solvers, so that "exactly one
option is true, and it is the key" is checked on what a model actually sees.

Nothing here imports the family modules' templates, solvers or checkers (only the text goes in); each
family's phrasings are written again below as patterns, so a wrongly worded fact or option shows up as a
disagreement. A question form a reader does not know raises :class:`Unread`.
"""

from __future__ import annotations

import importlib
import re


class Unread(Exception):
    """The reader does not know this phrasing, or the text asks for something its facts cannot give."""


BULLET = re.compile(r"^(?:\d+\.|-)\s+(.*)$")


def listed(problem: str) -> list[str]:
    """The numbered or dashed lines of the problem, without their bullet and closing full stop."""
    out = []
    for line in problem.splitlines():
        m = BULLET.match(line.strip())
        if m:
            out.append(m.group(1).rstrip("。"))
    return out


def body(question: str) -> str:
    """The question without its "选择题 N：" header line."""
    head, _, rest = question.partition("\n")
    if not re.fullmatch(r"选择题 \d+[：:]", head):
        raise Unread(f"no header: {question!r}")
    return rest.strip()


def yes_no(options: list[str], truth: bool) -> list[bool]:
    if sorted(options) != ["否", "是"]:
        raise Unread(f"not a 是/否 question: {options}")
    return [o == ("是" if truth else "否") for o in options]


def read(family: str, problem: str, question: str, options: list[str]) -> list[bool]:
    """One truth value per option, from the text alone."""
    mod = importlib.import_module(f"{__name__}.{family}")
    try:
        return mod.read(problem, body(question), options)
    except (IndexError, KeyError, TypeError, ValueError, ZeroDivisionError, RecursionError) as e:
        # the text asks for something its own facts cannot give (the 9th element of a 5-element list ...)
        raise Unread(f"cannot evaluate: {type(e).__name__}: {e}") from e
