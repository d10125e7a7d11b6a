"""Synthetic program rationales, per family: how many distinct AST shapes, how long, and the sandbox pass rate.

Renders one puzzle per seed and family (the seeds of tests/test_synth_programs.py's sweep), runs every
question's program in the sandbox and matches its output to the options (programs.match_output). Tokens are
counted with the model's tokenizer when it is cached (else the tokenizer-free estimate of distill_cost.py).

    .venv/bin/python bench/synth_programs.py --seeds 200
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter

from logictune import programs as answers
from logictune import sandbox
from logictune.distill_cost import approx_tokens
from logictune.synth import FAMILIES, make_puzzle
from logictune.synth import programs as P


def _counter(spec: str | None):
    """(how tokens are counted, a function code -> tokens)."""
    if spec:
        try:
            from logictune.models import load_tokenizer

            tok = load_tokenizer(spec)
            return spec, lambda code: len(tok(code, add_special_tokens=False)["input_ids"])
        except Exception as e:  # noqa: BLE001 - no cached model: say so and estimate
            print(f"no tokenizer for {spec} ({type(e).__name__}): estimating")
    return "estimate (0.8/CJK char, 0.25/other)", lambda code: approx_tokens([{"content": code}]) - 4


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--tokenizer", default="qwen2.5-coder-0.5b", help="model spec whose tokenizer counts; '' to estimate")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    how, count = _counter(args.tokenizer)
    print(sandbox.isolation().describe())
    print(f"tokens: {how}\n")
    print("| family | puzzles | programs | AST shapes | tokens mean / max | lines mean / max | passed | seconds |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for family in args.families.split(","):
        puzzles = [make_puzzle(family, random.Random(f"test:{family}:{s}")) for s in range(args.seeds)]
        jobs = P.jobs_for(puzzles, [f"s{s}" for s in range(args.seeds)], where=f"{family} ")
        start = time.perf_counter()
        with sandbox.Pool(workers=args.workers, limits=sandbox.Limits(timeout=10.0, cpu_seconds=10)) as pool:
            results = pool.map([j.code for j in jobs])
        seconds = time.perf_counter() - start
        passed = sum(r.status == "ok" and answers.match_output(r.stdout, j.options) == j.answer
                     and not answers.is_guess(j.code) for j, r in zip(jobs, results, strict=True))
        shapes = Counter(P.ast_shape(j.code) for j in jobs)
        tokens = [count(j.code) for j in jobs]
        lines = [j.code.count("\n") for j in jobs]
        print(f"| {family} | {len(puzzles)} | {len(jobs)} | {len(shapes)} | {statistics.mean(tokens):.0f} / {max(tokens)} "
              f"| {statistics.mean(lines):.1f} / {max(lines)} | {passed}/{len(jobs)} ({passed / len(jobs):.0%}) "
              f"| {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
