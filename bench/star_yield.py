"""STaR's yield by census family: of the questions a distill run settled, how many got a kept rationale.

A settled question is one in OUT (kept) or in OUT's .failed.jsonl; a killed run's unsettled questions are
not counted. Several runs (rounds) print side by side, each with its Wilson interval.

    .venv/bin/python bench/star_yield.py runs/split/train.jsonl round1=runs/star1/programs.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from logictune import data
from logictune.evaluate import wilson
from logictune.synth.census import tag_problem


def settled(out: Path) -> tuple[set, set]:
    """(kept, failed) question keys of a distill output and its failed file."""
    def keys(path: Path) -> set:
        if not path.exists():
            return set()
        return {(r["id"], r["question_index"]) for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
    kept = keys(out)
    return kept, keys(out.with_suffix(".failed.jsonl")) - kept


def families(problems) -> dict:
    return {(p.id, i): tag_problem(p.problem, [q.question for q in p.questions])
            for p in problems for i in range(len(p.questions))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("runs", nargs="+", help="NAME=OUT.jsonl")
    args = ap.parse_args()
    family = families(data.load_problems(args.data))
    for spec in args.runs:
        name, _, out = spec.partition("=")
        kept, failed = settled(Path(out))
        tried, won = Counter(family[k] for k in kept | failed), Counter(family[k] for k in kept)
        print(f"\n{name}: {len(kept)} kept of {len(kept | failed)} settled questions")
        print(f"{'family':<12} {'kept':>5} {'tried':>6}  yield [95% CI]")
        for fam in sorted(tried, key=lambda f: -tried[f]) + ["all"]:
            k, n = (len(kept), len(kept | failed)) if fam == "all" else (won[fam], tried[fam])
            lo, hi = wilson(k, n)
            print(f"{fam:<12} {k:>5} {n:>6}  {k / n:.2f} [{lo:.2f}, {hi:.2f}]")


if __name__ == "__main__":
    main()
