"""Answer every question of a dataset: sample reasoning chains, vote, write a submission.

Top to bottom: settings -> resume state -> cot: every question's chains in one engine call, more
chains for a question until the vote is decided (adaptive), its problem's details appended and
flushed as soon as all its questions settle; direct: option letters scored a chunk at a time ->
questions no chain answered scored by option likelihood -> the submission written atomically at
the end. Rerunning the same command resumes where it stopped.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import data, programs, prompts, sandbox, voting
from .engines import Completion, Engine, SamplingParams, chain_seed
from .letter_bias import LetterBias
from .runfiles import check_run, lock_output, read_details, run_path

METHODS = ("cot", "direct", "program")
FALLBACKS = ("direct", "cot")


@dataclass
class PredictConfig:
    # "cot": sampled chains + vote; "direct": score the option letters, no chain; "program": sampled programs
    # run in the sandbox, their matched outputs vote
    method: str = "cot"
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
    chunk_questions: int = 32  # direct method and option scoring: questions per write of the details file
    # cot/program: questions sampled in one engine call before the ones no chain answered are settled (scored,
    # or given their fallback chains), so a kill loses at most this many and progress shows as it goes
    settle_questions: int = 64
    program_style: str = "letter"  # prompts.PROGRAM_STYLES: print the letter, or the computed value
    fallback: str = "direct"  # program: questions with no computed, matched program ("direct" or "cot")
    count_guesses: bool = False  # program: let constant guesses (programs.is_guess) vote too
    program_timeout: float = 5.0  # program: wall seconds per program in the sandbox
    sandbox_workers: int = 2  # program: programs run at once
    # Added to the option letters' log-probs wherever they pick the answer (direct, the program fallback);
    # fit on a labelled split by `logictune letter-bias` (letter_bias.py). None: the raw argmax.
    letter_bias: LetterBias | None = None
    # Few-shot (retrieval.ShotPool): (problem, question index) -> solved questions shown before it.
    shots: Callable[[data.Problem, int], Sequence[prompts.Shot]] | None = None

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.fallback not in FALLBACKS:
            raise ValueError(f"fallback must be one of {', '.join(FALLBACKS)}, got {self.fallback!r}")
        if self.settle_questions < 1 or self.chunk_questions < 1:
            raise ValueError("settle_questions and chunk_questions must be >= 1")
        if self.method == "program" and self.shots:
            raise ValueError("few-shot examples are not supported with method 'program'")
        if self.program_style not in prompts.PROGRAM_STYLES:
            raise ValueError(f"program_style must be one of {', '.join(prompts.PROGRAM_STYLES)}, "
                             f"got {self.program_style!r}")
        if self.votes < 1:
            raise ValueError("votes must be >= 1")
        if self.first_round < 1:
            raise ValueError("first_round must be >= 1")
        # Checks temperature >= 0, top_p in (0, 1], top_k >= 0, max_new_tokens >= 1 before any model loads.
        self.sampling(self.seed)

    def sampling(self, seed: int, n_options: int = 4, method: str | None = None) -> SamplingParams:
        if (method or self.method) == "program":
            stop_regex, stop = prompts.PROGRAM_STOP_REGEX, list(prompts.PROGRAM_STOP_STRINGS)
        else:
            stop_regex, stop = prompts.answer_stop_regex(n_options), prompts.answer_stop_strings(n_options)
        return SamplingParams(max_new_tokens=self.max_new_tokens, temperature=self.temperature, top_p=self.top_p,
                              top_k=self.top_k, seed=seed, stop_regex=stop_regex, stop=stop)


# Settings that change the answers: a resumed run must use the same ones (with the caller's run_info:
# model, adapter, data, engine, dtype).
_RUN_KEYS = ("method", "votes", "adaptive", "first_round", "confidence", "max_new_tokens", "temperature",
             "top_p", "top_k", "seed")
_PROGRAM_KEYS = ("program_style", "fallback", "count_guesses", "program_timeout")


def run_settings(cfg: PredictConfig) -> dict:
    """The settings a resumed run must share (program ones only for the program method, so older runs of
    the other methods still resume)."""
    keys = _RUN_KEYS + (_PROGRAM_KEYS if cfg.method == "program" else ())
    settings = {k: getattr(cfg, k) for k in keys}
    if cfg.letter_bias:  # only when set, so runs from before it existed still resume
        settings["letter_bias"] = cfg.letter_bias.to_json()
    return settings


@dataclass
class QuestionState:
    problem: data.Problem
    index: int
    samples: list[voting.Sample] = field(default_factory=list)
    shots: Sequence[prompts.Shot] = ()  # few-shot examples rendered before the question

    @property
    def question(self) -> data.Question:
        return self.problem.questions[self.index]

    @property
    def votes(self) -> dict[str, int]:
        return voting.vote(self.samples).votes


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


def _samples(state: QuestionState, completions: list[Completion]) -> list[voting.Sample]:
    q = state.question
    return [voting.Sample(c.text, voting.extract_answer(c.text, len(q.options), q.options), c.logprob, c.tokens)
            for c in completions]


def render(tokenizer, state: QuestionState, method: str, cfg: PredictConfig) -> str:
    if method == "program":
        return prompts.render_program_prompt(tokenizer, state.problem, state.question, cfg.program_style)
    return prompts.render_prompt(tokenizer, state.problem, state.question, shots=state.shots)


def sample_chains(states: list[QuestionState], engine: Engine, tokenizer, cfg: PredictConfig,
                  on_done: Callable[[QuestionState], None], runner: programs.ProgramRunner | None = None) -> None:
    """Sample every question's chains in one engine call; ``on_done`` gets each question once it is settled.

    Adaptive: each question starts with ``first_round`` chains; whenever they have all ended and the
    question is not decided, the engine is asked for the fewest chains that could decide it. A question's
    samples are what the engine hands to ``on_done``: an engine that never calls ``more`` still answers.
    Chains are seeded from (seed, problem id, question index, chain index), so a question's chains are the
    same whatever the batch size, ``--limit`` or a resume. With a ``runner`` the chains are programs.
    """
    method = "program" if runner else "cot"

    def to_samples(state: QuestionState, completions: list[Completion]) -> list[voting.Sample]:
        if runner:
            return runner.samples(state.samples, completions, state.question.options)
        return _samples(state, completions)

    def more(i: int, completions: list[Completion]) -> int:
        s = states[i]
        s.samples = to_samples(s, completions)
        if not cfg.adaptive or voting.is_decided(s.votes, cfg.votes, len(s.samples), confidence=cfg.confidence):
            return 0
        return voting.next_round_size(s.votes, cfg.votes, len(s.samples), first_round=cfg.first_round)

    def done(i: int, completions: list[Completion]) -> None:
        states[i].samples = to_samples(states[i], completions)
        on_done(states[i])

    first = min(cfg.first_round, cfg.votes) if cfg.adaptive else cfg.votes
    # A fallback's chains get seeds of their own: the same seed as the programs would replay their tokens.
    sampling = [cfg.sampling(chain_seed(cfg.seed, s.problem.id, s.index, *(("cot",) if method != cfg.method else ())),
                             len(s.question.options), method) for s in states]
    engine.generate([render(tokenizer, s, method, cfg) for s in states], first, sampling, more=more, on_done=done)


def score_options(states: list[QuestionState], engine: Engine, tokenizer) -> list[list[float]]:
    """The model's log-prob of each option letter as the next token after ``答案是：``."""
    return engine.score_next_token(
        [prompts.render_direct_prompt(tokenizer, s.problem, s.question, shots=s.shots) for s in states],
        [list(s.question.letters) for s in states],
    )


def details_rows(states: list[QuestionState], method: str, scores: dict[int, list[float]],
                 chains: dict[int, QuestionState] | None = None, letter_bias: LetterBias | None = None) -> list[dict]:
    """One details record per question; ``scores[i]`` (option log-probs, plus ``letter_bias``) decides where
    no sample answered. ``option_probs`` records the model's own, unbiased.

    ``chains[i]``: a program question's fallback chains (``--fallback cot``), which answer before the scores.
    """
    rows = []
    for i, s in enumerate(states):
        result = voting.vote(s.samples)
        backup = voting.vote(chains[i].samples).answer if chains and i in chains else None
        probs = voting.normalise_scores(scores[i]) if i in scores else None
        row = {
            "id": s.problem.id,
            "question_index": s.index,
            "method": method,
            "samples": [asdict(x) for x in s.samples],
            "votes": result.votes,
            "answer": result.answer or backup or voting.pick_by_scores(
                letter_bias.apply(scores[i]) if letter_bias else scores[i]),
            "fallback": method != "direct" and result.answer is None,
            "option_probs": dict(zip(s.question.letters, probs, strict=True)) if probs else None,
        }
        if method == "program":
            row["fallback_method"] = None if result.answer else "cot" if backup else "direct"
            row["fallback_samples"] = [asdict(x) for x in chains[i].samples] if chains and i in chains else []
        rows.append(row)
    return rows


def answer_with_scores(states: list[QuestionState], engine: Engine, tokenizer, method: str,
                       chains: dict[int, QuestionState] | None = None, letter_bias: LetterBias | None = None) -> list[dict]:
    """Details for ``states``, scoring options where no sample (nor fallback chain) gave an answer (all of
    them for direct)."""
    chains = chains or {}
    need = [i for i, s in enumerate(states)
            if voting.vote(s.samples).answer is None and (i not in chains or voting.vote(chains[i].samples).answer is None)]
    scores = dict(zip(need, score_options([states[i] for i in need], engine, tokenizer), strict=True)) if need else {}
    return details_rows(states, method, scores, chains, letter_bias)


def fallback_chains(states: list[QuestionState], engine: Engine, tokenizer, cfg: PredictConfig) -> dict[int, QuestionState]:
    """``--fallback cot``: reasoning chains for the program questions no program answered."""
    need = {i: QuestionState(s.problem, s.index) for i, s in enumerate(states) if voting.vote(s.samples).answer is None}
    if need:
        sample_chains(list(need.values()), engine, tokenizer, cfg, lambda _s: None)
    return need


def predict(
    problems: Sequence[data.Problem],
    engine: Engine,
    tokenizer,
    out: str | os.PathLike,
    cfg: PredictConfig,
    *,
    run_info: dict | None = None,
    overwrite: bool = False,
    on_written: Callable[[int, int], None] | None = None,
) -> dict:
    """Answer ``problems``, appending details as it goes; write the submission at ``out`` at the end.

    Details of a problem are appended (and flushed) as soon as all its questions are settled, so a
    killed run loses only the problems in flight; problems already in the details file are skipped.
    ``on_written(questions, tokens)`` is called after each write (for progress bars).
    """
    out = Path(out)
    with lock_output(out):
        return _predict(problems, engine, tokenizer, out, cfg, run_info=run_info, overwrite=overwrite,
                        on_written=on_written)


def _state(problem: data.Problem, index: int, cfg: PredictConfig) -> QuestionState:
    return QuestionState(problem, index, shots=cfg.shots(problem, index) if cfg.shots else ())


def _predict(problems, engine, tokenizer, out: Path, cfg: PredictConfig, *, run_info, overwrite, on_written) -> dict:
    details_file = data.details_path(out)
    run_info = {"engine": type(engine).__name__, **(run_info or {})}
    check_run(run_path(out), [details_file, out], {**run_info, **run_settings(cfg)}, overwrite)
    done = {(r["id"], r["question_index"]) for r in read_details(details_file)}
    todo = [p for p in problems if any((p.id, i) not in done for i in range(len(p.questions)))]
    started, tokens = time.perf_counter(), 0
    runner = (programs.ProgramRunner(sandbox.Limits(timeout=cfg.program_timeout), cfg.sandbox_workers, cfg.count_guesses,
                                     letter_first=cfg.program_style == "letter")
              if cfg.method == "program" else None)
    details_file.parent.mkdir(parents=True, exist_ok=True)
    with open(details_file, "a", encoding="utf-8") as f:

        def write(rows: list[dict]) -> None:
            nonlocal tokens
            rows = [r for r in rows if (r["id"], r["question_index"]) not in done]
            f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
            f.flush()
            os.fsync(f.fileno())
            written = sum(s["tokens"] for r in rows for s in r["samples"] + r.get("fallback_samples", []))
            tokens += written
            if on_written:
                on_written(len(rows), written)

        if cfg.method == "direct":
            for chunk in _chunks(todo, cfg.chunk_questions):
                write(answer_with_scores([_state(p, i, cfg) for p in chunk for i in range(len(p.questions))],
                                         engine, tokenizer, "direct", letter_bias=cfg.letter_bias))
        else:
            unanswered: list[data.Problem] = []

            def settled(s: QuestionState) -> None:
                left[s.problem.id] -= 1
                if left[s.problem.id]:
                    return
                group = of_problem[s.problem.id]
                if any(voting.vote(x.samples).answer is None for x in group):
                    unanswered.append(s.problem)  # fallen back on below, in batches, once this part is sampled
                else:
                    write(details_rows(group, cfg.method, {}))

            try:
                for part in _chunks(todo, cfg.settle_questions):
                    states = [_state(p, i, cfg) for p in part for i in range(len(p.questions))]
                    of_problem = {p.id: [s for s in states if s.problem is p] for p in part}
                    left = {p.id: len(p.questions) for p in part}
                    unanswered.clear()
                    sample_chains(states, engine, tokenizer, cfg, settled, runner)
                    for chunk in _chunks(unanswered, cfg.chunk_questions):
                        group = [s for p in chunk for s in of_problem[p.id]]
                        chains = fallback_chains(group, engine, tokenizer, cfg) if runner and cfg.fallback == "cot" else None
                        write(answer_with_scores(group, engine, tokenizer, cfg.method, chains, cfg.letter_bias))
            finally:
                if runner:
                    runner.close()

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
        # program: wall time blocked on the sandbox, and its share of the run
        **({"program_wait_seconds": runner.waited, "program_wait_share": runner.waited / elapsed if elapsed > 0 else 0.0}
           if runner else {}),
        "submission": str(out),
        "details": str(details_file),
    }

