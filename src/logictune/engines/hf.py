"""The transformers engine: batched sampling with a decode loop written for CPUs and small GPUs.

Why not ``model.generate``: on this CPU it plateaus near 40 tok/s however many rows are in flight,
because it sorts the whole 152k vocabulary for top-p every step, keeps finished rows in the batch to
the end, and prefills every sampled chain's prompt separately. This loop

- prefills each prompt once and copies its KV cache to the ``n`` chains that sample from it,
- samples with top-k then top-p inside the top-k (same nucleus unless it is wider than k),
- stops a chain as soon as its answer line is out (``SamplingParams.stop_regex``) or at EOS,
- drops finished chains from the batch, so the tail of a batch costs what is still running.
"""

from __future__ import annotations

import inspect
import re

import torch

from . import Completion, SamplingParams

# Compact the batch once this share of its rows has finished: copying the KV cache costs about as
# much as a few decode steps, so doing it for every finished row would cost more than it saves.
_COMPACT_SHARE = 0.25
_TAIL_TOKENS = 24  # the stop regex looks at the decoded tail only


class HFEngine:
    def __init__(self, model, tokenizer, *, batch_size: int = 16, progress=None):
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = max(1, batch_size)
        self.progress = progress  # called with (prompts_done, tokens_generated) after each batch
        self.device = next(model.parameters()).device
        params = inspect.signature(model.forward).parameters
        # transformers 5.x renamed past_key_values to cache; PEFT wrappers take **kwargs.
        self._cache_kw = "cache" if "cache" in params else "past_key_values"
        self.eos_ids = _eos_ids(model, tokenizer)

    # ------------------------------------------------------------ generate

    def generate(self, prompts: list[str], n: int, sampling: SamplingParams) -> list[list[Completion]]:
        if n < 1:
            raise ValueError("n must be >= 1")
        encoded = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))
        per_batch = max(1, self.batch_size // n)  # batch_size counts chains in flight
        results: list[list[Completion] | None] = [None] * len(prompts)
        generator = torch.Generator(device="cpu").manual_seed(sampling.seed)
        for start in range(0, len(order), per_batch):
            idx = order[start : start + per_batch]
            outs = self._generate_batch([encoded[i] for i in idx], n, sampling, generator)
            for i, out in zip(idx, outs, strict=True):
                results[i] = out
            if self.progress:
                self.progress(len(idx), sum(c.tokens for out in outs for c in out))
        return results  # type: ignore[return-value]

    @torch.inference_mode()
    def _generate_batch(self, batch: list[list[int]], n: int, sp: SamplingParams, generator) -> list[list[Completion]]:
        input_ids, attention = self._left_pad(batch)
        positions = (attention.cumsum(-1) - 1).clamp(min=0)
        cache = _new_cache(self.model)
        out = self.model(input_ids=input_ids, attention_mask=attention, position_ids=positions,
                         use_cache=True, logits_to_keep=1, **{self._cache_kw: cache})
        cache = getattr(out, "cache", None) or out.past_key_values
        # Every chain of a prompt starts from the same prefill: copy it instead of recomputing it.
        if n > 1:
            cache.batch_repeat_interleave(n)
        logits = out.logits[:, -1].float().repeat_interleave(n, 0)
        attention = attention.repeat_interleave(n, 0)
        next_pos = positions[:, -1:].repeat_interleave(n, 0) + 1

        rows = len(batch) * n
        alive = torch.arange(rows)  # original row of each row still in the batch
        tokens: list[list[int]] = [[] for _ in range(rows)]
        logprob = [0.0] * rows
        finish = ["length"] * rows
        done = [False] * rows
        stop = re.compile(sp.stop_regex) if sp.stop_regex else None
        eos = torch.tensor(sorted(self.eos_ids))

        for step in range(sp.max_new_tokens):
            next_tok, tok_logprob = _sample(logits, sp, generator)
            is_eos = torch.isin(next_tok, eos).tolist()
            next_list, lp_list = next_tok.tolist(), tok_logprob.tolist()
            for j, row in enumerate(alive.tolist()):
                if done[row]:
                    continue
                if is_eos[j]:
                    done[row], finish[row] = True, "eos"
                    continue
                tokens[row].append(next_list[j])
                logprob[row] += lp_list[j]
                if stop and stop.search(self.tokenizer.decode(tokens[row][-_TAIL_TOKENS:])):
                    done[row], finish[row] = True, "stop"
            if all(done) or step == sp.max_new_tokens - 1:
                break
            finished = [j for j, row in enumerate(alive.tolist()) if done[row]]
            if finished and len(finished) >= _COMPACT_SHARE * len(alive):
                keep = torch.tensor([j for j, row in enumerate(alive.tolist()) if not done[row]])
                cache.batch_select_indices(keep.to(self.device))
                alive, attention, next_pos = alive[keep], attention[keep], next_pos[keep]
                next_tok = next_tok[keep]
            attention = torch.cat([attention, attention.new_ones(len(alive), 1)], dim=1)
            out = self.model(input_ids=next_tok[:, None].to(self.device), attention_mask=attention,
                             position_ids=next_pos, use_cache=True, **{self._cache_kw: cache})
            logits = out.logits[:, -1].float()
            next_pos = next_pos + 1

        completions = [
            Completion(self.tokenizer.decode(tokens[r], skip_special_tokens=True), tokens[r], logprob[r], finish[r])
            for r in range(rows)
        ]
        return [completions[i * n : (i + 1) * n] for i in range(len(batch))]

    # ------------------------------------------------------------ scoring

    @torch.inference_mode()
    def score_next_token(self, prompts: list[str], candidates: list[list[str]]) -> list[list[float]]:
        encoded = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))
        scores: list[list[float]] = [[] for _ in prompts]
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            input_ids, attention = self._left_pad([encoded[i] for i in idx])
            positions = (attention.cumsum(-1) - 1).clamp(min=0)
            out = self.model(input_ids=input_ids, attention_mask=attention, position_ids=positions,
                             use_cache=False, logits_to_keep=1)
            logprobs = torch.log_softmax(out.logits[:, -1].float(), dim=-1).cpu()
            for j, i in enumerate(idx):
                ids = [self._first_token(c) for c in candidates[i]]
                scores[i] = logprobs[j, ids].tolist()
            if self.progress:
                self.progress(len(idx), 0)
        return scores

    def _first_token(self, text: str) -> int:
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        if not ids:
            raise ValueError(f"{text!r} encodes to no token")
        return ids[0]

    def _left_pad(self, batch: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(len(ids) for ids in batch)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for i, ids in enumerate(batch):
            input_ids[i, width - len(ids) :] = torch.tensor(ids)
            attention[i, width - len(ids) :] = 1
        return input_ids.to(self.device), attention.to(self.device)


def _sample(logits: torch.Tensor, sp: SamplingParams, generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw one token per row; returns the tokens and their untempered log-probs under the model."""
    logprobs = torch.log_softmax(logits, dim=-1)
    if sp.temperature <= 0:
        tok = logits.argmax(-1)
        return tok.cpu(), logprobs.gather(-1, tok[:, None])[:, 0].cpu()
    k = min(sp.top_k, logits.shape[-1]) if sp.top_k > 0 else logits.shape[-1]
    top_logits, top_ids = torch.topk(logits, k, dim=-1)  # sorted, largest first
    probs = torch.softmax(top_logits / sp.temperature, dim=-1)
    if sp.top_p < 1.0:
        # Keep the smallest prefix whose mass reaches top_p (the first token always stays).
        outside = probs.cumsum(-1) - probs >= sp.top_p
        probs = probs.masked_fill(outside, 0.0)
    choice = torch.multinomial(probs.cpu(), 1, generator=generator).to(logits.device)
    tok = top_ids.gather(-1, choice)[:, 0]
    return tok.cpu(), logprobs.gather(-1, tok[:, None])[:, 0].cpu()


def _new_cache(model):
    from transformers import DynamicCache

    try:
        return DynamicCache(config=model.config)
    except TypeError:  # older transformers
        return DynamicCache()


def _eos_ids(model, tokenizer) -> set[int]:
    ids: set[int] = set()
    for value in (getattr(model.generation_config, "eos_token_id", None), tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif value:
            ids.update(value)
    for token in ("<|im_end|>", "<|endoftext|>"):
        tid = tokenizer.convert_tokens_to_ids(token)
        if isinstance(tid, int) and tid != tokenizer.unk_token_id and tid >= 0:
            ids.add(tid)
    return ids
