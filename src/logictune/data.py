"""The competition data: load and validate problems, split them, describe them, write submissions.

One JSON object per line: ``{"id", "problem", "questions": [{"question", "options", "answer"?}]}``.
Fields we do not know are kept in ``extra`` and written back unchanged, in their original place.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import statistics
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# "选择题 1：" / "选择题 1:" / "问题2：" — a numbered header in front of the question text, either colon.
_HEADER = re.compile(r"^\s*(?:选择题|问题|题目|Question)\s*\d*\s*[:：]\s*", re.IGNORECASE)


@dataclass
class Question:
    question: str
    options: list[str]
    answer: str | None = None
    extra: dict = field(default_factory=dict)
    # Key order as read, so a round trip writes the question back the way it came.
    key_order: list[str] = field(default_factory=list, repr=False, compare=False)

    @property
    def letters(self) -> str:
        """The valid answer letters for this question, e.g. "ABCD"."""
        return LETTERS[: len(self.options)]

    @property
    def body(self) -> str:
        """The question without its numbered header; ASCII and full-width colons alike."""
        return _HEADER.sub("", self.question, count=1).strip()


@dataclass
class Problem:
    id: str
    problem: str
    questions: list[Question]
    extra: dict = field(default_factory=dict)
    # Key order as read, so a round trip writes the record back the way it came.
    key_order: list[str] = field(default_factory=list, repr=False, compare=False)


@dataclass
class BadRecord:
    """One thing wrong with one line of an input file."""

    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: field '{self.field}': {self.message}"


@dataclass
class LoadReport:
    path: str
    problems: list[Problem]
    errors: list[BadRecord]


class DataError(ValueError):
    """Raised in strict mode with every bad record of the file, not only the first."""

    def __init__(self, errors: Sequence[BadRecord]):
        self.errors = list(errors)
        lines = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(f"{len(self.errors)} bad record(s):\n{lines}")


# ---------------------------------------------------------------- loading


def iter_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, object, str | None]]:
    """``(line number, decoded object, error)`` for each non-blank line; UTF-8 with or without BOM, CRLF ok.

    A line that is not valid JSON comes with ``None`` and a message saying why, so callers can report
    every bad line, not only the first.
    """
    with open(path, encoding="utf-8-sig", newline="") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line), None
            except json.JSONDecodeError as e:
                yield lineno, None, f"invalid JSON: {e.msg} at column {e.colno}"


def _parse_question(raw: object, where: str) -> tuple[Question | None, list[tuple[str, str]]]:
    """Validate one question; returns (question, [(field, message), ...])."""
    if not isinstance(raw, dict):
        return None, [(where, f"must be an object, got {type(raw).__name__}")]
    errs: list[tuple[str, str]] = []
    text = raw.get("question")
    if not isinstance(text, str) or not text.strip():
        errs.append((f"{where}.question", "missing or empty"))
    options = raw.get("options")
    if not isinstance(options, list) or len(options) < 2:
        errs.append((f"{where}.options", "must be a list of at least 2 options"))
        options = None
    elif not all(isinstance(o, str) for o in options):
        bad = next(i for i, o in enumerate(options) if not isinstance(o, str))
        errs.append((f"{where}.options[{bad}]", f"must be a string, got {type(options[bad]).__name__}"))
        options = None
    elif len(options) > len(LETTERS):
        errs.append((f"{where}.options", f"at most {len(LETTERS)} options are supported"))
        options = None
    answer = raw.get("answer")
    if answer is not None:
        valid = LETTERS[: len(options)] if options else None
        if not isinstance(answer, str) or len(answer.strip()) != 1 or not answer.strip().isalpha():
            errs.append((f"{where}.answer", f"must be a single letter, got {answer!r}"))
        elif valid and answer.strip().upper() not in valid:
            errs.append((f"{where}.answer", f"{answer!r} is outside the options A-{valid[-1]}"))
        else:
            answer = answer.strip().upper()
    if errs:
        return None, errs
    extra = {k: v for k, v in raw.items() if k not in ("question", "options", "answer")}
    return Question(text, [o.strip() for o in options], answer, extra, list(raw.keys())), []


def parse_problem(obj: object) -> tuple[Problem | None, list[tuple[str, str]]]:
    """Validate one decoded record; returns (problem, [(field, message), ...])."""
    if not isinstance(obj, dict):
        return None, [("<record>", f"must be a JSON object, got {type(obj).__name__}")]
    errs: list[tuple[str, str]] = []
    pid = obj.get("id")
    if pid is None:
        errs.append(("id", "missing"))
    elif not isinstance(pid, str | int) or not str(pid).strip():
        errs.append(("id", "blank"))
    text = obj.get("problem")
    if not isinstance(text, str) or not text.strip():
        errs.append(("problem", "missing or empty"))
    raw_qs = obj.get("questions")
    questions: list[Question] = []
    if not isinstance(raw_qs, list) or not raw_qs:
        errs.append(("questions", "must be a non-empty list"))
    else:
        for i, rq in enumerate(raw_qs):
            q, qerrs = _parse_question(rq, f"questions[{i}]")
            errs.extend(qerrs)
            if q:
                questions.append(q)
    if errs:
        return None, errs
    extra = {k: v for k, v in obj.items() if k not in ("id", "problem", "questions")}
    return Problem(str(pid), text, questions, extra, list(obj.keys())), []


def load_report(path: str | os.PathLike) -> LoadReport:
    """Read a competition JSONL file, keeping good records and describing every bad one."""
    path = str(path)
    problems: list[Problem] = []
    errors: list[BadRecord] = []
    seen: dict[str, int] = {}
    for lineno, obj, bad_json in iter_jsonl(path):
        if bad_json:
            errors.append(BadRecord(path, lineno, "<json>", bad_json))
            continue
        problem, errs = parse_problem(obj)
        errors.extend(BadRecord(path, lineno, fld, msg) for fld, msg in errs)
        if problem is None:
            continue
        if problem.id in seen:
            errors.append(BadRecord(path, lineno, "id", f"duplicate id {problem.id!r} (first on line {seen[problem.id]})"))
            continue
        seen[problem.id] = lineno
        problems.append(problem)
    return LoadReport(path, problems, errors)


def load_problems(path: str | os.PathLike, *, lenient: bool = False) -> list[Problem]:
    """Load problems; strict mode raises :class:`DataError` listing every bad line.

    Lenient mode skips bad records; use :func:`load_report` to see what was skipped.
    """
    report = load_report(path)
    if report.errors and not lenient:
        raise DataError(report.errors)
    return require_problems(report)


def require_problems(report: LoadReport) -> list[Problem]:
    """The report's problems, or an error naming the file when it holds none: a run over no question
    would "succeed" (0 problems checked, an empty submission, a model trained on nothing)."""
    if not report.problems:
        why = f"every one of its {len(report.errors)} bad record(s) was skipped" if report.errors else "it is empty"
        raise ValueError(f"{report.path} holds no problems: {why}")
    return report.problems


# ---------------------------------------------------------------- writing


def _in_order(known: dict, key_order: Sequence[str]) -> dict:
    """``known`` with the keys of ``key_order`` first, in that order, then any new ones."""
    order = [k for k in key_order if k in known] + [k for k in known if k not in key_order]
    return {k: known[k] for k in order}


def problem_to_dict(problem: Problem) -> dict:
    qs = []
    for q in problem.questions:
        d = {"question": q.question, "options": q.options}
        if q.answer is not None:
            d["answer"] = q.answer
        d.update(q.extra)
        qs.append(_in_order(d, q.key_order))
    known = {"id": problem.id, "problem": problem.problem, "questions": qs, **problem.extra}
    return _in_order(known, problem.key_order)


def atomic_write_text(path: str | os.PathLike, text: str | bytes) -> None:
    """Write ``text`` (or bytes) to ``path`` so readers see the old file or the new one, never half of one.

    The one atomic writer: submissions, details' run files, configs, reports and their images.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; the result should read like any written file
        with os.fdopen(fd, "wb") as f:
            f.write(text if isinstance(text, bytes) else text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl(path: str | os.PathLike, records: Iterable[Mapping]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def write_problems(problems: Iterable[Problem], path: str | os.PathLike) -> None:
    write_jsonl(path, (problem_to_dict(p) for p in problems))


def write_submission(
    problems: Sequence[Problem],
    answers: Mapping[tuple[str, int], str],
    path: str | os.PathLike,
    *,
    fill: str | None = None,
) -> None:
    """Write ``problems`` in input order with ``answers[(id, question_index)]`` on every question.

    Refuses when a question has no answer unless ``fill`` names the letter to use instead.
    """
    missing = [(p.id, i) for p in problems for i in range(len(p.questions)) if (p.id, i) not in answers]
    if missing and fill is None:
        shown = ", ".join(f"{pid}#{i}" for pid, i in missing[:10])
        raise ValueError(f"{len(missing)} question(s) have no answer ({shown}{', ...' if len(missing) > 10 else ''}); "
                         "pass fill='X' to fill them")
    out = []
    for p in problems:
        d = problem_to_dict(p)
        for i, q in enumerate(d["questions"]):
            letter = answers.get((p.id, i), fill)
            # A single letter: a bare `in` would also accept "" and "AB" as substrings of "ABCD".
            if not (isinstance(letter, str) and len(letter) == 1 and letter in LETTERS[: len(q["options"])]):
                raise ValueError(f"answer {letter!r} for {p.id}#{i} is outside its options")
            q["answer"] = letter
        out.append(d)
    write_jsonl(path, out)


# ---------------------------------------------------------------- split and describe


def _text_key(problem: Problem) -> str:
    return hashlib.sha256(" ".join(problem.problem.split()).encode()).hexdigest()


def split(problems: Sequence[Problem], val_fraction: float, seed: int = 0) -> tuple[list[Problem], list[Problem]]:
    """Split by problem, deterministically; problems with the same text always land on the same side.

    Groups of identical texts are shuffled with ``seed`` and the validation side takes groups until
    it holds ``val_fraction`` of the questions. Both sides keep the input order.
    """
    if not 0.0 <= val_fraction <= 1.0:
        raise ValueError(f"val_fraction must be within [0, 1], got {val_fraction}")
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(problems):
        groups.setdefault(_text_key(p), []).append(i)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    total = sum(len(p.questions) for p in problems)
    target = val_fraction * total
    val_idx: set[int] = set()
    taken = 0
    for k in keys:
        if taken >= target:
            break
        size = sum(len(problems[i].questions) for i in groups[k])
        # Take a group if doing so lands closer to the target than stopping here.
        if abs(taken + size - target) <= abs(taken - target) or not val_idx and val_fraction > 0:
            val_idx.update(groups[k])
            taken += size
    train = [p for i, p in enumerate(problems) if i not in val_idx]
    val = [p for i, p in enumerate(problems) if i in val_idx]
    return train, val


def _percentiles(values: Sequence[int]) -> dict[str, float]:
    if not values:
        return {}
    if len(values) == 1:
        return {"min": values[0], "p50": values[0], "p90": values[0], "max": values[0]}
    q = statistics.quantiles(values, n=20, method="inclusive")
    return {"min": min(values), "p50": statistics.median(values), "p90": q[17], "max": max(values)}


def describe(problems: Sequence[Problem]) -> dict:
    """Counts that tell what a dataset holds: sizes, option counts, answer letters, lengths, repeats."""
    questions = [q for p in problems for q in p.questions]
    texts = Counter(_text_key(p) for p in problems)
    answered = [q.answer for q in questions if q.answer]
    return {
        "problems": len(problems),
        "questions": len(questions),
        "answered": len(answered),
        "questions_per_problem": dict(sorted(Counter(len(p.questions) for p in problems).items())),
        "options_per_question": dict(sorted(Counter(len(q.options) for q in questions).items())),
        "answer_letters": dict(sorted(Counter(answered).items())),
        "problem_chars": _percentiles([len(p.problem) for p in problems]),
        "duplicate_problems": sum(n - 1 for n in texts.values() if n > 1),
    }


def details_path(submission: str | os.PathLike) -> Path:
    """Where the per-question details of a submission live: ``out.jsonl`` -> ``out.details.jsonl``."""
    return Path(submission).with_suffix(".details.jsonl")
