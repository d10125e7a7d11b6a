"""Engines turn prompts into completions. One small protocol; transformers, vLLM or an API behind it.

Engines never parse answers or vote: that is :mod:`logictune.voting`'s job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class SamplingParams:
    max_new_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 0.9
    # Sampling looks at the top_k tokens only, then applies top_p inside them: sorting the whole
    # 152k vocabulary every step is what makes plain generate slow on CPU. 0 = whole vocabulary.
    top_k: int = 64
    seed: int = 0
    # Stop a completion as soon as its text matches this regex (the answer line is out).
    stop_regex: str | None = None


@dataclass
class Completion:
    text: str
    token_ids: list[int] = field(default_factory=list, repr=False)
    logprob: float = 0.0  # sum of the model's (untempered) log-probs of the generated tokens
    finish_reason: str = "eos"  # "eos" | "stop" | "length" | "error" (an API request that gave up)
    # Served engines get a token count but no token ids.
    n_tokens: int | None = None

    @property
    def tokens(self) -> int:
        return self.n_tokens if self.n_tokens is not None else len(self.token_ids)


class Engine(Protocol):
    def generate(self, prompts: list[str], n: int, sampling: SamplingParams, *,
                 more: Callable[[int, list[Completion]], int] | None = None,
                 on_done: Callable[[int, list[Completion]], None] | None = None) -> list[list[Completion]]:
        """``n`` completions for each prompt, in prompt order.

        When all chains of prompt ``i`` have ended, ``more(i, completions)`` may ask for that many more
        (adaptive voting); a prompt that needs no more is reported through ``on_done(i, completions)``
        as soon as it is finished, so callers can write results while the rest is still running.
        """
        ...

    def score_next_token(self, prompts: list[str], candidates: list[list[str]]) -> list[list[float]]:
        """Log-prob of each candidate string's first token as the next token after each prompt."""
        ...


def get_engine(name: str, model, tokenizer, **options) -> Engine:
    if name == "hf":
        from .hf import HFEngine

        return HFEngine(model, tokenizer, **options)
    if name == "openai":
        from .openai import OpenAIEngine

        return OpenAIEngine(model, tokenizer, **options)
    raise ValueError(f"unknown engine {name!r}; available: hf, openai")
