"""Recipe against recipe: the seed's real recipe and `logictune predict`, on the same model and questions.

The table in bench/README.md's `predict` section came from an earlier row a, which was not the seed recipe
(chat-template prompt, temperature 0.7 / top-p 0.9, a `(.)` regex, no retry). This form's row a was run once,
on an fp32-only 2-core machine, and did not finish 6 questions in 12.7 minutes (bench/README.md).

Rows (each in its own subprocess, so peak RSS is per row):
  a  the seed recipe as it really was: a raw-text prompt without chat template (instruction, then
     "### 题目:", "### 问题:", options as "A: ..." lines, "### 分析过程"); `pipeline(prompt, max_new_tokens=M,
     truncation=True, num_return_sequences=3, do_sample=True)` with the model's default sampling; the
     prompt stripped, the text cut at the first "---", "### 题目" or "### 问题"; the first `答案是：[A-Z]`;
     a vote in which None counts, one retry when None wins, "C" when it wins again
  b  logictune predict with its defaults (adaptive, 5-vote budget)       (same questions as a)
  c  logictune predict, adaptive with a 5-vote budget                   (the larger question set)
  d  logictune predict, fixed 5 votes                                   (same questions as c)
  e  logictune predict --method direct                                  (same questions as c)

Questions come from the validation side of `data.split(train, 0.2, seed=0)`: held out from training.
Engine against engine on one prompt (hf, model.generate, generate_batch, vLLM) is not here yet.

    .venv/bin/python bench/predict_vs_pipeline.py --seed-questions 12 --questions 120 --max-new-tokens 256
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT.parent / "shared" / "data" / "round1_train_data.jsonl"


def held_out(n_questions: int, path: Path) -> None:
    """The first problems of the validation split holding at least ``n_questions`` questions."""
    from logictune import data

    _, val = data.split(data.load_problems(TRAIN), 0.2, seed=0)
    chosen, count = [], 0
    for p in val:
        if count >= n_questions:
            break
        chosen.append(p)
        count += len(p.questions)
    data.write_problems(chosen, path)


_SEED_CUTS = re.compile(r"---|### 题目|### 问题")
_SEED_ANSWER = re.compile(r"答案是：([A-Z])")


def seed_prompt(problem, question) -> str:
    """The seed's raw-text prompt: no chat template, options as "A: text" lines."""
    from logictune import prompts

    options = "\n".join(f"{chr(65 + k)}: {o}" for k, o in enumerate(question.options))
    return (f"{prompts.INSTRUCTION}\n\n### 题目:\n{problem.problem}\n\n### 问题:\n{question.body}\n{options}"
            "\n\n### 分析过程\n")


def seed_answers(texts: list[str], prompt: str) -> list[str | None]:
    out = []
    for text in texts:
        text = text[len(prompt):] if text.startswith(prompt) else text  # the pipeline returns prompt + completion
        text = _SEED_CUTS.split(text, maxsplit=1)[0]
        m = _SEED_ANSWER.search(text)
        out.append(m.group(1) if m else None)
    return out


def run_seed(args, problems_file: Path) -> dict:
    """The seed recipe, reproduced: one pipeline call per question (two when None wins the vote)."""
    from transformers import pipeline

    from logictune import data, models

    model, tokenizer = models.load_model(args.model, dtype=args.dtype)
    generator = pipeline("text-generation", model=model, tokenizer=tokenizer)
    problems = data.load_problems(problems_file)
    answers, tokens, retries = {}, 0, 0
    start = time.perf_counter()
    for p in problems:
        for i, q in enumerate(p.questions):
            prompt = seed_prompt(p, q)
            for attempt in range(2):
                outs = generator(prompt, max_new_tokens=args.max_new_tokens, truncation=True,
                                 num_return_sequences=3, do_sample=True)
                texts = [o["generated_text"] for o in outs]
                tokens += sum(len(tokenizer(t[len(prompt):], add_special_tokens=False).input_ids) for t in texts)
                winner = Counter(seed_answers(texts, prompt)).most_common(1)[0][0]  # None is a candidate
                if winner is not None:
                    break
                retries += attempt == 0
            answers[(p.id, i)] = winner or "C"
    elapsed = time.perf_counter() - start
    n = len(answers)
    correct = sum(answers[(p.id, i)] == q.answer for p in problems for i, q in enumerate(p.questions))
    return {"questions": n, "seconds": elapsed, "accuracy": correct / n, "tokens_per_question": tokens / n,
            "retries": retries}


def run_logictune(args, problems_file: Path, votes: int, adaptive: bool, method: str) -> dict:
    from logictune import data, evaluate, models, predict
    from logictune.engines import get_engine

    model, tokenizer = models.load_model(args.model, dtype=args.dtype)
    engine = get_engine("hf", model, tokenizer, batch_size=args.batch_size)
    problems = data.load_problems(problems_file)
    cfg = predict.PredictConfig(method=method, votes=votes, adaptive=adaptive, max_new_tokens=args.max_new_tokens)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pred.jsonl"
        summary = predict.predict(problems, engine, tokenizer, out, cfg)
        m = evaluate.evaluate(out, problems_file)
    d = m["details"]
    return {"questions": m["n"], "seconds": summary["seconds"], "accuracy": m["accuracy"],
            "tokens_per_question": d["mean_tokens"], "samples_per_question": d["mean_samples"],
            "fallback_rate": d["fallback_rate"]}


ROWS = {
    "a": ("seed recipe (raw prompt, pipeline, 3 samples, retry)", "seed"),
    "b": ("logictune predict, defaults", "seed"),
    "c": ("logictune, adaptive (budget 5)", "main"),
    "d": ("logictune, fixed 5 votes", "main"),
    "e": ("logictune, direct", "main"),
}


def child(args) -> None:
    problems_file = Path(args.problems)
    if args.row == "a":
        result = run_seed(args, problems_file)
    else:
        votes, adaptive, method = {"b": (5, True, "cot"), "c": (5, True, "cot"), "d": (5, False, "cot"),
                                   "e": (1, False, "direct")}[args.row]
        result = run_logictune(args, problems_file, votes, adaptive, method)
    result["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print("RESULT " + json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--seed-questions", type=int, default=12, help="questions for rows a and b")
    parser.add_argument("--questions", type=int, default=120, help="questions for rows c, d and e")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rows", default="abcde")
    parser.add_argument("--row", help=argparse.SUPPRESS)
    parser.add_argument("--problems", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.row:
        return child(args)

    work = Path(tempfile.mkdtemp(prefix="logictune-bench-"))
    files = {"seed": work / "seed.jsonl", "main": work / "main.jsonl"}
    held_out(args.seed_questions, files["seed"])
    held_out(args.questions, files["main"])
    passthrough = ["--model", args.model, "--dtype", args.dtype, "--max-new-tokens", str(args.max_new_tokens),
                   "--batch-size", str(args.batch_size)]
    results = {}
    for row in args.rows:
        name, which = ROWS[row]
        print(f"[{row}] {name} ...", flush=True)
        proc = subprocess.run([sys.executable, __file__, "--row", row, "--problems", str(files[which]), *passthrough],
                              capture_output=True, text=True)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if proc.returncode != 0 or line is None:
            sys.exit(f"row {row} failed:\n{proc.stderr[-3000:]}")
        results[row] = json.loads(line[len("RESULT "):])
        r = results[row]
        print(f"    {r['questions']} q in {r['seconds']:.1f}s = {r['questions'] / r['seconds']:.3f} q/s, "
              f"accuracy {r['accuracy']:.4f}, {r['tokens_per_question']:.1f} tok/q, "
              f"peak RSS {r['peak_rss_gib']:.2f} GiB", flush=True)

    print(f"\nmodel {args.model}, max_new_tokens {args.max_new_tokens}, batch {args.batch_size} (row a: the "
          "model's default sampling; rows b-e: logictune's defaults)")
    print("| row | what | questions | q/s | accuracy | tokens/q | peak RSS GiB |\n|---|---|---|---|---|---|---|")
    for row, r in results.items():
        print(f"| {row} | {ROWS[row][0]} | {r['questions']} | {r['questions'] / r['seconds']:.3f} | "
              f"{r['accuracy']:.4f} | {r['tokens_per_question']:.1f} | {r['peak_rss_gib']:.2f} |")
    qps = {row: r["questions"] / r["seconds"] for row, r in results.items()}
    if "a" in qps and "b" in qps:
        print(f"\nrecipe against recipe, b/a: {qps['b'] / qps['a']:.1f}x questions/s, accuracy "
              f"{results['b']['accuracy']:.4f} vs {results['a']['accuracy']:.4f}")
    if "c" in results and "d" in results:
        c, d = results["c"], results["d"]
        print(f"adaptive c vs fixed-5 d: {c['tokens_per_question'] / d['tokens_per_question']:.2f}x tokens, "
              f"accuracy {c['accuracy']:.4f} vs {d['accuracy']:.4f} ({100 * (c['accuracy'] - d['accuracy']):+.1f} pt), "
              f"{c['samples_per_question']:.2f} vs {d['samples_per_question']:.2f} chains/question")


if __name__ == "__main__":
    main()
