"""The `logictune` command line: one thin function per command over the Python API."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Make small LLMs good at multiple-choice logic reasoning.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
data_app = typer.Typer(help="Load, validate, describe and split datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console()


def say_error(message: str) -> None:
    """Print in red without wrapping or markup: `file:line: field 'questions[0]'` stays whole and greppable."""
    from rich.markup import escape

    console.print(escape(message), style="red", highlight=False, soft_wrap=True)


def fail(message: str) -> None:
    say_error(f"error: {message}")
    raise typer.Exit(1)


# ---------------------------------------------------------------- data


def _description_table(title: str, desc: dict) -> Table:
    table = Table(title=title, show_header=True)
    table.add_column("what")
    table.add_column("value")
    for key, value in desc.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
        table.add_row(key.replace("_", " "), str(value))
    return table


def _load_report(file: Path):
    from . import data

    try:
        return data.load_report(file)
    except (OSError, UnicodeDecodeError) as e:
        fail(f"cannot read {file}: {e}")


def _load_valid(file: Path, lenient: bool):
    """Load FILE, listing every bad record; fail unless ``lenient``, which skips them."""
    report = _load_report(file)
    for err in report.errors:
        say_error(str(err))
    if report.errors and not lenient:
        fail(f"{len(report.errors)} bad record(s) in {file}; fix them or pass --lenient to skip them")
    if report.errors:
        console.print(f"[yellow]skipped {len(report.errors)} bad record(s)[/yellow]")
    return report


@data_app.command("check")
def data_check(file: Path, lenient: bool = typer.Option(False, help="Skip bad records instead of failing.")):
    """Validate FILE and describe what it holds."""
    from . import data

    report = _load_valid(file, lenient)
    console.print(_description_table(str(file), data.describe(report.problems)))


@data_app.command("split")
def data_split(
    file: Path,
    out_dir: Path = typer.Option(..., help="Writes OUT_DIR/train.jsonl and OUT_DIR/val.jsonl."),
    val_fraction: float = typer.Option(0.2, help="Share of questions for validation."),
    seed: int = typer.Option(0),
    lenient: bool = typer.Option(False, help="Skip bad records instead of failing."),
):
    """Split FILE by problem into train and validation; repeated problems stay on one side."""
    from . import data

    report = _load_valid(file, lenient)
    try:
        train, val = data.split(report.problems, val_fraction, seed)
    except ValueError as e:
        fail(str(e))
    for name, part in (("train", train), ("val", val)):
        data.write_problems(part, out_dir / f"{name}.jsonl")
        console.print(f"{out_dir / f'{name}.jsonl'}: {len(part)} problems, "
                      f"{sum(len(p.questions) for p in part)} questions", highlight=False, soft_wrap=True)


@data_app.command("families")
def data_families(
    file: Path,
    out: Path | None = typer.Option(None, help="Also write one {\"id\", \"family\"} line per problem here."),
    lenient: bool = typer.Option(False, help="Skip bad records instead of failing."),
):
    """Tag every problem of FILE with its puzzle family and count problems and questions per family."""
    from . import data
    from .synth import census

    result = census.census(_load_valid(file, lenient).problems)
    console.print(census.census_table(result, title=str(file)))
    if out is not None:
        data.write_jsonl(out, result["tags"])
        console.print(f"families: {out}", highlight=False, soft_wrap=True)


# ---------------------------------------------------------------- evaluate


# ---------------------------------------------------------------- models

models_app = typer.Typer(help="Fetch and list models.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("fetch")
def models_fetch(name: str = typer.Argument("qwen2.5-coder-0.5b", help="A registry name."),
                 force: bool = typer.Option(False, help="Download and convert again.")):
    """Download a registry model once (checked by size and sha256), convert it to safetensors, print its path."""
    from . import models

    try:
        path = models.fetch(name, force=force)
    except models.ModelNotFound as e:
        fail(str(e))
    print(path)


@models_app.command("list")
def models_list():
    """Show the registry and what is cached under $LOGICTUNE_HOME."""
    from . import models

    table = Table(title=f"models in {models.logictune_home()}")
    for col in ("name", "kind", "ready", "size", "path"):
        table.add_column(col)
    cached = {row["name"]: row for row in models.cached_models()}
    for name in models.REGISTRY:
        cached.setdefault(name, {"name": name, "kind": "registry", "ready": False, "path": "-", "bytes": 0})
    for row in cached.values():
        table.add_row(row["name"], row["kind"], "yes" if row["ready"] else "no (fetched on first use)",
                      f"{row['bytes'] / 2**30:.2f} GiB" if row["bytes"] else "-", row["path"])
    console.print(table)


# ---------------------------------------------------------------- predict


@app.command("predict")
def predict_cmd(
    data_file: Path = typer.Option(..., "--data", help="Problems to answer (competition JSONL)."),
    out: Path = typer.Option(..., help="Submission to write; details go to OUT's .details.jsonl."),
    model: str = typer.Option("qwen2.5-coder-0.5b", help="Local dir, .gguf file, registry name or hub id."),
    adapter: Path | None = typer.Option(None, help="A LoRA adapter directory from `logictune train`."),
    method: str = typer.Option("cot", help="cot: sampled chains + vote; direct: score the option letters."),
    votes: int = typer.Option(5, help="Vote budget: the most chains per question."),
    adaptive: bool = typer.Option(True, help="Stop sampling a question once its answer is settled."),
    first_round: int = typer.Option(2, help="Chains per question in the first adaptive round."),
    confidence: float = typer.Option(0.85, help="Posterior stopping threshold; 1 keeps only the sure rule."),
    max_new_tokens: int = typer.Option(512),
    temperature: float = typer.Option(0.7),
    top_p: float = typer.Option(0.9),
    top_k: int = typer.Option(64, help="Sample among the top k tokens (then top-p); 0: whole vocabulary."),
    batch_size: int = typer.Option(16, help="Chains (or prompts, for direct) in flight at once."),
    seed: int = typer.Option(0),
    engine: str = typer.Option("hf", help="hf (transformers)."),
    dtype: str = typer.Option("auto", help="auto, bf16, fp16 or fp32."),
    limit: int | None = typer.Option(None, help="Answer only the first N problems."),
    overwrite: bool = typer.Option(False, help="Discard details of an earlier run instead of resuming."),
):
    """Answer every question of DATA; writes the submission and per-question details, resumable."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from . import data, models, predict
    from .engines import get_engine

    try:
        problems = data.load_problems(data_file)
        cfg = predict.PredictConfig(method=method, votes=votes, adaptive=adaptive, first_round=first_round,
                                    confidence=None if confidence >= 1 else confidence,
                                    max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
                                    top_k=top_k, seed=seed)
        lm, tokenizer = models.load_model(model, dtype=dtype, adapter=str(adapter) if adapter else None)
    except (ValueError, OSError, models.ModelNotFound) as e:
        fail(str(e))
    problems = problems[:limit] if limit else problems
    total = sum(len(p.questions) for p in problems)
    run_info = {"model": model, "adapter": str(adapter) if adapter else None, "data": str(data_file)}
    columns = [TextColumn("[bold]predict"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TimeRemainingColumn()]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("predict", total=total, rate="")
        start, counts = time.perf_counter(), {"q": 0, "tok": 0}

        def on_batch(_prompts: int, tokens: int) -> None:
            counts["tok"] += tokens
            elapsed = time.perf_counter() - start
            progress.update(task, rate=f"{counts['q'] / elapsed:.2f} q/s  {counts['tok'] / elapsed:.1f} tok/s")

        def on_written(questions: int, _tokens: int) -> None:
            counts["q"] += questions
            progress.advance(task, questions)
            # Logs (CI, nohup) get no live bar: a line every half minute instead.
            now = time.perf_counter()
            if not console.is_terminal and now - counts.setdefault("said", start) >= 30:
                counts["said"] = now
                console.print(f"predict: {counts['q']}/{total} questions, {progress.tasks[0].fields['rate']}",
                              highlight=False)

        eng = get_engine(engine, lm, tokenizer, batch_size=batch_size, progress=on_batch)
        try:
            progress.advance(task, 0)
            summary = predict.predict(problems, eng, tokenizer, out, cfg, run_info=run_info, overwrite=overwrite,
                                      on_written=on_written)
        except ValueError as e:
            fail(str(e))
        progress.update(task, completed=total)
    console.print(
        f"{summary['answered_now']} questions in {summary['seconds']:.1f}s "
        f"({summary['questions_per_s']:.2f} q/s, {summary['tokens_per_s']:.1f} tok/s); "
        f"{summary['resumed']} resumed; {summary['fallbacks']} by option likelihood", highlight=False)
    console.print(f"submission: {summary['submission']}\ndetails: {summary['details']}", highlight=False,
                  soft_wrap=True)


@app.command("evaluate")
def evaluate(
    pred: Path = typer.Option(..., help="The submission to score; every question answered."),
    gold: Path = typer.Option(..., help="The same problems with the right answers."),
    details: Path | None = typer.Option(None, help="Details file; default: PRED's .details.jsonl if any."),
    report: Path | None = typer.Option(None, help="Write report.md and PNG charts into this folder."),
):
    """Score PRED against GOLD: accuracy, slices and, with a details file, voting and calibration."""
    from rich.markup import escape

    from . import evaluate as ev

    try:
        m = ev.evaluate(pred, gold, details)
    except (ValueError, OSError) as e:
        fail(str(e))
    plain = {"highlight": False, "markup": False, "soft_wrap": True}
    console.print(f"accuracy: {m['accuracy']:.4f} ({m['correct']}/{m['n']})", **plain)
    table = Table(show_header=True)
    for col in ("slice", "n", "accuracy"):
        table.add_column(col)
    b = m["baseline"]
    table.add_row(f"baseline: always {b['letter']}", str(m["n"]), f"{b['accuracy']:.4f}")
    for key, title in (("by_options", "options = "), ("by_gold_letter", "gold = ")):
        for k, v in m[key].items():
            table.add_row(f"{title}{k}", str(v["n"]), f"{v['accuracy']:.4f}")
    d = m["details"]
    if d is not None and d["fallbacks"]:
        table.add_row("fallback to option likelihoods", str(d["fallbacks"]), f"{d['fallback_accuracy']:.4f}")
    console.print(table)
    if d is not None and d["rows"]:
        console.print(f"details: {m['files']['details']}: {d['rows']}/{m['n']} questions, "
                      f"fallback rate {d['fallback_rate']:.4f}, "
                      f"extraction failures {d['extraction_failures']}/{d['samples']} samples, "
                      f"{d['mean_tokens']:.1f} tokens/question", **plain)
    elif d is not None:
        console.print(f"[yellow]details: {escape(m['files']['details'])} has no row for these questions")
    if report is not None:
        console.print(f"report: {ev.write_report(m, report)}", **plain)


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
):
    """LoRA SFT with loss on the completion only; works under torchrun / accelerate launch."""

    from . import train as tr

    flags = {"model": model, "data": data and str(data), "rationales": rationales and str(rationales),
             "output_dir": output_dir and str(output_dir), "epochs": epochs, "max_steps": max_steps, "lr": lr,
             "lora.r": lora_r, "max_length": max_length, "resume": resume or None, "overwrite": overwrite or None}
    try:
        cfg = tr.load_config(config, set_, **flags)
        result = tr.train(cfg, echo=lambda s: console.print(s, highlight=False, markup=False, soft_wrap=True))
    except (ValueError, OSError, models.ModelNotFound) as e:
        fail(str(e))
    if not result.is_main_process:
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

    from . import train as tr

    try:
        path = tr.merge(model, adapter, out, dtype=dtype, overwrite=overwrite)
    except (ValueError, OSError, models.ModelNotFound) as e:
        fail(str(e))
    console.print(f"merged model written to {path}", highlight=False, markup=False)


def main() -> None:
    app()
    from . import models
    from . import models
