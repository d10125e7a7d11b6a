"""The whole loop as one command, on the embedded default model: before and after training.

    fetch the model -> synthesise puzzles with proven rationales (or take --data) -> split ->
    evaluate the base model -> LoRA-train on the training side -> evaluate the tuned model -> one table

Each step calls the step's own API and keeps its output in ``out_dir``; a rerun skips what is done
(predict resumes its details file, train resumes its last checkpoint), so a killed demo picks up
where it stopped. ``out_dir/demo.json`` records what each step's output was made from (settings, the
model's identity, its input files' hashes, logictune's version): a rerun with another ``--model``,
``--seed``, ``--quick`` or ``--data`` redoes the steps whose inputs changed and says which, rather than
print a table that mixes old and new results. Nothing here holds step logic.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import __version__, data, models, synth
from .evaluate import wilson
from .fingerprints import HashCache, fingerprint, model_identity

# Sizes for 2 CPU cores. An easy synthetic example is ~350 tokens; LoRA on the top 6 layers trains at
# ~260 tokens/s on a core with native bf16 (AVX-512/AMX) and ~15 tokens/s on an fp32-only one, so the
# same demo takes minutes on one machine and an hour on another (bench/README.md, "demo").
FULL = {"train_questions": 160, "val_questions": 60, "epochs": 1.0}
QUICK = {"train_questions": 48, "val_questions": 24, "epochs": 1.0}


@dataclass
class DemoConfig:
    out_dir: Path = Path("outputs/demo")
    data: Path | None = None  # a labelled file of the user's instead of synthetic puzzles
    model: str = models.DEFAULT_MODEL
    quick: bool = False
    seed: int = 0
    families: list[str] | None = None  # synthetic families; None: all, mixed like the real data
    difficulty: str = "easy"
    val_fraction: float = 0.2
    lr: float = 5e-4
    grad_accum: int = 2
    top_layers: int | None = 6  # LoRA on the last 6 layers only: the backward pass stops there
    max_new_tokens: int = 384
    batch_size: int = 16
    train_questions: int | None = None  # None: the FULL or QUICK preset
    val_questions: int | None = None
    epochs: float | None = None

    @property
    def sizes(self) -> dict:
        preset = QUICK if self.quick else FULL
        given = {"train_questions": self.train_questions, "val_questions": self.val_questions,
                 "epochs": self.epochs}
        return {k: preset[k] if v is None else v for k, v in given.items()}


@dataclass
class Row:
    name: str
    accuracy: float
    correct: int
    n: int
    questions_per_s: float
    tokens_per_question: float
    answered: float  # share of questions whose chains stated an answer (no likelihood fallback)
    seconds: float
    train_seconds: float | None = None

    def interval(self) -> tuple[float, float]:
        return wilson(self.correct, self.n)


@dataclass
class DemoResult:
    rows: list[Row]
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


def prepare_data(cfg: DemoConfig, say: Callable[[str], None], made: Made) -> dict:
    """train/val problem files (and the training side's rationales, for synthetic data) in out_dir."""
    out = cfg.out_dir
    files = {"train": out / "data" / "train.jsonl", "val": out / "data" / "val.jsonl",
             "rationales": out / "data" / "rationales.jsonl" if cfg.data is None else None}
    if cfg.data is None:
        inputs = {"seed": cfg.seed, "families": cfg.families, "difficulty": cfg.difficulty,
                  "train_questions": cfg.sizes["train_questions"], "val_questions": cfg.sizes["val_questions"]}
    else:
        inputs = {"data": str(cfg.data), "data content": made.hash(cfg.data), "seed": cfg.seed,
                  "val_fraction": cfg.val_fraction}
    made.check("data", inputs, out / "data")
    if files["train"].exists() and files["val"].exists():
        say(f"data: kept {files['train'].parent}")
        return files
    if cfg.data is None:
        total = cfg.sizes["train_questions"] + cfg.sizes["val_questions"]
        made = synth.generate(total, seed=cfg.seed, families=cfg.families, difficulty=cfg.difficulty,
                              id_prefix="demo")
        problems = made.problems
        data.write_jsonl(files["rationales"], made.rationales)
        say(f"data: {len(problems)} synthetic puzzles, {len(made.rationales)} questions with the solver's "
            "rationales")
        val_fraction = cfg.sizes["val_questions"] / total
    else:
        problems = data.load_problems(cfg.data)
        val_fraction = cfg.val_fraction
    train, val = data.split(problems, val_fraction, seed=cfg.seed)
    data.write_problems(val, files["val"])
    data.write_problems(train, files["train"])  # written last: its presence means the step is done
    say(f"data: {sum(len(p.questions) for p in train)} training and {sum(len(p.questions) for p in val)} "
        "validation questions")
    return files


def evaluate_model(name: str, cfg: DemoConfig, made: Made, val: Path, out: Path, adapter: Path | None = None,
                   progress: Callable[[int, int], None] | None = None) -> Row:
    """Answer the validation side (one greedy chain a question) and score it."""
    from . import evaluate, predict
    from .engines import get_engine

    made.check(name, {**made.model(), "val content": made.hash(val), "adapter": str(adapter) if adapter else None,
                      "adapter content": made.hash(adapter), "max_new_tokens": cfg.max_new_tokens,
                      "seed": cfg.seed}, out)
    problems = data.load_problems(val)
    pred = out / "pred.jsonl"
    if not pred.exists():
        lm, tokenizer = models.load_model(cfg.model, adapter=str(adapter) if adapter else None, merge=True)
        engine = get_engine("hf", lm, tokenizer, batch_size=cfg.batch_size)
        pcfg = predict.PredictConfig(method="cot", votes=1, adaptive=False, temperature=0.0,
                                     max_new_tokens=cfg.max_new_tokens, seed=cfg.seed)
        summary = predict.predict(problems, engine, tokenizer, pred, pcfg, on_written=progress,
                                  run_info={"model": cfg.model, "adapter": str(adapter) if adapter else None,
                                            "data": str(val)})
        data.atomic_write_text(out / "timing.json", json.dumps({"seconds": summary["seconds"]}))
    result = evaluate.evaluate(pred, val)
    evaluate.write_report(result, out / "report")
    details = evaluate.load_details(data.details_path(pred))
    seconds = json.loads((out / "timing.json").read_text(encoding="utf-8"))["seconds"]
    n = len(details)
    tokens = sum(s["tokens"] for r in details for s in r["samples"])
    return Row(name=name, accuracy=result["accuracy"], correct=result["correct"], n=result["n"],
               questions_per_s=n / seconds if seconds else 0.0, tokens_per_question=tokens / max(n, 1),
               answered=sum(not r["fallback"] for r in details) / max(n, 1), seconds=seconds)


def train_adapter(cfg: DemoConfig, made: Made, files: dict, say: Callable[[str], None]) -> tuple[Path, float]:
    """LoRA SFT on the training side; returns the adapter dir and the training time (kept across reruns)."""
    from . import train as tr
    from .train_config import load_config

    run = cfg.out_dir / "adapter"
    made.check("train", {**made.model(), "train content": made.hash(files["train"]),
                         "rationales content": made.hash(files["rationales"]), "epochs": cfg.sizes["epochs"],
                         "lr": cfg.lr, "grad_accum": cfg.grad_accum, "top_layers": cfg.top_layers,
                         "seed": cfg.seed}, run)
    timing = run / "demo_timing.json"
    if timing.exists():
        say(f"train: kept {run}")
        return run, json.loads(timing.read_text(encoding="utf-8"))["seconds"]
    resume = (run / "config.yaml").exists()
    tcfg = load_config(None, [], model=cfg.model, data=str(files["train"]),
                       rationales=str(files["rationales"]) if files["rationales"] else None,
                       output_dir=str(run), epochs=cfg.sizes["epochs"], lr=cfg.lr, grad_accum=cfg.grad_accum,
                       eval_fraction=0.0, logging_steps=2, save_steps=5, seed=cfg.seed,
                       report_to=["none"], resume=resume or None, **{"lora.top_layers": cfg.top_layers})
    start = time.perf_counter()
    tr.train(tcfg, echo=say)
    seconds = time.perf_counter() - start
    data.atomic_write_text(timing, json.dumps({"seconds": seconds}))
    return run, seconds


def run(cfg: DemoConfig, say: Callable[[str], None] = print,
        progress: Callable[[str, int, int], None] | None = None) -> DemoResult:
    """The loop end to end; ``progress(stage, done, total)`` is called as questions are answered."""
    say(f"model: {models.fetch(cfg.model) if cfg.model in models.REGISTRY else cfg.model}")
    made = Made(cfg, say)
    files = prepare_data(cfg, say, made)
    total = sum(len(p.questions) for p in data.load_problems(files["val"]))

    def counter(stage: str):
        done = {"n": 0}

        def tick(questions: int, _tokens: int) -> None:
            done["n"] += questions
            if progress:
                progress(stage, done["n"], total)
        return tick

    base = evaluate_model("base", cfg, made, files["val"], cfg.out_dir / "base", progress=counter("base"))
    say(f"base: accuracy {base.accuracy:.3f} ({base.correct}/{base.n})")
    adapter, train_seconds = train_adapter(cfg, made, files, say)
    tuned = evaluate_model("tuned", cfg, made, files["val"], cfg.out_dir / "tuned", adapter,
                           progress=counter("tuned"))
    tuned.train_seconds = train_seconds
    say(f"tuned: accuracy {tuned.accuracy:.3f} ({tuned.correct}/{tuned.n})")
    result = DemoResult([base, tuned], cfg.out_dir / "tuned" / "report" / "report.md", adapter, files)
    data.atomic_write_text(cfg.out_dir / "summary.json",
                           json.dumps([asdict(r) for r in result.rows], ensure_ascii=False, indent=2) + "\n")
    return result
