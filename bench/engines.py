"""Engine against engine: the same prompts, the same sampling settings, through several generation engines.

Every row answers the same held-out questions (the first ``--questions`` of the validation side of
`data.split(train, 0.2, seed=0)`) with logictune's chat prompt (`prompts.render_prompt`), ``--chains``
chains per question, the answer read by `voting.extract_answer` and decided by `voting.vote` (no
fallback: a question no chain answered counts wrong). Rows run in their own subprocess (peak RSS per row):

  hf              logictune's engine (`engines.get_engine("hf")`): stops a chain at the answer line
  generate        plain batched `model.generate`, left padding, ``--batch-size`` prompts a call, no stop
                  regex (the text is cut at the answer line afterwards, tokens are counted up to EOS)
  generate_batch  transformers' continuous batching (`model.generate_batch`), cut and counted the same way;
                  its manager (cache allocation, warm-up) is built inside the call, so it counts as generation
  vllm            `engines.get_engine("vllm")` run by .venv-vllm/bin/python, VLLM_CPU_KVCACHE_SPACE=1

Reported: questions/s and generated tokens/s (generation only), start-up seconds (child process start to
engine ready: imports, model load, engine construction), tokens per question, accuracy, and peak RSS
(VmHWM of the row's process plus its child processes, e.g. vLLM's engine core and worker: a sum, so
pages they share count once per process and the vllm figure is an upper bound).

    .venv/bin/python bench/engines.py --questions 24 --chains 1 --max-new-tokens 128 --batch-size 16
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT.parent / "shared" / "data" / "round1_train_data.jsonl"
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
ROWS = ("hf", "generate", "generate_batch", "vllm")


def held_out(n_questions: int) -> list[tuple]:
    """The first ``n_questions`` (problem, question) pairs of the validation split."""
    from logictune import data

    _, val = data.split(data.load_problems(TRAIN), 0.2, seed=0)
    return [(p, i, q) for p in val for i, q in enumerate(p.questions)][:n_questions]


def peak_rss_gib() -> float:
    """Sum of peak RSS (VmHWM) over this process and its descendants still alive."""
    def tree(pid: str) -> list[str]:
        kids = [k for t in Path(f"/proc/{pid}/task").glob("*/children") for k in t.read_text().split()]
        return [pid, *(x for k in kids for x in tree(k))]

    total = 0
    for pid in tree(str(os.getpid())):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
    return total / 2**20


def _sampling_kwargs(sp) -> dict:
    """``generate``'s sampling arguments for ``sp`` (greedy at temperature 0)."""
    if sp.temperature > 0:
        return {"do_sample": True, "temperature": sp.temperature, "top_p": sp.top_p, "top_k": sp.top_k or None}
    return {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}


def _until_eos(ids: list[int], stop_ids: set[int]) -> list[int]:
    return next((ids[:k] for k, t in enumerate(ids) if t in stop_ids), ids)


def run_generate(model, tokenizer, prompts, sp, args) -> list[list[tuple[str, int]]]:
    import torch

    from logictune.engines.hf import _eos_ids

    stop_ids = set(_eos_ids(model, tokenizer)) | {tokenizer.pad_token_id}
    sampling = _sampling_kwargs(sp)
    torch.manual_seed(0)
    out = []
    for start in range(0, len(prompts), args.batch_size):
        batch = tokenizer(prompts[start:start + args.batch_size], return_tensors="pt", padding=True,
                          add_special_tokens=False).to(model.device)
        with torch.no_grad():
            ids = model.generate(**batch, max_new_tokens=sp.max_new_tokens, num_return_sequences=args.chains,
                                 pad_token_id=tokenizer.pad_token_id, **sampling)
        rows = [_until_eos(r, stop_ids) for r in ids[:, batch.input_ids.shape[1]:].tolist()]
        texts = [(tokenizer.decode(r, skip_special_tokens=True), len(r)) for r in rows]
        out += [texts[k:k + args.chains] for k in range(0, len(texts), args.chains)]
    return out


def run_generate_batch(model, tokenizer, prompts, sp, args) -> list[list[tuple[str, int]]]:
    from transformers import ContinuousBatchingConfig

    from logictune.engines.hf import _eos_ids

    stop_ids = set(_eos_ids(model, tokenizer))
    config = model.generation_config.__class__.from_dict(model.generation_config.to_dict())
    config.update(max_new_tokens=sp.max_new_tokens, num_return_sequences=args.chains, **_sampling_kwargs(sp))
    inputs = [tokenizer(p, add_special_tokens=False).input_ids for p in prompts]
    # Left to itself it sizes its KV cache from free memory: 13 GiB of a 23 GiB machine for a tiny model.
    # Enough pages for batch_size sequences of the longest prompt plus max_new_tokens is all it needs.
    pages = -(-(max(map(len, inputs)) + sp.max_new_tokens) // 256)
    cb = ContinuousBatchingConfig(page_size=256, num_blocks=args.batch_size * pages + 1,
                                  max_requests_per_batch=args.batch_size, seed=0)
    results = model.generate_batch(inputs, generation_config=config, continuous_batching_config=cb)
    outs = list(results.values())  # in input order, a prompt's sequences together
    errors = [o.error for o in outs if o.error]
    if len(outs) != len(prompts) * args.chains or errors:
        raise RuntimeError(f"generate_batch returned {len(outs)} of {len(prompts) * args.chains} sequences"
                           + (f"; errors: {errors[:3]}" if errors else ""))
    texts = []
    for o in outs:
        ids = _until_eos(list(o.generated_tokens), stop_ids)
        texts.append((tokenizer.decode(ids, skip_special_tokens=True), len(ids)))
    return [texts[k:k + args.chains] for k in range(0, len(texts), args.chains)]


def child(args) -> None:
    t0 = time.perf_counter()
    from logictune import models, predict, prompts, voting
    from logictune.engines import chain_seed, get_engine
    from logictune.engines.openai import cut_at_stop  # the text the hf engine would have kept

    if args.row == "vllm":
        tokenizer = models.load_tokenizer(args.model)
        dtype = str(models.pick_dtype(args.dtype)).removeprefix("torch.")
        engine = get_engine("vllm", models.resolve_model(args.model), tokenizer, dtype=dtype,
                            batch_size=args.batch_size, max_model_len=2048)
    else:
        model, tokenizer = models.load_model(args.model, dtype=args.dtype)
        if args.row == "hf":
            engine = get_engine("hf", model, tokenizer, batch_size=args.batch_size)
    startup = time.perf_counter() - t0

    questions = held_out(args.questions)
    cfg = predict.PredictConfig(max_new_tokens=args.max_new_tokens, temperature=args.temperature)
    sampling = [cfg.sampling(chain_seed(cfg.seed, p.id, i), len(q.options)) for p, i, q in questions]
    texts = [prompts.render_prompt(tokenizer, p, q) for p, _, q in questions]
    start = time.perf_counter()
    if args.row in ("hf", "vllm"):
        chains = [[(c.text, c.tokens) for c in cs]
                  for cs in engine.generate(texts, args.chains, sampling, more=None, on_done=None)]
    else:
        run = run_generate if args.row == "generate" else run_generate_batch
        chains = run(model, tokenizer, texts, sampling[0], args)
        chains = [[(cut_at_stop(t, sp.stop_regex), k) for t, k in cs] for cs, sp in zip(chains, sampling, strict=True)]
    seconds = time.perf_counter() - start

    correct = tokens = 0
    for (_, _, q), cs in zip(questions, chains, strict=True):
        samples = [voting.Sample(t, voting.extract_answer(t, len(q.options), q.options), 0.0, k) for t, k in cs]
        correct += voting.vote(samples).answer == q.answer
        tokens += sum(k for _, k in cs)
    n = len(questions)
    print("RESULT " + json.dumps({"questions": n, "startup": startup, "seconds": seconds, "tokens": tokens,
                                  "accuracy": correct / n, "peak_rss_gib": peak_rss_gib()}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--questions", type=int, default=24)
    parser.add_argument("--chains", type=int, default=1)
    parser.add_argument("--temperature", type=float, default=0.0, help="0: greedy")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--row", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.row:
        return child(args)

    from logictune import models

    model = models.resolve_model(args.model)  # fetched once here, not in every row
    rows = [r for r in args.rows.split(",") if r]
    if unknown := set(rows) - set(ROWS):
        sys.exit(f"unknown rows {sorted(unknown)}; choose from {', '.join(ROWS)}")
    passthrough = ["--model", model, "--dtype", args.dtype, "--questions", str(args.questions),
                   "--chains", str(args.chains), "--temperature", str(args.temperature),
                   "--max-new-tokens", str(args.max_new_tokens), "--batch-size", str(args.batch_size)]
    results = {}
    for row in rows:
        python, env = sys.executable, dict(os.environ)
        if row == "vllm":
            python, env["VLLM_CPU_KVCACHE_SPACE"] = str(VLLM_PYTHON), "1"
        print(f"[{row}] ...", flush=True)
        proc = subprocess.run([python, __file__, "--row", row, *passthrough], capture_output=True, text=True,
                              env=env)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if proc.returncode != 0 or line is None:
            lines = proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"]
            # The first exception line is the root cause (vLLM's worker logs it before EngineDeadError).
            error = next((m.group(0) for x in lines if (m := re.search(r"\w+(Error|Exception): .*", x))), lines[-1])
            results[row] = {"error": error}
            print(f"    FAILED (exit {proc.returncode}): {error}\n" + proc.stderr[-2000:], flush=True)
            continue
        r = results[row] = json.loads(line[len("RESULT "):])
        r["qps"], r["tps"] = r["questions"] / r["seconds"], r["tokens"] / r["seconds"]
        print(f"    start-up {r['startup']:.1f}s; {r['questions']} q in {r['seconds']:.1f}s = {r['qps']:.3f} q/s, "
              f"{r['tps']:.1f} tok/s, {r['tokens'] / r['questions']:.1f} tok/q, accuracy {r['accuracy']:.4f}, "
              f"peak RSS {r['peak_rss_gib']:.2f} GiB", flush=True)

    print(f"\nmodel {args.model}, dtype {args.dtype}, {args.chains} chain(s)/question, temperature "
          f"{args.temperature}, max_new_tokens {args.max_new_tokens}, batch {args.batch_size}")
    print("| engine | questions | start-up s | q/s | gen tok/s | tokens/q | accuracy | peak RSS GiB |\n"
          "|---|---|---|---|---|---|---|---|")
    for row, r in results.items():
        if "error" in r:
            print(f"| {row} | failed: {r['error'][:100]} | | | | | | |")
            continue
        print(f"| {row} | {r['questions']} | {r['startup']:.1f} | {r['qps']:.3f} | {r['tps']:.1f} | "
              f"{r['tokens'] / r['questions']:.1f} | {r['accuracy']:.4f} | {r['peak_rss_gib']:.2f} |")
    base = results.get("hf", {})
    if "qps" in base:
        for row, r in results.items():
            if row != "hf" and "qps" in r:
                print(f"{row} / hf: {r['qps'] / base['qps']:.2f}x q/s, {r['tps'] / base['tps']:.2f}x tok/s")


if __name__ == "__main__":
    main()
