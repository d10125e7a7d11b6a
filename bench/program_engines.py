"""Program generation, engine against engine: generated tokens/s and programs/s on the same real questions.

Rows, side by side in one run, greedy, the program prompt of `predict --method program`:
  hf         our transformers engine (bf16/fp32 safetensors dequantised from the GGUF), --batch-size prompts at once
  llama-1    llama-cpp-python on the Q4_K_M GGUF, one prompt at a time (Llama.create_completion)
  llama-B    llama.cpp's batched decoding: the prompts as parallel sequences of one context, one
             llama_decode per step for all of them (the low-level API, as llama.cpp's batched example)
The llama rows need `llama-cpp-python` (built from source by pip): run this file with an interpreter that has
it and logictune importable, e.g. a venv made with `pip install llama-cpp-python -e .`.

    python bench/program_engines.py split/val.jsonl --questions 16 --max-new-tokens 192
"""

from __future__ import annotations

import argparse
import ctypes
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from logictune import data, models, programs, prompts
from logictune.engines import SamplingParams


def program_prompts(path: str, n: int, tokenizer) -> list[str]:
    qs = [(p, q) for p in data.load_problems(path) for q in p.questions][:n]
    return [prompts.render_program_prompt(tokenizer, p, q) for p, q in qs]


def row(name: str, texts: list[str], tokens: int, seconds: float, prefill: float) -> dict:
    """``prefill``: seconds the same engine took, cold, for the prompts with one new token each."""
    codes = sum(programs.extract_code(t) is not None for t in texts)
    print(f"| {name} | {len(texts)} | {tokens} | {seconds:.1f} | {tokens / seconds:.2f} | {len(texts) / seconds:.3f} "
          f"| {prefill:.1f} | {(tokens - len(texts)) / (seconds - prefill):.2f} | {codes} |", flush=True)
    return {"name": name, "tokens": tokens, "seconds": seconds}


def hf_row(prompt_texts: list[str], model, tokenizer, max_new: int, batch: int) -> dict:
    from logictune.engines.hf import HFEngine

    sp = SamplingParams(max_new_tokens=max_new, temperature=0, stop_regex=prompts.PROGRAM_STOP_REGEX)
    start = time.perf_counter()
    HFEngine(model, tokenizer, batch_size=batch).generate(prompt_texts, 1, replace(sp, max_new_tokens=1))
    prefill = time.perf_counter() - start
    start = time.perf_counter()
    out = HFEngine(model, tokenizer, batch_size=batch).generate(prompt_texts, 1, sp)  # a cold prompt cache
    return row(f"hf (batch {batch})", [c[0].text for c in out], sum(c[0].tokens for c in out),
               time.perf_counter() - start, prefill)


def llama_single_row(prompt_texts: list[str], gguf: str, max_new: int, threads: int) -> dict:
    from llama_cpp import Llama

    llm = Llama(gguf, n_ctx=4096, n_batch=512, n_threads=threads, n_threads_batch=threads, verbose=False)
    start = time.perf_counter()  # as in the timed run: each prompt reuses what it shares with the one before
    for p in prompt_texts:
        llm.create_completion(p, max_tokens=1, temperature=0.0)
    prefill = time.perf_counter() - start
    llm.reset()
    start, texts, tokens = time.perf_counter(), [], 0
    for p in prompt_texts:
        r = llm.create_completion(p, max_tokens=max_new, temperature=0.0, stop=prompts.PROGRAM_STOP_STRINGS)
        texts.append(r["choices"][0]["text"])
        tokens += r["usage"]["completion_tokens"]
    return row("llama.cpp, one prompt at a time", texts, tokens, time.perf_counter() - start, prefill)


def llama_batched_row(prompt_texts: list[str], gguf: str, max_new: int, threads: int) -> dict:
    """Every prompt its own sequence of one context; each step decodes one token of every live sequence."""
    import llama_cpp as L

    L.llama_backend_init()
    model = L.llama_model_load_from_file(gguf.encode(), L.llama_model_default_params())
    vocab = L.llama_model_get_vocab(model)
    n_vocab = L.llama_vocab_n_tokens(vocab)

    def tokenize(text: str) -> list[int]:
        raw = text.encode()
        buf = (L.llama_token * (len(raw) + 8))()
        n = L.llama_tokenize(vocab, raw, len(raw), buf, len(buf), False, True)
        return list(buf[:n])

    def piece(tok: int) -> bytes:
        buf = ctypes.create_string_buffer(64)
        n = L.llama_token_to_piece(vocab, tok, buf, len(buf), 0, True)
        return buf.raw[:n]

    seqs = [tokenize(p) for p in prompt_texts]
    n_seq = len(seqs)
    per_seq = max(len(s) for s in seqs) + max_new + 8
    cp = L.llama_context_default_params()
    cp.n_ctx, cp.n_seq_max, cp.n_threads, cp.n_threads_batch = per_seq * n_seq, n_seq, threads, threads
    cp.n_batch = cp.n_ubatch = 512
    ctx = L.llama_init_from_model(model, cp)
    batch = L.llama_batch_init(512, 0, n_seq)

    def decode(items: list[tuple[int, int, int, bool]]) -> list[int]:
        """items: (token, pos, seq, want logits); returns the batch rows that have logits, in order."""
        rows = []
        for start in range(0, len(items), 512):
            chunk = items[start:start + 512]
            for i, (tok, pos, seq, want) in enumerate(chunk):
                batch.token[i], batch.pos[i], batch.n_seq_id[i] = tok, pos, 1
                batch.seq_id[i][0], batch.logits[i] = seq, want
            batch.n_tokens = len(chunk)
            if L.llama_decode(ctx, batch) != 0:
                raise RuntimeError("llama_decode failed")
            rows += [(start, i) for i, it in enumerate(chunk) if it[3]]
        return rows

    stop = prompts.PROGRAM_STOP_STRINGS[0].encode()
    start = time.perf_counter()
    next_tok: dict[int, int] = {}
    for s, toks in enumerate(seqs):  # prefill: the last token of each prompt gives the first logits
        decode([(t, j, s, j == len(toks) - 1) for j, t in enumerate(toks)])
        logits = np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
        next_tok[s] = int(logits.argmax())
    prefill = time.perf_counter() - start
    out = {s: b"" for s in range(n_seq)}
    length = {s: len(t) for s, t in enumerate(seqs)}
    generated = dict.fromkeys(range(n_seq), 0)
    live = list(range(n_seq))
    while live:
        keep = []
        for s in live:
            tok = next_tok[s]
            if L.llama_vocab_is_eog(vocab, tok):
                continue
            out[s] += piece(tok)
            generated[s] += 1
            if stop in out[s] or generated[s] >= max_new:
                continue
            keep.append(s)
        live = keep
        if not live:
            break
        decode([(next_tok[s], length[s], s, True) for s in live])
        for i, s in enumerate(live):
            length[s] += 1
            logits = np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, i), shape=(n_vocab,))
            next_tok[s] = int(logits.argmax())
    seconds = time.perf_counter() - start
    L.llama_batch_free(batch)
    L.llama_free(ctx)
    L.llama_model_free(model)
    return row(f"llama.cpp batched ({n_seq} sequences)", [out[s].decode("utf-8", "replace") for s in range(n_seq)],
               sum(generated.values()), seconds, prefill)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data")
    parser.add_argument("--questions", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=192)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rows", default="hf,llama-1,llama-B")
    args = parser.parse_args()
    threads = len(os.sched_getaffinity(0))
    model_dir = Path(models.resolve_model("qwen2.5-coder-0.5b"))
    gguf = next(str(p) for p in model_dir.parent.glob("*.gguf"))
    model, tokenizer = models.load_model("qwen2.5-coder-0.5b")
    texts = program_prompts(args.data, args.questions, tokenizer)
    print(f"{len(texts)} program prompts, greedy, {args.max_new_tokens} new tokens at most, {threads} threads; "
          f"hf dtype {model.dtype}; GGUF {os.path.basename(gguf)}")
    print("| engine | programs | generated tokens | seconds | tokens/s | programs/s | prefill s | decode tokens/s "
          "| with a code block |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = args.rows.split(",")
    if "hf" in rows:
        hf_row(texts, model, tokenizer, args.max_new_tokens, args.batch_size)
    del model
    if "llama-1" in rows:
        llama_single_row(texts, gguf, args.max_new_tokens, threads)
    if "llama-B" in rows:
        llama_batched_row(texts, gguf, args.max_new_tokens, threads)


if __name__ == "__main__":
    main()
