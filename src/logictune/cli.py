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
    """Load FILE, listing every bad record; fail unless ``lenient``, which skips them, or when none is left."""
    from . import data

    report = _load_report(file)
    for err in report.errors:
        say_error(str(err))
    if report.errors and not lenient:
        fail(f"{len(report.errors)} bad record(s) in {file}; fix them or pass --lenient to skip them")
    if report.errors:
        console.print(f"[yellow]skipped {len(report.errors)} bad record(s)[/yellow]")
    try:
        data.require_problems(report)
    except ValueError as e:
        fail(str(e))
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
    empty = [name for name, part in (("train", train), ("val", val)) if not part]
    if empty:  # every command refuses an empty data file: do not write one
        fail(f"{file}: {len(report.problems)} problem(s) (repeats stay together) leave the {' and '.join(empty)} "
             f"side empty at --val-fraction {val_fraction}; nothing written")
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
    model: str = typer.Option("qwen2.5-coder-0.5b", help="Local dir, .gguf file, registry name or hub id; "
                              "with --engine openai, the served model's name."),
    adapter: Path | None = typer.Option(None, help="A LoRA adapter directory from `logictune train` (hf: merged "
                                        "into the weights at load; vllm: served as a LoRA)."),
    method: str = typer.Option("cot", help="cot: sampled chains + vote; direct: score the option letters; "
                               "program: sampled Python programs run in the sandbox, their outputs vote."),
    program_style: str = typer.Option("letter", help="program: the prompt asks to print the option's letter "
                                      "(letter) or the computed value (value)."),
    fallback: str = typer.Option("direct", help="program: questions no computed program answered: direct "
                                 "(option likelihood) or cot (chains, then likelihood)."),
    count_guesses: bool = typer.Option(False, help="program: let constant guesses such as print('A') vote."),
    program_timeout: float = typer.Option(5.0, help="program: wall seconds per program."),
    sandbox_workers: int = typer.Option(2, help="program: programs run at once."),
    settle_questions: int = typer.Option(64, help="cot/program: questions sampled before those no chain "
                                         "answered are settled and written (a kill loses at most these)."),
    votes: int = typer.Option(5, help="Vote budget: the most chains per question."),
    adaptive: bool = typer.Option(True, help="Stop sampling a question once its answer is settled."),
    first_round: int = typer.Option(2, help="Chains per question in the first adaptive round."),
    confidence: float = typer.Option(0.85, help="Posterior stopping threshold; 1 keeps only the sure rule."),
    max_new_tokens: int = typer.Option(512),
    temperature: float = typer.Option(0.7, help=">= 0; 0 is greedy."),
    top_p: float = typer.Option(0.9, help="Within (0, 1]."),
    top_k: int = typer.Option(64, help="Sample among the top k tokens (then top-p); 0: whole vocabulary."),
    batch_size: int = typer.Option(16, help="Chains (or prompts, for direct) in flight at once."),
    seed: int = typer.Option(0, help="Chains are seeded from (seed, problem id, question index, chain index)."),
    engine: str = typer.Option("hf", help="hf (transformers, CPU-friendly), vllm (pip install 'logictune\\[vllm]'), "
                               "openai (any OpenAI-compatible server, e.g. vllm serve) or llamacpp (the GGUF on "
                               "llama.cpp, CPUs: `make llamacpp`)."),
    dtype: str = typer.Option("auto", help="auto, bf16, fp16 or fp32 (hf, vllm)."),
    tensor_parallel_size: int = typer.Option(1, help="vllm: GPUs to shard the model over."),
    base_url: str | None = typer.Option(None, help="openai: the server, e.g. http://127.0.0.1:8000/v1."),
    api_key_env: str | None = typer.Option(None, help="openai: environment variable holding the API key."),
    concurrency: int = typer.Option(8, help="openai: requests in flight at once."),
    max_stop: int = typer.Option(4, help="openai: most stop strings sent (OpenAI takes 4; the answer stops are "
                                 "more, so then the text is cut here instead); 0: send them all (vllm serve)."),
    tokenizer_spec: str | None = typer.Option(None, "--tokenizer", help="openai: where the chat template comes "
                                              "from (default: --model), to render the prompts the model was "
                                              "trained on."),
    limit: int | None = typer.Option(None, help="Answer only the first N problems."),
    overwrite: bool = typer.Option(False, help="Discard details of an earlier run instead of resuming."),
    few_shot: int = typer.Option(0, help="Show the K most similar solved questions of --few-shot-pool first "
                                 "(BM25); train with the same few_shot and pool."),
    few_shot_pool: Path | None = typer.Option(None, help="Problems JSONL with answers to draw shots from."),
):
    """Answer every question of DATA; writes the submission and per-question details, resumable."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from . import data, predict
    from .engines.build import EngineChoice, Meter, build_engine

    try:
        choice = EngineChoice(engine, model, adapter, dtype, batch_size, seed, tensor_parallel_size, base_url,
                              api_key_env, concurrency, max_stop or None, tokenizer_spec)
        problems = data.load_problems(data_file)
        cfg = predict.PredictConfig(method=method, votes=votes, adaptive=adaptive, first_round=first_round,
                                    confidence=None if confidence >= 1 else confidence,
                                    max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
                                    top_k=top_k, seed=seed, program_style=program_style, fallback=fallback,
                                    count_guesses=count_guesses, program_timeout=program_timeout,
                                    sandbox_workers=sandbox_workers, settle_questions=settle_questions)
        if method == "program":
            from .sandbox import isolation

            console.print(isolation().describe(), highlight=False, markup=False, soft_wrap=True)
        if few_shot:
            from .retrieval import ShotPool

            if not few_shot_pool:
                fail("--few-shot needs --few-shot-pool FILE (the training data)")
            pool = ShotPool.from_file(few_shot_pool)
            cfg.shots = lambda p, i: pool.shots(p, i, few_shot)
        meter = Meter()
        built = build_engine(choice, progress=meter.on_batch)
    except (ValueError, OSError, ImportError) as e:
        fail(str(e))
    problems = problems[:limit] if limit else problems
    total = sum(len(p.questions) for p in problems)
    run_info = {"model": model, "adapter": str(adapter) if adapter else None, "data": str(data_file),
                "engine": engine, "dtype": built.dtype,
                **({"few_shot": few_shot, "few_shot_pool": str(few_shot_pool)} if few_shot else {})}
    columns = [TextColumn("[bold]predict"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TimeRemainingColumn()]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("predict", total=total, rate="")
        meter.start, said = time.perf_counter(), [time.perf_counter()]

        def on_written(questions: int, _tokens: int) -> None:
            meter.questions += questions
            progress.update(task, advance=questions, rate=meter.rate())
            # Logs (CI, nohup) get no live bar: a line every half minute instead.
            if not console.is_terminal and time.perf_counter() - said[0] >= 30:
                said[0] = time.perf_counter()
                console.print(f"predict: {meter.questions}/{total} questions, {meter.rate()}", highlight=False)

        try:
            summary = predict.predict(problems, built.engine, built.tokenizer, out, cfg, run_info=run_info,
                                      overwrite=overwrite, on_written=on_written)
        except (ValueError, ImportError) as e:
            fail(str(e))
        progress.update(task, completed=total)
    console.print(
        f"{summary['answered_now']} questions in {summary['seconds']:.1f}s "
        f"({summary['questions_per_s']:.2f} q/s, {summary['tokens_per_s']:.1f} tok/s); "
        f"{summary['resumed']} resumed; {summary['fallbacks']} "
        f"{'fell back to ' + fallback if method == 'program' else 'by option likelihood'}", highlight=False)
    if "program_wait_share" in summary:
        console.print(f"waiting on programs: {summary['program_wait_seconds']:.1f}s "
                      f"({summary['program_wait_share']:.1%} of the run)", highlight=False)
    console.print(f"submission: {summary['submission']}\ndetails: {summary['details']}", highlight=False,
                  soft_wrap=True)


@app.command("evaluate")
def evaluate(
    pred: Path = typer.Option(..., help="The submission to score; every question answered."),
    gold: Path = typer.Option(..., help="The same problems with the right answers."),
    details: Path | None = typer.Option(None, help="Details file; default: PRED's .details.jsonl if any."),
    report: Path | None = typer.Option(None, help="Write report.md, PNG charts and report.html into this folder."),
):
    """Score PRED against GOLD: accuracy, slices and, with a details file, voting and calibration."""
    from rich.markup import escape

    from . import evaluate as ev
    from . import report_md

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
        console.print(f"report: {report_md.write_report(m, report)}", **plain)


@app.command("compare")
def compare_cmd(
    run_a: Path = typer.Argument(..., help="A run folder (its pred.jsonl) or a predictions file."),
    run_b: Path = typer.Argument(..., help="The other run, on the same questions."),
    gold: Path | None = typer.Option(None, help="Gold answers; default: the data file the runs recorded."),
    out: Path = typer.Option(Path("compare.html"), help="The page to write."),
):
    """Two runs side by side: accuracy, McNemar's test, per-family change, the questions that flipped."""
    from . import report_html

    try:
        figures = report_html.compare(run_a, run_b, gold, out)
    except (ValueError, OSError) as e:
        fail(str(e))
    console.print("\n".join(report_html.summary_lines(figures)), highlight=False, markup=False, soft_wrap=True)


# ---------------------------------------------------------------- synth


@app.command("synth")
def synth_cmd(
    n: int = typer.Option(1000, "--n", help="Questions to generate (whole puzzles: may overshoot by a few)."),
    seed: int = typer.Option(0, help="Same seed, same bytes."),
    out: Path = typer.Option(..., help="Problems JSONL (competition format, with answers)."),
    rationales: Path | None = typer.Option(None, help="Also write the solver's rationales here (source: synth)."),
    programs: Path | None = typer.Option(None, help="Also write program rationales here (method: program), each "
                                         "run in the sandbox and checked to print its key."),
    families: str | None = typer.Option(None, help="Comma-separated families; default: all, mixed like the "
                                        "real data."),
    difficulty: str = typer.Option("mixed", help="easy, medium, hard or mixed."),
):
    """Generate puzzles with proven answers and step-by-step rationales from the solver's trace."""
    from collections import Counter

    from . import data, synth

    start = time.perf_counter()
    try:
        result = synth.generate(n, seed=seed, difficulty=difficulty, programs=programs is not None,
                                families=[f.strip() for f in families.split(",")] if families else None)
    except ValueError as e:
        fail(str(e))
    seconds = time.perf_counter() - start
    data.write_problems(result.problems, out)
    if rationales:
        data.write_jsonl(rationales, result.rationales)
    if programs:
        data.write_jsonl(programs, result.programs)
    table = Table(title=f"synth: {len(result.problems)} problems, {len(result.rationales)} questions "
                        f"({len(result.rationales) / seconds:,.0f} questions/s)")
    for col in ("family", "problems", "questions"):
        table.add_column(col, justify="left" if col == "family" else "right")
    probs = Counter(p.family for p in result.puzzles)
    qs = Counter(r["family"] for r in result.rationales)
    for fam, k in qs.most_common():
        table.add_row(fam, str(probs[fam]), str(k))
    console.print(table)
    console.print(f"problems: {out}" + (f"\nrationales: {rationales}" if rationales else "")
                  + (f"\nprograms: {programs} (all {len(result.programs)} printed their key in the sandbox)"
                     if programs else ""), highlight=False, soft_wrap=True)


# ---------------------------------------------------------------- distill


@app.command("distill")
def distill_cmd(
    data_file: Path = typer.Option(..., "--data", help="Problems with answer keys (competition JSONL)."),
    out: Path = typer.Option(..., help="Rationales JSONL; failed questions are listed in OUT's .failed.jsonl."),
    teacher: str = typer.Option(..., help="openai:MODEL (any OpenAI-compatible API) or local:SPEC (our engine)."),
    self_: bool = typer.Option(False, "--self", help="STaR: the local model answers without the key; chains "
                               "that reach it are kept."),
    rationalize: bool = typer.Option(False, help="With --self: one hinted attempt (key shown) per question "
                                     "still unsolved."),
    adapter: Path | None = typer.Option(None, help="LoRA adapter on top of a local teacher."),
    base_url: str | None = typer.Option(None, help="API endpoint; default $OPENAI_BASE_URL."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", help="Name of the variable that holds the API key."),
    concurrency: int = typer.Option(8, help="Requests in flight at once."),
    samples: int = typer.Option(1, help="Verified rationales per question (--self: most chains per question)."),
    max_reasks: int = typer.Option(2, help="Further chains for a question whose rationales were rejected."),
    max_retries: int = typer.Option(5, help="Retries of a request on 429, 5xx, timeouts, dropped connections."),
    timeout: float = typer.Option(60.0, help="Seconds per request attempt."),
    cache: Path | None = typer.Option(None, help="SQLite reply cache; default OUT's .cache.sqlite."),
    price_in: float | None = typer.Option(None, help="Price per million prompt tokens."),
    price_out: float | None = typer.Option(None, help="Price per million completion tokens."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Start without asking, prices given or not."),
    estimate_only: bool = typer.Option(False, help="Print the estimate and stop: no key, no request."),
    max_new_tokens: int = typer.Option(1024),
    temperature: float = typer.Option(0.7),
    seed: int = typer.Option(0),
    batch_size: int = typer.Option(16, help="Local teacher: chains in flight at once."),
    dtype: str = typer.Option("auto", help="Local teacher: auto, bf16, fp16 or fp32."),
    limit: int | None = typer.Option(None, help="Only the first N problems."),
    overwrite: bool = typer.Option(False, help="Start the output over (cached replies are kept)."),
    method: str = typer.Option("cot", help="cot: chains checked by their answer line; program: Python programs "
                               "kept when the sandbox runs them to the key (no constant guesses)."),
    program_style: str = typer.Option("letter", help="program: the prompt's style (letter or value)."),
    engine_name: str = typer.Option("hf", "--engine", help="Local teacher and --self: hf (transformers) or "
                                    "llamacpp (the model's GGUF; fastest on a CPU)."),
):
    """Rationales from a teacher shown the answer, or from the model itself (STaR); cached, retried, verified."""
    import sys

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from . import data, distill_cost
    from . import distill as ds
    from .teachers import TeacherError

    plain = {"highlight": False, "markup": False, "soft_wrap": True}
    try:
        kind, name = ds.parse_teacher(teacher)
        if (self_ or rationalize) and kind != "local":
            raise ValueError("--self and --rationalize need a local model: --teacher local:SPEC")
        if rationalize and not self_:
            raise ValueError("--rationalize goes with --self")
        if engine_name not in ("hf", "llamacpp"):
            raise ValueError(f"--engine {engine_name!r}: a local teacher runs on hf or llamacpp (serve it and use "
                             "--teacher openai:MODEL for vllm)")
        if kind == "openai" and engine_name != "hf":
            raise ValueError("--engine is for a local teacher; openai:MODEL is served")
        problems = data.load_problems(data_file)
        cfg = ds.DistillConfig(samples=samples, max_reasks=max_reasks, max_new_tokens=max_new_tokens,
                               temperature=temperature, seed=seed, rationalize=rationalize, method=method,
                               program_style=program_style)
    except (ValueError, OSError) as e:
        fail(str(e))
    problems = problems[:limit] if limit else problems
    if not ds.keyed_questions(problems)[0]:  # chains are kept by the key: without one nothing can be
        fail(f"{data_file} has no question with an answer key: distill checks every rationale against it")
    run_info = {"teacher": teacher, "adapter": str(adapter) if adapter else None, "data": str(data_file),
                "self": self_, **({"engine": engine_name} if engine_name != "hf" else {})}
    from .engines.build import EngineChoice, build_engine

    if kind == "openai":
        cache_path = cache or ds.default_cache_path(out)
        choice = EngineChoice("openai", name, base_url=base_url, api_key_env=api_key_env, concurrency=concurrency,
                              render=False)
        options = {"max_retries": max_retries, "timeout": timeout,
                   "cache": cache_path if cache_path.exists() else None}
    elif estimate_only:
        fail("--estimate-only is for paid teachers (openai:MODEL); a local one costs nothing")
    else:  # the local teacher and STaR: hf merges the adapter, llamacpp converts it (STaR is the longest step)
        choice, options = EngineChoice(engine_name, name, adapter, dtype, batch_size), {}
    try:
        built = build_engine(choice, **options)
    except (ValueError, OSError, ImportError) as e:
        fail(str(e))
    engine, tokenizer, source = built.engine, built.tokenizer, teacher
    if kind == "openai":
        est = distill_cost.estimate(problems, cfg, price_in=price_in, price_out=price_out,
                                    is_cached=lambda messages, j: engine.is_cached(messages, cfg.sampling(), j))
        for line in est.lines():
            console.print(line, **plain)
        if estimate_only:
            return
        if est.cost is not None and est.requests and not yes:
            if not sys.stdin.isatty():
                fail("prices given and no terminal to ask: pass --yes to start")
            typer.confirm("go on?", abort=True)
        if engine.cache is None:
            from .teachers import ResponseCache

            engine.cache = ResponseCache(cache_path)

    def paid() -> tuple[int, int, float | None]:
        st = getattr(engine, "stats", None)
        pt, ct = (st.prompt_tokens, st.completion_tokens) if st else (0, 0)
        return pt, ct, distill_cost.cost(pt, ct, price_in, price_out)

    total = len(ds.keyed_questions(problems)[0])
    columns = [TextColumn("[bold]distill"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
               TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("distill", total=total, info="")

        def on_reply(stats) -> None:
            pt, ct, c = paid()
            progress.update(task, info=f"{stats.requests_per_s:.1f} req/s  {stats.requests} paid  {stats.cached} "
                                       f"cached  tokens {pt:,}+{ct:,}" + (f"  cost {c:.4f}" if c is not None else ""))

        def on_settled(s) -> None:
            progress.update(task, completed=s.resumed + s.done + len(s.failed))

        if hasattr(engine, "on_reply"):
            engine.on_reply = on_reply
        try:
            if self_:
                summary = ds.distill_self(problems, engine, tokenizer, out, cfg, run_info=run_info,
                                          overwrite=overwrite, on_settled=on_settled)
            else:
                summary = ds.distill(problems, engine, out, cfg, source=source, tokenizer=tokenizer,
                                     run_info=run_info, overwrite=overwrite, on_settled=on_settled)
        except (TeacherError, ValueError) as e:
            fail(str(e))
    st = getattr(engine, "stats", None)
    pt, ct, c = paid()
    console.print(f"done: {summary.done} questions, {summary.rationales} rationales "
                  f"({', '.join(f'{k} {v}' for k, v in summary.by_source.items()) or '-'}); {summary.short} short of "
                  f"--samples; {summary.resumed} settled by an earlier run", **plain)
    console.print(f"from cache: {st.cached if st else 0} replies; paid requests: {st.requests if st else 0}; "
                  f"gave up after retries: {st.errors if st else 0}; refused by the server: "
                  f"{getattr(st, 'refused', 0)}; rejected: {summary.rejected} chains", **plain)
    console.print(f"failed: {len(summary.failed)} questions" + (f" (listed in {summary.failed_file})"
                                                                 if summary.failed else ""), **plain)
    console.print(f"tokens: prompt {pt:,}, completion {ct:,}" + (f"; cost {c:.4f}" if c is not None else ""), **plain)
    console.print(f"rationales: {summary.out}", **plain)


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

    from . import demo

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

    from . import models
    from . import train as tr

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

    from . import models
    from . import train as tr

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
    from . import recipe as rc

    try:
        commands = set(typer.main.get_command(app).commands) - {"recipe"}
        result = rc.run(rc.load(file, set_, commands=commands), from_step=from_step, dry_run=dry_run,
                        console=console)
    except rc.RecipeError as e:
        fail(str(e))
    if result.failed:
        raise typer.Exit(result.returncode)


def main() -> None:
    app()
