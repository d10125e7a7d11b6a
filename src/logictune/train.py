"""Train: LoRA SFT with trl + peft, loss on the completion only. One recipe, top to bottom.

    config   TrainConfig in train_config.py: YAML file < --set key=value < flags; unknown keys are named
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

import inspect
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
import yaml
from trl import SFTTrainer

from . import data as data_mod
from . import models, retrieval, sft_data, train_run
from .train_config import (  # noqa: F401 - the config layer, re-exported: train.load_config etc.
    ALIASES,
    RESUMABLE_KEYS,
    ConfigError,
    LoraSection,
    TrainConfig,
    config_diff,
    config_keys,
    dump_config,
    load_config,
    suggest_key,
)

if TYPE_CHECKING:
    from .grpo import GrpoResult


class EmptyDatasetError(ValueError):
    """Nothing left to train on after building and filtering the examples."""


# ================================================================ 3. data


@dataclass
class Datasets:
    train: Any  # datasets.Dataset
    eval: Any | None
    report: sft_data.DataReport
    eval_report: sft_data.DataReport | None
    max_length: int  # resolved: max_length: auto becomes the longest example, rounded up


def _text(problem: data_mod.Problem) -> str:
    return " ".join(problem.problem.split())


def check_no_overlap(train: Sequence[data_mod.Problem], held_out: Sequence[data_mod.Problem],
                     train_file: str, eval_file: str) -> None:
    """An eval loss on problems the model trains on measures memorisation, not learning: refuse it."""
    ids, texts = {p.id for p in train}, {_text(p) for p in train}
    shared = [p.id for p in held_out if p.id in ids or _text(p) in texts]
    if shared:
        shown = ", ".join(shared[:5]) + (", ..." if len(shared) > 5 else "")
        raise ConfigError(f"eval_data {eval_file} shares {len(shared)} of its {len(held_out)} problem(s) with "
                          f"data {train_file} (same id or same text: {shown}); hold out other problems, or "
                          "drop eval_data and let eval_fraction split them off")


def build_datasets(cfg: TrainConfig, tokenizer) -> Datasets:
    """Problems (+ rationales) -> train/eval prompt-completion datasets, filtered by length."""
    from datasets import Dataset

    if not cfg.data:
        raise ConfigError("no training data: pass --data FILE or set 'data:' in the config")
    problems = data_mod.load_problems(cfg.data)
    if cfg.eval_data:
        train_problems, eval_problems = problems, data_mod.load_problems(cfg.eval_data)
        check_no_overlap(train_problems, eval_problems, cfg.data, cfg.eval_data)
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
    shots_for = None
    if cfg.few_shot:
        # The pool never holds an eval problem: its answer would sit in a training prompt.
        pool = data_mod.load_problems(cfg.few_shot_pool) if cfg.few_shot_pool else train_problems
        held = {p.id for p in eval_problems} | {_text(p) for p in eval_problems}
        shot_pool = retrieval.ShotPool([p for p in pool if p.id not in held and _text(p) not in held])

        def shots_for(problem, index):
            return shot_pool.shots(problem, index, cfg.few_shot)

    def make(part):
        examples, report = sft_data.build_examples(
            part, rationales, missing_rationale=cfg.missing_rationale, conversational=conversational,
            tokenizer=tokenizer, check_match=False, shots_for=shots_for)
        report.ignored_rationales = ignored
        return examples, report, sft_data.count_tokens(examples, tokenizer)

    train_examples, report, train_sizes = make(train_problems)
    eval_examples, eval_report, eval_sizes = make(eval_problems) if eval_problems else ([], None, [])
    max_length = cfg.max_length
    if max_length == "auto":  # the longest of either side: no example is dropped
        max_length = sft_data.auto_max_length([n for _, n in train_sizes + eval_sizes])
    auto = cfg.max_length == "auto"
    train_examples = sft_data.filter_by_length(train_examples, tokenizer, max_length, report,
                                               counts=train_sizes, auto=auto)
    if not train_examples:
        why = "; ".join(line.strip() for line in report.lines()[1:]) or "no questions"
        hint = " (raise --max-length?)" if report.dropped.get("too_long") else ""
        raise EmptyDatasetError(f"no training examples left after filtering {cfg.data}: "
                                f"{report.questions} questions, {why}{hint}")
    if eval_report is not None:
        eval_examples = sft_data.filter_by_length(eval_examples, tokenizer, max_length, eval_report,
                                                  counts=eval_sizes, auto=auto)
    eval_ds = Dataset.from_list(eval_examples) if eval_examples else None
    return Datasets(Dataset.from_list(train_examples), eval_ds, report, eval_report, max_length)


# ================================================================ 4. model + LoRA


def lora_config(cfg: TrainConfig, model=None):
    """peft's LoraConfig; ``model`` is needed for ``lora.top_layers`` (to count and name its layers)."""
    from peft import LoraConfig

    targets, layers = cfg.lora.target_modules, None
    if cfg.lora.top_layers is not None:
        if model is None:
            raise ConfigError("lora.top_layers needs the model: its number of layers and their linear modules")
        n = model.config.num_hidden_layers
        layers = list(range(max(0, n - cfg.lora.top_layers), n))
        if targets == "all-linear":  # peft takes layers_to_transform only with named modules
            targets = sorted({name.rsplit(".", 1)[-1] for name, m in model.named_modules()
                              if isinstance(m, torch.nn.Linear) and ".layers." in name})
    return LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                      target_modules=targets, layers_to_transform=layers, bias="none", task_type="CAUSAL_LM")


def dtype_name(cfg: TrainConfig) -> str:
    names = {torch.bfloat16: "bf16", torch.float16: "fp16", torch.float32: "fp32"}
    return names[models.pick_dtype(cfg.dtype)]


def load_base(cfg: TrainConfig):
    """The base model in the training dtype, left where from_pretrained puts it; the trainer places it.

    Not ``models.load_model``: that moves the model to a device, which breaks the meta / partitioned
    weights that DeepSpeed ZeRO-3 and FSDP's RAM-efficient loading create on all ranks but the first.
    Call it after the SFTConfig exists, so that from_pretrained sees those settings.
    """
    from transformers import AutoModelForCausalLM

    attn = {"attn_implementation": cfg.attn_implementation} if cfg.attn_implementation else {}
    model = AutoModelForCausalLM.from_pretrained(models.resolve_model(cfg.model),
                                                 dtype=models.pick_dtype(cfg.dtype), **attn)
    model.config.use_cache = False
    return model


# ================================================================ 5. trainer


def sft_config(cfg: TrainConfig, *, has_eval: bool, max_length: int | None = None, **extra: Any):
    """TrainConfig -> trl SFTConfig. ``max_length``: the resolved length when the config says auto.

    The ``trainer:`` section goes in last, as is, and SFTConfig judges it; ``extra`` (callers' overrides)
    after that.
    """
    from trl import SFTConfig

    length = max_length or cfg.max_length
    if length == "auto":
        raise ConfigError("max_length: auto is sized from the data: build the datasets first")
    batching = {
        "packing": dict(packing=True, packing_strategy="bfd", max_length=length),
        # Padding-free without packing does not truncate, so trl wants max_length None: the length
        # filter has already dropped whatever is longer.
        "padding_free": dict(padding_free=True, max_length=None),
        "padding": dict(max_length=length, pad_to_multiple_of=cfg.pad_to_multiple_of),
    }[cfg.batching]
    kwargs = dict(
        **common_trainer_args(cfg),
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.eval_batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.lr,
        completion_only_loss=cfg.completion_only_loss,
        eval_strategy="steps" if has_eval else "no",
        prediction_loss_only=True,  # else evaluation gathers (tokens x 152k vocab) logits it never uses
        eval_steps=cfg.eval_steps,
        dataloader_pin_memory=torch.cuda.is_available(),
        **batching,
    )
    return make_trainer_args(SFTConfig, kwargs, cfg, extra, f"trainer: {cfg.trainer}")


def make_trainer_args(config_cls, kwargs: dict, cfg: TrainConfig, extra: dict, shown: str):
    """``config_cls`` (trl's SFTConfig or GRPOConfig) from ``kwargs``, then the config's ``trainer:`` settings
    as given, then the caller's ``extra``; a refusal is a ConfigError naming the settings (``shown``)."""
    try:
        return config_cls(**{**kwargs, **cfg.trainer, **extra})
    except (TypeError, ValueError) as e:
        raise ConfigError(f"trl's {config_cls.__name__} refused the settings ({shown}): {e}") from None


def common_trainer_args(cfg: TrainConfig) -> dict[str, Any]:
    """The TrainingArguments SFT (SFTConfig) and GRPO (GRPOConfig) build alike from the config: output,
    schedule, dtype, checkpointing, logging, saving, seed and the process settings."""
    from transformers import TrainingArguments

    # transformers 5.2x renamed gradient_checkpointing (a deprecated alias now) to activation_checkpointing.
    checkpointing_key = ("activation_checkpointing" if "activation_checkpointing" in
                         TrainingArguments.__dataclass_fields__ else "gradient_checkpointing")
    dt = dtype_name(cfg)
    return dict(
        output_dir=cfg.output_dir,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps if cfg.max_steps > 0 else -1,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio,  # a float below 1 is a ratio of the total steps
        weight_decay=cfg.weight_decay,
        bf16=dt == "bf16",
        fp16=dt == "fp16",
        **{checkpointing_key: cfg.gradient_checkpointing},
        logging_steps=cfg.logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        report_to=cfg.report_to,
        seed=cfg.seed,
        ddp_find_unused_parameters=False,
        dataloader_num_workers=0,
        use_cpu=cpu_only(),  # else accelerate ignores torchrun's ranks on a CPU-only machine
    )


def cpu_only() -> bool:
    """No accelerator: training runs on CPU, and several processes talk over gloo."""
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


class CompletionLossTrainer(SFTTrainer):
    """trl's SFTTrainer with a loss that projects onto the vocabulary only where a label is.

    trl 1.x computes the loss with a chunked log-prob kernel (Triton on GPUs). On a CPU it falls back to
    fp32 matmuls over vocabulary tiles: for Qwen2.5-0.5B it took 55% of a training step. Here the model's own
    forward keeps the hidden states of labelled positions (``logits_to_keep`` as a boolean mask), so the LM
    head is one GEMM in the autocast dtype over those positions only, and the cross-entropy runs in fp32. The
    labels, normalisation (tokens of the whole accumulated batch, across devices) and gradient accumulation
    are the trainer's, as before. On a GPU with Triton, trl's kernel is kept.

    It overrides ``compute_loss`` and reads ``_metrics``: trl internals, hence the pinned trl range in
    pyproject.toml and the tests that compare this loss and its gradients with trl's.
    """

    _fast_loss: bool | None = None

    def _fast_loss_ok(self, model) -> bool:
        if self._fast_loss is None:
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


def _has_triton() -> bool:
    from transformers.utils import is_triton_available

    return is_triton_available()


def build_trainer(cfg: TrainConfig, *, callbacks: Sequence[Any] = (), echo: Callable[[str], None] = print,
                  **sft_overrides: Any) -> CompletionLossTrainer:
    """Load data and model, wrap it with LoRA and return a ready trl ``SFTTrainer`` (no files written)."""
    check_reporters(cfg.report_to)
    tokenizer = models.load_tokenizer(cfg.model, padding_side="right")
    ds = build_datasets(cfg, tokenizer)
    for line in ds.report.lines():
        echo(f"train data: {line}")
    if ds.eval_report is not None:
        echo(f"eval data: {ds.eval_report.lines()[0]}")
    args = sft_config(cfg, has_eval=ds.eval is not None, max_length=ds.max_length, **sft_overrides)
    model = load_base(cfg)
    trainer = CompletionLossTrainer(model=model, args=args, train_dataset=ds.train, eval_dataset=ds.eval,
                                    processing_class=tokenizer,
                                    peft_config=lora_config(cfg, model),
                                    callbacks=list(callbacks))
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
          echo: Callable[[str], None] = print) -> TrainResult | GrpoResult:
    """Run the whole recipe. Safe to call on every rank of a torchrun / accelerate launch.

    ``method: grpo`` runs :func:`logictune.grpo.train_grpo` instead (and returns its GrpoResult)."""
    from accelerate import PartialState

    if cfg.method == "grpo":
        from . import grpo

        return grpo.train_grpo(cfg, callbacks=callbacks, echo=echo)

    state = PartialState(cpu=cpu_only())  # the same state the trainer will use: one process group
    say = echo if state.is_main_process else (lambda _: None)
    out = Path(cfg.output_dir)

    # The run directory is judged on every rank before any rank changes it, and changed only once data and
    # model have loaded: a run that fails to start leaves no half-made run behind.
    action, checkpoint = train_run.check_output_dir(cfg)
    trainer = build_trainer(cfg, callbacks=callbacks, echo=say)
    ds = trainer.logictune_data
    # The processes the trainer itself shards data and averages gradients over, not this script's view of
    # the launch: on a CPU-only machine without use_cpu, accelerate would train each rank alone.
    world_size = trainer.accelerator.num_processes
    train_run.warn_resume_changes(cfg, action, world_size, say)
    run = {"train": ds.report.to_dict(), "eval": ds.eval_report.to_dict() if ds.eval_report else None,
           "world_size": world_size, "max_length": ds.max_length}
    train_run.open_run_dir(cfg, action, checkpoint, run, state, say)
    train_loss = train_run.train_or_finish(trainer, action, checkpoint, say)
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
    return TrainResult(out, trainer.state.global_step, train_loss, eval_loss, checkpoint, ds.report,
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


def check_adapter_base(model: str, adapter: Path) -> None:
    """The adapter must sit on the base model it was trained on: peft would fold it into any model whose
    layer names match, and a merge onto another base gives a model that silently answers worse."""
    recorded = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8")).get(
        "base_model_name_or_path")
    run_cfg = next((p for p in (adapter / "config.yaml", adapter.parent / "config.yaml") if p.exists()), None)
    trained_on = (yaml.safe_load(run_cfg.read_text(encoding="utf-8")) or {}).get("model") if run_cfg else None
    if not recorded or model in (recorded, trained_on):
        return
    resolved = models.resolve_model(model)
    if resolved == recorded or (Path(recorded).exists() and Path(resolved).exists()
                                and Path(recorded).resolve() == Path(resolved).resolve()):
        return
    raise ConfigError(f"the adapter in {adapter} was trained on {trained_on or recorded!r} "
                      f"({recorded}), not on --model {model!r}; pass the model it was trained on")


def merge(model: str, adapter: str | os.PathLike, out: str | os.PathLike, *, dtype: str = "auto",
          overwrite: bool = False) -> Path:
    """Fold the LoRA adapter into the base weights and save a plain safetensors model + tokenizer.

    The weights are merged in fp32 and saved in ``dtype`` (``auto``: the base model's own dtype), loadable by
    ``AutoModelForCausalLM.from_pretrained`` and servable by vLLM without peft. The model is written to a
    temporary folder beside ``out`` and renamed into place: a merge that fails leaves ``out`` as it was.
    """
    from transformers import AutoConfig

    out = Path(out)
    adapter = Path(adapter)
    if not (adapter / "adapter_config.json").exists():
        raise FileNotFoundError(f"{adapter} holds no adapter (adapter_config.json missing)")
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise train_run.OutputDirError(f"{out} is not empty; pass --overwrite to replace it")
    check_adapter_base(model, adapter)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.merging-", dir=out.parent))
    try:
        # load_model takes the adapter's tokenizer when the run saved one (it does), else the base model's.
        peft_model, tokenizer = models.load_model(model, dtype="fp32", device="cpu", adapter=str(adapter))
        merged = peft_model.merge_and_unload()
        if dtype == "auto":
            target = getattr(AutoConfig.from_pretrained(models.resolve_model(model)), "dtype", None) or "float32"
        else:
            target = models.pick_dtype(dtype)
        merged = merged.to(getattr(torch, target) if isinstance(target, str) else target)
        merged.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if out.exists():  # the old output goes only once the new one is complete
            old = train_run.set_aside(out)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
