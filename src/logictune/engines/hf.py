"""The transformers engine: batched sampling with a decode loop written for CPUs and small GPUs.

Why not ``model.generate``: on this CPU it plateaus near 40 tok/s however many rows are in flight,
because it sorts the whole 152k vocabulary for top-p every step, keeps finished rows in the batch to
the end, and prefills every sampled chain's prompt separately. This loop

- prefills each token sequence once, through one LRU cache of KV caches keyed by token ids (whole
  prompts and the prefixes prompts share). A prompt starts from the longest prefix it shares with a
  cached sequence and computes only the rest; prompts prefilled together first compute the prefixes
  where their tokens part (the instruction all prompts start with, a problem's statement shared by
  its questions), so each of those is prefilled once (prefill is compute-bound on a CPU: this halves
  it on the competition data). Chains copy their prompt's KV, and adaptive rounds find it cached,
- samples with top-k then top-p inside the top-k (same nucleus unless it is wider than k),
- stops a chain as soon as its answer line is out (``SamplingParams.stop_regex``) or at EOS,
- keeps one pool of rows: finished chains leave, waiting ones (and the extra chains adaptive voting
  asks for) take their place, so a chain that runs long holds one row, not a batch.

Greedy output equals ``model.generate``'s token for token (tests/test_engine_hf.py).
"""

from __future__ import annotations

import bisect
import inspect
import random
import re
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from . import STOP_WINDOW_TOKENS, Completion, SamplingParams, chain_seed, per_prompt, stop_reached

# Compact the batch once this share of its rows has finished: copying the KV cache costs about as
# much as a few decode steps, so doing it for every finished row would cost more than it saves.
_COMPACT_SHARE = 0.25
# A shared prefix becomes a node of its own only if it saves this many tokens over its parent: a node costs
# a trie level (one more forward call) and a cache slot, worth about as much as a few dozen tokens on a CPU.
_MIN_SHARED = 16

MoreFn = Callable[[int, list[Completion]], int]
DoneFn = Callable[[int, list[Completion]], None]
Tokens = tuple[int, ...]


class HFEngine:
    def __init__(self, model, tokenizer, *, batch_size: int = 16, progress=None, prompt_cache_size: int | None = None):
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
        # The one prefill cache: token ids -> (KV per layer, logits after the last token), least recently
        # used first. An admission prefills up to batch_size prompts plus 2 * batch_size of look-ahead and
        # the prefixes they share, and the prompts in flight come back for more chains: a smaller cache
        # would evict prompts just prefilled and compute them again.
        self.prompt_cache_size = 6 * self.batch_size if prompt_cache_size is None else max(0, prompt_cache_size)
        self._cache: OrderedDict[Tokens, tuple[list, torch.Tensor]] = OrderedDict()
        self.prefilled = 0  # prompts whose prefill was computed (not found in the cache): for tests, benches
        self.prefilled_tokens = 0  # tokens run through the model to prefill them

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
        ids = [tuple(self._ids(p)) for p in prompts]  # tokenized once, for the queue order and the prefill
        # Lexicographic token order puts the questions of one problem side by side: prefilled together,
        # they share the problem's statement.
        queue: deque[tuple[int, int]] = deque((i, n) for i in sorted(range(len(prompts)), key=ids.__getitem__))
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
                    needed = [ids[i] for i, _ in take]
                    ahead = []
                    if any(x not in self._cache for x in needed):
                        # Prefill the next prompts in the queue too: one bigger batch shares more
                        # problem statements, and later admissions find their prompts ready (as many as
                        # the cache keeps beside these).
                        room = max(0, min(2 * self.batch_size, self.prompt_cache_size - len(needed)))
                        ahead = [ids[i] for i, _ in list(queue)[:room]]
                    kv, last = self._prefill(needed, ahead)
                    chains = [[(j, random.Random(chain_seed(params[i].seed, j)))
                               for j in range(started[i], started[i] + k)] for i, k in take]
                    for i, k in take:
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
                        if stop and stop_reached(stop, self.tokenizer.decode(row.tokens[-STOP_WINDOW_TOKENS:]),
                                                 len(self.tokenizer.decode(row.tokens[-1:]))):
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
                            self._cache.pop(ids[i], None)  # no more chains will start from it
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

    def _prefill(self, prompts: list[Tokens], ahead: list[Tokens] = ()):
        """Each prompt's KV cache (per layer, unpadded) and its last-position logits, through the cache;
        the prompts of ``ahead`` are computed with them and left in the cache.

        The prompts not cached form a token trie: its inner nodes are the prefixes where their tokens
        part (the instruction all of them start with, a problem's statement its questions share). It is
        computed a level at a time, each node from the longest prefix it shares with a cached sequence
        (the level above, or a prompt, prefix or instruction cached before), and every node is kept.
        """
        if not all(prompts) or not all(ahead):
            raise ValueError("an empty prompt has no next-token distribution")
        todo = sorted({p for p in [*prompts, *ahead] if p not in self._cache})
        self.prefilled += len(todo)
        shared = {a[: _common_prefix(a, b)] for a, b in zip(todo, todo[1:], strict=False)} - {()}
        wanted = set(todo)
        levels: dict[int, list[Tokens]] = {}
        path: list[Tokens] = []  # the nodes the current one extends
        for node in sorted(shared | wanted):  # a prefix sorts before what extends it
            while path and node[: len(path[-1])] != path[-1]:
                path.pop()
            if node not in wanted and len(node) - (len(path[-1]) if path else 0) < _MIN_SHARED:
                continue  # an incidental shared prefix (a few tokens): not worth a level
            levels.setdefault(len(path), []).append(node)
            path.append(node)
        for depth in sorted(levels):
            if fresh := [node for node in levels[depth] if node not in self._cache]:
                self._compute(fresh)
        found = [self._cache[p] for p in prompts]
        for p in [*ahead, *prompts]:  # the prompts asked for now are the last to go
            self._cache.move_to_end(p)
        while len(self._cache) > self.prompt_cache_size:
            self._cache.popitem(last=False)
        return [kv for kv, _ in found], torch.stack([last for _, last in found])

    def _compute(self, nodes: list[Tokens]) -> None:
        """Prefill ``nodes`` into the cache, each after the longest prefix it shares with a cached sequence.

        Rows run in buckets of similar length: left padding is computed like any token, and prefill is
        compute-bound, so a batch should not be padded by more than a fifth.
        """
        cached = sorted(self._cache)
        suffixes, past = [], []
        for node in nodes:
            # The cached sequence sharing the longest prefix sorts next to the node. One token stays to
            # compute: its logits are the node's.
            at = bisect.bisect(cached, node)
            shares = [(min(_common_prefix(node, c), len(node) - 1), c) for c in cached[max(0, at - 1) : at + 1]]
            n, source = max(shares, default=(0, None))
            if n:
                self._cache.move_to_end(source)
            past.append([(k[:, :, :n], v[:, :, :n]) for k, v in self._cache[source][0]] if n else None)
            suffixes.append(node[n:])
        self.prefilled_tokens += sum(map(len, suffixes))
        buckets: list[list[int]] = [[]]
        for i in sorted(range(len(nodes)), key=lambda i: len(suffixes[i])):
            width, current = len(suffixes[i]), buckets[-1]
            # At most a fifth padding, plus 64 tokens: short suffixes (a question after its statement) would
            # otherwise split into many tiny forward calls, each costing more than the padding it saves.
            if current and width * (len(current) + 1) > 1.25 * (sum(len(suffixes[j]) for j in current) + width) + 64:
                buckets.append(current := [])
            current.append(i)
        for bucket in buckets:
            kv, last = self._forward_batch([suffixes[i] for i in bucket], [past[i] for i in bucket])
            for j, i in enumerate(bucket):
                self._cache[nodes[i]] = (kv[j], last[j].clone())  # a view would keep the bucket's logits alive

    def _forward_batch(self, suffixes: list[Tokens], past: list[list | None]):
        past_len = [p[0][0].shape[-2] if p else 0 for p in past]
        width_past = max(past_len)
        input_ids, attention = self._left_pad(suffixes)
        positions = (attention.cumsum(-1) - 1).clamp(min=0) + torch.tensor(past_len, device=self.device)[:, None]
        layers = []
        if width_past:
            # Rows without a shared prefix get an all-padding past; padding sits between past and suffix.
            empty = [(k[:, :, :0], v[:, :, :0]) for k, v in next(p for p in past if p)]
            layers = _stack_left([p or empty for p in past], width_past)
            attention = torch.cat([_left_mask(past_len, width_past, self.device), attention], dim=1)
        out = self.model(input_ids=input_ids, attention_mask=attention, position_ids=positions, use_cache=True,
                         logits_to_keep=1, **{self._cache_kw: _cache_from(layers, self.model.config)})
        cache = getattr(out, "cache", None) or out.past_key_values
        keep = [attention[j].bool() for j in range(len(suffixes))]
        # Boolean indexing copies: the rows own their KV and the batch's cache can go.
        kv = [[(layer.keys[j : j + 1, :, keep[j]], layer.values[j : j + 1, :, keep[j]])
               for layer in cache.layers] for j in range(len(suffixes))]
        return kv, out.logits[:, -1].float()

    # ------------------------------------------------------------ scoring

    @torch.inference_mode()
    def score_next_token(self, prompts: list[str], candidates: list[list[str]]) -> list[list[float]]:
        ids = [tuple(self._ids(p)) for p in prompts]
        order = sorted(range(len(prompts)), key=ids.__getitem__)  # neighbours share prefixes
        scores: list[list[float]] = [[] for _ in prompts]
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            _, last = self._prefill([ids[i] for i in idx])
            for i in idx:
                self._cache.pop(ids[i], None)  # scored once: only the prefixes it shares are worth keeping
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

    def _left_pad(self, batch: list[Tokens]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(len(ids) for ids in batch)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        input_ids = torch.tensor([[pad] * (width - len(ids)) + list(ids) for ids in batch], device=self.device)
        return input_ids, _left_mask([len(ids) for ids in batch], width, self.device)


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
        new_kv = [(keys.repeat_interleave(counts.to(keys.device), 0),
                   values.repeat_interleave(counts.to(keys.device), 0)) for keys, values in _stack_left(kv, width)]
        device = new_kv[0][0].device
        attention = _left_mask(lengths, width, device).repeat_interleave(counts.to(device), 0)
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


def _common_prefix(a: Tokens, b: Tokens) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _left_mask(lengths: list[int], width: int, device) -> torch.Tensor:
    """An attention mask of ``width`` columns: row j attends to its last ``lengths[j]``."""
    return (torch.arange(width, device=device) >= width - torch.tensor(lengths, device=device)[:, None]).long()


def _pad_left(t: torch.Tensor, width: int, dim: int = -2) -> torch.Tensor:
    missing = width - t.shape[dim]
    if missing <= 0:
        return t
    shape = list(t.shape)
    shape[dim] = missing
    return torch.cat([t.new_zeros(shape), t], dim=dim)


def _stack_left(rows: list[list[tuple[torch.Tensor, torch.Tensor]]], width: int):
    """One batch KV cache (per layer) from per-row ones, each left-padded to ``width`` positions."""
    return [tuple(torch.cat([_pad_left(row[layer][x], width) for row in rows]) for x in (0, 1))
            for layer in range(len(rows[0]))]


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
