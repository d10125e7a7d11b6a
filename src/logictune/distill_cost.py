"""What a paid teacher run will ask for and cost, before it starts: requests, tokens, money.

Cached replies are free, and so are the re-asks whose sample indices are cached; everything else is
counted, re-asks at their prompts' size, so the "at most" figure is an upper bound the run cannot pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import data, prompts
from .distill import DistillConfig, keyed_questions

_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_PER_MESSAGE = 4  # role markers of a chat template


def approx_tokens(messages: list[dict]) -> int:
    """Tokens of a chat prompt without a tokenizer: fitted on Qwen2's, which counts ~0.8 a Chinese
    character and ~0.25 any other (within a few % on the training set's teacher prompts)."""
    n = 0
    for m in messages:
        text = str(m["content"])
        cjk = len(_CJK.findall(text))
        n += round(0.8 * cjk + 0.25 * (len(text) - cjk)) + _PER_MESSAGE
    return n


@dataclass
class Estimate:
    questions: int
    requests: int  # not in the cache: one per wanted rationale
    cached: int
    prompt_tokens: int
    completion_tokens: int  # expected: requests x cfg.expected_completion_tokens
    max_requests: int  # with every re-ask not in the cache
    max_prompt_tokens: int  # the prompts of those
    max_completion_tokens: int  # every one of them max_new_tokens long
    cost: float | None = None
    max_cost: float | None = None

    def lines(self, currency: str = "") -> list[str]:
        out = [f"{self.questions} questions -> {self.requests} requests to make ({self.cached} already cached; "
               f"up to {self.max_requests} with re-asks)",
               f"prompt tokens ~{self.prompt_tokens:,} (~{self.max_prompt_tokens:,} with re-asks); completion "
               f"tokens ~{self.completion_tokens:,} expected, {self.max_completion_tokens:,} at most"]
        if self.cost is not None:
            out.append(f"estimated cost: {currency}{self.cost:,.2f} (at most {currency}{self.max_cost:,.2f})")
        return out


def estimate(problems: Sequence[data.Problem], cfg: DistillConfig, *, price_in: float | None = None,
             price_out: float | None = None, is_cached: Callable[[list[dict], int], bool] | None = None) -> Estimate:
    """What a teacher run will ask for and cost; prices are per million tokens.

    ``is_cached(messages, j)``: whether sample ``j`` of that prompt is in the cache. Samples below
    ``cfg.samples`` are asked for; the ``cfg.max_reasks`` after them only when chains are rejected.
    """
    tasks, _ = keyed_questions(problems)
    requests = cached = prompt_tokens = reasks = reask_tokens = 0
    for p, i in tasks:
        messages = prompts.teacher_messages(p, p.questions[i], cfg.method, cfg.program_style)
        tokens = approx_tokens(messages)
        for j in range(cfg.samples + cfg.max_reasks):
            if is_cached and is_cached(messages, j):
                cached += j < cfg.samples
            elif j < cfg.samples:
                requests, prompt_tokens = requests + 1, prompt_tokens + tokens
            else:
                reasks, reask_tokens = reasks + 1, reask_tokens + tokens
    max_requests = requests + reasks
    est = Estimate(len(tasks), requests, cached, prompt_tokens, requests * cfg.expected_completion_tokens,
                   max_requests, prompt_tokens + reask_tokens, max_requests * cfg.max_new_tokens)
    est.cost = cost(est.prompt_tokens, est.completion_tokens, price_in, price_out)
    est.max_cost = cost(est.max_prompt_tokens, est.max_completion_tokens, price_in, price_out)
    return est


def cost(prompt_tokens: int, completion_tokens: int, price_in: float | None, price_out: float | None) -> float | None:
    if price_in is None or price_out is None:
        return None
    return (prompt_tokens * price_in + completion_tokens * price_out) / 1e6
