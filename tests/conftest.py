from __future__ import annotations

from pathlib import Path

import pytest

from tests.tiny import build_tiny_qwen2

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TRAIN_FILE = SHARED_DATA / "round1_train_data.jsonl"
TEST_FILE = SHARED_DATA / "round1_test_data.jsonl"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A random 2-layer Qwen2 (hidden 64) and its BPE tokenizer, saved as a local HF directory."""
    return build_tiny_qwen2(tmp_path_factory.mktemp("tiny-qwen2"), TRAIN_FILE)


@pytest.fixture(scope="session")
def real_train_file() -> Path:
    if not TRAIN_FILE.exists():
        pytest.skip(f"{TRAIN_FILE} not found (the shared competition data sits beside the repo)")
    return TRAIN_FILE


@pytest.fixture(scope="session")
def tiny_adapter(tiny_model_dir, tmp_path_factory) -> Path:
    """A LoRA adapter with non-zero weights on the tiny model, saved like `logictune train` saves one."""
    import torch
    from peft import LoraConfig, get_peft_model

    from logictune import models

    base, tokenizer = models.load_model(str(tiny_model_dir), dtype="fp32")
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "o_proj"]))
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.3)
    out = tmp_path_factory.mktemp("adapter")
    peft_model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
