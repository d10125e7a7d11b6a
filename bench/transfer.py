"""Does training on synthetic puzzles transfer to the real questions? Base against synth-tuned, side by side.

    python bench/transfer.py --val VAL.jsonl --adapter RUN_DIR --out-dir OUT [--model M] [--votes 1]

Runs `logictune predict` (skipped when its output exists; predict itself resumes) for the base model and
the adapter, each with --method cot and --method direct, then prints one Markdown table: accuracy with
its 95 % Wilson interval, tokens per question, how many chains state an answer, how long they are, and
accuracy per family of the census (`logictune data families`), so one can see which families gain.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from logictune import data
from logictune.evaluate import load_details, wilson
from logictune.synth.census import tag_problem


def run_predict(name: str, args, method: str, adapter: str | None) -> tuple[Path, float | None]:
    out = Path(args.out_dir) / name / "pred.jsonl"
    if out.exists():
        return out, None
    cmd = [sys.executable, "-m", "logictune", "predict", "--data", args.val, "--out", str(out), "--model", args.model,
           "--method", method, "--max-new-tokens", str(args.max_new_tokens), "--batch-size", str(args.batch_size)]
    if method == "cot":
        cmd += ["--votes", str(args.votes)] + (["--temperature", "0"] if args.votes == 1 else [])
    if adapter:
        cmd += ["--adapter", adapter]
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    seconds = time.perf_counter() - start
    (out.parent / "wall.txt").write_text(f"{seconds:.1f}\n")
    return out, seconds


def summarise(name: str, pred: Path, gold: list[data.Problem]) -> dict:
    key = {(p.id, i): q.answer for p in gold for i, q in enumerate(p.questions)}
    family = {p.id: tag_problem(p.problem, [q.question for q in p.questions]) for p in gold}
    rows = load_details(data.details_path(pred))
    correct = [r["answer"] == key[(r["id"], r["question_index"])] for r in rows]
    samples = [s for r in rows for s in r["samples"]]
    by_family: dict[str, list[bool]] = defaultdict(list)
    for r, ok in zip(rows, correct, strict=True):
        by_family[family[r["id"]]].append(ok)
    wall = pred.parent / "wall.txt"
    n = len(rows)
    return {
        "name": name, "n": n, "correct": sum(correct), "accuracy": sum(correct) / n,
        "tokens_per_q": sum(s["tokens"] for s in samples) / n,
        "stated": sum(s.get("answer") is not None for s in samples) / max(len(samples), 1),
        "chars_per_chain": sum(len(s.get("text", "")) for s in samples) / max(len(samples), 1),
        "reasoning": sum(len(s.get("text", "").strip().splitlines()) > 1 for s in samples) / max(len(samples), 1),
        "wall_s": float(wall.read_text()) if wall.exists() else None,
        "families": {f: (sum(v), len(v)) for f, v in by_family.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--val", required=True)
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--votes", type=int, default=1, help="1: one greedy chain; more: sampled self-consistency")
    ap.add_argument("--max-new-tokens", type=int, default=512)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--only", default=None, help="Comma-separated rows to run now (the table shows those done).")
    args = ap.parse_args()

    gold = data.load_problems(args.val)
    results = []
    for name, method, adapter in [("base-direct", "direct", None), ("base-cot", "cot", None),
                                  ("synth-direct", "direct", args.adapter), ("synth-cot", "cot", args.adapter)]:
        if args.only and name not in args.only.split(","):
            done = Path(args.out_dir) / name / "pred.jsonl"
            if done.exists():
                results.append(summarise(name, done, gold))
            continue
        pred, _ = run_predict(name, args, method, adapter)
        results.append(summarise(name, pred, gold))

    always_b = sum(q.answer == "B" for p in gold for q in p.questions)
    total = sum(len(p.questions) for p in gold)
    print(f"\n{total} validation questions; always-B {always_b / total:.3f}\n")
    print("| model | accuracy | 95 % CI | tokens/q | chains with reasoning | chains stating an answer "
          "| chars/chain | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        lo, hi = wilson(r["correct"], r["n"])
        wall = "-" if r["wall_s"] is None else f"{r['wall_s']:.0f}"
        print(f"| {r['name']} | {r['accuracy']:.3f} ({r['correct']}/{r['n']}) | [{lo:.2f}, {hi:.2f}] "
              f"| {r['tokens_per_q']:.0f} | {r['reasoning']:.0%} | {r['stated']:.0%} | {r['chars_per_chain']:.0f} "
              f"| {wall} |")
    families = sorted({f for r in results for f in r["families"]}, key=lambda f: -results[0]["families"][f][1]
                      if f in results[0]["families"] else 0)
    print("\n| family | n | " + " | ".join(r["name"] for r in results) + " |")
    print("|---|---|" + "---|" * len(results))
    for f in families:
        n = results[0]["families"].get(f, (0, 0))[1]
        cells = [f"{r['families'][f][0] / r['families'][f][1]:.2f}" if f in r["families"] else "-" for r in results]
        print(f"| {f} | {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
