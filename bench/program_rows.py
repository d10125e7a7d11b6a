"""The accuracy table of `predict --method program` against direct, from finished (or partial) runs.

Each run is NAME=PRED.jsonl (its details beside it). Rows are scored on the questions every run has
answered, so partial runs of a long job compare on the same questions. For a program run it also prints:
coverage (questions a computed, matched program answered), accuracy on those, the status mix of every
program, and the same run re-voted with constant guesses counted (recomputed from the details, no model).
Always-B and the majority letter of the scored questions stand beside every table.

    .venv/bin/python bench/program_rows.py split/val.jsonl direct=runs/direct/pred.jsonl \
        k1=runs/prog-k1/pred.jsonl adaptive=runs/prog-k5/pred.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from logictune import data, voting
from logictune.evaluate import mcnemar, wilson
from logictune.programs import STATUSES
from logictune.synth.census import tag_problem


def _acc(hits: list[bool]) -> str:
    k, n = sum(hits), len(hits)
    if not n:
        return "-"
    lo, hi = wilson(k, n)
    return f"{k / n:.3f} ({k}/{n}) [{lo:.2f}, {hi:.2f}]"


def revote_with_guesses(row: dict) -> str:
    """The row's answer had guesses voted too: every matched program votes; else the row's own fallback."""
    samples = [voting.Sample(s["text"], s.get("matched") if s.get("status") in ("ok", "guess") else None,
                             s["logprob"], s["tokens"]) for s in row["samples"]]
    return voting.vote(samples).answer or row["answer"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold")
    parser.add_argument("runs", nargs="+", help="NAME=PRED.jsonl")
    args = parser.parse_args()

    problems = data.load_problems(args.gold)
    gold = {(p.id, i): q.answer for p in problems for i, q in enumerate(p.questions)}
    family = {(p.id, i): tag_problem(p.problem, [q.question for q in p.questions])
              for p in problems for i in range(len(p.questions))}
    runs = {}
    for spec in args.runs:
        name, path = spec.split("=", 1)
        rows = [json.loads(x) for x in data.details_path(Path(path)).read_text(encoding="utf-8").splitlines() if x]
        runs[name] = {(r["id"], r["question_index"]): r for r in rows}
    keys = sorted(set(gold).intersection(*runs.values()))
    n = len(keys)
    print(f"{n} questions answered by every run (of {len(gold)})")
    letters = Counter(gold[k] for k in keys)
    top = letters.most_common(1)[0][0]
    print(f"always-B {_acc([gold[k] == 'B' for k in keys])}; majority letter {top}: {_acc([gold[k] == top for k in keys])}")

    print("\n| run | accuracy (k/n) [95 % CI] | tokens/question | samples/question | coverage | on covered |")
    print("|---|---|---|---|---|---|")
    for name, rows in runs.items():
        hits = [rows[k]["answer"] == gold[k] for k in keys]
        tokens = sum(s["tokens"] for k in keys for s in rows[k]["samples"] + rows[k].get("fallback_samples", []))
        samples = sum(len(rows[k]["samples"]) for k in keys)
        covered = [k for k in keys if rows[k]["method"] == "program" and not rows[k]["fallback"]]
        prog = rows[keys[0]]["method"] == "program"
        print(f"| {name} | {_acc(hits)} | {tokens / n:.0f} | {samples / n:.2f} | "
              f"{f'{len(covered) / n:.1%} ({len(covered)})' if prog else '-'} | "
              f"{_acc([rows[k]['answer'] == gold[k] for k in covered]) if prog else '-'} |")
        if prog:
            with_guesses = [revote_with_guesses(rows[k]) == gold[k] for k in keys]
            print(f"| {name}, guesses vote too | {_acc(with_guesses)} | | | | |")

    first, *rest = runs
    for name in rest:  # paired on the same questions: only those the two runs answer differently count
        only_a, only_b, p = mcnemar([runs[first][k]["answer"] == gold[k] for k in keys],
                                    [runs[name][k]["answer"] == gold[k] for k in keys])
        print(f"McNemar {name} vs {first}: {only_b} questions only {name} got right, {only_a} only {first}; "
              f"exact two-sided p = {p:.3f}")

    fams = sorted(set(family[k] for k in keys), key=lambda f: -sum(family[k] == f for k in keys))
    print("\n| family | n | always-B | " + " | ".join(runs) + " |")
    print("|---|---|---|" + "---|" * len(runs))
    for f in fams:
        ks = [k for k in keys if family[k] == f]
        cells = [f"{sum(r[k]['answer'] == gold[k] for k in ks) / len(ks):.2f}" for r in runs.values()]
        print(f"| {f} | {len(ks)} | {sum(gold[k] == 'B' for k in ks) / len(ks):.2f} | " + " | ".join(cells) + " |")

    for name, rows in runs.items():
        samples = [s for k in keys for s in rows[k]["samples"] if "status" in s]
        if not samples:
            continue
        print(f"\n{name}: {len(samples)} programs")
        print("| status | programs | share | matched the key / matched |")
        print("|---|---|---|---|")
        for status in STATUSES:
            got = [(k, s) for k in keys for s in rows[k]["samples"] if s.get("status") == status]
            if got:
                right = [s["matched"] == gold[k] for k, s in got if s.get("matched")]
                print(f"| {status} | {len(got)} | {len(got) / len(samples):.1%} | "
                      f"{f'{sum(right)}/{len(right)} = {sum(right) / len(right):.2f}' if right else '-'} |")


if __name__ == "__main__":
    main()
