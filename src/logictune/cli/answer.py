"""`logictune predict`, `evaluate` and `compare`: answering questions and scoring the answers."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from ._app import app, console, fail

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
    letter_bias: Path | None = typer.Option(None, help="A per-letter bias (from `logictune letter-bias`, fit on "
                                            "labelled questions) added to the option likelihoods wherever they "
                                            "pick the answer: direct, and the program fallback."),
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

    from .. import data, predict
    from .. import letter_bias as letter_bias_file
    from ..engines.build import EngineChoice, Meter, build_engine

    try:
        choice = EngineChoice(engine, model, adapter, dtype, batch_size, seed, tensor_parallel_size, base_url,
                              api_key_env, concurrency, max_stop or None, tokenizer_spec)
        problems = data.load_problems(data_file)
        cfg = predict.PredictConfig(method=method, votes=votes, adaptive=adaptive, first_round=first_round,
                                    confidence=None if confidence >= 1 else confidence,
                                    max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
                                    top_k=top_k, seed=seed, program_style=program_style, fallback=fallback,
                                    count_guesses=count_guesses, program_timeout=program_timeout,
                                    sandbox_workers=sandbox_workers, settle_questions=settle_questions,
                                    letter_bias=letter_bias_file.load(letter_bias) if letter_bias else None)
        if method == "program":
            from ..sandbox import isolation

            console.print(isolation().describe(), highlight=False, markup=False, soft_wrap=True)
        if few_shot:
            from ..retrieval import ShotPool

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


@app.command("letter-bias")
def letter_bias_cmd(
    gold: Path = typer.Option(..., help="Labelled problems (competition JSONL) to fit on: the training split."),
    out: Path = typer.Option(..., help="The letter-bias JSON to write (predict --letter-bias OUT)."),
    kind: str = typer.Option("matched", help="prior: the gold letters' log-frequencies; matched: minus the "
                             "model's mean letter probabilities from --pred (prior matching)."),
    pred: Path | None = typer.Option(None, help="A `predict --method direct` run on --gold by the model (and "
                                     "adapter) that will answer; its details hold the probabilities."),
    weight: str = typer.Option("auto", help="How far the model's likelihoods count against the prior, 0 to 1 "
                               "(0: each option count's most frequent gold letter); auto: the best on --pred. "
                               "Fit on questions the model was not trained on, or auto trusts it too much."),
):
    """Fit a per-letter bias for option-likelihood answers on labelled questions."""
    from .. import data
    from .. import letter_bias as lb
    from ..runfiles import read_details_only

    try:
        if weight != "auto":
            try:
                weight_value = float(weight)
            except ValueError:
                raise ValueError(f"--weight: auto or a number from 0 to 1, got {weight!r}") from None
        problems = data.load_problems(gold)
        if pred is None and (kind == "matched" or weight == "auto"):
            raise ValueError("--kind matched and --weight auto need --pred: a direct run's submission on --gold "
                             "(its details beside it); --kind prior --weight 0..1 needs none")
        items = lb.labelled_from_details(read_details_only(data.details_path(pred)) if pred else [], problems,
                                         source=str(gold))
        fitted = lb.choose_weight(items, kind) if weight == "auto" else lb.fit(items, kind, weight_value)
        lb.save(fitted, out)
    except (ValueError, OSError) as e:
        fail(str(e))
    if pred:
        console.print(f"direct answers on {gold}: {lb.accuracy(None, items):.3f} "
                      f"as they are, {lb.accuracy(fitted, items):.3f} with the bias", highlight=False)
    for n, b in sorted(fitted.bias.items()):
        terms = ", ".join(f"{letter} {x:+.2f}" for letter, x in zip("ABCDEFGH", b, strict=False))
        console.print(f"{n} options ({fitted.questions[n]} questions): {terms}", highlight=False)
    console.print(f"letter bias ({kind}, weight {fitted.weight:g}): {out}", highlight=False)


@app.command("evaluate")
def evaluate(
    pred: Path = typer.Option(..., help="The submission to score; every question answered."),
    gold: Path = typer.Option(..., help="The same problems with the right answers."),
    details: Path | None = typer.Option(None, help="Details file; default: PRED's .details.jsonl if any."),
    report: Path | None = typer.Option(None, help="Write report.md, PNG charts and report.html into this folder."),
):
    """Score PRED against GOLD: accuracy, slices and, with a details file, voting and calibration."""
    from rich.markup import escape

    from .. import evaluate as ev
    from .. import report_md

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
    from .. import report_html

    try:
        figures = report_html.compare(run_a, run_b, gold, out)
    except (ValueError, OSError) as e:
        fail(str(e))
    console.print("\n".join(report_html.summary_lines(figures)), highlight=False, markup=False, soft_wrap=True)
