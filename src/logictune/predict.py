"""Answer every question of a dataset: sample reasoning chains in rounds, vote, write a submission.

Top to bottom: settings -> resume state -> for each chunk of problems (cot: rounds of sampling until
each question is decided; direct: one scoring pass) -> details appended and flushed per chunk ->
the submission written atomically at the end. Rerunning the same command resumes where it stopped.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import data, prompts, voting
from .engines import Engine, SamplingParams


@dataclass
class PredictConfig:
    method: str = "cot"  # "cot": sampled chains + vote; "direct": score the option letters, no chain
    votes: int = 5  # vote budget: the most chains sampled per question
    adaptive: bool = True  # stop sampling a question once more chains could not change its answer
    first_round: int = 2  # chains per question in the first adaptive round
    # Posterior stopping rule (voting.is_decided); None: only the sure rule. 0.85 stops on two agreeing
    # chains; replayed on the validation split (bench/adaptive_replay.py) it cost no accuracy.
    confidence: float | None = 0.85
    max_new_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 0.9
    top_k: int = 64
    seed: int = 0
    chunk_questions: int = 32  # questions answered between two writes of the details file

    def __post_init__(self):
        if self.method not in ("cot", "direct"):
            raise ValueError(f"method must be 'cot' or 'direct', got {self.method!r}")
        if self.votes < 1:
            raise ValueError("votes must be >= 1")


# Settings that change the answers: a resumed run must use the same ones.
_RUN_KEYS = ("method", "votes", "adaptive", "first_round", "confidence", "max_new_tokens", "temperature",
             "top_p", "top_k", "seed")


@dataclass
class QuestionState:
    problem: data.Problem
    index: int
    samples: list[voting.Sample] = field(default_factory=list)

    @property
    def question(self) -> data.Question:
        return self.problem.questions[self.index]

    @property
    def votes(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for s in self.samples:
            if s.answer:
                counts[s.answer] = counts.get(s.answer, 0) + 1
        return counts


# ---------------------------------------------------------------- resume state


def run_path(out: Path) -> Path:
    return Path(out).with_suffix(".run.json")


def read_details(path: Path) -> list[dict]:
    """Details written so far. A last line cut short by a kill is dropped (and truncated away)."""
    if not path.exists():
        return []
    rows, good_bytes = [], 0
    with open(path, "rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break
            try:
                rows.append(json.loads(raw))
            except json.JSONDecodeError:
                break
            good_bytes += len(raw)
    if good_bytes != path.stat().st_size:
        with open(path, "r+b") as f:
            f.truncate(good_bytes)
    return rows


def _check_run(out: Path, run_info: dict, overwrite: bool) -> None:
    """Refuse to resume details made with other settings; they would mix two experiments."""
    path, details = run_path(out), data.details_path(out)
    if overwrite:
        details.unlink(missing_ok=True)
    elif path.exists() and details.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        changed = [f"{k}: {old.get(k)!r} -> {v!r}" for k, v in run_info.items() if old.get(k) != v]
        if changed:
            raise ValueError(f"{details} was written with other settings ({'; '.join(changed)}); "
                             "rerun with the same ones to resume, or pass --overwrite to start over")
    data.atomic_write_text(path, json.dumps(run_info, ensure_ascii=False, indent=2) + "\n")


# ---------------------------------------------------------------- answering


def _chunks(problems: Sequence[data.Problem], size: int) -> Iterator[list[data.Problem]]:
    chunk: list[data.Problem] = []
    for p in problems:
        chunk.append(p)
        if sum(len(c.questions) for c in chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _sampling(cfg: PredictConfig, round_no: int) -> SamplingParams:
    return SamplingParams(max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature, top_p=cfg.top_p,
                          top_k=cfg.top_k, seed=cfg.seed + 7919 * round_no, stop_regex=prompts.ANSWER_STOP_REGEX)


def sample_rounds(states: list[QuestionState], engine: Engine, tokenizer, cfg: PredictConfig) -> None:
    """Sample chains in rounds until every question is decided or has spent its vote budget."""
    pending = list(states)
    round_no = 0
    while pending:
        if cfg.adaptive:
            sizes = [voting.next_round_size(s.votes, cfg.votes, len(s.samples), first_round=cfg.first_round)
                     for s in pending]
        else:
            sizes = [cfg.votes - len(s.samples) for s in pending]
        # One engine call per round size: chains of one prompt share its prefill.
        for n in sorted(set(sizes)):
            group = [s for s, k in zip(pending, sizes, strict=True) if k == n]
            outs = engine.generate([prompts.render_prompt(tokenizer, s.problem, s.question) for s in group], n,
                                   _sampling(cfg, round_no))
            for s, completions in zip(group, outs, strict=True):
                s.samples.extend(
                    voting.Sample(c.text, voting.extract_answer(c.text, len(s.question.options), s.question.options),
                                  c.logprob, c.tokens)
                    for c in completions
                )
        round_no += 1
        pending = [s for s in pending if len(s.samples) < cfg.votes and not (
            cfg.adaptive and voting.is_decided(s.votes, cfg.votes, len(s.samples), confidence=cfg.confidence))]


def score_options(states: list[QuestionState], engine: Engine, tokenizer) -> list[list[float]]:
    """The model's log-prob of each option letter as the next token after ``答案是：``."""
    return engine.score_next_token(
        [prompts.render_direct_prompt(tokenizer, s.problem, s.question) for s in states],
        [list(s.question.letters) for s in states],
    )


def answer_chunk(problems: list[data.Problem], engine: Engine, tokenizer, cfg: PredictConfig) -> list[dict]:
    """Details records for every question of ``problems``."""
    states = [QuestionState(p, i) for p in problems for i in range(len(p.questions))]
    if cfg.method == "cot":
        sample_rounds(states, engine, tokenizer, cfg)
    results = [voting.vote(s.samples) for s in states]
    # No constant fallback: a question whose chains all failed to answer is decided by option likelihood.
    need_scores = [i for i, r in enumerate(results) if r.answer is None]
    scores = dict(zip(need_scores, score_options([states[i] for i in need_scores], engine, tokenizer),
                      strict=True)) if need_scores else {}
    rows = []
    for i, (s, result) in enumerate(zip(states, results, strict=True)):
        probs = voting.normalise_scores(scores[i]) if i in scores else None
        rows.append({
            "id": s.problem.id,
            "question_index": s.index,
            "method": cfg.method,
            "samples": [asdict(x) for x in s.samples],
            "votes": result.votes,
            "answer": result.answer or voting.pick_by_scores(scores[i]),
            "fallback": cfg.method == "cot" and result.answer is None,
            "option_probs": dict(zip(s.question.letters, probs, strict=True)) if probs else None,
        })
    return rows


def predict(
    problems: Sequence[data.Problem],
    engine: Engine,
    tokenizer,
    out: str | os.PathLike,
    cfg: PredictConfig,
    *,
    run_info: dict | None = None,
    overwrite: bool = False,
    on_chunk: Callable[[int, int], None] | None = None,
) -> dict:
    """Answer ``problems``, appending details as it goes; write the submission at ``out`` at the end.

    Problems already in the details file are skipped, so a killed run resumes where it stopped.
    ``on_chunk(questions, tokens)`` is called after each chunk is written (for progress bars).
    """
    out = Path(out)
    details_file = data.details_path(out)
    _check_run(out, {**(run_info or {}), **{k: getattr(cfg, k) for k in _RUN_KEYS}}, overwrite)
    done = {(r["id"], r["question_index"]) for r in read_details(details_file)}
    todo = [p for p in problems if any((p.id, i) not in done for i in range(len(p.questions)))]
    started, tokens = time.perf_counter(), 0
    details_file.parent.mkdir(parents=True, exist_ok=True)
    with open(details_file, "a", encoding="utf-8") as f:
        for chunk in _chunks(todo, cfg.chunk_questions):
            rows = [r for r in answer_chunk(chunk, engine, tokenizer, cfg) if (r["id"], r["question_index"]) not in done]
            f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
            f.flush()
            os.fsync(f.fileno())
            chunk_tokens = sum(s["tokens"] for r in rows for s in r["samples"])
            tokens += chunk_tokens
            if on_chunk:
                on_chunk(len(rows), chunk_tokens)
    elapsed = time.perf_counter() - started
    rows = read_details(details_file)
    answers = {(r["id"], r["question_index"]): r["answer"] for r in rows}
    data.write_submission(problems, answers, out)
    answered_now = sum(len(p.questions) for p in todo)
    return {
        "questions": sum(len(p.questions) for p in problems),
        "answered_now": answered_now,
        "resumed": len(done),
        "seconds": elapsed,
        "questions_per_s": answered_now / elapsed if elapsed > 0 else 0.0,
        "tokens": tokens,
        "tokens_per_s": tokens / elapsed if elapsed > 0 else 0.0,
        "fallbacks": sum(r["fallback"] for r in rows),
        "submission": str(out),
        "details": str(details_file),
    }
