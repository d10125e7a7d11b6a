"""train --method grpo: trl's GRPOTrainer, rewarded by running each sampled program in the sandbox.

    prompts  every keyed question -> the program prompt predict sends (prompts.render_program_prompt), from
             the real data, synth questions (their keys proven), or both (config: data, grpo.synth_data)
    reward   extract the code block, run it in the sandbox's pool (in parallel, cached by program hash), match
             its output to an option (programs.judge): 1 right; 0 wrong, unmatched or failed; -guess_penalty
             for a constant guess, -timeout_penalty for a timeout. The share of every part (right, wrong and
             each program status of programs.STATUSES) goes to the trainer's metrics: TensorBoard and the log
    model    the base model with a fresh LoRA (lora:), or an SFT adapter trained on (grpo.adapter)
    run dir  as SFT's (train_run.py): refuses another run, --resume continues it from
             the last checkpoint; adapter, tokenizer, config.yaml, run.json, reward.png at the end

The RL loop is trl's. Only the main process writes files other than the trainer's own.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import data as data_mod
from . import models, programs, prompts, sandbox, train_run
from .train_config import ConfigError, TrainConfig

# What a sampled program earned, one name per part: a computed, matched answer is right or wrong, anything
# else is its program status (the sandbox's and the program layer's, programs.STATUSES, less "ok").
PARTS = ("right", "wrong", *(s for s in programs.STATUSES if s != "ok"))


# ================================================================ the reward


def reward_value(part: str, guess_penalty: float, timeout_penalty: float) -> float:
    """1 for right; a penalty for a guess or a timeout; 0 for anything else (wrong, unmatched, failed)."""
    if part == "right":
        return 1.0
    if part == "guess":
        return -guess_penalty
    if part == "timeout":
        return -timeout_penalty
    return 0.0


def part_of(outcome: programs.Outcome, key: str) -> str:
    if outcome.status == "ok":
        return "right" if outcome.answer == key else "wrong"
    return outcome.status


class ProgramReward:
    """trl reward function: ``reward(prompts, completions, key, options, **kwargs) -> list[float]``.

    ``key`` and ``options`` are dataset columns (trl hands every column over, one value per completion).
    Programs run in one sandbox pool that lives as long as this object (``close()``); the pool caches
    results by program hash, so a program sampled again, in this group or a later step, runs once. The
    share of each part in the batch is logged through trl's ``log_metric`` as ``programs/<part>``, and
    ``counts`` keeps the run's totals.
    """

    __name__ = "program"  # trl logs rewards/<name>/mean

    def __init__(self, *, guess_penalty: float = 0.1, timeout_penalty: float = 0.1,
                 limits: sandbox.Limits = sandbox.Limits(), workers: int = 2, letter_first: bool = True):
        self.guess_penalty = guess_penalty
        self.timeout_penalty = timeout_penalty
        self.letter_first = letter_first
        self.pool = sandbox.Pool(workers=workers, limits=limits)
        self.counts: Counter[str] = Counter()

    def judge(self, completions: Sequence[str], keys: Sequence[str],
              options: Sequence[Sequence[str]]) -> list[str]:
        """Each completion's part, its program run in the pool: all submitted first, then collected."""
        codes = [programs.extract_code(_text(c)) for c in completions]
        futures = [self.pool.submit(code) if code else None for code in codes]
        parts = []
        for code, future, key, opts in zip(codes, futures, keys, options, strict=True):
            outcome = programs.judge(code, future.result() if future else None, opts, letter_first=self.letter_first)
            parts.append(part_of(outcome, key))
        return parts

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], key: Sequence[str],
                 options: Sequence[Sequence[str]], log_metric: Callable[[str, float], None] | None = None,
                 **_: Any) -> list[float]:
        parts = self.judge(completions, key, options)
        self.counts.update(parts)
        if log_metric is not None:
            for name in PARTS:
                log_metric(f"programs/{name}", parts.count(name) / len(parts))
            log_metric("programs/sandbox_cache_hits", float(self.pool.hits))
        return [reward_value(p, self.guess_penalty, self.timeout_penalty) for p in parts]

    def close(self) -> None:
        self.pool.close()


def _text(completion: Any) -> str:
    """A completion as trl hands it over: text, or (conversational prompts) a list of messages."""
    if isinstance(completion, str):
        return completion
    return "".join(m.get("content") or "" for m in completion if isinstance(m, dict))


def make_reward(cfg: TrainConfig) -> ProgramReward:
    g = cfg.grpo
    return ProgramReward(guess_penalty=g.guess_penalty, timeout_penalty=g.timeout_penalty,
                         limits=sandbox.Limits(timeout=g.program_timeout), workers=g.sandbox_workers,
                         letter_first=g.program_style == "letter")


# ================================================================ prompts


@dataclass
class PromptReport:
    questions: dict[str, int] = field(default_factory=dict)  # source -> questions kept
    no_key: int = 0  # questions without an answer: nothing to reward against
    synth_available: int = 0

    def lines(self) -> list[str]:
        kept = ", ".join(f"{n} from {src}" for src, n in self.questions.items())
        out = [f"{sum(self.questions.values())} questions ({kept})"]
        if self.no_key:
            out.append(f"  dropped {self.no_key} question(s) without an answer key")
        if self.synth_available > self.questions.get("synth", 0):
            out.append(f"  synth: a sample of {self.questions.get('synth', 0)} of {self.synth_available}")
        return out

    def to_dict(self) -> dict:
        return {"questions": self.questions, "no_key": self.no_key, "synth_available": self.synth_available}


def build_prompts(cfg: TrainConfig, tokenizer):
    """Every keyed question of ``data`` and ``grpo.synth_data`` as a row {prompt, key, options, id,
    question_index, source}: the prompt is the one predict --method program sends (same style)."""
    from datasets import Dataset

    g = cfg.grpo
    if not cfg.data and not g.synth_data:
        raise ConfigError("no GRPO data: pass --data FILE (the real training split) and/or set grpo.synth_data")
    report = PromptReport()
    rows: list[dict] = []
    for source, path in (("data", cfg.data), ("synth", g.synth_data)):
        if not path:
            continue
        pairs = []
        for p in data_mod.load_problems(path):
            for i, q in enumerate(p.questions):
                if q.answer is None:
                    report.no_key += 1
                else:
                    pairs.append((p, i))
        if source == "synth":
            report.synth_available = len(pairs)
            if g.synth_limit is not None and len(pairs) > g.synth_limit:
                keep = sorted(random.Random(cfg.seed).sample(range(len(pairs)), g.synth_limit))
                pairs = [pairs[i] for i in keep]
        report.questions[source] = len(pairs)
        rows.extend(_row(tokenizer, p, i, source, g.program_style) for p, i in pairs)
    if not rows:
        raise ConfigError(f"no keyed questions in {cfg.data or ''} {g.synth_data or ''}".strip())
    return Dataset.from_list(rows), report


def _row(tokenizer, problem: data_mod.Problem, index: int, source: str, style: str) -> dict:
    q = problem.questions[index]
    return {"prompt": prompts.render_program_prompt(tokenizer, problem, q, style), "key": q.answer,
            "options": list(q.options), "id": problem.id, "question_index": index, "source": source}


# ================================================================ trl's config, model, trainer


def grpo_config(cfg: TrainConfig, *, world_size: int = 1, **extra: Any):
    """TrainConfig -> trl GRPOConfig. One optimizer step takes ``grpo.prompts_per_step`` groups of
    ``grpo.num_generations`` programs, all generated at once, in micro-batches of ``grpo.micro_batch``
    completions. The ``trainer:`` section (GRPOConfig fields) goes in last, then ``extra``."""
    from trl import GRPOConfig

    from . import train

    g = cfg.grpo
    per_step = g.prompts_per_step * g.num_generations  # completions per optimizer step, all processes
    micro = g.micro_batch or g.num_generations
    if per_step % (micro * world_size):
        raise ConfigError(f"grpo: a step's {per_step} completions (prompts_per_step {g.prompts_per_step} x "
                          f"num_generations {g.num_generations}) do not split into micro-batches of {micro} on "
                          f"{world_size} process(es); change grpo.micro_batch or grpo.prompts_per_step")
    kwargs = dict(
        **train.common_trainer_args(cfg),
        per_device_train_batch_size=micro,
        gradient_accumulation_steps=per_step // (micro * world_size),
        learning_rate=g.lr,
        eval_strategy="no",  # GRPO has no eval loss: score the adapter with predict
        num_generations=g.num_generations,
        max_completion_length=g.max_completion_length,
        temperature=g.temperature,
        beta=g.beta,
        use_vllm=g.use_vllm,
        vllm_mode=g.vllm_mode,
        vllm_gpu_memory_utilization=g.vllm_gpu_memory_utilization,
        vllm_tensor_parallel_size=g.vllm_tensor_parallel_size,
        remove_unused_columns=False,  # the reward reads key and options
    )
    if g.vllm_server_base_url:
        kwargs["vllm_server_base_url"] = g.vllm_server_base_url
    return train.make_trainer_args(GRPOConfig, kwargs, cfg, extra, f"grpo: ..., trainer: {cfg.trainer}")


def load_policy(cfg: TrainConfig):
    """(model, peft_config): the base model with a fresh LoRA for trl to add, or an SFT adapter made
    trainable (trl then keeps a frozen copy of it as the KL reference when beta > 0)."""
    from . import train

    model = train.load_base(cfg)
    if not cfg.grpo.adapter:
        return model, train.lora_config(cfg, model)
    from peft import PeftModel

    adapter = Path(cfg.grpo.adapter)
    if not (adapter / "adapter_config.json").exists():
        raise ConfigError(f"grpo.adapter {adapter} holds no adapter (adapter_config.json missing)")
    train.check_adapter_base(cfg.model, adapter)
    return PeftModel.from_pretrained(model, str(adapter), is_trainable=True), None


def build_trainer(cfg: TrainConfig, *, callbacks: Sequence[Any] = (), echo: Callable[[str], None] = print,
                  **grpo_overrides: Any):
    """Prompts, model, reward and a ready trl ``GRPOTrainer`` (no files written). The reward function is
    ``trainer.logictune_reward`` (close it when done), the prompt report ``trainer.logictune_prompts``."""
    from accelerate import PartialState
    from trl import GRPOTrainer

    from . import train

    train.check_reporters(cfg.report_to)
    tokenizer = models.load_tokenizer(cfg.model, padding_side="left")
    dataset, report = build_prompts(cfg, tokenizer)
    for line in report.lines():
        echo(f"grpo prompts: {line}")
    args = grpo_config(cfg, world_size=PartialState(cpu=train.cpu_only()).num_processes, **grpo_overrides)
    model, peft_config = load_policy(cfg)
    if peft_config is None:
        echo(f"grpo: training the adapter {cfg.grpo.adapter} (its own LoRA settings; lora: is not used)")
    reward = make_reward(cfg)
    try:
        trainer = GRPOTrainer(model=model, reward_funcs=[reward], args=args, train_dataset=dataset,
                              processing_class=tokenizer, peft_config=peft_config, callbacks=list(callbacks))
    except BaseException:
        reward.close()
        raise
    trainer.logictune_reward = reward
    trainer.logictune_prompts = report
    return trainer


# ================================================================ the run


@dataclass
class GrpoResult:
    output_dir: Path
    global_step: int
    train_loss: float | None
    resumed_from: str | None
    rewards: list[tuple[int, float]]  # (step, mean reward) as logged
    parts: dict[str, int]  # what this process's programs earned over the run (this session, not a resumed part)
    report: PromptReport
    is_main_process: bool = True
    eval_loss: float | None = None  # GRPO has none; here so callers can treat it as a TrainResult
    trainer: Any = field(repr=False, default=None)


def train_grpo(cfg: TrainConfig, *, callbacks: Sequence[Any] = (),
               echo: Callable[[str], None] = print) -> GrpoResult:
    """Run GRPO as ``train.train`` runs SFT: the same run directory rules, resume and outputs."""
    from accelerate import PartialState

    from . import train

    if cfg.method != "grpo":
        raise ConfigError(f"train_grpo needs method: grpo, got {cfg.method!r}")
    state = PartialState(cpu=train.cpu_only())
    say = echo if state.is_main_process else (lambda _: None)
    out = Path(cfg.output_dir)
    action, checkpoint = train_run.check_output_dir(cfg)
    trainer = build_trainer(cfg, callbacks=callbacks, echo=say)
    reward: ProgramReward = trainer.logictune_reward
    try:
        world_size = trainer.accelerator.num_processes
        train_run.warn_resume_changes(cfg, action, world_size, say)
        say(sandbox.isolation().describe())
        run = {"grpo": trainer.logictune_prompts.to_dict(), "world_size": world_size}
        train_run.open_run_dir(cfg, action, checkpoint, run, state, say)
        train_loss = train_run.train_or_finish(trainer, action, checkpoint, say)
    finally:
        reward.close()
    trainer.save_model(str(out))
    history = trainer.state.log_history
    if state.is_main_process:
        trainer.state.save_to_json(str(out / "trainer_state.json"))
        plot_rewards(history, out / "reward.png")
        say(f"adapter, tokenizer and reward.png written to {out}")
    state.wait_for_everyone()
    rewards = [(h["step"], h["reward"]) for h in history if "reward" in h and "step" in h]
    return GrpoResult(out, trainer.state.global_step, train_loss, checkpoint, rewards, dict(reward.counts),
                      trainer.logictune_prompts, state.is_main_process, trainer=trainer)


def plot_rewards(log_history: Sequence[dict], path: str | Path) -> None:
    """The mean reward per logged step, and below it the share of each part (right, wrong, statuses)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 5.5), dpi=120, sharex=True)
    points = [(h["step"], h["reward"]) for h in log_history if "reward" in h and "step" in h]
    if points:
        top.plot(*zip(*points, strict=True), "o-", lw=1.2, ms=3, label="mean reward")
    top.set_ylabel("reward")
    top.grid(alpha=0.3)
    top.legend()
    for part in PARTS:
        pts = [(h["step"], h[f"programs/{part}"]) for h in log_history
               if h.get(f"programs/{part}") is not None and "step" in h]
        if any(v for _, v in pts):
            bottom.plot(*zip(*pts, strict=True), lw=1.1, label=part)
    bottom.set_xlabel("optimizer step")
    bottom.set_ylabel("share of programs")
    bottom.grid(alpha=0.3)
    if bottom.get_legend_handles_labels()[0]:
        bottom.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
