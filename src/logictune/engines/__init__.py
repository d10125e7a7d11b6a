"""Engines turn prompts into completions. One small protocol; transformers, vLLM or an API behind it.

Engines never parse answers or vote: that is :mod:`logictune.voting`'s job.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class SamplingParams:
    max_new_tokens: int = 512
    temperature: float = 0.7  # 0: greedy
    top_p: float = 0.9
    # Sampling looks at the top_k tokens only, then applies top_p inside them: sorting the whole
    # 152k vocabulary every step is what makes plain generate slow on CPU. 0 = whole vocabulary.
    top_k: int = 64
    # Chain j of a prompt samples from chain_seed(seed, j) alone, so its text does not depend on the
    # batch size, the other prompts or the order chains run in.
    seed: int = 0
    # Stop a completion as soon as its text matches this regex (the answer line is out).
    stop_regex: str | None = None
    # The same stops as plain strings, for engines that cannot stop on a regex (vLLM, HTTP servers).
    stop: list[str] = field(default_factory=list)

    def __post_init__(self):
        if not self.temperature >= 0:  # also rejects NaN
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be within (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0: whole vocabulary), got {self.top_k}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")


STOP_WINDOW_TOKENS = 48  # hf and llama.cpp look for the stop regex in this many decoded tokens of a chain


def stop_reached(stop: re.Pattern, window: str, new_chars: int) -> bool:
    """Whether ``stop`` matches in ``window`` (a chain's decoded tail) with its match ending in the last
    ``new_chars`` characters, those the newest token added.

    A match ending earlier was passed over when it was new, because its context (``如果答案是：B。``) kept the
    regex's lookbehind from matching; once that context slid out of the window it would match, and stop the
    chain tokens after a hypothetical. Only a match the newest token completes is a stop."""
    floor = len(window) - max(new_chars, 1)
    return any(m.end() > floor for m in stop.finditer(window))


def chain_seed(*parts) -> int:
    """A 63-bit seed from its parts, e.g. (seed, problem id, question index) or (prompt seed, chain index).

    A hash, not ``seed + j``: neighbouring seeds of one generator must not give related streams.
    """
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "big") >> 1


def false_stop(text: str, sampling: SamplingParams) -> bool:
    """Whether a plain stop string ended ``text`` where the stop regex does not: an answer line right after
    a conditional ("如果答案是：B。"), which extraction skips and the hf engine's regex stop passes over.

    Engines that stop on plain strings (vLLM, servers) then continue the chain from its text so far, so
    every engine ends a chain where the hf engine would (the README's "stop strings and conditionals").
    """
    return (bool(sampling.stop_regex) and any(text.endswith(s) for s in sampling.stop)
            and re.search(sampling.stop_regex, text) is None)


def per_prompt(sampling: SamplingParams | Sequence[SamplingParams], n_prompts: int) -> list[SamplingParams]:
    """One SamplingParams per prompt: ``generate`` takes one for all prompts or a list of them."""
    if isinstance(sampling, SamplingParams):
        return [sampling] * n_prompts
    sampling = list(sampling)
    if len(sampling) != n_prompts:
        raise ValueError(f"{len(sampling)} sampling params for {n_prompts} prompts")
    return sampling


@dataclass
class Completion:
    text: str
    token_ids: list[int] = field(default_factory=list, repr=False)
    logprob: float = 0.0  # sum of the model's (untempered) log-probs of the generated tokens
    # "eos" | "stop" | "length" | "error" (an API request that gave up) | "refused" (the server said no to it)
    finish_reason: str = "eos"
    # Served engines get a token count but no token ids.
    n_tokens: int | None = None
    error: str | None = None  # why a served request got no reply ("400: ..."), for the failed list

    @property
    def tokens(self) -> int:
        return self.n_tokens if self.n_tokens is not None else len(self.token_ids)


class Engine(Protocol):
    def generate(self, prompts: list[str], n: int, sampling: SamplingParams | Sequence[SamplingParams], *,
                 more: Callable[[int, list[Completion]], int] | None = None,
                 on_done: Callable[[int, list[Completion]], None] | None = None) -> list[list[Completion]]:
        """``n`` completions for each prompt, in prompt order, each prompt's in chain order.

        ``sampling`` is one SamplingParams for all prompts or one per prompt (their seeds and stops differ:
        see :func:`per_prompt`). Chain ``j`` of prompt ``i`` samples from ``chain_seed(sampling[i].seed, j)``.
        When all chains of prompt ``i`` have ended, ``more(i, completions)`` may ask for that many more
        (adaptive voting); a prompt that needs no more is reported through ``on_done(i, completions)``
        as soon as it is finished, so callers can write results while the rest is still running.
        Every prompt is reported to ``on_done`` exactly once.
        """
        ...

    def score_next_token(self, prompts: list[str], candidates: list[list[str]]) -> list[list[float]]:
        """Log-prob of each candidate string's first token as the next token after each prompt."""
        ...


ENGINES = ("hf", "vllm", "openai", "llamacpp")


def get_engine(name: str, model, tokenizer, **options) -> Engine:
    if name == "hf":
        from .hf import HFEngine

        return HFEngine(model, tokenizer, **options)
    if name == "vllm":
        from .vllm import VLLMEngine  # imports vllm itself only when constructed

        return VLLMEngine(model, tokenizer, **options)
    if name == "openai":
        from .openai import OpenAIEngine

        return OpenAIEngine(model, tokenizer, **options)
    if name == "llamacpp":
        from .llamacpp import LlamaCppEngine  # imports llama_cpp itself only when constructed

        return LlamaCppEngine(model, tokenizer, **options)
    raise ValueError(f"unknown engine {name!r}; available: {', '.join(ENGINES)}")
