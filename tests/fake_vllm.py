"""A stand-in for the ``vllm`` package: the parts the vLLM engine uses (``LLM``, ``SamplingParams``,
``LoRARequest``, ``current_platform``), so its own logic (rounds, seeds, stops, LoRA wiring, option scores)
runs in CI without vLLM.

Completions come from ``script(prompt, seed) -> text``, one character a token; as vLLM does, ``n`` samples
of a request seeded ``s`` get seeds ``s, s+1, ...``, and a stop string ends the text (kept in it with
``include_stop_str_in_output``, named in ``stop_reason``). Option scores come from ``scores(prompt)``.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from dataclasses import dataclass


class CharTokenizer:
    """One token a character: what the engine decodes and cuts stays easy to read in a test."""

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict:
        return {"input_ids": [ord(c) for c in text]}

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        return "".join(chr(i) for i in ids)


@dataclass
class SamplingParams:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = -1
    max_tokens: int = 16
    seed: int | None = None
    logprobs: int | None = None
    stop: list[str] | None = None
    include_stop_str_in_output: bool = False


@dataclass
class Logprob:
    logprob: float


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    logprobs: list[dict[int, Logprob]] | None
    finish_reason: str
    stop_reason: str | int | None


@dataclass
class RequestOutput:
    prompt: str
    outputs: list[CompletionOutput]


@dataclass
class LoRARequest:
    lora_name: str
    lora_int_id: int
    lora_path: str


def _sample(text: str, sp: SamplingParams, index: int) -> CompletionOutput:
    stop_reason, finish = None, "stop"  # the end of the script's text: EOS
    hits = [(text.find(s), s) for s in sp.stop or [] if s in text]
    if hits:
        at, stop_reason = min(hits)
        text = text[: at + (len(stop_reason) if sp.include_stop_str_in_output else 0)]
    if len(text) > sp.max_tokens:
        text, stop_reason, finish = text[: sp.max_tokens], None, "length"
    ids = [ord(c) for c in text]
    logprobs = [{t: Logprob(-0.1)} for t in ids] if sp.logprobs is not None else None
    return CompletionOutput(index, text, ids, logprobs, finish, stop_reason)


def install(monkeypatch, script: Callable[[str, int], str],
            scores: Callable[[str], dict[str, float]] | None = None) -> types.ModuleType:
    """Put a fake ``vllm`` into ``sys.modules`` for the test; ``module.llms`` lists the LLMs made, each
    with its ``kwargs`` and ``calls`` (prompts, params, lora_request) of every generate."""
    vllm = types.ModuleType("vllm")

    class LLM:
        def __init__(self, model: str, **kwargs):
            self.model, self.kwargs, self.calls = model, kwargs, []
            vllm.llms.append(self)

        def get_tokenizer(self) -> CharTokenizer:
            return CharTokenizer()

        def generate(self, prompts, params, use_tqdm: bool = True, lora_request=None) -> list[RequestOutput]:
            params = list(params) if isinstance(params, list) else [params] * len(prompts)
            self.calls.append((list(prompts), params, lora_request))
            out = []
            for prompt, sp in zip(prompts, params, strict=True):
                if sp.max_tokens == 1 and sp.logprobs:  # option scoring: the first token's top log-probs
                    top = {ord(c): Logprob(v) for c, v in (scores or (lambda p: {}))(prompt).items()}
                    out.append(RequestOutput(prompt, [CompletionOutput(0, "", [0], [top], "length", None)]))
                    continue
                out.append(RequestOutput(prompt, [_sample(script(prompt, (sp.seed or 0) + k), sp, k)
                                                  for k in range(sp.n)]))
            return out

    lora, request, platforms = (types.ModuleType(f"vllm.{n}") for n in ("lora", "lora.request", "platforms"))
    request.LoRARequest = LoRARequest
    platforms.current_platform = types.SimpleNamespace(is_cpu=lambda: True)
    vllm.LLM, vllm.SamplingParams, vllm.llms, vllm.lora, vllm.platforms = LLM, SamplingParams, [], lora, platforms
    lora.request = request
    for name, module in (("vllm", vllm), ("vllm.lora", lora), ("vllm.lora.request", request),
                         ("vllm.platforms", platforms)):
        monkeypatch.setitem(sys.modules, name, module)
    return vllm
