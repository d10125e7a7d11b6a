"""`logictune synth` and `distill`: where training rationales come from."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from ._app import app, console, fail

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

    from .. import data, synth

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

    from .. import data, distill_cost
    from .. import distill as ds
    from ..teachers import TeacherError

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
    from ..engines.build import EngineChoice, build_engine

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
            from ..teachers import ResponseCache

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
