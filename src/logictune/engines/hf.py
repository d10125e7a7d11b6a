"""The transformers engine: batched sampling with a decode loop written for CPUs and small GPUs.

Why not ``model.generate``: on this CPU it plateaus near 40 tok/s however many rows are in flight,
because it sorts the whole 152k vocabulary for top-p every step, keeps finished rows in the batch to
the end, and prefills every sampled chain's prompt separately. This loop

- prefills each prompt once and copies its KV cache to the chains that sample from it; the
  instruction all prompts start with is prefilled once per engine, and a problem's statement once
  for all its questions (prefill is compute-bound on a CPU: this halves it on the competition data),
- samples with top-k then top-p inside the top-k (same nucleus unless it is wider than k),
- stops a chain as soon as its answer line is out (``SamplingParams.stop_regex``) or at EOS,
- keeps one pool of rows: finished chains leave, waiting ones (and the extra chains adaptive voting
  asks for) take their place, so a chain that runs long holds one row, not a batch.

Greedy output equals ``model.generate``'s token for token (tests/test_engine_hf.py).
"""

from __future__ import annotations

import inspect
import random
import re
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from . import Completion, SamplingParams, chain_seed, per_prompt

# Compact the batch once this share of its rows has finished: copying the KV cache costs about as
# much as a few decode steps, so doing it for every finished row would cost more than it saves.
_COMPACT_SHARE = 0.25
_TAIL_TOKENS = 24  # the stop regex looks at the decoded tail only

MoreFn = Callable[[int, list[Completion]], int]
DoneFn = Callable[[int, list[Completion]], None]


class HFEngine:
    def __init__(self, model, tokenizer, *, batch_size: int = 16, progress=None, prompt_cache_size: int | None = None,
                 min_shared_prefix: int = 32):
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = max(1, batch_size)
        self.progress = progress  # called with (prompts_done, tokens_generated) after each batch
        self.device = next(model.parameters()).device
        # A PeftModel passes keyword arguments through to its base model: ask the base model which name
        # its cache argument has (transformers 5.x renamed past_key_values to cache).
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        self._cache_kw = "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"
        self.eos_ids = _eos_ids(model, tokenizer)
        # Prompt KV caches kept between calls, so later adaptive rounds skip the prompt's prefill. An
        # admission prefills up to batch_size prompts plus 2 * batch_size of look-ahead, and the rows in
        # flight (up to batch_size prompts) come back for more chains: a smaller cache would evict prompts
        # just prefilled and compute them again.
        self.prompt_cache_size = 4 * self.batch_size if prompt_cache_size is None else prompt_cache_size
        self.min_shared_prefix = min_shared_prefix
        self._prompt_cache: OrderedDict[str, tuple[list, torch.Tensor]] = OrderedDict()
        # KV of token prefixes: the instruction every prompt starts with, and recent problem statements.
        self.prefix_cache_size = 16
        self._prefix_cache: OrderedDict[tuple[int, ...], list] = OrderedDict()
        self._base_keys: set[tuple[int, ...]] = set()
        self.prefilled = 0  # prompts whose prefill was computed (not found in the cache): for tests, benches

    # ------------------------------------------------------------ generate

    def generate(self, prompts: list[str], n: int, sampling: SamplingParams | list[SamplingParams], *,
                 more: MoreFn | None = None, on_done: DoneFn | None = None) -> list[list[Completion]]:
        """``n`` chains per prompt (plus what ``more`` asks for) from one pool of rows refilled as chains end.

        A chain that runs to ``max_new_tokens`` holds one row, not a whole batch: finished rows leave
        the pool and waiting chains take their place (continuous batching). When every chain of a prompt
        has ended, ``more(i, completions)`` may ask for further chains (adaptive voting: they start from
        the cached prompt, ahead of the queue); otherwise ``on_done(i, completions)`` reports the prompt.
        Chain ``j`` of prompt ``i`` draws from its own generator, seeded ``chain_seed(seed_i, j)``, so its
        text is the same whatever the batch size, the other prompts or the order rows finish in.
        """
        if n < 1:
            raise ValueError("n must be >= 1")
        params = per_prompt(sampling, len(prompts))
        if len({(p.temperature, p.top_p, p.top_k) for p in params}) > 1:
            raise ValueError("the hf engine samples all prompts of one call alike: only seeds, stops and "
                             "max_new_tokens may differ between them")
        sp = params[0] if params else sampling
        stops = {r: re.compile(r) for r in {p.stop_regex for p in params} if r}
        token_ids = {p: self._ids(p) for p in prompts}  # tokenized once, for the queue order and the prefill
        ids = [token_ids[p] for p in prompts]
        # Lexicographic token order puts the questions of one problem side by side: admitted together,
        # they share the problem's prefill.
        queue: deque[tuple[int, int]] = deque((i, n) for i in sorted(range(len(prompts)), key=lambda i: ids[i]))
        results: list[dict[int, Completion]] = [{} for _ in prompts]  # by chain index
        started = [0] * len(prompts)  # chains started per prompt: the next chain's index
        open_chains = [n] * len(prompts)
        eos = torch.tensor(sorted(self.eos_ids))
        pool = _Pool(self._cache_kw, self.model.config)
        # Admit only once enough rows are free: each admission copies the pool's KV cache.
        admit_at = max(1, self.batch_size // 4)

        with torch.inference_mode():
            while queue or pool.rows:
                free = self.batch_size - len(pool.rows)
                if queue and (free >= admit_at or not pool.rows):
                    take: list[tuple[int, int]] = []
                    while queue and free > 0:
                        i, k = queue.popleft()
                        if k > free:  # split: the rest waits at the front
                            queue.appendleft((i, k - free))
                            k = free
                        take.append((i, k))
                        free -= k
                    needed = [prompts[i] for i, _ in take]
                    if any(p not in self._prompt_cache for p in needed):
                        # Prefill the next prompts in the queue too: one bigger batch shares more
                        # problem statements, and later admissions find their prompts ready.
                        ahead = [prompts[i] for i, _ in list(queue)[: 2 * self.batch_size]]
                        self._prefill(list(dict.fromkeys(needed + ahead)), token_ids=token_ids)
                    kv, last = self._prefill(needed, token_ids=token_ids)
                    chains = []
                    for i, k in take:
                        chains.append([(j, random.Random(chain_seed(params[i].seed, j)))
                                       for j in range(started[i], started[i] + k)])
                        started[i] += k
                    pool.admit(kv, last, take, chains)
                next_tok, tok_logprob = _sample(pool.logits, sp, [r.rng for r in pool.rows])
                is_eos = torch.isin(next_tok, eos).tolist()
                for row, tok, lp, ended in zip(pool.rows, next_tok.tolist(), tok_logprob.tolist(), is_eos,
                                               strict=True):
                    if row.finish:
                        continue
                    i = row.prompt
                    stop = stops.get(params[i].stop_regex)
                    if ended:
                        row.finish = "eos"
                    else:
                        row.tokens.append(tok)
                        row.logprob += lp
                        if stop and stop.search(self.tokenizer.decode(row.tokens[-_TAIL_TOKENS:])):
                            row.finish = "stop"
                        elif len(row.tokens) >= params[i].max_new_tokens:
                            row.finish = "length"
                    if not row.finish:
                        continue
                    text = self.tokenizer.decode(row.tokens, skip_special_tokens=True)
                    results[i][row.chain] = Completion(text, row.tokens, row.logprob, row.finish)
                    open_chains[i] -= 1
                    if self.progress:
                        self.progress(0, len(row.tokens))
                    if open_chains[i] == 0:
                        so_far = [results[i][j] for j in sorted(results[i])]
                        extra = more(i, so_far) if more else 0
                        if extra > 0:
                            open_chains[i] = extra
                            queue.appendleft((i, extra))
                        else:
                            self._prompt_cache.pop(prompts[i], None)  # no more chains will start from it
                            if on_done:
                                on_done(i, so_far)
                n_done = sum(1 for r in pool.rows if r.finish)
                if n_done and (n_done == len(pool.rows) or n_done >= _COMPACT_SHARE * len(pool.rows)
                               or (queue and self.batch_size - len(pool.rows) + n_done >= admit_at)):
                    next_tok = pool.retire(next_tok)
                if pool.rows:
                    pool.step(self.model, next_tok.to(self.device))
        return [[r[j] for j in sorted(r)] for r in results]

    def _ids(self, prompt: str) -> list[int]:
        return self.tokenizer(prompt, add_special_tokens=False)["input_ids"]

    def _prefill(self, prompts: list[str], *, keep: bool = True, token_ids: dict[str, list[int]] | None = None):
        """Each prompt's KV cache (per layer, unpadded) and its last-position logits.

        Prompts seen before (the earlier rounds of adaptive voting) come from ``self._prompt_cache``;
        with ``keep`` the new ones are added to it. Prompts that share a long token prefix (the
        questions of one problem share its statement) compute that prefix once.
        """
        found = {p: self._prompt_cache[p] for p in prompts if p in self._prompt_cache}
        missing = [p for p in dict.fromkeys(prompts) if p not in found]
        if missing:
            self.prefilled += len(missing)
            ids = [token_ids[p] if token_ids and p in token_ids else self._ids(p) for p in missing]
            # Three levels: the instruction every prompt starts with (kept across calls), then each
            # problem's statement (shared by its questions), then each question.
            self._base_prefix(ids)
            groups = _prefix_groups(ids, self.min_shared_prefix)
            # A problem's statement may be split over two admissions: its prefix KV is kept for the next.
            heads = [tuple(ids[m[0]][:cut]) if cut else tuple(ids[m[0]][:-1]) for m, cut in groups]
            todo = [h for h in dict.fromkeys(heads) if len(groups[heads.index(h)][0]) > 1 and h not in self._prefix_cache]
            starts = [self._longest_cached(h) for h in todo]
            made = self._forward_prompts([list(h[n:]) for h, (n, _) in zip(todo, starts, strict=True)],
                                         [kv for _, kv in starts])[0]
            for h, kv in zip(todo, made, strict=True):
                self._remember_prefix(h, kv)
            rows, past, suffixes = [], [], []
            for (members, _), head in zip(groups, heads, strict=True):
                start, kv_before = self._longest_cached(head)
                for i in members:
                    rows.append(i)
                    past.append(kv_before)
                    suffixes.append(ids[i][start:])
            kv, last = self._forward_prompts(suffixes, past)
            for j, i in enumerate(rows):
                found[missing[i]] = (kv[j], last[j])
        if keep:
            for p in prompts:
                self._prompt_cache[p] = found[p]
                self._prompt_cache.move_to_end(p)
            while len(self._prompt_cache) > self.prompt_cache_size:
                self._prompt_cache.popitem(last=False)
        return [found[p][0] for p in prompts], torch.stack([found[p][1] for p in prompts])

    def _base_prefix(self, ids: list[list[int]]) -> None:
        """Cache the KV of the prefix all prompts share (the system prompt and instruction).

        A batch drawn from one problem shares more than the instruction; a cached prefix that agrees
        with it for ``min_shared_prefix`` tokens or more tells where the instruction ends.
        """
        common = min(len(x) for x in ids) - 1
        for x in ids[1:]:
            common = min(common, _common_prefix(ids[0], x))
        if len(ids) < 2 or common < self.min_shared_prefix:
            return
        head = tuple(ids[0][:common])
        for key in self._prefix_cache:
            n = _common_prefix(list(key), list(head))
            if n >= self.min_shared_prefix:
                head = head[:n]
                break
        if head not in self._prefix_cache:
            self._remember_prefix(head, self._forward_prompts([list(head)], [None])[0][0], base=True)

    def _longest_cached(self, ids: tuple[int, ...]) -> tuple[int, list | None]:
        """The longest cached prefix of ``ids`` (shorter than ``ids``): its length and KV."""
        best: tuple[int, list | None] = (0, None)
        for key, kv in self._prefix_cache.items():
            if best[0] < len(key) < len(ids) + 1 and ids[: len(key)] == key:
                best = (len(key), kv)
        return best

    def _remember_prefix(self, key: tuple[int, ...], kv: list, base: bool = False) -> None:
        self._prefix_cache[key] = kv
        if base:
            self._base_keys.add(key)
        # Problem prefixes come and go; the instruction prefixes stay.
        while len(self._prefix_cache) > self.prefix_cache_size:
            old = next((k for k in self._prefix_cache if k not in self._base_keys), next(iter(self._prefix_cache)))
            del self._prefix_cache[old]
            self._base_keys.discard(old)

    def _forward_prompts(self, suffixes: list[list[int]], past: list[list | None]):
        """Prefill ``suffixes`` (each after its ``past`` KV, if any); return per-row unpadded KV and logits.

        Rows are run in buckets of similar length: left padding is computed like any token, and
        prefill is compute-bound, so a batch should not be padded by more than a fifth.
        """
        if not suffixes:
            return [], None
        order = sorted(range(len(suffixes)), key=lambda i: len(suffixes[i]))
        buckets, current = [], []
        for i in order:
            width = len(suffixes[i])
            if current and width * (len(current) + 1) > 1.25 * (sum(len(suffixes[j]) for j in current) + width):
                buckets.append(current)
                current = []
            current.append(i)
        buckets.append(current)
        kv: list = [None] * len(suffixes)
        last: list = [None] * len(suffixes)
        for bucket in buckets:
            bucket_kv, bucket_last = self._forward_batch([suffixes[i] for i in bucket], [past[i] for i in bucket])
            for j, i in enumerate(bucket):
                kv[i], last[i] = bucket_kv[j], bucket_last[j]
        return kv, torch.stack(last)

    def _forward_batch(self, suffixes: list[list[int]], past: list[list | None]):
        past_len = [p[0][0].shape[-2] if p else 0 for p in past]
        width_past = max(past_len)
        input_ids, attention = self._left_pad(suffixes)
        positions = (attention.cumsum(-1) - 1).clamp(min=0) + torch.tensor(past_len, device=self.device)[:, None]
        cache = _new_cache(self.model)
        if width_past:
            # Rows without a shared prefix get an all-padding past; padding sits between past and suffix.
            empty = [(k.new_zeros(k.shape[:2] + (0,) + k.shape[3:]), v.new_zeros(v.shape[:2] + (0,) + v.shape[3:]))
                     for k, v in next(p for p in past if p)]
            layers = []
            for layer in range(len(empty)):
                keys = torch.cat([_pad_left((p or empty)[layer][0], width_past) for p in past])
                values = torch.cat([_pad_left((p or empty)[layer][1], width_past) for p in past])
                layers.append((keys, values))
            cache = _cache_from(layers, self.model.config)
            past_mask = torch.zeros((len(past), width_past), dtype=torch.long, device=self.device)
            for j, n in enumerate(past_len):
                past_mask[j, width_past - n:] = 1
            attention = torch.cat([past_mask, attention], dim=1)
        out = self.model(input_ids=input_ids, attention_mask=attention, position_ids=positions,
                         use_cache=True, logits_to_keep=1, **{self._cache_kw: cache})
        cache = getattr(out, "cache", None) or out.past_key_values
        keep = [attention[j].bool() for j in range(len(suffixes))]
        kv = [[(layer.keys[j : j + 1, :, keep[j]].clone(), layer.values[j : j + 1, :, keep[j]].clone())
               for layer in cache.layers] for j in range(len(suffixes))]
        return kv, out.logits[:, -1].float()

    # ------------------------------------------------------------ scoring

    @torch.inference_mode()
    def score_next_token(self, prompts: list[str], candidates: list[list[str]]) -> list[list[float]]:
        token_ids = {p: self._ids(p) for p in prompts}
        order = sorted(range(len(prompts)), key=lambda i: token_ids[prompts[i]])  # neighbours share prefixes
        scores: list[list[float]] = [[] for _ in prompts]
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            _, last = self._prefill([prompts[i] for i in idx], keep=False, token_ids=token_ids)
            logprobs = torch.log_softmax(last, dim=-1).cpu()
            for j, i in enumerate(idx):
                scores[i] = logprobs[j, [self._first_token(c) for c in candidates[i]]].tolist()
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


@dataclass
class _Row:
    prompt: int
    position: int  # position id of the next token
    chain: int  # the chain's index among its prompt's chains
    rng: random.Random  # the chain's own generator: one uniform draw per sampled token
    tokens: list[int] = field(default_factory=list)
    logprob: float = 0.0
    finish: str | None = None


class _Pool:
    """The rows in flight: one left-padded KV cache, its attention mask, and each row's next logits."""

    def __init__(self, cache_kw: str, config):
        self.cache_kw = cache_kw
        self.config = config
        self.rows: list[_Row] = []
        self.cache = None
        self.attention: torch.Tensor | None = None
        self.logits: torch.Tensor | None = None

    def admit(self, kv: list[list[tuple[torch.Tensor, torch.Tensor]]], last: torch.Tensor,
              take: list[tuple[int, int]], chains: list[list[tuple[int, random.Random]]]) -> None:
        """Add ``k`` rows for each ``(prompt, k)`` in ``take``, each starting from that prompt's prefill;
        ``chains[t]`` holds the chain index and generator of each of take[t]'s rows."""
        counts = torch.tensor([k for _, k in take])
        lengths = [item[0][0].shape[-2] for item in kv]
        width = max([*lengths, self.attention.shape[1] if self.rows else 0])
        new_kv = []
        for layer in range(len(kv[0])):
            keys = torch.cat([_pad_left(item[layer][0], width) for item in kv])
            values = torch.cat([_pad_left(item[layer][1], width) for item in kv])
            new_kv.append((keys.repeat_interleave(counts.to(keys.device), 0),
                           values.repeat_interleave(counts.to(values.device), 0)))
        device = new_kv[0][0].device
        attention = torch.zeros((len(kv), width), dtype=torch.long, device=device)
        for j, length in enumerate(lengths):
            attention[j, width - length:] = 1
        attention = attention.repeat_interleave(counts.to(device), 0)
        logits = last.repeat_interleave(counts.to(last.device), 0)
        if self.rows:
            for layer, (keys, values) in zip(self.cache.layers, new_kv, strict=True):
                layer.keys = torch.cat([_pad_left(layer.keys, width), keys])
                layer.values = torch.cat([_pad_left(layer.values, width), values])
            self.attention = torch.cat([_pad_left(self.attention, width, dim=1), attention])
            self.logits = torch.cat([self.logits, logits])
        else:
            self.cache = _cache_from(new_kv, self.config)
            self.attention, self.logits = attention, logits
        self.rows += [_Row(i, length, j, rng) for (i, _), length, rows in zip(take, lengths, chains, strict=True)
                      for j, rng in rows]

    def retire(self, next_tok: torch.Tensor) -> torch.Tensor:
        """Drop finished rows and the leading columns no remaining row attends to."""
        keep = [j for j, r in enumerate(self.rows) if not r.finish]
        self.rows = [self.rows[j] for j in keep]
        if not keep:
            self.cache = self.attention = self.logits = None
            return next_tok[:0]
        index = torch.tensor(keep, device=self.attention.device)
        attention = self.attention[index]
        first = int(attention.any(0).nonzero()[0])
        for layer in self.cache.layers:
            layer.keys = layer.keys[index, :, first:]
            layer.values = layer.values[index, :, first:]
        self.attention, self.logits = attention[:, first:], self.logits[index]
        return next_tok[torch.tensor(keep)]

    def step(self, model, next_tok: torch.Tensor) -> None:
        """Feed each row its sampled token; keep the logits for the next draw."""
        self.attention = torch.cat([self.attention, self.attention.new_ones(len(self.rows), 1)], dim=1)
        positions = torch.tensor([[r.position] for r in self.rows], device=self.attention.device)
        out = model(input_ids=next_tok[:, None], attention_mask=self.attention, position_ids=positions,
                    use_cache=True, **{self.cache_kw: self.cache})
        for r in self.rows:
            r.position += 1
        self.logits = out.logits[:, -1].float()


def _prefix_groups(ids: list[list[int]], min_len: int) -> list[tuple[list[int], int]]:
    """Group prompts that share a long token prefix: [(member indices, prefix length)].

    The shared prefix stops one token short of the shortest member, so every member has a suffix.
    """
    order = sorted(range(len(ids)), key=lambda i: ids[i])
    groups: list[tuple[list[int], int]] = []
    for i in order:
        if groups:
            members, cut = groups[-1]
            prev = ids[members[-1]]
            common = _common_prefix(prev, ids[i])
            common = min(common, cut if len(members) > 1 else common, len(ids[i]) - 1, len(prev) - 1)
            # Merge only a prefix that is most of the prompt (the problem statement), not just the
            # instruction every prompt starts with: a group's prefix is what all its members share.
            if common >= min_len and 2 * common >= len(ids[i]):
                groups[-1] = (members + [i], common)
                continue
        groups.append(([i], 0))
    return [(members, cut if len(members) > 1 else 0) for members, cut in groups]


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _pad_left(t: torch.Tensor, width: int, dim: int = -2) -> torch.Tensor:
    missing = width - t.shape[dim]
    if missing <= 0:
        return t
    shape = list(t.shape)
    shape[dim] = missing
    return torch.cat([t.new_zeros(shape), t], dim=dim)


def _cache_from(kv: list[tuple[torch.Tensor, torch.Tensor]], config):
    """A DynamicCache holding ``kv``, built for the model's config (its layer types, sliding windows)."""
    from transformers import DynamicCache

    cache = DynamicCache(config=config)
    for layer_idx, (keys, values) in enumerate(kv):
        cache.update(keys, values, layer_idx)
    return cache


def _sample(logits: torch.Tensor, sp: SamplingParams, rngs: list[random.Random]) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw one token per row; returns the tokens and their untempered log-probs under the model.

    Each row draws one uniform from its own generator and takes the token where the cumulative
    probability passes it (inverse CDF): the draw depends on that row's chain alone, and only the B
    uniforms travel to the device, where the sampling itself runs.
    """
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
    cdf = probs.cumsum(-1)
    u = torch.tensor([rng.random() for rng in rngs], dtype=cdf.dtype, device=cdf.device)[:, None] * cdf[:, -1:]
    choice = (cdf <= u).sum(-1, keepdim=True).clamp(max=k - 1)
    tok = top_ids.gather(-1, choice)[:, 0]
    return tok.cpu(), logprobs.gather(-1, tok[:, None])[:, 0].cpu()


def _new_cache(model):
    from transformers import DynamicCache

    return DynamicCache(config=model.config)


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
