"""How big a demo fits this machine: a few seconds' probe of its speed, then the loop sized to ``--minutes``.

    measure(model, engine)        -> Speed  LoRA training tokens/s (one timed forward + backward on the
                                            layers the demo trains), generation and prompt-reading tokens/s
                                            on the engine that answers
    choose_sizes(speed, minutes)  -> Sizes  pure: the same speed and budget give the same sizes

The cost model counts what the demo does with the sizes it picks: every training question is one example
(prompt and program, ``Costs.example_tokens``) trained for ``epochs``; every validation question is read
five times (base direct, and the prompt plus the direct fallback of each program row) and gets two greedy
programs (base and tuned); every question's program is run in the sandbox once when it is synthesised.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

# Floors: below these the table says nothing (a 20-question interval is already +-0.2 wide).
MIN_TRAIN, MIN_VAL = 24, 20
MAX_TRAIN, MAX_VAL = 400, 200  # past these a faster machine only waits longer for a narrower interval
VAL_SHARE = 0.45  # of the time left for the loop, what answering the validation side may take
PROBE_BATCH = 8  # prompts the probe answers at once (the demo's batches are 16)
STEP = 4  # sizes are multiples of this, so a rerun on a re-measured machine rarely changes them


@dataclass(frozen=True)
class Speed:
    train_tokens_per_s: float
    generate_tokens_per_s: float
    prefill_tokens_per_s: float
    engine: str
    seconds: float = 0.0  # what measuring took


@dataclass(frozen=True)
class Costs:
    """Averages of the demo's own work (easy synthetic questions, Qwen2.5 tokenizer; bench/README.md "demo")."""

    example_tokens: float = 475.0  # a training example: prompt ~290 + program ~185 tokens
    prompt_tokens: float = 290.0
    program_tokens: float = 220.0  # a greedy program, the base model's a little longer than the solver's
    synth_seconds: float = 0.08  # a question's program through the sandbox
    fixed_seconds: float = 60.0  # loading the model for each step, converting the adapter
    epochs: float = 1.0


@dataclass(frozen=True)
class Sizes:
    train_questions: int
    val_questions: int
    epochs: float
    minutes: float
    estimate: dict  # seconds by part: fixed, synth, train, answer
    reduced: bool  # smaller than the loop the reference machine runs in the same minutes
    fits: bool  # the estimate is within the budget (False: even the floors are over it)

    @property
    def estimated_minutes(self) -> float:
        return sum(self.estimate.values()) / 60


# A 2-core AVX-512 Xeon (bf16): the machine the demo's target is set on (issue 16: >= 120 tokens/s training).
REFERENCE = Speed(train_tokens_per_s=120.0, generate_tokens_per_s=40.0, prefill_tokens_per_s=400.0,
                  engine="llamacpp")


def per_question(speed: Speed, costs: Costs = Costs()) -> tuple[float, float]:
    """Seconds a training question costs, and a validation question."""
    train = costs.synth_seconds + costs.epochs * costs.example_tokens / speed.train_tokens_per_s
    val = (costs.synth_seconds + 5 * costs.prompt_tokens / speed.prefill_tokens_per_s
           + 2 * costs.program_tokens / speed.generate_tokens_per_s)
    return train, val


def _fit(speed: Speed, minutes: float, costs: Costs) -> tuple[int, int, dict]:
    per_t, per_v = per_question(speed, costs)
    left = max(minutes * 60 - costs.fixed_seconds - speed.seconds, 0.0)
    val = _clamp(VAL_SHARE * left / per_v, MIN_VAL, MAX_VAL)
    train = _clamp((left - val * per_v) / per_t, MIN_TRAIN, MAX_TRAIN)
    estimate = {"probe": speed.seconds, "fixed": costs.fixed_seconds,
                "synth": (train + val) * costs.synth_seconds,
                "train": train * (per_t - costs.synth_seconds),
                "answer": val * (per_v - costs.synth_seconds)}
    return train, val, estimate


def _clamp(x: float, lo: int, hi: int) -> int:
    return min(max(int(math.floor(x / STEP)) * STEP, lo), hi)


def choose_sizes(speed: Speed, minutes: float, costs: Costs = Costs()) -> Sizes:
    """The largest loop whose estimate fits ``minutes``: validation takes up to VAL_SHARE of the time, training
    the rest; never below the floors (then ``fits`` is False and the estimate says by how much)."""
    if minutes <= 0:
        raise ValueError(f"--minutes must be > 0, got {minutes}")
    if min(speed.train_tokens_per_s, speed.generate_tokens_per_s, speed.prefill_tokens_per_s) <= 0:
        raise ValueError(f"speeds must be > 0, got {speed}")
    train, val, estimate = _fit(speed, minutes, costs)
    ref_train, ref_val, _ = _fit(REFERENCE, minutes, costs)
    return Sizes(train, val, costs.epochs, minutes, estimate,
                 reduced=train < ref_train or val < ref_val,
                 fits=sum(estimate.values()) <= minutes * 60 + 1e-9)


def explain(sizes: Sizes, speed: Speed) -> list[str]:
    """What was measured, what was chosen and why, in a few lines."""
    est = sizes.estimate
    lines = [f"speed: LoRA training {speed.train_tokens_per_s:.0f} tokens/s; {speed.engine} writes "
             f"{speed.generate_tokens_per_s:.0f} tokens/s and reads prompts at {speed.prefill_tokens_per_s:.0f} "
             f"(measured in {speed.seconds:.0f} s)",
             f"sizes: {sizes.train_questions} training and {sizes.val_questions} validation questions, "
             f"{sizes.epochs:g} epoch, for a {sizes.minutes:g}-minute budget; estimated {sizes.estimated_minutes:.1f} "
             f"min (train {est['train'] / 60:.1f}, answer {est['answer'] / 60:.1f}, synth {est['synth'] / 60:.1f}, "
             f"loading {est['fixed'] / 60:.1f})"]
    if sizes.reduced:
        ref_train, ref_val, _ = _fit(REFERENCE, sizes.minutes, Costs(epochs=sizes.epochs))
        lines.append(f"this machine is slower than the reference ({REFERENCE.train_tokens_per_s:.0f} training "
                     f"tokens/s), so the demo runs a smaller loop than its {ref_train} + {ref_val} questions: "
                     "less training and wider intervals; --minutes buys a bigger one")
    if not sizes.fits:
        lines.append(f"even the smallest loop ({MIN_TRAIN} + {MIN_VAL} questions) needs about "
                     f"{sizes.estimated_minutes:.0f} min here, over the {sizes.minutes:g}-minute budget: running it "
                     "anyway")
    return lines


# ---------------------------------------------------------------- the probe (loads the model)


def _train_speed(model: str, top_layers: int | None, tokens: int) -> float:
    """Tokens/s of one LoRA forward + backward over ``tokens`` tokens, on the layers the demo trains. The demo
    packs its examples into sequences of ~500-640 tokens; a 192-token probe read 86 tokens/s where the demo then
    trained at ~150 (2-core EPYC), so the probe's sequence is about as long as the demo's."""
    import torch
    from peft import get_peft_model

    from . import train
    from .train_config import load_config

    cfg = load_config(None, [], model=model, **{"lora.top_layers": top_layers, "lora.r": 16, "lora.alpha": 32})
    base = train.load_base(cfg)
    lm = get_peft_model(base, train.lora_config(cfg, base))
    lm.train()
    gen = torch.Generator().manual_seed(0)
    vocab = min(base.config.vocab_size, 100_000)

    def step(n: int) -> float:
        ids = torch.randint(0, vocab, (1, n), generator=gen)
        t0 = time.perf_counter()
        lm(input_ids=ids, labels=ids).loss.backward()
        lm.zero_grad(set_to_none=True)
        return time.perf_counter() - t0

    step(min(32, tokens))  # warm-up: the first pass allocates
    return tokens / step(tokens)


def measure(model: str, engine: str, *, top_layers: int | None = 6, train_tokens: int = 512,
            new_tokens: int = 32, batch_size: int = 16) -> Speed:
    """Measure the three speeds the sizes depend on, in a few seconds on a fast machine (a minute on a slow one)."""
    from . import prompts, synth
    from .engines import SamplingParams
    from .engines.build import EngineChoice, build_engine

    start = time.perf_counter()
    built = build_engine(EngineChoice(engine=engine, model=model, batch_size=batch_size))
    # The demo answers in batches of batch_size, so the probe times a batch too: a batched engine (hf) writes
    # several times faster per token than one prompt at a time shows (measured: 9 tokens/s alone against ~50 in
    # the demo's batches on a 2-core EPYC). A sequential engine (llamacpp) just takes `batch` times as long.
    batch = max(1, min(batch_size, PROBE_BATCH))
    try:
        problem = synth.generate(1, seed=1, difficulty="easy", id_prefix="probe").problems[0]
        text = prompts.render_program_prompt(built.tokenizer, problem, problem.questions[0])
        built.engine.score_next_token([text], [["A", "B"]])  # warm-up: the first call allocates
        n_prompt = len(built.tokenizer(text, add_special_tokens=False)["input_ids"])

        def variants(mark: str) -> list[str]:  # distinct early characters: no engine serves one from its cache
            return [text.replace(problem.problem, mark * (i + 1) + problem.problem, 1) for i in range(batch)]

        timed = []  # the batch answered with 1 token (reading, mostly), then other copies with new_tokens
        for texts, n in ((variants(" "), 1), (variants("\n"), new_tokens)):
            t0 = time.perf_counter()
            done = built.engine.generate(texts, 1, SamplingParams(max_new_tokens=n, temperature=0.0))
            timed.append((time.perf_counter() - t0, max(sum(c.tokens for row in done for c in row), batch)))
    finally:
        close = getattr(built.engine, "close", None)
        if close:
            close()
    (read, _), (spent, made) = timed
    train_tps = _train_speed(model, top_layers, train_tokens)  # after the engine is closed: one model at a time
    # writing = the longer call less the shorter, never under a tenth of it (noise)
    return Speed(train_tps, max(made - batch, 1) / max(spent - read, spent / 10, 1e-6),
                 batch * n_prompt / max(read, 1e-6),
                 engine, time.perf_counter() - start)
