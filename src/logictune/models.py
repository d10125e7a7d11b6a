"""Model specs to local files, dtype choice, and loading for generation or training.

A spec is a local HF directory, a ``.gguf`` file, a name in :data:`REGISTRY`, or a hub id.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch


def pick_dtype(name: str | None = None, device: str | None = None) -> torch.dtype:
    """bf16 on GPU or on a CPU with native bf16 support, else fp32; ``name`` overrides."""
    if name and name != "auto":
        table = {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16,
                 "float16": torch.float16, "fp32": torch.float32, "float32": torch.float32}
        if name not in table:
            raise ValueError(f"unknown dtype {name!r}; choose one of auto, {', '.join(table)}")
        return table[name]
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if _cpu_has_bf16() else torch.float32


def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(f in flags for f in ("avx512_bf16", "amx_bf16", "avx512bw"))


def logictune_home() -> Path:
    return Path(os.environ.get("LOGICTUNE_HOME", Path.home() / ".cache" / "logictune"))


def resolve_model(spec: str) -> str:
    """A spec to something ``from_pretrained`` takes: a local directory, or a hub id left as it is."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return str(path)
    return spec


def load_tokenizer(spec: str, *, padding_side: str = "left"):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(spec))
    tokenizer.padding_side = padding_side
    if tokenizer.pad_token is None:
        # Qwen's base tokenizers ship without one; <|endoftext|> is what their instruct models use.
        tokenizer.pad_token = "<|endoftext|>" if "<|endoftext|>" in tokenizer.get_vocab() else tokenizer.eos_token
    return tokenizer


def load_model(spec: str, *, dtype: str | None = None, adapter: str | None = None, device: str | None = None,
               padding_side: str = "left"):
    """Load (model, tokenizer) for ``spec``, with a PEFT adapter on top when given."""
    from transformers import AutoModelForCausalLM

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = load_tokenizer(adapter if adapter and (Path(adapter) / "tokenizer_config.json").exists() else spec,
                               padding_side=padding_side)
    model = AutoModelForCausalLM.from_pretrained(resolve_model(spec), dtype=pick_dtype(dtype, device))
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter)
    model.to(device).eval()
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer
