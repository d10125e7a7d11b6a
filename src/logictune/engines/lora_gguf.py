"""A peft LoRA adapter as a GGUF LoRA file, for ``--engine llamacpp --adapter DIR``.

The layout follows llama.cpp's ``convert_lora_to_gguf.py``: ``general.type = adapter``, ``adapter.type =
lora``, ``adapter.lora.alpha``, and for every adapted weight ``W`` of the base two f32 tensors ``<W>.lora_a``
(rank x in) and ``<W>.lora_b`` (out x rank), named as llama.cpp names the base tensor (``blk.3.attn_q.weight``;
the name map is the ``gguf`` package's, not ours). llama.cpp scales by ``alpha / rank``, as peft does; an
rsLoRA adapter (scale ``alpha / sqrt(rank)``) is written with the alpha that gives its scale.

The converted file is cached under ``LOGICTUNE_HOME/lora-gguf/`` by the adapter's content hash, so the
adapter directory (a training run's output) is never written to.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from pathlib import Path

_LAYER = re.compile(r"\.layers\.(\d+)\.")
CONVERTER_VERSION = 1  # part of the cache key: a fixed converter does not serve the files an older one wrote


def _adapter_files(adapter_dir: Path) -> tuple[dict, Path]:
    config_file, weights = adapter_dir / "adapter_config.json", adapter_dir / "adapter_model.safetensors"
    if not config_file.is_file() or not weights.is_file():
        raise ValueError(f"{adapter_dir}: not a peft LoRA adapter (needs adapter_config.json and "
                         "adapter_model.safetensors)")
    config = json.loads(config_file.read_text(encoding="utf-8"))
    if config.get("peft_type", "LORA") != "LORA":
        raise ValueError(f"{adapter_dir}: peft_type {config.get('peft_type')!r}; llama.cpp takes LoRA only")
    for key in ("rank_pattern", "alpha_pattern"):
        if config.get(key):
            raise ValueError(f"{adapter_dir}: adapter_config.json {key} is set; a GGUF LoRA has one alpha")
    if config.get("modules_to_save"):
        raise ValueError(f"{adapter_dir}: modules_to_save {config['modules_to_save']} are full weights, "
                         "not LoRA; llama.cpp cannot load them as an adapter")
    return config, weights


def gguf_alpha(config: dict) -> float:
    """The alpha llama.cpp needs (it scales by alpha / rank) for the scale peft trained with."""
    r, alpha = int(config["r"]), float(config["lora_alpha"])
    return alpha * math.sqrt(r) if config.get("use_rslora") else alpha


def convert(adapter_dir: str | os.PathLike, out: str | os.PathLike, arch: str = "qwen2") -> Path:
    """Write ``adapter_dir``'s LoRA as a GGUF adapter at ``out`` (atomically) for a base of ``arch``."""
    import gguf
    from safetensors.torch import load_file

    adapter_dir, out = Path(adapter_dir), Path(out)
    config, weights_file = _adapter_files(adapter_dir)
    tensors = load_file(str(weights_file))
    pairs: dict[str, dict[str, object]] = {}
    for name, tensor in tensors.items():
        m = re.fullmatch(r"(?:base_model\.model\.)?(.+)\.lora_([AB])(?:\.default)?\.weight", name)
        if not m:
            raise ValueError(f"{weights_file}: tensor {name!r} is not a lora_A/lora_B weight")
        pairs.setdefault(f"{m.group(1)}.weight", {})[m.group(2)] = tensor
    blocks = 1 + max((int(x.group(1)) for n in pairs if (x := _LAYER.search(n))), default=0)
    arch_id = next((k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch), None)
    if arch_id is None:
        raise ValueError(f"unknown llama.cpp architecture {arch!r}")
    names = gguf.get_tensor_name_map(arch_id, blocks)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        writer = gguf.GGUFWriter(tmp, arch)
        writer.add_type(gguf.GGUFType.ADAPTER)
        writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
        writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, gguf_alpha(config))
        for base_name in sorted(pairs):
            ab = pairs[base_name]
            if set(ab) != {"A", "B"}:
                raise ValueError(f"{weights_file}: {base_name} has lora_{''.join(ab)} without its pair")
            target = names.get_name(base_name, try_suffixes=(".weight",))
            if target is None:
                raise ValueError(f"{weights_file}: llama.cpp's {arch} has no tensor for {base_name}")
            writer.add_tensor(f"{target}.lora_a", ab["A"].float().contiguous().numpy())
            writer.add_tensor(f"{target}.lora_b", ab["B"].float().contiguous().numpy())
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def cached_gguf(adapter_dir: str | os.PathLike, arch: str = "qwen2") -> Path:
    """The GGUF of ``adapter_dir``, converted once per adapter content (and architecture)."""
    from ..fingerprints import sha256_file
    from ..models import logictune_home

    config, weights = _adapter_files(Path(adapter_dir))
    key = json.dumps([CONVERTER_VERSION, arch, config, sha256_file(weights)], sort_keys=True)
    out = logictune_home() / "lora-gguf" / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.gguf"
    return out if out.is_file() else convert(adapter_dir, out, arch)


def base_arch(model_gguf: str | os.PathLike) -> str:
    """The ``general.architecture`` of a base GGUF (llama.cpp refuses an adapter of another)."""
    import gguf

    field = gguf.GGUFReader(str(model_gguf)).get_field("general.architecture")
    if field is None:
        raise ValueError(f"{model_gguf}: no general.architecture in the GGUF, so the adapter's cannot be matched")
    return field.contents()
