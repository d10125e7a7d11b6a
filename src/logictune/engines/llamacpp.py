"""llama.cpp engine (CPUs): the GGUF as shipped (Q4_K_M) on llama.cpp's quantised kernels.

Why it exists: on a 2-core fp32 CPU it writes greedy programs 1.3-1.45x faster than the transformers engine
(bench/README.md, "program generation, engine against engine"): it decodes faster, and program answering is
decode-heavy. Prefill is even only where prompts share their start, so the KV cache of the previous sequence
is kept and trimmed back to what the next prompt shares with it: the chains of one question, and the
questions of one problem, prefill only what is new. One sequence at a time: llama.cpp's parallel sequences
decode faster still, but each prefills its prompt alone, which ate the gain in the same bench.

Sampling is ours, on the logits llama.cpp returns, with the hf engine's rules: greedy at temperature 0,
else top-k then top-p, chain ``j`` seeded by ``chain_seed(seed, j)``, stop on ``stop_regex`` over the
decoded tail; ``logprob`` is the untempered log-prob of the tokens drawn. ``llama-cpp-python`` is built from
source by ``make llamacpp`` (an optional extra).
"""

from __future__ import annotations

import ctypes
import os
import random
import re
from collections.abc import Callable, Sequence

import numpy as np

from . import STOP_WINDOW_TOKENS, Completion, SamplingParams, chain_seed, per_prompt, stop_reached

_CHUNK = 512  # tokens per llama_decode call while prefilling


def _has_amx(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU has AMX. llama.cpp built natively on such a CPU repacks the weights for its AMX
    matmul, which segfaulted in ``ggml_backend_amx_mul_mat`` on the first decode (llama-cpp-python 0.3.36, a
    2-core Xeon under KVM, 2026-12-02); without the repacked ("extra") buffers it runs the AVX-512 kernels."""
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as f:
            return any(line.startswith("flags") and " amx_int8" in line for line in f)
    except OSError:
        return False


class LlamaCppEngine:
    def __init__(self, model_path: str, tokenizer=None, *, lora: str | None = None, n_ctx: int = 4096,
                 threads: int | None = None, progress=None, batch_size: int | None = None):
        try:
            import llama_cpp
        except ImportError as e:
            raise ImportError("--engine llamacpp needs llama-cpp-python: `make llamacpp` builds it") from e
        global _QUIET
        _QUIET = _QUIET or llama_cpp.llama_log_callback(lambda level, text, data: None)
        self.L = L = llama_cpp
        L.llama_log_set(_QUIET, ctypes.c_void_p(0))  # llama.cpp logs every tensor it loads to stderr
        if not str(model_path).endswith(".gguf") or not os.path.isfile(model_path):
            raise ValueError(f"--engine llamacpp takes a .gguf model file, got {model_path!r}")
        L.llama_backend_init()
        model_params = L.llama_model_default_params()
        if _has_amx() and hasattr(model_params, "use_extra_bufts"):
            model_params.use_extra_bufts = False  # see _has_amx
        self.model = L.llama_model_load_from_file(str(model_path).encode(), model_params)
        if not self.model:
            raise ValueError(f"llama.cpp could not load {model_path}")
        params = L.llama_context_default_params()
        params.n_ctx, params.n_batch, params.n_ubatch = n_ctx, _CHUNK, _CHUNK
        params.n_threads = params.n_threads_batch = threads or len(os.sched_getaffinity(0))
        self.ctx = L.llama_init_from_model(self.model, params)
        if lora:
            adapter = L.llama_adapter_lora_init(self.model, str(lora).encode())
            if not adapter:
                raise ValueError(f"llama.cpp could not load the LoRA adapter {lora} (a GGUF LoRA file)")
            L.llama_set_adapters_lora(self.ctx, (L.llama_adapter_lora_p_ctypes * 1)(adapter), 1,
                                      (ctypes.c_float * 1)(1.0))
        self.vocab = L.llama_model_get_vocab(self.model)
        self.n_vocab = L.llama_vocab_n_tokens(self.vocab)
        self.n_ctx = n_ctx
        self.memory = L.llama_get_memory(self.ctx)
        self.batch = L.llama_batch_init(_CHUNK, 0, 1)
        self.cached: list[int] = []  # the tokens whose KV sits in the cache, in order
        self.progress = progress  # called with (prompts_done, tokens_generated) after each chain

    # ---------------------------------------------------------------- tokens and the KV cache

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        raw = text.encode()
        buf = (self.L.llama_token * (len(raw) + 16))()
        n = self.L.llama_tokenize(self.vocab, raw, len(raw), buf, len(buf), False, special)
        if n < 0:
            raise ValueError("llama.cpp could not tokenize a prompt")
        return list(buf[:n])

    def _piece(self, token: int) -> bytes:
        buf = ctypes.create_string_buffer(256)
        n = self.L.llama_token_to_piece(self.vocab, token, buf, len(buf), 0, False)
        return buf.raw[:max(n, 0)]

    def _decode(self, tokens: Sequence[int]) -> np.ndarray:
        """Append ``tokens`` to the cached sequence; the logits after the last one."""
        if len(self.cached) + len(tokens) > self.n_ctx:
            raise ValueError(f"a prompt and its completion need {len(self.cached) + len(tokens)} tokens; "
                             f"the context holds {self.n_ctx}")
        b = self.batch
        for start in range(0, len(tokens), _CHUNK):
            chunk = tokens[start:start + _CHUNK]
            for i, tok in enumerate(chunk):
                b.token[i], b.pos[i], b.n_seq_id[i], b.seq_id[i][0] = tok, len(self.cached) + i, 1, 0
                b.logits[i] = start + i == len(tokens) - 1
            b.n_tokens = len(chunk)
            if self.L.llama_decode(self.ctx, b) != 0:
                raise RuntimeError("llama_decode failed")
            self.cached += chunk
        return np.ctypeslib.as_array(self.L.llama_get_logits_ith(self.ctx, -1), shape=(self.n_vocab,)).copy()

    def _prefill(self, tokens: list[int]) -> np.ndarray:
        """The logits after ``tokens``, keeping what the cache shares with them (the last token always runs:
        its logits are not kept)."""
        keep = 0
        limit = min(len(self.cached), len(tokens) - 1)
        while keep < limit and self.cached[keep] == tokens[keep]:
            keep += 1
        self.L.llama_memory_seq_rm(self.memory, 0, keep, -1)
        del self.cached[keep:]
        return self._decode(tokens[keep:])

    def reset_cache(self) -> None:
        """Forget every cached prefix: the next prompt prefills from its first token, as on a fresh engine. A
        prefix reused from another prompt was prefilled in other chunks, which moves the logits by float
        rounding; that can flip a sampled draw (it did on an AVX-512 Zen 4), so a run that must repeat another
        token for token starts from here."""
        self.L.llama_memory_seq_rm(self.memory, 0, 0, -1)
        self.cached.clear()

    # ---------------------------------------------------------------- the engine protocol

    def _complete(self, prompt: list[int], sp: SamplingParams, stop: re.Pattern | None, seed: int) -> Completion:
        rng = random.Random(seed)
        logits = self._prefill(prompt)
        ids: list[int] = []
        pieces: list[bytes] = []
        logprob, finish = 0.0, "length"
        while len(ids) < sp.max_new_tokens:
            token, lp = _pick(logits, sp, rng)
            if self.L.llama_vocab_is_eog(self.vocab, token):
                finish = "eos"
                break
            ids.append(token)
            pieces.append(self._piece(token))
            logprob += lp
            if stop and stop_reached(stop, b"".join(pieces[-STOP_WINDOW_TOKENS:]).decode("utf-8", "ignore"),
                                     len(pieces[-1].decode("utf-8", "ignore"))):
                finish = "stop"
                break
            if len(ids) < sp.max_new_tokens:
                logits = self._decode([token])
        if self.progress:
            self.progress(0, len(ids))
        return Completion(b"".join(pieces).decode("utf-8", "replace"), ids, logprob, finish)

    def generate(self, prompts: list[str], n: int, sampling: SamplingParams | Sequence[SamplingParams], *,
                 more: Callable[[int, list[Completion]], int] | None = None,
                 on_done: Callable[[int, list[Completion]], None] | None = None) -> list[list[Completion]]:
        params = per_prompt(sampling, len(prompts))
        results: list[list[Completion]] = [[] for _ in prompts]
        for i, text in enumerate(prompts):
            sp, tokens = params[i], self.tokenize(text)
            stop = re.compile(sp.stop_regex) if sp.stop_regex else None
            todo = n
            while todo:
                for _ in range(todo):
                    results[i].append(self._complete(tokens, sp, stop, chain_seed(sp.seed, len(results[i]))))
                todo = more(i, results[i]) if more else 0
            if on_done:
                on_done(i, results[i])
        return results

    def score_next_token(self, prompts: list[str], candidates: list[list[str]]) -> list[list[float]]:
        out = []
        for text, cands in zip(prompts, candidates, strict=True):
            logits = self._prefill(self.tokenize(text))
            logp = logits - _logsumexp(logits)
            out.append([float(logp[self.tokenize(c, special=False)[0]]) for c in cands])
        return out

    def close(self) -> None:
        if self.ctx:
            self.L.llama_batch_free(self.batch)
            self.L.llama_free(self.ctx)
            self.L.llama_model_free(self.model)
            self.ctx = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


_QUIET = None  # set on first use: the callback must outlive every call into llama.cpp


def _logsumexp(x: np.ndarray) -> float:
    m = float(x.max())
    return m + float(np.log(np.exp(x - m).sum()))


def _pick(logits: np.ndarray, sp: SamplingParams, rng: random.Random) -> tuple[int, float]:
    """The next token (greedy, or top-k then top-p at the temperature) and its untempered log-prob."""
    if sp.temperature == 0:
        token = int(logits.argmax())
    else:
        k = sp.top_k or len(logits)
        top = np.argpartition(-logits, k - 1)[:k] if k < len(logits) else np.arange(len(logits))
        top = top[np.argsort(-logits[top], kind="stable")]
        scaled = logits[top] / sp.temperature
        p = np.exp(scaled - scaled.max())
        p /= p.sum()
        keep = max(1, int(np.searchsorted(np.cumsum(p), sp.top_p) + 1))  # the smallest set reaching top_p
        p = p[:keep] / p[:keep].sum()
        token = int(top[min(int(np.searchsorted(np.cumsum(p), rng.random(), side="right")), keep - 1)])
    return token, float(logits[token] - _logsumexp(logits))
