"""The training config: TrainConfig (pydantic), its layers and its error messages. No torch, no trl import
unless a ``trainer:`` section needs checking.

Layers, later wins: defaults < the YAML file < ``--set key=value`` (dotted keys, YAML values) < flags.
An unknown key is an error that names the closest known one. Settings of ``trl.SFTConfig`` (and so of
``transformers.TrainingArguments``) that have no key of their own go in the ``trainer:`` section, passed
through as they are: SFTConfig checks them, not a copy of its fields here. ``method: grpo`` (train --method grpo)
takes its settings from the ``grpo:`` section, and its ``trainer:`` section holds trl ``GRPOConfig`` fields.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import models


class ConfigError(ValueError):
    """A config that cannot be used: unknown or invalid keys, a bad --set, contradictory options."""


class LoraSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    r: int = Field(8, ge=1, description="LoRA rank.")
    alpha: int = Field(16, ge=1, description="LoRA alpha; the update is scaled by alpha / r.")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="LoRA dropout; on a CPU its random masks cost "
                                                             "~18% of a step.")
    target_modules: str | list[str] = Field(
        "all-linear", description="'all-linear' = every linear projection of the model but the LM head.")
    top_layers: int | None = Field(
        None, ge=1, description="Adapt only the last N decoder layers (none: all). The backward pass then "
                                "stops at the lowest adapted layer: with a quarter of the layers, a step "
                                "costs about half as much, which is what makes a CPU demo affordable.")


class GrpoSection(BaseModel):
    """``method: grpo`` (``train --method grpo``): trl's GRPOTrainer, rewarded by running sampled programs."""

    model_config = ConfigDict(extra="forbid")

    adapter: str | None = Field(
        None, description="An SFT adapter (a `logictune train` run dir) to start from: its LoRA is trained on "
                          "(lora: is then not used) and, with beta > 0, a frozen copy is the KL reference. "
                          "None: a fresh LoRA (lora:) on the base model.")
    synth_data: str | None = Field(
        None, description="Problems JSONL from `logictune synth` (keys proven). With data: a mix of both; "
                          "alone: synthetic questions only.")
    synth_limit: int | None = Field(None, ge=1, description="At most this many synth questions (a seeded "
                                                            "sample); None: all.")
    program_style: Literal["letter", "value"] = Field(
        "letter", description="The program prompt (predict --program-style): print the letter or the value.")
    num_generations: int = Field(4, ge=2, description="Group size: programs sampled per question.")
    prompts_per_step: int = Field(1, ge=1, description="Questions (groups) per optimizer step.")
    micro_batch: int | None = Field(None, ge=1, description="Completions per forward/backward pass; None: "
                                                             "num_generations. Must divide the step's share.")
    max_completion_length: int = Field(256, ge=1, description="Max new tokens per sampled program.")
    temperature: float = Field(1.0, gt=0, description="Sampling temperature of the programs.")
    beta: float = Field(0.0, ge=0, description="KL coefficient against the start (0, trl's default: no "
                                               "reference pass; 0.04: DeepSeekMath's).")
    lr: float = Field(2e-5, gt=0, description="Peak learning rate of the GRPO run (the top-level lr is SFT's).")
    guess_penalty: float = Field(0.1, ge=0, description="Reward -guess_penalty for a constant guess that "
                                                        "matches an option (print('B')), right or not.")
    timeout_penalty: float = Field(0.1, ge=0, description="Reward -timeout_penalty for a program that runs "
                                                          "out of time.")
    program_timeout: float = Field(5.0, gt=0, description="Wall seconds per program in the sandbox.")
    sandbox_workers: int = Field(2, ge=1, description="Programs run at once by the sandbox's pool.")
    use_vllm: bool = Field(False, description="Generate with vLLM (GPUs; trl's vllm_mode below).")
    vllm_mode: Literal["colocate", "server"] = Field(
        "colocate", description="colocate: vLLM in the training process; server: `trl vllm-serve` elsewhere.")
    vllm_gpu_memory_utilization: float = Field(0.3, gt=0, le=1, description="colocate: GPU memory share for "
                                                                           "vLLM.")
    vllm_tensor_parallel_size: int = Field(1, ge=1, description="colocate: GPUs per vLLM engine.")
    vllm_server_base_url: str | None = Field(None, description="server: the vLLM server's URL "
                                                               "(None: trl's host and port).")


class TrainConfig(BaseModel):
    """Everything a training run depends on. Defaults = configs/qwen2.5-coder-0.5b-cpu.yaml."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["sft", "grpo"] = Field(
        "sft", description="sft: LoRA SFT on rationales; grpo: trl's GRPO with rewards from running the "
                           "sampled programs (the grpo: section).")

    # what to train, on what
    model: str = Field("qwen2.5-coder-0.5b", description="Local dir, .gguf, registry name or hub id.")
    data: str | None = Field(None, description="Problems JSONL (competition format, with answers).")
    rationales: str | None = Field(None, description="Rationales JSONL {id, question_index, rationale}.")
    missing_rationale: Literal["drop", "answer_only"] = Field(
        "drop", description="With rationales: what to do with a question that has none.")
    eval_data: str | None = Field(None, description="Problems JSONL for the eval loss; else split off data. "
                                                    "Must not share a problem with data.")
    eval_fraction: float = Field(0.05, ge=0.0, lt=1.0, description="Share of questions held out for eval.")
    split_seed: int = 0
    max_length: int | Literal["auto"] = Field(
        "auto", description="Longest example in tokens; longer ones are dropped (and counted). auto: the "
                            "longest example of the data, rounded up to a multiple of 64, so none is dropped.")
    few_shot: int = Field(0, ge=0, description="Solved questions from few_shot_pool put before each prompt, "
                                               "the most similar first (predict --few-shot K does the same).")
    few_shot_pool: str | None = Field(None, description="Problems JSONL with answers to draw shots from; "
                                                        "default: the training data.")
    output_dir: str = "runs/train"

    # how
    completion_only_loss: bool = Field(True, description="Loss on the completion only (False: whole text).")
    batching: Literal["packing", "padding_free", "padding"] = Field(
        "packing", description="packing: rows of max_length tokens; padding_free: one flat row per batch; "
                               "padding: one example per row, padded.")
    pad_to_multiple_of: int | None = Field(None, description="Padding granularity for batching: padding.")
    lora: LoraSection = Field(default_factory=LoraSection)
    epochs: float = Field(3.0, gt=0)
    max_steps: int = Field(-1, description="Optimizer steps; overrides epochs when > 0.")
    lr: float = Field(2e-4, gt=0)
    lr_scheduler: str = "cosine"
    warmup_ratio: float = Field(0.03, ge=0.0, lt=1.0)
    weight_decay: float = 0.0
    batch_size: int = Field(1, ge=1, description="Rows per device per micro-step (a packed row holds several "
                                                  "examples).")
    grad_accum: int = Field(8, ge=1)
    eval_batch_size: int = Field(1, ge=1)
    gradient_checkpointing: bool = Field(
        False, description="Recompute activations in backward: less memory, ~30% slower. Off by default: the "
                           "0.5B model trains in under 4 GiB without it at 512 tokens per row.")
    dtype: str = Field("auto", description="auto (bf16 where supported, else fp32), bf16, fp16, fp32.")
    attn_implementation: str | None = Field(
        None, description="Passed to from_pretrained: sdpa, eager, flash_attention_2 (GPUs, needs flash-attn; "
                          "varlen kernels for packed rows). None: transformers' choice (sdpa).")
    seed: int = 0

    # bookkeeping
    logging_steps: int = Field(5, ge=1)
    eval_steps: int = Field(50, ge=1)
    save_steps: int = Field(50, ge=1)
    save_total_limit: int | None = 2
    report_to: list[str] = Field(default_factory=lambda: ["tensorboard"],
                                 description="tensorboard (offline, OUTPUT_DIR/runs/), wandb, none.")
    resume: bool = Field(False, description="Continue the run in output_dir from its last checkpoint.")
    overwrite: bool = Field(False, description="Replace the run in output_dir.")

    grpo: GrpoSection = Field(default_factory=GrpoSection)

    # anything else trl's SFTConfig takes, as is: trainer: {optim: adamw_torch_fused, max_grad_norm: 0.5}
    trainer: dict[str, Any] = Field(default_factory=dict,
                                    description="Other trl.SFTConfig (method: grpo: GRPOConfig) settings, "
                                                "passed through as they are.")

    @field_validator("report_to", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [v] if isinstance(v, str) else v

    @field_validator("report_to")
    @classmethod
    def _known_reporters(cls, v):
        bad = [x for x in v if x not in ("none", "tensorboard", "wandb")]
        if bad:
            raise ValueError(f"unknown report_to {bad}; choose from none, tensorboard, wandb")
        return [x for x in v if x != "none"] or ["none"]

    @field_validator("dtype")
    @classmethod
    def _known_dtype(cls, v):
        models.pick_dtype(v)  # raises on an unknown name
        return v

    @field_validator("max_length")
    @classmethod
    def _long_enough(cls, v):
        if v != "auto" and v < 16:
            raise ValueError("max_length must be at least 16, or auto")
        return v


# Keys that may differ between a run and its resumption: they change how long it runs or what it logs,
# not what it learns so far. (epochs and max_steps change the schedule ahead: a resume warns about them.)
RESUMABLE_KEYS = {"output_dir", "resume", "overwrite", "epochs", "max_steps", "logging_steps", "eval_steps",
                  "save_steps", "save_total_limit", "report_to", "eval_batch_size"}

# SFTConfig fields that a key of ours sets: in the trainer section they are refused, pointing at ours.
OWNED_BY = {"output_dir": "output_dir", "num_train_epochs": "epochs", "max_steps": "max_steps",
            "per_device_train_batch_size": "batch_size", "per_device_eval_batch_size": "eval_batch_size",
            "gradient_accumulation_steps": "grad_accum", "learning_rate": "lr", "lr_scheduler_type": "lr_scheduler",
            "warmup_steps": "warmup_ratio", "warmup_ratio": "warmup_ratio", "weight_decay": "weight_decay",
            "bf16": "dtype", "fp16": "dtype", "gradient_checkpointing": "gradient_checkpointing",
            "activation_checkpointing": "gradient_checkpointing", "completion_only_loss": "completion_only_loss",
            "logging_steps": "logging_steps", "eval_steps": "eval_steps", "save_steps": "save_steps",
            "save_total_limit": "save_total_limit", "report_to": "report_to", "seed": "seed",
            "packing": "batching", "padding_free": "batching", "max_length": "max_length",
            "pad_to_multiple_of": "pad_to_multiple_of"}

# Under method: grpo, the GRPOConfig fields that a key of ours sets (SFT's batching keys are not GRPO's).
GRPO_OWNED_BY = {**{k: v for k, v in OWNED_BY.items()
                    if k not in ("packing", "padding_free", "max_length", "completion_only_loss",
                                 "pad_to_multiple_of", "per_device_train_batch_size", "gradient_accumulation_steps",
                                 "learning_rate")},
                 "learning_rate": "grpo.lr", "num_generations": "grpo.num_generations", "beta": "grpo.beta",
                 "max_completion_length": "grpo.max_completion_length", "temperature": "grpo.temperature",
                 "per_device_train_batch_size": "grpo.micro_batch",
                 "gradient_accumulation_steps": "grpo.prompts_per_step",
                 "generation_batch_size": "grpo.prompts_per_step", "steps_per_generation": "grpo.prompts_per_step",
                 **{k: f"grpo.{k}" for k in ("use_vllm", "vllm_mode", "vllm_gpu_memory_utilization",
                                            "vllm_tensor_parallel_size", "vllm_server_base_url")}}


def config_keys(model: type[BaseModel] = TrainConfig, prefix: str = "") -> list[str]:
    """Every settable key, nested ones dotted: ['model', ..., 'lora.r', ...]."""
    keys = []
    for name, info in model.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            keys.extend(config_keys(sub, f"{prefix}{name}."))
        else:
            keys.append(prefix + name)
    return keys


# The names transformers / trl / peft use for our keys, so their users get pointed at ours.
ALIASES = {"learning_rate": "lr", "num_train_epochs": "epochs", "per_device_train_batch_size": "batch_size",
           "gradient_accumulation_steps": "grad_accum", "per_device_eval_batch_size": "eval_batch_size",
           "lr_scheduler_type": "lr_scheduler", "warmup_steps": "warmup_ratio", "model_name_or_path": "model",
           "lora_r": "lora.r", "lora_rank": "lora.r", "lora_alpha": "lora.alpha",
           "lora_dropout": "lora.dropout",
           "target_modules": "lora.target_modules", "bf16": "dtype", "fp16": "dtype", "torch_dtype": "dtype",
           "max_seq_length": "max_length", "packing": "batching", "padding_free": "batching",
           "dataset": "data", "train_file": "data", "resume_from_checkpoint": "resume",
           "attn_implementation": "attn_implementation", "attention": "attn_implementation",
           "num_generations": "grpo.num_generations", "group_size": "grpo.num_generations",
           "beta": "grpo.beta", "kl_coef": "grpo.beta", "max_completion_length": "grpo.max_completion_length",
           "max_new_tokens": "grpo.max_completion_length", "use_vllm": "grpo.use_vllm"}


def suggest_key(key: str) -> str | None:
    """The known key closest to a mistyped or foreign one, if any is close."""
    known = config_keys()
    if key in ALIASES:
        return ALIASES[key]
    candidates = known + list(ALIASES) + [k.rsplit(".", 1)[-1] for k in known if "." in k]
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    if not close:
        return None
    hit = close[0]
    return ALIASES.get(hit) or next((k for k in known if k == hit or k.endswith("." + hit)), hit)


def _sft_fields() -> set[str]:
    from trl import SFTConfig

    return set(SFTConfig.__dataclass_fields__)


def _grpo_fields() -> set[str]:
    from trl import GRPOConfig

    return set(GRPOConfig.__dataclass_fields__)


def check_trainer_section(section: dict, source: str, method: str | None = "sft") -> None:
    """Names in ``trainer:`` must be fields of the method's trl config (SFTConfig, or GRPOConfig for grpo)
    that no key of ours sets; that config checks the values. ``method`` None (not known yet: a later layer
    may set it) accepts a field of either."""
    if method is None:
        fields, owned, what = _sft_fields() | _grpo_fields(), {}, "SFTConfig or GRPOConfig"
    elif method == "grpo":
        fields, owned, what = _grpo_fields(), GRPO_OWNED_BY, "GRPOConfig (method: grpo)"
    else:
        fields, owned, what = _sft_fields(), OWNED_BY, "SFTConfig"
    for key in section:
        dotted = f"trainer.{key}"
        if key in owned or (method is None and key in OWNED_BY and key in GRPO_OWNED_BY):
            mine = owned.get(key) or (OWNED_BY[key] if OWNED_BY[key] == GRPO_OWNED_BY[key] else
                                      f"{OWNED_BY[key]}' or, under method: grpo, '{GRPO_OWNED_BY[key]}")
            raise ConfigError(f"'{dotted}' in {source} is set by the config key '{mine}'; use that")
        if key not in fields:
            close = difflib.get_close_matches(key, sorted(fields), n=1, cutoff=0.6)
            hint = f"; did you mean 'trainer.{close[0]}'?" if close else ""
            raise ConfigError(f"unknown trainer setting '{dotted}' in {source}: not a field of trl's "
                              f"{what}{hint}")


def _check_keys(raw: dict, source: str, model: type[BaseModel] = TrainConfig, prefix: str = "",
                method: str | None = None) -> None:
    known = config_keys()
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        info = model.model_fields.get(key)
        if info is None:
            close = suggest_key(dotted)
            hint = f"; did you mean '{close}'?" if close else f"; known keys: {', '.join(known)}"
            raise ConfigError(f"unknown config key '{dotted}' in {source}{hint}")
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            if not isinstance(value, dict):
                raise ConfigError(f"config key '{dotted}' in {source} must be a mapping "
                                  f"(e.g. {dotted}.{next(iter(sub.model_fields))}: ...)")
            _check_keys(value, source, sub, dotted + ".")
        elif dotted == "trainer" and value is not None:
            if not isinstance(value, dict):
                raise ConfigError(f"config key 'trainer' in {source} must be a mapping of trl SFTConfig "
                                  "settings (e.g. trainer.optim: adamw_torch)")
            check_trainer_section(value, source, method)


def _set_dotted(raw: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set '{key}': '{part}' is not a mapping")
    node[parts[-1]] = value


def load_config(path: str | os.PathLike | None = None, overrides: Sequence[str] = (),
                **flags: Any) -> TrainConfig:
    """Defaults < the YAML file < ``--set key=value`` (dotted keys, YAML values) < flags that are not None.

    ``flags`` use dotted keys too: ``load_config(None, ["lora.r=16"], **{"lr": 1e-4, "lora.alpha": 32})``.
    """
    raw: dict = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} not found") from None
        except yaml.YAMLError as e:
            raise ConfigError(f"config file {path} is not valid YAML: {e}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must hold a mapping of keys, got {type(loaded).__name__}")
        raw = loaded or {}
        _check_keys(raw, source)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        parsed = yaml.safe_load(value) if value.strip() else None
        _set_dotted(raw, key.strip(), parsed)
        _check_keys(raw, f"--set {item}")
    for key, value in flags.items():
        if value is not None:
            _set_dotted(raw, key, value)
    _check_keys(raw, source, method=raw.get("method") or "sft")  # the method is known now: its trainer fields
    if raw.get("trainer") is None:
        raw.pop("trainer", None)
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(f"'{'.'.join(str(x) for x in err['loc'])}': {err['msg']}" for err in e.errors())
        raise ConfigError(f"invalid config ({source}): {problems}") from None


def dump_config(cfg: TrainConfig) -> str:
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def config_diff(old: dict, new: dict, ignore: set[str] = RESUMABLE_KEYS) -> list[str]:
    """'key: old -> new' for every key whose value differs, nested keys dotted."""
    out = []
    for key in sorted(set(old) | set(new)):
        if key in ignore:
            continue
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(f"{key}.{d}" for d in config_diff(a, b, set()))
        elif a != b:
            out.append(f"{key}: {a!r} -> {b!r}")
    return out
