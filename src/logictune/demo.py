"""The whole loop as one command, on the embedded default model, sized to the machine: before and after
training the model to answer with programs.

    fetch the model -> measure its speed here (demo_size) and pick sizes that fit --minutes ->
    synthesise puzzles with proven programs (the validation side: synthetic, or a sample of --data) ->
    answer the validation side: base direct, base program -> LoRA-train on the synthetic programs ->
    answer it again: tuned program -> one table with the majority-letter constant, intervals, McNemar

Each step calls the step's own API and keeps its output in ``out_dir``; a rerun skips what is done
(predict resumes its details file, train resumes its last checkpoint), so a killed demo picks up where it
stopped. ``out_dir/demo.json`` records what each step's output was made from (settings, the model's
identity, its input files' hashes, logictune's version, the measured speeds and the sizes they gave): a
rerun with another ``--model``, ``--seed``, ``--minutes`` (when the sizes change) or ``--data`` redoes the
steps whose inputs changed and says which, rather than print a table that mixes old and new results.
The speed probe is kept too, so a rerun picks the same sizes. Nothing here holds step logic.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import __version__, data, demo_size, models, synth
from .evaluate import mcnemar, wilson
from .fingerprints import HashCache, fingerprint, model_identity


@dataclass
class DemoConfig:
    out_dir: Path = Path("outputs/demo")
    data: Path | None = None  # labelled questions of the user's to score on instead of synthetic ones
    model: str = models.DEFAULT_MODEL
    minutes: float = 12.0  # the time budget the sizes are chosen for
    engine: str = "auto"  # what answers: llamacpp when built and the model has a GGUF, else hf
    seed: int = 0
    families: list[str] | None = None  # synthetic families; None: all, mixed like the real data
    difficulty: str = "easy"
    lr: float = 4e-4
    lora_r: int = 16
    grad_accum: int = 2
    top_layers: int | None = 6  # LoRA on the last 6 layers only: the backward pass stops there
    max_new_tokens: int = 384
    batch_size: int = 16
    train_questions: int | None = None  # None: chosen from the measured speed and --minutes
    val_questions: int | None = None
    epochs: float = 1.0

    def engine_name(self) -> str:
        if self.engine != "auto":
            return self.engine
        built = importlib.util.find_spec("llama_cpp") is not None
        return "llamacpp" if built and self.model in models.REGISTRY else "hf"


@dataclass
class Row:
    name: str
    accuracy: float
    correct: int
    n: int
    tokens_per_question: float | None = None
    computed: float | None = None  # program rows: share of questions a computed program answered
    seconds: float | None = None  # answering time
    train_seconds: float | None = None

    def interval(self) -> tuple[float, float]:
        return wilson(self.correct, self.n)


@dataclass
class Paired:
    """An exact McNemar test of two rows on the same questions."""

    a: str
    b: str
    only_a: int  # questions only ``a`` got right
    only_b: int
    p: float


@dataclass
class DemoResult:
    rows: list[Row]
    tests: list[Paired]
    sizes: dict
    report: Path
    adapter: Path
    files: dict = field(default_factory=dict)


class Made:
    """What each step's kept output was made from (``out_dir/demo.json``), hashes cached beside it."""

    def __init__(self, cfg: DemoConfig, say: Callable[[str], None]):
        self.cfg, self.say, self.path = cfg, say, cfg.out_dir / "demo.json"
        self.cache = HashCache(cfg.out_dir / "hashes.json")
        try:
            self.steps = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.steps = {}

    def hash(self, path: Path | None) -> str | None:
        return fingerprint(path, self.cache) if path else None

    def model(self) -> dict:
        return {"model": self.cfg.model, "model files": model_identity(self.cfg.model, self.cache)}

    def check(self, step: str, inputs: dict, output: Path) -> None:
        """Remove ``output`` when this demo recorded making it from other inputs, then record these before
        the step runs: a killed step with the same inputs is continued, not redone. An ``output`` that no
        record says this demo made (``--out-dir .`` holding the user's own ``data/``) is refused, never removed."""
        inputs = json.loads(json.dumps({"logictune": __version__, **inputs}))  # as it reads back from the file
        old = self.steps.get(step)
        if old is None and output.exists():
            raise ValueError(f"{output} exists, and {self.path} does not say this demo made it: it is not "
                             "removed or reused; move it away or choose another --out-dir")
        if old != inputs:
            if output.exists():
                changed = [k for k in inputs if old.get(k) != inputs[k]]
                self.say(f"{step}: redoing it, {output} was made with other {', '.join(changed)}")
                shutil.rmtree(output) if output.is_dir() else output.unlink()
            self.steps[step] = inputs
            data.atomic_write_text(self.path, json.dumps(self.steps, ensure_ascii=False, indent=2) + "\n")
        self.cache.save()


def probe(cfg: DemoConfig, made: Made, say: Callable[[str], None]) -> demo_size.Speed:
    """The machine's speeds, measured once per out_dir and model (kept: a rerun picks the same sizes)."""
    path = cfg.out_dir / "probe.json"
    made.check("probe", {**made.model(), "engine": cfg.engine_name(), "top_layers": cfg.top_layers}, path)
    if path.exists():
        say(f"probe: kept the speeds measured before ({path})")
        return demo_size.Speed(**json.loads(path.read_text(encoding="utf-8")))
    say("probe: measuring this machine's speed (a few seconds; a minute on a slow one)")
    speed = demo_size.measure(cfg.model, cfg.engine_name(), top_layers=cfg.top_layers, batch_size=cfg.batch_size)
    data.atomic_write_text(path, json.dumps(asdict(speed)) + "\n")
    return speed


def choose(cfg: DemoConfig, made: Made, say: Callable[[str], None]) -> dict:
    """Training and validation sizes: given, or chosen from the measured speed and --minutes (and said why)."""
    if cfg.train_questions is not None and cfg.val_questions is not None:
        say(f"sizes: {cfg.train_questions} training and {cfg.val_questions} validation questions, as given")
        return {"train_questions": cfg.train_questions, "val_questions": cfg.val_questions, "epochs": cfg.epochs}
    speed = probe(cfg, made, say)
    sizes = demo_size.choose_sizes(speed, cfg.minutes, demo_size.Costs(epochs=cfg.epochs))
    for line in demo_size.explain(sizes, speed):
        say(line)
    return {"train_questions": cfg.train_questions or sizes.train_questions,
            "val_questions": cfg.val_questions or sizes.val_questions, "epochs": cfg.epochs}


def prepare_data(cfg: DemoConfig, sizes: dict, say: Callable[[str], None], made: Made) -> dict:
    """The training side (synthetic problems and their proven programs) and the validation side in out_dir."""
    out = cfg.out_dir / "data"
    files = {"train": out / "train.jsonl", "val": out / "val.jsonl", "programs": out / "programs.jsonl"}
    inputs = {"seed": cfg.seed, "families": cfg.families, "difficulty": cfg.difficulty,
              "train_questions": sizes["train_questions"], "val_questions": sizes["val_questions"],
              "data": str(cfg.data) if cfg.data else None, "data content": made.hash(cfg.data)}
    made.check("data", inputs, out)
    if files["train"].exists() and files["val"].exists():
        say(f"data: kept {out}")
        return files
    own = cfg.data is not None
    total = sizes["train_questions"] + (0 if own else sizes["val_questions"])
    made_set = synth.generate(total, seed=cfg.seed, families=cfg.families, difficulty=cfg.difficulty,
                              id_prefix="demo", programs=True)
    if own:
        theirs = data.load_problems(cfg.data)
        n = sum(len(p.questions) for p in theirs)
        train, val = made_set.problems, data.split(theirs, min(1.0, sizes["val_questions"] / n), seed=cfg.seed)[1]
    else:
        train, val = data.split(made_set.problems, sizes["val_questions"] / total, seed=cfg.seed)
    kept = {p.id for p in train}
    data.write_jsonl(files["programs"], [r for r in made_set.programs if r["id"] in kept])
    data.write_problems(val, files["val"])
    data.write_problems(train, files["train"])  # written last: its presence means the step is done
    where = f"from {cfg.data}" if own else "synthetic"
    say(f"data: {sum(len(p.questions) for p in train)} synthetic training questions with proven programs; "
        f"{sum(len(p.questions) for p in val)} validation questions, {where}")
    return files


def answer(name: str, method: str, cfg: DemoConfig, made: Made, val: Path, adapter: Path | None = None,
           progress: Callable[[int, int], None] | None = None) -> Row:
    """Answer the validation side greedily (program rows: one program a question, else direct) and score it."""
    from . import evaluate, predict, report_md
    from .engines.build import EngineChoice, build_engine

    out = cfg.out_dir / name.replace(" ", "-")
    engine = cfg.engine_name()
    made.check(name, {**made.model(), "val content": made.hash(val), "method": method, "engine": engine,
                      "adapter": str(adapter) if adapter else None, "adapter content": made.hash(adapter),
                      "max_new_tokens": cfg.max_new_tokens, "seed": cfg.seed}, out)
    pred = out / "pred.jsonl"
    if not pred.exists():
        built = build_engine(EngineChoice(engine=engine, model=cfg.model, adapter=adapter, batch_size=cfg.batch_size))
        pcfg = predict.PredictConfig(method=method, votes=1, adaptive=False, temperature=0.0, fallback="direct",
                                     max_new_tokens=cfg.max_new_tokens, seed=cfg.seed)
        summary = predict.predict(data.load_problems(val), built.engine, built.tokenizer, pred, pcfg,
                                  on_written=progress, run_info={"model": cfg.model, "data": str(val),
                                                                 "adapter": str(adapter) if adapter else None})
        close = getattr(built.engine, "close", None)
        if close:
            close()
        data.atomic_write_text(out / "timing.json", json.dumps({"seconds": summary["seconds"]}))
    result = evaluate.evaluate(pred, val)
    report_md.write_report(result, out / "report")
    details = evaluate.load_details(data.details_path(pred))
    n = max(len(details), 1)
    tokens = sum(s["tokens"] for r in details for s in r["samples"])
    return Row(name=name, accuracy=result["accuracy"], correct=result["correct"], n=result["n"],
               tokens_per_question=tokens / n if method == "program" else None, seconds=json.loads((out / "timing.json").read_text())["seconds"],
               computed=sum(not r["fallback"] for r in details) / n if method == "program" else None)


def train_adapter(cfg: DemoConfig, sizes: dict, made: Made, files: dict,
                  say: Callable[[str], None]) -> tuple[Path, float]:
    """LoRA SFT on the synthetic programs; returns the adapter dir and the training time (kept across reruns)."""
    from . import train as tr
    from .train_config import load_config

    run = cfg.out_dir / "adapter"
    made.check("train", {**made.model(), "train content": made.hash(files["train"]),
                         "programs content": made.hash(files["programs"]), "epochs": sizes["epochs"],
                         "lr": cfg.lr, "lora_r": cfg.lora_r, "grad_accum": cfg.grad_accum,
                         "top_layers": cfg.top_layers, "seed": cfg.seed}, run)
    timing = run / "demo_timing.json"
    if timing.exists():
        say(f"train: kept {run}")
        return run, json.loads(timing.read_text(encoding="utf-8"))["seconds"]
    resume = (run / "config.yaml").exists()
    tcfg = load_config(None, [], model=cfg.model, data=str(files["train"]), rationales=str(files["programs"]),
                       output_dir=str(run), epochs=sizes["epochs"], lr=cfg.lr, grad_accum=cfg.grad_accum,
                       eval_fraction=0.0, logging_steps=2, save_steps=5, seed=cfg.seed, report_to=["none"],
                       resume=resume or None, **{"lora.top_layers": cfg.top_layers, "lora.r": cfg.lora_r,
                                                 "lora.alpha": 2 * cfg.lora_r})
    start = time.perf_counter()
    tr.train(tcfg, echo=say)
    seconds = time.perf_counter() - start
    data.atomic_write_text(timing, json.dumps({"seconds": seconds}))
    return run, seconds


def constant_row(val: Path) -> Row:
    """Always the validation side's most common key: the best any constant answer does there."""
    keys = [q.answer for p in data.load_problems(val) for q in p.questions]
    letter, correct = Counter(keys).most_common(1)[0]
    return Row(name=f"always {letter}", accuracy=correct / len(keys), correct=correct, n=len(keys))


def _right(out: Path, val: Path) -> dict[tuple[str, int], bool]:
    from .evaluate import align

    pairs = align(data.load_problems(out / "pred.jsonl"), data.load_problems(val))
    return {(p.id, p.question_index): p.correct for p in pairs}


def paired(a: Row, b: Row, cfg: DemoConfig, val: Path) -> Paired:
    """McNemar of row ``a`` against ``b`` (a model row, or the constant) on the same questions."""
    right_a = _right(cfg.out_dir / a.name.replace(" ", "-"), val)
    if b.name.startswith("always "):
        gold = {(p.id, i): q.answer for p in data.load_problems(val) for i, q in enumerate(p.questions)}
        right_b = {k: gold[k] == b.name.removeprefix("always ") for k in right_a}
    else:
        right_b = _right(cfg.out_dir / b.name.replace(" ", "-"), val)
    keys = sorted(right_a)
    only_a, only_b, p = mcnemar([right_a[k] for k in keys], [right_b[k] for k in keys])
    return Paired(a.name, b.name, only_a, only_b, p)


def run(cfg: DemoConfig, say: Callable[[str], None] = print,
        progress: Callable[[str, int, int], None] | None = None) -> DemoResult:
    """The loop end to end; ``progress(stage, done, total)`` is called as questions are answered."""
    say(f"model: {models.fetch(cfg.model) if cfg.model in models.REGISTRY else cfg.model}; "
        f"answering on {cfg.engine_name()}")
    made = Made(cfg, say)
    sizes = choose(cfg, made, say)
    files = prepare_data(cfg, sizes, say, made)
    total = sum(len(p.questions) for p in data.load_problems(files["val"]))

    def counter(stage: str):
        done = {"n": 0}

        def tick(questions: int, _tokens: int) -> None:
            done["n"] += questions
            if progress:
                progress(stage, done["n"], total)
        return tick

    rows = [constant_row(files["val"])]
    for name, method in (("base direct", "direct"), ("base program", "program")):
        rows.append(answer(name, method, cfg, made, files["val"], progress=counter(name)))
        say(f"{name}: accuracy {rows[-1].accuracy:.3f} ({rows[-1].correct}/{rows[-1].n})")
    adapter, train_seconds = train_adapter(cfg, sizes, made, files, say)
    tuned = answer("tuned program", "program", cfg, made, files["val"], adapter, progress=counter("tuned program"))
    tuned.train_seconds = train_seconds
    say(f"tuned program: accuracy {tuned.accuracy:.3f} ({tuned.correct}/{tuned.n})")
    rows.append(tuned)
    tests = [paired(tuned, rows[2], cfg, files["val"]), paired(tuned, rows[0], cfg, files["val"])]
    result = DemoResult(rows, tests, sizes, cfg.out_dir / "tuned-program" / "report" / "report.md", adapter, files)
    data.atomic_write_text(cfg.out_dir / "summary.json", json.dumps(
        {"sizes": sizes, "rows": [asdict(r) for r in rows], "tests": [asdict(t) for t in tests]},
        ensure_ascii=False, indent=2) + "\n")
    return result


def print_table(result: DemoResult, console, synthetic: bool = True) -> None:
    """The before/after table, the paired tests and where the files are (the command's output)."""
    from rich.table import Table

    plain = {"highlight": False, "markup": False, "soft_wrap": True}
    side = "held-out synthetic questions" if synthetic else "your questions"
    table = Table(title=f"logictune demo: program-SFT, on {side}")
    for col in ("row", "accuracy", "95% CI", "n", "computed", "tok/q", "train"):
        table.add_column(col, justify="left" if col == "row" else "right", no_wrap=True)
    for r in result.rows:
        lo, hi = r.interval()
        table.add_row(r.name, f"{r.accuracy:.3f}", f"{lo:.2f}-{hi:.2f}", str(r.n),
                      "-" if r.computed is None else f"{r.computed:.0%}",
                      "-" if r.tokens_per_question is None else f"{r.tokens_per_question:.0f}",
                      "-" if r.train_seconds is None else f"{r.train_seconds / 60:.1f} min")
    console.print(table)
    console.print("computed: share of questions a computed program answered (the rest: direct, by option "
                  "likelihood)", **plain)
    rows = {r.name: r for r in result.rows}
    for t in result.tests:
        points = 100 * (rows[t.a].accuracy - rows[t.b].accuracy)
        verdict = "a real difference (p < 0.05)" if t.p < 0.05 else "not distinguishable from chance at this n"
        console.print(f"{t.a} vs {t.b}: {points:+.1f} points; McNemar: {t.only_a} questions only {t.a} got right, "
                      f"{t.only_b} only {t.b}, p = {t.p:.3g}, {verdict}", **plain)
    console.print(f"report: {result.report}\nadapter: {result.adapter}", **plain)
