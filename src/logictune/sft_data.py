"""SFT examples from problems and (optional) rationales, in trl's conversational prompt/completion format.

One example per (problem, question, rationale): the prompt is :func:`prompts.build_messages`, the very
messages ``predict`` renders, and the completion is :func:`prompts.completion_text` — the rationale, then
``答案是：X`` on its own last line (the answer line alone when there is no rationale). A program rationale
(``"method": "program"``) is trained under the program prompt predict ``--method program`` sends (its
``"style"``, default letter), and its completion is the one fenced block, as predict stops there. Files may
mix both. Everything here is pure: no model, no trainer; the tokenizer is only used to measure lengths.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from . import prompts
from .data import Problem, iter_jsonl
from .programs import extract_code

# A rationale that already ends with its own answer line ("答案是：B", "答案是: B") — the line is dropped and
# the letter checked, so the completion never says the answer twice.
_TRAILING_ANSWER = re.compile(r"\n?[ \t]*\**答案(?:是|为)?\s*[:：]\s*\**\s*([A-Za-z])\s*\**[。.]?\s*$")

# Why a question did not become an example. Keys of ``DataReport.dropped``.
DROP_REASONS = {
    "no_answer": "the question has no answer label and no rationale gives one",
    "no_rationale": "rationales were given but none for this question (missing_rationale: drop)",
    "empty_rationale": "the rationale is blank",
    "rationale_disagrees": "the rationale's answer differs from the question's label",
    "too_long": "prompt + completion is longer than max_length tokens",
    "no_code": "a program rationale holds no code block",
}
METHODS = ("cot", "program")  # what a rationale is: a chain (answer line last) or a program


class RationaleError(ValueError):
    """A rationale file that is malformed or does not belong to the data it is used with."""


@dataclass
class Rationale:
    id: str
    question_index: int
    rationale: str
    answer: str | None = None
    source: str | None = None
    method: str = "cot"
    style: str = "letter"  # program rationales: the program prompt they answer (prompts.PROGRAM_STYLES)


@dataclass
class DataReport:
    """What became of the input: counts of examples made and of questions dropped, by reason."""

    problems: int = 0
    questions: int = 0
    examples: int = 0
    with_rationale: int = 0
    answer_only: int = 0
    dropped: Counter = field(default_factory=Counter)
    ignored_rationales: int = 0  # rationales for ids not in this data (e.g. the other side of a split)
    max_length: int | None = None
    max_length_auto: bool = False  # max_length was measured from the data (max_length: auto)
    tokens: dict = field(default_factory=dict)  # min/mean/max of kept examples, when measured

    def lines(self) -> list[str]:
        out = [f"{self.problems} problems, {self.questions} questions -> {self.examples} examples "
               f"({self.with_rationale} with a rationale, {self.answer_only} answer-only)"]
        for reason, n in sorted(self.dropped.items(), key=lambda kv: -kv[1]):
            if reason != "too_long":
                out.append(f"  dropped {n}: {reason} ({DROP_REASONS.get(reason, reason)})")
        if self.max_length:  # always said, 0 included: a long example dropped is a hard problem lost
            how = " (auto: the longest example, rounded up)" if self.max_length_auto else ""
            out.append(f"  dropped {self.dropped.get('too_long', 0)}: too_long (prompt + completion is longer "
                       f"than max_length={self.max_length} tokens{how})")
        if self.ignored_rationales:
            out.append(f"  ignored {self.ignored_rationales} rationale(s) for ids not in this data")
        if self.tokens:
            out.append("  tokens per example: " + ", ".join(f"{k} {v}" for k, v in self.tokens.items()))
        return out

    def to_dict(self) -> dict:
        return {"problems": self.problems, "questions": self.questions, "examples": self.examples,
                "with_rationale": self.with_rationale, "answer_only": self.answer_only,
                "dropped": dict(self.dropped), "ignored_rationales": self.ignored_rationales,
                "max_length": self.max_length, "max_length_auto": self.max_length_auto, "tokens": self.tokens}


# ---------------------------------------------------------------- rationales


def load_rationales(path: str | os.PathLike) -> list[Rationale]:
    """Read ``{"id", "question_index", "rationale", "answer"?, "source"?}`` lines; reports every bad line."""
    out: list[Rationale] = []
    errors: list[str] = []
    for lineno, obj, bad_json in iter_jsonl(path):
        if bad_json:
            errors.append(f"{path}:{lineno}: {bad_json}")
            continue
        if not isinstance(obj, dict):
            errors.append(f"{path}:{lineno}: must be a JSON object")
            continue
        missing = [k for k in ("id", "question_index", "rationale") if k not in obj]
        if missing:
            errors.append(f"{path}:{lineno}: missing field(s) {', '.join(missing)}")
            continue
        qi = obj["question_index"]
        if not isinstance(qi, int) or isinstance(qi, bool) or qi < 0:
            errors.append(f"{path}:{lineno}: question_index must be a non-negative integer, got {qi!r}")
            continue
        if not isinstance(obj["rationale"], str):
            errors.append(f"{path}:{lineno}: rationale must be a string")
            continue
        answer = obj.get("answer")
        if answer is not None and (not isinstance(answer, str) or len(answer.strip()) != 1):
            errors.append(f"{path}:{lineno}: answer must be a single letter, got {answer!r}")
            continue
        method, style = obj.get("method") or "cot", obj.get("style") or "letter"
        if method not in METHODS:
            errors.append(f"{path}:{lineno}: method must be one of {', '.join(METHODS)}, got {method!r}")
            continue
        if style not in prompts.PROGRAM_STYLES:
            errors.append(f"{path}:{lineno}: style must be one of {', '.join(prompts.PROGRAM_STYLES)}, got {style!r}")
            continue
        out.append(Rationale(str(obj["id"]), qi, obj["rationale"],
                             answer.strip().upper() if answer else None, obj.get("source"), method, style))
    if errors:
        shown = "\n  ".join(errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise RationaleError(f"{len(errors)} bad line(s) in rationale file {path}:\n  {shown}{more}")
    return out


def index_rationales(problems: Sequence[Problem], rationales: Sequence[Rationale], source: str = "rationales",
                     *, check_match: bool = True) -> tuple[dict[tuple[str, int], list[Rationale]], int]:
    """Group rationales by (id, question_index) and check they belong to ``problems``.

    Rationales for ids the data does not hold are counted and ignored (a rationale file made for the whole
    training set serves either side of a split). It is an error when none match at all, or when a known id
    names a question the problem does not have: both mean the file was made for other data.
    """
    by_id = {p.id: p for p in problems}
    grouped: dict[tuple[str, int], list[Rationale]] = {}
    unknown: list[Rationale] = []
    out_of_range: list[str] = []
    for r in rationales:
        p = by_id.get(r.id)
        if p is None:
            unknown.append(r)
        elif r.question_index >= len(p.questions):
            out_of_range.append(f"{r.id}#{r.question_index} (problem has {len(p.questions)} question(s))")
        else:
            grouped.setdefault((r.id, r.question_index), []).append(r)
    if out_of_range and check_match:
        raise RationaleError(
            f"{len(out_of_range)} rationale(s) in {source} point at questions the data does not have: "
            f"{', '.join(out_of_range[:5])}{', ...' if len(out_of_range) > 5 else ''}; "
            "was the rationale file made for another version of this data?")
    if rationales and not grouped and check_match:
        theirs = ", ".join(repr(r.id) for r in rationales[:3])
        ours = ", ".join(repr(p.id) for p in problems[:3])
        raise RationaleError(
            f"none of the {len(rationales)} rationale(s) in {source} match a problem of the data "
            f"(rationale ids like {theirs}; data ids like {ours}); is it the rationale file for this data?")
    return grouped, len(unknown)


def split_answer_line(rationale: str) -> tuple[str, str | None]:
    """(rationale without a trailing ``答案是：X`` line, X or None)."""
    m = _TRAILING_ANSWER.search(rationale.rstrip())
    if not m:
        return rationale.strip(), None
    return rationale.rstrip()[: m.start()].strip(), m.group(1).upper()


# ---------------------------------------------------------------- examples


# Few-shot: (problem, question index) -> the solved questions its prompt shows first (retrieval.ShotPool).
ShotsFor = Callable[[Problem, int], Sequence[prompts.Shot]]


def make_example(problem: Problem, index: int, letter: str, rationale: str | None, *,
                 conversational: bool = True, tokenizer=None, shots: Sequence[prompts.Shot] = (),
                 program_style: str | None = None) -> dict:
    """One trl prompt/completion row.

    Conversational (the model has a chat template): ``prompt`` is the message list that predict renders and
    ``completion`` one assistant message; trl renders both with the template, which closes the turn with
    the end-of-turn token. Without a template, both are plain strings: the prompt as
    :func:`prompts.render_prompt` writes it, and trl appends EOS to the completion. With ``program_style``,
    ``rationale`` is a program's code: the prompt is the program prompt, the completion its fenced block.
    """
    question = problem.questions[index]
    if program_style:
        completion = prompts.program_completion(rationale or "")
        messages = prompts.build_program_messages(problem, question, program_style)
    else:
        completion = prompts.completion_text(letter, rationale)
        messages = prompts.build_messages(problem, question, shots=shots)
    if conversational:
        row = {"prompt": messages, "completion": [{"role": "assistant", "content": completion}]}
    else:
        row = {"prompt": prompts.render_messages(tokenizer, messages), "completion": completion}
    row.update(id=problem.id, question_index=index, answer=letter, method="program" if program_style else "cot")
    return row


def build_examples(problems: Sequence[Problem], rationales: Sequence[Rationale] | None = None, *,
                   missing_rationale: str = "drop", conversational: bool = True, tokenizer=None,
                   rationale_source: str = "rationales", check_match: bool = True,
                   shots_for: ShotsFor | None = None) -> tuple[list[dict], DataReport]:
    """Examples for every question, and a report of what was dropped and why (no length filter here).

    With rationales, each rationale of a question is one example (several per question are kept: STaR
    and multi-sample distillation write more than one). A question without one is dropped, or trained
    answer-only when ``missing_rationale == "answer_only"``. Without rationales every labelled question
    is one answer-only example. ``check_match=False`` skips the checks that the rationales belong to
    ``problems`` (for one side of a split, once the whole data has been checked). ``shots_for`` gives each
    question's few-shot examples, the same for all of its rationales.
    """
    if missing_rationale not in ("drop", "answer_only"):
        raise ValueError(f"missing_rationale must be 'drop' or 'answer_only', got {missing_rationale!r}")
    report = DataReport(problems=len(problems), questions=sum(len(p.questions) for p in problems))
    grouped: dict[tuple[str, int], list[Rationale]] = {}
    if rationales is not None:
        grouped, report.ignored_rationales = index_rationales(problems, rationales, rationale_source,
                                                              check_match=check_match)
    examples: list[dict] = []
    for p in problems:
        for i, q in enumerate(p.questions):
            rats = grouped.get((p.id, i), [])
            shots = shots_for(p, i) if shots_for else ()
            if rationales is None or (not rats and missing_rationale == "answer_only"):
                if q.answer is None:
                    report.dropped["no_answer"] += 1
                    continue
                examples.append(make_example(p, i, q.answer, None, conversational=conversational,
                                             tokenizer=tokenizer, shots=shots))
                report.answer_only += 1
                continue
            if not rats:
                report.dropped["no_rationale"] += 1
                continue
            for r in rats:
                if r.method == "program":  # verified by execution when it was made; here: its block and key
                    code, letter = extract_code(r.rationale), q.answer or r.answer
                    if code is None:
                        report.dropped["no_code"] += 1
                    elif letter is None:
                        report.dropped["no_answer"] += 1
                    elif (r.answer and r.answer != letter) or letter not in q.letters:
                        report.dropped["rationale_disagrees"] += 1
                    else:
                        examples.append(make_example(p, i, letter, code, conversational=conversational,
                                                     tokenizer=tokenizer, program_style=r.style))
                        report.with_rationale += 1
                    continue
                text, stated = split_answer_line(r.rationale)
                claimed = {x for x in (r.answer, stated) if x}
                letter = q.answer or (next(iter(claimed)) if len(claimed) == 1 else None)
                if not text:
                    report.dropped["empty_rationale"] += 1
                elif letter is None:
                    report.dropped["rationale_disagrees" if claimed else "no_answer"] += 1
                elif claimed - {letter} or letter not in q.letters:
                    report.dropped["rationale_disagrees"] += 1
                else:
                    examples.append(make_example(p, i, letter, text, conversational=conversational,
                                                 tokenizer=tokenizer, shots=shots))
                    report.with_rationale += 1
    report.examples = len(examples)
    return examples, report


def example_text(example: dict, tokenizer) -> tuple[str, str]:
    """(prompt, prompt + completion) as the text trl tokenizes."""
    if isinstance(example["prompt"], list):
        prompt = tokenizer.apply_chat_template(example["prompt"], tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(example["prompt"] + example["completion"], tokenize=False)
        return prompt, full
    return example["prompt"], example["prompt"] + example["completion"] + (tokenizer.eos_token or "")


def count_tokens(examples: Sequence[dict], tokenizer) -> list[tuple[int, int]]:
    """(prompt tokens, total tokens) per example, tokenized the way trl will."""
    out = []
    for ex in examples:
        prompt, full = example_text(ex, tokenizer)
        n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        n_full = len(tokenizer(full, add_special_tokens=False)["input_ids"])
        out.append((n_prompt, n_full))
    return out


def auto_max_length(sizes: Sequence[int], multiple: int = 64) -> int:
    """The longest example, rounded up to ``multiple`` tokens (tidy row lengths for packing)."""
    longest = max(sizes, default=1)
    return -(-longest // multiple) * multiple


def filter_by_length(examples: Sequence[dict], tokenizer, max_length: int | None,
                     report: DataReport | None = None, *, counts: Sequence[tuple[int, int]] | None = None,
                     auto: bool = False) -> list[dict]:
    """Drop examples longer than ``max_length`` tokens (counted in ``report``), rather than truncate them.

    Truncation would cut off the answer line and teach the model to stop before answering. Kept examples
    get ``n_prompt_tokens`` and ``n_tokens`` fields. ``counts``: :func:`count_tokens` of ``examples``,
    when already measured; ``auto``: ``max_length`` was sized to the data (said in the report).
    """
    kept = []
    dropped = 0
    counts = count_tokens(examples, tokenizer) if counts is None else counts
    for ex, (n_prompt, n_full) in zip(examples, counts, strict=True):
        if max_length is not None and n_full > max_length:
            dropped += 1
            continue
        kept.append({**ex, "n_prompt_tokens": n_prompt, "n_tokens": n_full})
    if report is not None:
        report.max_length = max_length
        report.max_length_auto = auto
        if dropped:
            report.dropped["too_long"] += dropped
        report.examples = len(kept)
        report.with_rationale = sum(1 for ex in kept if _has_rationale(ex))
        report.answer_only = len(kept) - report.with_rationale
        if kept:
            sizes = [ex["n_tokens"] for ex in kept]
            report.tokens = {"min": min(sizes), "mean": round(sum(sizes) / len(sizes)), "max": max(sizes)}
    return kept


def _has_rationale(example: dict) -> bool:
    completion = example["completion"]
    text = completion[0]["content"] if isinstance(completion, list) else completion
    return text.strip() != prompts.answer_line(example["answer"])
