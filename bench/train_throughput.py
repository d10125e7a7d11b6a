"""Training throughput: the seed's SFT setup against ours, same data, same LoRA, same model, on this CPU.

    (a) seed  loss on the full text (prompt + completion), one example per row, rows padded to a multiple of 8
    (b) ours  loss on the completion only, examples packed into rows of --max-length tokens (padding-free)

Both run through logictune.train.build_trainer (trl SFTTrainer + peft LoRA), so the only differences are
the two settings above and the row layout. Each setup runs in its own process (a clean peak RSS), does
--warmup optimizer steps untimed and --steps timed ones, each step taking --rows rows of at most
--max-length tokens (seed: a batch of --rows padded rows; ours: --rows packed rows, one per micro-step).

Reported per setup: trained tokens/s (real tokens through forward + backward, padding excluded),
loss-bearing tokens/s (tokens with a label), completion tokens/s (tokens of the answer: rationale +
answer line + end of turn — what we want the model to learn; in (a) they are a subset of the loss-bearing
tokens), padding share, seconds per step and peak RSS.

The competition data has no rationales yet (the distill step writes them), so each question gets a
placeholder rationale cut from its own problem text, 80-400 characters (60-300 tokens) long: the token
counts are realistic, the words are not, and throughput depends only on the counts.

    .venv/bin/python bench/train_throughput.py                      # 0.5B model, 512 tokens, r=8
    .venv/bin/python bench/train_throughput.py --steps 2 --setups ours

Run it alone: on a 2-core machine any other busy process halves the figures (the load average is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "round1_train_data.jsonl"


def placeholder_rationales(problems_path: Path, out: Path, seed: int = 0) -> Path:
    """A rationale per question, cut from the problem's own text, 80-400 characters."""
    from logictune import data

    rows = []
    for p in data.load_problems(problems_path):
        for i, q in enumerate(p.questions):
            rng = random.Random(f"{seed}:{p.id}:{i}")
            source = (p.problem + q.body).replace("\n", "")
            n = rng.randint(80, 400)
            text = "分析：" + (source * (n // max(len(source), 1) + 1))[:n]
            rows.append({"id": p.id, "question_index": i, "rationale": text, "answer": q.answer,
                         "source": "placeholder"})
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return out


# ---------------------------------------------------------------- one setup, in a child process


def run_setup(setup: str, args) -> dict:
    import torch
    from transformers import TrainerCallback

    from logictune import train as tr

    common = {"model": args.model, "data": str(args.data), "rationales": str(args.rationales),
              "output_dir": str(Path(args.workdir) / setup), "eval_fraction": 0.0,
              "max_length": args.max_length,
              "max_steps": args.warmup + args.steps, "lr": 2e-4, "warmup_ratio": 0.0, "logging_steps": 1000,
              "save_steps": 10_000, "lora.r": args.lora_r, "lora.alpha": 2 * args.lora_r,
              "gradient_checkpointing": args.gradient_checkpointing == "on", "dtype": args.dtype}
    if setup == "seed":
        flags = {**common, "completion_only_loss": False, "batching": "padding", "pad_to_multiple_of": 8,
                 "batch_size": args.rows, "grad_accum": 1}
    elif setup == "ours":
        flags = {**common, "completion_only_loss": True, "batching": "packing", "batch_size": 1,
                 "grad_accum": args.rows}
    else:
        raise SystemExit(f"unknown setup {setup!r}")
    cfg = tr.load_config(None, [], **flags)
    trainer = tr.build_trainer(cfg, echo=lambda s: print(f"[{setup}] {s}", file=sys.stderr),
                               save_strategy="no")

    # Completion tokens of each example, found again from its token ids (the trainer drops other columns).
    ds = trainer.train_dataset
    completion_of = {}
    if "n_prompt_tokens" in ds.column_names:
        for row in ds:
            completion_of[hash(tuple(row["input_ids"]))] = row["n_tokens"] - row["n_prompt_tokens"]

    batches: list[dict] = []
    collate = trainer.data_collator

    def counting_collator(features):
        batch = collate(features)
        labels = batch["labels"]
        if "attention_mask" in batch:
            real = int(batch["attention_mask"].sum())
        else:
            real = sum(sum(f["seq_lengths"]) if "seq_lengths" in f else len(f["input_ids"]) for f in features)
        loss = int((labels != -100).sum())
        if completion_of:
            completion = sum(completion_of[hash(tuple(f["input_ids"]))] for f in features)
        else:
            # Packed rows with completion-only labels: the labelled tokens are the completions.
            completion = loss
        batches.append({"slots": int(batch["input_ids"].numel()), "real": real, "loss": loss,
                        "completion": completion})
        return batch

    trainer.data_collator = counting_collator

    class StepClock(TrainerCallback):
        def __init__(self):
            self.ends = []

        def on_train_begin(self, a, state, control, **kw):
            self.start = time.perf_counter()

        def on_step_end(self, a, state, control, **kw):
            self.ends.append((time.perf_counter(), len(batches)))

    clock = StepClock()
    trainer.add_callback(clock)
    load_avg_before = os.getloadavg()[0]
    trainer.train()
    load_avg_after = os.getloadavg()[0]

    (t0, b0), (t1, b1) = clock.ends[args.warmup - 1] if args.warmup else (clock.start, 0), clock.ends[-1]
    timed = batches[b0:b1]
    seconds = t1 - t0
    total = {k: sum(b[k] for b in timed) for k in ("slots", "real", "loss", "completion")}
    return {
        "setup": setup,
        "steps": len(clock.ends) - args.warmup,
        "seconds": seconds,
        "s_per_step": seconds / max(len(clock.ends) - args.warmup, 1),
        "trained_tok_s": total["real"] / seconds,
        "loss_tok_s": total["loss"] / seconds,
        "completion_tok_s": total["completion"] / seconds,
        "padding_share": 1 - total["real"] / max(total["slots"], 1),
        "tokens": total,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "threads": torch.get_num_threads(),
        "load_avg": [round(load_avg_before, 2), round(load_avg_after, 2)],
        "examples": len(ds) if completion_of else None,
        "dtype": tr.dtype_name(cfg),
    }


# ---------------------------------------------------------------- the parent: run both, compare


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--rationales", type=Path, default=None, help="Real rationales; default: placeholders.")
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--rows", type=int, default=4, help="Rows of at most --max-length tokens per step.")
    ap.add_argument("--steps", type=int, default=3, help="Timed optimizer steps.")
    ap.add_argument("--warmup", type=int, default=1, help="Untimed optimizer steps first.")
    ap.add_argument("--lora-r", type=int, default=8)
    ap.add_argument("--gradient-checkpointing", choices=["on", "off"], default="off",
                    help="Same for both setups; off is the CPU config's default.")
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--setups", default="seed,ours")
    ap.add_argument("--json", type=Path, default=None, help="Also write the results here.")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        print("RESULT " + json.dumps(run_setup(args.child, args)), flush=True)
        return

    with tempfile.TemporaryDirectory(prefix="bench-train-") as work:
        if args.rationales is None:
            args.rationales = placeholder_rationales(args.data, Path(work) / "rationales.jsonl")
        results = []
        for setup in args.setups.split(","):
            cmd = [sys.executable, __file__, "--child", setup, "--workdir", work, "--model", args.model,
                   "--data", str(args.data), "--rationales", str(args.rationales),
                   "--max-length", str(args.max_length), "--rows", str(args.rows), "--steps", str(args.steps),
                   "--warmup", str(args.warmup), "--lora-r", str(args.lora_r),
                   "--gradient-checkpointing", args.gradient_checkpointing, "--dtype", args.dtype]
            print(f"running {setup} ...", file=sys.stderr, flush=True)
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
            lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
            if proc.returncode != 0 or not lines:
                sys.stderr.write(proc.stderr[-4000:])
                raise SystemExit(f"{setup} failed (exit {proc.returncode})")
            for line in proc.stderr.splitlines():
                if line.startswith(f"[{setup}]"):
                    print(line, file=sys.stderr)
            results.append(json.loads(lines[-1][len("RESULT "):]))

    print(f"\nmodel {args.model}, LoRA r={args.lora_r}, max_length {args.max_length}, {args.rows} rows/step, "
          f"{args.steps} timed steps after {args.warmup}, "
          f"gradient checkpointing {args.gradient_checkpointing}, "
          f"dtype {results[0]['dtype']}, {results[0]['threads']} threads")
    head = (f"{'setup':<6} {'s/step':>7} {'trained tok/s':>14} {'loss tok/s':>11} {'completion tok/s':>17} "
            f"{'padding':>8} {'peak RSS':>9} {'load avg':>11}")
    print(head)
    for r in results:
        print(f"{r['setup']:<6} {r['s_per_step']:>7.2f} {r['trained_tok_s']:>14.1f} {r['loss_tok_s']:>11.1f} "
              f"{r['completion_tok_s']:>17.1f} {r['padding_share']:>7.1%} {r['peak_rss_gib']:>6.2f} GiB "
              f"{r['load_avg'][0]:>5.2f}/{r['load_avg'][1]:<5.2f}")
    by = {r["setup"]: r for r in results}
    if {"seed", "ours"} <= by.keys():
        a, b = by["seed"], by["ours"]
        print(f"ratio ours/seed: trained tok/s {b['trained_tok_s'] / a['trained_tok_s']:.2f}x, "
              f"loss-bearing tok/s {b['loss_tok_s'] / a['loss_tok_s']:.2f}x, "
              f"completion tok/s {b['completion_tok_s'] / a['completion_tok_s']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
