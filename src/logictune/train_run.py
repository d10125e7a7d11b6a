"""The training run directory, shared by SFT (train.py) and GRPO (grpo.py).

    judge    check_output_dir: refuse a directory that holds another run, or this one without --resume;
             a resumed run must have the same config and the same input files (their fingerprint)
    open     open_run_dir: config.yaml and run.json written once data and model have loaded; --overwrite
             sets the old run aside in one rename first
    resume   the newest complete checkpoint; a run resumed from its last step trains nothing
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import yaml
from transformers import TrainerCallback

from . import data as data_mod
from . import models
from .train_config import ConfigError, TrainConfig, config_diff, dump_config


class OutputDirError(ValueError):
    """The output directory holds something this run must not overwrite or cannot resume."""


def fingerprint(cfg: TrainConfig) -> dict:
    """The inputs' content, so a resumed run notices that a data file changed under the same name."""
    files = [("data", cfg.data), ("rationales", cfg.rationales), ("eval_data", cfg.eval_data),
             ("few_shot_pool", cfg.few_shot_pool)]
    if cfg.method == "grpo":  # GRPO's own inputs (an SFT run's fingerprint has none of these keys)
        adapter = Path(cfg.grpo.adapter) / "adapter_model.safetensors" if cfg.grpo.adapter else None
        files += [("synth_data", cfg.grpo.synth_data), ("adapter", adapter and str(adapter))]
    return {key: models.sha256_file(path) if path else None for key, path in files}


def check_output_dir(cfg: TrainConfig) -> tuple[str, str | None]:
    """What to do with ``output_dir``, decided without touching it: (action, checkpoint to resume from).

    The action is 'fresh', 'overwrite' or 'resume'.

    Refuses (OutputDirError) a directory that holds a different run unless ``overwrite``; one that holds
    this run unless ``resume`` or ``overwrite``; and a non-empty directory that holds no run at all.
    """
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
    # A key added since that run was written had its default value then.
    diffs = config_diff({**TrainConfig().model_dump(mode="json"), **old}, cfg.model_dump(mode="json"))
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
    return "resume", last_checkpoint(out)


def last_checkpoint(out: Path) -> str | None:
    """The newest checkpoint the trainer finished writing. Its trainer_state.json is the last file it saves:
    a kill while saving leaves a checkpoint without one (or with half of it), and resuming from that fails
    ("Can't find a valid checkpoint"), so such a checkpoint is passed over for the one before."""
    found = sorted((int(m.group(1)), p) for p in out.glob("checkpoint-*")
                   if p.is_dir() and (m := re.fullmatch(r"checkpoint-(\d+)", p.name)))
    for _, path in reversed(found):
        try:
            json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        return str(path)
    return None


def resume_changes(cfg: TrainConfig, world_size: int) -> list[str]:
    """What a resume changes about the schedule ahead: epochs, max_steps, the number of processes.

    Allowed, but the learning-rate schedule and the data order from here on are then not the ones the
    interrupted run would have followed, so the run is no longer comparable to an uninterrupted one.
    """
    out = Path(cfg.output_dir)
    old = yaml.safe_load((out / "config.yaml").read_text(encoding="utf-8")) or {}
    run_json = out / "run.json"
    ran = json.loads(run_json.read_text(encoding="utf-8")) if run_json.exists() else {}
    changes = [f"{key} {old[key]} -> {getattr(cfg, key)}" for key in ("epochs", "max_steps")
               if key in old and old[key] != getattr(cfg, key)]
    if ran.get("world_size") not in (None, world_size):
        changes.append(f"processes {ran['world_size']} -> {world_size}")
    return changes


def open_run_dir(cfg: TrainConfig, action: str, checkpoint: str | None, run: dict, state, say) -> None:
    """Make ``output_dir`` this run's (``action`` from :func:`check_output_dir`): the old run set aside and
    removed on overwrite, then config.yaml and run.json (``run`` plus the inputs' fingerprint), on the main
    process; every rank waits for it. Called once data and model have loaded, so a run that fails to start
    leaves no half-made run behind."""
    out = Path(cfg.output_dir)
    state.wait_for_everyone()
    if state.is_main_process:
        if action == "overwrite":
            say(f"overwriting the run in {out}")
            # Set aside in one rename, then deleted: a kill mid-delete must not leave a half-deleted run
            # (no config.yaml, or an old one) that neither --resume nor --overwrite will take.
            shutil.rmtree(set_aside(out))
        drop_set_asides(out)  # what a kill mid-delete left, here or in an earlier run
        out.mkdir(parents=True, exist_ok=True)
        data_mod.atomic_write_text(out / "config.yaml", dump_config(cfg))
        run = {"fingerprint": fingerprint(cfg), **run}
        data_mod.atomic_write_text(out / "run.json", json.dumps(run, ensure_ascii=False, indent=2) + "\n")
    if action == "resume":
        say(f"resuming from {checkpoint}" if checkpoint else f"no checkpoint in {out} yet: starting afresh")
    state.wait_for_everyone()


class Finished(Exception):
    """A resumed run whose checkpoint had already taken every step: there is nothing to train."""


class StopIfFinished(TrainerCallback):
    """Stops a resumed run that had finished before it trains anything.

    transformers looks for the end of training only after an optimizer step, so a run resumed from its
    last checkpoint (killed after it, before the adapter was written or the recipe marked the step done)
    would take one step past max_steps. At train begin the checkpoint's weights and state are loaded and
    ``state.max_steps`` is this run's plan, so raising here leaves the model as the checkpoint saved it.
    """

    def on_train_begin(self, args, state, control, **kw):
        if 0 < state.max_steps <= state.global_step:
            raise Finished


def train_or_finish(trainer, action: str, checkpoint: str | None, say) -> float | None:
    """``trainer.train()``, resumed from ``checkpoint``; the training loss, or None when the checkpoint was
    already the run's last step (then nothing is trained, see :class:`StopIfFinished`)."""
    if action == "resume":
        trainer.add_callback(StopIfFinished())
    try:
        return trainer.train(resume_from_checkpoint=checkpoint).training_loss
    except Finished:
        say(f"{checkpoint} is the run's last step ({trainer.state.global_step}): nothing left to train")
        return None


def set_aside(path: Path) -> Path:
    """Move ``path`` into a new hidden folder beside it, in one atomic rename; that folder is returned."""
    aside = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
    path.rename(aside / path.name)
    return aside


def drop_set_asides(path: Path) -> None:
    """Remove the folders :func:`set_aside` made for ``path`` whose deletion a kill stopped (only ours have
    that name), so a killed overwrite does not keep a whole old run forever."""
    for stale in path.parent.glob(f".{path.name}.old-*"):
        shutil.rmtree(stale, ignore_errors=True)


def warn_resume_changes(cfg: TrainConfig, action: str, world_size: int, say) -> None:
    """On a resume, say what it changes about the schedule ahead (:func:`resume_changes`)."""
    if action != "resume":
        return
    for change in resume_changes(cfg, world_size):
        say(f"warning: this resume changes {change}: the schedule from here on differs from the "
            "interrupted run's")
