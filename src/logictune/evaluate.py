"""Score a submission against gold answers: accuracy, slices, calibration from the details file, a report.

Nothing here runs a model; it reads what ``logictune predict`` wrote.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from . import data
from .data import Problem
from .programs import STATUSES

# Vote-agreement bins [lo, hi); one more bin after them holds the unanimous votes (agreement == 1).
AGREEMENT_EDGES = (0.0, 0.4, 0.6, 0.8, 1.0)


@dataclass(frozen=True)
class Pair:
    """One question: its gold answer and the predicted one."""

    id: str
    question_index: int
    n_options: int
    gold: str
    pred: str

    @property
    def correct(self) -> bool:
        return self.gold == self.pred


# ---------------------------------------------------------------- align


def _few(items: Sequence[str], k: int = 5) -> str:
    shown = ", ".join(items[:k])
    return shown + (f", ... ({len(items)} in all)" if len(items) > k else "")


def align(pred: list[Problem], gold: list[Problem]) -> list[Pair]:
    """Pair every gold question with its prediction, matching problems by id (order may differ).

    Raises ValueError naming what does not line up: missing or extra ids, question counts,
    options, unanswered questions.
    """
    issues: dict[str, list[str]] = {}

    def note(kind: str, what: str) -> None:
        issues.setdefault(kind, []).append(what)

    for name, problems in (("pred", pred), ("gold", gold)):
        for pid, n in Counter(p.id for p in problems).items():
            if n > 1:
                note(f"duplicate id in {name}", f"{pid!r} ({n} times)")
    pred_by_id = {p.id: p for p in pred}
    gold_ids = {p.id for p in gold}
    for p in gold:
        if p.id not in pred_by_id:
            note("missing from pred", repr(p.id))
    for p in pred:
        if p.id not in gold_ids:
            note("extra in pred (not in gold)", repr(p.id))

    pairs: list[Pair] = []
    for g in gold:
        p = pred_by_id.get(g.id)
        if p is None:
            continue
        if len(p.questions) != len(g.questions):
            note("question count differs", f"{g.id!r} (gold {len(g.questions)}, pred {len(p.questions)})")
            continue
        for i, (gq, pq) in enumerate(zip(g.questions, p.questions, strict=True)):
            where = f"{g.id}#{i}"
            if gq.options != pq.options:
                note("options differ", f"{where} (gold {len(gq.options)} options, pred {len(pq.options)})")
            elif gq.answer is None:
                note("gold question without answer", where)
            elif pq.answer is None:
                note("pred question without answer", where)
            else:
                pairs.append(Pair(g.id, i, len(gq.options), gq.answer, pq.answer))
    if issues:
        lines = [f"  {kind}: {len(items)}: {_few(items)}" for kind, items in issues.items()]
        raise ValueError("pred and gold do not line up:\n" + "\n".join(lines))
    return pairs


# ---------------------------------------------------------------- metrics


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion k/n (honest at small n, unlike p ± 1.96·se)."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def mcnemar(a: Sequence[bool], b: Sequence[bool]) -> tuple[int, int, float]:
    """Exact McNemar test of two runs scored on the same questions: (questions only ``a`` got right, only
    ``b`` got right, two-sided p). Only the questions where they differ carry evidence; under "no difference"
    each of those is a fair coin, so p is the binomial tail (doubled, at most 1)."""
    if len(a) != len(b):
        raise ValueError(f"paired runs must score the same questions: {len(a)} != {len(b)}")
    only_a = sum(x and not y for x, y in zip(a, b, strict=True))
    only_b = sum(y and not x for x, y in zip(a, b, strict=True))
    n = only_a + only_b
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2 ** n if n else 1.0
    return only_a, only_b, min(1.0, 2 * tail)


def _rate(k: float, n: int) -> float | None:
    return k / n if n else None


def _slice(pairs: Sequence[Pair]) -> dict:
    correct = sum(p.correct for p in pairs)
    return {"n": len(pairs), "correct": correct, "accuracy": _rate(correct, len(pairs))}


def agreement(row: dict) -> float | None:
    """Winner votes / samples that yielded an answer; None when no sample did."""
    answered = [s["answer"] for s in row.get("samples") or [] if s.get("answer")]
    if not answered:
        return None
    votes = row.get("votes") or Counter(answered)
    return max(votes.values()) / len(answered)


def _bins() -> list[tuple[str, float, float]]:
    edges = AGREEMENT_EDGES
    bins = [(f"[{lo:.1f}, {hi:.1f})", lo, hi) for lo, hi in zip(edges, edges[1:], strict=False)]
    return bins + [("1.0 (unanimous)", edges[-1], edges[-1])]


def _calibration(rows: Sequence[tuple[Pair, dict]]) -> dict:
    bins = _bins()
    members: list[list[tuple[Pair, float]]] = [[] for _ in bins]
    unvoted: list[Pair] = []
    for pair, row in rows:
        a = agreement(row)
        if a is None:
            unvoted.append(pair)
            continue
        i = len(bins) - 1 if a >= bins[-1][1] else max(j for j, (_, lo, _) in enumerate(bins[:-1]) if a >= lo)
        members[i].append((pair, a))
    table = []
    for (label, lo, hi), got in zip(bins, members, strict=True):
        s = _slice([p for p, _ in got])
        table.append({"bin": label, "lo": lo, "hi": hi, **s,
                      "mean_agreement": _rate(sum(a for _, a in got), len(got))})
    return {"bins": table, "unvoted": _slice(unvoted)}


def answer_source(row: dict) -> str:
    """Where a question's answer came from: "vote" (samples voted), "cot" (fallback chains), "direct"."""
    if not row.get("fallback"):
        return "direct" if row.get("method") == "direct" else "vote"
    return row.get("fallback_method") or "direct"


def _program_metrics(rows: Sequence[tuple[Pair, dict]]) -> dict | None:
    """Program runs: answers by source, every program by status (with how often a matched output was the
    key), and questions by the status of their programs (a fallback question: its programs' commonest)."""
    rows = [(p, r) for p, r in rows if r.get("method") == "program"]
    if not rows:
        return None
    samples = [(p, s) for p, r in rows for s in r.get("samples") or []]
    by_status = {}
    for status in STATUSES:
        got = [(p, s) for p, s in samples if s.get("status") == status]
        matched = [(p, s) for p, s in got if s.get("matched")]
        by_status[status] = {"n": len(got), "share": _rate(len(got), len(samples)), "matched": len(matched),
                             "matched_right": _rate(sum(s["matched"] == p.gold for p, s in matched), len(matched))}

    def question_status(r: dict) -> str:
        if not r.get("fallback"):
            return "ok"
        counts = Counter(s.get("status") for s in r.get("samples") or [])
        return "fallback: " + (counts.most_common(1)[0][0] if counts else "no samples")

    return {
        "by_source": {k: _slice([p for p, r in rows if answer_source(r) == k]) for k in ("vote", "cot", "direct")},
        "by_sample_status": by_status,
        "by_question_status": {k: _slice([p for p, r in rows if question_status(r) == k])
                               for k in sorted({question_status(r) for _, r in rows})},
        "coverage": _rate(sum(not r.get("fallback") for _, r in rows), len(rows)),
    }


def _detail_metrics(pairs: Sequence[Pair], details: Sequence[dict]) -> dict:
    by_key = {(str(r["id"]), int(r["question_index"])): r for r in details}
    keys = {(p.id, p.question_index) for p in pairs}
    rows = [(p, by_key[(p.id, p.question_index)]) for p in pairs if (p.id, p.question_index) in by_key]
    samples = [s for _, r in rows for s in r.get("samples") or []]
    fallback = [p for p, r in rows if r.get("fallback")]
    return {
        "rows": len(rows),
        "missing": len(pairs) - len(rows),  # questions without a details row
        "unmatched": sum(k not in keys for k in by_key),  # details rows for no scored question
        "answer_mismatch": sum(r.get("answer") != p.pred for p, r in rows),
        "methods": dict(sorted(Counter(str(r.get("method")) for _, r in rows).items())),
        "fallbacks": len(fallback),
        "fallback_rate": _rate(len(fallback), len(rows)),
        "fallback_accuracy": _slice(fallback)["accuracy"],
        "samples": len(samples),
        "extraction_failures": sum(s.get("answer") is None for s in samples),
        "extraction_failure_rate": _rate(sum(s.get("answer") is None for s in samples), len(samples)),
        "mean_samples": _rate(len(samples), len(rows)),
        "mean_tokens": _rate(sum(int(s.get("tokens") or 0) for s in samples), len(rows)),
        "calibration": _calibration(rows),
        "programs": _program_metrics(rows),
    }


def metrics(pairs: Sequence[Pair], details: list[dict] | None = None) -> dict:
    """Accuracy overall and by slice; with ``details``, voting, fallback and extraction figures too."""
    if not pairs:
        raise ValueError("nothing to score: no questions")
    gold = Counter(p.gold for p in pairs)
    pred = Counter(p.pred for p in pairs)
    top, top_n = max(sorted(gold.items()), key=lambda kv: kv[1])  # ties go to the earlier letter
    n = len(pairs)
    options = sorted({p.n_options for p in pairs})
    out = {
        **_slice(pairs),
        "by_options": {k: _slice([p for p in pairs if p.n_options == k]) for k in options},
        "by_gold_letter": {g: _slice([p for p in pairs if p.gold == g]) for g in sorted(gold)},
        "letters": {x: {"gold": gold[x], "pred": pred[x]} for x in sorted(gold | pred)},
        "baseline": {"letter": top, "correct": top_n, "accuracy": top_n / n},
        "details": _detail_metrics(pairs, details) if details is not None else None,
    }
    return out


# ---------------------------------------------------------------- load and evaluate


def load_details(path: str | os.PathLike) -> list[dict]:
    """Read a details JSONL file; each line needs at least ``id`` and ``question_index``."""
    rows = []
    for lineno, row, bad_json in data.iter_jsonl(path):
        if bad_json:
            raise ValueError(f"{path}:{lineno}: {bad_json}")
        if not isinstance(row, dict) or "id" not in row or not isinstance(row.get("question_index"), int):
            raise ValueError(f"{path}:{lineno}: a details row needs 'id' and an integer 'question_index'")
        rows.append(row)
    return rows


def evaluate(pred_path: str | os.PathLike, gold_path: str | os.PathLike,
             details_path: str | os.PathLike | None = None) -> dict:
    """Load, align and score; uses PRED's default details file when none is given and it exists."""
    pairs = align(data.load_problems(pred_path), data.load_problems(gold_path))
    if details_path is None and data.details_path(pred_path).exists():
        details_path = data.details_path(pred_path)
    result = metrics(pairs, load_details(details_path) if details_path is not None else None)
    result["files"] = {"pred": str(pred_path), "gold": str(gold_path),
                       "details": str(details_path) if details_path is not None else None}
    return result
