"""`logictune demo`, `train`, `merge` and `recipe`: training and the whole loop."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import app, console, fail

# ---------------------------------------------------------------- demo


@app.command("demo")
def demo_cmd(
    minutes: float = typer.Option(12.0, "--minutes", help="Time budget: the sizes are chosen from this machine's "
                                  "measured speed to fit it."),
    data_file: Path | None = typer.Option(None, "--data", help="Your labelled questions to score on (a sample "
                                          "sized to the budget) instead of synthetic ones."),
    out_dir: Path = typer.Option(Path("outputs/demo"), help="Where every step's output is kept (rerun resumes)."),
    model: str = typer.Option("qwen2.5-coder-0.5b", help="Local dir, .gguf file, registry name or hub id."),
    engine: str = typer.Option("auto", help="What answers: auto (llamacpp when built and the model has a GGUF, "
                               "else hf), hf or llamacpp."),
    seed: int = typer.Option(0),
):
    """The whole loop, sized to the machine: base direct and program, program-SFT, tuned program; one table."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .. import demo

    cfg = demo.DemoConfig(out_dir=out_dir, data=data_file, model=model, minutes=minutes, engine=engine, seed=seed)
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        try:
            result = demo.run(cfg, say=lambda s: console.print(s, highlight=False, markup=False, soft_wrap=True),
                              progress=progress)
        except (ValueError, OSError) as e:
            fail(str(e))
    demo.print_table(result, console, synthetic=data_file is None)


# ---------------------------------------------------------------- train, merge


@app.command("train")
def train_cmd(
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML config (see configs/); keys as in "
                                       "logictune.train_config.TrainConfig."),
    set_: list[str] = typer.Option([], "--set", help="Override a config key: --set lora.alpha=32 (repeatable)."),
    model: str | None = typer.Option(None, help="Model spec: local dir, .gguf, registry name or hub id."),
    data: Path | None = typer.Option(None, help="Problems JSONL with answers."),
    rationales: Path | None = typer.Option(None, help="Rationales JSONL {id, question_index, rationale}."),
    output_dir: Path | None = typer.Option(None, help="Run directory: adapter, tokenizer, config, loss.png."),
    epochs: float | None = typer.Option(None),
    max_steps: int | None = typer.Option(None, help="Optimizer steps; overrides --epochs."),
    lr: float | None = typer.Option(None, help="Peak learning rate."),
    lora_r: int | None = typer.Option(None, help="LoRA rank."),
    max_length: str | None = typer.Option(None, help="Longest example in tokens, longer ones dropped; auto: "
                                          "the data's longest, so none is."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --output-dir from its last "
                                "checkpoint."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the run in --output-dir."),
    method: str | None = typer.Option(None, help="sft (default): LoRA SFT on rationales; grpo: trl's GRPO, "
                                      "rewarded by running the sampled programs (config section grpo:)."),
):
    """LoRA SFT with loss on the completion only, or GRPO on program rewards (--method grpo); works under
    torchrun / accelerate launch."""

    from .. import models
    from .. import train as tr

    flags = {"method": method, "model": model, "data": data and str(data), "rationales": rationales and str(rationales),
             "output_dir": output_dir and str(output_dir), "epochs": epochs, "max_steps": max_steps, "lr": lr,
             "lora.r": lora_r, "max_length": max_length, "resume": resume or None, "overwrite": overwrite or None}
    try:
        cfg = tr.load_config(config, set_, **flags)
        result = tr.train(cfg, echo=lambda s: console.print(s, highlight=False, markup=False, soft_wrap=True))
    except (ValueError, OSError, models.ModelNotFound) as e:
        fail(str(e))
    if not result.is_main_process:
        return
    if cfg.method == "grpo":
        first, last = (f"{r[0][1]:.3f}", f"{r[-1][1]:.3f}") if (r := result.rewards) else ("-", "-")
        mix = ", ".join(f"{k} {v}" for k, v in sorted(result.parts.items(), key=lambda kv: -kv[1]))
        console.print(f"done: {result.global_step} steps, mean reward {first} at the first logged step, {last} "
                      f"at the last; programs: {mix or 'none'}; adapter in {result.output_dir}",
                      highlight=False, markup=False)
        return
    losses = ", ".join(f"{k} {v:.4f}" for k, v in (("train loss", result.train_loss),
                                                   ("eval loss", result.eval_loss)) if v is not None)
    console.print(f"done: {result.global_step} steps, {losses}; adapter in {result.output_dir}",
                  highlight=False, markup=False)


@app.command("merge")
def merge_cmd(
    model: str = typer.Option(..., help="The base model spec the adapter was trained on."),
    adapter: Path = typer.Option(..., help="Run directory (or checkpoint) holding adapter_config.json."),
    out: Path = typer.Option(..., help="Where to write the merged safetensors model."),
    dtype: str = typer.Option("auto", help="auto (the base model's dtype), bf16, fp16, fp32."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty OUT."),
):
    """Fold a LoRA adapter into its base model: a plain model for transformers and vLLM."""

    from .. import models
    from .. import train as tr

    try:
        path = tr.merge(model, adapter, out, dtype=dtype, overwrite=overwrite)
    except (ValueError, OSError, models.ModelNotFound) as e:
        fail(str(e))
    console.print(f"merged model written to {path}", highlight=False, markup=False)


# ---------------------------------------------------------------- recipe


@app.command("recipe")
def recipe_cmd(
    file: Path = typer.Argument(..., help="A recipe YAML (configs/recipes/)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show which steps would run or be skipped; run none."),
    from_step: str | None = typer.Option(None, "--from", help="Rerun this step and every step after it."),
    set_: list[str] = typer.Option([], "--set", help="Override a variable: --set lr=1e-4 (repeatable)."),
):
    """Run a recipe's steps (logictune commands) in order; a rerun skips finished steps and resumes the rest."""
    from .. import recipe as rc

    try:
        commands = set(typer.main.get_command(app).commands) - {"recipe"}
        result = rc.run(rc.load(file, set_, commands=commands), from_step=from_step, dry_run=dry_run,
                        console=console)
    except rc.RecipeError as e:
        fail(str(e))
    if result.failed:
        raise typer.Exit(result.returncode)
