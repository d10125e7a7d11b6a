"""The letter bias (`logictune letter-bias`), chosen on the training split and then scored on validation.

1. On the training split, from a direct run's option probabilities: two folds by problem, each kind
   (prior, matched) at each weight on the model's log-probs fit on one fold and scored on the other, and
   `--weight auto` (choose_weight on the fitting fold). The variant is chosen here, not on validation.
2. `--program-run PRED`: a program run (k=1, else direct) on some training problems. Each variant is fit on
   the other training problems and replayed on this run: the questions programs leave to the fallback are
   not a random sample (knowledge questions, say, where the model's own answer may carry more), so the
   weight for the program method is chosen here.
3. Each kind fit on the whole training split, replayed on validation runs: a row's answer is its vote where
   programs answered, else argmax(log option_probs + bias). Exact: predict records the raw probabilities
   (option_probs) wherever they picked the answer, and the bias only moves that argmax.

    .venv/bin/python bench/letter_bias_rows.py runs/split/train.jsonl runs/bias/train-direct.jsonl \
        direct=runs/bias/val-direct.jsonl program=runs/val-k5/pred.jsonl --val runs/split/val.jsonl
"""

from __future__ import annotations

import argparse
import random
from collections import Counter

from program_rows import _acc  # bench/ is on the path when this runs as a script

from logictune import data, letter_bias
from logictune.evaluate import mcnemar
from logictune.runfiles import read_details_only

VARIANTS = {"none": None, "prior": ("prior", 1.0), "matched": ("matched", 1.0),
            **{f"prior w={w:g}": ("prior", w) for w in letter_bias.WEIGHTS if w < 1},
            **{f"matched w={w:g}": ("matched", w) for w in letter_bias.WEIGHTS if 0 < w < 1},
            "auto (matched)": ("matched", "auto")}


def _fit(problems, rows, variant: str):
    if VARIANTS[variant] is None:
        return None
    kind, weight = VARIANTS[variant]
    items = letter_bias.labelled_from_details(rows, problems)
    return letter_bias.choose_weight(items, kind) if weight == "auto" else letter_bias.fit(items, kind, weight)


def answer(row: dict, letters: str, bias) -> str:
    """The row's answer with ``bias`` on its option likelihoods (its own answer where a vote decided it)."""
    probs = row.get("option_probs")
    if not probs or (row["method"] != "direct" and not row["fallback"]):
        return row["answer"]
    return letter_bias.answer_from_probs([probs[x] for x in letters], bias)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("train_gold")
    parser.add_argument("train_direct", help="a predict --method direct run on train_gold")
    parser.add_argument("--val", help="validation gold")
    parser.add_argument("runs", nargs="*", help="NAME=PRED.jsonl on --val")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--program-run", help="a program run on some of train_gold's problems")
    args = parser.parse_args()

    train = data.load_problems(args.train_gold)
    rows = read_details_only(data.details_path(args.train_direct))
    by_key = {(r["id"], r["question_index"]): r for r in rows}
    kinds = tuple(VARIANTS)

    order = [p.id for p in train]
    random.Random(args.seed).shuffle(order)
    half = set(order[: len(order) // 2])
    folds = [[p for p in train if p.id in half], [p for p in train if p.id not in half]]
    print(f"training split, 2 folds by problem ({len(folds[0])} / {len(folds[1])} problems), direct answers:")
    keys = [(p.id, i, q) for p in train for i, q in enumerate(p.questions)]
    gold = Counter(q.answer for *_, q in keys)
    print(f"always-B {_acc([q.answer == 'B' for *_, q in keys])}; letters {dict(sorted(gold.items()))}")
    print("\n| variant | accuracy on the held-out fold, both folds [95 % CI] | weight chosen |\n|---|---|---|")
    for kind in kinds:
        hits, chosen = [], []
        for fit_on, score_on in ((folds[0], folds[1]), (folds[1], folds[0])):
            bias = _fit(fit_on, rows, kind)
            chosen.append(f"{bias.weight:g}" if bias else "-")
            hits += [answer(by_key[(p.id, i)], q.letters, bias) == q.answer
                     for p in score_on for i, q in enumerate(p.questions)]
        print(f"| {kind} | {_acc(hits)} | {', '.join(chosen)} |")

    if args.program_run:
        run = {(r["id"], r["question_index"]): r for r in read_details_only(data.details_path(args.program_run))}
        inside = {pid for pid, _ in run}
        scored = [(p, i, q) for p in train if p.id in inside for i, q in enumerate(p.questions) if (p.id, i) in run]
        rest = [p for p in train if p.id not in inside]
        fell = sum(run[(p.id, i)]["fallback"] for p, i, _ in scored)
        print(f"\nprogram run on {len(scored)} training questions ({fell} to the fallback), each variant fit on "
              f"the other {len(rest)} problems:")
        print(f"always-B {_acc([q.answer == 'B' for *_, q in scored])}")
        print("| variant | accuracy [95 % CI] | on the fallback questions |\n|---|---|---|")
        for kind in kinds:
            bias = _fit(rest, rows, kind)
            got = [(answer(run[(p.id, i)], q.letters, bias) == q.answer, run[(p.id, i)]["fallback"]) for p, i, q in scored]
            print(f"| {kind}{f' (weight {bias.weight:g})' if bias else ''} | {_acc([h for h, _ in got])} | "
                  f"{_acc([h for h, f in got if f])} |")

    if not args.val:
        return
    fitted = {kind: _fit(train, rows, kind) for kind in ("none", "prior", "matched", "auto (matched)")}
    for kind, b in fitted.items():
        if b:
            print(f"\n{kind}, weight {b.weight:g}, fit on all {sum(b.questions.values())} training questions: "
                  + "; ".join(f"{n} options " + " ".join(f"{x:+.2f}" for x in v) for n, v in sorted(b.bias.items())))
    val = data.load_problems(args.val)
    for spec in args.runs:
        name, path = spec.split("=", 1)
        run = {(r["id"], r["question_index"]): r for r in read_details_only(data.details_path(path))}
        keys = [(p.id, i, q) for p in val for i, q in enumerate(p.questions) if (p.id, i) in run]
        top, _ = Counter(q.answer for *_, q in keys).most_common(1)[0]
        print(f"\n{name}: {len(keys)} validation questions; always-B {_acc([q.answer == 'B' for *_, q in keys])}; "
              f"majority letter {top}")
        print("| kind | accuracy [95 % CI] | answers changed | vs none: only this / only none, p |\n|---|---|---|---|")
        plain = [answer(run[(pid, i)], q.letters, None) == q.answer for pid, i, q in keys]
        for kind, b in fitted.items():
            got = [answer(run[(pid, i)], q.letters, b) for pid, i, q in keys]
            hits = [g == q.answer for g, (*_, q) in zip(got, keys, strict=True)]
            changed = sum(g != run[(pid, i)]["answer"] for g, (pid, i, _) in zip(got, keys, strict=True))
            a, c, p = mcnemar(hits, plain)
            print(f"| {kind} | {_acc(hits)} | {changed} | {a} / {c}, p = {p:.3f} |")


if __name__ == "__main__":
    main()
