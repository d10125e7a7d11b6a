"""A per-letter bias on option-likelihood answers, fit on labelled questions and applied elsewhere.

Answers by option likelihood (``--method direct``, and the program method's fallback) take the letter
with the highest log-prob after ``答案是：``. A small model leans on some letters, and the data leans on
others: the training split's answers are A 36 %, B 42 %, C 15 %, D 8 %, and the base 0.5B's direct
answers scored 0.386 on the validation split where always-B scores 0.485. A ``LetterBias`` adds one number
per letter to those log-probs before the argmax, one vector per option count (two-option questions are
mostly yes/no and lean differently from four-option ones), fit on a labelled split. The answer is
argmax(weight * log p(letter) + bias[letter]):

- ``prior``: bias = log of the gold letters' frequencies (add-one smoothed); needs no model run.
- ``matched``: that, minus weight * the log of the model's mean probability of each letter on the same
  questions (prior matching: the model's own lean divided out, the data's put in); needs a direct run.
- ``weight``: how far the model's likelihoods are trusted against the prior. 1 takes them as they are; 0
  answers every question with its option count's most frequent gold letter. ``choose_weight`` picks it by
  accuracy on labelled questions the model did not train on. For the base 0.5B's direct answers on the
  training split the best weight was 0 (its option likelihoods were worse than the constant); on the
  questions its programs left to the fallback, prior at weight 1 (bench/README.md, "The letter bias").

Fit on the training split, it is applied unchanged to validation and test questions.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import data
from .voting import LETTERS, pick_by_scores

KINDS = ("prior", "matched")
WEIGHTS = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)  # what choose_weight tries


@dataclass(frozen=True)
class LetterBias:
    kind: str
    bias: dict[int, list[float]]  # option count -> one additive term per letter
    questions: dict[int, int] = field(default_factory=dict)  # option count -> questions it was fit on
    weight: float = 1.0  # on the model's log-probs

    def apply(self, scores: Sequence[float]) -> list[float]:
        """``weight`` * ``scores`` (log-probs of the option letters) plus the bias for their count; an option
        count the fit never saw is left as it is."""
        extra = self.bias.get(len(scores))
        return list(scores) if extra is None else [self.weight * s + b for s, b in zip(scores, extra, strict=True)]

    def to_json(self) -> dict:
        return {"kind": self.kind, "weight": self.weight, "bias": {str(n): b for n, b in sorted(self.bias.items())},
                "questions": {str(n): k for n, k in sorted(self.questions.items())}}


@dataclass(frozen=True)
class Labelled:
    """One labelled question: its gold letter and, for ``matched``, the model's option probabilities."""
    n_options: int
    answer: str
    probs: Sequence[float] | None = None


def fit(items: Iterable[Labelled], kind: str = "matched", weight: float = 1.0) -> LetterBias:
    if not 0 <= weight <= 1:
        raise ValueError(f"weight must be within [0, 1], got {weight}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    by_count: dict[int, list[Labelled]] = defaultdict(list)
    for it in items:
        by_count[it.n_options].append(it)
    if not by_count:
        raise ValueError("no labelled questions to fit a letter bias on")
    bias = {}
    for n, group in sorted(by_count.items()):
        counts = [1 + sum(it.answer == LETTERS[i] for it in group) for i in range(n)]
        terms = [math.log(c / sum(counts)) for c in counts]
        if kind == "matched":
            missing = sum(it.probs is None or len(it.probs) != n for it in group)
            if missing:
                raise ValueError(f"kind 'matched' needs the model's option probabilities for every question: "
                                 f"{missing} of the {len(group)} {n}-option questions have none (run "
                                 f"`predict --method direct` on all of them)")
            mean = [(1 + sum(it.probs[i] for it in group)) / (n + len(group)) for i in range(n)]
            terms = [t - weight * math.log(m) for t, m in zip(terms, mean, strict=True)]
        bias[n] = terms
    return LetterBias(kind, bias, {n: len(g) for n, g in by_count.items()}, weight)


def answer_from_probs(probs: Sequence[float], letter_bias: LetterBias | None) -> str:
    """The letter option probabilities (a details row's ``option_probs``) pick with ``letter_bias`` on them
    (None: as they are): the answer predict gives, since softmax only shifts the log-probs by a constant."""
    scores = [math.log(max(p, 1e-12)) for p in probs]
    return pick_by_scores(letter_bias.apply(scores) if letter_bias else scores)


def accuracy(letter_bias: LetterBias | None, items: Sequence[Labelled]) -> float:
    """Share of ``items`` (each with its probabilities) answered right with ``letter_bias`` (None: without)."""
    return sum(answer_from_probs(it.probs, letter_bias) == it.answer for it in items) / len(items)


def choose_weight(items: Sequence[Labelled], kind: str = "matched", weights: Sequence[float] = WEIGHTS) -> LetterBias:
    """The fit whose weight answers ``items`` best (ties: the larger weight, the model over the constant).
    Chosen on the same questions it is fit on: a handful of numbers per option count, and they must be
    questions the model did not learn its answers from, or the weight comes out too trusting."""
    items = list(items)
    if any(it.probs is None for it in items):
        raise ValueError("choosing a weight needs the model's option probabilities for every question")
    fits = [fit(items, kind, w) for w in sorted(weights)]
    return max(reversed(fits), key=lambda f: accuracy(f, items))


def labelled_from_details(rows: Iterable[dict], gold: Sequence[data.Problem], *, source: str = "details") -> list[Labelled]:
    """Every question of ``gold`` with an answer, with the option probabilities its details row scored
    (None where it has none: a question a program answered, or one the run did not reach)."""
    probs = {(r["id"], r["question_index"]): r.get("option_probs") for r in rows}
    out = []
    for p in gold:
        for i, q in enumerate(p.questions):
            if q.answer is None:
                raise ValueError(f"{source}: problem {p.id!r} question {i}: no gold answer to fit a letter bias on")
            scored = probs.get((p.id, i))
            out.append(Labelled(len(q.options), q.answer, [scored[x] for x in q.letters] if scored else None))
    return out


def save(letter_bias: LetterBias, path: str | Path) -> None:
    data.atomic_write_text(Path(path), json.dumps(letter_bias.to_json(), indent=2) + "\n")


def load(path: str | Path) -> LetterBias:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        kind, bias = raw["kind"], {int(n): [float(x) for x in b] for n, b in raw["bias"].items()}
        weight = float(raw.get("weight", 1.0))
        questions = {int(n): int(k) for n, k in raw.get("questions", {}).items()}
    except FileNotFoundError:
        raise ValueError(f"{path}: no such letter-bias file (make one with `logictune letter-bias`)") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as e:
        raise ValueError(f"{path}: not a letter-bias file ({type(e).__name__}: {e})") from None
    if kind not in KINDS:
        raise ValueError(f"{path}: field 'kind': must be one of {', '.join(KINDS)}, got {kind!r}")
    if not 0 <= weight <= 1:
        raise ValueError(f"{path}: field 'weight': must be within [0, 1], got {weight}")
    for n, b in bias.items():
        if len(b) != n or not all(math.isfinite(x) for x in b):
            raise ValueError(f"{path}: field 'bias' {n}: needs {n} finite numbers, got {b}")
    return LetterBias(kind, bias, questions, weight)
