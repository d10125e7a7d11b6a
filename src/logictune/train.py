"""Train: LoRA SFT with trl + peft, loss on the completion only. One recipe, top to bottom.

    config   TrainConfig (pydantic): YAML file < --set key=value < flags; unknown keys are named
    run dir  refuse a directory that holds another run; --resume continues this one; --overwrite starts over
    data     problems (+ rationales) -> prompt/completion examples, the prompt predict uses -> length filter
    model    base model + LoRA on every linear projection (peft "all-linear")
    trainer  trl SFTTrainer: completion-only labels, packing / padding-free / padded batches, cosine + warmup
    save     adapter + tokenizer (loadable by PeftModel.from_pretrained and predict --adapter), loss.png
    merge    adapter folded into the base weights: a plain safetensors model for transformers and vLLM

Many devices: the same code runs under ``torchrun --nproc_per_node N -m logictune train ...`` (gloo on CPU,
nccl on GPUs) and under ``accelerate launch --config_file configs/accelerate/*.yaml -m logictune train ...``
(DeepSpeed ZeRO-2/3, FSDP). Only the main process writes files other than the trainer's own.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import data as data_mod
from . import models, sft_data

# ================================================================ 1. config


class ConfigError(ValueError):
    """A config that cannot be used: unknown or invalid keys, a bad --set, contradictory options."""


class OutputDirError(ValueError):
    """The output directory holds something this run must not overwrite or cannot resume."""


class EmptyDatasetError(ValueError):
    """Nothing left to train on after building and filtering the examples."""


class LoraSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    r: int = Field(8, ge=1, description="LoRA rank.")
    alpha: int = Field(16, ge=1, description="LoRA alpha; the update is scaled by alpha / r.")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="LoRA dropout; on a CPU its random masks cost "
                                                             "~18% of a step.")
    target_modules: str | list[str] = Field(
        "all-linear", description="'all-linear' = every linear projection of the model but the LM head.")


class TrainConfig(BaseModel):
    """Everything a training run depends on. Defaults = configs/qwen2.5-coder-0.5b-cpu.yaml."""

    model_config = ConfigDict(extra="forbid")

    # what to train, on what
    model: str = Field("qwen2.5-coder-0.5b", description="Local dir, .gguf, registry name or hub id.")
    data: str | None = Field(None, description="Problems JSONL (competition format, with answers).")
    rationales: str | None = Field(None, description="Rationales JSONL {id, question_index, rationale}.")
    missing_rationale: Literal["drop", "answer_only"] = Field(
        "drop", description="With rationales: what to do with a question that has none.")
    eval_data: str | None = Field(None, description="Problems JSONL for the eval loss; else split off data.")
    eval_fraction: float = Field(0.05, ge=0.0, lt=1.0, description="Share of questions held out for eval.")
    split_seed: int = 0
    max_length: int = Field(1024, ge=16, description="Longest example in tokens; longer ones are dropped.")
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
    seed: int = 0

    # bookkeeping
    logging_steps: int = Field(5, ge=1)
    eval_steps: int = Field(50, ge=1)
    save_steps: int = Field(50, ge=1)
    save_total_limit: int | None = 2
    report_to: list[str] = Field(default_factory=lambda: ["none"], description="none, tensorboard, wandb.")
    resume: bool = Field(False, description="Continue the run in output_dir from its last checkpoint.")
    overwrite: bool = Field(False, description="Replace the run in output_dir.")

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


# Keys that may differ between a run and its resumption: they change how long it runs or what it logs,
# not what it learns so far.
RESUMABLE_KEYS = {"output_dir", "resume", "overwrite", "epochs", "max_steps", "logging_steps", "eval_steps",
                  "save_steps", "save_total_limit", "report_to", "eval_batch_size"}


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
           "dataset": "data", "train_file": "data", "resume_from_checkpoint": "resume"}


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


def _check_keys(raw: dict, source: str, model: type[BaseModel] = TrainConfig, prefix: str = "") -> None:
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
    _check_keys(raw, source)
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


# ================================================================ 2. the run directory


def fingerprint(cfg: TrainConfig) -> dict:
    """The inputs' content, so a resumed run notices that a data file changed under the same name."""
    return {key: models.sha256_file(path) if path else None
            for key, path in (("data", cfg.data), ("rationales", cfg.rationales), ("eval_data", cfg.eval_data))}


def check_output_dir(cfg: TrainConfig) -> tuple[str, str | None]:
    """What to do with ``output_dir``, decided without touching it: (action, checkpoint to resume from).

    The action is 'fresh', 'overwrite' or 'resume'.

    Refuses (OutputDirError) a directory that holds a different run unless ``overwrite``; one that holds
    this run unless ``resume`` or ``overwrite``; and a non-empty directory that holds no run at all.
    """
    from transformers.trainer_utils import get_last_checkpoint

    out = Path(cfg.output_dir)
    if cfg.resume and cfg.overwrite:
        raise ConfigError("resume and overwrite contradict each other: pick one")
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return "fresh", None
    if not out.is_dir():
        raise OutputDirError(f"output_dir {out} is a file")
    saved = out / "config.yaml"
    if not saved.exists():
        raise OutputDirError(f"output_dir {out} is not empty and holds no training run (no config.yaml); "
                             "choose a new or empty --output-dir")
    if cfg.overwrite:
        return "overwrite", None
    old = yaml.safe_load(saved.read_text(encoding="utf-8")) or {}
    diffs = config_diff(old, cfg.model_dump(mode="json"))
    run_json = out / "run.json"
    if not diffs and run_json.exists():
        old_fp = json.loads(run_json.read_text(encoding="utf-8")).get("fingerprint", {})
        diffs = [f"{k} file content changed" for k, v in fingerprint(cfg).items() if old_fp.get(k) != v]
    if diffs:
        shown = "; ".join(diffs[:8]) + ("; ..." if len(diffs) > 8 else "")
        verb = "cannot resume: it" if cfg.resume else "it"
        raise OutputDirError(f"output_dir {out} holds a different run ({verb} differs in {shown}); "
                             "pass --overwrite to replace it, or choose another --output-dir")
    if not cfg.resume:
        raise OutputDirError(f"output_dir {out} already holds this run; pass --resume to continue it "
                             "or --overwrite to start over")
    return "resume", get_last_checkpoint(str(out))


# ================================================================ 3. data


@dataclass
class Datasets:
    train: Any  # datasets.Dataset
    eval: Any | None
    report: sft_data.DataReport
    eval_report: sft_data.DataReport | None


def build_datasets(cfg: TrainConfig, tokenizer) -> Datasets:
    """Problems (+ rationales) -> train/eval prompt-completion datasets, filtered by length."""
    from datasets import Dataset

    if not cfg.data:
        raise ConfigError("no training data: pass --data FILE or set 'data:' in the config")
    problems = data_mod.load_problems(cfg.data)
    if cfg.eval_data:
        train_problems, eval_problems = problems, data_mod.load_problems(cfg.eval_data)
    elif cfg.eval_fraction > 0:
        train_problems, eval_problems = data_mod.split(problems, cfg.eval_fraction, cfg.split_seed)
    else:
        train_problems, eval_problems = problems, []
    rationales = sft_data.load_rationales(cfg.rationales) if cfg.rationales else None
    ignored = 0
    if rationales is not None:
        # Checked against all the problems at once: a rationale for a held-out problem is no mismatch.
        every = problems + (eval_problems if cfg.eval_data else [])
        _, ignored = sft_data.index_rationales(every, rationales, cfg.rationales)
    conversational = bool(getattr(tokenizer, "chat_template", None))

    def make(part):
        examples, report = sft_data.build_examples(
            part, rationales, missing_rationale=cfg.missing_rationale, conversational=conversational,
            tokenizer=tokenizer, check_match=False)
        examples = sft_data.filter_by_length(examples, tokenizer, cfg.max_length, report)
        report.ignored_rationales = ignored
        return examples, report

    train_examples, report = make(train_problems)
    if not train_examples:
        why = "; ".join(line.strip() for line in report.lines()[1:]) or "no questions"
        hint = " (raise --max-length?)" if report.dropped.get("too_long") else ""
        raise EmptyDatasetError(f"no training examples left after filtering {cfg.data}: "
                                f"{report.questions} questions, {why}{hint}")
    eval_examples, eval_report = make(eval_problems) if eval_problems else ([], None)
    eval_ds = Dataset.from_list(eval_examples) if eval_examples else None
    return Datasets(Dataset.from_list(train_examples), eval_ds, report, eval_report)


# ================================================================ 4. model + LoRA


def lora_config(cfg: TrainConfig):
    from peft import LoraConfig

    return LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                      target_modules=cfg.lora.target_modules, bias="none", task_type="CAUSAL_LM")


def dtype_name(cfg: TrainConfig) -> str:
    import torch

    names = {torch.bfloat16: "bf16", torch.float16: "fp16", torch.float32: "fp32"}
    return names[models.pick_dtype(cfg.dtype)]


def load_base(cfg: TrainConfig):
    """The base model in the training dtype, left where from_pretrained puts it; the trainer places it.

    Not ``models.load_model``: that moves the model to a device, which breaks the meta / partitioned
    weights that DeepSpeed ZeRO-3 and FSDP's RAM-efficient loading create on all ranks but the first.
    Call it after the SFTConfig exists, so that from_pretrained sees those settings.
    """
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(models.resolve_model(cfg.model),
                                                 dtype=models.pick_dtype(cfg.dtype))
    model.config.use_cache = False
    return model


# ================================================================ 5. trainer


def sft_config(cfg: TrainConfig, *, has_eval: bool, **extra: Any):
    """TrainConfig -> trl SFTConfig."""
    import torch
    from trl import SFTConfig

    # transformers 5.2x renamed gradient_checkpointing (a deprecated alias now) to activation_checkpointing.
    fields = SFTConfig.__dataclass_fields__
    _CHECKPOINTING_KEY = ("activation_checkpointing" if "activation_checkpointing" in fields
                          else "gradient_checkpointing")

    dt = dtype_name(cfg)
    batching = {
        "packing": dict(packing=True, packing_strategy="bfd", max_length=cfg.max_length),
        # Padding-free without packing does not truncate, so trl wants max_length None: the length
        # filter has already dropped whatever is longer.
        "padding_free": dict(padding_free=True, max_length=None),
        "padding": dict(max_length=cfg.max_length, pad_to_multiple_of=cfg.pad_to_multiple_of),
    }[cfg.batching]
    kwargs = dict(
        output_dir=cfg.output_dir,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps if cfg.max_steps > 0 else -1,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.eval_batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.lr,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio,  # a float below 1 is a ratio of the total steps
        weight_decay=cfg.weight_decay,
        bf16=dt == "bf16",
        fp16=dt == "fp16",
        **{_CHECKPOINTING_KEY: cfg.gradient_checkpointing},
        completion_only_loss=cfg.completion_only_loss,
        logging_steps=cfg.logging_steps,
        logging_first_step=True,
        eval_strategy="steps" if has_eval else "no",
        prediction_loss_only=True,  # else evaluation gathers (tokens x 152k vocab) logits it never uses
        eval_steps=cfg.eval_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        report_to=cfg.report_to,
        seed=cfg.seed,
        ddp_find_unused_parameters=False,
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        use_cpu=cpu_only(),  # else accelerate ignores torchrun's ranks on a CPU-only machine
        **batching,
    )
    kwargs.update(extra)
    return SFTConfig(**kwargs)


def cpu_only() -> bool:
    """No accelerator: training runs on CPU, and several processes talk over gloo."""
    import torch

    mps = getattr(torch.backends, "mps", None)
    xpu = getattr(torch, "xpu", None)
    return not (torch.cuda.is_available() or (xpu is not None and xpu.is_available())
                or (mps is not None and mps.is_available()))


def check_reporters(report_to: Sequence[str]) -> None:
    import importlib.util

    need = {"tensorboard": ("tensorboard", "tensorboardX"), "wandb": ("wandb",)}
    for name in report_to:
        if name in need and not any(importlib.util.find_spec(m) for m in need[name]):
            package = need[name][0]
            raise ConfigError(f"report_to {name} needs the {package} package (pip install {package}); "
                              "or set report_to: none")


def _trainer_class():
    """trl's SFTTrainer with a loss that projects onto the vocabulary only where a label is.

    trl 1.x computes the loss with a chunked log-prob kernel (Triton on GPUs). On a CPU it falls back to
    fp32 matmuls over vocabulary tiles: for Qwen2.5-0.5B it took 55% of a training step. Here the model's own
    forward keeps the hidden states of labelled positions (``logits_to_keep`` as a boolean mask), so the LM
    head is one GEMM in the autocast dtype over those positions only, and the cross-entropy runs in fp32. The
    labels, normalisation (tokens of the whole accumulated batch, across devices) and gradient accumulation
    are the trainer's, as before. On a GPU with Triton, trl's kernel is kept.
    """
    import inspect

    import torch
    import torch.nn.functional as F
    from trl import SFTTrainer

    class CompletionLossTrainer(SFTTrainer):
        def _fast_loss_ok(self, model) -> bool:
            if getattr(self, "_fast_loss", None) is None:
                from transformers import modeling_utils

                base = self.accelerator.unwrap_model(model)
                base = base.get_base_model() if hasattr(base, "get_base_model") else base
                forward = inspect.signature(type(base).forward).parameters
                self._fast_loss = (self.args.loss_type == "nll" and self.compute_loss_func is None
                                   and self.label_smoother is None and "logits_to_keep" in forward
                                   and hasattr(modeling_utils, "slice_logits_to_keep")
                                   and not (torch.cuda.is_available() and _has_triton()))
            return self._fast_loss

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if not self._fast_loss_ok(model):
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            mode = "train" if self.model.training else "eval"
            inputs = dict(inputs)
            labels = inputs.pop("labels")
            targets = labels[:, 1:]
            keep = torch.zeros_like(labels, dtype=torch.bool)
            keep[:, :-1] = targets != -100  # position t predicts token t + 1
            outputs = model(**inputs, use_cache=False, logits_to_keep=keep)
            logits = outputs.logits.float()  # (labelled positions, vocab)
            wanted = targets[targets != -100]
            loss = F.cross_entropy(logits, wanted, reduction="sum")
            n = wanted.numel() if num_items_in_batch is None else num_items_in_batch
            loss = loss / torch.as_tensor(n, device=loss.device).clamp(min=1)
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * self.accelerator.num_processes
            with torch.no_grad():
                correct = self.accelerator.gather_for_metrics((logits.argmax(-1) == wanted).sum()).sum()
                total = self.accelerator.gather_for_metrics(torch.tensor(wanted.numel(), device=loss.device)).sum()
                self._metrics[mode]["mean_token_accuracy"].append((correct / total.clamp(min=1)).item())
            return (loss, outputs) if return_outputs else loss

    return CompletionLossTrainer


def _has_triton() -> bool:
    from transformers.utils import is_triton_available

    return is_triton_available()


def build_trainer(cfg: TrainConfig, *, callbacks: Sequence[Any] = (), echo: Callable[[str], None] = print,
                  **sft_overrides: Any):
    """Load data and model, wrap it with LoRA and return a ready trl ``SFTTrainer`` (no files written)."""
    SFTTrainer = _trainer_class()

    check_reporters(cfg.report_to)
    tokenizer = models.load_tokenizer(cfg.model, padding_side="right")
    ds = build_datasets(cfg, tokenizer)
    for line in ds.report.lines():
        echo(f"train data: {line}")
    if ds.eval_report is not None:
        echo(f"eval data: {ds.eval_report.lines()[0]}")
    args = sft_config(cfg, has_eval=ds.eval is not None, **sft_overrides)
    model = load_base(cfg)
    trainer = SFTTrainer(model=model, args=args, train_dataset=ds.train, eval_dataset=ds.eval,
                         processing_class=tokenizer, peft_config=lora_config(cfg), callbacks=list(callbacks))
    trainer.logictune_data = ds  # the data reports, for run.json
    return trainer


# ================================================================ 6. the recipe


@dataclass
class TrainResult:
    output_dir: Path
    global_step: int
    train_loss: float | None
    eval_loss: float | None
    resumed_from: str | None
    report: sft_data.DataReport
    is_main_process: bool = True
    trainer: Any = field(repr=False, default=None)


def train(cfg: TrainConfig, *, callbacks: Sequence[Any] = (),
          echo: Callable[[str], None] = print) -> TrainResult:
    """Run the whole recipe. Safe to call on every rank of a torchrun / accelerate launch."""
    from accelerate import PartialState

    state = PartialState(cpu=cpu_only())  # the same state the trainer will use: one process group
    say = echo if state.is_main_process else (lambda _: None)
    out = Path(cfg.output_dir)

    # The run directory is judged on every rank before any rank changes it, and changed only once data and
    # model have loaded: a run that fails to start leaves no half-made run behind.
    action, checkpoint = check_output_dir(cfg)
    trainer = build_trainer(cfg, callbacks=callbacks, echo=say)
    ds = trainer.logictune_data
    state.wait_for_everyone()
    if state.is_main_process:
        if action == "overwrite":
            say(f"overwriting the run in {out}")
            shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)
        data_mod.atomic_write_text(out / "config.yaml", dump_config(cfg))
        run = {"fingerprint": fingerprint(cfg), "train": ds.report.to_dict(),
               "eval": ds.eval_report.to_dict() if ds.eval_report else None,
               "world_size": state.num_processes}
        data_mod.atomic_write_text(out / "run.json", json.dumps(run, ensure_ascii=False, indent=2) + "\n")
    if action == "resume":
        say(f"resuming from {checkpoint}" if checkpoint else f"no checkpoint in {out} yet: starting afresh")
    state.wait_for_everyone()

    result = trainer.train(resume_from_checkpoint=checkpoint)
    eval_loss = None
    if trainer.eval_dataset is not None:
        eval_loss = trainer.evaluate().get("eval_loss")

    # Adapter + tokenizer at the top of the run dir; the tokenizer pads left, as generation wants.
    trainer.processing_class.padding_side = "left"
    trainer.save_model(str(out))
    if state.is_main_process:
        trainer.state.save_to_json(str(out / "trainer_state.json"))
        plot_loss(trainer.state.log_history, out / "loss.png")
        say(f"adapter, tokenizer and loss.png written to {out}")
    state.wait_for_everyone()
    return TrainResult(out, trainer.state.global_step, result.training_loss, eval_loss, checkpoint, ds.report,
                       state.is_main_process, trainer)


def plot_loss(log_history: Sequence[dict], path: str | os.PathLike) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train_pts = [(h["step"], h["loss"]) for h in log_history if "loss" in h and "step" in h]
    eval_pts = [(h["step"], h["eval_loss"]) for h in log_history if "eval_loss" in h and "step" in h]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    if train_pts:
        ax.plot(*zip(*train_pts, strict=True), label="train loss", lw=1.2)
    if eval_pts:
        ax.plot(*zip(*eval_pts, strict=True), "o-", label="eval loss", lw=1.2, ms=3)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss (completion tokens)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ================================================================ 7. merge


def merge(model: str, adapter: str | os.PathLike, out: str | os.PathLike, *, dtype: str = "auto",
          overwrite: bool = False) -> Path:
    """Fold the LoRA adapter into the base weights and save a plain safetensors model + tokenizer.

    The weights are merged in fp32 and saved in ``dtype`` (``auto``: the base model's own dtype), loadable by
    ``AutoModelForCausalLM.from_pretrained`` and servable by vLLM without peft.
    """
    from transformers import AutoConfig

    out = Path(out)
    adapter = Path(adapter)
    if not (adapter / "adapter_config.json").exists():
        raise FileNotFoundError(f"{adapter} holds no adapter (adapter_config.json missing)")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise OutputDirError(f"{out} is not empty; pass --overwrite to replace it")
        shutil.rmtree(out)
    # load_model takes the adapter's tokenizer when the run saved one (it does), else the base model's.
    peft_model, tokenizer = models.load_model(model, dtype="fp32", device="cpu", adapter=str(adapter))
    merged = peft_model.merge_and_unload()
    if dtype == "auto":
        target = getattr(AutoConfig.from_pretrained(models.resolve_model(model)), "dtype", None) or "float32"
    else:
        target = models.pick_dtype(dtype)
    import torch

    merged = merged.to(getattr(torch, target) if isinstance(target, str) else target)
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
