"""engines.build: the one place predict and distill make their engine (issue 15 item 11). Each engine gets the
model, tokenizer and adapter its way and the progress callback; a hosted teacher loads nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from logictune.engines import build


def test_hf_merges_the_adapter_and_wires_progress(tiny_model_dir, tiny_adapter):
    def tick(prompts: int, tokens: int) -> None:
        pass

    built = build.build_engine(build.EngineChoice("hf", str(tiny_model_dir), tiny_adapter, dtype="fp32"),
                               progress=tick)
    assert built.dtype == "float32" and built.engine.progress is tick and built.tokenizer is not None
    names = [n for n, _ in built.engine.model.named_modules()]
    assert names and not any("lora" in n for n in names)  # merged: a plain model, no LoRA layers left
    assert_adapter_folded_in(built.engine.model, tiny_model_dir)


def assert_adapter_folded_in(model, base_dir) -> None:
    """The adapter's weights are in the model (not just its LoRA layers gone): q_proj moved off the base."""
    import torch
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    ours = dict(model.named_parameters())["model.layers.0.self_attn.q_proj.weight"]
    theirs = dict(base.named_parameters())["model.layers.0.self_attn.q_proj.weight"]
    assert not torch.allclose(ours.float(), theirs), "the merged model has the base's weights: adapter ignored"


def test_llamacpp_gets_the_adapter_as_a_gguf_lora_cached_by_content(monkeypatch, tmp_path, tiny_adapter):
    from logictune import models
    from logictune.engines import llamacpp, lora_gguf

    made: dict = {}

    class Engine:
        def __init__(self, model_path, tokenizer=None, **options):
            made.update(model=model_path, tokenizer=tokenizer, **options)

    monkeypatch.setattr(llamacpp, "LlamaCppEngine", Engine)
    monkeypatch.setattr(models, "gguf_file", lambda spec: str(tmp_path / f"{spec}.gguf"))
    monkeypatch.setattr(models, "load_tokenizer", lambda spec: f"tokenizer of {spec}")
    monkeypatch.setattr(lora_gguf, "base_arch", lambda path: "qwen2")
    monkeypatch.setattr(lora_gguf, "cached_gguf", lambda adapter, arch: tmp_path / f"lora-{arch}.gguf")
    built = build.build_engine(build.EngineChoice("llamacpp", "m", tiny_adapter, batch_size=3))
    assert made == {"model": str(tmp_path / "m.gguf"), "tokenizer": "tokenizer of m", "batch_size": 3,
                    "progress": None, "lora": str(tmp_path / "lora-qwen2.gguf")}
    assert built.dtype == "gguf" and built.tokenizer == "tokenizer of m"


def test_openai_refuses_an_adapter_and_an_unknown_engine_is_named():
    with pytest.raises(ValueError, match="serve it"):
        build.build_engine(build.EngineChoice("openai", "m", adapter="runs/a", base_url="http://127.0.0.1:9/v1"))
    with pytest.raises(ValueError, match="choose hf, vllm, openai or llamacpp"):
        build.EngineChoice("tgi", "m")


def test_a_hosted_teacher_loads_no_model_and_no_torch():
    code = ("import sys; from logictune.engines.build import EngineChoice, build_engine; "
            "b = build_engine(EngineChoice('openai', 'm', base_url='http://127.0.0.1:9/v1', render=False), "
            "timeout=3.0); "
            "assert b.tokenizer is None and b.dtype is None and b.engine.cfg.timeout == 3.0; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"OPENAI_API_KEY": "k", "PATH": ""})
    assert done.returncode == 0, done.stderr[-2000:]  # the asserts above ran in that process
