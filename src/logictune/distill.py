"""Rationales for training: from a teacher shown the answer, or from the model itself (STaR).

Teacher: every question with a key is put to the teacher with :func:`prompts.build_teacher_messages`
(problem, question, options and the answer), ``samples`` chains each. A chain is kept only when the
answer read from it (:func:`voting.extract_answer`) is the key; a rejected one is asked again under a new
sample index, ``max_reasks`` times at most per question, after which the question is listed as failed.
Served teachers (``engines/openai.py``) commit every reply to a SQLite cache before it is used, so a rerun
or a resume never pays twice; a local teacher is our own engine.

Self (STaR, Zelikman et al. 2022): predict's chains and adaptive rounds, *without* the key; chains whose
answer matches the key are kept (``source: "self"``). With ``rationalize``, a question still unsolved gets
one hinted attempt (the teacher prompt, key shown): kept as ``source: "rationalized"`` when it reaches it.

Programs (``method="program"``): the same two ways, with programs and the sandbox in place of chains. The
teacher (and a rationalization) gets the program prompt with the key shown; the model itself, predict's
program prompt without it. A program is kept only when the sandbox ran it, its output matched the key, and
it is not a constant guess (``programs.judge``); kept rows are its fenced block, with ``"method":
"program"`` and its ``"style"``, which ``train --rationales`` trains under predict's program prompt.

Output: ``{"id", "question_index", "rationale", "answer", "source"}`` lines (what ``sft_data`` reads), the
rationale without its answer line. Questions are appended as they settle, teacher ones in input order, each
question's lines in one flushed write; failed questions go to ``OUT.failed.jsonl``. Rerunning the same
command resumes: the last question written is redone (it may have been cut short), the rest are skipped,
except questions whose requests gave up after their retries: those are asked again (and land at the end).
OUT is written by one run at a time (predict's lock), and a file that OUT.run.json does not describe
(another command's, say synth's rationales) is refused rather than resumed into.
A question whose request the server refused (a 4xx for it alone: too long, a content filter) is listed
with the server's reason (``"reason": "refused", "detail"``) and not asked again: the run goes on.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import data, predict, programs, prompts, runfiles, sandbox, sft_data, voting
from .engines import Completion, Engine, SamplingParams

METHODS = ("cot", "program")


@dataclass
class DistillConfig:
    samples: int = 1  # verified rationales wanted per question (self: the vote budget)
    max_reasks: int = 2  # teacher: further chains per question after rejected ones
    max_new_tokens: int = 1024
    temperature: float = 0.7
    top_p: float = 0.95
    seed: int = 0
    # A teacher samples as its API does unless told: 0 sends no top_k (a hosted API may refuse it, or change
    # its sampling); STaR's own chains use predict's sampling, top_k included.
    top_k: int = 0
    expected_completion_tokens: int = 300  # for the cost estimate: a short derivation
    # self (STaR) only
    adaptive: bool = True
    rationalize: bool = False
    method: str = "cot"  # "program": programs verified by running them
    program_style: str = "letter"
    program_timeout: float = 5.0

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.samples < 1:
            raise ValueError("samples must be >= 1")
        if self.max_reasks < 0:
            raise ValueError("max_reasks must be >= 0")

    def sampling(self) -> SamplingParams:
        # No stop for chains: a teacher's answer line is its last, and what it writes must reach it whole.
        # A program ends at its closing fence.
        stop = ({"stop_regex": prompts.PROGRAM_STOP_REGEX, "stop": list(prompts.PROGRAM_STOP_STRINGS)}
                if self.method == "program" else {})
        return SamplingParams(max_new_tokens=self.max_new_tokens, temperature=self.temperature, top_p=self.top_p,
                              top_k=self.top_k, seed=self.seed, **stop)

    def runner(self) -> programs.ProgramRunner | None:
        if self.method != "program":
            return None
        return programs.ProgramRunner(sandbox.Limits(timeout=self.program_timeout),
                                      letter_first=self.program_style == "letter")


@dataclass
class Summary:
    questions: int = 0  # with a key, in the data
    skipped_no_key: int = 0
    resumed: int = 0  # settled by an earlier run
    done: int = 0  # with at least one verified rationale
    short: int = 0  # done, but with fewer than `samples`
    rationales: int = 0  # lines written
    rejected: int = 0  # chains whose answer was not the key (or that had no reasoning)
    failed: list[dict] = field(default_factory=list)  # {"id", "question_index", "reason"}
    by_source: dict[str, int] = field(default_factory=dict)
    out: str = ""
    failed_file: str = ""

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# ---------------------------------------------------------------- chains -> rationales

# "答案是：B", "答案为 **B**", "答案：(B)" inside a line, where sft_data's trailing-line rule does not reach.
_ANSWER_STATEMENT = re.compile(r"答案\s*[是为]?\s*\**\s*[:：]\s*\**\s*[（(【\[]?\s*[A-Z](?![A-Za-z])")


def clean_rationale(text: str) -> str:
    """The chain without its final answer statement: the answer line is added back at training time."""
    body, stated = sft_data.split_answer_line(text)
    if stated is not None:
        return body
    starts = [m.start() for m in _ANSWER_STATEMENT.finditer(text)]
    if starts:
        return text[: starts[-1]].strip()
    lines = text.rstrip().splitlines()
    if lines and "答案" in lines[-1]:  # an answer line in a shape neither regex knows ("答案是：** **C**")
        lines.pop()
    return "\n".join(lines).strip()


def verified(question: data.Question, texts: Sequence[str]) -> tuple[list[str], int]:
    """(distinct cleaned rationales that reach the key, number of chains rejected)."""
    kept: list[str] = []
    rejected = 0
    for text in texts:
        body = clean_rationale(text)
        if not body or voting.extract_answer(text, len(question.options), question.options) != question.answer:
            rejected += 1
        elif body not in kept:
            kept.append(body)
    return kept, rejected


def verified_programs(question: data.Question, chains: Sequence[Completion], runner: programs.ProgramRunner
                      ) -> tuple[list[str], int]:
    """(distinct programs, as fenced blocks, whose run printed the key and is no guess; number rejected)."""
    return kept_programs(question, runner.samples([], chains, question.options))


def kept_programs(question: data.Question, samples: Sequence[voting.Sample]) -> tuple[list[str], int]:
    kept: list[str] = []
    rejected = 0
    for s in samples:
        code = programs.extract_code(s.text)
        if getattr(s, "status", None) != "ok" or s.matched != question.answer or not code:
            rejected += 1
        elif (block := prompts.program_completion(code)) not in kept:  # a repeat is neither kept nor rejected
            kept.append(block)
    return kept, rejected


# ---------------------------------------------------------------- output and resume


def failed_path(out: str | os.PathLike) -> Path:
    return Path(out).with_suffix(".failed.jsonl")


def default_cache_path(out: str | os.PathLike) -> Path:
    return Path(out).with_suffix(".cache.sqlite")


def _drop_last_group(path: Path, rows: list[dict]) -> list[dict]:
    """Truncate the last question's lines away: a kill may have cut its write short, so it is redone."""
    if not rows:
        return rows
    last = (rows[-1]["id"], rows[-1]["question_index"])
    keep = len(rows)
    while keep and (rows[keep - 1]["id"], rows[keep - 1]["question_index"]) == last:
        keep -= 1
    with open(path, "rb") as f:
        lines = f.readlines()
    with open(path, "r+b") as f:
        f.truncate(sum(len(line) for line in lines[:keep]))
    return rows[:keep]


class Writer:
    """Appends each settled question's lines in one flushed, fsynced write; in input order when ``ordered``.

    Ordered: a question that settles early waits in memory for those before it, so the file is always
    a prefix of the final output and a resumed run writes the same file as an uninterrupted one.
    """

    def __init__(self, out: str | os.PathLike, *, ordered: bool):
        self.out, self.failed_file, self.ordered = Path(out), failed_path(out), ordered
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.touch()  # a run that keeps nothing still leaves the (empty) file that train --rationales reads
        self._pending: dict[int, tuple[list[dict], dict | None]] = {}
        self._next = 0

    def resume(self) -> tuple[set[tuple[str, int]], int]:
        """(questions settled by earlier runs, how many lines they wrote). Transient failures are redone."""
        rows = _drop_last_group(self.out, runfiles.read_details(self.out))
        done = {(r["id"], r["question_index"]) for r in rows}
        failed = runfiles.read_details(self.failed_file)
        final = [r for r in failed if r.get("reason") != "error"]
        if len(final) < len(failed):  # requests that gave up are asked again now: unlist them
            data.atomic_write_text(self.failed_file, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in final))
        done |= {(r["id"], r["question_index"]) for r in final}
        return done, len(rows)

    def settle(self, pos: int, rows: list[dict], failure: dict | None) -> None:
        if not self.ordered:
            return self._write(rows, failure)
        self._pending[pos] = (rows, failure)
        while self._next in self._pending:
            self._write(*self._pending.pop(self._next))
            self._next += 1
        return None

    def _write(self, rows: list[dict], failure: dict | None) -> None:
        for path, lines in ((self.out, rows), (self.failed_file, [failure] if failure else [])):
            if lines:
                with open(path, "a", encoding="utf-8") as f:
                    f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines))
                    f.flush()
                    os.fsync(f.fileno())


def keyed_questions(problems: Sequence[data.Problem]) -> tuple[list[tuple[data.Problem, int]], int]:
    """(every (problem, question index) with a key, number without one)."""
    tasks = [(p, i) for p in problems for i, q in enumerate(p.questions) if q.answer]
    return tasks, sum(len(p.questions) for p in problems) - len(tasks)


def _row(p: data.Problem, i: int, text: str, source: str, cfg: DistillConfig) -> dict:
    row = {"id": p.id, "question_index": i, "rationale": text, "answer": p.questions[i].answer, "source": source}
    return {**row, "method": "program", "style": cfg.program_style} if cfg.method == "program" else row


def _start(problems, out, cfg, run_info, overwrite, ordered) -> tuple[Summary, Writer, list]:
    tasks, no_key = keyed_questions(problems)
    settings = {k: getattr(cfg, k) for k in ("samples", "max_reasks", "max_new_tokens", "temperature", "top_p",
                                            "seed", "adaptive", "rationalize")}
    if cfg.method == "program":  # chains' runs keep their old run record
        settings |= {k: getattr(cfg, k) for k in ("method", "program_style", "program_timeout")}
    # The cache is kept on --overwrite: only the output starts over.
    runfiles.check_run(runfiles.run_path(out), [Path(out), failed_path(out)], {**run_info, **settings}, overwrite)
    writer = Writer(out, ordered=ordered)
    done, _ = writer.resume()
    todo = [(p, i) for p, i in tasks if (p.id, i) not in done]
    summary = Summary(questions=len(tasks), skipped_no_key=no_key, resumed=len(tasks) - len(todo), out=str(out),
                      failed_file=str(failed_path(out)))
    return summary, writer, todo


def _settle(summary: Summary, writer: Writer, pos: int, p: data.Problem, i: int, kept: list[str], source: str,
            reason: str | None, cfg: DistillConfig, want: int, on_settled: Callable[[Summary], None] | None,
            detail: str | None = None) -> None:
    rows = [_row(p, i, text, source, cfg) for text in kept]
    failure = None if rows else {"id": p.id, "question_index": i, "reason": reason or "rejected",
                                 **({"detail": detail} if detail else {})}
    if rows:
        summary.done += 1
        summary.short += len(rows) < want
        summary.rationales += len(rows)
        summary.by_source[source] = summary.by_source.get(source, 0) + len(rows)
    else:
        summary.failed.append(failure)
    writer.settle(pos, rows, failure)
    if on_settled:
        on_settled(summary)


# ---------------------------------------------------------------- teacher

_NO_REPLY = ("error", "refused")  # finish reasons of served requests that got no reply


def parse_teacher(spec: str) -> tuple[str, str]:
    """``openai:MODEL`` or ``local:SPEC`` -> (kind, name)."""
    kind, sep, name = spec.partition(":")
    if not sep or kind not in ("openai", "local") or not name:
        raise ValueError(f"--teacher must be openai:MODEL or local:SPEC (a registry name, directory or .gguf), "
                         f"got {spec!r}")
    return kind, name


def distill(problems: Sequence[data.Problem], engine: Engine, out: str | os.PathLike, cfg: DistillConfig, *,
            source: str, tokenizer=None, run_info: dict | None = None, overwrite: bool = False,
            on_settled: Callable[[Summary], None] | None = None) -> Summary:
    """Teacher rationales for every keyed question of ``problems``, verified against the key.

    ``engine`` takes chat messages (the openai engine) or, given ``tokenizer``, the prompt rendered with
    its chat template (a local engine). ``source`` names the teacher in the output lines.
    """
    return _locked(out, cfg, lambda runner: _distill(problems, engine, out, cfg, source, tokenizer, run_info,
                                                      overwrite, on_settled, runner))


def _locked(out, cfg: DistillConfig, run: Callable[[programs.ProgramRunner | None], Summary]) -> Summary:
    """``run`` holding predict's lock on ``out`` (two runs appending to one file would interleave and resume
    wrongly), with the sandbox's runner for programs, closed after."""
    runner = cfg.runner()
    try:
        with runfiles.lock_output(out):
            return run(runner)
    finally:
        if runner:
            runner.close()


def _check(question: data.Question, chains: Sequence[Completion], runner: programs.ProgramRunner | None
           ) -> tuple[list[str], int]:
    """Verified rationales (chains reaching the key, or programs printing it) and how many were rejected."""
    return verified_programs(question, chains, runner) if runner else verified(question, [c.text for c in chains])


def _distill(problems, engine, out, cfg, source, tokenizer, run_info, overwrite, on_settled, runner) -> Summary:
    summary, writer, todo = _start(problems, out, cfg, run_info or {}, overwrite, ordered=True)
    if not todo:
        return summary
    budget = cfg.samples + cfg.max_reasks

    def prompt_for(p: data.Problem, i: int):
        messages = prompts.teacher_messages(p, p.questions[i], cfg.method, cfg.program_style)
        return prompts.render_messages(tokenizer, messages) if tokenizer is not None else messages

    def more(k: int, chains: list[Completion]) -> int:
        if any(c.finish_reason in _NO_REPLY for c in chains):
            # gave up after its retries: ask again on the next run, not now; refused: asking again is refused
            return 0
        p, i = todo[k]
        kept, _ = _check(p.questions[i], chains, runner)
        return min(cfg.samples - len(kept), budget - len(chains)) if len(kept) < cfg.samples else 0

    def on_done(k: int, chains: list[Completion]) -> None:
        p, i = todo[k]
        kept, rejected = _check(p.questions[i], [c for c in chains if c.finish_reason not in _NO_REPLY], runner)
        summary.rejected += rejected
        # A refusal is final (the same request is refused again; --overwrite asks anew), a give-up is redone.
        failed = [c for c in chains if c.finish_reason == "refused"] or [c for c in chains if c.finish_reason == "error"]
        reason, detail = (failed[0].finish_reason, failed[0].error) if failed and not kept else ("rejected", None)
        _settle(summary, writer, k, p, i, kept, source, reason, cfg, cfg.samples, on_settled, detail)

    engine.generate([prompt_for(p, i) for p, i in todo], cfg.samples, cfg.sampling(), more=more, on_done=on_done)
    return summary


# ---------------------------------------------------------------- self (STaR)


def distill_self(problems: Sequence[data.Problem], engine: Engine, tokenizer, out: str | os.PathLike,
                 cfg: DistillConfig, *, run_info: dict | None = None, overwrite: bool = False,
                 on_settled: Callable[[Summary], None] | None = None) -> Summary:
    """STaR: the model answers without the key (predict's chains and adaptive rounds, ``samples`` votes at
    most); chains reaching the key are kept. ``cfg.rationalize``: one hinted attempt for the rest."""
    return _locked(out, cfg, lambda runner: _distill_self(problems, engine, tokenizer, out, cfg, run_info,
                                                           overwrite, on_settled, runner))


def _distill_self(problems, engine, tokenizer, out, cfg, run_info, overwrite, on_settled, runner) -> Summary:
    summary, writer, todo = _start(problems, out, cfg, run_info or {}, overwrite, ordered=False)
    if not todo:
        return summary
    pcfg = predict.PredictConfig(method=cfg.method, votes=cfg.samples, adaptive=cfg.adaptive,
                                 max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature, top_p=cfg.top_p,
                                 seed=cfg.seed, program_style=cfg.program_style, program_timeout=cfg.program_timeout)
    states = [predict.QuestionState(p, i) for p, i in todo]
    position = {id(s): k for k, s in enumerate(states)}
    unsolved: list[int] = []

    def settled(state: predict.QuestionState) -> None:
        k = position[id(state)]
        kept, rejected = (kept_programs(state.question, state.samples) if runner
                          else verified(state.question, [s.text for s in state.samples]))
        summary.rejected += rejected
        if not kept and cfg.rationalize:
            unsolved.append(k)  # hinted below, once sampling is over
            return
        _settle(summary, writer, k, state.problem, state.index, kept, "self", "unsolved", cfg, 1, on_settled)

    predict.sample_chains(states, engine, tokenizer, pcfg, settled, runner)
    if unsolved:
        hinted = [prompts.render_messages(tokenizer, prompts.teacher_messages(states[k].problem, states[k].question,
                                                                        cfg.method, cfg.program_style))
                  for k in unsolved]

        def hinted_done(j: int, chains: list[Completion]) -> None:
            s = states[unsolved[j]]
            kept, rejected = _check(s.question, chains, runner)
            summary.rejected += rejected
            _settle(summary, writer, unsolved[j], s.problem, s.index, kept, "rationalized", "unsolved", cfg, 1,
                    on_settled)

        engine.generate(hinted, 1, cfg.sampling(), on_done=hinted_done)
    return summary
