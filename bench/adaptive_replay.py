"""Replay adaptive stopping on the chains of a fixed-vote run: how many chains and tokens each rule saves.

Chains are sampled independently, so the first k chains of a fixed-budget run are a fair draw of what an
adaptive run would have sampled. Given `OUT.details.jsonl` from `logictune predict --no-adaptive --votes 5`
and the gold file, this prints, for each rule, chains and tokens per question relative to the full budget,
and accuracy against the full vote.

    .venv/bin/python bench/adaptive_replay.py runs/fixed5/pred.details.jsonl data/split/val.jsonl
"""

from __future__ import annotations

import argparse
import json

from logictune import data, voting


def replay(samples: list[voting.Sample], budget: int, first_round: int, confidence: float | None) -> int:
    """How many of ``samples`` (in order) the adaptive rule draws before it stops."""
    drawn = min(first_round, budget)
    while drawn < budget:
        votes = voting.vote(samples[:drawn]).votes
        if voting.is_decided(votes, budget, drawn, confidence=confidence):
            break
        drawn += voting.next_round_size(votes, budget, drawn, first_round=first_round)
    return min(drawn, budget)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("details")
    parser.add_argument("gold")
    parser.add_argument("--budget", type=int, default=5)
    args = parser.parse_args()

    gold = {(p.id, i): q.answer for p in data.load_problems(args.gold) for i, q in enumerate(p.questions)}
    rows = [json.loads(line) for line in open(args.details, encoding="utf-8")]
    rows = [r for r in rows if len(r["samples"]) >= args.budget and (r["id"], r["question_index"]) in gold]
    full_tokens = sum(s["tokens"] for r in rows for s in r["samples"][: args.budget])
    print(f"{len(rows)} questions with {args.budget} chains each")
    print("| first round | confidence | chains/q | chain ratio | token ratio | accuracy | full-vote accuracy |")
    print("|---|---|---|---|---|---|---|")
    for first_round in (2, 3):
        for confidence in (None, 0.95, 0.9, 0.85, 0.8, 0.7, 0.65):
            chains = tokens = correct = full_correct = 0
            for r in rows:
                samples = [voting.Sample(**s) for s in r["samples"][: args.budget]]
                k = replay(samples, args.budget, first_round, confidence)
                chains += k
                tokens += sum(s.tokens for s in samples[:k])
                key = (r["id"], r["question_index"])
                correct += (voting.vote(samples[:k]).answer or r["answer"]) == gold[key]
                full_correct += (voting.vote(samples).answer or r["answer"]) == gold[key]
            n = len(rows)
            print(f"| {first_round} | {confidence or 'sure rule only'} | {chains / n:.2f} | "
                  f"{chains / (n * args.budget):.2f} | {tokens / full_tokens:.2f} | {correct / n:.4f} | "
                  f"{full_correct / n:.4f} |")


if __name__ == "__main__":
    main()
