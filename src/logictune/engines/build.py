"""From the command line's choices to a ready engine: the model and tokenizer loaded the way each engine
wants them, the adapter applied its way, the progress callbacks wired. predict and distill share it.

    hf        weights loaded here, the adapter merged into them (unmerged LoRA generates 1.75x slower)
    llamacpp  the model's GGUF; an adapter converted once to a GGUF LoRA (lora_gguf, cached by content)
    vllm      the resolved local directory; the adapter served as a LoRA, its tokenizer when it saved one
    openai    the served model's name; prompts rendered here with ``tokenizer`` (default: the model's) so the
              server sees what the model was trained on, or sent as chat messages (``render=False``: a
              hosted teacher); an adapter has to be served by the server itself
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import ENGINES, Engine, get_engine


@dataclass
class EngineChoice:
    engine: str = "hf"
    model: str = "qwen2.5-coder-0.5b"  # models.DEFAULT_MODEL, without importing torch here
    adapter: Path | None = None
    dtype: str = "auto"  # hf, vllm
    batch_size: int = 16
    seed: int = 0  # vllm's own seed (each chain is seeded from SamplingParams on every engine)
    tensor_parallel_size: int = 1  # vllm
    base_url: str | None = None  # openai
    api_key_env: str | None = None  # openai; None: the client's default variable
    concurrency: int = 8  # openai
    max_stop: int | None = 4  # openai: most stop strings sent; None: all of them
    tokenizer: str | None = None  # openai: where the chat template comes from (default: model)
    render: bool = True  # openai: False sends chat messages, rendered by the server's template

    def __post_init__(self):  # checked when chosen, before any data or model is read
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; choose {', '.join(ENGINES[:-1])} or {ENGINES[-1]}")


@dataclass
class Built:
    engine: Engine
    tokenizer: Any | None  # None: the server renders chat messages itself
    dtype: str | None  # what the weights run in ("gguf" for llama.cpp, None when a server decides)


def build_engine(choice: EngineChoice, *, progress: Callable[[int, int], None] | None = None,
                 **engine_options: Any) -> Built:
    """Load what ``choice`` names and make its engine. ``progress(prompts_done, tokens)`` goes to the
    engine; ``engine_options`` too (the openai engine's ``max_retries``, ``timeout``, ``cache``).
    Raises ValueError (a model not found included), OSError or ImportError, each naming what is wrong."""
    if choice.engine == "openai" and not choice.render:  # a hosted teacher: nothing to load, no torch
        return _openai(choice, None, progress, engine_options)
    from .. import models  # imports torch

    try:
        return _load(choice, progress, engine_options)
    except models.ModelNotFound as e:
        raise ValueError(str(e)) from None


def _load(choice: EngineChoice, progress, engine_options: dict) -> Built:
    from .. import models

    adapter = str(choice.adapter) if choice.adapter else None
    options: dict[str, Any] = {"batch_size": choice.batch_size, "progress": progress, **engine_options}
    if choice.engine == "hf":
        lm, tokenizer = models.load_model(choice.model, dtype=choice.dtype, adapter=adapter, merge=True)
        dtype = str(lm.dtype).removeprefix("torch.")
    elif choice.engine == "llamacpp":
        from . import lora_gguf

        tokenizer = models.load_tokenizer(choice.model)  # the chat template the prompts are rendered with
        lm, dtype = models.gguf_file(choice.model), "gguf"
        if adapter:
            options["lora"] = str(lora_gguf.cached_gguf(adapter, lora_gguf.base_arch(lm)))
    elif choice.engine == "vllm":
        saved = adapter and (Path(adapter) / "tokenizer_config.json").exists()
        tokenizer = models.load_tokenizer(adapter if saved else choice.model)
        lm, dtype = models.resolve_model(choice.model), str(models.pick_dtype(choice.dtype)).removeprefix("torch.")
        options |= {"adapter": adapter, "dtype": dtype, "tensor_parallel_size": choice.tensor_parallel_size,
                    "seed": choice.seed}
    else:
        if adapter:
            raise ValueError("--adapter with --engine openai: serve it (vllm serve --enable-lora --lora-modules "
                             "NAME=DIR) and pass --model NAME")
        return _openai(choice, models.load_tokenizer(choice.tokenizer or choice.model), progress, engine_options)
    return Built(get_engine(choice.engine, lm, tokenizer, **options), tokenizer, dtype)


def _openai(choice: EngineChoice, tokenizer, progress, engine_options: dict) -> Built:
    options = {"base_url": choice.base_url, "concurrency": choice.concurrency, "max_stop": choice.max_stop,
               "progress": progress, **engine_options}
    if choice.api_key_env:
        options["api_key_env"] = choice.api_key_env
    return Built(get_engine("openai", choice.model, tokenizer, **options), tokenizer, None)


class Meter:
    """Questions and tokens per second since it was made, from the engine's ``progress`` callback
    (tokens) and the caller's count of finished questions."""

    def __init__(self):
        self.start, self.questions, self.tokens = time.perf_counter(), 0, 0

    def on_batch(self, _prompts: int, tokens: int) -> None:
        self.tokens += tokens

    def rate(self) -> str:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        return f"{self.questions / elapsed:.2f} q/s  {self.tokens / elapsed:.1f} tok/s"
