"""Self-consistency: read the answer letter out of a reasoning chain, vote over chains, stop early.

Pure Python on purpose (no torch, no I/O), so predict and evaluate can share it and the tests need no model.
The adaptive stopping rules follow Adaptive-Consistency (Aggarwal et al., 2023): keep sampling a question
only while more samples could still change its majority.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .data import LETTERS


@dataclass
class Sample:
    """One sampled completion: its text, the letter read from it, and how likely the model found it."""

    text: str
    answer: str | None
    logprob: float  # sum of the completion's token log-probs
    tokens: int  # number of generated tokens

    @property
    def mean_logprob(self) -> float:
        """Per-token log-prob; ``-inf`` for an empty completion, which has no likelihood to vouch for it
        and so never wins a tie on confidence."""
        return self.logprob / self.tokens if self.tokens > 0 else float("-inf")


# ---------------------------------------------------------------- reading the answer

# Words that make the answer marker right after them a hypothesis ("如果答案是B，那么矛盾"), not a claim.
# The stop regex (prompts.ANSWER_STOP_REGEX) skips the same ones, so stopping and extraction agree.
CONDITIONALS = ("如果", "假如", "假设", "假定", "若", "要是", "倘若")

# Matched on NFKC-normalised text, so full-width "：", "（", "Ｂ" arrive here as ":", "(", "B".
_MARKER = re.compile(
    r"最终答案(?:应该?|应当|就)?(?:是|为|选)?"
    r"|答案[\s*_]*(?:应该?|应当|就)?[\s*_]*(?:是|为|选|:)"
    r"|(?:故|应该?|因此|所以|综上所述|综上)[,\s]*选择?"
    # "答：B" and a sentence that starts with "选": "选C。" (but not "不能选C" or "如果选C").
    r"|(?:^|(?<=[\s*#>。!]))(?:解|回)?答[\s*_]*:"
    r"|(?:^|(?<=[\s*#>。!]))(?:我|应)?选(?!择题)择?"
    r"|(?<![A-Za-z])answers?\s*(?:(?:is|are)(?![A-Za-z'’])|would\s+be|should\s+be|:)"
    r"|\\boxed\{",
    re.IGNORECASE | re.MULTILINE,
)
# Decoration between a marker and its letter (bold, brackets, quotes, "选项", LaTeX), then the letter run.
_LETTER = re.compile(r"(?:\s|[:*_$\"'“‘「『【\[(]|\\boxed\{|\\text(?:bf)?\{|选项|(?i:option))*([A-Za-z]+)")
# A second option letter joined to the first ("A或B", "A、B", "A or B"): the chain did not commit.
_MORE = re.compile(
    r"(?:选项|项)?[\s*_$)\]】」』}\"'”’]*(?:[、,/&+]|或者?|还是|以及|和|与|及|(?i:\bor\b|\band\b))"
    r"\s*[*_(\[【「\"'“‘]*\s*(?:选项|(?i:option)\s*)?([A-Z])(?![A-Za-z])"
)
_WORD_NEXT = re.compile(r"\s*[A-Za-z]")
# A last line holding only a letter: "B", "**B**", "B.", "(B)", "选项B".
_LONE = re.compile(r"[\s*_#>(\[【「]*(?:选项)?\s*([A-Z])\s*(?:选项)?[\s)\]】」.。:*_]*")
_AMBIGUOUS = "?"


def _statement(rest: str, letters: str) -> str | None:
    """What the text right after a marker states: a valid letter, ``_AMBIGUOUS``, or None (no answer here)."""
    m = _LETTER.match(rest)
    if not m:
        return None
    run, tail = m.group(1), rest[m.end():]
    if tail[:1] in ("'", "’"):  # "isn't", "B's": part of a word, not a letter
        return None
    if len(run) > 1:
        # Option letters run together ("AB") are several answers; any other run is an English word ("Because").
        return _AMBIGUOUS if run.isupper() and set(run) <= set(letters) else None
    if run.islower() and _WORD_NEXT.match(tail):
        return None  # "answer is a contradiction": the article, not option A
    letter = run.upper()
    if letter not in letters:
        return None
    more = _MORE.match(tail)
    if more and more.group(1) in letters and more.group(1) != letter:
        return _AMBIGUOUS
    return letter


def extract_answer(text: str, n_options: int, options: Sequence[str] | None = None) -> str | None:
    """The answer letter a completion commits to, or None.

    Every answer marker ("答案是", "答案：", "答案为", "最终答案", "故选", "答：", a sentence opening with "选",
    "answer is", "Answer:", ``\\boxed{``) is read, except right after a conditional ("如果答案是B，那么矛盾"
    is a hypothesis being refuted), and the last one that states something decides:

    * a letter within A..LETTERS[n_options-1] wins;
    * several letters ("A或B", "AB", "A、C") make the answer None: the model's last word hedged, and
      crediting an earlier, abandoned answer would count a conclusion it moved away from;
    * a letter outside the options, an English word ("Because", "Apple") or no letter at all is skipped,
      so an earlier valid statement still counts.

    With no marker stating anything, a last non-empty line holding only a letter ("B", "**B**", "B.") counts;
    given the ``options`` texts, so does a last line that restates one option ("D. le chat sauts sur le lune"
    or just its text), since small models often answer by copying the option.
    """
    if not 1 <= n_options <= len(LETTERS):
        raise ValueError(f"n_options must be within 1..{len(LETTERS)}, got {n_options}")
    letters = LETTERS[:n_options]
    text = unicodedata.normalize("NFKC", text)
    stated = [s for m in _MARKER.finditer(text)
              if not text[: m.start()].endswith(CONDITIONALS) and (s := _statement(text[m.end():], letters)) is not None]
    if stated:
        return None if stated[-1] == _AMBIGUOUS else stated[-1]
    lines = [line for line in text.splitlines() if line.strip()]
    lone = _LONE.fullmatch(lines[-1]) if lines else None
    if lone and lone.group(1) in letters:
        return lone.group(1)
    return _restated_option(lines[-1], letters, options) if lines and options else None


def _squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).rstrip("。.")


def _restated_option(line: str, letters: str, options: Sequence[str]) -> str | None:
    """The letter of the one option that ``line`` restates ("D. text", "D: text" or the bare text)."""
    line = _squash(line.strip("*_ "))
    texts = [_squash(o) for o in options[: len(letters)]]
    m = re.match(r"([A-Z])[.:、)]", line)
    if m and m.group(1) in letters and texts[letters.index(m.group(1))] == line[m.end():]:
        return m.group(1)
    hits = [letters[i] for i, t in enumerate(texts) if t and t == line]
    return hits[0] if len(hits) == 1 else None  # identical option texts: which one was meant is unknown


# ---------------------------------------------------------------- voting


@dataclass
class Vote:
    answer: str | None
    votes: dict[str, int]  # letter -> count, sorted by letter
    agreement: float  # winner's share of the answered samples; 0 when none answered


def vote(samples: Sequence[Sample]) -> Vote:
    """Majority over the samples that gave an answer.

    A tie goes to the letter whose samples the model was most sure of (mean over them of ``mean_logprob``),
    not to whichever came first; only exactly equal confidence falls back to the earliest letter.
    """
    answered = [s for s in samples if s.answer is not None]
    counts = Counter(s.answer for s in answered)
    votes = dict(sorted(counts.items()))
    if not answered:
        return Vote(None, votes, 0.0)
    top = max(counts.values())
    tied = [a for a, n in votes.items() if n == top]

    def confidence(letter: str) -> float:
        # fsum is exactly rounded, so the mean cannot depend on the samples' order.
        return math.fsum(s.mean_logprob for s in answered if s.answer == letter) / top

    winner = min(tied, key=lambda a: (-confidence(a), a)) if len(tied) > 1 else tied[0]
    return Vote(winner, votes, top / len(answered))


# ---------------------------------------------------------------- adaptive stopping


def _top_two(votes: Mapping[str, int]) -> tuple[int, int]:
    counts = sorted(votes.values(), reverse=True) + [0, 0]
    return counts[0], counts[1]


def _check(votes: Mapping[str, int], budget: int, n_drawn: int) -> None:
    if budget < 1 or n_drawn < 0:
        raise ValueError(f"need budget >= 1 and n_drawn >= 0, got budget={budget}, n_drawn={n_drawn}")
    if any(n < 0 for n in votes.values()) or sum(votes.values()) > n_drawn:
        raise ValueError(f"votes {dict(votes)} do not fit {n_drawn} drawn samples")


def leader_posterior(leader: int, runner_up: int) -> float:
    """P(X > 1/2) for X ~ Beta(leader + 1, runner_up + 1): how sure we are the leader's true share beats
    the runner-up's, under a uniform prior.

    Exact for integer parameters: with n = a + b - 1, P(X > 1/2) = P(Binomial(n, 1/2) < a)
    = sum_{j<a} C(n, j) / 2**n. The sum is an integer, so the one division is the only rounding.
    """
    if leader < 0 or runner_up < 0:
        raise ValueError(f"counts must be >= 0, got {leader}, {runner_up}")
    a, n = leader + 1, leader + runner_up + 1
    return sum(math.comb(n, j) for j in range(a)) / 2**n


def is_decided(
    votes: Mapping[str, int], budget: int, n_drawn: int, *, confidence: float | None = 0.95
) -> bool:
    """Whether to stop sampling this question; ``n_drawn`` counts every sample drawn, answered or not.

    Stop when (a) the budget is spent; (b) the leader cannot be caught: even if every remaining sample
    went to the runner-up it would stay behind (leader - runner_up > budget - n_drawn); or (c) with
    ``confidence`` set and at least two answered samples, :func:`leader_posterior` reaches it.
    """
    _check(votes, budget, n_drawn)
    if confidence is not None and not 0.5 < confidence <= 1.0:
        # At 0.5 or below a tie (posterior exactly 0.5) would already count as decided.
        raise ValueError(f"confidence must be within (0.5, 1], got {confidence}")
    if n_drawn >= budget:
        return True
    leader, runner_up = _top_two(votes)
    if leader - runner_up > budget - n_drawn:
        return True
    return (
        confidence is not None
        and sum(votes.values()) >= 2
        and leader_posterior(leader, runner_up) >= confidence
    )


def next_round_size(votes: Mapping[str, int], budget: int, n_drawn: int, *, first_round: int) -> int:
    """How many samples to draw next for one question.

    ``first_round`` (capped at the budget) when nothing is drawn yet. Afterwards the fewest samples that
    could decide it under rule (b) of :func:`is_decided`: k more samples, all for the leader, decide it
    when leader + k - runner_up > remaining - k, i.e. k = floor((remaining - leader + runner_up) / 2) + 1.
    Drawing fewer cannot stop the question, so it would only cost another round trip. The result is at
    least 1 and at most the remaining budget; 0 only when the budget is spent.
    """
    _check(votes, budget, n_drawn)
    if first_round < 1:
        raise ValueError(f"first_round must be >= 1, got {first_round}")
    remaining = budget - n_drawn
    if remaining <= 0:
        return 0
    if n_drawn == 0:
        return min(first_round, budget)
    leader, runner_up = _top_two(votes)
    gap = remaining - leader + runner_up
    need = gap // 2 + 1 if gap >= 0 else 0
    return min(max(need, 1), remaining)


# ---------------------------------------------------------------- option likelihoods


def pick_by_scores(scores: Sequence[float]) -> str:
    """The letter of the highest score (e.g. each option letter's log-prob after "答案是："); ties -> first."""
    if not scores:
        raise ValueError("no scores")
    if len(scores) > len(LETTERS):
        raise ValueError(f"at most {len(LETTERS)} options are supported, got {len(scores)}")
    if any(math.isnan(s) for s in scores):
        raise ValueError(f"NaN score in {list(scores)}")  # NaN compares false: it would win or lose by position
    return LETTERS[max(range(len(scores)), key=scores.__getitem__)]


def normalise_scores(logits_or_logprobs: Sequence[float]) -> list[float]:
    """Softmax over just the option letters: probabilities summing to 1, for reporting.

    Works on logits and on full-vocabulary log-probs alike, since softmax ignores a shared offset.
    """
    values = list(logits_or_logprobs)
    top = max(values, default=float("-inf"))
    if not math.isfinite(top) or any(math.isnan(v) for v in values):  # empty, all -inf, +inf or NaN
        raise ValueError(f"cannot normalise {values}")
    exps = [math.exp(v - top) for v in values]  # shift by the max so nothing overflows
    total = math.fsum(exps)
    return [e / total for e in exps]
